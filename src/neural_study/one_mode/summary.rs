//! The one-mode runs read back into per-setting summaries, with their verdicts:
//! (a) the reduced game's optimum for each weight set, (b) the measured D against the
//! frozen generator for each weight set, (c) the release for each learning rate.

use super::super::RunSpec;
use super::super::outputs::{NumTable, column, read_csv};
use super::super::stats::{MeanCi, Support, mean_ci};
use super::{OneModeSpec, normalised};
use crate::error::Result;
use crate::game::{OneMode, OneModeOptimum};

/// D at a mode is averaged over this final fraction of the log: long enough to average
/// out batch noise, late enough to be D's stationary value.
pub const TAIL: f64 = 0.1;
/// The generator has escaped m₁ when fewer than this fraction of its samples lie on
/// m₁ (it sits on m₁ otherwise): a majority has left the collapsed mode.
pub const ESCAPED_BELOW: f64 = 0.5;

/// (a) The reduced game's collapsed optimum for one weight set.
pub struct Reduced {
    /// The weights as given.
    pub weights: Vec<f64>,
    /// The game (normalised weights, generator on mode 0).
    pub game: OneMode,
    /// Its optimum: closed form and Brent argmin.
    pub optimum: OneModeOptimum,
}

/// (a) for every weight set of the experiment.
///
/// # Errors
/// Invalid weights (validated before the runs, so not expected here).
pub fn reduced(spec: &OneModeSpec) -> Result<Vec<Reduced>> {
    spec.weights
        .iter()
        .map(|w| {
            let game = OneMode::new(w.clone(), 0)?;
            let optimum = game.collapsed_optimum()?;
            Ok(Reduced {
                weights: w.clone(),
                game,
                optimum,
            })
        })
        .collect()
}

/// Standard deviation of a batch's optimum n₁/(n₁ + B) at m₁ for w₁ = 1/3 (delta
/// method: d/dn₁ [n₁/(n₁ + B)] = B/(n₁ + B)² at n₁ = B/3, times √(B·w(1 − w))).
#[must_use]
pub fn batch_optimum_sd(b: usize) -> f64 {
    let b = b as f64;
    let n1 = b / 3.0;
    b / (n1 + b).powi(2) * (b * (1.0 / 3.0) * (2.0 / 3.0)).sqrt()
}

/// Mean of the finite values among the last ⌈frac·n⌉ (at least one) of `x` (0 for
/// none).
#[must_use]
pub fn tail_mean(x: &[f64], frac: f64) -> f64 {
    let n = x.len();
    let k = ((n as f64 * frac).ceil() as usize).clamp(1, n.max(1));
    let v: Vec<f64> = x[n.saturating_sub(k)..]
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Whether D at the three modes `d` matches the prediction: |D(m₁) − `pred_on`| ≤
/// `tol` on the generator's mode, and D ≥ 1 − `tol` at the empty modes (D* = 1 there
/// is reached only as the logit → ∞).
#[must_use]
pub fn within_tolerance(d: &[f64; 3], pred_on: f64, tol: f64) -> bool {
    (d[0] - pred_on).abs() <= tol && d[1] >= 1.0 - tol && d[2] >= 1.0 - tol
}

/// (b) One run: D against the frozen generator.
pub struct FrozenRun {
    /// Seed index.
    pub seed_index: usize,
    /// Trainer seed.
    pub seed: u64,
    /// D at each mode mean, averaged over the log's last [`TAIL`].
    pub d: [f64; 3],
    /// Within the tolerance ([`within_tolerance`]).
    pub within: bool,
    /// The log (`d_log.csv`), for the figure.
    pub log: NumTable,
}

/// (b) One weight set over the seeds.
pub struct FrozenSetting {
    /// The weights as given.
    pub weights: Vec<f64>,
    /// Predicted D at each mode (closed form).
    pub predicted: Vec<f64>,
    /// The runs.
    pub runs: Vec<FrozenRun>,
    /// The tolerance.
    pub tolerance: f64,
}

impl FrozenSetting {
    /// Reads the runs of weight set `wi`.
    ///
    /// # Errors
    /// A missing or malformed `d_log.csv`.
    pub fn load(
        runs: &[RunSpec],
        wi: usize,
        weights: &[f64],
        predicted: &[f64],
        tolerance: f64,
    ) -> Result<FrozenSetting> {
        let mut out = Vec::new();
        for r in runs.iter().filter(|r| r.setting == wi) {
            let log = read_csv(&r.dir.join("d_log.csv"))?;
            let d = [0, 1, 2].map(|k| tail_mean(&column(&log, &format!("d_at_mode_{k}")), TAIL));
            out.push(FrozenRun {
                seed_index: r.seed_index,
                seed: r.seed,
                within: within_tolerance(&d, predicted[0], tolerance),
                d,
                log,
            });
        }
        Ok(FrozenSetting {
            weights: weights.to_vec(),
            predicted: predicted.to_vec(),
            runs: out,
            tolerance,
        })
    }
    /// The normalised weights.
    #[must_use]
    pub fn normalised(&self) -> Vec<f64> {
        normalised(&self.weights)
    }
    /// D at each mode over the seeds (intervals cut to [0, 1]).
    #[must_use]
    pub fn d(&self) -> [MeanCi; 3] {
        [0, 1, 2].map(|k| {
            let v: Vec<f64> = self.runs.iter().map(|r| r.d[k]).collect();
            mean_ci(&v).within(Support::UNIT)
        })
    }
    /// Seeds within the tolerance.
    #[must_use]
    pub fn within(&self) -> usize {
        self.runs.iter().filter(|r| r.within).count()
    }
    /// The claim holds for this weight set when the seeds' mean D is within tolerance.
    #[must_use]
    pub fn holds(&self) -> bool {
        within_tolerance(&self.d().map(|c| c.mean), self.predicted[0], self.tolerance)
    }
}

/// (c) One run: the release.
pub struct ReleaseRun {
    /// Seed index.
    pub seed_index: usize,
    /// Trainer seed.
    pub seed: u64,
    /// First logged step with fewer than [`ESCAPED_BELOW`] of the samples on m₁ (NaN:
    /// never).
    pub escape_step: f64,
    /// Modes covered at the last log step.
    pub covered: f64,
    /// Fractions on m₁, m₂, m₃ at the last log step.
    pub mass: [f64; 3],
    /// Fraction of the logged steps with the generator on m₁.
    pub time_on: f64,
    /// (step, 1 if on m₁ else 0) per log step.
    pub on_m1: Vec<(f64, f64)>,
}

/// The last value of `v` (NaN if empty).
fn last(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(f64::NAN)
}

impl ReleaseRun {
    /// Summarises a release log.
    #[must_use]
    pub fn new(r: &RunSpec, log: &NumTable) -> ReleaseRun {
        let st = column(log, "step");
        let f0 = column(log, "mode_frac_0");
        let on = |f: f64| f >= ESCAPED_BELOW;
        ReleaseRun {
            seed_index: r.seed_index,
            seed: r.seed,
            escape_step: st
                .iter()
                .zip(&f0)
                .find(|(_, f)| **f < ESCAPED_BELOW)
                .map_or(f64::NAN, |(s, _)| *s),
            covered: last(&column(log, "modes_covered")),
            mass: [0, 1, 2].map(|k| last(&column(log, &format!("mode_frac_{k}")))),
            time_on: f0.iter().filter(|f| on(**f)).count() as f64 / f0.len().max(1) as f64,
            on_m1: st
                .iter()
                .zip(&f0)
                .map(|(s, f)| (*s, f64::from(u8::from(on(*f)))))
                .collect(),
        }
    }
}

/// (c) One learning rate over the seeds.
pub struct ReleaseSetting {
    /// The learning rate.
    pub lr: f64,
    /// The runs.
    pub runs: Vec<ReleaseRun>,
    /// Steps after the release (the range of the escape step).
    pub steps: usize,
}

impl ReleaseSetting {
    /// Reads the runs of setting `setting` (release at `lr`).
    ///
    /// # Errors
    /// A missing or malformed `release_log.csv`.
    pub fn load(runs: &[RunSpec], setting: usize, lr: f64, steps: usize) -> Result<ReleaseSetting> {
        let runs = runs
            .iter()
            .filter(|r| r.setting == setting)
            .map(|r| {
                Ok(ReleaseRun::new(
                    r,
                    &read_csv(&r.dir.join("release_log.csv"))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ReleaseSetting { lr, runs, steps })
    }
    fn ci(&self, f: impl Fn(&ReleaseRun) -> f64, s: Support) -> MeanCi {
        let v: Vec<f64> = self.runs.iter().map(f).collect();
        mean_ci(&v).within(s)
    }
    /// Seeds that escaped.
    #[must_use]
    pub fn escaped(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.escape_step.is_finite())
            .count()
    }
    /// Escape step over the seeds that escaped.
    #[must_use]
    pub fn escape_step(&self) -> MeanCi {
        self.ci(|r| r.escape_step, Support::up_to(self.steps as f64))
    }
    /// Modes covered at the end.
    #[must_use]
    pub fn covered(&self) -> MeanCi {
        self.ci(|r| r.covered, Support::up_to(3.0))
    }
    /// Mass left on m₁ at the end.
    #[must_use]
    pub fn mass_m1(&self) -> MeanCi {
        self.ci(|r| r.mass[0], Support::UNIT)
    }
    /// Mass on m₂ + m₃ at the end.
    #[must_use]
    pub fn mass_others(&self) -> MeanCi {
        self.ci(|r| r.mass[1] + r.mass[2], Support::UNIT)
    }
    /// Fraction of the logged steps on m₁.
    #[must_use]
    pub fn time_on(&self) -> MeanCi {
        self.ci(|r| r.time_on, Support::UNIT)
    }
    /// Fraction of the seeds on m₁ at each log step.
    #[must_use]
    pub fn on_m1_curve(&self) -> Vec<(f64, f64)> {
        let mut acc: Vec<(f64, Vec<f64>)> = Vec::new();
        for r in &self.runs {
            for (i, (x, v)) in r.on_m1.iter().enumerate() {
                if acc.len() <= i {
                    acc.push((*x, vec![]));
                }
                acc[i].1.push(*v);
            }
        }
        acc.iter().map(|(x, v)| (*x, mean_ci(v).mean)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step just inside / outside a tolerance edge, well above rounding.
    const EPS: f64 = 1e-6;
    /// Two evaluation orders of the same closed form agree to a few ulps of a value
    /// of order 0.03.
    const ROUNDING: f64 = 1e-14;

    #[test]
    fn d_matches_the_prediction_only_within_the_tolerance() {
        let (pred, tol) = (0.25, 0.05);
        assert!(within_tolerance(&[0.25, 1.0, 1.0], pred, tol));
        assert!(within_tolerance(&[0.3 - EPS, 0.95 + EPS, 0.99], pred, tol));
        // Each of the three conditions fails alone just past its edge.
        assert!(!within_tolerance(&[0.3 + EPS, 1.0, 1.0], pred, tol));
        assert!(!within_tolerance(&[0.2 - EPS, 1.0, 1.0], pred, tol));
        assert!(!within_tolerance(&[0.25, 0.95 - EPS, 1.0], pred, tol));
        assert!(!within_tolerance(&[0.25, 1.0, 0.95 - EPS], pred, tol));
        assert!(!within_tolerance(&[f64::NAN, 1.0, 1.0], pred, tol));
    }

    #[test]
    fn the_tail_mean_averages_the_last_finite_tenth() {
        let x: Vec<f64> = (1..=20).map(f64::from).collect();
        // Last 2 of 20: (19 + 20)/2.
        assert_eq!(tail_mean(&x, TAIL), 19.5);
        // At least one value; NaNs skipped.
        assert_eq!(tail_mean(&[1.0, 2.0, 3.0], 0.01), 3.0);
        assert_eq!(tail_mean(&[1.0, 5.0, f64::NAN], 0.5), 5.0);
        assert_eq!(tail_mean(&[], TAIL), 0.0);
    }

    #[test]
    fn batch_optimum_spread_matches_the_delta_method() {
        // B = 64: n₁ = 64/3, slope 64/(256/3)² = 9/1024, sd(n₁) = √(64·2/9) = 3.771.
        let want = 9.0 / 1024.0 * (128.0f64 / 9.0).sqrt();
        assert!((batch_optimum_sd(64) - want).abs() < ROUNDING);
    }

    fn spec_at(dir: &std::path::Path) -> RunSpec {
        RunSpec {
            block: 0,
            setting: 0,
            seed_index: 0,
            seed: 0,
            dir: dir.to_path_buf(),
            config: crate::gan::TrainConfig::default().validated().unwrap(),
            job: super::super::super::Job::Train {
                frames: vec![],
                trace: false,
            },
        }
    }

    #[test]
    fn a_release_escapes_at_the_first_step_below_half() {
        let log: NumTable = (
            [
                "step",
                "mode_frac_0",
                "mode_frac_1",
                "mode_frac_2",
                "modes_covered",
            ]
            .map(String::from)
            .to_vec(),
            vec![
                vec![0.0, 1.0, 0.0, 0.0, 1.0],
                vec![10.0, ESCAPED_BELOW, 0.2, 0.0, 1.0],
                vec![20.0, ESCAPED_BELOW - EPS, 0.3, 0.2, 2.0],
                vec![30.0, 0.9, 0.05, 0.05, 1.0],
            ],
        );
        let r = ReleaseRun::new(&spec_at(std::path::Path::new(".")), &log);
        assert_eq!(r.escape_step, 20.0);
        assert_eq!(r.time_on, 0.75, "back on m₁ after escaping");
        assert_eq!(r.mass, [0.9, 0.05, 0.05]);
        assert_eq!(r.covered, 1.0);
        assert_eq!(r.on_m1[2], (20.0, 0.0));
        let stays = (log.0.clone(), vec![log.1[0].clone(), log.1[1].clone()]);
        assert!(
            ReleaseRun::new(&spec_at(std::path::Path::new(".")), &stays)
                .escape_step
                .is_nan()
        );
    }
}
