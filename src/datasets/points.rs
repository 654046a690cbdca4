//! Points read from a CSV file (the `file` data set).

use std::path::Path;

use crate::error::{Error, Result};

/// Reads points from a CSV file: every data row has the same number (≥ 1) of numeric
/// fields; a first row with a non-numeric field is taken as a header.
///
/// # Errors
/// [`Error::File`] naming the file, the line and the reason (unreadable file, no data
/// rows, a non-numeric or non-finite field, a row of another width).
pub fn read_points(path: &Path) -> Result<Vec<Vec<f64>>> {
    // A regular file, sized before reading: /dev/zero or a FIFO would never end, and the
    // points take at most about 8× the file's bytes in memory (a row of two short numbers,
    // "1,2\n", becomes two f64 in a Vec of its own).
    let meta =
        std::fs::metadata(path).map_err(|e| Error::file(path, format!("cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(Error::file(path, "is not a regular file"));
    }
    crate::budget::check_memory(
        &path.display().to_string(),
        u128::from(meta.len()) * 8,
        "reading this CSV",
    )?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::file(path, format!("cannot open: {e}")))?;
    let mut points: Vec<Vec<f64>> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::file(path, format!("malformed CSV: {e}")))?;
        let line = rec.position().map_or(i as u64 + 1, csv::Position::line);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let parsed: std::result::Result<Vec<f64>, usize> = rec
            .iter()
            .enumerate()
            .map(|(j, f)| f.parse::<f64>().map_err(|_| j))
            .collect();
        match parsed {
            Err(j) => {
                if i == 0 {
                    continue; // header row
                }
                return Err(Error::file(
                    path,
                    format!(
                        "line {line}: field {} ({:?}) is not a number",
                        j + 1,
                        &rec[j]
                    ),
                ));
            }
            Ok(p) => {
                if let Some(j) = p.iter().position(|v| !v.is_finite()) {
                    return Err(Error::file(
                        path,
                        format!("line {line}: field {} is not finite", j + 1),
                    ));
                }
                if let Some(first) = points.first()
                    && first.len() != p.len()
                {
                    return Err(Error::file(
                        path,
                        format!(
                            "line {line}: {} fields, but earlier rows have {}",
                            p.len(),
                            first.len()
                        ),
                    ));
                }
                points.push(p);
            }
        }
    }
    if points.is_empty() {
        return Err(Error::file(path, "line 1: no data rows"));
    }
    Ok(points)
}
