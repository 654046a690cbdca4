//! Tidy CSV and JSON from result types, rendered to bytes (so they can be tested) and
//! written atomically: to a temporary file in the same directory, then renamed, so a
//! reader never sees a half-written file.
//!
//! Floats are written with Rust's shortest round-trip representation, so the same
//! numbers always give the same bytes and pandas reads them back exactly.

use std::path::Path;

use crate::analysis::{StabilityCell, TrajectoryMetrics};
use crate::dynamics::Trajectory;
use crate::error::Result;
use crate::game::Game;
use crate::linalg::Vector;

pub use crate::output::write_atomic;

/// A label as a file-name component: lower-case ASCII letters, digits, `.` and `-`;
/// every other run of characters becomes one `_` (e.g. `"InfoGAN c = 3"` → `infogan_c_3`).
#[must_use]
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// A short, stable fingerprint of `bytes` (FNV-1a, 64 bits, as 16 hex digits; Fowler,
/// Noll & Vo): the same configuration gives the same name on every machine. Not a
/// cryptographic hash: it names and matches outputs, it does not protect them.
#[must_use]
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A CSV table built in memory: a header and rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    #[must_use]
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }
    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }
    /// Renders the CSV bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&self.header);
        for r in &self.rows {
            let _ = w.write_record(r);
        }
        w.into_inner().unwrap_or_default()
    }
    /// Writes the CSV atomically.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes())
    }
}

/// Formats a float for CSV (shortest round-trip form; empty for None).
#[must_use]
pub fn num(x: f64) -> String {
    format!("{x}")
}

/// Formats an optional float.
#[must_use]
pub fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// The trajectory as a tidy table: `step`, one column per coordinate (named as the game
/// names them), `distance` to `center`, then the conserved quantity if the game has one.
#[must_use]
pub fn trajectory_table(game: &dyn Game, traj: &Trajectory, center: &Vector) -> Table {
    let names = game.coordinate_names();
    let conserved_name = game.conserved(center).map(|c| c.name).or_else(|| {
        traj.states
            .first()
            .and_then(|s| game.conserved(&Vector::from_vec(s.clone())).map(|c| c.name))
    });
    let mut header: Vec<String> = vec!["step".into()];
    header.extend(names);
    header.push("distance".into());
    if let Some(n) = conserved_name {
        header.push(n.into());
    }
    let mut t = Table::new(header);
    for (k, s) in traj.states.iter().enumerate() {
        let x = Vector::from_vec(s.clone());
        let mut row = vec![k.to_string()];
        row.extend(s.iter().map(|v| num(*v)));
        row.push(num((&x - center).norm()));
        if conserved_name.is_some() {
            row.push(opt(game.conserved(&x).map(|c| c.value)));
        }
        t.push(row);
    }
    t
}

/// Columns of the simulated-run metrics, shared by the stability-map and study CSVs.
pub const METRIC_COLUMNS: [&str; 8] = [
    "sim_class",
    "final_distance",
    "growth_rate",
    "winding",
    "period",
    "diverged_step",
    "steps",
    "initial_distance",
];

/// The cells of [`METRIC_COLUMNS`] for one run.
#[must_use]
pub fn metric_cells(m: &TrajectoryMetrics) -> Vec<String> {
    vec![
        m.class.as_str().into(),
        num(m.final_distance),
        num(m.growth_rate),
        num(m.winding),
        opt(m.period),
        m.diverged_step.map(|s| s.to_string()).unwrap_or_default(),
        m.steps.to_string(),
        num(m.initial_distance),
    ]
}

/// The stability map as a tidy table (one row per cell): `lr_g`, `lr_d`,
/// `spectral_radius`, `map_class`, `agree`, `horizon_limited`, then [`METRIC_COLUMNS`].
#[must_use]
pub fn stability_table(cells: &[StabilityCell]) -> Table {
    let head = [
        "lr_g",
        "lr_d",
        "spectral_radius",
        "map_class",
        "agree",
        "horizon_limited",
    ];
    let mut t = Table::new(head.iter().chain(METRIC_COLUMNS.iter()).copied());
    let b = |x: Option<bool>| x.map(|v| v.to_string()).unwrap_or_default();
    for c in cells {
        let mut row = vec![
            num(c.lr_g),
            num(c.lr_d),
            opt(c.spectral_radius),
            c.map_class
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            b(c.agrees()),
            b(c.horizon_limited()),
        ];
        row.extend(metric_cells(&c.sim));
        t.push(row);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_roundtrips_floats() {
        let mut t = Table::new(["a", "b"]);
        t.push(vec![num(0.1 + 0.2), "x,y".into()]);
        let s = String::from_utf8(t.to_bytes()).unwrap();
        assert_eq!(s, "a,b\n0.30000000000000004,\"x,y\"\n");
        let back: f64 = s
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(back, 0.1 + 0.2);
    }

    #[test]
    fn fingerprint_is_fnv1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
        assert_eq!(fingerprint(b"foobar"), "85944171f73967e8");
    }
}
