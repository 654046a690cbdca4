//! What a planned run costs: a relative compute cost (the scheduler's ordering key,
//! [`super::cost`]), a modelled peak memory, and a shortened copy of the run whose
//! measured wall time calibrates the cost in seconds on this machine. Used by
//! [`crate::slurm`] to estimate the resource requests of batch jobs.

use std::path::PathBuf;

use super::one_mode::OneModeJob;
use super::training::{FRAME_SAMPLES, GRID, TRACE_SAMPLES};
use super::{Job, RunSpec};
use crate::error::Result;
use crate::nn::Mlp;

/// Per-row buffers a network workspace holds for each layer width: activations H,
/// σ′ ⊙ M, δ and ∂/∂H always; curvature, masks and double-backprop adjoints with a
/// gradient penalty or dropout. Six is the middle of that range, and with 8-byte
/// numbers (f32 runs use 4) the model stays an upper bound for every study here (see
/// [`memory_bytes`]).
const BUFFERS_PER_WIDTH: u64 = 6;
/// Bytes of one number in the model (f64; f32 networks use half).
const NUMBER_BYTES: u64 = 8;
/// Copies of the parameter vector alive during training: θ and ψ, their gradients,
/// Adam's two moments, and the joint vector the update rule steps.
const PARAMETER_COPIES: u64 = 8;
/// Columns of a training-log row, rounded up (the trainer writes about 30).
const LOG_COLUMNS: u64 = 64;
/// Bytes per cell of a CSV table held as strings before it is written (a `String`
/// header plus a number's text).
const TABLE_CELL_BYTES: u64 = 48;

fn width_sum(m: &Mlp) -> u64 {
    m.layers()
        .iter()
        .map(|l| (l.fan_in + l.fan_out) as u64)
        .sum()
}

/// Peak memory of a run, in bytes, modelled from its networks and the sizes of the
/// batches they see:
///
/// * networks: each of G, D (and Q) holds a workspace of `rows × Σ_l (fan_in + fan_out)`
///   numbers per buffer ([`BUFFERS_PER_WIDTH`]), where `rows` is the largest batch the
///   network sees: the training batch, `eval_samples`, the snapshot samples, and for D
///   the 80 × 80 D-surface grid when the run records frames;
/// * parameters: [`PARAMETER_COPIES`] copies of all parameters;
/// * logs: one row of [`LOG_COLUMNS`] numbers per log step, the probe records
///   (generator samples and D on the grid at every probe step) and the frame tables
///   held as strings before they are written.
///
/// Checked against the peak resident size of one shard of each quick study on one
/// thread (process and one run at a time): point-sets 55 MB measured against a model of
/// 162 MiB per run (D on the 6400-point grid dominates both), gan-vis 47 MB against
/// 136 MiB, constraints-latent 13 MB against 9 MiB + the 64 MiB allowed for the process.
/// The model is an upper bound, within a factor of about three where it matters.
///
/// # Errors
/// [`crate::error::Error::Param`] for an invalid architecture or data set (checked
/// when the study was loaded, so not expected here).
pub fn memory_bytes(r: &RunSpec) -> Result<u64> {
    let c = &r.config;
    let dim = c.data().dim();
    let (g, d, q) = c.networks(dim)?;
    let (frames, trace) = match &r.job {
        Job::Train { frames, trace } => (frames.len() as u64, *trace),
        Job::OneMode(_) => (0, false),
    };
    let log_rows = (c.steps / c.log_every.max(1)) as u64 + 1;
    let probe_steps = if trace { log_rows } else { frames };
    let samples = (if trace { TRACE_SAMPLES } else { FRAME_SAMPLES }) as u64;
    let grid = if frames > 0 { (GRID * GRID) as u64 } else { 0 };
    let batch = c.batch_size as u64;
    let eval = c.eval_samples.max(c.snapshot_samples) as u64;
    let g_rows = batch.max(eval).max(samples);
    let d_rows = (2 * batch).max(eval).max(grid);
    let q_bytes = q.as_ref().map_or(0, |q| width_sum(q) * g_rows);
    let workspaces =
        (width_sum(&g) * g_rows + width_sum(&d) * d_rows + q_bytes) * BUFFERS_PER_WIDTH;
    let params = (g.n_params() + d.n_params() + q.as_ref().map_or(0, Mlp::n_params)) as u64
        * PARAMETER_COPIES;
    let logs = log_rows * LOG_COLUMNS;
    let probes = probe_steps * (samples * (dim as u64 + 3) + grid);
    let numbers = workspaces + params + logs + probes;
    // frames.csv (step, x, y, d per grid point) and frame_samples.csv, or trace.csv.
    let table_cells = frames * (grid * 4 + samples * 3) + if trace { log_rows * 3 } else { 0 };
    Ok(numbers * NUMBER_BYTES + table_cells * TABLE_CELL_BYTES)
}

/// A shortened copy of `spec` for timing, writing into `dir`: at most `steps` training
/// steps, but at least four log intervals (so that the share of time spent on the
/// log-step metrics is the full run's), never more than the run itself; the D-surface
/// frames inside that window are kept. One-mode runs shorten their D-only and release
/// phases to `steps` each. [`super::cost`] is linear in these step counts, so
/// `measured seconds / cost(copy)` converts the cost of the full run into seconds.
#[must_use]
pub fn calibration_run(spec: &RunSpec, steps: usize, dir: PathBuf) -> RunSpec {
    let mut copy = spec.clone();
    copy.dir = dir;
    match &mut copy.job {
        Job::Train { frames, .. } => {
            let c = &spec.config;
            copy.config = c.shortened(steps.max(4 * c.log_every));
            frames.retain(|&f| f <= copy.config.steps);
        }
        Job::OneMode(j) => match j {
            OneModeJob::Freeze {
                d_steps, log_every, ..
            } => {
                *d_steps = (*d_steps).min(steps);
                *log_every = (*log_every).min(*d_steps);
            }
            OneModeJob::Release {
                d_steps,
                release_steps,
                log_every,
                ..
            } => {
                *d_steps = (*d_steps).min(steps);
                *release_steps = (*release_steps).min(steps);
                *log_every = (*log_every).min(*d_steps);
            }
        },
    }
    copy
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::neural_study::{NeuralBlock, cost, plan, resolve};

    fn runs(steps: usize, log_every: usize, batch: usize, frames: usize) -> Vec<RunSpec> {
        let text = format!(
            r#"
name = "ring"
analysis = "ring"
seeds = 2
steps = {steps}
log_every = {log_every}
frames = {frames}
base = {{ batch_size = {batch}, eval_samples = 100, generator = {{ hidden = [8] }}, discriminator = {{ hidden = [8] }} }}
[[settings]]
label = "standard"
"#
        );
        let block: NeuralBlock = toml::from_str(&text).unwrap();
        let r = resolve(Path::new("t.toml"), 0, &block, false).unwrap();
        plan(0, &r, 7, Path::new("data"))
    }

    #[test]
    fn calibration_copy_scales_the_cost_by_its_steps() {
        let full = runs(4000, 10, 32, 5);
        let copy = calibration_run(&full[0], 200, PathBuf::from("c"));
        assert_eq!(copy.config.steps, 200);
        assert_eq!(copy.dir, PathBuf::from("c"));
        // cost = steps × updates × batch: exactly 200/4000 of the run's.
        assert_eq!(cost(&copy) * 4000, cost(&full[0]) * 200);
        let (Job::Train { frames: f0, .. }, Job::Train { frames: f1, .. }) =
            (&full[0].job, &copy.job)
        else {
            panic!("train jobs")
        };
        let kept: Vec<usize> = f0.iter().copied().filter(|&f| f <= 200).collect();
        assert!(!kept.is_empty() && f1 == &kept, "{f0:?} → {f1:?}");
        // At least four log intervals.
        let sparse = runs(4000, 100, 32, 0);
        assert_eq!(
            calibration_run(&sparse[0], 200, PathBuf::new())
                .config
                .steps,
            400
        );
        // A run shorter than the calibration is timed whole.
        let short = runs(120, 10, 32, 0);
        assert_eq!(
            cost(&calibration_run(&short[0], 200, PathBuf::new())),
            cost(&short[0])
        );
    }

    #[test]
    fn one_mode_copies_shorten_both_phases() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/one-mode.toml");
        let study = crate::study::Study::load(&path, false).unwrap();
        let all: Vec<RunSpec> = study.neural_plans(Path::new("data")).concat();
        assert!(!all.is_empty());
        for r in &all {
            let c = calibration_run(r, 200, PathBuf::new());
            match &c.job {
                Job::OneMode(OneModeJob::Freeze { d_steps, .. }) => assert!(*d_steps <= 200),
                Job::OneMode(OneModeJob::Release {
                    d_steps,
                    release_steps,
                    ..
                }) => assert!(*d_steps <= 200 && *release_steps <= 200),
                Job::Train { .. } => panic!("one-mode study planned a train job"),
            }
            assert!(cost(&c) > 0 && cost(&c) < cost(r));
        }
    }

    #[test]
    fn memory_grows_with_batch_and_frames() {
        let small = memory_bytes(&runs(400, 10, 32, 0)[0]).unwrap();
        let batch = memory_bytes(&runs(400, 10, 4096, 0)[0]).unwrap();
        let frames = memory_bytes(&runs(400, 10, 32, 5)[0]).unwrap();
        let longer = memory_bytes(&runs(40_000, 10, 32, 0)[0]).unwrap();
        assert!(small < batch && small < frames && small < longer);
        // D on the 80 × 80 grid: at least its workspaces (D = 2 → 8 → 1: widths 10 + 9).
        let grid = (GRID * GRID) as u64 * 19 * BUFFERS_PER_WIDTH * NUMBER_BYTES;
        // Without frames D sees at most max(2 × batch, eval_samples) = 100 rows.
        assert!(frames - small >= grid - 100 * 19 * BUFFERS_PER_WIDTH * NUMBER_BYTES);
    }
}
