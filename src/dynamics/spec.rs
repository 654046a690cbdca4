//! Named update rules and their settings, as given on the command line or in a study.

use serde::{Deserialize, Serialize};

use super::{Rule, Scheme};
use crate::error::{Error, Result};
use crate::game::{Consensus, Game, Sga};
use crate::optim::Chain;

/// The named rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RuleName {
    /// Simultaneous gradient descent.
    Simultaneous,
    /// Alternating gradient descent (see `order`, `k_g`, `k_d`).
    Alternating,
    /// Heavy-ball momentum `beta` (negative allowed), simultaneous or alternating.
    Momentum,
    /// Extragradient.
    Extragradient,
    /// Optimistic gradient descent.
    Optimistic,
    /// Consensus optimisation with weight `gamma`.
    Consensus,
    /// Symplectic gradient adjustment with λ = `gamma`.
    Sga,
    /// Adam per player (`beta1`, `beta2`, `eps`).
    Adam,
    /// The continuous flow, integrated by RK4.
    Flow,
}

impl RuleName {
    /// The CLI name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RuleName::Simultaneous => "simultaneous",
            RuleName::Alternating => "alternating",
            RuleName::Momentum => "momentum",
            RuleName::Extragradient => "extragradient",
            RuleName::Optimistic => "optimistic",
            RuleName::Consensus => "consensus",
            RuleName::Sga => "sga",
            RuleName::Adam => "adam",
            RuleName::Flow => "flow",
        }
    }
}

/// Which player moves first in alternating schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// Generator first.
    #[default]
    GFirst,
    /// Discriminator first.
    DFirst,
}

impl Order {
    /// The CLI and CSV name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Order::GFirst => "g-first",
            Order::DFirst => "d-first",
        }
    }
}

/// Whether transform-based rules (momentum, optimistic, Adam) step the players
/// simultaneously or in turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum SchemeKind {
    /// Both players from the same point.
    #[default]
    Simultaneous,
    /// In turns, with `order`, `k_g` and `k_d`.
    Alternating,
}

/// A rule with all its settings (the resolved form is written next to every output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The rule.
    pub rule: RuleName,
    /// Generator learning rate h_g > 0.
    pub lr_g: f64,
    /// Discriminator learning rate h_d > 0.
    pub lr_d: f64,
    /// Update order for alternating schemes.
    #[serde(default)]
    pub order: Order,
    /// Generator updates per outer step (alternating schemes).
    #[serde(default = "one")]
    pub k_g: usize,
    /// Discriminator updates per outer step (alternating schemes).
    #[serde(default = "one")]
    pub k_d: usize,
    /// Simultaneous or alternating, for momentum, optimistic and Adam.
    #[serde(default)]
    pub scheme: SchemeKind,
    /// Momentum β ∈ (−1, 1).
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Consensus γ or SGA λ (≥ 0).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Adam β₁ ∈ [0, 1).
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    /// Adam β₂ ∈ [0, 1).
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    /// Adam ε > 0.
    #[serde(default = "default_eps")]
    pub eps: f64,
}

fn one() -> usize {
    1
}
fn default_beta() -> f64 {
    -0.5
}
fn default_gamma() -> f64 {
    1.0
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}

impl RuleSpec {
    /// A rule with default settings and the given learning rates.
    #[must_use]
    pub fn new(rule: RuleName, lr_g: f64, lr_d: f64) -> Self {
        RuleSpec {
            rule,
            lr_g,
            lr_d,
            order: Order::GFirst,
            k_g: 1,
            k_d: 1,
            scheme: SchemeKind::Simultaneous,
            beta: default_beta(),
            gamma: default_gamma(),
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
        }
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::Param`] naming the key and the reason.
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("lr_g", self.lr_g), ("lr_d", self.lr_d)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::param(
                    key,
                    format!("learning rate must be positive and finite, got {v}"),
                ));
            }
        }
        for (key, k) in [("k_g", self.k_g), ("k_d", self.k_d)] {
            if k == 0 {
                return Err(Error::param(key, "must be at least 1"));
            }
        }
        if !(self.beta.is_finite() && self.beta.abs() < 1.0) {
            return Err(Error::param(
                "beta",
                format!("momentum must be in (−1, 1), got {}", self.beta),
            ));
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::param(
                "gamma",
                format!("must be ≥ 0, got {}", self.gamma),
            ));
        }
        for (key, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::param(key, format!("must be in [0, 1), got {b}")));
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::param(
                "eps",
                format!("must be > 0, got {}", self.eps),
            ));
        }
        Ok(())
    }

    /// The rule's scheme and chains (consensus and SGA are plain simultaneous steps on an
    /// adjusted field: see [`RuleSpec::adjust_game`]).
    ///
    /// # Errors
    /// [`Error::Param`] for invalid settings.
    pub fn build_rule(&self) -> Result<Rule> {
        self.validate()?;
        let (hg, hd) = (self.lr_g, self.lr_d);
        let alternating = Scheme::Alternating {
            order: self.order,
            k_g: self.k_g,
            k_d: self.k_d,
        };
        let chosen = match self.scheme {
            SchemeKind::Simultaneous => Scheme::Simultaneous,
            SchemeKind::Alternating => alternating.clone(),
        };
        let sgd = (Chain::sgd(hg), Chain::sgd(hd));
        let (scheme, (g, d)) = match self.rule {
            RuleName::Simultaneous | RuleName::Consensus | RuleName::Sga => {
                (Scheme::Simultaneous, sgd)
            }
            RuleName::Alternating => (alternating, sgd),
            RuleName::Momentum => (
                chosen,
                (
                    Chain::momentum(hg, self.beta),
                    Chain::momentum(hd, self.beta),
                ),
            ),
            RuleName::Optimistic => (chosen, (Chain::optimistic(hg), Chain::optimistic(hd))),
            RuleName::Adam => (
                chosen,
                (
                    Chain::adam(hg, self.beta1, self.beta2, self.eps),
                    Chain::adam(hd, self.beta1, self.beta2, self.eps),
                ),
            ),
            RuleName::Extragradient => (Scheme::Extragradient { h_g: hg, h_d: hd }, sgd),
            RuleName::Flow => (
                Scheme::Flow { h_g: hg, h_d: hd },
                (Chain::default(), Chain::default()),
            ),
        };
        Ok(Rule { scheme, g, d })
    }

    /// Wraps the game in the field adjustment the rule needs (consensus, SGA).
    #[must_use]
    pub fn adjust_game(&self, game: Box<dyn Game>) -> Box<dyn Game> {
        match self.rule {
            RuleName::Consensus => Box::new(Consensus {
                inner: game,
                gamma: self.gamma,
            }),
            RuleName::Sga => Box::new(Sga {
                inner: game,
                lambda: self.gamma,
            }),
            _ => game,
        }
    }
}
