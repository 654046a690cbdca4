//! Stability maps over (lr_G, lr_D) grids: for every cell, the spectral radius and class
//! of the linearised update map at the equilibrium, and the class of a simulated run.
//! Cells are computed in parallel (rayon) and returned in row-major order (lr_G rows),
//! so the output does not depend on the number of threads.

use rayon::prelude::*;
use serde::Serialize;

#[cfg(doc)]
use super::trajectory::classify_trajectory;
use super::trajectory::{RunEnd, SimClass, TrajectoryMetrics, classify_run, energy_excess};
use super::update_map::{MapClass, MapSpectrum, linearize_update, map_spectrum_2x2, plain_steps};
use crate::dynamics::RuleSpec;
use crate::dynamics::batch::{Batch, Cell, CellRun};
use crate::error::{Error, Result};
use crate::game::Game;
use crate::linalg::Vector;

/// A log-spaced axis: n values from min to max, 10^(log min + i·(log max − log min)/(n − 1)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct LogAxis {
    /// Smallest value (> 0).
    pub min: f64,
    /// Largest value (≥ min).
    pub max: f64,
    /// Number of values (≥ 1).
    pub n: usize,
}

impl LogAxis {
    /// Parses `MIN:MAX:N`.
    ///
    /// # Errors
    /// [`Error::Param`] naming `key` for a malformed or invalid axis.
    pub fn parse(key: &str, s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad = || {
            Error::param(
                key,
                format!("`{s}` is not MIN:MAX:N (for example 1e-3:1:64)"),
            )
        };
        if parts.len() != 3 {
            return Err(bad());
        }
        let min: f64 = parts[0].parse().map_err(|_| bad())?;
        let max: f64 = parts[1].parse().map_err(|_| bad())?;
        let n: usize = parts[2].parse().map_err(|_| bad())?;
        let axis = LogAxis { min, max, n };
        axis.validate(key)?;
        Ok(axis)
    }
    /// Checks 0 < min ≤ max, finite, n ≥ 1.
    ///
    /// # Errors
    /// [`Error::Param`] naming `key`.
    pub fn validate(&self, key: &str) -> Result<()> {
        if !(self.min.is_finite() && self.max.is_finite() && self.min > 0.0 && self.max >= self.min)
        {
            return Err(Error::param(
                key,
                format!("need 0 < MIN ≤ MAX, got {}:{}", self.min, self.max),
            ));
        }
        if self.n == 0 {
            return Err(Error::param(key, "N must be at least 1"));
        }
        Ok(())
    }
    /// The values.
    #[must_use]
    pub fn values(&self) -> Vec<f64> {
        if self.n == 1 {
            return vec![self.min];
        }
        let (a, b) = (self.min.log10(), self.max.log10());
        (0..self.n)
            .map(|i| {
                if i == self.n - 1 {
                    self.max
                } else {
                    10f64.powf(a + (b - a) * i as f64 / (self.n - 1) as f64)
                }
            })
            .collect()
    }
}

/// One cell of a stability map.
#[derive(Debug, Clone, Serialize)]
pub struct StabilityCell {
    /// Generator learning rate.
    pub lr_g: f64,
    /// Discriminator learning rate.
    pub lr_d: f64,
    /// ρ of the linearised map (None where it has no linearisation, e.g. Adam).
    pub spectral_radius: Option<f64>,
    /// Class of the linearised map.
    pub map_class: Option<MapClass>,
    /// Metrics and class of the simulated run.
    pub sim: TrajectoryMetrics,
}

impl StabilityCell {
    /// Whether the eigenvalue class and the simulated class say the same thing.
    /// Stalled runs agree with nothing: they are a nonlinear effect the linearisation
    /// cannot see.
    #[must_use]
    pub fn agrees(&self) -> Option<bool> {
        let m = self.map_class?;
        let s = self.sim.class;
        Some(match m {
            MapClass::Convergent => matches!(s, SimClass::Converged | SimClass::Converging),
            // The game cycles; the integrator damps slowly.
            MapClass::Rk4Damped => matches!(
                s,
                SimClass::Cycling | SimClass::Converging | SimClass::Converged
            ),
            MapClass::Cycling | MapClass::Marginal => s == SimClass::Cycling,
            MapClass::Divergent => matches!(s, SimClass::Diverged | SimClass::Diverging),
        })
    }
    /// Whether the run is too short to see the predicted growth or decay:
    /// |ln ρ| · steps < ln 2 (the amplitude would change by less than a factor 2).
    #[must_use]
    pub fn horizon_limited(&self) -> Option<bool> {
        self.spectral_radius
            .map(|r| r.ln().abs() * (self.sim.steps as f64) < 2f64.ln())
    }
}

/// The simulation settings shared by every cell of a map.
#[derive(Debug, Clone)]
pub struct SweepSetup {
    /// Start of every run.
    pub x0: Vector,
    /// Outer steps per run.
    pub steps: usize,
    /// Divergence bound on ‖x − x*‖.
    pub bound: f64,
}

/// Computes the cells `cells` (row-major indices into lr_g × lr_d) of the stability map
/// of `base` (its learning rates are replaced per cell) on `game` (the field the rule
/// steps on: adjusted already for consensus and SGA, as [`RuleSpec::adjust_game`] does).
///
/// The runs go through the batch engine ([`crate::dynamics::batch`]), whose cells equal
/// [`Run::simulate`](crate::dynamics::Run::simulate) and [`classify_trajectory`] bit for
/// bit. The update map of plain-step rules on two-coordinate games is linearised in
/// closed form from one Jacobian at the equilibrium ([`map_spectrum_2x2`], the
/// arithmetic [`linearize_update`] uses there); other rules go through
/// [`linearize_update`] cell by cell. `progress` counts the cells simulated.
///
/// # Errors
/// [`Error::Numerical`] if the game has no known equilibrium; invalid rule settings.
pub fn stability_map(
    game: &dyn Game,
    base: &RuleSpec,
    lr_g: &[f64],
    lr_d: &[f64],
    setup: &SweepSetup,
    cells: std::ops::Range<usize>,
    progress: Option<&crate::progress::Progress>,
) -> Result<Vec<StabilityCell>> {
    let center = game.equilibrium().ok_or_else(|| {
        Error::numerical(
            "stability_map",
            format!("game `{}` has no known equilibrium", game.name()),
        )
    })?;
    base.validate()?;
    let nd = lr_d.len();
    let batch_cells: Vec<Cell> = cells
        .clone()
        .map(|idx| Cell {
            lr_g: lr_g[idx / nd],
            lr_d: lr_d[idx % nd],
            start: 0,
        })
        .collect();
    let starts = [setup.x0.clone()];
    let runs = Batch {
        game,
        rule: base,
        cells: &batch_cells,
        starts: &starts,
        steps: setup.steps,
        center: &center,
        bound: setup.bound,
        record: false,
        progress,
    }
    .run()?;
    let maps = map_spectra(game, base, &batch_cells, &center)?;
    crate::interrupt::check("the map is incomplete and was not written")?;
    Ok(batch_cells
        .iter()
        .zip(runs)
        .zip(maps)
        .map(|((c, run), map)| StabilityCell {
            lr_g: c.lr_g,
            lr_d: c.lr_d,
            spectral_radius: map.as_ref().map(|m| m.spectral_radius),
            map_class: map.map(|m| m.class),
            sim: classify_cell(game, &run, &setup.x0, &center),
        })
        .collect())
}

/// The classification of an engine cell: [`classify_run`] with the conserved quantity
/// at its start and end, the same as [`classify_trajectory`] of the recorded run.
#[must_use]
pub fn classify_cell(
    game: &dyn Game,
    run: &CellRun,
    x0: &Vector,
    center: &Vector,
) -> TrajectoryMetrics {
    let energy = match run.stop {
        crate::dynamics::Stop::Budget => {
            energy_excess(game, x0.as_slice(), &run.x_end, center.as_slice())
        }
        _ => None,
    };
    classify_run(&RunEnd {
        stats: &run.stats,
        plan: run.plan,
        last: run.last,
        d2_0: run.d2_0,
        diverged_step: run.stop.diverged_step(),
        energy,
    })
}

/// The linearised update map of every cell (None where the rule has none, e.g. Adam).
fn map_spectra(
    game: &dyn Game,
    base: &RuleSpec,
    cells: &[Cell],
    center: &Vector,
) -> Result<Vec<Option<MapSpectrum>>> {
    let rule = base.build()?;
    if game.dim() == 2 && plain_steps(&rule).is_some() {
        let j = game.jacobian(center);
        let j = [[j[(0, 0)], j[(0, 1)]], [j[(1, 0)], j[(1, 1)]]];
        if j.iter().flatten().all(|v| v.is_finite()) {
            return Ok(cells
                .iter()
                .map(|c| Some(map_spectrum_2x2(&base.scheme, c.lr_g, c.lr_d, j)))
                .collect());
        }
    }
    cells
        .par_iter()
        .map(|c| {
            let rule = base.with_lrs(c.lr_g, c.lr_d).build()?;
            Ok(linearize_update(game, &rule, center).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::trajectory::classify_trajectory;
    use super::*;
    use crate::dynamics::RuleName;
    use crate::game::{Dirac, TturSaddle};

    #[test]
    fn axis_values_and_parse() {
        let a = LogAxis::parse("lr-g", "1e-3:1:4").unwrap();
        let v = a.values();
        assert_eq!(v.len(), 4);
        assert!((v[0] - 1e-3).abs() < 1e-18 && v[3] == 1.0 && (v[1] - 1e-2).abs() < 1e-15);
        for bad in ["1:0.1:3", "0:1:3", "1e-3:1", "a:b:c", "1e-3:1:0"] {
            assert!(LogAxis::parse("lr-g", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_agrees_with_ttur_thresholds_and_is_thread_independent() {
        // TTUR saddle: simultaneous Euler stable iff lr_x < 0.01 and lr_y < 1.
        let lg = LogAxis {
            min: 1e-3,
            max: 1e-1,
            n: 9,
        }
        .values();
        let ld = LogAxis {
            min: 1e-2,
            max: 3.0,
            n: 9,
        }
        .values();
        let base = RuleSpec::new(RuleName::Simultaneous, 1.0, 1.0).unwrap();
        let setup = SweepSetup {
            x0: Vector::from_vec(vec![0.5, 0.5]),
            steps: 2000,
            bound: 1e3,
        };
        let cells = stability_map(&TturSaddle, &base, &lg, &ld, &setup, 0..81, None).unwrap();
        for c in &cells {
            let stable = c.lr_g < 0.01 && c.lr_d < 1.0;
            assert_eq!(c.map_class == Some(MapClass::Convergent), stable, "{c:?}");
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = one
            .install(|| stability_map(&TturSaddle, &base, &lg, &ld, &setup, 0..81, None).unwrap());
        let a = serde_json::to_string(&cells).unwrap();
        let b = serde_json::to_string(&again).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn engine_cells_equal_simulate_and_classify_trajectory() {
        use crate::dynamics::{Bound, RuleOptions, Run};
        use crate::game::{Bilinear, DiracLoss, LotkaVolterra};
        use std::sync::Arc;
        // Every class the classifier knows, on small grids: converged (R1), stalled and
        // diverged (large steps), cycling (alternating), clipped (WGAN + clip), the
        // conserved-quantity rule (Lotka–Volterra flow) and undecided (tiny steps).
        let lv = LotkaVolterra {
            alpha: 2.0 / 3.0,
            beta: 4.0 / 3.0,
            gamma: 1.0,
            delta: 1.0,
        };
        let games: Vec<Arc<dyn Game>> = vec![
            Arc::new(Dirac::default()),
            Arc::new(Dirac {
                r1: 0.3,
                ..Dirac::default()
            }),
            Arc::new(Dirac {
                clip: Some(0.5),
                ..Dirac::new(DiracLoss::Wgan)
            }),
            Arc::new(Bilinear::scalar(1.0)),
            Arc::new(lv),
            Arc::new(TturSaddle),
        ];
        let alt = RuleOptions {
            k_d: Some(3),
            ..RuleOptions::default()
        };
        let specs = [
            RuleSpec::new(RuleName::Simultaneous, 1.0, 1.0).unwrap(),
            RuleName::Alternating.spec(1.0, 1.0, &alt).unwrap(),
            RuleSpec::new(RuleName::Flow, 1.0, 1.0).unwrap(),
            RuleSpec::new(RuleName::Consensus, 1.0, 1.0).unwrap(),
            RuleSpec::new(RuleName::Adam, 1.0, 1.0).unwrap(),
            RuleSpec::new(RuleName::Momentum, 1.0, 1.0).unwrap(),
        ];
        let axis = [1e-3, 0.05, 0.4, 1.2, 6.0];
        let mut seen = std::collections::BTreeSet::new();
        for g in &games {
            for base in &specs {
                let game = base.adjust_game(g.clone());
                let c = game.equilibrium().unwrap();
                let setup = SweepSetup {
                    x0: game.default_start(),
                    steps: 600,
                    bound: 1e3,
                };
                let cells =
                    stability_map(game.as_ref(), base, &axis, &axis, &setup, 0..25, None).unwrap();
                for cell in &cells {
                    let spec = base.with_lrs(cell.lr_g, cell.lr_d);
                    let rule = spec.build().unwrap();
                    let t = Run {
                        game: game.as_ref(),
                        rule: &rule,
                        steps: setup.steps,
                        bound: Bound::around(&c, setup.bound),
                    }
                    .simulate(&setup.x0);
                    let m = classify_trajectory(&t, game.as_ref(), c.as_slice());
                    assert_eq!(
                        serde_json::to_string(&m).unwrap(),
                        serde_json::to_string(&cell.sim).unwrap(),
                        "{} {:?} ({}, {})",
                        game.name(),
                        spec.name(),
                        cell.lr_g,
                        cell.lr_d
                    );
                    let lin = linearize_update(game.as_ref(), &rule, &c).ok();
                    assert_eq!(
                        lin.as_ref().map(|l| l.spectral_radius.to_bits()),
                        cell.spectral_radius.map(f64::to_bits),
                        "{} {:?}",
                        game.name(),
                        spec.name()
                    );
                    assert_eq!(lin.map(|l| l.class), cell.map_class);
                    seen.insert(m.class.as_str());
                }
            }
        }
        for class in ["converged", "stalled", "diverged", "cycling", "undecided"] {
            assert!(seen.contains(class), "{class} not exercised: {seen:?}");
        }
    }

    #[test]
    fn r1_map_threshold() {
        // R1 γ = 0.3, h_g = h_d = h: convergent iff h < γ/a² = 1.2.
        let g = Dirac {
            r1: 0.3,
            ..Dirac::default()
        };
        let axis = LogAxis {
            min: 0.1,
            max: 10.0,
            n: 13,
        }
        .values();
        let base = RuleSpec::new(RuleName::Simultaneous, 1.0, 1.0).unwrap();
        let diag: Vec<usize> = (0..13).map(|i| i * 13 + i).collect();
        let cells = stability_map(
            &g,
            &base,
            &axis,
            &axis,
            &SweepSetup {
                x0: Vector::from_vec(vec![1.0, 1.0]),
                steps: 500,
                bound: 1e3,
            },
            0..169,
            None,
        )
        .unwrap();
        for &k in &diag {
            let c = &cells[k];
            assert_eq!(
                c.map_class == Some(MapClass::Convergent),
                c.lr_g < 1.2,
                "{c:?}"
            );
        }
    }
}
