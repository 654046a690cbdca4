//! The linearised update map of a rule at any point, as a linear operator built from
//! Jacobian products (so it applies to a neural GAN with thousands of parameters), for
//! the spectral radius and class of [`super::update_map`] away from the 2-D games.
//!
//! Each player's optimiser is put in one linear form with an optional slot m:
//! m′ = β m + a u, Δ = P ⊙ m′ (or Δ = P ⊙ u without a slot), u the player's field block:
//! * SGD (`Scale(h)`): no slot, P = h (exact);
//! * heavy ball (`Momentum(β)`, `Scale(h)`): β, a = 1, P = h (exact: the map is linear
//!   in (x, m) up to J);
//! * Adam: β = β₁, a = 1 − β₁, P = h / ((1 − β₁^{t+1}) (√(s/(1 − β₂^{t+1})) + ε)) with
//!   the second moment s and the step count t **frozen** at the checkpoint's state: the
//!   next step's preconditioner, held fixed. This is an approximation (s moves with u²,
//!   a second-order effect in δx at a fixed point, but s is not at a fixed point during
//!   training); every output labels it `adam_frozen_preconditioner`;
//! * RMSProp: no slot, P = h / (√s + ε), likewise frozen.
//!
//! The perturbation δz = (δx, δm_G, δm_D) is mapped by the scheme: simultaneous, both
//! players with u = J δx; alternating, each inner update in turn with u = (J δx)_player
//! at the current δx (the chain rule through the turns, as the closed form
//! (I + H_D J)^{k_D}(I + H_G J)^{k_G} of [`super::update_map`] for plain steps).
//! Extragradient and the RK4 flow are not linearised here (an error says so).

use crate::dynamics::{Order, Rule, Scheme};
use crate::error::{Error, Result};
use crate::game::Player;
use crate::linalg::Matrix;
use crate::optim::{ChainState, Transform};

/// One player's optimiser in linear form (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearStep {
    /// Slot decay β (None: no slot).
    pub slot: Option<(f64, f64)>,
    /// Per-coordinate step P.
    pub p: Vec<f64>,
}

/// A rule in linear form at one point: what [`LinearMap::apply`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearMap {
    scheme: Scheme,
    split: usize,
    g: LinearStep,
    d: LinearStep,
    /// `exact` for SGD and momentum, `adam_frozen_preconditioner` (or
    /// `rmsprop_frozen_preconditioner`) when a preconditioner was frozen.
    pub method: &'static str,
}

fn linear_step(
    chain: &crate::optim::Chain,
    state: Option<&ChainState>,
    len: usize,
) -> Result<(LinearStep, bool)> {
    let not = |what: &str| {
        Error::numerical(
            "linear_map",
            format!("{what} has no linear form here (SGD, momentum, Adam and RMSProp do)"),
        )
    };
    let s_of = |offset: usize| -> Result<&[f64]> {
        let st = state.ok_or_else(|| {
            not("an adaptive optimiser without its state (no optimizer-NNNNNN.npy)")
        })?;
        st.slots
            .get(offset..offset + len)
            .ok_or_else(|| not("an optimiser state of the wrong length"))
    };
    match chain.0.as_slice() {
        [Transform::Scale { factor }] => Ok((
            LinearStep {
                slot: None,
                p: vec![*factor; len],
            },
            false,
        )),
        [Transform::Momentum { beta }, Transform::Scale { factor }] => Ok((
            LinearStep {
                slot: Some((*beta, 1.0)),
                p: vec![*factor; len],
            },
            false,
        )),
        [
            Transform::Adam { beta1, beta2, eps },
            Transform::Scale { factor },
        ] => {
            // Before the first update s = 0 and the frozen step would be h/ε (1e8·h):
            // not a preconditioner Adam ever applies, so no linearisation.
            if state.is_none_or(|st| st.t == 0) {
                return Err(not("Adam before its first update (no second moment yet)"));
            }
            let s = s_of(len)?;
            let t = state.map_or(0, |st| st.t) as f64 + 1.0;
            let (c1, c2) = (1.0 - beta1.powf(t), 1.0 - beta2.powf(t));
            let p = s
                .iter()
                .map(|si| factor / (c1 * ((si / c2).sqrt() + eps)))
                .collect();
            Ok((
                LinearStep {
                    slot: Some((*beta1, 1.0 - beta1)),
                    p,
                },
                true,
            ))
        }
        [Transform::RmsProp { eps, .. }, Transform::Scale { factor }] => {
            if state.is_none_or(|st| st.t == 0) {
                return Err(not(
                    "RMSProp before its first update (no second moment yet)",
                ));
            }
            let s = s_of(0)?;
            let p = s.iter().map(|si| factor / (si.sqrt() + eps)).collect();
            Ok((LinearStep { slot: None, p }, true))
        }
        _ => Err(not("this optimiser chain")),
    }
}

impl LinearMap {
    /// The linear form of `rule` for a game of `dim` coordinates split at `split`, with
    /// the optimisers' state (needed for Adam and RMSProp).
    ///
    /// # Errors
    /// [`Error::Numerical`] for a scheme or an optimiser without a linear form, or an
    /// adaptive optimiser without its state.
    pub fn new(
        rule: &Rule,
        dim: usize,
        split: usize,
        state: Option<(&ChainState, &ChainState)>,
    ) -> Result<Self> {
        if matches!(rule.scheme, Scheme::Extragradient | Scheme::Flow) {
            return Err(Error::numerical(
                "linear_map",
                "extragradient and flow schemes are not linearised from products",
            ));
        }
        let (g, fg) = linear_step(&rule.g, state.map(|s| s.0), split)?;
        let (d, fd) = linear_step(&rule.d, state.map(|s| s.1), dim - split)?;
        let adam = rule
            .g
            .0
            .iter()
            .chain(&rule.d.0)
            .any(|t| matches!(t, Transform::Adam { .. }));
        let method = match (fg || fd, adam) {
            (false, _) => "exact",
            (true, true) => "adam_frozen_preconditioner",
            (true, false) => "rmsprop_frozen_preconditioner",
        };
        Ok(LinearMap {
            scheme: rule.scheme.clone(),
            split,
            g,
            d,
            method,
        })
    }

    /// Dimension of the augmented state (x and the slots).
    #[must_use]
    pub fn dim(&self) -> usize {
        let n = self.split + self.d.p.len();
        n + self.g.slot.map_or(0, |_| self.split) + self.d.slot.map_or(0, |_| self.d.p.len())
    }

    /// δz′ = ∂F·δz for each column of `z` (augmented state, [`LinearMap::dim`] rows),
    /// with `jmul` the product J·(columns) of the game's Jacobian at the point.
    ///
    /// # Errors
    /// Whatever `jmul` raises.
    pub fn apply(&self, z: &Matrix, jmul: &dyn Fn(&Matrix) -> Result<Matrix>) -> Result<Matrix> {
        let ng = self.split;
        let nd = self.d.p.len();
        let n = ng + nd;
        let mut out = z.clone();
        let mg_at = n;
        let md_at = n + self.g.slot.map_or(0, |_| ng);
        let turn = |out: &mut Matrix, players: &[Player]| -> Result<()> {
            let u = jmul(&out.rows(0, n).clone_owned())?;
            for &pl in players {
                let (step, x0, len, m0) = match pl {
                    Player::Generator => (&self.g, 0, ng, mg_at),
                    Player::Discriminator => (&self.d, ng, nd, md_at),
                };
                for c in 0..out.ncols() {
                    for i in 0..len {
                        let ui = u[(x0 + i, c)];
                        let dir = match step.slot {
                            Some((beta, a)) => {
                                let m = beta * out[(m0 + i, c)] + a * ui;
                                out[(m0 + i, c)] = m;
                                m
                            }
                            None => ui,
                        };
                        out[(x0 + i, c)] += step.p[i] * dir;
                    }
                }
            }
            Ok(())
        };
        match &self.scheme {
            Scheme::Alternating { order, k_g, k_d } => {
                let turns = match order {
                    Order::GFirst => [(Player::Generator, *k_g), (Player::Discriminator, *k_d)],
                    Order::DFirst => [(Player::Discriminator, *k_d), (Player::Generator, *k_g)],
                };
                for (pl, k) in turns {
                    for _ in 0..k {
                        turn(&mut out, &[pl])?;
                    }
                }
            }
            _ => turn(&mut out, &[Player::Generator, Player::Discriminator])?,
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analytic_map_jacobian;
    use crate::dynamics::{RuleName, RuleSpec};
    use crate::game::{Bilinear, Game};
    use crate::linalg::Vector;

    /// The operator form against the closed-form chain of [`super::super::update_map`]:
    /// the same matrix products, so agreement to rounding.
    const SAME_MAP: f64 = 1e-13;

    #[test]
    fn plain_steps_match_the_closed_form_chains() {
        let game = Bilinear::scalar(1.3);
        let x = Vector::from_vec(vec![0.2, -0.4]);
        let j = game.jacobian(&x);
        for name in [RuleName::Simultaneous, RuleName::Alternating] {
            let rule = RuleSpec::new(name, 0.3, 0.7).unwrap().build().unwrap();
            let lin = LinearMap::new(&rule, 2, 1, None).unwrap();
            let m = lin.apply(&Matrix::identity(2, 2), &|z| Ok(&j * z)).unwrap();
            let want = analytic_map_jacobian(&game, &rule, &x).unwrap();
            assert!((m - want).amax() < SAME_MAP, "{name:?}");
        }
    }

    #[test]
    fn momentum_matches_differences_of_the_rule_step() {
        // Heavy ball is linear in (x, m) for a bilinear game: the differenced map of
        // update_map (central differences of the augmented step) equals ours to ~1e-9.
        const FD_MAP: f64 = 1e-8;
        let game = Bilinear::scalar(1.0);
        let x = Vector::from_vec(vec![0.0, 0.0]);
        let j = game.jacobian(&x);
        let rule = RuleSpec::new(RuleName::Momentum, 0.2, 0.2)
            .unwrap()
            .build()
            .unwrap();
        let lin = LinearMap::new(&rule, 2, 1, None).unwrap();
        let m = lin.apply(&Matrix::identity(4, 4), &|z| Ok(&j * z)).unwrap();
        let ev = crate::linalg::eigenvalues(&m).unwrap();
        let want = crate::analysis::linearize_update(&game, &rule, &x).unwrap();
        let rho = crate::linalg::spectral_radius(&ev);
        assert!(
            (rho - want.spectral_radius).abs() < FD_MAP,
            "{rho} vs {}",
            want.spectral_radius
        );
    }
}
