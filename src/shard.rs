//! Splitting work into shards for batch schedulers (a SLURM array task runs one shard)
//! and joining the shards' outputs back into the bytes one unsharded run writes.
//!
//! A shard is a contiguous block of a fixed, ordered list of work items (sweep cells,
//! study runs), so concatenating the shards in index order gives the unsharded order.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};

/// Shard `index` of `count` (0-based), written `I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// I, with 0 ≤ I < N.
    pub index: usize,
    /// N ≥ 1.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = Error;
    /// Parses `I/N` with 0 ≤ I < N.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::param(
                "shard",
                format!("`{s}` is not I/N with 0 ≤ I < N (for example 2/8)"),
            )
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The items of this shard out of `total`: a contiguous block,
    /// ⌊I·total/N⌋ .. ⌊(I+1)·total/N⌋ (computed in u128, so it cannot overflow).
    #[must_use]
    pub fn range(self, total: usize) -> std::ops::Range<usize> {
        let at = |i: usize| (i as u128 * total as u128 / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }

    /// The file name of this shard's part of `stem.ext`: `stem.shard-I-of-N.ext`.
    #[must_use]
    pub fn file_name(self, stem: &str, ext: &str) -> String {
        format!("{stem}.shard-{}-of-{}.{ext}", self.index, self.count)
    }

    /// The shard a file name `….shard-I-of-N.csv` belongs to.
    #[must_use]
    pub fn of_file_name(name: &str) -> Option<Shard> {
        let rest = name.rsplit_once(".shard-")?.1.strip_suffix(".csv")?;
        let (i, n) = rest.split_once("-of-")?;
        let (index, count) = (i.parse().ok()?, n.parse().ok()?);
        (index < count).then_some(Shard { index, count })
    }
}

/// The joined shards: the bytes of the unsharded CSV and of its JSON description.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The CSV: the header once, then the bodies in shard order.
    pub csv: Vec<u8>,
    /// The description of the whole run: each shard's JSON with `shard` set to null and
    /// `cells` to the whole range, i.e. what one unsharded run writes.
    pub json: serde_json::Value,
}

/// Joins shard CSVs named `*.shard-I-of-N.csv` (any order), each with its JSON
/// description beside it (`*.shard-I-of-N.json`, holding the run's parameters, its
/// `shard` and the `cells` [start, end) it computed), into the outputs of one unsharded
/// run. Everything is checked before anything is joined: every shard 0..N exactly once;
/// the same header; every row complete (as many fields as the header, the file ending
/// in a newline); the same parameters in every description; the cell ranges contiguous
/// from 0 and each shard holding exactly its range's rows.
///
/// # Errors
/// [`Error::File`] naming the shard and what is wrong with it.
pub fn merge_csv_shards(paths: &[PathBuf]) -> Result<Merged> {
    struct Part<'a> {
        shard: Shard,
        path: &'a Path,
        bytes: Vec<u8>,
        json: serde_json::Value,
    }
    let mut parts: Vec<Part> = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shard = Shard::of_file_name(&name)
            .ok_or_else(|| Error::file(p, "not a shard file (expected NAME.shard-I-of-N.csv)"))?;
        let meta = std::fs::metadata(p).map_err(|e| Error::file(p, e))?;
        if !meta.is_file() {
            return Err(Error::file(p, "is not a regular file"));
        }
        let bytes = std::fs::read(p).map_err(|e| Error::file(p, e))?;
        let side = p.with_extension("json");
        let json: serde_json::Value = std::fs::read(&side)
            .map_err(|e| Error::file(&side, format!("the shard's description is missing: {e}")))
            .and_then(|b| {
                serde_json::from_slice(&b)
                    .map_err(|e| Error::file(&side, format!("not valid JSON: {e}")))
            })?;
        parts.push(Part {
            shard,
            path: p.as_path(),
            bytes,
            json,
        });
    }
    let Some(first) = parts.first() else {
        return Err(Error::param("shards", "no shard files given"));
    };
    let n = first.shard.count;
    parts.sort_by_key(|x| x.shard.index);
    if parts.iter().any(|x| x.shard.count != n)
        || parts.len() != n
        || parts.iter().enumerate().any(|(k, x)| x.shard.index != k)
    {
        let have: Vec<String> = parts
            .iter()
            .map(|x| format!("{}/{}", x.shard.index, x.shard.count))
            .collect();
        return Err(Error::file(
            parts[0].path,
            format!(
                "need shards 0..{n} of {n} exactly once, got {}",
                have.join(", ")
            ),
        ));
    }
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("shard");
            o.remove("cells");
        }
        v
    };
    let params = strip(&parts[0].json);
    let header_end = parts[0]
        .bytes
        .iter()
        .position(|&c| c == b'\n')
        .ok_or_else(|| Error::file(parts[0].path, "empty file"))?;
    let header = parts[0].bytes[..=header_end].to_vec();
    let fields = csv_fields(&header);
    let mut out = header.clone();
    let mut next = 0u64;
    for part in &parts {
        let p = part.path;
        if strip(&part.json) != params {
            return Err(Error::file(
                p,
                "was made with other parameters than shard 0 (its .json differs): rerun it \
                 with the same options",
            ));
        }
        let cells = part
            .json
            .get("cells")
            .and_then(|c| c.as_array())
            .and_then(|c| Some((c.first()?.as_u64()?, c.get(1)?.as_u64()?)));
        let Some((start, end)) = cells.filter(|(s, e)| s <= e) else {
            return Err(Error::file(p, "its .json has no valid `cells` range"));
        };
        if start != next {
            return Err(Error::file(
                p,
                format!("covers cells {start}..{end}, but the shards before end at {next}"),
            ));
        }
        next = end;
        if !part.bytes.starts_with(&header) {
            return Err(Error::file(p, "its header differs from shard 0's"));
        }
        let body = &part.bytes[header.len()..];
        if !body.is_empty() && !body.ends_with(b"\n") {
            return Err(Error::file(
                p,
                "ends in the middle of a row (a cut or unfinished file)",
            ));
        }
        let mut rows = 0u64;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body);
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| Error::file(p, format!("row {}: {e}", i + 2)))?;
            if rec.len() != fields {
                return Err(Error::file(
                    p,
                    format!(
                        "row {} has {} fields, the header {fields}",
                        i + 2,
                        rec.len()
                    ),
                ));
            }
            rows += 1;
        }
        if rows != end - start {
            return Err(Error::file(
                p,
                format!(
                    "holds {rows} rows but its range {start}..{end} has {} cells",
                    end - start
                ),
            ));
        }
        out.extend_from_slice(body);
    }
    let mut json = parts[0].json.clone();
    if let Some(o) = json.as_object_mut() {
        o.insert("shard".into(), serde_json::Value::Null);
        o.insert("cells".into(), serde_json::json!([0, next]));
    }
    Ok(Merged { csv: out, json })
}

/// The number of fields of a CSV header line.
fn csv_fields(header: &[u8]) -> usize {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header)
        .records()
        .next()
        .and_then(|r| r.ok())
        .map_or(0, |r| r.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_item_once_in_order() {
        for total in [0, 1, 7, 64, 1000] {
            for count in 1..=9 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        let huge = Shard { index: 3, count: 4 }.range(usize::MAX);
        assert_eq!(huge.end, usize::MAX);
    }

    #[test]
    fn parse_and_file_names() {
        let s: Shard = "2/8".parse().unwrap();
        assert_eq!(s, Shard { index: 2, count: 8 });
        for bad in ["8/8", "1/0", "a/2", "-1/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard::of_file_name(&s.file_name("sweep", "csv")), Some(s));
        assert_eq!(Shard::of_file_name("sweep.shard-8-of-8.csv"), None);
    }
}
