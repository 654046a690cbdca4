//! Progress and liveness of long commands (`train`, `study`, `sweep`): on a terminal a bar
//! with the rate and the time left; otherwise (a batch scheduler's log) one line every
//! [`LINE_EVERY_S`] seconds, so the log shows that the run is alive. `--quiet` turns
//! both off for the whole process ([`set_quiet`]). Progress goes to stderr only and never
//! into an output file.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Seconds between two progress lines when stderr is not a terminal.
pub const LINE_EVERY_S: f64 = 5.0;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences every progress display of this process (the commands' `--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A count of work items done out of a total, shown as described in the module docs.
/// Thread-safe: parallel workers call [`Progress::inc`].
pub struct Progress {
    label: String,
    unit: &'static str,
    total: u64,
    done: AtomicU64,
    start: Instant,
    bar: Option<indicatif::ProgressBar>,
    /// Time of the last line printed (non-terminal mode); None when silent.
    lines: Option<Mutex<Instant>>,
}

impl Progress {
    /// Progress of `total` `unit`s (e.g. "steps", "runs", "cells") labelled `label`.
    #[must_use]
    pub fn new(label: &str, total: u64, unit: &'static str) -> Self {
        let quiet = QUIET.load(Ordering::Relaxed);
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
                "{label} {{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}"
            )) {
                b.set_style(style);
            }
            b
        });
        Progress {
            label: label.to_string(),
            unit,
            total,
            done: AtomicU64::new(0),
            start: Instant::now(),
            bar,
            lines: (!quiet && !terminal).then(|| Mutex::new(Instant::now())),
        }
    }

    /// Adds `n` items done.
    pub fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        self.show(done);
    }

    /// Sets the items done to `pos`.
    pub fn set(&self, pos: u64) {
        self.done.store(pos, Ordering::Relaxed);
        self.show(pos);
    }

    fn show(&self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
        let Some(lines) = &self.lines else {
            return;
        };
        let Ok(mut last) = lines.try_lock() else {
            return;
        };
        if last.elapsed().as_secs_f64() < LINE_EVERY_S {
            return;
        }
        *last = Instant::now();
        eprintln!("{}", self.line(done));
    }

    /// The progress line: `label: 1200/5000 steps (24 %), 410 steps/s, ETA 9 s`.
    #[must_use]
    pub fn line(&self, done: u64) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let left = self.total.saturating_sub(done) as f64 / rate.max(1e-12);
        let pct = 100.0 * done as f64 / (self.total.max(1) as f64);
        let rate = if rate >= 100.0 {
            format!("{rate:.0}")
        } else if rate >= 1.0 {
            format!("{rate:.1}")
        } else {
            format!("{rate:.3}")
        };
        format!(
            "{}: {done}/{} {} ({pct:.0} %), {rate} {}/s, ETA {}",
            self.label,
            self.total,
            self.unit,
            self.unit,
            if done == 0 {
                "unknown".to_string()
            } else {
                human_secs(left)
            }
        )
    }

    /// Clears the bar (the command prints its own summary next).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Seconds as `42 s`, `3 min 20 s` or `2 h 5 min`.
#[must_use]
pub fn human_secs(s: f64) -> String {
    if !s.is_finite() {
        return "unknown".into();
    }
    let s = s.round() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_how_far_and_how_long() {
        let p = Progress::new("train", 100, "steps");
        let l = p.line(25);
        assert!(l.starts_with("train: 25/100 steps (25 %)"), "{l}");
        assert!(l.contains("ETA"), "{l}");
        assert_eq!(human_secs(200.0), "3 min 20 s");
        assert_eq!(human_secs(7500.0), "2 h 5 min");
    }
}
