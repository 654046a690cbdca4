//! Update rules: schemes (how often and where the field is evaluated) combined with
//! per-player transforms ([`crate::optim::Chain`]), and the runner that owns the loop.
//!
//! A rule turns the field v into a discrete map F. With plain steps h_g, h_d and
//! H = diag(h_g·1_G, h_d·1_D):
//! * simultaneous: F(x) = x + H v(x);
//! * alternating (G first, k_G and k_D steps): k_G generator steps x ← x + H_G v(x), each
//!   re-evaluating the field, then k_D discriminator steps;
//! * extragradient (Korpelevich 1976): x½ = x + H v(x), F(x) = x + H v(x½) (with other
//!   optimisers, the look-ahead step is the optimiser's step from a copy of its state);
//! * optimistic (Daskalakis et al. 2018): x ← x + 2H v_t − H v_{t−1};
//! * heavy-ball momentum β: m ← βm + v, x ← x + H m (negative β: Gidel et al. 2019);
//! * consensus and SGA: simultaneous steps on the adjusted fields of [`crate::game::Consensus`]
//!   and [`crate::game::Sga`];
//! * Adam per player;
//! * flow: classical RK4 on ẋ = H v(x) with unit time step, so step k is time k·h.
//!
//! Projections (weight clipping) follow every update of every player.

pub mod batch;
mod named;
mod optimizer;
mod runner;
mod spec;
pub mod stats;

pub use named::{RuleName, RuleOptions};
pub use optimizer::Optimizer;
pub use runner::{
    Bound, DEFAULT_DIVERGE_BOUND, Every, Observer, Run, Stop, Trajectory, trajectory_bytes,
};
pub use spec::{Adjustment, Order, RuleSpec, SchemeKind};

use serde::{Deserialize, Serialize};

use crate::game::{Game, Player};
use crate::linalg::{Rng, Vector, rng};
use crate::optim::{Chain, ChainState};

/// How the field is evaluated within one outer step. The step sizes are not part of the
/// scheme: they are the players' optimisers ([`Rule::g`], [`Rule::d`]).
///
/// Written `{ kind = "simultaneous" }`, `{ kind = "alternating", order = "d-first",
/// k_g = 1, k_d = 5 }`, `{ kind = "extragradient" }` or `{ kind = "flow" }` (a written
/// alternating scheme has order d-first unless it says otherwise). The trainer's older
/// spelling `{ order = "d_first" | "g_first" | "simultaneous", d_steps, g_steps }`
/// (no `kind`) reads as the same scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "SchemeToml"
)]
pub enum Scheme {
    /// Both players step from the same point.
    Simultaneous,
    /// Players take turns; each inner update re-evaluates the field.
    Alternating {
        /// Which player moves first.
        order: Order,
        /// Generator updates per outer step.
        k_g: usize,
        /// Discriminator updates per outer step.
        k_d: usize,
    },
    /// A look-ahead step (each player's optimiser applied from a copy of its state, so the
    /// look-ahead leaves no trace in it), then the real step with the field at the
    /// look-ahead point.
    Extragradient,
    /// RK4 on ẋ = H v(x) with unit time step; H is the players' optimisers applied as
    /// stateless maps (plain steps: their learning rates are the time scales).
    Flow,
}

/// Every way a scheme may be written (see [`Scheme`]); only read, never written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemeToml {
    kind: Option<String>,
    order: Option<String>,
    k_g: Option<usize>,
    k_d: Option<usize>,
    g_steps: Option<usize>,
    d_steps: Option<usize>,
}

impl TryFrom<SchemeToml> for Scheme {
    type Error = String;
    fn try_from(t: SchemeToml) -> std::result::Result<Self, String> {
        let k_g = t.k_g.or(t.g_steps).unwrap_or(1);
        let k_d = t.k_d.or(t.d_steps).unwrap_or(1);
        let turns = t.k_g.or(t.g_steps).is_some() || t.k_d.or(t.d_steps).is_some();
        let kind = match (t.kind.as_deref(), t.order.as_deref()) {
            (Some(k), _) => k.to_string(),
            // The trainer's spelling: the order names the scheme.
            (None, Some("simultaneous")) => "simultaneous".into(),
            (None, _) => "alternating".into(),
        };
        // A written schedule moves the discriminator first unless told otherwise (the
        // trainer's documented default, as in gan-vis and most GAN code). The named
        // reduced-game rule `alternating` defaults to g-first instead
        // ([`RuleName::spec`]), as the closed forms of SETUPS.md are written.
        let order = match t.order.as_deref() {
            None => Order::DFirst,
            Some("simultaneous") if kind == "simultaneous" => Order::GFirst,
            Some(o) => o.parse::<Order>().map_err(|e| e.to_string())?,
        };
        match kind.as_str() {
            "alternating" => Ok(Scheme::Alternating { order, k_g, k_d }),
            "simultaneous" | "extragradient" | "flow" if turns && (k_g != 1 || k_d != 1) => {
                Err(format!(
                    "a {kind} scheme updates each player once per step: drop k_g/k_d (or d_steps/g_steps), or use kind = \"alternating\""
                ))
            }
            "simultaneous" if t.order.as_deref().is_some_and(|o| o != "simultaneous") => {
                Err("order applies to alternating schemes only".into())
            }
            "simultaneous" => Ok(Scheme::Simultaneous),
            "extragradient" => Ok(Scheme::Extragradient),
            "flow" => Ok(Scheme::Flow),
            other => Err(format!(
                "unknown scheme `{other}` (expected simultaneous, alternating, extragradient or flow)"
            )),
        }
    }
}

impl Scheme {
    /// (k_G, k_D): updates of each player per outer step.
    #[must_use]
    pub fn updates_per_step(&self) -> (usize, usize) {
        match self {
            Scheme::Alternating { k_g, k_d, .. } => (*k_g, *k_d),
            _ => (1, 1),
        }
    }
    /// A human-readable description, e.g. "per step: 1 D update(s), then 1 G update(s)".
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Scheme::Alternating {
                order: Order::DFirst,
                k_g,
                k_d,
            } => format!("per step: {k_d} D update(s), then {k_g} G update(s)"),
            Scheme::Alternating {
                order: Order::GFirst,
                k_g,
                k_d,
            } => format!("per step: {k_g} G update(s), then {k_d} D update(s)"),
            Scheme::Simultaneous => "per step: simultaneous D and G updates on one batch".into(),
            Scheme::Extragradient => {
                "per step: a look-ahead D and G update, then D and G updates from the field there"
                    .into()
            }
            Scheme::Flow => "per step: one RK4 step of the flow".into(),
        }
    }
}

/// A complete update rule: a scheme and one transform chain per player (built from a
/// [`RuleSpec`], or by hand from any transforms).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// The scheme.
    pub scheme: Scheme,
    /// The generator's transforms.
    pub g: Chain,
    /// The discriminator's transforms.
    pub d: Chain,
}

/// The explicit state of a rule: one chain state per player, and the stream that
/// draws a stochastic game's minibatches ([`Game::draw_batch`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleState {
    /// Generator optimiser state.
    pub g: ChainState,
    /// Discriminator optimiser state.
    pub d: ChainState,
    /// Minibatch stream (unused by deterministic games).
    #[serde(skip)]
    pub noise: Rng,
}

impl Rule {
    /// Fresh state for `game`, with the minibatch stream of seed 0.
    #[must_use]
    pub fn init(&self, game: &dyn Game) -> RuleState {
        self.init_seeded(game, 0)
    }

    /// Fresh state for `game` whose minibatches come from stream 0 of `seed`.
    #[must_use]
    pub fn init_seeded(&self, game: &dyn Game, seed: u64) -> RuleState {
        let split = game.split();
        RuleState {
            g: self.g.init(split),
            d: self.d.init(game.dim() - split),
            noise: rng(seed, 0),
        }
    }

    /// The order of the inner updates of one outer step, for the log: e.g.
    /// `["g", "d", "d"]` for G first with k_D = 2, or `["g+d"]` for simultaneous.
    #[must_use]
    pub fn update_order(&self) -> Vec<&'static str> {
        match &self.scheme {
            Scheme::Alternating { order, k_g, k_d } => {
                let (g, d) = (
                    std::iter::repeat_n("g", *k_g),
                    std::iter::repeat_n("d", *k_d),
                );
                match order {
                    Order::GFirst => g.chain(d).collect(),
                    Order::DFirst => d.chain(g).collect(),
                }
            }
            Scheme::Extragradient => vec!["g+d (look-ahead)", "g+d"],
            Scheme::Flow => vec!["rk4"],
            Scheme::Simultaneous => vec!["g+d"],
        }
    }

    /// One outer step of the map, in place. A stochastic game draws one batch before
    /// each update (both players' batch for a simultaneous, extragradient or flow step,
    /// whose evaluations within the step share it; per player for alternating turns).
    pub fn step(&self, game: &dyn Game, x: &mut Vector, state: &mut RuleState) {
        let split = game.split();
        match &self.scheme {
            Scheme::Simultaneous => {
                game.draw_batch(None, &mut state.noise);
                let v = game.field(x);
                self.apply(game, x, v, state, true, true);
                game.project(x);
            }
            Scheme::Alternating { order, k_g, k_d } => {
                let turns = match order {
                    Order::GFirst => [(Player::Generator, *k_g), (Player::Discriminator, *k_d)],
                    Order::DFirst => [(Player::Discriminator, *k_d), (Player::Generator, *k_g)],
                };
                for (player, k) in turns {
                    for _ in 0..k {
                        game.draw_batch(Some(player), &mut state.noise);
                        let v = game.player_field(x, player);
                        let is_g = player == Player::Generator;
                        self.apply(game, x, v, state, is_g, !is_g);
                        game.project(x);
                    }
                }
            }
            Scheme::Extragradient => {
                game.draw_batch(None, &mut state.noise);
                let v = game.field(x);
                let mut half = x.clone();
                let mut look = state.clone();
                self.apply(game, &mut half, v, &mut look, true, true);
                game.project(&mut half);
                let v_half = game.field(&half);
                self.apply(game, x, v_half, state, true, true);
                game.project(x);
            }
            Scheme::Flow => {
                game.draw_batch(None, &mut state.noise);
                let scaled = |y: &Vector| {
                    let mut v = game.field(y);
                    let mut frozen = state.clone();
                    let (vg, vd) = v.as_mut_slice().split_at_mut(split);
                    self.g.update(vg, &mut frozen.g);
                    self.d.update(vd, &mut frozen.d);
                    v
                };
                let k1 = scaled(x);
                let k2 = scaled(&(&*x + &k1 * 0.5));
                let k3 = scaled(&(&*x + &k2 * 0.5));
                let k4 = scaled(&(&*x + &k3));
                *x += (k1 + k2 * 2.0 + k3 * 2.0 + k4) / 6.0;
                game.project(x);
            }
        }
    }

    /// Adds the transformed field blocks of the chosen players to x (the blocks are
    /// transformed in place in `v`).
    fn apply(
        &self,
        game: &dyn Game,
        x: &mut Vector,
        mut v: Vector,
        st: &mut RuleState,
        g: bool,
        d: bool,
    ) {
        let split = game.split();
        let (vg, vd) = v.as_mut_slice().split_at_mut(split);
        let (xg, xd) = x.as_mut_slice().split_at_mut(split);
        for (on, chain, state, u, xs) in [
            (g, &self.g, &mut st.g, vg, xg),
            (d, &self.d, &mut st.d, vd, xd),
        ] {
            if on {
                chain.update_add(u, state, xs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Bilinear, Dirac, DiracLoss};

    /// Bitwise-level agreement for identical arithmetic in a different arrangement.
    const SAME: f64 = 1e-14;

    #[test]
    fn simultaneous_wgan_radius_grows_exactly() {
        // r²_{k+1} = (1 + h²) r²_k for the WGAN under simultaneous GD (SETUPS.md A).
        for &h in &[0.01, 0.1, 0.5] {
            let game = Dirac::new(DiracLoss::Wgan);
            let rule = RuleSpec::new(RuleName::Simultaneous, h, h)
                .unwrap()
                .build()
                .unwrap();
            let mut st = rule.init(&game);
            let mut x = Vector::from_vec(vec![1.0, 0.5]);
            for _ in 0..50 {
                let r2 = x.norm_squared();
                rule.step(&game, &mut x, &mut st);
                assert!((x.norm_squared() / r2 - (1.0 + h * h)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn alternating_preserves_linear_invariant() {
        // θ first: θ² + ψ² − h·a·θψ is invariant for the linear game (bilinear, a = 1).
        for &h in &[0.1, 0.5, 1.5] {
            let game = Bilinear::scalar(1.0);
            let opts = RuleOptions {
                order: Some(Order::GFirst),
                ..RuleOptions::default()
            };
            let rule = RuleName::Alternating
                .spec(h, h, &opts)
                .unwrap()
                .build()
                .unwrap();
            let mut st = rule.init(&game);
            let mut x = Vector::from_vec(vec![1.0, 1.0]);
            let inv = |x: &Vector| x[0] * x[0] + x[1] * x[1] - h * x[0] * x[1];
            let i0 = inv(&x);
            for _ in 0..1000 {
                rule.step(&game, &mut x, &mut st);
            }
            assert!((inv(&x) - i0).abs() < 1e-9 * i0, "h={h}");
        }
    }

    #[test]
    fn named_momentum_equals_hand_built_chain() {
        let game = Dirac::default();
        let opts = RuleOptions {
            beta: Some(-0.3),
            ..RuleOptions::default()
        };
        let named = RuleName::Momentum
            .spec(0.2, 0.1, &opts)
            .unwrap()
            .build()
            .unwrap();
        let hand = Rule {
            scheme: Scheme::Simultaneous,
            g: Chain(vec![
                crate::optim::Transform::Momentum { beta: -0.3 },
                crate::optim::Transform::Scale { factor: 0.2 },
            ]),
            d: Chain(vec![
                crate::optim::Transform::Momentum { beta: -0.3 },
                crate::optim::Transform::Scale { factor: 0.1 },
            ]),
        };
        assert_eq!(named, hand);
        // And the hand-built step equals the explicit heavy-ball recursion.
        let mut st = hand.init(&game);
        let mut x = Vector::from_vec(vec![1.0, 1.0]);
        let (mut y, mut m) = (x.clone(), Vector::zeros(2));
        for _ in 0..20 {
            hand.step(&game, &mut x, &mut st);
            let v = game.field(&y);
            m = &m * -0.3 + v;
            y[0] += 0.2 * m[0];
            y[1] += 0.1 * m[1];
            assert!((&x - &y).amax() < SAME);
        }
    }

    #[test]
    fn update_order_is_explicit() {
        let opts = RuleOptions {
            order: Some(Order::DFirst),
            k_d: Some(2),
            ..RuleOptions::default()
        };
        let r = RuleName::Alternating
            .spec(0.1, 0.1, &opts)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(r.update_order(), vec!["d", "d", "g"]);
    }
}
