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

use super::{Rule, Scheme};
use crate::error::{Error, Result};
use crate::game::{Consensus, Game, Sga};
use crate::optim::Chain;

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

/// A player's optimiser: the transforms that turn its field block into its step. The
/// learning rate lives here and only here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    /// Plain gradient descent: Δ = lr·u.
    Sgd {
        /// Learning rate.
        lr: f64,
    },
    /// Heavy ball: m ← βm + u, Δ = lr·m (negative β: Gidel et al. 2019).
    Momentum {
        /// Learning rate.
        lr: f64,
        /// β ∈ (−1, 1) (default −0.5).
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Optimistic: Δ = lr·(2u_t − u_{t−1}) (Daskalakis et al. 2018).
    Optimistic {
        /// Learning rate.
        lr: f64,
    },
    /// Adam (Kingma & Ba 2015).
    Adam {
        /// Learning rate.
        lr: f64,
        /// β₁ ∈ [0, 1) (default 0.9).
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// β₂ ∈ [0, 1) (default 0.999).
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// ε > 0 (default 1e-8, as PyTorch).
        #[serde(default = "default_eps")]
        eps: f64,
    },
    /// RMSProp (Tieleman & Hinton 2012).
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// ρ ∈ [0, 1) (default 0.99, as PyTorch).
        #[serde(default = "default_rho")]
        rho: f64,
        /// ε > 0 (default 1e-8).
        #[serde(default = "default_eps")]
        eps: f64,
    },
}

fn default_beta() -> f64 {
    -0.5
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
fn default_rho() -> f64 {
    0.99
}

impl Optimizer {
    /// Adam with learning rate `lr` and (β₁, β₂), ε = 1e-8.
    #[must_use]
    pub fn adam(lr: f64, beta1: f64, beta2: f64) -> Self {
        Optimizer::Adam {
            lr,
            beta1,
            beta2,
            eps: default_eps(),
        }
    }

    /// The learning rate.
    #[must_use]
    pub fn lr(&self) -> f64 {
        match *self {
            Optimizer::Sgd { lr }
            | Optimizer::Momentum { lr, .. }
            | Optimizer::Optimistic { lr }
            | Optimizer::Adam { lr, .. }
            | Optimizer::RmsProp { lr, .. } => lr,
        }
    }

    /// The same optimiser with learning rate `lr`.
    #[must_use]
    pub fn with_lr(mut self, new: f64) -> Self {
        match &mut self {
            Optimizer::Sgd { lr }
            | Optimizer::Momentum { lr, .. }
            | Optimizer::Optimistic { lr }
            | Optimizer::Adam { lr, .. }
            | Optimizer::RmsProp { lr, .. } => *lr = new,
        }
        self
    }

    /// The transform chain that runs it.
    #[must_use]
    pub fn chain(&self) -> Chain {
        match *self {
            Optimizer::Sgd { lr } => Chain::sgd(lr),
            Optimizer::Momentum { lr, beta } => Chain::momentum(lr, beta),
            Optimizer::Optimistic { lr } => Chain::optimistic(lr),
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Chain::adam(lr, beta1, beta2, eps),
            Optimizer::RmsProp { lr, rho, eps } => Chain::rmsprop(lr, rho, eps),
        }
    }

    /// Checks every setting; `key(field)` names a field in the error (so the command
    /// line says `lr_g` and a training configuration `optimizer_g.lr`).
    ///
    /// # Errors
    /// [`Error::Param`] naming the key, the value and the reason.
    pub fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<()> {
        let unit = |name: &str, v: f64, lo_open: bool| {
            let ok = if lo_open {
                v > -1.0 && v < 1.0
            } else {
                (0.0..1.0).contains(&v)
            };
            if ok {
                Ok(())
            } else {
                Err(Error::param(
                    key(name),
                    format!(
                        "{v} is not in {}",
                        if lo_open { "(−1, 1)" } else { "[0, 1)" }
                    ),
                ))
            }
        };
        let eps_ok = |eps: f64| {
            if eps.is_finite() && eps > 0.0 {
                Ok(())
            } else {
                Err(Error::param(
                    key("eps"),
                    format!(
                        "{eps} is not a positive number (ε = 0 divides by zero on a coordinate \
                         whose gradient is 0)"
                    ),
                ))
            }
        };
        match *self {
            Optimizer::Sgd { .. } | Optimizer::Optimistic { .. } => {}
            Optimizer::Momentum { beta, .. } => unit("beta", beta, true)?,
            Optimizer::Adam {
                beta1, beta2, eps, ..
            } => {
                unit("beta1", beta1, false)?;
                unit("beta2", beta2, false)?;
                eps_ok(eps)?;
            }
            Optimizer::RmsProp { rho, eps, .. } => {
                unit("rho", rho, false)?;
                eps_ok(eps)?;
            }
        }
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::param(
                key("lr"),
                format!("learning rate {lr} is not a positive finite number"),
            ));
        }
        Ok(())
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
