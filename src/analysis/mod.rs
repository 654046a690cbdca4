//! Analysis of a game's field: the Jacobian spectrum and flow classification, the
//! potential/rotational split, fixed points, the linearised update maps of the update
//! rules and stability maps over learning-rate grids.

mod fixed_points;
pub mod linear_map;
pub mod path_angle;
pub mod point_spectra;
pub mod rotation;
mod spectrum;
mod stability_map;
mod trajectory;
mod update_map;

pub use fixed_points::{FixedPoint, NEWTON_TOL, fixed_point};
pub use spectrum::rows;
pub use spectrum::{FlowClass, Spectrum, classify_flow, spectrum};
pub use stability_map::{LogAxis, StabilityCell, SweepSetup, classify_cell, stability_map};
pub use trajectory::{
    CONVERGED_REL, CYCLE_AMPLITUDE_FACTOR, RunEnd, STALL_REL, STALL_WINDOW, SimClass,
    TrajectoryMetrics, classify_run, classify_trajectory, energy_excess,
};
pub use update_map::{
    MapClass, MapSpectrum, RHO_TOL, RK4_DAMPING_NOTE, analytic_map_jacobian, classify_map,
    eigenvalues_2x2, linearize_update, map_jacobian_2x2, map_spectrum_2x2, plain_steps,
};
