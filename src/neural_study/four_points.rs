//! The `four_points` analysis (seed 002): a GAN on the four points (±1, 0), (0, ±1),
//! where the seed says G and D may chase each other between the points forever. A run
//! converges when every point ends with about a quarter of the mass; it *chases* when
//! the mass hops between points repeatedly with a detectable period.

use std::fmt::Write as _;

use super::hops::{DOMINANT, dominant_switches};
use super::outputs::{RunLog, last_finite};
use super::render::{self, Ctx, StatRow, lr_of, mass_figure, setting_desc};
use super::stats::{self, ACF_MIN_PEAK, MeanCi, Support, mean_ci};
use crate::error::Result;
use crate::export::{Table, num};
use crate::plot::Series;

/// Four-point convergence band: every point holds 0.25 ± this at the end. The binomial
/// standard error of a fraction 0.25 of 1000 samples is ≈ 0.014, so a converged run
/// never leaves the band by noise (7σ); the band's top, 0.35, stays below
/// [`DOMINANT`], so a converged step has no dominant point.
pub const UNIFORM_TOL: f64 = 0.1;
/// A chase needs at least this many hops of the dominant point: one hop is a move, two
/// can be a move and a return (a transient); three (A → B → A → B, or around the
/// points) repeat a move, the least that can be called "forever" in a finite run.
pub const CHASE_MIN_SWITCHES: usize = 3;

/// Whether the final per-point fractions are all within [`UNIFORM_TOL`] of 1/4.
#[must_use]
pub fn is_uniform(fractions: &[f64]) -> bool {
    fractions.iter().all(|v| (v - 0.25).abs() <= UNIFORM_TOL)
}

/// The period of the per-point mass series `m[k]` (logged every `log_every` steps):
/// the autocorrelation of each series over the second half of the log (lags up to a
/// quarter of the log), averaged over the points, and its highest peak after the first
/// negative value if above [`ACF_MIN_PEAK`]. Returns (period in steps, peak), NaNs if
/// none.
#[must_use]
pub fn mass_period(m: &[Vec<f64>], log_every: usize) -> (f64, f64) {
    let len = m.iter().map(Vec::len).min().unwrap_or(0);
    let half = len / 2;
    let acfs: Vec<Vec<f64>> = m
        .iter()
        .map(|v| stats::autocorrelation(&v[half..len], (len - half) / 2))
        .filter(|a| !a.is_empty())
        .collect();
    if acfs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let lags = acfs.iter().map(Vec::len).min().unwrap_or(0);
    let avg: Vec<f64> = (0..lags)
        .map(|l| acfs.iter().map(|a| a[l]).sum::<f64>() / acfs.len() as f64)
        .collect();
    stats::acf_peak(&avg, ACF_MIN_PEAK)
        .map_or((f64::NAN, f64::NAN), |(l, p)| (l * log_every as f64, p))
}

/// Whether a run with `switches` hops and period `period` (NaN: none) is a chase.
#[must_use]
pub fn is_chase(switches: usize, period: f64) -> bool {
    switches >= CHASE_MIN_SWITCHES && period.is_finite()
}

/// One run, summarised from its mass series.
#[derive(Debug, Clone, PartialEq)]
pub struct FourPointRun {
    /// Final fraction at each point.
    pub fractions: Vec<f64>,
    /// Converged to the uniform law at the end.
    pub uniform: bool,
    /// Hops of the dominant point.
    pub switches: usize,
    /// Period in steps (NaN: none).
    pub period: f64,
    /// Its autocorrelation peak.
    pub peak: f64,
}

impl FourPointRun {
    /// Summarises the per-point mass series `m` logged every `log_every` steps.
    #[must_use]
    pub fn new(m: &[Vec<f64>], log_every: usize) -> FourPointRun {
        let fractions: Vec<f64> = m.iter().map(|v| last_finite(v)).collect();
        let (period, peak) = mass_period(m, log_every);
        FourPointRun {
            uniform: is_uniform(&fractions),
            fractions,
            switches: dominant_switches(m),
            period,
            peak,
        }
    }
    /// Whether the run chases ([`is_chase`]).
    #[must_use]
    pub fn chase(&self) -> bool {
        is_chase(self.switches, self.period)
    }
}

/// The verdict on a setting of `n` seeds, `uniform` of them converged and `chase` of
/// them chasing, within `steps` training steps.
#[must_use]
pub fn verdict(n: usize, uniform: usize, chase: usize, steps: usize) -> String {
    if chase > 0 {
        format!("chase seen in {chase} of {n} seeds")
    } else if uniform == n {
        "converges; no chase".to_string()
    } else {
        format!("neither a chase nor convergence to π within {steps} steps")
    }
}

/// A setting's seeds.
struct FourPointSetting {
    runs: Vec<FourPointRun>,
}

impl FourPointSetting {
    fn count(&self, f: impl Fn(&FourPointRun) -> bool) -> usize {
        self.runs.iter().filter(|r| f(r)).count()
    }
    fn period(&self) -> MeanCi {
        let v: Vec<f64> = self.runs.iter().map(|r| r.period).collect();
        mean_ci(&v).within(Support::NON_NEGATIVE)
    }
    fn switches(&self) -> MeanCi {
        let v: Vec<f64> = self.runs.iter().map(|r| r.switches as f64).collect();
        mean_ci(&v).within(Support::NON_NEGATIVE)
    }
}

/// The points, in the order of the data set's modes.
const NAMES: [&str; 4] = ["(1, 0)", "(0, 1)", "(−1, 0)", "(0, −1)"];

/// The aggregation of a `four_points` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let mut t = Table::new([
        "setting",
        "seed_index",
        "seed",
        "lr",
        "steps",
        "status",
        "mass_0",
        "mass_1",
        "mass_2",
        "mass_3",
        "uniform_at_end",
        "dominant_switches",
        "period_steps",
        "acf_peak",
    ]);
    let mut settings = Vec::new();
    ctx.make_fig_dir()?;
    for s in 0..b.settings.len() {
        let mut runs = Vec::new();
        for r in ctx.runs_of(s) {
            let d = RunLog::load(r)?;
            let m: Vec<Vec<f64>> = (0..4).map(|k| d.col(&format!("mode_frac_{k}"))).collect();
            let run = FourPointRun::new(&m, r.config.log_every);
            let mut row = vec![
                ctx.label(s).to_string(),
                r.seed_index.to_string(),
                r.seed.to_string(),
                num(lr_of(&r.config.optimizer_g)),
                b.steps.to_string(),
                d.status.clone(),
            ];
            row.extend(run.fractions.iter().map(|v| num(*v)));
            row.extend([
                run.uniform.to_string(),
                run.switches.to_string(),
                num(run.period),
                num(run.peak),
            ]);
            t.push(row);
            if r.seed_index == 0 {
                let st = d.col("step");
                mass_figure(
                    &ctx.setting_stem(s, "mass"),
                    &format!("{}: mass per point (seed index 0)", ctx.label(s)),
                    "fraction of samples within 0.1 of the point",
                    (0..4)
                        .map(|k| Series {
                            label: NAMES[k].into(),
                            points: st.iter().copied().zip(m[k].iter().copied()).collect(),
                        })
                        .collect(),
                    &[0.25],
                )?;
            }
            runs.push(run);
        }
        settings.push(FourPointSetting { runs });
    }
    let mut srows = Vec::new();
    for (s, m) in settings.iter().enumerate() {
        srows.push(StatRow::new(ctx.label(s), "period_steps", m.period()));
        srows.push(StatRow::new(
            ctx.label(s),
            "dominant_switches",
            m.switches(),
        ));
    }
    let paths = render::write_tables(ctx, &t, &srows)?;
    render::data_line(report, ctx, &paths);
    writeln!(report, "Definitions: *converged to π* = every point holds 0.25 ± {UNIFORM_TOL} of the samples at the end; a point *dominates* a log step when it holds ≥ {DOMINANT} of the samples; *switches* = changes of the dominant point; *period* = lag of the highest peak (> {ACF_MIN_PEAK}) of the autocorrelation of the four per-point mass series (averaged) over the second half of training; a *chase* = ≥ {CHASE_MIN_SWITCHES} switches and a detected period.\n").ok();
    writeln!(report, "| setting | configuration | converged to π | chase detected | dominant-point switches | period (steps, mean ± CI over seeds with one) | seeds with a period | verdict |").ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let n = m.runs.len();
        let (uni, chase) = (m.count(|r| r.uniform), m.count(FourPointRun::chase));
        let np = m.count(|r| r.period.is_finite());
        writeln!(
            report,
            "| {} | {} | {uni}/{n} | {chase}/{n} | {} | {} | {np}/{n} | {} |",
            ctx.label(s),
            setting_desc(&ctx.r.configs[s]),
            m.switches().show(1),
            m.period().show(0),
            verdict(n, uni, chase, b.steps)
        )
        .ok();
    }
    writeln!(report).ok();
    render::setting_figures(ctx, report, "mass", "mass per point")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    /// A step just inside / outside a band edge, well above rounding.
    const EPS: f64 = 1e-6;

    #[test]
    fn uniform_means_every_point_within_the_band() {
        assert!(is_uniform(&[0.25; 4]));
        let edge = 0.25 + UNIFORM_TOL - EPS;
        assert!(is_uniform(&[edge, 0.25, 0.25, 0.25]));
        assert!(!is_uniform(&[0.25 + UNIFORM_TOL + EPS, 0.25, 0.25, 0.25]));
        assert!(!is_uniform(&[0.25, 0.25, 0.25 - UNIFORM_TOL - EPS, 0.25]));
        assert!(!is_uniform(&[f64::NAN, 0.25, 0.25, 0.25]));
    }

    /// The mass circling the four points with a period of `p` log steps: point k holds
    /// 0.7 during the k-th quarter of each period, the others 0.1.
    fn circling(len: usize, p: usize) -> Vec<Vec<f64>> {
        (0..4)
            .map(|k| {
                (0..len)
                    .map(|i| if (i % p) * 4 / p == k { 0.7 } else { 0.1 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_chase_has_hops_and_a_period() {
        // 200 log points, period 20 points = 200 steps at log_every 10.
        let m = circling(200, 20);
        let r = FourPointRun::new(&m, 10);
        assert!((r.period - 200.0).abs() < 1e-9, "period {}", r.period);
        assert!(r.peak > ACF_MIN_PEAK);
        assert_eq!(r.switches, 199 / 5, "one hop every 5 log points");
        assert!(r.chase() && !r.uniform);
        // Converged: all at 0.25 with a little noise, no hops, no period.
        let flat: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                (0..200)
                    .map(|i| 0.25 + 0.01 * ((i * 7 + k * 3) % 5) as f64 / 5.0)
                    .collect()
            })
            .collect();
        let r = FourPointRun::new(&flat, 10);
        assert!(r.uniform && r.switches == 0 && !r.chase());
    }

    #[test]
    fn the_chase_threshold_needs_both_hops_and_a_period() {
        assert!(is_chase(CHASE_MIN_SWITCHES, 100.0));
        assert!(!is_chase(CHASE_MIN_SWITCHES - 1, 100.0));
        assert!(!is_chase(50, f64::NAN));
    }

    #[test]
    fn a_period_is_found_only_where_the_averaged_autocorrelation_peaks() {
        // Each point's mass a sine of period 25 log points (phase-shifted per point).
        let m: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                (0..400)
                    .map(|i| 0.25 + 0.2 * (TAU * i as f64 / 25.0 + k as f64).sin())
                    .collect()
            })
            .collect();
        let (period, peak) = mass_period(&m, 4);
        assert!((period - 100.0).abs() <= 4.0, "period {period}");
        assert!(peak > 0.8);
        // One hop and no return (a trend in every series): no period.
        let step: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                (0..400)
                    .map(|i| if (i < 300) == (k == 0) { 0.7 } else { 0.1 })
                    .collect()
            })
            .collect();
        assert!(mass_period(&step, 4).0.is_nan());
        assert!(mass_period(&[], 4).0.is_nan());
    }

    #[test]
    fn the_verdict_prefers_a_chase_then_convergence() {
        assert_eq!(verdict(10, 10, 1, 2000), "chase seen in 1 of 10 seeds");
        assert_eq!(verdict(10, 10, 0, 2000), "converges; no chase");
        assert_eq!(
            verdict(10, 9, 0, 2000),
            "neither a chase nor convergence to π within 2000 steps"
        );
    }
}
