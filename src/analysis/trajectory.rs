//! Classification of a simulated trajectory, with the Red Queen metrics: winding number,
//! period and amplitude growth rate, from the streaming statistics of
//! [`crate::dynamics::stats`] (the same accumulator for a recorded run and for a cell of
//! the batch engine).
//!
//! Winding is measured in the plane of the first generator and first discriminator
//! coordinates around the equilibrium c (positive = counter-clockwise). The growth rate
//! compares the peak distances of the first and last complete turns of the late half of
//! the run, so that a spiral r_k ∝ ρᵏ has rate ln ρ and a closed orbit rate 0.

use serde::Serialize;

use crate::dynamics::Trajectory;
pub use crate::dynamics::stats::STALL_WINDOW;
use crate::dynamics::stats::{LaneStats, RunStats, StatsPlan};
use crate::game::Game;
use crate::linalg::Vector;

/// A run whose final distance is below this fraction of the initial one has converged.
pub const CONVERGED_REL: f64 = 1e-3;
/// A run is stalled when its path length over the last [`STALL_WINDOW`] of the steps
/// is below this fraction of its distance to the equilibrium: it has stopped moving
/// without arriving (a saturated sigmoid far from the equilibrium).
pub const STALL_REL: f64 = 1e-4;
/// A run with two complete turns in its late half is `cycling` when its amplitude
/// changes by less than this factor over the whole run at the measured growth rate
/// (|growth · steps| < ln 2), else converging or diverging by the sign of the growth.
/// Without two turns the amplitude comes from the conserved quantity where the game has
/// one, or from the distances otherwise, and only a change beyond this factor decides
/// (see [`classify_run`]).
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
    /// Too short to tell: fewer than 1.5 turns in the late half, no conserved quantity
    /// that decides, and the distance within a factor [`CYCLE_AMPLITUDE_FACTOR`] of the
    /// start.
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
    /// Turns in the late half of the budget (0 if the run ended before it).
    pub winding_late: f64,
    /// Complete turns of the late half (the growth rate is measured from the peaks of
    /// one-turn windows when it has 1.5 turns).
    pub turns_late: usize,
    /// Steps per turn, when at least one full turn was made.
    pub period: Option<f64>,
    /// Amplitude growth per step (ln ρ for a spiral r_k ∝ ρᵏ): from the peak distances
    /// of the first and the last one-turn window of the late half when it has 1.5
    /// turns, else from the distances at the ends of the late half (or of the run, if it
    /// ended before the late half).
    pub growth_rate: f64,
    /// Path length over the last [`STALL_WINDOW`] of the steps.
    pub recent_path: f64,
    /// The relative drift (E_end − E₀)/E₀ of the game's conserved quantity above its
    /// value at the equilibrium, E = V(x) − V(c), where the game has one and the run did
    /// not diverge.
    pub energy_drift: Option<f64>,
    /// The step at which the run diverged, if it did.
    pub diverged_step: Option<usize>,
    /// Steps taken.
    pub steps: usize,
    /// The class.
    pub class: SimClass,
}

/// How a run ended, for [`classify_run`]: its streaming statistics and what the
/// statistics do not hold.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd<'a> {
    /// The statistics after the last state pushed.
    pub stats: &'a LaneStats,
    /// Their schedule (the step budget).
    pub plan: StatsPlan,
    /// The last step pushed (the number of steps taken).
    pub last: usize,
    /// d² at step 0.
    pub d2_0: f64,
    /// The step at which the run diverged, if it did.
    pub diverged_step: Option<usize>,
    /// E₀ and E_end, the conserved quantity above its equilibrium value at the start and
    /// at the end ([`energy_excess`]), where known.
    pub energy: Option<(f64, f64)>,
}

/// (V(x₀) − V(c), V(x_end) − V(c)) for a game with a conserved quantity V of its flow
/// (None where it has none, or V is undefined at one of the points).
#[must_use]
pub fn energy_excess(
    game: &dyn Game,
    x0: &[f64],
    x_end: &[f64],
    center: &[f64],
) -> Option<(f64, f64)> {
    let v = |x: &[f64]| {
        game.conserved(&Vector::from_column_slice(x))
            .map(|c| c.value)
    };
    let vc = v(center)?;
    Some((v(x0)? - vc, v(x_end)? - vc))
}

/// Classifies a run from its statistics (the one classification of redqueen: a recorded
/// run goes through [`classify_trajectory`], an engine cell through this directly).
///
/// In order: `diverged`; `converged` (final distance ≤ [`CONVERGED_REL`] × initial);
/// `stalled` (path over the stall window < [`STALL_REL`] × distance); with two
/// different one-turn windows in the late half (1.5 turns), `cycling` if the amplitude
/// changes by less than [`CYCLE_AMPLITUDE_FACTOR`] over the run at the growth rate
/// measured from their peaks (|growth·steps| < ln 2), else converging or diverging by
/// its sign. A run that turned at least once but has fewer late turns is not classed by
/// its distances, which swing with the phase on a non-circular orbit (a Lotka–Volterra
/// orbit): where the game conserves a quantity V of its flow, its excess E = V − V(c),
/// constant on the flow's closed orbits and ∝ amplitude² near c, gives the amplitude
/// ratio √(E_end/E₀) (its relative drift, [`TrajectoryMetrics::energy_drift`]), judged
/// with the same factor; where it does not, the class is `undecided` rather than a
/// guess unless its distance changed by more than the factor. A run that turned less
/// than once is converging or diverging if its distance changed by more than the
/// factor, else `undecided`.
#[must_use]
pub fn classify_run(end: &RunEnd<'_>) -> TrajectoryMetrics {
    let (l, plan, last) = (end.stats, end.plan, end.last);
    let (d0, dn) = (end.d2_0.sqrt(), l.d2.sqrt());
    let late = last > plan.half;
    let (winding, winding_late) = l.winding(&plan, last);
    let peaks =
        late && l.halves >= 3.0 && l.k_last > l.k_first && l.p_first > 0.0 && l.p_last > 0.0;
    let growth_rate = if peaks {
        (l.p_last.sqrt() / l.p_first.sqrt()).ln() / (l.k_last - l.k_first)
    } else if late && l.d2_h > 0.0 && dn > 0.0 {
        (dn / l.d2_h.sqrt()).ln() / (last - plan.half) as f64
    } else if last > 0 && d0 > 0.0 && dn > 0.0 {
        (dn / d0).ln() / last as f64
    } else {
        0.0
    };
    let energy = end.energy.filter(|(e0, e1)| {
        end.diverged_step.is_none() && *e0 > 0.0 && *e1 >= 0.0 && e1.is_finite()
    });
    let drift = energy.map(|(e0, e1)| (e1 - e0) / e0);
    let ln2 = CYCLE_AMPLITUDE_FACTOR.ln();
    let steps = last;
    let class = if end.diverged_step.is_some() {
        SimClass::Diverged
    } else if dn <= CONVERGED_REL * d0 || dn == 0.0 {
        SimClass::Converged
    } else if steps > 0 && l.path < STALL_REL * dn {
        SimClass::Stalled
    } else if peaks {
        if (growth_rate * steps as f64).abs() < ln2 {
            SimClass::Cycling
        } else if growth_rate < 0.0 {
            SimClass::Converging
        } else {
            SimClass::Diverging
        }
    } else if winding.abs() >= 1.0 {
        // Rotating, but too few turns to measure a rate: only a conserved quantity can
        // tell a closed orbit from a spiral, as an amplitude that does not depend on the
        // phase on the orbit.
        match energy {
            Some((e0, e1)) => {
                let ln_amplitude = 0.5 * (e1 / e0).ln();
                if ln_amplitude.abs() < ln2 {
                    SimClass::Cycling
                } else if ln_amplitude < 0.0 {
                    SimClass::Converging
                } else {
                    SimClass::Diverging
                }
            }
            // No conserved quantity: the distances decide only beyond the factor, as
            // for a run that turned less than once (a swing with the phase of a
            // non-circular orbit stays within it).
            None if dn * CYCLE_AMPLITUDE_FACTOR <= d0 => SimClass::Converging,
            None if dn >= CYCLE_AMPLITUDE_FACTOR * d0 => SimClass::Diverging,
            None => SimClass::Undecided,
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
        turns_late: if late { (l.halves / 2.0) as usize } else { 0 },
        period: (winding.abs() >= 1.0).then(|| steps as f64 / winding.abs()),
        growth_rate,
        recent_path: l.path,
        energy_drift: drift,
        diverged_step: end.diverged_step,
        steps,
        class,
    }
}

/// Computes the metrics and class of `traj` on `game` around the equilibrium `center`
/// (the winding plane is the game's first generator and first discriminator
/// coordinate), by pushing its states through the streaming statistics the batch engine
/// uses ([`crate::dynamics::stats`]).
#[must_use]
pub fn classify_trajectory(
    traj: &Trajectory,
    game: &dyn Game,
    center: &[f64],
) -> TrajectoryMetrics {
    let s = &traj.states;
    let mut st = RunStats::start(&s[0], center, game.split(), traj.budget);
    for x in &s[1..] {
        st.push(x);
    }
    let diverged_step = traj.stop.diverged_step();
    let energy = energy_excess(game, &s[0], &s[s.len() - 1], center);
    classify_run(&RunEnd {
        stats: &st.lane,
        plan: st.plan,
        last: st.last(),
        d2_0: st.d2_0(),
        diverged_step,
        energy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{Bound, RuleName, RuleSpec, Run};
    use crate::game::{Dirac, DiracLoss, Game, LotkaVolterra};

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
        classify_trajectory(&t, game, c.as_slice())
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

    #[test]
    fn closed_lotka_volterra_orbit_is_cycling_not_converging() {
        // Issue 9: the RK4 flow at η = 0.01 keeps V to 8 digits over 3000 steps, but the
        // late half holds fewer than two turns (period 2π/√(αγ) = 7.7, 770 steps), and
        // the distance swings with the phase of the non-circular orbit; the old
        // regression over the late half called it converging.
        let lv = LotkaVolterra {
            alpha: 2.0 / 3.0,
            beta: 4.0 / 3.0,
            gamma: 1.0,
            delta: 1.0,
        };
        let c = lv.equilibrium().unwrap();
        let x0 = [c[0] + 0.5, c[1] + 0.5];
        let flow = RuleSpec::new(RuleName::Flow, 0.01, 0.01).unwrap();
        let m = run(&lv, flow.clone(), 3000, x0);
        assert!(m.turns_late < 2, "{m:?}");
        assert!(m.energy_drift.unwrap().abs() < 1e-7, "{m:?}");
        assert_eq!(m.class, SimClass::Cycling, "{m:?}");
        // With 2000 steps the late half turns 1.3 times: no two one-turn windows, and
        // the conserved quantity alone says the orbit is closed (drift ~1e-8).
        let m = run(&lv, flow, 2000, x0);
        assert!(m.winding_late < 1.5 && m.winding > 1.0, "{m:?}");
        assert_eq!(m.class, SimClass::Cycling, "{m:?}");
        // Explicit Euler (simultaneous GD) on the same orbit spirals out: V drifts by
        // about 1e-2 (not a closed orbit), but its amplitude grows by far less than the
        // factor 2 over the run, which the classes call cycling over this horizon.
        let e = run(
            &lv,
            RuleSpec::new(RuleName::Simultaneous, 0.01, 0.01).unwrap(),
            2000,
            x0,
        );
        assert!(e.energy_drift.unwrap() > 1e-3, "{e:?}");
        // A game without a conserved quantity says undecided with as few late turns: the
        // Dirac-GAN with a weak R1 (γ = 0.01) turns twice in 600 steps.
        let r1 = Dirac {
            r1: 0.01,
            ..Dirac::default()
        };
        let m = run(
            &r1,
            RuleSpec::new(RuleName::Simultaneous, 0.05, 0.05).unwrap(),
            600,
            [1.0, 1.0],
        );
        assert!(
            m.winding.abs() >= 1.0 && m.winding_late < 1.5 && m.energy_drift.is_none(),
            "{m:?}"
        );
        assert!(
            m.final_distance * CYCLE_AMPLITUDE_FACTOR > m.initial_distance,
            "{m:?}"
        );
        assert_eq!(m.class, SimClass::Undecided, "{m:?}");
        // With R1 γ = 0.3 at η = 0.01 the map's ρ ≈ 0.9985: 2000 steps shrink the
        // distance far beyond the factor while the late half turns less than 1.5 times,
        // and the distances decide (converging), not "undecided".
        let r1 = Dirac {
            r1: 0.3,
            ..Dirac::default()
        };
        let m = run(
            &r1,
            RuleSpec::new(RuleName::Simultaneous, 0.01, 0.01).unwrap(),
            2000,
            [1.0, 1.0],
        );
        assert!(
            m.winding.abs() >= 1.0 && m.winding_late < 1.5 && m.energy_drift.is_none(),
            "{m:?}"
        );
        assert!(
            m.final_distance * CYCLE_AMPLITUDE_FACTOR <= m.initial_distance,
            "{m:?}"
        );
        assert_eq!(m.class, SimClass::Converging, "{m:?}");
    }
}
