//! Analysis of a game's field: the Jacobian spectrum and flow classification, the
//! potential/rotational split, fixed points, the linearised update maps of the update
//! rules and stability maps over learning-rate grids.

mod fixed_points;
mod spectrum;
mod stability_map;
mod trajectory;
mod update_map;

pub use fixed_points::{FixedPoint, NEWTON_TOL, fixed_point};
pub use spectrum::rows;
pub use spectrum::{FlowClass, Spectrum, classify_flow, spectrum};
pub use stability_map::{LogAxis, StabilityCell, SweepSetup, stability_map};
pub use trajectory::{SimClass, TrajectoryMetrics, classify_trajectory};
pub use update_map::{
    MapClass, MapSpectrum, RHO_TOL, analytic_map_jacobian, classify_map, linearize_update,
};
