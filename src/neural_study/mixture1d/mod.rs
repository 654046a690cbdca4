//! The `mixture1d` analysis (seed 000, "Constraints in GANs"): a 1-D GAN on a Gaussian
//! mixture, measured by the final and early W1 to the target, the modes covered, and
//! the oscillation of the gap D(real) − D(fake). Each run is summarised from its log
//! ([`MixRun`]), the runs of a setting into a [`MixSetting`]; both are then rendered as
//! `summary.csv`, `stats.csv`, the report table, the claims (`claims`) and the
//! figures (`figures`).

mod claims;
mod figures;
mod target;

use std::fmt::Write as _;

use super::RunSpec;
use super::outputs::{RunLog, last_finite};
use super::render::{self, Ctx, StatRow, lr_of, setting_desc};
use super::stats::{self, ACF_MIN_PEAK, MeanCi, Support, mean_ci};
use crate::error::Result;
use crate::export::{Table, num};

/// One run, summarised from its log.
#[derive(Debug, Clone)]
pub struct MixRun {
    /// Setting index.
    pub setting: usize,
    /// Seed index k.
    pub seed_index: usize,
    /// Trainer seed.
    pub seed: u64,
    /// How the run ended.
    pub status: String,
    /// W1 at the last finite log step.
    pub w1_final: f64,
    /// W1 at the log step nearest the early fraction of training.
    pub w1_early: f64,
    /// That log step.
    pub early_step: f64,
    /// Modes covered at the end.
    pub modes_covered: f64,
    /// Fraction of the samples at each of the two modes at the end.
    pub frac: [f64; 2],
    /// Oscillation of D(real) − D(fake) over the second half: half the 5–95 % range.
    pub amplitude: f64,
    /// Its period in training steps (NaN: none detected).
    pub period: f64,
    /// The autocorrelation peak behind the period.
    pub acf_peak: f64,
    /// Log steps.
    pub steps: Vec<f64>,
    /// W1 at each log step.
    pub w1: Vec<f64>,
}

/// The index of the log step nearest `target` (the first of two equally near; 0 for an
/// empty log).
#[must_use]
pub fn nearest_index(steps: &[f64], target: f64) -> usize {
    steps
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - target).abs().total_cmp(&(b.1 - target).abs()))
        .map_or(0, |x| x.0)
}

/// Oscillation of a series logged every `log_every` steps, measured over its second
/// half (after the transient): (amplitude = half the 5–95 % range, period in steps,
/// autocorrelation peak); period and peak are NaN when no peak clears
/// [`ACF_MIN_PEAK`].
#[must_use]
pub fn oscillation(x: &[f64], log_every: usize) -> (f64, f64, f64) {
    let half = &x[x.len() / 2..];
    let (period, peak) = stats::acf_period(half, ACF_MIN_PEAK).unwrap_or((f64::NAN, f64::NAN));
    (stats::half_range_90(half), period * log_every as f64, peak)
}

impl MixRun {
    /// Summarises run `r` from its log; "early" is `early_fraction` of `steps`.
    #[must_use]
    pub fn from_log(r: &RunSpec, d: RunLog, early_fraction: f64, steps: usize) -> MixRun {
        let st = d.col("step");
        let w1 = d.col("w1");
        let ei = nearest_index(&st, early_fraction * steps as f64);
        let gap: Vec<f64> = d
            .col("d_real")
            .iter()
            .zip(d.col("d_fake"))
            .map(|(a, b)| a - b)
            .collect();
        let (amplitude, period, acf_peak) = oscillation(&gap, r.config.log_every);
        MixRun {
            setting: r.setting,
            seed_index: r.seed_index,
            seed: r.seed,
            w1_final: last_finite(&w1),
            w1_early: w1.get(ei).copied().unwrap_or(f64::NAN),
            early_step: st.get(ei).copied().unwrap_or(f64::NAN),
            modes_covered: d.last("modes_covered"),
            frac: [d.last("mode_frac_0"), d.last("mode_frac_1")],
            amplitude,
            period,
            acf_peak,
            status: d.status,
            steps: st,
            w1,
        }
    }
    /// Whether the run covers both modes of the mixture at the end.
    #[must_use]
    pub fn covers_both(&self) -> bool {
        self.modes_covered >= 2.0
    }
}

/// The runs of one setting, as per-seed columns (run order).
#[derive(Debug, Clone, Default)]
pub struct MixSetting {
    /// Final W1 per seed.
    pub w1_final: Vec<f64>,
    /// Early W1 per seed.
    pub w1_early: Vec<f64>,
    /// Modes covered at the end per seed.
    pub modes_covered: Vec<f64>,
    /// 1 if the seed covers both modes, else 0.
    pub covers_both: Vec<f64>,
    /// Gap amplitude per seed.
    pub amplitude: Vec<f64>,
    /// Gap period (steps) per seed, NaN where none was detected.
    pub period: Vec<f64>,
    /// Seeds whose run did not complete.
    pub diverged: usize,
    /// Modes of the target (the range of `modes_covered`).
    pub modes: usize,
}

impl MixSetting {
    /// Groups `runs` by setting (`settings` of them, each with `modes` target modes).
    #[must_use]
    pub fn group(runs: &[MixRun], settings: usize, modes: usize) -> Vec<MixSetting> {
        (0..settings)
            .map(|s| {
                let mut m = MixSetting {
                    modes,
                    ..MixSetting::default()
                };
                for r in runs.iter().filter(|r| r.setting == s) {
                    m.w1_final.push(r.w1_final);
                    m.w1_early.push(r.w1_early);
                    m.modes_covered.push(r.modes_covered);
                    m.covers_both.push(f64::from(u8::from(r.covers_both())));
                    m.amplitude.push(r.amplitude);
                    m.period.push(r.period);
                    m.diverged += usize::from(r.status != "completed");
                }
                m
            })
            .collect()
    }
    /// The metrics of `stats.csv`, in its row order, with intervals cut to their range.
    #[must_use]
    pub fn metrics(&self) -> [(&'static str, MeanCi); 6] {
        let nn = Support::NON_NEGATIVE;
        [
            ("w1_final", mean_ci(&self.w1_final).within(nn)),
            ("w1_early", mean_ci(&self.w1_early).within(nn)),
            (
                "modes_covered",
                mean_ci(&self.modes_covered).within(Support::up_to(self.modes as f64)),
            ),
            (
                "covers_both",
                mean_ci(&self.covers_both).within(Support::UNIT),
            ),
            ("gap_amplitude", mean_ci(&self.amplitude).within(nn)),
            ("gap_period_steps", mean_ci(&self.period).within(nn)),
        ]
    }
    /// Seeds, seeds covering both modes, seeds with a detected period.
    #[must_use]
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.w1_final.len(),
            self.covers_both.iter().filter(|v| **v > 0.5).count(),
            self.period.iter().filter(|v| v.is_finite()).count(),
        )
    }
}

/// The aggregation of a `mixture1d` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let runs = ctx
        .runs
        .iter()
        .map(|r| {
            Ok(MixRun::from_log(
                r,
                RunLog::load(r)?,
                b.early_fraction,
                b.steps,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let modes = super::mode_count(&ctx.r.configs[0]);
    let settings = MixSetting::group(&runs, b.settings.len(), modes);
    let mut srows = Vec::new();
    for (s, m) in settings.iter().enumerate() {
        for (name, ci) in m.metrics() {
            srows.push(StatRow::new(ctx.label(s), name, ci));
        }
    }
    let paths = render::write_tables(ctx, &summary_table(ctx, &runs), &srows)?;
    writeln!(report, "Data: `{}` (one row per run), `{}` (mean and 95 % t-interval per setting and metric); per-run logs under `{}/runs/`.\n", ctx.rel_data(&paths[0]), ctx.rel_data(&paths[1]), b.name).ok();
    let c0 = &ctx.r.configs[0];
    let floor = target::w1_noise_floor(c0)?;
    writeln!(report, "W1 is the exact 1-D Wasserstein-1 distance between {} generator samples and {} target samples (a fixed pair of samples per run). Noise floor: the W1 between two independent target samples of this size is {:.3} on average (5–95 %: {:.3}–{:.3}; {} simulated pairs), so differences below that are sampling noise. A mode is covered when ≥ {:.0} % of the samples lie within 3σ of it. \"Early\" is the log step nearest {:.0} % of training (step {}). The oscillation is measured on the gap D(real) − D(fake) (batch means, logged every {} steps) over the second half of training: amplitude = half the 5–95 % range, period = lag of the highest autocorrelation peak after the first negative value if that peak exceeds {ACF_MIN_PEAK} (else not detected).\n",
        c0.eval_samples, c0.eval_samples, floor.0, floor.1, floor.2, target::FLOOR_REPS,
        100.0 * c0.coverage_min_fraction, 100.0 * b.early_fraction,
        runs.first().map_or(f64::NAN, |m| m.early_step), c0.log_every).ok();
    writeln!(report, "| setting | configuration | final W1 | W1 at {:.0} % | modes covered | runs covering both | gap amplitude | gap period (steps) | period detected | diverged |", 100.0 * b.early_fraction).ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let [w1f, w1e, cov, _, amp, per] = m.metrics().map(|x| x.1);
        let (n, both, det) = m.counts();
        writeln!(
            report,
            "| {} | {} | {} | {} | {} | {both}/{n} | {} | {} | {det}/{n} | {} |",
            ctx.label(s),
            setting_desc(&ctx.r.configs[s]),
            w1f.show(3),
            w1e.show(3),
            cov.show(2),
            amp.show(3),
            per.show(0),
            m.diverged
        )
        .ok();
    }
    writeln!(report).ok();
    claims::render(ctx, &settings, &runs, report);
    figures::render(ctx, &runs, report)
}

/// `summary.csv`: one row per run.
fn summary_table(ctx: &Ctx<'_>, runs: &[MixRun]) -> Table {
    let b = &ctx.r.block;
    let mut t = Table::new([
        "setting",
        "seed_index",
        "seed",
        "latent_dim",
        "lr_g",
        "lr_d",
        "steps",
        "status",
        "w1_final",
        "early_step",
        "w1_early",
        "modes_covered",
        "mode_frac_0",
        "mode_frac_1",
        "gap_amplitude",
        "gap_period_steps",
        "gap_acf_peak",
    ]);
    for m in runs {
        let c = &ctx.r.configs[m.setting];
        t.push(vec![
            ctx.label(m.setting).to_string(),
            m.seed_index.to_string(),
            m.seed.to_string(),
            c.latent.dim.to_string(),
            num(lr_of(&c.optimizer_g)),
            num(lr_of(&c.optimizer_d)),
            b.steps.to_string(),
            m.status.clone(),
            num(m.w1_final),
            num(m.early_step),
            num(m.w1_early),
            num(m.modes_covered),
            num(m.frac[0]),
            num(m.frac[1]),
            num(m.amplitude),
            num(m.period),
            num(m.acf_peak),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_early_step_is_the_nearest_log_step() {
        let st = [0.0, 10.0, 20.0, 30.0];
        assert_eq!(nearest_index(&st, 12.0), 1);
        assert_eq!(nearest_index(&st, 16.0), 2);
        // A tie goes to the earlier step.
        assert_eq!(nearest_index(&st, 15.0), 1);
        assert_eq!(nearest_index(&[], 3.0), 0);
    }

    /// Period detection on the gap: a sine of period 20 log points over the second
    /// half is found (in steps: × log_every), a monotone drift is not.
    #[test]
    fn a_periodic_gap_is_detected_and_a_drift_is_not() {
        // The first half is a transient (a ramp) that must not matter.
        let mut x: Vec<f64> = (0..200).map(|i| i as f64 / 200.0).collect();
        x.extend((0..200).map(|i| 0.3 * (std::f64::consts::TAU * i as f64 / 20.0).sin()));
        let (amp, period, peak) = oscillation(&x, 5);
        assert!((period - 100.0).abs() <= 5.0, "period {period}");
        assert!(peak > ACF_MIN_PEAK);
        // Half the 5–95 % range of a sine of amplitude 0.3: 0.3·cos(0.05π) ≈ 0.296 for
        // a uniform phase; with 20 sampled phases the 95 % quantile falls between the
        // two largest samples, 0.3·cos(0.1π) ≈ 0.285 and 0.3.
        assert!(amp > 0.285 && amp < 0.297, "amplitude {amp}");
        let drift: Vec<f64> = (0..400).map(|i| (i as f64).sqrt()).collect();
        let (_, period, peak) = oscillation(&drift, 5);
        assert!(period.is_nan() && peak.is_nan());
    }

    fn run(setting: usize, w1: f64, modes: f64, status: &str) -> MixRun {
        MixRun {
            setting,
            seed_index: 0,
            seed: 0,
            status: status.into(),
            w1_final: w1,
            w1_early: w1,
            early_step: 0.0,
            modes_covered: modes,
            frac: [0.5, 0.5],
            amplitude: 0.1,
            period: f64::NAN,
            acf_peak: f64::NAN,
            steps: vec![],
            w1: vec![],
        }
    }

    #[test]
    fn settings_group_runs_and_cut_w1_intervals_at_zero() {
        let runs = [
            run(0, 0.1, 2.0, "completed"),
            run(1, 0.5, 1.0, "diverged"),
            run(0, 3.0, 1.0, "completed"),
        ];
        let s = MixSetting::group(&runs, 2, 2);
        assert_eq!(s[0].w1_final, vec![0.1, 3.0]);
        assert_eq!(s[0].counts(), (2, 1, 0));
        assert_eq!((s[0].diverged, s[1].diverged), (0, 1));
        let [(name, w1), _, (_, cov), ..] = s[0].metrics();
        assert_eq!(name, "w1_final");
        // n = 2: mean 1.55 ± 12.706·1.45; the lower end is cut to 0, the upper is not.
        assert!(w1.is_cut() && w1.lo() == 0.0 && w1.hi() > 3.0);
        // Modes covered 2 and 1 of 2: cut to [0, 2] on both sides.
        assert_eq!((cov.lo(), cov.hi()), (0.0, 2.0));
    }
}
