//! The vector path of the engine: a block of [`LANES`] two-coordinate trajectories in
//! structure-of-arrays form, stepped by passes whose innermost loop runs over the lanes
//! (so that LLVM vectorises it), with the streaming statistics updated in a pass of
//! their own after every step. Nothing is allocated per step.
//!
//! Each pass is the scalar arithmetic of one lane, the same functions the reference
//! runner calls: the game's [`Field2`] kernel, the optimisers of [`super::opt`] (the
//! arithmetic of [`crate::optim::Chain`]), the step of [`crate::dynamics::Rule::step`]
//! for the scheme, and [`LaneStats`]'s pushes.

use super::opt::{Coeffs, LaneOpt};
use crate::dynamics::stats::{LaneStats, Phase, StatsPlan, dist2};
use crate::dynamics::{Order, Scheme, Stop};
use crate::game::Field2;
use crate::linalg::all_finite;
use crate::optim::FLUSH_EVERY;
use crate::simd::SimdPath;

/// Trajectories per block. Large enough that the long dependency chain of one step
/// (exponential, division) of one vector overlaps with those of the others; small
/// enough that a block's state (about 30 arrays) stays in the L1 cache.
pub const LANES: usize = 64;

macro_rules! stats_soa {
    ($($f:ident),*) => {
        /// [`LaneStats`] of every lane of a block, field by field.
        #[derive(Clone)]
        pub(super) struct StatsSoa {
            $($f: [f64; LANES],)*
        }
        impl StatsSoa {
            fn new() -> Self {
                StatsSoa { $($f: [0.0; LANES],)* }
            }
            #[inline(always)]
            fn get(&self, l: usize) -> LaneStats {
                LaneStats { $($f: self.$f[l],)* }
            }
            #[inline(always)]
            fn set(&mut self, l: usize, s: &LaneStats) {
                $(self.$f[l] = s.$f;)*
            }
        }
    };
}

stats_soa!(
    qx, qy, up, d2, n, a0, w_first, r0, r1, d2_h, g_max, g_min, p_cur, k_cur, p_half, k_half,
    p_first, k_first, p_last, k_last, halves, path
);

/// The state of a block of lanes.
#[derive(Clone)]
pub(super) struct Block {
    /// x[coordinate][lane].
    pub x: [[f64; LANES]; 2],
    /// Learning rates [generator, discriminator][lane].
    pub lr: [[f64; LANES]; 2],
    /// Optimiser slots [player][slot][lane].
    pub s: [[[f64; LANES]; 2]; 2],
    /// The previous state, for the path length of the stall window.
    pub xp: [[f64; LANES]; 2],
    /// 1 while the lane runs, 0 once it has ended (an ended lane is parked at the centre
    /// with empty slots, a fixed point of the game, so it never flags `bad` again unless
    /// the centre is not an equilibrium; the driver ignores it then).
    pub alive: [f64; LANES],
    /// 1 for a lane that left the bound or the finite numbers at this step.
    pub bad: [f64; LANES],
    pub stats: StatsSoa,
}

/// How one lane ended.
#[derive(Debug, Clone)]
pub(super) struct LaneEnd {
    pub stats: LaneStats,
    pub last: usize,
    pub stop: Stop,
    pub x_end: [f64; 2],
}

impl Block {
    /// A block whose lanes start at `x0[l]` with learning rates `lr[l]`; lanes beyond
    /// `x0.len()` repeat lane 0 (padding: their results are dropped).
    pub fn new(x0: &[[f64; 2]], lr: &[[f64; 2]], c: [f64; 2]) -> Box<Self> {
        let mut b = Box::new(Block {
            x: [[0.0; LANES]; 2],
            lr: [[0.0; LANES]; 2],
            s: [[[0.0; LANES]; 2]; 2],
            xp: [[0.0; LANES]; 2],
            alive: [1.0; LANES],
            bad: [0.0; LANES],
            stats: StatsSoa::new(),
        });
        for l in 0..LANES {
            let src = if l < x0.len() { l } else { 0 };
            for i in 0..2 {
                b.x[i][l] = x0[src][i];
                b.lr[i][l] = lr[src][i];
            }
            let p = [x0[src][0] - c[0], x0[src][1] - c[1]];
            let st = LaneStats::start(p, dist2(&x0[src], &c));
            b.stats.set(l, &st);
        }
        b
    }
}

/// One simultaneous step of every lane: v = v(x), x_p ← x_p + Δ_p(v_p), projection.
#[inline(always)]
fn pass_simultaneous<F: Field2, O: LaneOpt>(f: &F, o: &[O; 2], c: &[Coeffs; 2], b: &mut Block) {
    for l in 0..LANES {
        let x = [b.x[0][l], b.x[1][l]];
        let v = f.field2(x);
        let mut y = x;
        for p in 0..2 {
            let mut s = [b.s[p][0][l], b.s[p][1][l]];
            y[p] = x[p] + o[p].step(v[p], &mut s, &c[p], b.lr[p][l]);
            store_slots::<O>(b, p, l, s);
        }
        let y = f.project2(y);
        b.x[0][l] = y[0];
        b.x[1][l] = y[1];
    }
}

/// Writes back a player's slots (only as many as the optimiser has).
#[inline(always)]
fn store_slots<O: LaneOpt>(b: &mut Block, p: usize, l: usize, s: [f64; 2]) {
    if O::SLOTS > 0 {
        b.s[p][0][l] = s[0];
    }
    if O::SLOTS > 1 {
        b.s[p][1][l] = s[1];
    }
}

/// One update of player `P` (0 generator, 1 discriminator) in every lane.
#[inline(always)]
fn pass_player<F: Field2, O: LaneOpt, const P: usize>(f: &F, o: &O, c: &Coeffs, b: &mut Block) {
    for l in 0..LANES {
        let x = [b.x[0][l], b.x[1][l]];
        let v = f.field2(x);
        let mut s = [b.s[P][0][l], b.s[P][1][l]];
        let mut y = x;
        y[P] = x[P] + o.step(v[P], &mut s, c, b.lr[P][l]);
        store_slots::<O>(b, P, l, s);
        let y = f.project2(y);
        b.x[0][l] = y[0];
        b.x[1][l] = y[1];
    }
}

/// One extragradient step: the look-ahead from a copy of the slots, then the step with
/// the field at the look-ahead point.
#[inline(always)]
fn pass_extragradient<F: Field2, O: LaneOpt>(f: &F, o: &[O; 2], c: &[Coeffs; 2], b: &mut Block) {
    for l in 0..LANES {
        let x = [b.x[0][l], b.x[1][l]];
        let v = f.field2(x);
        let mut half = x;
        for p in 0..2 {
            let mut look = [b.s[p][0][l], b.s[p][1][l]];
            half[p] = x[p] + o[p].step(v[p], &mut look, &c[p], b.lr[p][l]);
        }
        let half = f.project2(half);
        let vh = f.field2(half);
        let mut y = x;
        for p in 0..2 {
            let mut s = [b.s[p][0][l], b.s[p][1][l]];
            y[p] = x[p] + o[p].step(vh[p], &mut s, &c[p], b.lr[p][l]);
            store_slots::<O>(b, p, l, s);
        }
        let y = f.project2(y);
        b.x[0][l] = y[0];
        b.x[1][l] = y[1];
    }
}

/// One RK4 step of ẋ = H v(x) (plain steps: H = diag(lr_G, lr_D)), with the
/// arithmetic of [`crate::dynamics::Rule::step`]'s vector expressions.
#[inline(always)]
fn pass_flow<F: Field2>(f: &F, b: &mut Block) {
    for l in 0..LANES {
        let x = [b.x[0][l], b.x[1][l]];
        let h = [b.lr[0][l], b.lr[1][l]];
        let scaled = |y: [f64; 2]| {
            let v = f.field2(y);
            [v[0] * h[0], v[1] * h[1]]
        };
        let k1 = scaled(x);
        let k2 = scaled([x[0] + k1[0] * 0.5, x[1] + k1[1] * 0.5]);
        let k3 = scaled([x[0] + k2[0] * 0.5, x[1] + k2[1] * 0.5]);
        let k4 = scaled([x[0] + k3[0], x[1] + k3[1]]);
        let mut y = x;
        for i in 0..2 {
            y[i] = x[i] + (k1[i] + k2[i] * 2.0 + k3[i] * 2.0 + k4[i]) / 6.0;
        }
        let y = f.project2(y);
        b.x[0][l] = y[0];
        b.x[1][l] = y[1];
    }
}

/// Sets a player's subnormal slots to zero, as [`crate::optim::Chain::update`] does
/// after every [`FLUSH_EVERY`]-th update.
fn flush<O: LaneOpt>(b: &mut Block, p: usize, t: u64) {
    if O::SLOTS == 0 || !t.is_multiple_of(FLUSH_EVERY) {
        return;
    }
    for slot in 0..O::SLOTS {
        for v in &mut b.s[p][slot] {
            if v.abs() < f64::MIN_POSITIVE {
                *v = 0.0;
            }
        }
    }
}

/// The statistics of step `k` in every lane (phase `PH`: 0 first half, 1 late, 2 late
/// with the path). A lane whose state left the bound (d² > `thr`) or the finite numbers
/// pushes its previous state again and is flagged in `bad`; returns whether any was.
/// With a finite bound, d² ≤ thr already implies finite coordinates; `UNBOUNDED`
/// (thr = ∞) tests them (x·0 is ±0 for finite x, NaN otherwise).
#[inline(always)]
fn pass_stats<const PH: u8, const UNBOUNDED: bool>(
    b: &mut Block,
    c: [f64; 2],
    thr: f64,
    k: f64,
) -> bool {
    for l in 0..LANES {
        let x = [b.x[0][l], b.x[1][l]];
        let p = [x[0] - c[0], x[1] - c[1]];
        let d2 = dist2(&x, &c);
        let ok = if UNBOUNDED {
            x[0] * 0.0 + x[1] * 0.0 == 0.0
        } else {
            d2 <= thr
        };
        b.bad[l] = if ok { 0.0 } else { 1.0 };
        let mut s = b.stats.get(l);
        match PH {
            0 => s.push_first(p, d2, ok),
            1 => s.push_late::<false>(k, p, d2, ok, 0.0),
            _ => {
                let xp = [b.xp[0][l], b.xp[1][l]];
                // Element-wise selects: a select of whole arrays becomes a select of
                // addresses, which does not vectorise.
                let xs = [if ok { x[0] } else { xp[0] }, if ok { x[1] } else { xp[1] }];
                let len = dist2(&xs, &xp).sqrt();
                s.push_late::<true>(k, p, d2, ok, len);
                b.xp[0][l] = xs[0];
                b.xp[1][l] = xs[1];
            }
        }
        b.stats.set(l, &s);
    }
    // A separate integer or-reduction (the flag as bits) vectorises; one inside the
    // loop above kept it from vectorising.
    let mut any = 0u64;
    for l in 0..LANES {
        any |= b.bad[l].to_bits();
    }
    any != 0
}

/// Parks an ended lane at the centre with zero optimiser state.
fn park(b: &mut Block, l: usize, c: [f64; 2]) {
    for (i, &ci) in c.iter().enumerate() {
        b.x[i][l] = ci;
        b.xp[i][l] = ci;
        for slot in 0..2 {
            b.s[i][slot][l] = 0.0;
        }
    }
}

/// What the block driver needs besides the block.
pub(super) struct Setup {
    pub plan: StatsPlan,
    pub center: [f64; 2],
    pub threshold: f64,
    /// Record every state (for portraits).
    pub record: bool,
}

/// [`run_block`] compiled for `path` (the portable copy where the CPU lacks the path,
/// [`SimdPath::run`]): the whole block loop is inlined into a function compiled with the
/// path's target features, so the lane loops vectorise to its width and `mul_add` is
/// one instruction.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_block_on<F: Field2, O: LaneOpt>(
    path: SimdPath,
    f: &F,
    o: &[O; 2],
    scheme: &Scheme,
    setup: &Setup,
    b: &mut Block,
    ends: &mut [Option<LaneEnd>],
    states: &mut [Vec<[f64; 2]>],
) {
    path.run(
        #[inline(always)]
        || run_block(f, o, scheme, setup, b, ends, states),
    );
}

/// Runs a block for the whole budget: `ends[l]` receives how lane l ended, and with
/// `setup.record` `states[l]` every finite state it visited.
#[inline(always)]
fn run_block<F: Field2, O: LaneOpt>(
    f: &F,
    o: &[O; 2],
    scheme: &Scheme,
    setup: &Setup,
    b: &mut Block,
    ends: &mut [Option<LaneEnd>],
    states: &mut [Vec<[f64; 2]>],
) {
    let (plan, c, thr) = (setup.plan, setup.center, setup.threshold);
    let real = ends.len();
    if setup.record {
        for (l, st) in states.iter_mut().enumerate() {
            st.push([b.x[0][l], b.x[1][l]]);
        }
    }
    let mut alive = real;
    let mut t = [0u64; 2];
    for k in 1..=plan.budget {
        if k == plan.path_from {
            b.xp = b.x;
        }
        match *scheme {
            Scheme::Simultaneous => {
                t[0] += 1;
                t[1] += 1;
                let cf = [o[0].coeffs(t[0]), o[1].coeffs(t[1])];
                pass_simultaneous(f, o, &cf, b);
                flush::<O>(b, 0, t[0]);
                flush::<O>(b, 1, t[1]);
            }
            Scheme::Alternating { order, k_g, k_d } => {
                let turns = match order {
                    Order::GFirst => [(0, k_g), (1, k_d)],
                    Order::DFirst => [(1, k_d), (0, k_g)],
                };
                for (p, n) in turns {
                    for _ in 0..n {
                        t[p] += 1;
                        let cf = o[p].coeffs(t[p]);
                        if p == 0 {
                            pass_player::<F, O, 0>(f, &o[0], &cf, b);
                        } else {
                            pass_player::<F, O, 1>(f, &o[1], &cf, b);
                        }
                        flush::<O>(b, p, t[p]);
                    }
                }
            }
            Scheme::Extragradient => {
                t[0] += 1;
                t[1] += 1;
                let cf = [o[0].coeffs(t[0]), o[1].coeffs(t[1])];
                pass_extragradient(f, o, &cf, b);
                flush::<O>(b, 0, t[0]);
                flush::<O>(b, 1, t[1]);
            }
            Scheme::Flow => {
                if O::PLAIN {
                    pass_flow(f, b);
                }
            }
        }
        if k == plan.half + 1 {
            // The reference turns the frame when it takes the state of step h + 1, which
            // it does unless that state is non-finite.
            for l in 0..LANES {
                if all_finite(&[b.x[0][l], b.x[1][l]]) {
                    let mut s = b.stats.get(l);
                    s.begin_late(plan.half as f64);
                    b.stats.set(l, &s);
                }
            }
        }
        let kf = k as f64;
        let phase = plan.phase(k);
        let any = match (phase, thr.is_finite()) {
            (Phase::First, true) => pass_stats::<0, false>(b, c, thr, kf),
            (Phase::Late, true) => pass_stats::<1, false>(b, c, thr, kf),
            (Phase::LatePath, true) => pass_stats::<2, false>(b, c, thr, kf),
            (Phase::First, false) => pass_stats::<0, true>(b, c, thr, kf),
            (Phase::Late, false) => pass_stats::<1, true>(b, c, thr, kf),
            (Phase::LatePath, false) => pass_stats::<2, true>(b, c, thr, kf),
        };
        if any {
            for l in 0..LANES {
                if b.bad[l] == 0.0 {
                    continue;
                }
                if l >= real || b.alive[l] == 0.0 {
                    // A padding lane, or an ended lane whose centre is not a fixed point.
                    park(b, l, c);
                    continue;
                }
                let x = [b.x[0][l], b.x[1][l]];
                let mut s = b.stats.get(l);
                let (stop, last) = if all_finite(&x) {
                    // The state is recorded and then found past the bound: push it.
                    let p = [x[0] - c[0], x[1] - c[1]];
                    let d2 = dist2(&x, &c);
                    match phase {
                        Phase::First => s.push_first(p, d2, true),
                        Phase::Late => s.push_late::<false>(kf, p, d2, true, 0.0),
                        Phase::LatePath => {
                            let xp = [b.xp[0][l], b.xp[1][l]];
                            s.push_late::<true>(kf, p, d2, true, dist2(&x, &xp).sqrt());
                        }
                    }
                    (Stop::Diverged { step: k }, k)
                } else {
                    (Stop::NonFinite { step: k }, k - 1)
                };
                ends[l] = Some(LaneEnd {
                    stats: s,
                    last,
                    stop,
                    x_end: x,
                });
                b.alive[l] = 0.0;
                alive -= 1;
                park(b, l, c);
                if setup.record && last == k {
                    states[l].push(x);
                }
            }
        }
        if setup.record {
            for (l, st) in states.iter_mut().enumerate() {
                if b.alive[l] != 0.0 {
                    st.push([b.x[0][l], b.x[1][l]]);
                }
            }
        }
        if alive == 0 {
            break;
        }
    }
    for (l, end) in ends.iter_mut().enumerate() {
        if end.is_none() {
            *end = Some(LaneEnd {
                stats: b.stats.get(l),
                last: plan.budget,
                stop: Stop::Budget,
                x_end: [b.x[0][l], b.x[1][l]],
            });
        }
    }
}
