//! A study file in two stages: the raw TOML (serde, unknown keys rejected) and the
//! validated plan, in which every game is built once from typed settings, every rule is
//! resolved into a [`RuleSpec`], every start point is checked against its game, and a
//! bad value is reported with the file, the key and the reason before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::analysis::LogAxis;
use crate::dynamics::{DEFAULT_DIVERGE_BOUND, RuleName, RuleOptions, RuleSpec};
use crate::error::{Error, Result};
use crate::export::slug;
use crate::game::{Game, GameSpec};
use crate::linalg::Vector;

/// A game entry of a study file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameEntry {
    /// Label in tables and titles (default: the game name).
    #[serde(default)]
    pub label: Option<String>,
    /// The game name.
    pub game: String,
    /// Its settings (numbers, strings, lists).
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    /// The published expectation, if any: does this configuration converge locally?
    /// The report checks the simulated class against it.
    #[serde(default)]
    pub expect_converge: Option<bool>,
}

/// A rule entry of a study file: `{ rule = "alternating", k_d = 5, label = "…" }`, a
/// named rule with its options ([`RuleOptions`]) but without learning rates (they come
/// from the block).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "toml::Table")]
pub struct RuleEntry {
    /// Label in tables and titles (default: built from the settings).
    pub label: Option<String>,
    /// The rule.
    pub rule: RuleName,
    /// Its options.
    pub options: RuleOptions,
}

impl TryFrom<toml::Table> for RuleEntry {
    type Error = String;
    fn try_from(mut t: toml::Table) -> std::result::Result<Self, String> {
        let label = match t.remove("label") {
            None => None,
            Some(toml::Value::String(s)) => Some(s),
            Some(v) => return Err(format!("label: `{v}` is not a string")),
        };
        let rule = match t.remove("rule") {
            Some(toml::Value::String(s)) => s.parse::<RuleName>().map_err(|e| e.to_string())?,
            Some(v) => return Err(format!("rule: `{v}` is not a rule name")),
            None => return Err("missing field `rule`".into()),
        };
        let options: RuleOptions = t
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        Ok(RuleEntry {
            label,
            rule,
            options,
        })
    }
}

impl RuleEntry {
    fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            let (k_g, k_d) = (self.options.k_g.unwrap_or(1), self.options.k_d.unwrap_or(1));
            let mut s = self.rule.as_str().to_string();
            if k_g != 1 || k_d != 1 {
                s.push_str(&format!(" (k_G = {k_g}, k_D = {k_d})"));
            }
            s
        })
    }
}

/// A `[[portraits]]` block as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortraitsBlock {
    /// Block name (file prefix).
    pub name: String,
    /// Games.
    pub games: Vec<GameEntry>,
    /// Rules.
    pub rules: Vec<RuleEntry>,
    /// Learning-rate pairs [lr_G, lr_D].
    pub lrs: Vec<[f64; 2]>,
    /// Outer steps.
    pub steps: usize,
    /// Start point (default: each game's [`Game::default_start`]).
    #[serde(default)]
    pub from: Option<Vec<f64>>,
    /// Divergence bound on ‖x − x*‖.
    #[serde(default = "default_bound")]
    pub bound: f64,
}

/// A `[[maps]]` block as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapBlock {
    /// Block name (file prefix).
    pub name: String,
    /// The game.
    pub game: GameEntry,
    /// The rule.
    pub rule: RuleEntry,
    /// Generator learning-rate axis.
    pub lr_g: LogAxis,
    /// Discriminator learning-rate axis.
    pub lr_d: LogAxis,
    /// Outer steps per cell.
    pub steps: usize,
    /// Start point.
    #[serde(default)]
    pub from: Option<Vec<f64>>,
    /// Divergence bound.
    #[serde(default = "default_bound")]
    pub bound: f64,
}

fn default_bound() -> f64 {
    DEFAULT_DIVERGE_BOUND
}

/// A game of the plan: built once, with its label, typed settings and expectation.
#[derive(Clone, Serialize)]
pub struct PlannedGame {
    /// Label in tables, titles and file names.
    pub label: String,
    /// The typed settings it was built from.
    pub spec: GameSpec,
    /// The game.
    #[serde(skip)]
    pub game: Arc<dyn Game>,
    /// The published expectation (converges locally?), if any.
    pub expect_converge: Option<bool>,
}

/// A rule of the plan: resolved, with learning rates 1 as placeholders (each run sets
/// its own with [`RuleSpec::with_lrs`]).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedRule {
    /// Label in tables, titles and file names.
    pub label: String,
    /// The rule.
    pub spec: RuleSpec,
}

/// A validated `[[portraits]]` block.
#[derive(Clone, Serialize)]
pub struct Portraits {
    /// Block name.
    pub name: String,
    /// Games.
    pub games: Vec<PlannedGame>,
    /// Rules.
    pub rules: Vec<PlannedRule>,
    /// Learning-rate pairs.
    pub lrs: Vec<[f64; 2]>,
    /// Outer steps (already divided in quick mode).
    pub steps: usize,
    /// The start as written (None: each game's default).
    pub from: Option<Vec<f64>>,
    /// Start point of each game.
    #[serde(skip)]
    pub starts: Vec<Vector>,
    /// Divergence bound.
    pub bound: f64,
}

/// A validated `[[maps]]` block.
#[derive(Clone, Serialize)]
pub struct MapPlan {
    /// Block name.
    pub name: String,
    /// The game.
    pub game: PlannedGame,
    /// The rule.
    pub rule: PlannedRule,
    /// Generator axis (capped in quick mode).
    pub lr_g: LogAxis,
    /// Discriminator axis.
    pub lr_d: LogAxis,
    /// Outer steps per cell.
    pub steps: usize,
    /// Start point.
    pub x0: Vec<f64>,
    /// Divergence bound.
    pub bound: f64,
}

/// Steps in quick mode: a tenth, at least 50.
#[must_use]
pub fn quick_steps(steps: usize) -> usize {
    (steps / 10).max(50).min(steps)
}
/// Grid side in quick mode.
pub const QUICK_GRID: usize = 12;

/// Resolves a game entry: typed settings, the game built once.
///
/// # Errors
/// [`Error::Config`] naming the file, `at` and the reason.
pub fn plan_game(path: &Path, at: &str, e: &GameEntry) -> Result<PlannedGame> {
    let spec = GameSpec::from_toml(&e.game, &e.set)
        .map_err(|err| Error::config(path, format!("{at}.set: {err}")))?;
    let game = spec
        .build()
        .map_err(|err| Error::config(path, format!("{at}: {err}")))?;
    Ok(PlannedGame {
        label: e.label.clone().unwrap_or_else(|| e.game.clone()),
        spec,
        game,
        expect_converge: e.expect_converge,
    })
}

/// Resolves a rule entry (learning rates 1 as placeholders).
///
/// # Errors
/// [`Error::Config`] naming the file, `at` and the option.
pub fn plan_rule(path: &Path, at: &str, r: &RuleEntry) -> Result<PlannedRule> {
    let spec = r
        .rule
        .spec(1.0, 1.0, &r.options)
        .map_err(|e| Error::config(path, format!("{at}: {e}")))?;
    Ok(PlannedRule {
        label: r.label(),
        spec,
    })
}

/// The start point of `game`: `from` (checked: the game's dimension, finite) or the
/// game's default.
///
/// # Errors
/// [`Error::Config`] naming the file and `at`.
pub fn start_point(path: &Path, at: &str, game: &dyn Game, from: Option<&[f64]>) -> Result<Vector> {
    crate::game::start_point(game, from).map_err(|e| Error::config(path, format!("{at}.from: {e}")))
}

/// Checks a block's run settings.
///
/// # Errors
/// [`Error::Config`] for zero steps or a bound that is not positive and finite.
pub fn check_run(path: &Path, at: &str, steps: usize, bound: f64) -> Result<()> {
    if steps == 0 {
        return Err(Error::config(
            path,
            format!("{at}.steps: must be at least 1"),
        ));
    }
    if !(bound.is_finite() && bound > 0.0) {
        return Err(Error::config(
            path,
            format!("{at}.bound: must be positive and finite, got {bound}"),
        ));
    }
    Ok(())
}

/// Checks that labels (as file names) are unique within a block, so no two runs write
/// the same file.
///
/// # Errors
/// [`Error::Config`] naming the label used twice.
pub fn unique_labels<'a>(
    path: &Path,
    at: &str,
    labels: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut seen = BTreeSet::new();
    for l in labels {
        if !seen.insert(slug(l)) {
            return Err(Error::config(
                path,
                format!("{at}: label `{l}` is used twice (its files would overwrite each other)"),
            ));
        }
    }
    Ok(())
}

/// Validates a `[[portraits]]` block, applying `--quick`.
///
/// # Errors
/// [`Error::Config`] naming the file, the key and the reason.
pub fn plan_portraits(path: &Path, b: usize, p: &PortraitsBlock, quick: bool) -> Result<Portraits> {
    let at = format!("portraits[{b}]");
    if p.games.is_empty() || p.rules.is_empty() || p.lrs.is_empty() {
        return Err(Error::config(
            path,
            format!("{at}: games, rules and lrs must not be empty"),
        ));
    }
    check_run(path, &at, p.steps, p.bound)?;
    let games = p
        .games
        .iter()
        .enumerate()
        .map(|(i, g)| plan_game(path, &format!("{at}.games[{i}]"), g))
        .collect::<Result<Vec<_>>>()?;
    let rules = p
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| plan_rule(path, &format!("{at}.rules[{i}]"), r))
        .collect::<Result<Vec<_>>>()?;
    for (i, r) in rules.iter().enumerate() {
        for lr in &p.lrs {
            r.spec
                .with_lrs(lr[0], lr[1])
                .validate()
                .map_err(|e| Error::config(path, format!("{at}.rules[{i}]/lrs: {e}")))?;
        }
    }
    unique_labels(
        path,
        &format!("{at}.games"),
        games.iter().map(|g| g.label.as_str()),
    )?;
    unique_labels(
        path,
        &format!("{at}.rules"),
        rules.iter().map(|r| r.label.as_str()),
    )?;
    let starts = games
        .iter()
        .map(|g| start_point(path, &at, g.game.as_ref(), p.from.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    // Every run of the block is kept in memory until its figures are drawn.
    let dim = games.iter().map(|g| g.game.dim()).max().unwrap_or(0);
    let runs = (games.len() * rules.len() * p.lrs.len()) as u128;
    crate::budget::check_memory(
        &format!("{at}.steps"),
        crate::budget::product(&[runs, crate::dynamics::trajectory_bytes(p.steps, dim)]),
        &format!("recording the {runs} runs of this block"),
    )
    .map_err(|e| Error::config(path, e))?;
    Ok(Portraits {
        name: p.name.clone(),
        games,
        rules,
        lrs: p.lrs.clone(),
        steps: if quick { quick_steps(p.steps) } else { p.steps },
        from: p.from.clone(),
        starts,
        bound: p.bound,
    })
}

/// Validates a `[[maps]]` block, applying `--quick`.
///
/// # Errors
/// [`Error::Config`] naming the file, the key and the reason.
pub fn plan_map(path: &Path, b: usize, m: &MapBlock, quick: bool) -> Result<MapPlan> {
    let at = format!("maps[{b}]");
    let game = plan_game(path, &format!("{at}.game"), &m.game)?;
    let rule = plan_rule(path, &format!("{at}.rule"), &m.rule)?;
    for (key, axis) in [("lr_g", &m.lr_g), ("lr_d", &m.lr_d)] {
        axis.validate(key)
            .map_err(|e| Error::config(path, format!("{at}: {e}")))?;
    }
    check_run(path, &at, m.steps, m.bound)?;
    let x0 = start_point(path, &at, game.game.as_ref(), m.from.as_deref())?;
    let (mut lr_g, mut lr_d) = (m.lr_g, m.lr_d);
    if quick {
        lr_g.n = lr_g.n.min(QUICK_GRID);
        lr_d.n = lr_d.n.min(QUICK_GRID);
    }
    Ok(MapPlan {
        name: m.name.clone(),
        game,
        rule,
        lr_g,
        lr_d,
        steps: if quick { quick_steps(m.steps) } else { m.steps },
        x0: x0.iter().copied().collect(),
        bound: m.bound,
    })
}
