//! A player's optimiser: the named transform chains (SGD, momentum, optimistic, Adam,
//! RMSProp) with their settings and their one validation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::Chain;

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

pub(super) fn default_beta() -> f64 {
    -0.5
}
pub(super) fn default_beta1() -> f64 {
    0.9
}
pub(super) fn default_beta2() -> f64 {
    0.999
}
pub(super) fn default_eps() -> f64 {
    1e-8
}
pub(super) fn default_rho() -> f64 {
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
