//! Reading a run's outputs back from its folder: the CSV files the trainer and the
//! probes write (`train_log.csv`, `samples_final.csv`, `trace.csv`, …) and the run's
//! status from `summary.json`. The aggregation reads only these files, never a run's
//! memory, so that a merged sharded study equals an unsharded one byte for byte.

use std::path::Path;

use super::RunSpec;
use crate::error::{Error, Result};

/// A CSV of numbers: the header and the rows (cells that are not numbers read as NaN).
pub type NumTable = (Vec<String>, Vec<Vec<f64>>);

/// Reads a CSV of numbers written by the trainer or a run: (header, rows).
///
/// # Errors
/// [`Error::File`] for an unreadable or malformed file.
pub fn read_csv(path: &Path) -> Result<NumTable> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::file(path, e))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::file(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::file(path, e))?;
        rows.push(
            rec.iter()
                .map(|f| f.parse::<f64>().unwrap_or(f64::NAN))
                .collect(),
        );
    }
    Ok((header, rows))
}

/// A column of a table by name (NaNs if absent).
#[must_use]
pub fn column(t: &NumTable, name: &str) -> Vec<f64> {
    match t.0.iter().position(|h| h == name) {
        Some(j) => {
            t.1.iter()
                .map(|r| r.get(j).copied().unwrap_or(f64::NAN))
                .collect()
        }
        None => vec![f64::NAN; t.1.len()],
    }
}

/// A training run read back: its log (`train_log.csv`) and how it ended.
pub struct RunLog {
    /// The trainer's log, one row per log step.
    pub log: NumTable,
    /// `status` of `summary.json` (`completed`, or why the run stopped).
    pub status: String,
}

impl RunLog {
    /// Reads the log and the status of a training run.
    ///
    /// # Errors
    /// [`Error::File`] when a file is missing or malformed.
    pub fn load(r: &RunSpec) -> Result<RunLog> {
        let log = read_csv(&r.dir.join("train_log.csv"))?;
        let path = r.dir.join("summary.json");
        let summary = std::fs::read_to_string(&path).map_err(|e| Error::file(&path, e))?;
        let v: serde_json::Value =
            serde_json::from_str(&summary).map_err(|e| Error::file(&path, e))?;
        Ok(RunLog {
            log,
            status: v["status"].as_str().unwrap_or("unknown").to_string(),
        })
    }
    /// A column of the log by name (NaNs if absent).
    #[must_use]
    pub fn col(&self, name: &str) -> Vec<f64> {
        column(&self.log, name)
    }
    /// The last finite value of a column (NaN if none): the state at the end of a run
    /// that may have diverged.
    #[must_use]
    pub fn last(&self, name: &str) -> f64 {
        last_finite(&self.col(name))
    }
}

/// The last finite value of `x` (NaN if none).
#[must_use]
pub fn last_finite(x: &[f64]) -> f64 {
    x.iter()
        .rev()
        .copied()
        .find(|v| v.is_finite())
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_name_and_non_numbers_as_nan() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "step,w1,status\n0,1.5,x\n10,NaN,y\n20,0.25,z\n").unwrap();
        let t = read_csv(&p).unwrap();
        assert_eq!(column(&t, "step"), vec![0.0, 10.0, 20.0]);
        let w1 = column(&t, "w1");
        assert!(w1[1].is_nan() && w1[2] == 0.25);
        assert!(column(&t, "status").iter().all(|v| v.is_nan()));
        assert!(column(&t, "absent").iter().all(|v| v.is_nan()));
        assert_eq!(last_finite(&w1), 0.25);
        assert_eq!(last_finite(&[1.0, f64::NAN]), 1.0);
        assert!(last_finite(&[f64::NAN]).is_nan());
        assert!(read_csv(&dir.path().join("missing.csv")).is_err());
    }
}
