//! Per-player update transforms with explicit, plain state (after optax).
//!
//! A transform maps a player's field block u = v_player(x) (the direction that
//! *decreases* the player's own loss, see [`crate::game`]) to the step Δ that is added:
//! x_player ← x_player + Δ. Named optimisers are chains, e.g. SGD with learning rate h is
//! `Chain[Scale(h)]` and heavy-ball momentum is `Chain[Momentum(β), Scale(h)]`.
//!
//! The state of a chain is one flat `Vec<f64>` (each transform owns a fixed number of
//! slots per coordinate) plus a step counter, so it can be printed, compared, written
//! to disk and linearised as part of an augmented map state.

use serde::{Deserialize, Serialize};

/// One stateful or stateless transform of a direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Transform {
    /// Δ = s·u.
    Scale {
        /// The factor (a learning rate).
        factor: f64,
    },
    /// Heavy ball: m ← β m + u, Δ = m. Negative β is allowed (Gidel et al. 2019).
    Momentum {
        /// β, in (−1, 1).
        beta: f64,
    },
    /// Optimistic: Δ = 2u_t − u_{t−1} (u_{−1} = 0), so with `Scale(h)` after it,
    /// x ← x + 2h v_t − h v_{t−1} (Daskalakis et al. 2018).
    Optimistic,
    /// Adam (Kingma & Ba 2015): m ← β₁m + (1−β₁)u, s ← β₂s + (1−β₂)u²,
    /// Δ = m̂ / (√ŝ + ε) with m̂ = m/(1−β₁ᵗ), ŝ = s/(1−β₂ᵗ).
    Adam {
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// ε.
        eps: f64,
    },
    /// RMSProp (Tieleman & Hinton 2012): s ← ρs + (1−ρ)u², Δ = u / (√s + ε).
    RmsProp {
        /// ρ.
        rho: f64,
        /// ε.
        eps: f64,
    },
}

impl Transform {
    /// State slots per coordinate.
    #[must_use]
    pub fn slots(&self) -> usize {
        match self {
            Transform::Scale { .. } => 0,
            Transform::Momentum { .. } | Transform::Optimistic | Transform::RmsProp { .. } => 1,
            Transform::Adam { .. } => 2,
        }
    }

    /// Applies the transform to `u` in place, updating `state` (length `slots()·u.len()`)
    /// at step `t` (counted from 1).
    fn apply(&self, u: &mut [f64], state: &mut [f64], t: u64) {
        let n = u.len();
        match *self {
            Transform::Scale { factor } => u.iter_mut().for_each(|ui| *ui *= factor),
            Transform::Momentum { beta } => {
                for (ui, mi) in u.iter_mut().zip(state.iter_mut()) {
                    *mi = beta * *mi + *ui;
                    *ui = *mi;
                }
            }
            Transform::Optimistic => {
                for (ui, pi) in u.iter_mut().zip(state.iter_mut()) {
                    let cur = *ui;
                    *ui = 2.0 * cur - *pi;
                    *pi = cur;
                }
            }
            Transform::Adam { beta1, beta2, eps } => {
                let (m, s) = state.split_at_mut(n);
                adam(u, m, s, AdamCoeffs::at(beta1, beta2, eps, t));
            }
            Transform::RmsProp { rho, eps } => {
                for (ui, si) in u.iter_mut().zip(state.iter_mut()) {
                    *si = rho * *si + (1.0 - rho) * *ui * *ui;
                    *ui /= si.sqrt() + eps;
                }
            }
        }
    }
}

/// Every this many updates, subnormal state is set to zero. On coordinates whose direction
/// is exactly 0 (dead ReLU units) momentum and Adam moments decay geometrically (m ← βm)
/// into the subnormal range after a few thousand updates, where x86 arithmetic is about
/// 100× slower (measured: Adam then took over half of a gan-vis training step). The
/// change in value is below 2.3e-308.
pub const FLUSH_EVERY: u64 = 64;

/// Adam's constants for one update: m̂/(√ŝ + ε) = (m·inv_c1)/(√s·inv_sqrt_c2 + ε).
#[derive(Clone, Copy)]
struct AdamCoeffs {
    beta1: f64,
    beta2: f64,
    eps: f64,
    inv_c1: f64,
    inv_sqrt_c2: f64,
}

impl AdamCoeffs {
    /// The constants at step t (from 1): c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ (Kingma & Ba 2015,
    /// Algorithm 1).
    fn at(beta1: f64, beta2: f64, eps: f64, t: u64) -> Self {
        let c1 = 1.0 - beta1.powf(t as f64);
        let c2 = 1.0 - beta2.powf(t as f64);
        AdamCoeffs {
            beta1,
            beta2,
            eps,
            inv_c1: 1.0 / c1,
            inv_sqrt_c2: 1.0 / c2.sqrt(),
        }
    }
}

/// x += h·Adam(u) in one pass: the operations of [`adam_body`], then the scale and the
/// add, element by element (the same bits as the three passes, a third of the memory
/// traffic; at 0.9 M parameters these passes are memory-bound).
fn adam_scale_add(u: &[f64], m: &mut [f64], s: &mut [f64], c: AdamCoeffs, h: f64, x: &mut [f64]) {
    crate::simd::dispatch(
        #[inline(always)]
        || {
            let (a1, a2) = (1.0 - c.beta1, 1.0 - c.beta2);
            for (((&g, mi), si), xi) in u.iter().zip(m.iter_mut()).zip(s.iter_mut()).zip(x) {
                let mv = c.beta1 * *mi + a1 * g;
                let sv = c.beta2 * *si + a2 * (g * g);
                *mi = mv;
                *si = sv;
                let step = (mv * c.inv_c1) / (sv.sqrt() * c.inv_sqrt_c2 + c.eps);
                *xi += step * h;
            }
        },
    );
}

/// The Adam update over slices, on the fastest SIMD path ([`crate::simd::dispatch`]:
/// vector √ and ÷); every path uses the same IEEE operations in the same order (no FMA
/// contraction), so they give identical bits.
fn adam(u: &mut [f64], m: &mut [f64], s: &mut [f64], c: AdamCoeffs) {
    crate::simd::dispatch(
        #[inline(always)]
        || adam_body(u, m, s, c),
    );
}

#[inline(always)]
fn adam_body(u: &mut [f64], m: &mut [f64], s: &mut [f64], c: AdamCoeffs) {
    let (a1, a2) = (1.0 - c.beta1, 1.0 - c.beta2);
    for ((ui, mi), si) in u.iter_mut().zip(m.iter_mut()).zip(s.iter_mut()) {
        let g = *ui;
        let mv = c.beta1 * *mi + a1 * g;
        let sv = c.beta2 * *si + a2 * (g * g);
        *mi = mv;
        *si = sv;
        *ui = (mv * c.inv_c1) / (sv.sqrt() * c.inv_sqrt_c2 + c.eps);
    }
}

/// A composition of transforms applied left to right: `Chain[a, b]` is b(a(u)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Chain(pub Vec<Transform>);

/// The explicit state of a [`Chain`] for one player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainState {
    /// Number of updates applied so far.
    pub t: u64,
    /// The concatenated slots of every transform, in chain order.
    pub slots: Vec<f64>,
}

impl Chain {
    /// Plain gradient descent with step h.
    #[must_use]
    pub fn sgd(h: f64) -> Self {
        Chain(vec![Transform::Scale { factor: h }])
    }
    /// Heavy-ball momentum β then step h.
    #[must_use]
    pub fn momentum(h: f64, beta: f64) -> Self {
        Chain(vec![
            Transform::Momentum { beta },
            Transform::Scale { factor: h },
        ])
    }
    /// Optimistic GD with step h.
    #[must_use]
    pub fn optimistic(h: f64) -> Self {
        Chain(vec![Transform::Optimistic, Transform::Scale { factor: h }])
    }
    /// Adam with step h.
    #[must_use]
    pub fn adam(h: f64, beta1: f64, beta2: f64, eps: f64) -> Self {
        Chain(vec![
            Transform::Adam { beta1, beta2, eps },
            Transform::Scale { factor: h },
        ])
    }
    /// RMSProp with step h.
    #[must_use]
    pub fn rmsprop(h: f64, rho: f64, eps: f64) -> Self {
        Chain(vec![
            Transform::RmsProp { rho, eps },
            Transform::Scale { factor: h },
        ])
    }

    /// Fresh (zero) state for `dim` coordinates.
    #[must_use]
    pub fn init(&self, dim: usize) -> ChainState {
        ChainState {
            t: 0,
            slots: vec![0.0; self.0.iter().map(Transform::slots).sum::<usize>() * dim],
        }
    }

    /// x += Δ, where Δ is the step [`Chain::update`] would make of `u` (same bits), with
    /// `u` as scratch (its content afterwards is unspecified). Adam followed by a scale,
    /// the usual chain, runs as one fused pass over u, the moments and x.
    pub fn update_add(&self, u: &mut [f64], state: &mut ChainState, x: &mut [f64]) {
        if let [
            Transform::Adam { beta1, beta2, eps },
            Transform::Scale { factor },
        ] = self.0[..]
        {
            state.t += 1;
            let n = u.len();
            let (m, s) = state.slots.split_at_mut(n);
            let c = AdamCoeffs::at(beta1, beta2, eps, state.t);
            adam_scale_add(u, m, s, c, factor, x);
            self.flush(state);
            return;
        }
        self.update(u, state);
        x.iter_mut().zip(u.iter()).for_each(|(xi, ui)| *xi += ui);
    }

    /// Sets subnormal state to zero every [`FLUSH_EVERY`] updates.
    fn flush(&self, state: &mut ChainState) {
        if state.t.is_multiple_of(FLUSH_EVERY) {
            for v in &mut state.slots {
                if v.abs() < f64::MIN_POSITIVE {
                    *v = 0.0;
                }
            }
        }
    }

    /// Turns the direction `u` into the step Δ in place and advances the state.
    pub fn update(&self, u: &mut [f64], state: &mut ChainState) {
        state.t += 1;
        let n = u.len();
        let mut offset = 0;
        for tr in &self.0 {
            let len = tr.slots() * n;
            tr.apply(u, &mut state.slots[offset..offset + len], state.t);
            offset += len;
        }
        self.flush(state);
    }

    /// Whether the chain has memory (its update map needs an augmented state).
    #[must_use]
    pub fn has_memory(&self) -> bool {
        self.0.iter().any(|t| t.slots() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXACT: f64 = 1e-15;

    /// The fused Adam-then-scale pass of `update_add` gives the bits of `update` then
    /// x += u, over more than [`FLUSH_EVERY`] steps (with a coordinate whose direction
    /// is 0, so the flush has work), and so does the unfused path of another chain.
    #[test]
    fn update_add_equals_update_then_add_bit_for_bit() {
        for chain in [
            Chain::adam(1e-3, 0.8, 0.999, 1e-8),
            Chain::momentum(0.1, 0.9),
        ] {
            let n = 37;
            let (mut s1, mut s2) = (chain.init(n), chain.init(n));
            let mut x1: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
            let mut x2 = x1.clone();
            for k in 0..2 * FLUSH_EVERY + 3 {
                let u0: Vec<f64> = (0..n)
                    .map(|i| {
                        if i == 3 {
                            0.0
                        } else {
                            ((i as u64 * 7 + k) as f64).cos()
                        }
                    })
                    .collect();
                let mut a = u0.clone();
                chain.update(&mut a, &mut s1);
                x1.iter_mut().zip(&a).for_each(|(x, d)| *x += d);
                let mut b = u0;
                chain.update_add(&mut b, &mut s2, &mut x2);
                assert!(x1.iter().zip(&x2).all(|(p, q)| p.to_bits() == q.to_bits()));
                assert_eq!(s1, s2);
            }
        }
    }

    #[test]
    fn chain_equals_transforms_applied_in_turn() {
        let chain = Chain::momentum(0.1, 0.9);
        let mut s = chain.init(2);
        let (m1, s1) = (Chain(vec![chain.0[0]]), Chain(vec![chain.0[1]]));
        let (mut st1, mut st2) = (m1.init(2), s1.init(2));
        for k in 0..5 {
            let u0 = [1.0 + k as f64, -0.5 * k as f64];
            let mut a = u0;
            chain.update(&mut a, &mut s);
            let mut b = u0;
            m1.update(&mut b, &mut st1);
            s1.update(&mut b, &mut st2);
            assert!((a[0] - b[0]).abs() < EXACT && (a[1] - b[1]).abs() < EXACT);
        }
    }

    #[test]
    fn momentum_accumulates_geometric_sum() {
        for &beta in &[0.5, -0.5, 0.9] {
            let chain = Chain::momentum(1.0, beta);
            let mut s = chain.init(1);
            let mut last = 0.0;
            for _ in 0..4 {
                let mut u = [1.0];
                chain.update(&mut u, &mut s);
                last = u[0];
            }
            let expected = (1.0 - f64::powi(beta, 4)) / (1.0 - beta);
            assert!((last - expected).abs() < 1e-12);
        }
    }

    #[test]
    fn optimistic_uses_previous_direction() {
        let chain = Chain::optimistic(0.5);
        let mut s = chain.init(1);
        let mut u = [2.0];
        chain.update(&mut u, &mut s);
        assert!((u[0] - 2.0).abs() < EXACT); // 0.5·(2·2 − 0)
        let mut u = [1.0];
        chain.update(&mut u, &mut s);
        assert!((u[0] - 0.0).abs() < EXACT); // 0.5·(2·1 − 2)
    }

    #[test]
    fn adam_first_step_is_sign_times_lr() {
        // With bias correction the first Adam step is h·u/(|u| + ε).
        for &u0 in &[3.0, -0.01, 1e3] {
            let chain = Chain::adam(0.1, 0.9, 0.999, 1e-8);
            let mut s = chain.init(1);
            let mut u = [u0];
            chain.update(&mut u, &mut s);
            assert!((u[0] - 0.1 * u0 / (u0.abs() + 1e-8)).abs() < 1e-12);
        }
    }

    #[test]
    fn decayed_state_is_flushed_not_subnormal() {
        // m ← 0.5 m with u = 0 reaches the subnormal range after ~1020 updates.
        let chain = Chain::adam(1.0, 0.5, 0.5, 1e-8);
        let mut s = chain.init(1);
        let mut u = [1.0];
        chain.update(&mut u, &mut s);
        for _ in 0..2000 {
            let mut z = [0.0];
            chain.update(&mut z, &mut s);
        }
        assert!(
            s.slots
                .iter()
                .all(|v| *v == 0.0 || v.abs() >= f64::MIN_POSITIVE),
            "{:?}",
            s.slots
        );
    }

    #[test]
    fn rmsprop_first_step() {
        let chain = Chain::rmsprop(1.0, 0.9, 0.0);
        let mut s = chain.init(1);
        let mut u = [2.0];
        chain.update(&mut u, &mut s);
        // s = 0.1·4 = 0.4, Δ = 2/√0.4
        assert!((u[0] - 2.0 / 0.4f64.sqrt()).abs() < 1e-12);
    }
}
