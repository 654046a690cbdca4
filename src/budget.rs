//! Checking the size of a request before any work starts: an estimate of the memory it
//! needs, compared with what this machine has, so that a typo such as
//! `batch_size = 1e9` is refused in one line with the estimate, instead of aborting
//! later with an out-of-memory backtrace.

use crate::error::{Error, Result};

/// The memory a single request may plan to use, in bytes: three quarters of the
/// machine's physical memory (`MemTotal` of /proc/meminfo), or 8 GiB where that cannot
/// be read. The environment variable `REDQUEEN_MAX_MEMORY` (bytes) overrides it.
#[must_use]
pub fn memory_limit() -> u128 {
    if let Some(v) = std::env::var("REDQUEEN_MAX_MEMORY")
        .ok()
        .and_then(|s| s.trim().parse::<u128>().ok())
    {
        return v;
    }
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u128>().ok())
    });
    match total_kib {
        Some(k) => k * 1024 * 3 / 4,
        None => 8 << 30,
    }
}

/// Bytes as a short human-readable size (`3.2 GiB`).
#[must_use]
pub fn human(bytes: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Refuses a request whose estimated memory `bytes` is above [`memory_limit`], naming
/// `key` (the flag or key that sizes it) and saying what the memory is for.
///
/// # Errors
/// [`Error::Param`] with the estimate and the limit.
pub fn check_memory(key: &str, bytes: u128, what: &str) -> Result<()> {
    let limit = memory_limit();
    if bytes > limit {
        return Err(Error::param(
            key,
            format!(
                "{what} needs about {} of memory, more than the {} this machine allows \
                 (three quarters of its RAM; set REDQUEEN_MAX_MEMORY to change)",
                human(bytes),
                human(limit)
            ),
        ));
    }
    Ok(())
}

/// `a · b · …` in u128, saturating (sizes multiply quickly).
#[must_use]
pub fn product(factors: &[u128]) -> u128 {
    factors.iter().fold(1u128, |p, f| p.saturating_mul(*f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_and_named() {
        assert!(check_memory("steps", 1024, "a small run").is_ok());
        let e = check_memory("steps", u128::MAX, "recording the trajectory").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("`steps`") && s.contains("EiB"), "{s}");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(product(&[u128::MAX, 2]), u128::MAX);
    }
}
