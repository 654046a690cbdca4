//! The one vocabulary of update rules: a [`RuleSpec`] is a scheme (where and how often
//! the field is evaluated: [`Scheme`]), one optimiser per player ([`Optimizer`], which
//! holds that player's learning rate and nothing else does) and an optional field
//! adjustment ([`Adjustment`]: consensus or SGA). The command line (`--rule` and its
//! options), the studies' rule entries and the trainer's `schedule` / `optimizer_g` /
//! `optimizer_d` keys all produce this one type, and [`RuleSpec::validate`] is the one
//! validation. The named reduced-game rules ([`RuleName`]) are constructors of it
//! ([`RuleName::spec`]); [`RuleSpec::name`] recovers the name from a spec.

use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Optimizer, Rule, RuleName, RuleOptions, Scheme};
use crate::error::{Error, Result};
use crate::game::{Consensus, Game, Sga};

/// Which player moves first in alternating schemes. Written `g-first`/`d-first`; the
/// trainer's older spelling `g_first`/`d_first` is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Order {
    /// Generator first.
    #[default]
    #[serde(rename = "g-first", alias = "g_first")]
    GFirst,
    /// Discriminator first.
    #[serde(rename = "d-first", alias = "d_first")]
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

impl FromStr for Order {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "g-first" | "g_first" => Ok(Order::GFirst),
            "d-first" | "d_first" => Ok(Order::DFirst),
            _ => Err(Error::param(
                "order",
                format!("`{s}` is not g-first or d-first"),
            )),
        }
    }
}

/// Whether a transform-based rule (momentum, optimistic, Adam, RMSProp) steps the players
/// simultaneously or in turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SchemeKind {
    /// Both players from the same point.
    #[default]
    Simultaneous,
    /// In turns, with `order`, `k_g` and `k_d`.
    Alternating,
}

impl FromStr for SchemeKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "simultaneous" => Ok(SchemeKind::Simultaneous),
            "alternating" => Ok(SchemeKind::Alternating),
            _ => Err(Error::param(
                "scheme",
                format!("`{s}` is not simultaneous or alternating"),
            )),
        }
    }
}

/// A modification of the field that a rule steps on (the rule then takes plain steps on
/// the adjusted field: see [`crate::game::Consensus`] and [`crate::game::Sga`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Adjustment {
    /// v − γJᵀv (Mescheder, Nowozin & Geiger 2017).
    Consensus {
        /// γ ≥ 0.
        gamma: f64,
    },
    /// v − λAᵀv with A = (J − Jᵀ)/2 (Balduzzi et al. 2018).
    Sga {
        /// λ ≥ 0.
        lambda: f64,
    },
}

/// A complete, validated-on-use description of an update rule; the resolved form written
/// next to every output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Where and how often the field is evaluated.
    pub scheme: Scheme,
    /// The generator's optimiser.
    pub g: Optimizer,
    /// The discriminator's optimiser.
    pub d: Optimizer,
    /// A field adjustment (consensus, SGA), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<Adjustment>,
}

impl RuleSpec {
    /// The named rule with its default options (valid whenever the learning rates are).
    ///
    /// # Errors
    /// [`Error::Param`] for a learning rate that is not positive and finite.
    pub fn new(name: RuleName, lr_g: f64, lr_d: f64) -> Result<Self> {
        name.spec(lr_g, lr_d, &RuleOptions::default())
    }

    /// The name of the rule this spec is (derived, so it cannot disagree with the spec).
    #[must_use]
    pub fn name(&self) -> RuleName {
        match (self.adjust, &self.scheme, self.g) {
            (Some(Adjustment::Consensus { .. }), ..) => RuleName::Consensus,
            (Some(Adjustment::Sga { .. }), ..) => RuleName::Sga,
            (None, Scheme::Flow, _) => RuleName::Flow,
            (None, Scheme::Extragradient, _) => RuleName::Extragradient,
            (None, _, Optimizer::Momentum { .. }) => RuleName::Momentum,
            (None, _, Optimizer::Optimistic { .. }) => RuleName::Optimistic,
            (None, _, Optimizer::Adam { .. }) => RuleName::Adam,
            (None, _, Optimizer::RmsProp { .. }) => RuleName::RmsProp,
            (None, Scheme::Alternating { .. }, Optimizer::Sgd { .. }) => RuleName::Alternating,
            (None, Scheme::Simultaneous, Optimizer::Sgd { .. }) => RuleName::Simultaneous,
        }
    }
    /// Generator learning rate.
    #[must_use]
    pub fn lr_g(&self) -> f64 {
        self.g.lr()
    }
    /// Discriminator learning rate.
    #[must_use]
    pub fn lr_d(&self) -> f64 {
        self.d.lr()
    }
    /// The same rule with other learning rates (one cell of a learning-rate grid).
    #[must_use]
    pub fn with_lrs(&self, lr_g: f64, lr_d: f64) -> Self {
        RuleSpec {
            g: self.g.with_lr(lr_g),
            d: self.d.with_lr(lr_d),
            ..self.clone()
        }
    }
    /// (order, k_G, k_D) of an alternating scheme; (g-first, 1, 1) otherwise.
    #[must_use]
    pub fn turns(&self) -> (Order, usize, usize) {
        match self.scheme {
            Scheme::Alternating { order, k_g, k_d } => (order, k_g, k_d),
            _ => (Order::GFirst, 1, 1),
        }
    }

    /// Checks every setting: learning rates positive and finite, optimiser constants in
    /// range, k_G and k_D ≥ 1, the flow only with plain steps (its time scales are the
    /// learning rates), adjustment weights ≥ 0.
    ///
    /// # Errors
    /// [`Error::Param`] naming the key (`lr_g`, `k_d`, `beta1`, …).
    pub fn validate(&self) -> Result<()> {
        self.g
            .validate(&|f| if f == "lr" { "lr_g".into() } else { f.into() })?;
        self.d
            .validate(&|f| if f == "lr" { "lr_d".into() } else { f.into() })?;
        self.scheme.validate(&|f| f.into())?;
        if self.scheme == Scheme::Flow
            && !(matches!(self.g, Optimizer::Sgd { .. }) && matches!(self.d, Optimizer::Sgd { .. }))
        {
            return Err(Error::param(
                "rule",
                "the flow integrates ẋ = Hv with the learning rates as time scales: it takes \
                 plain (sgd) steps only",
            ));
        }
        match self.adjust {
            Some(Adjustment::Consensus { gamma: w }) | Some(Adjustment::Sga { lambda: w })
                if !(w.is_finite() && w >= 0.0) =>
            {
                Err(Error::param(
                    "gamma",
                    format!("{w} is not a finite number ≥ 0"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The runnable rule: the scheme and one transform chain per player (consensus and
    /// SGA are plain steps on an adjusted field: see [`RuleSpec::adjust_game`]).
    ///
    /// # Errors
    /// [`Error::Param`] for invalid settings.
    pub fn build(&self) -> Result<Rule> {
        self.validate()?;
        Ok(Rule {
            scheme: self.scheme.clone(),
            g: self.g.chain(),
            d: self.d.chain(),
        })
    }

    /// Wraps the game in the field adjustment the rule needs (consensus, SGA).
    #[must_use]
    pub fn adjust_game(&self, game: Arc<dyn Game>) -> Arc<dyn Game> {
        match self.adjust {
            Some(Adjustment::Consensus { gamma }) => Arc::new(Consensus { inner: game, gamma }),
            Some(Adjustment::Sga { lambda }) => Arc::new(Sga {
                inner: game,
                lambda,
            }),
            None => game,
        }
    }

    /// A short description for titles, e.g. "alternating, η_G = 0.1, η_D = 0.1, k_G = 1,
    /// k_D = 5".
    #[must_use]
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{}, η_G = {}, η_D = {}",
            self.name().as_str(),
            self.lr_g(),
            self.lr_d()
        );
        let (_, k_g, k_d) = self.turns();
        if k_g != 1 || k_d != 1 {
            s.push_str(&format!(", k_G = {k_g}, k_D = {k_d}"));
        }
        s
    }
}

impl Scheme {
    /// Checks k_G, k_D ≥ 1; `key` names the field.
    ///
    /// # Errors
    /// [`Error::Param`].
    pub fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<()> {
        if let Scheme::Alternating { k_g, k_d, .. } = self {
            for (name, k) in [("k_g", k_g), ("k_d", k_d)] {
                if *k == 0 {
                    return Err(Error::param(key(name), "must be at least 1"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_validation_for_every_source() {
        for (o, key) in [
            (
                RuleOptions {
                    eps: Some(0.0),
                    ..Default::default()
                },
                "eps",
            ),
            (
                RuleOptions {
                    beta1: Some(1.0),
                    ..Default::default()
                },
                "beta1",
            ),
        ] {
            let e = RuleName::Adam.spec(0.1, 0.1, &o).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
        }
        let e = RuleName::Simultaneous.spec(-5.0, 0.1, &RuleOptions::default());
        assert!(e.unwrap_err().to_string().contains("lr_g"));
        // The trainer's spelling of the same optimiser gets the same check.
        let adam = Optimizer::Adam {
            lr: 1e-3,
            beta1: 0.5,
            beta2: 0.9,
            eps: 0.0,
        };
        let e = adam.validate(&|f| format!("optimizer_g.{f}")).unwrap_err();
        assert!(e.to_string().contains("optimizer_g.eps"), "{e}");
        let flow_adam = RuleSpec {
            scheme: Scheme::Flow,
            ..RuleSpec::new(RuleName::Adam, 0.1, 0.1).unwrap()
        };
        assert!(flow_adam.validate().is_err());
    }

    #[test]
    fn both_order_spellings_parse() {
        #[derive(Deserialize)]
        struct T {
            order: Order,
        }
        for (s, o) in [
            ("d-first", Order::DFirst),
            ("d_first", Order::DFirst),
            ("g-first", Order::GFirst),
            ("g_first", Order::GFirst),
        ] {
            let t: T = toml::from_str(&format!("order = \"{s}\"")).unwrap();
            assert_eq!(t.order, o);
        }
    }
}
