//! Classification of a simulated trajectory, with the Red Queen metrics: winding number,
//! period and amplitude growth rate.
//!
//! Winding is measured in the plane of the first generator and first discriminator
//! coordinates around the equilibrium c: the sum of the wrapped angle increments of
//! (x_g − c_g, x_d − c_d), divided by 2π (positive = counter-clockwise). The growth
//! rate over the second half of the run compares the peak distance of its first and
//! last turns (see [`growth`]), so that a spiral r_k ∝ ρᵏ has rate ln ρ and a closed
//! orbit rate 0.

use serde::Serialize;

use crate::dynamics::Trajectory;

/// A run whose final distance is below this fraction of the initial one has converged.
pub const CONVERGED_REL: f64 = 1e-3;
/// A run is stalled when its path length over the last [`STALL_WINDOW`] of the steps
/// is below this fraction of its distance to the equilibrium: it has stopped moving
/// without arriving (a saturated sigmoid far from the equilibrium).
pub const STALL_REL: f64 = 1e-4;
/// The final fraction of the run examined for stalling.
pub const STALL_WINDOW: f64 = 0.1;
/// A run still rotating in its second half (at least one turn there) is `cycling` when
/// its amplitude changes by less than this factor over the whole run
/// (|growth · steps| < ln 2), else converging or diverging by the sign of the growth.
/// A run that no longer rotates is converging or diverging if its distance changed by
/// more than this factor, and `undecided` otherwise: with less than a turn, the
/// distance still depends on the phase of an elliptical orbit, so more steps are needed.
pub const CYCLE_AMPLITUDE_FACTOR: f64 = 2.0;

/// The simulated class of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SimClass {
    /// Within [`CONVERGED_REL`] of the start distance from the equilibrium.
    Converged,
    /// Shrinking (amplitude down by more than [`CYCLE_AMPLITUDE_FACTOR`]) but not yet converged.
    Converging,
    /// Bounded and turning around the equilibrium at least once with nearly constant amplitude.
    Cycling,
    /// Not moving any more, away from the equilibrium (vanishing field).
    Stalled,
    /// Growing but still inside the bound.
    Diverging,
    /// Less than one turn in the second half and the distance within a factor
    /// [`CYCLE_AMPLITUDE_FACTOR`] of the start: the run is too short to tell.
    Undecided,
    /// Left the bound or the finite numbers.
    Diverged,
}

impl SimClass {
    /// The snake-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SimClass::Converged => "converged",
            SimClass::Converging => "converging",
            SimClass::Cycling => "cycling",
            SimClass::Stalled => "stalled",
            SimClass::Diverging => "diverging",
            SimClass::Undecided => "undecided",
            SimClass::Diverged => "diverged",
        }
    }
    /// All classes, in the order used for category codes in maps.
    pub const ALL: [SimClass; 7] = [
        SimClass::Converged,
        SimClass::Converging,
        SimClass::Cycling,
        SimClass::Stalled,
        SimClass::Diverging,
        SimClass::Diverged,
        SimClass::Undecided,
    ];
}

/// Red Queen metrics of a run.
#[derive(Debug, Clone, Serialize)]
pub struct TrajectoryMetrics {
    /// ‖x_0 − c‖.
    pub initial_distance: f64,
    /// ‖x_end − c‖.
    pub final_distance: f64,
    /// Turns around c in the (first G, first D) plane.
    pub winding: f64,
    /// Turns in the second half of the run.
    pub winding_late: f64,
    /// Steps per turn, when at least one full turn was made.
    pub period: Option<f64>,
    /// Amplitude growth per step over the second half (ln ρ for a spiral r_k ∝ ρᵏ).
    pub growth_rate: f64,
    /// Path length over the last [`STALL_WINDOW`] of the steps.
    pub recent_path: f64,
    /// The step at which the run diverged, if it did.
    pub diverged_step: Option<usize>,
    /// Steps taken.
    pub steps: usize,
    /// The class.
    pub class: SimClass,
}

/// Computes the metrics and class of `traj` around the equilibrium `center`, with the
/// generator's first coordinate at index 0 and the discriminator's at `split`.
#[must_use]
pub fn classify_trajectory(traj: &Trajectory, center: &[f64], split: usize) -> TrajectoryMetrics {
    let s = &traj.states;
    let dist = |x: &[f64]| {
        x.iter()
            .zip(center)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    };
    let d: Vec<f64> = s.iter().map(|x| dist(x)).collect();
    let steps = s.len() - 1;
    let (d0, dn) = (d[0], d[steps]);

    let half = steps / 2;
    let mut winding = 0.0;
    let mut winding_late = 0.0;
    for (k, w) in s.windows(2).enumerate() {
        let a0 = (w[0][split] - center[split]).atan2(w[0][0] - center[0]);
        let a1 = (w[1][split] - center[split]).atan2(w[1][0] - center[0]);
        let mut da = a1 - a0;
        if da > std::f64::consts::PI {
            da -= std::f64::consts::TAU;
        } else if da < -std::f64::consts::PI {
            da += std::f64::consts::TAU;
        }
        winding += da;
        if k >= half {
            winding_late += da;
        }
    }
    winding /= std::f64::consts::TAU;
    winding_late /= std::f64::consts::TAU;

    let growth_rate = growth(&d, half, winding_late);

    let window = ((steps as f64 * STALL_WINDOW).ceil() as usize)
        .max(1)
        .min(steps);
    let recent_path: f64 = s[steps - window..]
        .windows(2)
        .map(|w| {
            w[0].iter()
                .zip(&w[1])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        })
        .sum();

    let diverged_step = traj.stop.diverged_step();
    let class = if diverged_step.is_some() {
        SimClass::Diverged
    } else if dn <= CONVERGED_REL * d0 || dn == 0.0 {
        SimClass::Converged
    } else if steps > 0 && recent_path < STALL_REL * dn {
        SimClass::Stalled
    } else if winding_late.abs() >= 1.0 {
        if (growth_rate * steps as f64).abs() < CYCLE_AMPLITUDE_FACTOR.ln() {
            SimClass::Cycling
        } else if growth_rate < 0.0 {
            SimClass::Converging
        } else {
            SimClass::Diverging
        }
    } else if dn * CYCLE_AMPLITUDE_FACTOR <= d0 {
        SimClass::Converging
    } else if dn >= CYCLE_AMPLITUDE_FACTOR * d0 {
        SimClass::Diverging
    } else {
        SimClass::Undecided
    };
    TrajectoryMetrics {
        initial_distance: d0,
        final_distance: dn,
        winding,
        winding_late,
        period: (winding.abs() >= 1.0).then(|| steps as f64 / winding.abs()),
        growth_rate,
        recent_path,
        diverged_step,
        steps,
        class,
    }
}

/// The amplitude growth rate per step over the second half of the run (from `half`).
///
/// With at least two turns there, it compares the largest distance within the first
/// turn with the largest within the last: ln(A_last/A_first)/(k_last − k_first). On a
/// closed orbit whose distance to the centre varies along the orbit (Lotka–Volterra) this
/// is 0, where a regression over a fraction of a turn would not be; on a spiral
/// r_k ∝ ρᵏ it is ln ρ exactly. Otherwise it is the least-squares slope of ln d.
fn growth(d: &[f64], half: usize, winding_late: f64) -> f64 {
    let steps = d.len() - 1;
    let turn = ((steps - half) as f64 / winding_late.abs().max(1e-300)).round() as usize;
    if winding_late.abs() >= 2.0 && turn >= 1 {
        let argmax =
            |r: std::ops::Range<usize>| r.max_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap_or(half);
        let k1 = argmax(half..half + turn);
        let k2 = argmax(steps + 1 - turn..steps + 1);
        if k2 > k1 && d[k1] > 0.0 && d[k2] > 0.0 {
            return (d[k2] / d[k1]).ln() / (k2 - k1) as f64;
        }
    }
    let pts: Vec<(f64, f64)> = (half..=steps)
        .filter(|&k| d[k] > 0.0)
        .map(|k| (k as f64, d[k].ln()))
        .collect();
    slope(&pts)
}

/// Least-squares slope of y on x (0 for fewer than two points).
fn slope(p: &[(f64, f64)]) -> f64 {
    if p.len() < 2 {
        return 0.0;
    }
    let n = p.len() as f64;
    let mx = p.iter().map(|q| q.0).sum::<f64>() / n;
    let my = p.iter().map(|q| q.1).sum::<f64>() / n;
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    let sxy: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{Bound, RuleName, RuleSpec, Run};
    use crate::game::{Dirac, DiracLoss, Game};
    use crate::linalg::Vector;

    fn run(game: &dyn Game, spec: RuleSpec, steps: usize, x0: [f64; 2]) -> TrajectoryMetrics {
        let rule = spec.build().unwrap();
        let c = game.equilibrium().unwrap();
        let t = Run {
            game,
            rule: &rule,
            steps,
            bound: Bound::around(&c, 1e3),
        }
        .simulate(&Vector::from_vec(x0.to_vec()));
        classify_trajectory(&t, c.as_slice(), game.split())
    }

    #[test]
    fn growth_rate_matches_spectral_radius() {
        // WGAN simultaneous: r_k = r_0 (1 + h²)^{k/2} exactly, rate ln √(1 + h²).
        let g = Dirac::new(DiracLoss::Wgan);
        for &h in &[0.01, 0.05] {
            let m = run(
                &g,
                RuleSpec::new(RuleName::Simultaneous, h, h).unwrap(),
                2000,
                [1.0, 0.0],
            );
            assert!((m.growth_rate - 0.5 * (1.0 + h * h).ln()).abs() < 1e-12);
            // Angle per step atan(h): period 2π/atan(h).
            let period = std::f64::consts::TAU / h.atan();
            assert!(
                (m.period.unwrap() - period).abs() / period < 0.01,
                "{:?}",
                m.period
            );
        }
    }

    #[test]
    fn classes_of_known_runs() {
        let g = Dirac::default();
        // Alternating GD at small h: bounded rotation.
        let m = run(
            &g,
            RuleSpec::new(RuleName::Alternating, 0.1, 0.1).unwrap(),
            5000,
            [1.0, 1.0],
        );
        assert_eq!(m.class, SimClass::Cycling, "{m:?}");
        // R1 with h < γ/a²: converges.
        let r1 = Dirac {
            r1: 0.3,
            ..Dirac::default()
        };
        let m = run(
            &r1,
            RuleSpec::new(RuleName::Simultaneous, 0.2, 0.2).unwrap(),
            5000,
            [1.0, 1.0],
        );
        assert_eq!(m.class, SimClass::Converged);
        // Simultaneous at lr 1: spirals out into the saturated region θψ ≫ 0 and freezes
        // (the peer's (1, 1) cell: the same norm after 200 and 10 000 steps).
        let m = run(
            &g,
            RuleSpec::new(RuleName::Simultaneous, 1.0, 1.0).unwrap(),
            10_000,
            [1.0, 1.0],
        );
        assert_eq!(m.class, SimClass::Stalled, "{m:?}");
        // WGAN, large steps: diverged with the step recorded.
        let w = Dirac::new(DiracLoss::Wgan);
        let m = run(
            &w,
            RuleSpec::new(RuleName::Simultaneous, 1.0, 1.0).unwrap(),
            10_000,
            [1.0, 1.0],
        );
        assert_eq!(m.class, SimClass::Diverged);
        assert!(m.diverged_step.is_some());
    }
}
