//! A training run of a block: the seeded trainer ([`train`]) plus the probes the
//! analyses read back. For 1-D data the probe traces the generator's sample mean and
//! spread at every log step (`trace.csv`, the mixture's phase figure); for 2-D data with
//! frames it records D on a grid and a generator batch at the frame steps
//! (`frames.csv`, `frame_samples.csv`, the D-surface animation of gan-vis).

use nalgebra::DMatrix;

use super::RunSpec;
use crate::error::Result;
use crate::export::{Table, num};
use crate::gan::{Probe, Recording, train};

/// D-surface grid: `GRID × GRID` cell centres over `[−EXTENT, EXTENT]²` (gan-vis: 80 × 80
/// over [−2, 2]²).
pub const GRID: usize = 80;
/// Half-width of the D-surface window.
pub const EXTENT: f64 = 2.0;
/// Generator samples drawn on each frame (the gan-vis batch size).
pub const FRAME_SAMPLES: usize = 50;
/// Samples behind the 1-D mean/spread trace.
pub const TRACE_SAMPLES: usize = 500;

/// The D-surface grid's cell centres, one row (x, y) per cell, x fastest.
#[must_use]
pub fn grid_points() -> DMatrix<f64> {
    let c = crate::plot::cell_centres(EXTENT, GRID);
    DMatrix::from_fn(GRID * GRID, 2, |r, k| if k == 0 { c[r].0 } else { c[r].1 })
}

/// Trains one run into its folder: the trainer's files plus `trace.csv` (1-D: the
/// generator's sample mean and spread at every log step) or `frames.csv` and
/// `frame_samples.csv` (D on the grid and the generator batch at the frame steps).
///
/// # Errors
/// Trainer and file errors.
pub fn execute_train(spec: &RunSpec, frames: &[usize], trace: bool) -> Result<()> {
    let cfg = &spec.config;
    let probe = if trace {
        let mut steps: Vec<usize> = (0..=cfg.steps).step_by(cfg.log_every).collect();
        if steps.last() != Some(&cfg.steps) {
            steps.push(cfg.steps);
        }
        Some(Probe {
            steps,
            points: DMatrix::from_element(1, 1, 0.0),
            samples: TRACE_SAMPLES,
        })
    } else if !frames.is_empty() {
        Some(Probe {
            steps: frames.to_vec(),
            points: grid_points(),
            samples: FRAME_SAMPLES,
        })
    } else {
        None
    };
    let cfg = if probe.is_some() {
        crate::gan::TrainConfig {
            snapshot_samples: cfg.snapshot_samples.max(TRACE_SAMPLES),
            ..(**cfg).clone()
        }
        .validated()?
    } else {
        cfg.clone()
    };
    // A run that stops early (non-finite loss) still writes its files and its status;
    // the analyses read the status back, so it is not an error here.
    let rep = train(
        &cfg,
        &Recording {
            out_dir: Some(&spec.dir),
            probe: probe.as_ref(),
            ..Recording::default()
        },
    )?;
    if trace {
        let mut t = Table::new(["step", "g_mean", "g_std"]);
        for f in &rep.frames {
            let x: Vec<f64> = f.g_samples.iter().map(|s| s[0]).collect();
            let (m, sd) = mean_sd(&x);
            t.push(vec![f.step.to_string(), num(m), num(sd)]);
        }
        t.write(&spec.dir.join("trace.csv"))?;
    } else if !frames.is_empty() {
        let g = grid_points();
        let mut t = Table::new(["step", "x", "y", "d"]);
        let mut s = Table::new(["step", "x0", "x1"]);
        for f in &rep.frames {
            for (i, d) in f.d_values.iter().enumerate() {
                t.push(vec![
                    f.step.to_string(),
                    num(g[(i, 0)]),
                    num(g[(i, 1)]),
                    num(*d),
                ]);
            }
            for p in &f.g_samples {
                s.push(vec![f.step.to_string(), num(p[0]), num(p[1])]);
            }
        }
        t.write(&spec.dir.join("frames.csv"))?;
        s.write(&spec.dir.join("frame_samples.csv"))?;
    }
    Ok(())
}

/// Sample mean and standard deviation (n − 1 denominator; a single value has spread 0,
/// and no values give (0, 0), as the trace has always written).
fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len().max(1) as f64;
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len().max(2) - 1) as f64;
    (m, v.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_cells_are_centred_and_row_major() {
        let g = grid_points();
        let h = 2.0 * EXTENT / GRID as f64;
        assert_eq!(g.nrows(), GRID * GRID);
        // First cell: the lower-left centre; second: one step right; row GRID: one up.
        assert_eq!(
            (g[(0, 0)], g[(0, 1)]),
            (-EXTENT + h / 2.0, -EXTENT + h / 2.0)
        );
        assert_eq!(g[(1, 0)], -EXTENT + 1.5 * h);
        assert_eq!(g[(GRID, 1)], -EXTENT + 1.5 * h);
        // Symmetric about 0: the last cell mirrors the first.
        let last = GRID * GRID - 1;
        assert!((g[(last, 0)] + g[(0, 0)]).abs() < 1e-12);
    }

    #[test]
    fn trace_statistics_use_the_unbiased_variance() {
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((sd - 1.0).abs() < 1e-15);
        assert_eq!(mean_sd(&[4.0]), (4.0, 0.0));
    }
}
