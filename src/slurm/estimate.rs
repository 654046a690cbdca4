//! Resource requests from the runs' estimated costs: Graham's bound for a shard, the
//! `--time` and `--mem` values and their SLURM formats, and the shard count.

use std::ops::Range;

use super::{
    MEM_BASE_MIB, MEM_FLOOR_MIB, MEM_STEP_MIB, MERGE_SECONDS_PER_RUN, MERGE_TIME_FLOOR_SECONDS,
    SlurmOptions, TARGET_TASK_SECONDS, TIME_FLOOR_SECONDS,
};
use crate::error::{Error, Result};

/// The estimated cost of one run: the input of [`resources`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunCost {
    /// Wall time on one core, seconds.
    pub seconds: f64,
    /// Peak memory, bytes.
    pub bytes: u64,
}

/// One job's request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `--cpus-per-task`.
    pub cpus: usize,
    /// The estimate before the time factor and the floor, seconds.
    pub estimate_seconds: f64,
    /// `--time`, seconds: a whole number of minutes.
    pub time_seconds: u64,
    /// The memory estimate before the floor and rounding, MiB.
    pub estimate_mib: f64,
    /// `--mem`, MiB.
    pub mem_mib: u64,
}

/// The requests of the array and the merge, and what they were derived from.
#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    /// Neural runs of the study.
    pub runs: usize,
    /// Shards (array tasks).
    pub shards: usize,
    /// Whether the shard count was chosen by [`resources`].
    pub shards_chosen: bool,
    /// Each array task.
    pub array: Request,
    /// The merge job.
    pub merge: Request,
    /// The slowest shard and its runs.
    pub slowest: (usize, Range<usize>),
    /// Σ of the runs' single-core seconds.
    pub total_seconds: f64,
    /// The time factor applied.
    pub time_factor: f64,
}

/// Graham's bound on the wall time of `seconds` (one entry per job) run by any list
/// schedule on `cpus` workers: Σt/C + (1 − 1/C)·max t. rayon's work stealing never
/// leaves a worker idle while runs are waiting, so a shard finishes within it.
#[must_use]
pub fn makespan_bound(seconds: &[f64], cpus: usize) -> f64 {
    let c = cpus.max(1) as f64;
    let sum: f64 = seconds.iter().sum();
    let max = seconds.iter().copied().fold(0.0, f64::max);
    sum / c + (1.0 - 1.0 / c) * max
}

/// `seconds` × `factor`, at least `floor`, rounded up to whole minutes.
#[must_use]
pub fn time_request(seconds: f64, factor: f64, floor: u64) -> u64 {
    let s = (seconds * factor).max(floor as f64).max(1.0);
    (s / 60.0).ceil() as u64 * 60
}

/// A duration in SLURM's time format: `HH:MM:SS`, or `D-HH:MM:SS` from one day on.
#[must_use]
pub fn slurm_time(seconds: u64) -> String {
    let (d, rest) = (seconds / 86_400, seconds % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// `mib` rounded up to a multiple of [`MEM_STEP_MIB`], at least [`MEM_FLOOR_MIB`].
#[must_use]
pub fn mem_request(mib: f64) -> u64 {
    let steps = (mib.max(0.0) / MEM_STEP_MIB as f64).ceil() as u64;
    (steps * MEM_STEP_MIB).max(MEM_FLOOR_MIB)
}

/// The requests for `runs` (in shard order) under `opts`; `reduced_blocks` says whether
/// the study also has reduced-game blocks, which run in the merge job in parallel.
///
/// # Errors
/// [`Error::Param`] naming `shards` for 0 shards or more shards than runs (every shard
/// needs a run), or naming another flag as in [`SlurmOptions::validate`].
pub fn resources(runs: &[RunCost], opts: &SlurmOptions, reduced_blocks: bool) -> Result<Resources> {
    opts.validate()?;
    let n_runs = runs.len();
    let total_seconds: f64 = runs.iter().map(|r| r.seconds).sum();
    let shards = match opts.shards {
        Some(0) => return Err(Error::param("shards", "must be at least 1, got 0")),
        Some(n) if n > n_runs => {
            return Err(Error::param(
                "shards",
                format!(
                    "{n} shards for {n_runs} runs: every shard needs at least one run, so use at most {n_runs}"
                ),
            ));
        }
        Some(n) => n,
        None if n_runs == 0 => return Err(Error::param("shards", "the study has no runs")),
        None => {
            let want = total_seconds * opts.time_factor
                / (opts.cpus_per_task as f64 * TARGET_TASK_SECONDS);
            (want.ceil() as usize).clamp(1, n_runs)
        }
    };
    let ranges: Vec<Range<usize>> = (0..shards)
        .map(|i| {
            crate::shard::Shard {
                index: i,
                count: shards,
            }
            .range(n_runs)
        })
        .collect();
    let largest = ranges.iter().map(ExactSizeIterator::len).max().unwrap_or(1);
    let cpus = opts.cpus_per_task.min(largest).max(1);
    let mut slowest = (0, ranges[0].clone(), 0.0);
    for (i, r) in ranges.iter().enumerate() {
        let secs: Vec<f64> = runs[r.clone()].iter().map(|c| c.seconds).collect();
        let t = makespan_bound(&secs, cpus);
        if t > slowest.2 {
            slowest = (i, r.clone(), t);
        }
    }
    let max_bytes = runs.iter().map(|r| r.bytes).max().unwrap_or(0);
    let array_mib = MEM_BASE_MIB as f64 + cpus as f64 * max_bytes as f64 / 1_048_576.0;
    let merge_estimate = MERGE_SECONDS_PER_RUN * n_runs as f64;
    Ok(Resources {
        runs: n_runs,
        shards,
        shards_chosen: opts.shards.is_none(),
        array: Request {
            cpus,
            estimate_seconds: slowest.2,
            time_seconds: time_request(slowest.2, opts.time_factor, TIME_FLOOR_SECONDS),
            estimate_mib: array_mib,
            mem_mib: mem_request(array_mib),
        },
        merge: Request {
            cpus: if reduced_blocks { cpus } else { 1 },
            estimate_seconds: merge_estimate,
            time_seconds: time_request(merge_estimate, opts.time_factor, MERGE_TIME_FLOOR_SECONDS),
            estimate_mib: MEM_BASE_MIB as f64,
            mem_mib: mem_request(MEM_BASE_MIB as f64),
        },
        slowest: (slowest.0, slowest.1),
        total_seconds,
        time_factor: opts.time_factor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// Sums of a few dozen doubles of size ≤ 1e3: rounding stays far below this.
    const BOUND_TOL: f64 = 1e-9;

    fn key_of(e: Error) -> String {
        match e {
            Error::Param { key, reason } => {
                assert!(!reason.contains('\n'), "one line: {reason}");
                key
            }
            other => panic!("expected Error::Param, got {other}"),
        }
    }

    fn runs(seconds: &[f64], bytes: u64) -> Vec<RunCost> {
        seconds
            .iter()
            .map(|&s| RunCost { seconds: s, bytes })
            .collect()
    }

    fn opts(shards: Option<usize>, cpus: usize) -> SlurmOptions {
        SlurmOptions {
            shards,
            cpus_per_task: cpus,
            time_factor: 2.0,
            ..SlurmOptions::default()
        }
    }

    #[test]
    fn makespan_bound_closed_forms() {
        // One worker runs everything in sequence: the bound is the sum.
        assert!((makespan_bound(&[3.0, 5.0, 7.0], 1) - 15.0).abs() < BOUND_TOL);
        // C equal jobs on C workers: t + (1 − 1/C)·t = (2 − 1/C)·t.
        let t = 10.0;
        for c in 1..8 {
            let jobs = vec![t; c];
            let want = (2.0 - 1.0 / c as f64) * t;
            assert!(
                (makespan_bound(&jobs, c) - want).abs() < BOUND_TOL,
                "C = {c}"
            );
        }
        assert_eq!(makespan_bound(&[], 4), 0.0);
    }

    /// Graham's theorem: every greedy list schedule (each job, in list order, goes to the
    /// least-loaded worker) finishes within the bound; checked on seeded random
    /// instances, in the given order and longest first (the order `execute_all` uses).
    #[test]
    fn makespan_bound_holds_for_list_schedules() {
        let mut rng = crate::linalg::rng(14, 0);
        for _ in 0..500 {
            let n = rng.random_range(1..40);
            let c = rng.random_range(1..9);
            let mut jobs: Vec<f64> = (0..n).map(|_| rng.random_range(0.01..1000.0)).collect();
            let bound = makespan_bound(&jobs, c);
            for pass in 0..2 {
                if pass == 1 {
                    jobs.sort_by(|a, b| b.total_cmp(a));
                }
                let mut load = vec![0.0f64; c];
                for &j in &jobs {
                    let k = (0..c).min_by(|&a, &b| load[a].total_cmp(&load[b])).unwrap();
                    load[k] += j;
                }
                let makespan = load.iter().copied().fold(0.0, f64::max);
                assert!(makespan <= bound + BOUND_TOL, "{makespan} > {bound}");
            }
        }
    }

    #[test]
    fn slurm_time_format() {
        assert_eq!(slurm_time(0), "00:00:00");
        assert_eq!(slurm_time(59), "00:00:59");
        assert_eq!(slurm_time(600), "00:10:00");
        assert_eq!(slurm_time(3600), "01:00:00");
        assert_eq!(slurm_time(86_399), "23:59:59");
        assert_eq!(slurm_time(86_400), "1-00:00:00");
        assert_eq!(slurm_time(90_061), "1-01:01:01");
        assert_eq!(slurm_time(10 * 86_400 + 120), "10-00:02:00");
    }

    #[test]
    fn time_requests_apply_factor_and_floor_and_round_up_to_minutes() {
        assert_eq!(time_request(0.0, 2.0, 600), 600);
        assert_eq!(time_request(100.0, 2.0, 600), 600);
        // 301 s × 2 = 602 s → 11 minutes.
        assert_eq!(time_request(301.0, 2.0, 0), 660);
        // Exact minutes are not rounded further.
        assert_eq!(time_request(1800.0, 2.0, 600), 3600);
        assert_eq!(time_request(3600.01, 1.0, 0), 3660);
        // Never zero, even with no floor.
        assert_eq!(time_request(0.0, 1.0, 0), 60);
    }

    #[test]
    fn mem_requests_round_up_with_a_floor() {
        assert_eq!(mem_request(0.0), MEM_FLOOR_MIB);
        assert_eq!(mem_request(1024.0), 1024);
        assert_eq!(mem_request(1024.5), 1280);
        assert_eq!(mem_request(3000.0), 3072);
    }

    #[test]
    fn bad_options_are_refused_naming_the_flag() {
        let six = runs(&[1.0; 6], 0);
        let e = resources(&six, &opts(Some(0), 4), false).unwrap_err();
        assert_eq!(key_of(e), "shards");
        let e = resources(&six, &opts(Some(7), 4), false).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("7 shards for 6 runs"), "{msg}");
        assert_eq!(key_of(e), "shards");
        assert_eq!(
            key_of(resources(&[], &opts(None, 4), false).unwrap_err()),
            "shards"
        );
        assert_eq!(
            key_of(resources(&six, &opts(Some(3), 0), false).unwrap_err()),
            "cpus-per-task"
        );
        for f in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let o = SlurmOptions {
                time_factor: f,
                ..opts(Some(3), 4)
            };
            assert_eq!(
                key_of(resources(&six, &o, false).unwrap_err()),
                "time-factor"
            );
        }
        for (p, a, key) in [
            (Some("gpu;rm -rf"), None, "partition"),
            (Some("a b"), None, "partition"),
            (None, Some(""), "account"),
            (None, Some("x\n#SBATCH --mem=1"), "account"),
        ] {
            let o = SlurmOptions {
                partition: p.map(String::from),
                account: a.map(String::from),
                ..opts(Some(3), 4)
            };
            assert_eq!(key_of(o.validate().unwrap_err()), key);
        }
        // Every shard count from 1 to the number of runs is accepted.
        for n in 1..=6 {
            assert_eq!(resources(&six, &opts(Some(n), 4), false).unwrap().shards, n);
        }
    }

    #[test]
    fn default_shards_aim_at_an_hour_per_task() {
        // 100 runs of 360 s, × 2, on 4 CPUs: 72 000 / (4 × 3600) = 5 tasks.
        let r = resources(&runs(&[360.0; 100], 0), &opts(None, 4), false).unwrap();
        assert_eq!((r.shards, r.shards_chosen), (5, true));
        // Small studies get one task; huge ones at most one task per run.
        assert_eq!(
            resources(&runs(&[1.0; 6], 0), &opts(None, 4), false)
                .unwrap()
                .shards,
            1
        );
        assert_eq!(
            resources(&runs(&[1e6; 6], 0), &opts(None, 4), false)
                .unwrap()
                .shards,
            6
        );
    }

    #[test]
    fn array_requests_follow_the_slowest_shard() {
        // Shards of 6 runs in 3: 0..2, 2..4, 4..6; shard 1 holds the 1000 s run.
        let r = resources(
            &runs(&[100.0, 100.0, 1000.0, 10.0, 10.0, 10.0], 0),
            &opts(Some(3), 4),
            false,
        )
        .unwrap();
        // At most 2 runs per shard: 2 CPUs, not the 4 asked.
        assert_eq!(r.array.cpus, 2);
        assert_eq!(r.slowest, (1, 2..4));
        // Graham: 1010/2 + (1 − 1/2)·1000 = 1005 s; × 2 = 2010 s → 34 minutes.
        assert!((r.array.estimate_seconds - 1005.0).abs() < BOUND_TOL);
        assert_eq!(r.array.time_seconds, 34 * 60);
        assert!((r.total_seconds - 1230.0).abs() < BOUND_TOL);
        // The merge: 6 runs × 1 s × 2 is under its floor; one CPU without reduced games.
        assert_eq!(r.merge.time_seconds, MERGE_TIME_FLOOR_SECONDS);
        assert_eq!(r.merge.cpus, 1);
        assert_eq!(
            resources(&runs(&[1.0; 6], 0), &opts(Some(3), 4), true)
                .unwrap()
                .merge
                .cpus,
            2
        );
    }

    #[test]
    fn memory_is_the_process_plus_concurrent_runs() {
        let mib = 1_048_576;
        // 2 × 100 MiB + 64 MiB is under the floor.
        let r = resources(&runs(&[1.0; 4], 100 * mib), &opts(Some(2), 2), false).unwrap();
        assert!((r.array.estimate_mib - 264.0).abs() < BOUND_TOL);
        assert_eq!(r.array.mem_mib, MEM_FLOOR_MIB);
        // 4 × 1 GiB + 64 MiB = 4160 MiB → 17 × 256 = 4352 MiB.
        let r = resources(&runs(&[1.0; 8], 1024 * mib), &opts(Some(2), 4), false).unwrap();
        assert_eq!(r.array.mem_mib, 4352);
    }
}
