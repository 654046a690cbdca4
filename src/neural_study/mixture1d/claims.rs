//! The seed document's claims about a 1-D mixture block ([`Claim`]), checked on the
//! final and early W1 of every seed. Each checker is a pure function of the per-setting
//! W1 columns returning its numbers and a verdict; [`render`] writes them to the report.
//!
//! Every comparison is paired over seeds (all settings share the seeds, so their W1
//! differences cancel the seed's own luck) and decided by whether the 95 % t-interval
//! of the paired difference excludes zero: the usual two-sided test at level 5 %.

use std::fmt::Write as _;

use super::super::Claim;
use super::super::render::Ctx;
use super::super::stats::{self, MeanCi, mean_ci};
use super::{MixRun, MixSetting};

/// One comparison "a beats b" (lower final W1 is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairVerdict {
    /// W1(a) − W1(b) < 0 with 95 % confidence.
    Holds,
    /// W1(a) − W1(b) > 0 with 95 % confidence.
    Reversed,
    /// The interval contains 0 (or is undefined: fewer than two seeds).
    NotResolved,
}

impl PairVerdict {
    /// The verdict on the paired difference `d` = W1(a) − W1(b).
    #[must_use]
    pub fn of(d: &MeanCi) -> PairVerdict {
        // NaN ends (fewer than two finite pairs) fail both tests: not resolved.
        if d.hi() < 0.0 {
            PairVerdict::Holds
        } else if d.lo() > 0.0 {
            PairVerdict::Reversed
        } else {
            PairVerdict::NotResolved
        }
    }
    fn word(self) -> &'static str {
        match self {
            PairVerdict::Holds => "holds",
            PairVerdict::Reversed => "reversed",
            PairVerdict::NotResolved => "not resolved",
        }
    }
}

/// The verdict on a whole ordering claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderingVerdict {
    /// Every consecutive comparison holds.
    Holds,
    /// At least one comparison is significantly reversed.
    DoesNotHold,
    /// No comparison is reversed, but at least one is within noise.
    NotSupported,
}

/// An ordering claim checked: each consecutive pair (setting indices, paired
/// difference of final W1, verdict), and the overall verdict.
#[derive(Debug, Clone)]
pub struct OrderingCheck {
    /// (better, worse, W1(better) − W1(worse), verdict) for each consecutive pair.
    pub pairs: Vec<(usize, usize, MeanCi, PairVerdict)>,
    /// The claim's verdict.
    pub verdict: OrderingVerdict,
}

/// Checks "the settings `order` (indices, best first) have increasing final W1"
/// on the per-setting, per-seed final W1 `w1f`.
#[must_use]
pub fn check_ordering(w1f: &[Vec<f64>], order: &[usize]) -> OrderingCheck {
    let pairs: Vec<(usize, usize, MeanCi, PairVerdict)> = order
        .windows(2)
        .map(|w| {
            let d = stats::paired_diff(&w1f[w[0]], &w1f[w[1]]);
            (w[0], w[1], d, PairVerdict::of(&d))
        })
        .collect();
    let verdict = if pairs.iter().all(|p| p.3 == PairVerdict::Holds) {
        OrderingVerdict::Holds
    } else if pairs.iter().any(|p| p.3 == PairVerdict::Reversed) {
        OrderingVerdict::DoesNotHold
    } else {
        OrderingVerdict::NotSupported
    };
    OrderingCheck { pairs, verdict }
}

/// Setting indices sorted by increasing `v` (best W1 first; ties keep index order).
#[must_use]
pub fn ranking(v: &[f64]) -> Vec<usize> {
    let mut i: Vec<usize> = (0..v.len()).collect();
    i.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
    i
}

/// The early-ranking claim checked: the settings ranked by mean W1 early and at the end.
#[derive(Debug, Clone)]
pub struct EarlyCheck {
    /// Settings ranked by mean early W1.
    pub early: Vec<usize>,
    /// Settings ranked by mean final W1.
    pub last: Vec<usize>,
    /// Spearman ρ between the settings' early and final mean W1.
    pub rho_settings: f64,
    /// Spearman ρ between early and final W1 over all runs.
    pub rho_runs: f64,
    /// max − min of the settings' mean W1, early and at the end.
    pub spread: (f64, f64),
}

impl EarlyCheck {
    /// The claim holds when the early ranking equals the final one.
    #[must_use]
    pub fn holds(&self) -> bool {
        self.early == self.last
    }
}

/// Checks "the ranking at the early fraction of training is the final ranking" from
/// the per-setting, per-seed early and final W1, and every run's (early, final) W1.
#[must_use]
pub fn check_early(w1e: &[Vec<f64>], w1f: &[Vec<f64>], runs: &[(f64, f64)]) -> EarlyCheck {
    let me: Vec<f64> = w1e.iter().map(|v| mean_ci(v).mean).collect();
    let mf: Vec<f64> = w1f.iter().map(|v| mean_ci(v).mean).collect();
    let (all_e, all_f): (Vec<f64>, Vec<f64>) = runs.iter().copied().unzip();
    let spread = |v: &[f64]| {
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - v.iter().copied().fold(f64::INFINITY, f64::min)
    };
    EarlyCheck {
        early: ranking(&me),
        last: ranking(&mf),
        rho_settings: stats::spearman(&me, &mf),
        rho_runs: stats::spearman(&all_e, &all_f),
        spread: (spread(&me), spread(&mf)),
    }
}

/// The verdict on "relative rates matter more than absolute ones".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelativeVerdict {
    /// Swapping the ratio moves W1 more than scaling both rates (95 %).
    Holds,
    /// Scaling both rates moves W1 more (95 %).
    DoesNotHold,
    /// Not distinguishable.
    NotResolved,
}

/// The relative-rates claim checked.
#[derive(Debug, Clone)]
pub struct RelativeCheck {
    /// W1(swap₀) − W1(swap₁), paired.
    pub swap: MeanCi,
    /// W1(scale₀) − W1(scale₁), paired.
    pub scale: MeanCi,
    /// |swap effect| − |scale effect| per seed, paired.
    pub excess: MeanCi,
    /// The verdict (from `excess`).
    pub verdict: RelativeVerdict,
}

/// Checks whether swapping the G/D ratio (`swap`, two setting indices) changes final
/// W1 more than scaling both rates at a fixed ratio (`scale`): per seed, the size of
/// each effect, |W1(a) − W1(b)|, and the paired interval of their difference.
#[must_use]
pub fn check_relative(w1f: &[Vec<f64>], swap: [usize; 2], scale: [usize; 2]) -> RelativeCheck {
    let effect = |[a, b]: [usize; 2]| -> Vec<f64> {
        w1f[a]
            .iter()
            .zip(&w1f[b])
            .map(|(x, y)| (x - y).abs())
            .collect()
    };
    let excess = stats::paired_diff(&effect(swap), &effect(scale));
    let verdict = if excess.lo() > 0.0 {
        RelativeVerdict::Holds
    } else if excess.hi() < 0.0 {
        RelativeVerdict::DoesNotHold
    } else {
        RelativeVerdict::NotResolved
    };
    RelativeCheck {
        swap: stats::paired_diff(&w1f[swap[0]], &w1f[swap[1]]),
        scale: stats::paired_diff(&w1f[scale[0]], &w1f[scale[1]]),
        excess,
        verdict,
    }
}

/// Checks the block's claims and writes them to the report.
pub(super) fn render(ctx: &Ctx<'_>, settings: &[MixSetting], runs: &[MixRun], report: &mut String) {
    let b = &ctx.r.block;
    if !b.claims.is_empty() {
        writeln!(report, "### Claims of the seed document\n").ok();
    }
    // `resolve` checked that every label names a setting.
    let idx = |l: &str| b.settings.iter().position(|s| s.label == l).unwrap_or(0);
    let w1f: Vec<Vec<f64>> = settings.iter().map(|s| s.w1_final.clone()).collect();
    let w1e: Vec<Vec<f64>> = settings.iter().map(|s| s.w1_early.clone()).collect();
    let early_pct = 100.0 * b.early_fraction;
    for c in &b.claims {
        match c {
            Claim::Ordering { text, order } => {
                writeln!(
                    report,
                    "**\"{text}\"** (final W1, lower is better; paired over seeds):\n"
                )
                .ok();
                let order: Vec<usize> = order.iter().map(|l| idx(l)).collect();
                let check = check_ordering(&w1f, &order);
                for (a, bb, d, v) in &check.pairs {
                    let (la, lb) = (ctx.label(*a), ctx.label(*bb));
                    writeln!(
                        report,
                        "- W1({la}) − W1({lb}) = {} → `{la}` {} `{lb}`: **{}** (the interval {} zero).",
                        d.show(3),
                        if *v == PairVerdict::Holds { "beats" } else { "vs" },
                        v.word(),
                        if *v == PairVerdict::NotResolved {
                            "contains"
                        } else {
                            "excludes"
                        }
                    )
                    .ok();
                }
                let all = match check.verdict {
                    OrderingVerdict::Holds => "**holds** in our runs",
                    OrderingVerdict::DoesNotHold => {
                        "**does not hold** in our runs (at least one comparison is significantly reversed)"
                    }
                    OrderingVerdict::NotSupported => {
                        "**is not supported** by our runs (at least one comparison is within noise)"
                    }
                };
                writeln!(report, "\nVerdict: the claim {all}.\n").ok();
            }
            Claim::Early { text } => {
                let pairs: Vec<(f64, f64)> =
                    runs.iter().map(|m| (m.w1_early, m.w1_final)).collect();
                let check = check_early(&w1e, &w1f, &pairs);
                let names = |v: &[usize]| {
                    v.iter()
                        .map(|k| ctx.label(*k))
                        .collect::<Vec<_>>()
                        .join(" < ")
                };
                writeln!(report, "**\"{text}\"**. Test: rank the settings by mean W1 at {early_pct:.0} % of training and at the end.\n").ok();
                writeln!(
                    report,
                    "- ranking at {early_pct:.0} %: {}",
                    names(&check.early)
                )
                .ok();
                writeln!(report, "- ranking at the end: {}", names(&check.last)).ok();
                writeln!(report, "- Spearman ρ between early and final mean W1 across settings: {:.2}; across all runs: {:.2}.", check.rho_settings, check.rho_runs).ok();
                writeln!(report, "- spread of the settings' mean W1 (max − min): {:.3} at {early_pct:.0} %, {:.3} at the end (a weaker reading of the claim: the settings already differ early).", check.spread.0, check.spread.1).ok();
                let same = check.holds();
                writeln!(report, "\nVerdict: the early ranking {} the final one, so the claim {} in our runs ({}).\n",
                    if same { "equals" } else { "differs from" },
                    if same { "**holds**" } else { "**does not hold** in this form" },
                    if same { "the settings separate by 10 % of training and keep their order" } else { "the order of the settings changes after the early phase" }).ok();
            }
            Claim::Relative { text, swap, scale } => {
                let check = check_relative(
                    &w1f,
                    [idx(&swap[0]), idx(&swap[1])],
                    [idx(&scale[0]), idx(&scale[1])],
                );
                writeln!(report, "**\"{text}\"**. Test: swapping the G/D ratio ({} vs {}) against scaling both rates at a fixed ratio ({} vs {}), final W1, paired over seeds.\n", swap[0], swap[1], scale[0], scale[1]).ok();
                writeln!(
                    report,
                    "- ratio swap: W1({}) − W1({}) = {}",
                    swap[0],
                    swap[1],
                    check.swap.show(3)
                )
                .ok();
                writeln!(
                    report,
                    "- scaling: W1({}) − W1({}) = {}",
                    scale[0],
                    scale[1],
                    check.scale.show(3)
                )
                .ok();
                writeln!(
                    report,
                    "- |swap effect| − |scale effect| per seed = {}",
                    check.excess.show(3)
                )
                .ok();
                let v = match check.verdict {
                    RelativeVerdict::Holds => {
                        "**holds**: swapping the ratio moves W1 more than scaling both rates"
                    }
                    RelativeVerdict::DoesNotHold => {
                        "**does not hold**: scaling both rates moves W1 more than swapping their ratio"
                    }
                    RelativeVerdict::NotResolved => {
                        "**is not resolved**: the two effects are not distinguishable at this number of seeds"
                    }
                };
                writeln!(report, "\nVerdict: the claim {v}.\n").ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five seeds of final W1 around `level`, with the same seed-to-seed wobble in
    /// every setting (common random numbers make the paired differences exact).
    fn seeds(level: f64) -> Vec<f64> {
        [0.0, 0.3, -0.2, 0.5, -0.4]
            .iter()
            .map(|e| level + e)
            .collect()
    }

    #[test]
    fn a_pair_holds_or_is_reversed_only_when_its_interval_excludes_zero() {
        // A constant paired difference has a zero-width interval.
        let a = seeds(1.0);
        let better = seeds(0.9);
        let d = stats::paired_diff(&better, &a);
        assert_eq!(PairVerdict::of(&d), PairVerdict::Holds);
        assert_eq!(
            PairVerdict::of(&stats::paired_diff(&a, &better)),
            PairVerdict::Reversed
        );
        // Differences −0.1 ± noise straddling zero: not resolved.
        let noisy: Vec<f64> = a
            .iter()
            .zip([-0.3, 0.2, -0.2, 0.25, -0.1])
            .map(|(x, e)| x + e)
            .collect();
        let d = stats::paired_diff(&noisy, &a);
        assert!(d.lo() < 0.0 && d.hi() > 0.0);
        assert_eq!(PairVerdict::of(&d), PairVerdict::NotResolved);
        // One seed: no interval, no verdict.
        assert_eq!(
            PairVerdict::of(&stats::paired_diff(&[0.1], &[0.9])),
            PairVerdict::NotResolved
        );
    }

    #[test]
    fn an_ordering_holds_fails_or_is_unsupported() {
        // Settings 0, 1, 2 with W1 levels 0.5, 1.0, 2.0.
        let w1f = vec![seeds(0.5), seeds(1.0), seeds(2.0)];
        let ok = check_ordering(&w1f, &[0, 1, 2]);
        assert_eq!(ok.verdict, OrderingVerdict::Holds);
        assert_eq!(ok.pairs.len(), 2);
        assert!((ok.pairs[0].2.mean + 0.5).abs() < 1e-12);
        // One pair reversed: does not hold.
        let rev = check_ordering(&w1f, &[0, 2, 1]);
        assert_eq!(rev.verdict, OrderingVerdict::DoesNotHold);
        assert_eq!(rev.pairs[1].3, PairVerdict::Reversed);
        // A tie within noise and no reversal: not supported.
        let tie: Vec<f64> = seeds(1.0)
            .iter()
            .zip([0.1, -0.1, 0.1, -0.1, 0.0])
            .map(|(x, e)| x + e)
            .collect();
        let w1f = vec![seeds(0.5), seeds(1.0), tie];
        let ns = check_ordering(&w1f, &[0, 1, 2]);
        assert_eq!(ns.pairs[0].3, PairVerdict::Holds);
        assert_eq!(ns.pairs[1].3, PairVerdict::NotResolved);
        assert_eq!(ns.verdict, OrderingVerdict::NotSupported);
    }

    #[test]
    fn the_early_claim_holds_only_when_the_rankings_agree() {
        let w1f = vec![seeds(0.5), seeds(1.0), seeds(2.0)];
        // Early W1 in the same order (higher levels): holds.
        let same = vec![seeds(1.5), seeds(2.0), seeds(3.0)];
        let c = check_early(&same, &w1f, &[]);
        assert!(c.holds());
        assert_eq!(c.early, vec![0, 1, 2]);
        assert!((c.rho_settings - 1.0).abs() < 1e-12);
        assert!((c.spread.0 - 1.5).abs() < 1e-12 && (c.spread.1 - 1.5).abs() < 1e-12);
        // Settings 1 and 2 swap places after the early phase: does not hold.
        let swapped = vec![seeds(1.5), seeds(3.0), seeds(2.0)];
        let c = check_early(&swapped, &w1f, &[]);
        assert!(!c.holds());
        assert_eq!(
            (c.early.clone(), c.last.clone()),
            (vec![0, 2, 1], vec![0, 1, 2])
        );
        // Ranking is by increasing W1 with ties in index order.
        assert_eq!(ranking(&[2.0, 1.0, 2.0, 0.5]), vec![3, 1, 0, 2]);
    }

    #[test]
    fn relative_rates_are_judged_by_the_paired_size_of_the_two_effects() {
        // Settings: 0, 1 = the ratio swapped; 2, 3 = both rates scaled.
        let big = vec![seeds(0.5), seeds(1.5), seeds(0.9), seeds(1.0)];
        let c = check_relative(&big, [0, 1], [2, 3]);
        // |swap| = 1.0 per seed, |scale| = 0.1: excess 0.9 exactly.
        assert!((c.excess.mean - 0.9).abs() < 1e-12);
        assert!((c.swap.mean + 1.0).abs() < 1e-12 && (c.scale.mean + 0.1).abs() < 1e-12);
        assert_eq!(c.verdict, RelativeVerdict::Holds);
        // The other way round: scaling matters more.
        let c = check_relative(&big, [2, 3], [0, 1]);
        assert_eq!(c.verdict, RelativeVerdict::DoesNotHold);
        // The sign of an effect does not matter, only its size: G/D swapped the other
        // way (W1 higher for the first) is the same effect.
        let flipped = vec![seeds(1.5), seeds(0.5), seeds(0.9), seeds(1.0)];
        assert_eq!(
            check_relative(&flipped, [0, 1], [2, 3]).verdict,
            RelativeVerdict::Holds
        );
        // Two nearly equal-sized effects with seed noise: the swap effect is larger on
        // average (excess 0.004 per seed) but not beyond noise, so not resolved.
        let jitter =
            |x: &[f64], e: [f64; 5]| -> Vec<f64> { x.iter().zip(e).map(|(a, b)| a + b).collect() };
        let eq = vec![
            seeds(0.5),
            jitter(&seeds(1.0), [0.1, -0.1, 0.05, -0.05, 0.02]),
            seeds(0.5),
            jitter(&seeds(1.0), [-0.1, 0.1, -0.05, 0.05, 0.0]),
        ];
        let c = check_relative(&eq, [0, 1], [2, 3]);
        assert!(c.excess.mean > 0.0, "{:?}", c.excess);
        assert!(c.excess.lo() < 0.0 && c.excess.hi() > 0.0, "{:?}", c.excess);
        assert_eq!(c.verdict, RelativeVerdict::NotResolved);
    }
}
