//! Seed 001, "Is a one mode generator stable?": (a) the reduced game's collapsed
//! optimum (closed form and Brent argmin, [`crate::game::one_mode`]); (b) a neural D
//! trained against a frozen generator on mode m₁, compared with D*(m₁) = w₁/(w₁ + 1)
//! and D*(m₂) = D*(m₃) = 1; (c) the generator released from the collapse, with how
//! often and how soon it leaves m₁, against the learning rate.
//!
//! (b) freezes the sampler m₁ + σ·N(0, I) (σ = the ring's std, 0.05): the generator
//! then has exactly the density of data mode 1, so D*(x) = w₁/(w₁ + 1) at every x of
//! that mode, not only at its mean. It is realised as an affine generator (2-D Gaussian
//! latent, one linear layer with W = σI, b = m₁) whose parameters never move.
//!
//! (c) uses the gan-vis generator (10-D uniform latent → 50 → 50 → 50 → 2, ReLU),
//! collapsed onto m₁ by rescaling its output layer (so the sample std is σ and the
//! sample mean is m₁), then trains D alone for `d_steps` (D at its optimum against
//! the collapse) and finally both players for `release_steps`, Adam at each
//! learning rate of `release_lrs` for both.
//!
//! The module is split by stage: `run` executes the runs, `summary` reads them back
//! into per-setting summaries (with the verdicts), `report` renders those as CSV
//! tables, the report section and the figures.

mod report;
mod run;
mod summary;

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Job, Resolved, RunSpec};
use crate::datasets::Dataset;
use crate::error::Result;
use crate::game::OneMode;
use crate::gan::ValidConfig;
use crate::linalg::derive_seed;

pub(super) use report::aggregate;
pub(super) use run::execute;

/// Modes of the experiment's ring (seed 001: three).
pub const MODES: usize = 3;

/// The one-mode experiment's settings (`[neural.one_mode]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneModeSpec {
    /// Mode-weight sets (each normalised), the first being the equal weights.
    pub weights: Vec<Vec<f64>>,
    /// D steps against the frozen generator.
    pub d_steps: usize,
    /// D steps in `--quick` mode.
    #[serde(default = "default_quick")]
    pub quick_d_steps: usize,
    /// Tolerance on |D − D*| (see the report for its justification).
    pub tolerance: f64,
    /// Learning rates of the release (Adam, both players).
    pub release_lrs: Vec<f64>,
    /// Steps after the release.
    pub release_steps: usize,
    /// Release steps in `--quick` mode.
    #[serde(default = "default_quick")]
    pub quick_release_steps: usize,
    /// Log every this many steps.
    pub log_every: usize,
}

fn default_quick() -> usize {
    200
}

impl OneModeSpec {
    pub(super) fn quick(&mut self) {
        self.d_steps = self.d_steps.min(self.quick_d_steps);
        self.release_steps = self.release_steps.min(self.quick_release_steps);
        self.log_every = self.log_every.min(self.d_steps.max(1) / 10).max(1);
    }
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        if self.weights.is_empty() || self.release_lrs.is_empty() {
            return Err("weights and release_lrs must not be empty".into());
        }
        for w in &self.weights {
            // The experiment is seed 001's three-mode ring: D is logged and judged at
            // three mode means.
            if w.len() != MODES {
                return Err(format!(
                    "weights {w:?}: give {MODES} weights, one per mode of the ring"
                ));
            }
            OneMode::new(w.clone(), 0).map_err(|e| format!("weights {w:?}: {e}"))?;
        }
        if self.d_steps == 0 || self.release_steps == 0 || self.log_every == 0 {
            return Err("d_steps, release_steps and log_every must be at least 1".into());
        }
        if !(self.tolerance > 0.0 && self.tolerance < 0.5) {
            return Err("tolerance must be in (0, 0.5)".into());
        }
        if self
            .release_lrs
            .iter()
            .any(|l| !(l.is_finite() && *l > 0.0))
        {
            return Err("release_lrs must be positive".into());
        }
        Ok(())
    }
}

/// One run of the experiment.
#[derive(Debug, Clone, Serialize)]
pub enum OneModeJob {
    /// (b): D against the frozen sampler, with these (normalised) weights.
    Freeze {
        /// Mode weights.
        weights: Vec<f64>,
        /// D steps.
        d_steps: usize,
        /// Log interval.
        log_every: usize,
    },
    /// (c): D pre-trained against the collapsed gan-vis G, then both released.
    Release {
        /// Adam learning rate of both players after the release.
        lr: f64,
        /// D pre-training steps.
        d_steps: usize,
        /// Steps after the release.
        release_steps: usize,
        /// Log interval.
        log_every: usize,
    },
}

impl OneModeJob {
    pub(super) fn cost(&self) -> usize {
        match self {
            OneModeJob::Freeze { d_steps, .. } => d_steps * 100,
            OneModeJob::Release {
                d_steps,
                release_steps,
                ..
            } => (d_steps + 3 * release_steps) * 100,
        }
    }
}

pub(super) fn normalised(w: &[f64]) -> Vec<f64> {
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
}

/// The configurations of a one-mode block after the base one: the base on the ring with
/// each weight set of the frozen-D experiment.
///
/// # Errors
/// As [`crate::datasets::Dataset::build`].
pub(super) fn weighted_configs(base: &ValidConfig, spec: &OneModeSpec) -> Result<Vec<ValidConfig>> {
    spec.weights
        .iter()
        .map(|w| base.with_dataset(ring_with(base, &normalised(w))))
        .collect()
}

pub(super) fn ring_with(cfg: &crate::gan::TrainConfig, weights: &[f64]) -> Dataset {
    match &cfg.dataset {
        Dataset::Ring {
            modes, radius, std, ..
        } => Dataset::Ring {
            modes: *modes,
            radius: *radius,
            std: *std,
            weights: Some(weights.to_vec()),
        },
        other => other.clone(),
    }
}

pub(super) fn plan(block: usize, r: &Resolved, study_seed: u64, bdir: &Path) -> Vec<RunSpec> {
    let b = &r.block;
    let Some(spec) = &b.one_mode else {
        return vec![];
    };
    let mut runs = Vec::new();
    for (wi, w) in spec.weights.iter().enumerate() {
        let w = normalised(w);
        for k in 0..b.seeds {
            let seed = derive_seed(study_seed, k as u64);
            // The block's resolved configs: the base, then one per frozen-D weight set
            // (its ring with those weights, built when the study was loaded).
            let config = r.configs[1 + wi].with_seed(seed);
            runs.push(RunSpec {
                block,
                setting: wi,
                seed_index: k,
                seed,
                dir: bdir
                    .join(format!("freeze_w{wi}"))
                    .join(format!("seed{k:03}")),
                config,
                job: Job::OneMode(OneModeJob::Freeze {
                    weights: w.clone(),
                    d_steps: spec.d_steps,
                    log_every: spec.log_every,
                }),
            });
        }
    }
    for (li, lr) in spec.release_lrs.iter().enumerate() {
        for k in 0..b.seeds {
            let seed = derive_seed(study_seed, k as u64);
            let config = r.configs[0].with_seed(seed);
            runs.push(RunSpec {
                block,
                setting: spec.weights.len() + li,
                seed_index: k,
                seed,
                dir: bdir
                    .join(format!("release_lr{lr}"))
                    .join(format!("seed{k:03}")),
                config,
                job: Job::OneMode(OneModeJob::Release {
                    lr: *lr,
                    d_steps: spec.d_steps,
                    release_steps: spec.release_steps,
                    log_every: spec.log_every,
                }),
            });
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> OneModeSpec {
        OneModeSpec {
            weights: vec![vec![1.0, 1.0, 1.0], vec![2.0, 1.0, 1.0]],
            d_steps: 100,
            quick_d_steps: 10,
            tolerance: 0.05,
            release_lrs: vec![1e-3],
            release_steps: 100,
            quick_release_steps: 10,
            log_every: 10,
        }
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert!(spec().validate().is_ok());
        let mut s = spec();
        s.weights[1] = vec![1.0, 1.0];
        assert!(s.validate().unwrap_err().contains("give 3 weights"));
        let mut s = spec();
        s.tolerance = 0.5;
        assert!(s.validate().unwrap_err().contains("tolerance"));
        let mut s = spec();
        s.release_lrs = vec![0.0];
        assert!(s.validate().unwrap_err().contains("release_lrs"));
        let mut s = spec();
        s.quick();
        assert_eq!((s.d_steps, s.release_steps, s.log_every), (10, 10, 1));
    }
}
