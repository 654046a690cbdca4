//! The players' optimisers for one lane: the arithmetic of [`crate::optim::Chain`]'s
//! update for the named chains (`[Scale]`, `[Momentum, Scale]`, `[Optimistic, Scale]`,
//! `[Adam, Scale]`, `[RmsProp, Scale]`), operation for operation, so that a lane equals
//! [`crate::dynamics::Rule::step`] bit for bit (tested for every rule in
//! [`super::tests`]). A player of a two-coordinate game has one coordinate, so its state
//! is at most two slots.

use crate::dynamics::Optimizer;

/// The step-count-dependent constants of one update (Adam's bias corrections; unused by
/// the others), computed once per update for every lane exactly as
/// [`crate::optim::Transform`] computes them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Coeffs {
    /// 1/(1 − β₁ᵗ).
    pub inv_c1: f64,
    /// 1/√(1 − β₂ᵗ).
    pub inv_sqrt_c2: f64,
}

/// One player's optimiser in a lane.
pub trait LaneOpt: Copy + Send + Sync {
    /// State slots (per coordinate).
    const SLOTS: usize;
    /// Whether this is plain gradient descent (the only optimiser of the flow).
    const PLAIN: bool = false;
    /// The coefficients of update number `t` (counted from 1).
    fn coeffs(&self, _t: u64) -> Coeffs {
        Coeffs::default()
    }
    /// The step Δ for direction `u` with learning rate `lr`, advancing the slots.
    fn step(&self, u: f64, s: &mut [f64; 2], c: &Coeffs, lr: f64) -> f64;
}

/// Δ = lr·u.
#[derive(Debug, Clone, Copy)]
pub struct Sgd;

/// m ← βm + u, Δ = lr·m.
#[derive(Debug, Clone, Copy)]
pub struct Momentum {
    /// β.
    pub beta: f64,
}

/// Δ = lr·(2u − u_prev), u_prev ← u.
#[derive(Debug, Clone, Copy)]
pub struct Optimistic;

/// Adam (Kingma & Ba 2015), as [`crate::optim::Transform::Adam`].
#[derive(Debug, Clone, Copy)]
pub struct Adam {
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
}

/// RMSProp, as [`crate::optim::Transform::RmsProp`].
#[derive(Debug, Clone, Copy)]
pub struct RmsProp {
    /// ρ.
    pub rho: f64,
    /// ε.
    pub eps: f64,
}

impl LaneOpt for Sgd {
    const SLOTS: usize = 0;
    const PLAIN: bool = true;
    #[inline(always)]
    fn step(&self, u: f64, _s: &mut [f64; 2], _c: &Coeffs, lr: f64) -> f64 {
        u * lr
    }
}

impl LaneOpt for Momentum {
    const SLOTS: usize = 1;
    #[inline(always)]
    fn step(&self, u: f64, s: &mut [f64; 2], _c: &Coeffs, lr: f64) -> f64 {
        s[0] = self.beta * s[0] + u;
        s[0] * lr
    }
}

impl LaneOpt for Optimistic {
    const SLOTS: usize = 1;
    #[inline(always)]
    fn step(&self, u: f64, s: &mut [f64; 2], _c: &Coeffs, lr: f64) -> f64 {
        let d = 2.0 * u - s[0];
        s[0] = u;
        d * lr
    }
}

impl LaneOpt for Adam {
    const SLOTS: usize = 2;
    fn coeffs(&self, t: u64) -> Coeffs {
        let c1 = 1.0 - self.beta1.powf(t as f64);
        let c2 = 1.0 - self.beta2.powf(t as f64);
        Coeffs {
            inv_c1: 1.0 / c1,
            inv_sqrt_c2: 1.0 / c2.sqrt(),
        }
    }
    #[inline(always)]
    fn step(&self, g: f64, s: &mut [f64; 2], c: &Coeffs, lr: f64) -> f64 {
        let (a1, a2) = (1.0 - self.beta1, 1.0 - self.beta2);
        let mv = self.beta1 * s[0] + a1 * g;
        let sv = self.beta2 * s[1] + a2 * (g * g);
        s[0] = mv;
        s[1] = sv;
        (mv * c.inv_c1) / (sv.sqrt() * c.inv_sqrt_c2 + self.eps) * lr
    }
}

impl LaneOpt for RmsProp {
    const SLOTS: usize = 1;
    #[inline(always)]
    fn step(&self, u: f64, s: &mut [f64; 2], _c: &Coeffs, lr: f64) -> f64 {
        s[0] = self.rho * s[0] + (1.0 - self.rho) * u * u;
        u / (s[0].sqrt() + self.eps) * lr
    }
}

/// The lane optimisers of a rule whose players use the same kind of optimiser.
#[derive(Debug, Clone, Copy)]
pub enum OptPair {
    /// Both plain.
    Sgd,
    /// Both heavy ball.
    Momentum(Momentum, Momentum),
    /// Both optimistic.
    Optimistic,
    /// Both Adam.
    Adam(Adam, Adam),
    /// Both RMSProp.
    RmsProp(RmsProp, RmsProp),
}

impl OptPair {
    /// The pair for the players' optimisers, if they are of one kind.
    #[must_use]
    pub fn of(g: &Optimizer, d: &Optimizer) -> Option<OptPair> {
        use Optimizer as O;
        Some(match (*g, *d) {
            (O::Sgd { .. }, O::Sgd { .. }) => OptPair::Sgd,
            (O::Momentum { beta: a, .. }, O::Momentum { beta: b, .. }) => {
                OptPair::Momentum(Momentum { beta: a }, Momentum { beta: b })
            }
            (O::Optimistic { .. }, O::Optimistic { .. }) => OptPair::Optimistic,
            (
                O::Adam {
                    beta1, beta2, eps, ..
                },
                O::Adam {
                    beta1: b1,
                    beta2: b2,
                    eps: e2,
                    ..
                },
            ) => OptPair::Adam(
                Adam { beta1, beta2, eps },
                Adam {
                    beta1: b1,
                    beta2: b2,
                    eps: e2,
                },
            ),
            (
                O::RmsProp { rho, eps, .. },
                O::RmsProp {
                    rho: r2, eps: e2, ..
                },
            ) => OptPair::RmsProp(RmsProp { rho, eps }, RmsProp { rho: r2, eps: e2 }),
            _ => return None,
        })
    }
}
