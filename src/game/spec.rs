//! Building a game from its name and `key=value` settings (the CLI's `--set` and the
//! studies' `[...set]` tables), with a clear error for every bad key or value.

use std::collections::BTreeMap;

use super::{Bilinear, Consensus, Dirac, DiracLoss, Game, LotkaVolterra, OneMode, TturSaddle};
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
            "clip",
        ],
    ),
    ("bilinear", &["a", "matrix"]),
    ("lotka-volterra", &["alpha", "beta", "gamma", "delta"]),
    ("one-mode", &["modes", "weights", "on"]),
    ("ttur-saddle", &[]),
];

/// A game name with its settings, as the user wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct GameSpec {
    /// One of [`GAME_NAMES`].
    pub name: String,
    /// `key → value` settings.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

impl GameSpec {
    /// Parses `key=value` strings into a spec.
    ///
    /// # Errors
    /// [`Error::Param`] for a setting without `=` or a key given twice.
    pub fn parse(name: &str, settings: &[String]) -> Result<Self> {
        let mut set = BTreeMap::new();
        for s in settings {
            let (k, v) = s.split_once('=').ok_or_else(|| {
                Error::param(s.as_str(), "expected key=value (for example r1=0.3)")
            })?;
            let (k, v) = (k.trim(), v.trim());
            if set.insert(k.to_string(), v.to_string()).is_some() {
                return Err(Error::param(k, "given more than once"));
            }
        }
        Ok(GameSpec {
            name: name.to_string(),
            set,
        })
    }

    fn num(&self, key: &str, default: f64) -> Result<f64> {
        match self.set.get(key) {
            None => Ok(default),
            Some(v) => parse_f64(key, v),
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
        let weights = match self.set.get("weights") {
            Some(w) => w
                .split(',')
                .map(|s| parse_f64("weights", s.trim()))
                .collect::<Result<Vec<f64>>>()?,
            None => {
                let k = parse_count("modes", self.set.get("modes").map_or("3", String::as_str))?;
                vec![1.0; k]
            }
        };
        if let Some(m) = self.set.get("modes") {
            let k = parse_count("modes", m)?;
            if k != weights.len() {
                return Err(Error::param(
                    "modes",
                    format!("modes={k} but {} weights were given", weights.len()),
                ));
            }
        }
        let on = parse_count("on", self.set.get("on").map_or("1", String::as_str))?;
        OneMode::new(weights, on - 1)
    }

    /// Builds the game.
    ///
    /// # Errors
    /// [`Error::Param`] naming the unknown game, the unknown key, or the bad value.
    pub fn build(&self) -> Result<Box<dyn Game>> {
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
                let loss =
                    DiracLoss::parse(self.set.get("loss").map_or("standard", String::as_str))?;
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
                Ok(if gamma > 0.0 {
                    Box::new(Consensus {
                        inner: Box::new(game),
                        gamma,
                    })
                } else {
                    Box::new(game)
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
                    Some(m) => Ok(Box::new(Bilinear {
                        a: parse_matrix(m)?,
                    })),
                    None => Ok(Box::new(Bilinear::scalar(self.num("a", 1.0)?))),
                }
            }
            "lotka-volterra" => Ok(Box::new(LotkaVolterra {
                alpha: self.positive("alpha", 1.0)?,
                beta: self.positive("beta", 1.0)?,
                gamma: self.positive("gamma", 1.0)?,
                delta: self.positive("delta", 1.0)?,
            })),
            "one-mode" => Ok(Box::new(self.one_mode()?)),
            "ttur-saddle" => Ok(Box::new(TturSaddle)),
            _ => unreachable!("checked against GAME_KEYS above"),
        }
    }
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

fn parse_count(key: &str, v: &str) -> Result<usize> {
    match v.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::param(
            key,
            format!("`{v}` is not a positive whole number"),
        )),
    }
}

/// Parses `1,2;3,4` (rows separated by `;`) into a matrix.
///
/// # Errors
/// [`Error::Param`] for ragged rows or bad numbers.
pub fn parse_matrix(s: &str) -> Result<Matrix> {
    let rows: Vec<Vec<f64>> = s
        .split(';')
        .map(|r| {
            r.split(',')
                .map(|v| parse_f64("matrix", v.trim()))
                .collect()
        })
        .collect::<Result<_>>()?;
    let m = rows[0].len();
    if rows.iter().any(|r| r.len() != m) {
        return Err(Error::param("matrix", "rows have different lengths"));
    }
    Ok(Matrix::from_fn(rows.len(), m, |i, j| rows[i][j]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(name: &str, set: &[&str]) -> Result<Box<dyn Game>> {
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
        let cases: [(&str, &[&str], &str); 9] = [
            ("nope", &[], "game"),
            ("dirac", &["r3=1"], "r3"),
            ("dirac", &["r1=-1"], "r1"),
            ("dirac", &["r1=abc"], "r1"),
            ("dirac", &["noise=inf"], "noise"),
            ("dirac", &["loss=foo"], "loss"),
            ("bilinear", &["matrix=1,2;3"], "matrix"),
            ("one-mode", &["modes=2", "weights=1,1,1"], "modes"),
            ("ttur-saddle", &["x=1"], "x"),
        ];
        for (name, set, key) in cases {
            let e = build(name, set).err().unwrap().to_string();
            assert!(e.contains(&format!("`{key}`")), "{e}");
        }
        assert!(GameSpec::parse("dirac", &["r1".into()]).is_err());
    }
}
