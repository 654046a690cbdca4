//! What a planned run costs: a relative compute cost (the scheduler's ordering key,
//! [`super::cost`]), a modelled peak memory, and a shortened copy of the run whose
//! measured wall time calibrates the cost in seconds on this machine. Used by
//! [`crate::slurm`] to estimate the resource requests of batch jobs.

use std::path::PathBuf;

use super::analyses::{FRAME_SAMPLES, GRID, TRACE_SAMPLES};
use super::one_mode::OneModeJob;
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
/// Checked against the peak resident size of the quick studies (point-sets: about
/// 45 MB per run, with D on the 6400-point grid; model ≈ 120 MB): the model is an upper
/// bound, within a factor of three where it matters.
///
/// # Errors
/// [`crate::error::Error::Param`] for an invalid architecture or data set (checked
/// when the study was loaded, so not expected here).
pub fn memory_bytes(r: &RunSpec) -> Result<u64> {
    let c = &r.config;
    let dim = c.dataset.build()?.dim();
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
    let c = &mut copy.config;
    match &mut copy.job {
        Job::Train { frames, .. } => {
            c.steps = c.steps.min(steps.max(4 * c.log_every));
            c.log_every = c.log_every.min(c.steps);
            frames.retain(|&f| f <= c.steps);
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
