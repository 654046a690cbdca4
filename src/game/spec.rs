//! Building a game from its name and typed settings (the CLI's `--set key=value` and the
//! studies' `set = { … }` tables), with a clear error for every bad key or value and a
//! size limit on every setting that sizes the game.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    Bilinear, Consensus, Dirac, DiracLoss, Game, LotkaVolterra, NotebookConsensus, OneMode,
    TturSaddle,
};
use crate::error::{Error, Result};
use crate::linalg::Matrix;

/// The game names accepted by [`GameSpec::build`].
pub const GAME_NAMES: [&str; 5] = [
    "dirac",
    "bilinear",
    "lotka-volterra",
    "one-mode",
    "ttur-saddle",
];

/// The keys each game accepts, with their meaning (shown by `--help` and in errors).
pub const GAME_KEYS: [(&str, &[&str]); 5] = [
    (
        "dirac",
        &[
            "loss",
            "r1",
            "r2",
            "gp",
            "gp_target",
            "noise",
            "consensus",
            "consensus_form",
            "clip",
        ],
    ),
    ("bilinear", &["a", "matrix"]),
    ("lotka-volterra", &["alpha", "beta", "gamma", "delta"]),
    ("one-mode", &["modes", "weights", "on"]),
    ("ttur-saddle", &[]),
];

/// Most modes the one-mode game accepts: its dense Jacobian has (2k)² entries, so
/// k = 1000 is 32 MB and an eigen-decomposition of a few seconds.
pub const MAX_MODES: usize = 1000;
/// Largest side of a bilinear game's matrix (the game has 2n coordinates).
pub const MAX_MATRIX_SIDE: usize = 1000;

/// One typed setting value. The command line's `key=value` and a study's TOML value
/// become the same typed value once, when read; [`GameSpec::build`] never re-parses
/// text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Setting {
    /// A number (`r1=0.3`, `r1 = 0.3`).
    Number(f64),
    /// A word (`loss=standard`).
    Text(String),
    /// A list of numbers (`weights=1,2,3`, `weights = [1, 2, 3]`).
    Numbers(Vec<f64>),
    /// Rows of numbers (`matrix=1,2;3,4`, `matrix = [[1, 2], [3, 4]]`).
    Rows(Vec<Vec<f64>>),
}

impl Setting {
    /// Reads a command-line value: rows split by `;`, lists by `,`, then a number if it
    /// parses as one, else a word.
    ///
    /// # Errors
    /// [`Error::Param`] naming `key` for a list item that is not a finite number.
    pub fn parse(key: &str, v: &str) -> Result<Self> {
        let list = |s: &str| -> Result<Vec<f64>> {
            s.split(',').map(|t| parse_f64(key, t.trim())).collect()
        };
        if v.contains(';') {
            Ok(Setting::Rows(
                v.split(';').map(list).collect::<Result<_>>()?,
            ))
        } else if v.contains(',') {
            Ok(Setting::Numbers(list(v)?))
        } else if let Ok(x) = v.parse::<f64>() {
            Ok(Setting::Number(x))
        } else {
            Ok(Setting::Text(v.to_string()))
        }
    }

    /// Reads a TOML value.
    ///
    /// # Errors
    /// [`Error::Param`] naming `key` for a table, a boolean, a date or a mixed array.
    pub fn from_toml(key: &str, v: &toml::Value) -> Result<Self> {
        let number = |x: &toml::Value| match x {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        let bad = || {
            Error::param(
                key,
                "expected a number, a string, a list of numbers or a list of rows",
            )
        };
        match v {
            toml::Value::String(s) => Ok(Setting::Text(s.clone())),
            toml::Value::Array(a) if a.iter().all(|x| number(x).is_some()) => {
                Ok(Setting::Numbers(a.iter().filter_map(number).collect()))
            }
            toml::Value::Array(a) => a
                .iter()
                .map(|row| match row {
                    toml::Value::Array(r) => r.iter().map(|x| number(x).ok_or_else(bad)).collect(),
                    _ => Err(bad()),
                })
                .collect::<Result<_>>()
                .map(Setting::Rows),
            other => number(other).map(Setting::Number).ok_or_else(bad),
        }
    }

    /// The value as the user would write it on the command line.
    #[must_use]
    pub fn to_cli(&self) -> String {
        let list = |v: &[f64]| v.iter().map(f64::to_string).collect::<Vec<_>>().join(",");
        match self {
            Setting::Number(x) => x.to_string(),
            Setting::Text(s) => s.clone(),
            Setting::Numbers(v) => list(v),
            Setting::Rows(r) => r.iter().map(|v| list(v)).collect::<Vec<_>>().join(";"),
        }
    }
}

/// A game name with its typed settings.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct GameSpec {
    /// One of [`GAME_NAMES`].
    pub name: String,
    /// `key → value` settings.
    pub set: BTreeMap<String, Setting>,
}

impl GameSpec {
    /// Parses command-line `key=value` strings into a spec.
    ///
    /// # Errors
    /// [`Error::Param`] for a setting without `=`, a key given twice or a bad list.
    pub fn parse(name: &str, settings: &[String]) -> Result<Self> {
        let mut set = BTreeMap::new();
        for s in settings {
            let (k, v) = s.split_once('=').ok_or_else(|| {
                Error::param(s.as_str(), "expected key=value (for example r1=0.3)")
            })?;
            let (k, v) = (k.trim(), v.trim());
            if set.insert(k.to_string(), Setting::parse(k, v)?).is_some() {
                return Err(Error::param(k, "given more than once"));
            }
        }
        Ok(GameSpec {
            name: name.to_string(),
            set,
        })
    }

    /// A spec from a study's `set = { … }` table.
    ///
    /// # Errors
    /// [`Error::Param`] naming the key of a value of the wrong kind.
    pub fn from_toml(name: &str, table: &BTreeMap<String, toml::Value>) -> Result<Self> {
        let set = table
            .iter()
            .map(|(k, v)| Ok((k.clone(), Setting::from_toml(k, v)?)))
            .collect::<Result<_>>()?;
        Ok(GameSpec {
            name: name.to_string(),
            set,
        })
    }

    fn num(&self, key: &str, default: f64) -> Result<f64> {
        match self.set.get(key) {
            None => Ok(default),
            Some(Setting::Number(x)) if x.is_finite() => Ok(*x),
            Some(Setting::Number(x)) => Err(Error::param(key, format!("`{x}` is not finite"))),
            Some(other) => Err(Error::param(
                key,
                format!("`{}` is not a number", other.to_cli()),
            )),
        }
    }
    fn nonneg(&self, key: &str, default: f64) -> Result<f64> {
        let x = self.num(key, default)?;
        if x < 0.0 {
            return Err(Error::param(key, format!("must be ≥ 0, got {x}")));
        }
        Ok(x)
    }
    fn positive(&self, key: &str, default: f64) -> Result<f64> {
        let x = self.num(key, default)?;
        if x <= 0.0 {
            return Err(Error::param(key, format!("must be > 0, got {x}")));
        }
        Ok(x)
    }
    fn text(&self, key: &str, default: &'static str) -> Result<String> {
        match self.set.get(key) {
            None => Ok(default.to_string()),
            Some(Setting::Text(s)) => Ok(s.clone()),
            Some(other) => Err(Error::param(
                key,
                format!("`{}` is not a name", other.to_cli()),
            )),
        }
    }
    fn numbers(&self, key: &str) -> Result<Option<Vec<f64>>> {
        let v = match self.set.get(key) {
            None => return Ok(None),
            Some(Setting::Number(x)) => vec![*x],
            Some(Setting::Numbers(v)) => v.clone(),
            Some(other) => {
                return Err(Error::param(
                    key,
                    format!("`{}` is not a list of numbers", other.to_cli()),
                ));
            }
        };
        if let Some(x) = v.iter().find(|x| !x.is_finite()) {
            return Err(Error::param(key, format!("`{x}` is not finite")));
        }
        Ok(Some(v))
    }
    fn count(&self, key: &str, default: usize, max: usize) -> Result<usize> {
        let x = self.num(key, default as f64)?;
        if !(x >= 1.0 && x.fract() == 0.0) {
            return Err(Error::param(
                key,
                format!("`{x}` is not a positive whole number"),
            ));
        }
        if x > max as f64 {
            return Err(Error::param(
                key,
                format!("{x} is more than the limit {max}"),
            ));
        }
        Ok(x as usize)
    }

    /// Builds the one-mode game (weights, modes and `on` checked against each other).
    ///
    /// # Errors
    /// [`Error::Param`] naming the bad key.
    pub fn one_mode(&self) -> Result<OneMode> {
        if self.name != "one-mode" {
            return Err(Error::param(
                "game",
                format!("`{}` is not the one-mode game", self.name),
            ));
        }
        let weights = match self.numbers("weights")? {
            Some(w) => w,
            None => vec![1.0; self.count("modes", 3, MAX_MODES)?],
        };
        if weights.len() > MAX_MODES {
            return Err(Error::param(
                "weights",
                format!(
                    "{} modes are more than the limit {MAX_MODES}",
                    weights.len()
                ),
            ));
        }
        if self.set.contains_key("modes") {
            let k = self.count("modes", 3, MAX_MODES)?;
            if k != weights.len() {
                return Err(Error::param(
                    "modes",
                    format!("modes={k} but {} weights were given", weights.len()),
                ));
            }
        }
        let on = self.count("on", 1, weights.len().max(1))?;
        OneMode::new(weights, on - 1)
    }

    /// Builds the game.
    ///
    /// # Errors
    /// [`Error::Param`] naming the unknown game, the unknown key, or the bad value.
    pub fn build(&self) -> Result<Arc<dyn Game>> {
        let keys = GAME_KEYS
            .iter()
            .find(|(n, _)| *n == self.name)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                Error::param(
                    "game",
                    format!(
                        "unknown game `{}` (expected one of {})",
                        self.name,
                        GAME_NAMES.join(", ")
                    ),
                )
            })?;
        if let Some(k) = self.set.keys().find(|k| !keys.contains(&k.as_str())) {
            let known = if keys.is_empty() {
                "none".to_string()
            } else {
                keys.join(", ")
            };
            return Err(Error::param(
                k.as_str(),
                format!("unknown key for game `{}` (known keys: {known})", self.name),
            ));
        }
        match self.name.as_str() {
            "dirac" => {
                let loss = DiracLoss::parse(&self.text("loss", "standard")?)?;
                let clip = match self.set.get("clip") {
                    None => None,
                    Some(_) => Some(self.positive("clip", 1.0)?),
                };
                let game = Dirac {
                    r1: self.nonneg("r1", 0.0)?,
                    r2: self.nonneg("r2", 0.0)?,
                    gp: self.nonneg("gp", 0.0)?,
                    gp_target: self.nonneg("gp_target", 1.0)?,
                    clip,
                    ..Dirac::new(loss)
                }
                .with_noise(self.nonneg("noise", 0.0)?);
                let gamma = self.nonneg("consensus", 0.0)?;
                match self.text("consensus_form", "exact")?.as_str() {
                    "exact" => {}
                    "notebook" => {
                        let plain = self.set.keys().all(|k| {
                            matches!(k.as_str(), "consensus" | "consensus_form")
                                || (k == "loss" && loss == DiracLoss::Standard)
                        });
                        if !plain || gamma == 0.0 {
                            return Err(Error::param(
                                "consensus_form",
                                "the notebook form is GAN_stability's consensus on the \
                                 minimax Dirac-GAN: give consensus=γ > 0 and no other \
                                 setting but loss=standard",
                            ));
                        }
                        return Ok(Arc::new(NotebookConsensus { gamma }));
                    }
                    other => {
                        return Err(Error::param(
                            "consensus_form",
                            format!("`{other}` is not exact or notebook"),
                        ));
                    }
                }
                Ok(if gamma > 0.0 {
                    Arc::new(Consensus {
                        inner: Arc::new(game),
                        gamma,
                    })
                } else {
                    Arc::new(game)
                })
            }
            "bilinear" => {
                if self.set.contains_key("a") && self.set.contains_key("matrix") {
                    return Err(Error::param(
                        "matrix",
                        "give either a= or matrix=, not both",
                    ));
                }
                match self.set.get("matrix") {
                    Some(Setting::Rows(rows)) => Ok(Arc::new(Bilinear {
                        a: matrix("matrix", rows)?,
                    })),
                    Some(Setting::Numbers(row)) => Ok(Arc::new(Bilinear {
                        a: matrix("matrix", std::slice::from_ref(row))?,
                    })),
                    Some(other) => Err(Error::param(
                        "matrix",
                        format!("`{}` is not rows of numbers (1,2;3,4)", other.to_cli()),
                    )),
                    None => Ok(Arc::new(Bilinear::scalar(self.num("a", 1.0)?))),
                }
            }
            "lotka-volterra" => Ok(Arc::new(LotkaVolterra {
                alpha: self.positive("alpha", 1.0)?,
                beta: self.positive("beta", 1.0)?,
                gamma: self.positive("gamma", 1.0)?,
                delta: self.positive("delta", 1.0)?,
            })),
            "one-mode" => Ok(Arc::new(self.one_mode()?)),
            "ttur-saddle" => Ok(Arc::new(TturSaddle)),
            other => Err(Error::param("game", format!("unknown game `{other}`"))),
        }
    }
}

/// A matrix from rows of equal length (at most [`MAX_MATRIX_SIDE`] on a side).
fn matrix(key: &str, rows: &[Vec<f64>]) -> Result<Matrix> {
    let m = rows.first().map_or(0, Vec::len);
    if m == 0 || rows.iter().any(|r| r.len() != m) {
        return Err(Error::param(
            key,
            "rows are empty or have different lengths",
        ));
    }
    if rows.len() > MAX_MATRIX_SIDE || m > MAX_MATRIX_SIDE {
        return Err(Error::param(
            key,
            format!(
                "{}×{m} is larger than the limit {MAX_MATRIX_SIDE}×{MAX_MATRIX_SIDE}",
                rows.len()
            ),
        ));
    }
    if let Some(x) = rows.iter().flatten().find(|x| !x.is_finite()) {
        return Err(Error::param(key, format!("`{x}` is not finite")));
    }
    Ok(Matrix::from_fn(rows.len(), m, |i, j| rows[i][j]))
}

/// Parses a finite float, naming the key on failure.
///
/// # Errors
/// [`Error::Param`] if `v` is not a number or not finite.
pub fn parse_f64(key: &str, v: &str) -> Result<f64> {
    let x: f64 = v
        .parse()
        .map_err(|_| Error::param(key, format!("`{v}` is not a number")))?;
    if !x.is_finite() {
        return Err(Error::param(key, format!("`{v}` is not finite")));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(name: &str, set: &[&str]) -> Result<Arc<dyn Game>> {
        let s: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        GameSpec::parse(name, &s)?.build()
    }

    #[test]
    fn builds_every_game_with_defaults() {
        for n in GAME_NAMES {
            let g = build(n, &[]).unwrap();
            assert_eq!(g.name(), n);
        }
        assert_eq!(build("bilinear", &["matrix=1,2;3,4"]).unwrap().dim(), 4);
        assert_eq!(
            build("one-mode", &["weights=0.5,0.3,0.2", "on=2"])
                .unwrap()
                .dim(),
            6
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases: [(&str, &[&str], &str); 10] = [
            ("nope", &[], "game"),
            ("dirac", &["r3=1"], "r3"),
            ("dirac", &["r1=-1"], "r1"),
            ("dirac", &["r1=abc"], "r1"),
            ("dirac", &["noise=inf"], "noise"),
            ("dirac", &["loss=foo"], "loss"),
            ("bilinear", &["matrix=1,2;3"], "matrix"),
            ("one-mode", &["modes=2", "weights=1,1,1"], "modes"),
            ("one-mode", &["weights=1,nan"], "weights"),
            ("ttur-saddle", &["x=1"], "x"),
        ];
        for (name, set, key) in cases {
            let e = build(name, set).err().unwrap().to_string();
            assert!(e.contains(&format!("`{key}`")), "{e}");
        }
        assert!(GameSpec::parse("dirac", &["r1".into()]).is_err());
        let big = build("one-mode", &["modes=100000"])
            .err()
            .unwrap()
            .to_string();
        assert!(big.contains("`modes`") && big.contains("limit"), "{big}");
    }

    #[test]
    fn command_line_and_toml_give_the_same_typed_settings() {
        let cli = GameSpec::parse("bilinear", &["matrix=1,2;3,4".to_string()]).unwrap();
        let table: BTreeMap<String, toml::Value> =
            toml::from_str("matrix = [[1, 2], [3.0, 4]]").unwrap();
        assert_eq!(GameSpec::from_toml("bilinear", &table).unwrap(), cli);
        let cli =
            GameSpec::parse("dirac", &["loss=wgan".to_string(), "r1=0.5".to_string()]).unwrap();
        let table: BTreeMap<String, toml::Value> =
            toml::from_str("loss = \"wgan\"\nr1 = 0.5").unwrap();
        assert_eq!(GameSpec::from_toml("dirac", &table).unwrap(), cli);
    }
}
