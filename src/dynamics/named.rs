//! The named update rules of the reduced games (`--rule NAME`, `rule = "NAME"` in
//! studies) and their options: each name is a constructor of a [`RuleSpec`].

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::optimizer::{default_eps, default_rho};
use super::spec::{Adjustment, Order, RuleSpec, SchemeKind};
use super::{Optimizer, Scheme};
use crate::error::{Error, Result};

/// The named rules of the reduced games (`--rule NAME`, `rule = "NAME"` in studies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleName {
    /// Simultaneous gradient descent.
    Simultaneous,
    /// Alternating gradient descent (options `order`, `k_g`, `k_d`).
    Alternating,
    /// Heavy-ball momentum `beta` (negative allowed), simultaneous or alternating.
    Momentum,
    /// Extragradient (Korpelevich 1976).
    Extragradient,
    /// Optimistic gradient descent (Daskalakis et al. 2018).
    Optimistic,
    /// Consensus optimisation with weight `gamma` (Mescheder et al. 2017).
    Consensus,
    /// Symplectic gradient adjustment with λ = `gamma` (Balduzzi et al. 2018).
    Sga,
    /// Adam per player (`beta1`, `beta2`, `eps`).
    Adam,
    /// RMSProp per player (the trainer's `rms_prop` optimiser; no CLI options).
    RmsProp,
    /// The continuous flow, integrated by RK4.
    Flow,
}

impl RuleName {
    /// Every name, in the order `--help` lists them.
    pub const ALL: [RuleName; 10] = [
        RuleName::Simultaneous,
        RuleName::Alternating,
        RuleName::Momentum,
        RuleName::Extragradient,
        RuleName::Optimistic,
        RuleName::Consensus,
        RuleName::Sga,
        RuleName::Adam,
        RuleName::RmsProp,
        RuleName::Flow,
    ];

    /// The CLI and CSV name.
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
            RuleName::RmsProp => "rmsprop",
            RuleName::Flow => "flow",
        }
    }

    /// The rule with learning rates `lr_g`, `lr_d` and the given options; an option the
    /// rule does not use is refused, so a typo cannot silently change nothing.
    ///
    /// # Errors
    /// [`Error::Param`] naming the option that does not apply, or (from
    /// [`RuleSpec::validate`]) the setting that is out of range.
    pub fn spec(self, lr_g: f64, lr_d: f64, o: &RuleOptions) -> Result<RuleSpec> {
        use RuleName as N;
        let turns = matches!(self, N::Momentum | N::Optimistic | N::Adam | N::RmsProp)
            && o.scheme == Some(SchemeKind::Alternating);
        let allowed: &[&str] = match self {
            N::Alternating => &["order", "k_g", "k_d"],
            N::Momentum if turns => &["scheme", "order", "k_g", "k_d", "beta"],
            N::Momentum => &["scheme", "beta"],
            N::Optimistic | N::RmsProp if turns => &["scheme", "order", "k_g", "k_d"],
            N::Optimistic | N::RmsProp => &["scheme"],
            N::Adam if turns => &["scheme", "order", "k_g", "k_d", "beta1", "beta2", "eps"],
            N::Adam => &["scheme", "beta1", "beta2", "eps"],
            N::Consensus | N::Sga => &["gamma"],
            N::Simultaneous | N::Extragradient | N::Flow => &[],
        };
        if let Some(key) = o.given().into_iter().find(|k| !allowed.contains(k)) {
            let uses = if allowed.is_empty() {
                "no options".to_string()
            } else {
                allowed.join(", ")
            };
            return Err(Error::param(
                key,
                format!(
                    "does not apply to rule `{}` (it takes {uses}{})",
                    self.as_str(),
                    if allowed.contains(&"scheme") && !turns {
                        "; order, k_g and k_d with scheme = alternating"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let d = RuleOptions::DEFAULT;
        let alternating = Scheme::Alternating {
            order: o.order.unwrap_or(Order::GFirst),
            k_g: o.k_g.unwrap_or(1),
            k_d: o.k_d.unwrap_or(1),
        };
        let chosen = if turns {
            alternating.clone()
        } else {
            Scheme::Simultaneous
        };
        let beta = o.beta.or(d.beta).unwrap_or_default();
        let (b1, b2, eps) = (
            o.beta1.or(d.beta1).unwrap_or_default(),
            o.beta2.or(d.beta2).unwrap_or_default(),
            o.eps.or(d.eps).unwrap_or_default(),
        );
        let gamma = o.gamma.or(d.gamma).unwrap_or_default();
        let both = |f: &dyn Fn(f64) -> Optimizer| (f(lr_g), f(lr_d));
        let sgd = both(&|lr| Optimizer::Sgd { lr });
        let (scheme, (g, dd), adjust) = match self {
            N::Simultaneous => (Scheme::Simultaneous, sgd, None),
            N::Alternating => (alternating, sgd, None),
            N::Extragradient => (Scheme::Extragradient, sgd, None),
            N::Flow => (Scheme::Flow, sgd, None),
            N::Consensus => (
                Scheme::Simultaneous,
                sgd,
                Some(Adjustment::Consensus { gamma }),
            ),
            N::Sga => (
                Scheme::Simultaneous,
                sgd,
                Some(Adjustment::Sga { lambda: gamma }),
            ),
            N::Momentum => (chosen, both(&|lr| Optimizer::Momentum { lr, beta }), None),
            N::Optimistic => (chosen, both(&|lr| Optimizer::Optimistic { lr }), None),
            N::Adam => (
                chosen,
                both(&|lr| Optimizer::Adam {
                    lr,
                    beta1: b1,
                    beta2: b2,
                    eps,
                }),
                None,
            ),
            N::RmsProp => (
                chosen,
                both(&|lr| Optimizer::RmsProp {
                    lr,
                    rho: default_rho(),
                    eps: default_eps(),
                }),
                None,
            ),
        };
        let spec = RuleSpec {
            scheme,
            g,
            d: dd,
            adjust,
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl FromStr for RuleName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        RuleName::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = RuleName::ALL.iter().map(|n| n.as_str()).collect();
                Error::param(
                    "rule",
                    format!("unknown rule `{s}` (expected one of {})", names.join(", ")),
                )
            })
    }
}

/// The options of a named rule as the command line and the study files give them. Every
/// field is optional: a field that is given must apply to the rule ([`RuleName::spec`]),
/// and one that is not takes its default from [`RuleOptions::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOptions {
    /// Who moves first in alternating schemes (default g-first).
    #[serde(default)]
    pub order: Option<Order>,
    /// Generator updates per outer step (default 1).
    #[serde(default)]
    pub k_g: Option<usize>,
    /// Discriminator updates per outer step (default 1).
    #[serde(default)]
    pub k_d: Option<usize>,
    /// Simultaneous or alternating steps for momentum, optimistic, Adam and RMSProp
    /// (default simultaneous).
    #[serde(default)]
    pub scheme: Option<SchemeKind>,
    /// Momentum β ∈ (−1, 1) (default −0.5).
    #[serde(default)]
    pub beta: Option<f64>,
    /// Consensus γ or SGA λ ≥ 0 (default 1).
    #[serde(default)]
    pub gamma: Option<f64>,
    /// Adam β₁ (default 0.9).
    #[serde(default)]
    pub beta1: Option<f64>,
    /// Adam β₂ (default 0.999).
    #[serde(default)]
    pub beta2: Option<f64>,
    /// Adam ε (default 1e-8).
    #[serde(default)]
    pub eps: Option<f64>,
}

impl RuleOptions {
    /// The defaults of the numeric options (the one place they are written).
    pub const DEFAULT: RuleOptions = RuleOptions {
        order: None,
        k_g: None,
        k_d: None,
        scheme: None,
        beta: Some(-0.5),
        gamma: Some(1.0),
        beta1: Some(0.9),
        beta2: Some(0.999),
        eps: Some(1e-8),
    };

    /// The names of the options that were given.
    #[must_use]
    pub fn given(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |on: bool, k: &'static str| {
            if on {
                v.push(k);
            }
        };
        add(self.scheme.is_some(), "scheme");
        add(self.order.is_some(), "order");
        add(self.k_g.is_some(), "k_g");
        add(self.k_d.is_some(), "k_d");
        add(self.beta.is_some(), "beta");
        add(self.gamma.is_some(), "gamma");
        add(self.beta1.is_some(), "beta1");
        add(self.beta2.is_some(), "beta2");
        add(self.eps.is_some(), "eps");
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::optimizer::{default_beta, default_beta1, default_beta2};

    #[test]
    fn defaults_agree_with_serde_defaults() {
        let d = RuleOptions::DEFAULT;
        assert_eq!(d.beta, Some(default_beta()));
        assert_eq!(d.gamma, Some(1.0));
        assert_eq!(d.beta1, Some(default_beta1()));
        assert_eq!(d.beta2, Some(default_beta2()));
        assert_eq!(d.eps, Some(default_eps()));
    }

    #[test]
    fn name_round_trips_through_spec() {
        for name in RuleName::ALL {
            let spec = RuleSpec::new(name, 0.1, 0.2).unwrap();
            assert_eq!(spec.name(), name);
            assert_eq!((spec.lr_g(), spec.lr_d()), (0.1, 0.2));
            assert_eq!(name.as_str().parse::<RuleName>().unwrap(), name);
        }
    }
    #[test]
    fn options_that_do_not_apply_are_refused() {
        let k5 = RuleOptions {
            k_d: Some(5),
            ..RuleOptions::default()
        };
        let e = RuleName::Simultaneous.spec(0.1, 0.1, &k5).unwrap_err();
        assert!(e.to_string().contains("k_d"), "{e}");
        assert!(RuleName::Alternating.spec(0.1, 0.1, &k5).is_ok());
        let beta = RuleOptions {
            beta: Some(0.3),
            ..RuleOptions::default()
        };
        assert!(RuleName::Adam.spec(0.1, 0.1, &beta).is_err());
        assert!(RuleName::Momentum.spec(0.1, 0.1, &beta).is_ok());
        // k_d applies to momentum only with scheme = alternating.
        assert!(RuleName::Momentum.spec(0.1, 0.1, &k5).is_err());
        let turns = RuleOptions {
            scheme: Some(SchemeKind::Alternating),
            ..k5
        };
        let s = RuleName::Momentum.spec(0.1, 0.1, &turns).unwrap();
        assert_eq!(s.turns(), (Order::GFirst, 1, 5));
    }
}
