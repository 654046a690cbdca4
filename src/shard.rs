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

/// Joins shard CSVs named `*.shard-I-of-N.csv` (any order) into the bytes of the
/// unsharded file: the header once, then the bodies in shard order.
///
/// # Errors
/// [`Error::File`] for unreadable or misnamed files, missing or duplicate shards, or
/// headers that differ.
pub fn merge_csv_shards(paths: &[PathBuf]) -> Result<Vec<u8>> {
    let mut parts: Vec<(Shard, &Path, Vec<u8>)> = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shard = Shard::of_file_name(&name)
            .ok_or_else(|| Error::file(p, "not a shard file (expected NAME.shard-I-of-N.csv)"))?;
        let bytes = std::fs::read(p).map_err(|e| Error::file(p, e))?;
        parts.push((shard, p.as_path(), bytes));
    }
    let Some(first) = parts.first() else {
        return Err(Error::param("shards", "no shard files given"));
    };
    let n = first.0.count;
    parts.sort_by_key(|x| x.0.index);
    if parts.iter().any(|x| x.0.count != n)
        || parts.len() != n
        || parts.iter().enumerate().any(|(k, x)| x.0.index != k)
    {
        let have: Vec<String> = parts
            .iter()
            .map(|x| format!("{}/{}", x.0.index, x.0.count))
            .collect();
        return Err(Error::file(
            parts[0].1,
            format!(
                "need shards 0..{n} of {n} exactly once, got {}",
                have.join(", ")
            ),
        ));
    }
    let header_of = |b: &[u8]| b.iter().position(|&c| c == b'\n').map(|k| b[..=k].to_vec());
    let header = header_of(&parts[0].2).ok_or_else(|| Error::file(parts[0].1, "empty file"))?;
    let mut out = header.clone();
    for (_, p, b) in &parts {
        if header_of(b).as_ref() != Some(&header) {
            return Err(Error::file(p, "its header differs from shard 0's"));
        }
        out.extend_from_slice(&b[header.len()..]);
    }
    Ok(out)
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
