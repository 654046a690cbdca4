//! Argument groups shared by several commands, and the translation of each into the
//! library's own type (the library holds every default and every validation).

use std::str::FromStr;
use std::sync::Arc;

use clap::Args;

use redqueen::dynamics::{Order, RuleName, RuleOptions, RuleSpec, SchemeKind};
use redqueen::error::{Error, Result};
use redqueen::game::{Game, GameSpec, parse_f64};
use redqueen::linalg::Vector;

/// A clap value parser from the library's `FromStr` (its error names the key).
pub fn parsed<T: FromStr<Err = Error>>(s: &str) -> std::result::Result<T, String> {
    s.parse::<T>().map_err(|e| e.to_string())
}

/// A game and its settings.
#[derive(Debug, Args)]
pub struct GameArgs {
    /// dirac, bilinear, lotka-volterra, one-mode or ttur-saddle.
    pub game: String,
    /// Game settings key=value (repeatable, or several after one --set); see the list below.
    #[arg(long = "set", value_name = "KEY=VALUE", num_args = 1..)]
    pub set: Vec<String>,
}

impl GameArgs {
    /// The typed game spec.
    pub fn spec(&self) -> Result<GameSpec> {
        GameSpec::parse(&self.game, &self.set)
    }
    /// The game.
    pub fn build(&self) -> Result<Arc<dyn Game>> {
        self.spec()?.build()
    }
}

/// The learning rates of one run.
#[derive(Debug, Args, Clone)]
pub struct LrArgs {
    /// Learning rate of the generator.
    #[arg(long = "lr-g", allow_negative_numbers = true)]
    pub lr_g: Option<f64>,
    /// Learning rate of the discriminator.
    #[arg(long = "lr-d", allow_negative_numbers = true)]
    pub lr_d: Option<f64>,
    /// Learning rate of both players (overridden by --lr-g / --lr-d).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
}

impl LrArgs {
    /// (lr_G, lr_D), each required.
    pub fn pair(&self) -> Result<(f64, f64)> {
        let lr_g = self
            .lr_g
            .or(self.lr)
            .ok_or_else(|| Error::param("--lr-g", "give --lr-g (or --lr)"))?;
        let lr_d = self
            .lr_d
            .or(self.lr)
            .ok_or_else(|| Error::param("--lr-d", "give --lr-d (or --lr)"))?;
        Ok((lr_g, lr_d))
    }
    /// Whether any learning rate was given.
    pub fn any(&self) -> bool {
        self.lr_g.is_some() || self.lr_d.is_some() || self.lr.is_some()
    }
}

/// The options of a named rule (the library's [`RuleOptions`]; every default and check
/// is there, and an option that does not apply to the rule is refused).
#[derive(Debug, Args, Clone)]
pub struct RuleArgs {
    /// Which player moves first (alternating schemes): g-first or d-first [g-first].
    #[arg(long, value_parser = parsed::<Order>)]
    pub order: Option<Order>,
    /// Generator updates per outer step (alternating schemes) [1].
    #[arg(long = "k-g", allow_negative_numbers = true)]
    pub k_g: Option<usize>,
    /// Discriminator updates per outer step (alternating schemes) [1].
    #[arg(long = "k-d", allow_negative_numbers = true)]
    pub k_d: Option<usize>,
    /// Simultaneous or alternating steps for momentum, optimistic, adam and rmsprop
    /// [simultaneous].
    #[arg(long, value_parser = parsed::<SchemeKind>)]
    pub scheme: Option<SchemeKind>,
    /// Momentum β (negative allowed), for --rule momentum [-0.5].
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// Consensus γ, or SGA λ [1].
    #[arg(long, allow_negative_numbers = true)]
    pub gamma: Option<f64>,
    /// Adam β₁ [0.9].
    #[arg(long, allow_negative_numbers = true)]
    pub beta1: Option<f64>,
    /// Adam β₂ [0.999].
    #[arg(long, allow_negative_numbers = true)]
    pub beta2: Option<f64>,
    /// Adam ε [1e-8].
    #[arg(long, allow_negative_numbers = true)]
    pub eps: Option<f64>,
}

impl RuleArgs {
    fn options(&self) -> RuleOptions {
        RuleOptions {
            order: self.order,
            k_g: self.k_g,
            k_d: self.k_d,
            scheme: self.scheme,
            beta: self.beta,
            gamma: self.gamma,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
        }
    }
    /// Whether any option was given.
    pub fn any(&self) -> bool {
        !self.options().given().is_empty()
    }
    /// The rule spec, with errors naming the command-line flag.
    pub fn spec(&self, rule: RuleName, (lr_g, lr_d): (f64, f64)) -> Result<RuleSpec> {
        rule.spec(lr_g, lr_d, &self.options()).map_err(as_flag)
    }
}

/// Renames a library key (`lr_g`, `k_d`) to the flag that sets it (`--lr-g`, `--k-d`).
pub fn as_flag(e: Error) -> Error {
    match e {
        Error::Param { key, reason } if !key.starts_with("--") => Error::Param {
            key: format!("--{}", key.replace('_', "-")),
            reason,
        },
        other => other,
    }
}

/// Parses `x1,x2,...` (flag `--key`) as a point of `game`, with the check the study
/// files use too ([`redqueen::game::start_point`]).
pub fn parse_point(key: &str, s: &str, game: &dyn Game) -> Result<Vector> {
    let v: Vec<f64> = s
        .split(',')
        .map(|t| parse_f64(&format!("--{key}"), t.trim()))
        .collect::<Result<_>>()?;
    redqueen::game::start_point(game, Some(&v)).map_err(|e| match e {
        Error::Dimension { got, expected, .. } => Error::Dimension {
            what: format!("--{key} `{s}`"),
            got,
            expected,
        },
        other => as_flag(other),
    })
}

/// Checks a divergence bound (`--bound`): positive and finite.
pub fn check_bound(bound: f64) -> Result<f64> {
    if bound.is_finite() && bound > 0.0 {
        Ok(bound)
    } else {
        Err(Error::param(
            "--bound",
            format!("{bound} is not a positive finite distance"),
        ))
    }
}

/// Checks a step count (`--steps`): at least 1.
pub fn check_steps(steps: usize) -> Result<usize> {
    if steps == 0 {
        Err(Error::param("--steps", "must be at least 1"))
    } else {
        Ok(steps)
    }
}
