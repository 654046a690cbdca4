//! Streaming statistics of a run: everything the trajectory classification needs
//! ([`crate::analysis::classify_trajectory`]), updated state by state with no stored
//! trajectory and no second pass, so that the batch engine can keep one set per lane.
//!
//! One accumulator, [`LaneStats`], serves both the engine (one per lane, in vector
//! registers) and a recorded run ([`RunStats`] feeds it the states of a
//! [`super::Trajectory`]): the same `push` on the same numbers, so an engine cell and a
//! recorded run give identical metrics.
//!
//! # What is tracked
//! The run is measured around the equilibrium c in the plane of the first generator and
//! the first discriminator coordinate, p = (x_g − c_g, x_d − c_d), with d² = ‖x − c‖²
//! over every coordinate.
//! * **Winding** without an arctangent per step: the unwrapped angle is
//!   Θ = A(q) + 2πn, where A(q) = atan2(q_y + 0, q_x) ∈ (−π, π] and n counts the
//!   crossings of the branch cut (the negative q_x axis). A step from the closed upper
//!   half-plane U = {q_y ≥ 0} to the open lower one (or back) crosses the cut, rather
//!   than the positive axis, when it turns the short way through π: counter-clockwise
//!   (q_prev × q > 0) for U → L (n += 1), clockwise for L → U (n −= 1). So
//!   winding = (A(q_end) − A(q_0))/2π + n, with two arctangents per run instead of one
//!   per step (the old per-step sum of wrapped increments, to rounding).
//! * **The late half** starts at step h = ⌊budget/2⌋. There the frame turns so that
//!   q_h lies on the positive axis, q = (r·p, r × p) with r = p_h, and half turns are
//!   counted from it: with G = 2n + [q_y ≥ 0], G − 1 = ⌊Θ/π⌋ and G = ⌈Θ/π⌉ except on the
//!   axis itself, so a new maximum of G (from 1) completes a counter-clockwise half turn
//!   (Θ reaches mπ) and a new minimum (below 0) a clockwise one. Records cannot be made
//!   by jitter across an axis.
//! * **Per-turn peaks** for the growth rate: the largest d² within each half turn of the
//!   late half (the state at a record belongs to the half turn it completes); two
//!   consecutive half turns are one full turn, so every record from the second on closes
//!   a one-turn window whose peak is the larger of its two halves'. The peaks of the
//!   first and of the last window give the growth rate (see
//!   [`crate::analysis::classify_run`]); with three records (1.5 turns) they are two
//!   different windows.
//! * **Path length** over the last [`STALL_WINDOW`] of the budget (for `stalled`).
//!
//! A state that leaves the bound or the finite numbers ends the run; the engine pushes
//! the last finite state again instead ("substitution"), which changes nothing that is
//! read afterwards (see [`LaneStats::push_late`]).

use std::f64::consts::TAU;

/// The final fraction of the step budget whose path length decides `stalled`.
pub const STALL_WINDOW: f64 = 0.1;

/// The step schedule of the statistics for a budget: the first half (winding only), the
/// late half (turns and peaks) and the stall window at its end (path length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsPlan {
    /// The step budget.
    pub budget: usize,
    /// h = ⌊budget/2⌋: the late half is steps h + 1 ..= budget (measured from x_h).
    pub half: usize,
    /// The path length is summed over steps `path_from` ..= budget, the last
    /// ⌈[`STALL_WINDOW`]·budget⌉ steps (at least one; always inside the late half).
    pub path_from: usize,
}

/// Which accumulation a step gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Steps 1 ..= h: crossings only.
    First,
    /// Steps h + 1 .. path_from: crossings in the turned frame, turns and peaks.
    Late,
    /// Steps path_from ..= budget: as `Late`, plus the path length.
    LatePath,
}

impl StatsPlan {
    /// The plan of a run with `budget` steps.
    #[must_use]
    pub fn new(budget: usize) -> Self {
        let window = ((budget as f64 * STALL_WINDOW).ceil() as usize)
            .max(1)
            .min(budget.max(1));
        StatsPlan {
            budget,
            half: budget / 2,
            path_from: (budget + 1).saturating_sub(window).max(1),
        }
    }
    /// The phase of step k ≥ 1.
    #[must_use]
    pub fn phase(&self, k: usize) -> Phase {
        if k <= self.half {
            Phase::First
        } else if k < self.path_from {
            Phase::Late
        } else {
            Phase::LatePath
        }
    }
}

/// d² = Σᵢ (xᵢ − cᵢ)², in index order with one fused multiply-add per coordinate after
/// the first: s = (x₀ − c₀)², s = fma(xᵢ − cᵢ, xᵢ − cᵢ, s) (0 for no coordinates).
#[inline(always)]
#[must_use]
pub fn dist2(x: &[f64], c: &[f64]) -> f64 {
    let mut it = x.iter().zip(c).map(|(a, b)| a - b);
    let Some(d) = it.next() else {
        return 0.0;
    };
    let mut s = d * d;
    for d in it {
        s = d.mul_add(d, s);
    }
    s
}

/// The largest d² whose square root is at most `radius`, so that the runner's test
/// √d² > radius is exactly d² > threshold (the square root is correctly rounded and
/// monotone); +∞ for an infinite radius (no bound).
#[must_use]
pub fn bound_threshold(radius: f64) -> f64 {
    if !radius.is_finite() {
        return f64::INFINITY;
    }
    let mut t = (radius * radius).min(f64::MAX);
    while t > 0.0 && t.sqrt() > radius {
        t = f64::from_bits(t.to_bits() - 1);
    }
    while t < f64::MAX && f64::from_bits(t.to_bits() + 1).sqrt() <= radius {
        t = f64::from_bits(t.to_bits() + 1);
    }
    t
}

/// The angle A(q) = atan2(q_y + 0, q_x) ∈ (−π, π] (adding +0 turns −0 into +0, so that
/// the closed upper half-plane q_y ≥ 0 is exactly A ∈ [0, π]).
#[must_use]
pub fn plane_angle(q: [f64; 2]) -> f64 {
    (q[1] + 0.0).atan2(q[0])
}

/// The streaming statistics of one run (one lane of the engine). Every field is an
/// `f64` so that a lane's statistics are vector registers; counts are exact integers in
/// f64.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LaneStats {
    /// The previous plane point in the current frame.
    pub qx: f64,
    /// Its second coordinate.
    pub qy: f64,
    /// d² of the last state pushed.
    pub d2: f64,
    /// 1 if the previous plane point is in the closed upper half-plane q_y ≥ 0, else 0.
    pub up: f64,
    /// Net crossings of the branch cut in the current frame.
    pub n: f64,
    /// A(p₀), the start's angle (first-half frame).
    pub a0: f64,
    /// Turns of the first half, (A(p_h) − A(p₀))/2π + n (set at the frame switch).
    pub w_first: f64,
    /// The late frame r = p_h.
    pub r0: f64,
    /// Its second coordinate.
    pub r1: f64,
    /// d² at step h.
    pub d2_h: f64,
    /// Largest G = 2n + [q_y ≥ 0] so far (late half).
    pub g_max: f64,
    /// Smallest G so far.
    pub g_min: f64,
    /// Largest d² of the half turn in progress (−1: empty).
    pub p_cur: f64,
    /// Its step.
    pub k_cur: f64,
    /// Largest d² of the last complete half turn.
    pub p_half: f64,
    /// Its step.
    pub k_half: f64,
    /// Peak d² of the first one-turn window of the late half.
    pub p_first: f64,
    /// Its step.
    pub k_first: f64,
    /// Peak d² of the last one-turn window.
    pub p_last: f64,
    /// Its step.
    pub k_last: f64,
    /// Half turns completed in the late half (records of G).
    pub halves: f64,
    /// Path length over the stall window.
    pub path: f64,
}

/// (q_prev → q) crossing of the branch cut: +1, −1 or 0 (see the module docs), with
/// `up_prev` = [q_prev,y ≥ 0] and `up` = [q_y ≥ 0].
#[inline(always)]
fn crossing(qx: f64, qy: f64, up_prev: f64, q: [f64; 2], up: f64) -> f64 {
    let du = up_prev - up;
    let cross = qx.mul_add(q[1], -(qy * q[0]));
    if du * cross > 0.0 { du } else { 0.0 }
}

/// [q_y ≥ 0] as 1 or 0.
#[inline(always)]
fn upper(qy: f64) -> f64 {
    if qy >= 0.0 { 1.0 } else { 0.0 }
}

impl LaneStats {
    /// The statistics after step 0: p₀ = x₀ − c in the plane, d₀² over every coordinate.
    #[must_use]
    pub fn start(p0: [f64; 2], d2_0: f64) -> Self {
        LaneStats {
            qx: p0[0],
            qy: p0[1],
            up: upper(p0[1]),
            d2: d2_0,
            a0: plane_angle(p0),
            p_cur: -1.0,
            ..LaneStats::default()
        }
    }

    /// Pushes a state of the first half: `p` its plane point, `d2` its d²; `ok` false
    /// pushes the previous state again (the run ends at this step), which changes nothing.
    #[inline(always)]
    pub fn push_first(&mut self, p: [f64; 2], d2: f64, ok: bool) {
        // Element-wise selects (a select of arrays becomes one of addresses, which does
        // not vectorise in the engine).
        let q = [
            if ok { p[0] } else { self.qx },
            if ok { p[1] } else { self.qy },
        ];
        let up = upper(q[1]);
        self.n += crossing(self.qx, self.qy, self.up, q, up);
        self.qx = q[0];
        self.qy = q[1];
        self.up = up;
        self.d2 = if ok { d2 } else { self.d2 };
    }

    /// Turns the frame after step h, before step h + 1 is pushed: the first half's winding is fixed,
    /// and the late half counts from q_h = (|p_h|², 0) (exactly on the positive axis, so
    /// the first record needs a full turn).
    pub fn begin_late(&mut self, k_h: f64) {
        let p = [self.qx, self.qy];
        self.w_first = (plane_angle(p) - self.a0) / TAU + self.n;
        self.r0 = p[0];
        self.r1 = p[1];
        self.qx = p[0] * p[0] + p[1] * p[1];
        self.qy = 0.0;
        self.up = 1.0;
        self.n = 0.0;
        self.g_max = 1.0;
        self.g_min = 0.0;
        self.d2_h = self.d2;
        self.p_cur = self.d2;
        self.k_cur = k_h;
        self.halves = 0.0;
    }

    /// Pushes a state of the late half at step `k`; with `PATH`, `step_len` = ‖x_k −
    /// x_{k−1}‖ is added to the path. With `ok` false the previous state is pushed again,
    /// which changes no field: no crossing (q × q = 0), no record, no turn, no peak, no
    /// path.
    #[inline(always)]
    pub fn push_late<const PATH: bool>(
        &mut self,
        k: f64,
        p: [f64; 2],
        d2: f64,
        ok: bool,
        step_len: f64,
    ) {
        let rotated = [
            self.r0.mul_add(p[0], self.r1 * p[1]),
            self.r0.mul_add(p[1], -(self.r1 * p[0])),
        ];
        let q = [
            if ok { rotated[0] } else { self.qx },
            if ok { rotated[1] } else { self.qy },
        ];
        let d2 = if ok { d2 } else { self.d2 };
        let up = upper(q[1]);
        self.n += crossing(self.qx, self.qy, self.up, q, up);
        let g = 2.0 * self.n + up;
        let done = g > self.g_max || g < self.g_min;
        self.g_max = if g > self.g_max { g } else { self.g_max };
        self.g_min = if g < self.g_min { g } else { self.g_min };
        let better = ok && d2 > self.p_cur;
        self.p_cur = if better { d2 } else { self.p_cur };
        self.k_cur = if better { k } else { self.k_cur };
        // A record closes the half turn in progress; from the second record on it also
        // closes a one-turn window (this half and the previous one).
        let later = self.p_cur > self.p_half;
        let p_win = if later { self.p_cur } else { self.p_half };
        let k_win = if later { self.k_cur } else { self.k_half };
        let window = done && self.halves >= 1.0;
        let first = window && self.halves == 1.0;
        self.p_first = if first { p_win } else { self.p_first };
        self.k_first = if first { k_win } else { self.k_first };
        self.p_last = if window { p_win } else { self.p_last };
        self.k_last = if window { k_win } else { self.k_last };
        self.p_half = if done { self.p_cur } else { self.p_half };
        self.k_half = if done { self.k_cur } else { self.k_half };
        self.halves += if done { 1.0 } else { 0.0 };
        self.p_cur = if done { -1.0 } else { self.p_cur };
        if PATH {
            self.path += if ok { step_len } else { 0.0 };
        }
        self.qx = q[0];
        self.qy = q[1];
        self.up = up;
        self.d2 = d2;
    }

    /// Winding over the whole run and over the late half, in turns, after the last
    /// pushed step `last` of a run whose plan is `plan`.
    #[must_use]
    pub fn winding(&self, plan: &StatsPlan, last: usize) -> (f64, f64) {
        let q = [self.qx, self.qy];
        if last > plan.half {
            let late = plane_angle(q) / TAU + self.n;
            (self.w_first + late, late)
        } else {
            ((plane_angle(q) - self.a0) / TAU + self.n, 0.0)
        }
    }
}

/// The scalar driver of [`LaneStats`]: feeds it the states of a run one by one, in the
/// order and with the phases the engine uses.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// The schedule.
    pub plan: StatsPlan,
    /// The accumulator.
    pub lane: LaneStats,
    center: Vec<f64>,
    split: usize,
    prev: Vec<f64>,
    last: usize,
    d2_0: f64,
}

impl RunStats {
    /// Starts from x₀ around `center`, with the winding plane (0, `split`), for a run of
    /// `budget` steps.
    #[must_use]
    pub fn start(x0: &[f64], center: &[f64], split: usize, budget: usize) -> Self {
        let plan = StatsPlan::new(budget);
        let d2_0 = dist2(x0, center);
        let lane = LaneStats::start(plane(x0, center, split), d2_0);
        RunStats {
            plan,
            lane,
            center: center.to_vec(),
            split,
            prev: x0.to_vec(),
            last: 0,
            d2_0,
        }
    }

    /// Pushes the state of the next step (k = last + 1). The frame turns just before the
    /// first late step (so a run that ends at step h never turns it).
    pub fn push(&mut self, x: &[f64]) {
        let k = self.last + 1;
        if k == self.plan.half + 1 {
            self.lane.begin_late(self.plan.half as f64);
        }
        let p = plane(x, &self.center, self.split);
        let d2 = dist2(x, &self.center);
        match self.plan.phase(k) {
            Phase::First => self.lane.push_first(p, d2, true),
            Phase::Late => self.lane.push_late::<false>(k as f64, p, d2, true, 0.0),
            Phase::LatePath => {
                let len = dist2(x, &self.prev).sqrt();
                self.lane.push_late::<true>(k as f64, p, d2, true, len);
            }
        }
        self.prev.copy_from_slice(x);
        self.last = k;
    }

    /// The last step pushed.
    #[must_use]
    pub fn last(&self) -> usize {
        self.last
    }

    /// d² at step 0.
    #[must_use]
    pub fn d2_0(&self) -> f64 {
        self.d2_0
    }
}

/// The winding-plane point p = (x_0 − c_0, x_split − c_split).
#[inline(always)]
#[must_use]
pub fn plane(x: &[f64], c: &[f64], split: usize) -> [f64; 2] {
    [x[0] - c[0], x[split] - c[split]]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Winding of a sampled circle against the exact turn count.
    const WINDING_TOL: f64 = 1e-12;

    fn circle(turns: f64, steps: usize, r: impl Fn(usize) -> f64) -> Vec<Vec<f64>> {
        (0..=steps)
            .map(|k| {
                let a = 0.3 + TAU * turns * k as f64 / steps as f64;
                vec![r(k) * a.cos(), r(k) * a.sin()]
            })
            .collect()
    }

    fn feed(states: &[Vec<f64>]) -> RunStats {
        let mut s = RunStats::start(&states[0], &[0.0, 0.0], 1, states.len() - 1);
        for x in &states[1..] {
            s.push(x);
        }
        s
    }

    #[test]
    fn winding_counts_turns_both_ways_and_late_half() {
        for &turns in &[3.25, -2.5, 0.4, 7.1] {
            let st = feed(&circle(turns, 1000, |_| 1.0));
            let (w, late) = st.lane.winding(&st.plan, st.last());
            assert!((w - turns).abs() < WINDING_TOL, "{turns}: {w}");
            assert!((late - turns / 2.0).abs() < WINDING_TOL, "{turns}: {late}");
            // Complete late half turns: ⌊|turns|⌋ (late winding is turns/2).
            assert_eq!(st.lane.halves, turns.abs().floor(), "{turns}");
        }
    }

    #[test]
    fn peaks_of_a_growing_spiral_are_turn_ends() {
        // r_k = 1.001^k over 6.3 turns: the last peak over the first is 1.001^Δk, and
        // each peak is the last state of its window.
        let st = feed(&circle(6.3, 1200, |k| 1.001f64.powi(k as i32)));
        let l = st.lane;
        assert_eq!(l.halves, 6.0);
        let rate = (l.p_last.sqrt() / l.p_first.sqrt()).ln() / (l.k_last - l.k_first);
        assert!((rate - 1.001f64.ln()).abs() < 1e-12, "{rate}");
        // 1200/6.3 = 190.5 steps per turn, 95.2 per half turn, from step 600.
        assert_eq!((l.k_first, l.k_last), (791.0, 1172.0));
        // A closed non-circular orbit: every window holds the orbit's largest distance.
        let ellipse = |k: usize| {
            let a = TAU * 4.0 * k as f64 / 1000.0;
            vec![3.0 * a.cos(), a.sin()]
        };
        let st = feed(&(0..=1000).map(ellipse).collect::<Vec<_>>());
        assert_eq!(st.lane.p_first, st.lane.p_last);
    }

    #[test]
    fn jitter_across_the_cut_makes_no_turn() {
        // A point hopping back and forth across the negative axis.
        let mut states = vec![vec![-1.0, 0.1]];
        for k in 0..100 {
            states.push(vec![-1.0, if k % 2 == 0 { -0.1 } else { 0.1 }]);
        }
        let st = feed(&states);
        assert_eq!(st.lane.halves, 0.0);
        let (w, _) = st.lane.winding(&st.plan, st.last());
        assert!(w.abs() < 0.1, "{w}");
    }

    #[test]
    fn threshold_is_exact() {
        for r in [1e3, 1.0, 0.1, 3.7e-5, 1e200, 2.0f64.sqrt()] {
            let t = bound_threshold(r);
            assert!(t.sqrt() <= r);
            let next = f64::from_bits(t.to_bits() + 1);
            assert!(next.sqrt() > r || t == f64::MAX, "{r}");
        }
        assert_eq!(bound_threshold(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn plan_phases() {
        let p = StatsPlan::new(2000);
        assert_eq!((p.half, p.path_from), (1000, 1801));
        assert_eq!(p.phase(1000), Phase::First);
        assert_eq!(p.phase(1001), Phase::Late);
        assert_eq!(p.phase(1801), Phase::LatePath);
        let one = StatsPlan::new(1);
        assert_eq!((one.half, one.path_from), (0, 1));
        assert_eq!(one.phase(1), Phase::LatePath);
    }
}
