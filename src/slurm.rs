//! SLURM job scripts for a study. `redqueen study X.toml --slurm` writes into
//! `data/<study>/slurm/` (beside the study's outputs):
//!
//! * `array.sh`: an array job with one task per shard, each running
//!   `redqueen study X.toml --shard $SLURM_ARRAY_TASK_ID/N`;
//! * `merge.sh`: `redqueen study X.toml --merge`, the aggregation over the runs on disk;
//! * `submit.sh`: submits the array, then the merge with `--dependency=afterok:<array>`
//!   (it starts only when every shard succeeded), and prints both job ids.
//!
//! # Estimates
//! The time of a run is its relative compute cost ([`crate::neural_study::cost`]:
//! steps × updates per step × batch) times a speed measured here: the first run of
//! every setting is shortened to [`CALIBRATION_STEPS`] steps
//! ([`crate::neural_study::budget::calibration_run`]) and timed, giving seconds per unit
//! of cost for that setting. A shard runs its runs on `C` threads, so its wall time is
//! bounded by Graham's list-scheduling bound Σt/C + (1 − 1/C)·max t (R. L. Graham,
//! "Bounds for certain multiprocessing anomalies", Bell Syst. Tech. J. 45, 1966),
//! [`makespan_bound`]. The array's `--time` is the slowest shard's bound × the time
//! factor, at least [`TIME_FLOOR_SECONDS`], rounded up to the minute. Memory is modelled
//! from the networks and batch sizes ([`crate::neural_study::budget::memory_bytes`]).
//! Every script states in its comments how each request was obtained.
//!
//! # Paths
//! Decision: the binary and the working directory are absolute paths recorded when the
//! scripts are written (the binary that wrote them and the directory it ran in), and
//! the environment variables `REDQUEEN_BIN` and `REDQUEEN_WORKDIR` override them at
//! submission (sbatch passes the submitting shell's environment to the job by
//! default). The study file and `--root` are passed as the user wrote them, relative to
//! that working directory, so a job writes exactly where a local run started there
//! would, and the scripts run from any directory.
//!
//! The shard count `N` is written into `array.sh` rather than taken from
//! `$SLURM_ARRAY_TASK_COUNT`, so that resubmitting only failed shards
//! (`sbatch --array=3,5 array.sh`) still runs shards 3 and 5 of `N`.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::export::{slug, write_atomic};
use crate::neural_study::{self, RunSpec, budget};

/// CPUs per array task by default: each run is single-threaded, so a task runs this
/// many runs at once. Four fits the smallest nodes of common clusters and keeps the
/// per-task memory small.
pub const DEFAULT_CPUS_PER_TASK: usize = 4;
/// Default safety factor on the estimated times. It covers a single calibration on a
/// machine shared with other work, cluster cores slower than this machine's, and the
/// seeds of a setting that run longer than its timed first seed (frames are drawn only
/// for the first seed, so it is usually the slowest).
pub const DEFAULT_TIME_FACTOR: f64 = 2.0;
/// Least `--time` of an array task, seconds: process start, the shared file system and
/// the scheduler's own accounting take up to a few minutes, and shorter limits gain
/// nothing in backfill on the clusters we know.
pub const TIME_FLOOR_SECONDS: u64 = 10 * 60;
/// Least `--time` of the merge job, seconds (see [`MERGE_SECONDS_PER_RUN`]).
pub const MERGE_TIME_FLOOR_SECONDS: u64 = 15 * 60;
/// Merge time allowed per run, seconds: the aggregation reads each run's logs and draws
/// the figures; measured at most 0.1 s per run for the quick studies here (gan-vis:
/// 1.3 s for 14 runs with its GIFs). The reduced-game blocks, which also run in the
/// merge job, take under 4 s for every study in `studies/` and are covered by the floor.
pub const MERGE_SECONDS_PER_RUN: f64 = 1.0;
/// Default shard count aims at array tasks of about this many seconds (after the time
/// factor): long enough to amortise the wait in the queue, short enough to backfill.
pub const TARGET_TASK_SECONDS: f64 = 3600.0;
/// Training steps of the timed calibration copy of each setting's first run (the run
/// keeps at least four log intervals; see
/// [`crate::neural_study::budget::calibration_run`]).
pub const CALIBRATION_STEPS: usize = 200;
/// Memory of the process itself, MiB: binary, allocator and thread stacks (measured
/// 10 MB resident for the smallest quick study).
pub const MEM_BASE_MIB: u64 = 64;
/// Least `--mem`, MiB: every cluster we know gives at least this per task, and the
/// merge (measured at most 16 MB resident for the quick studies) stays far below it.
pub const MEM_FLOOR_MIB: u64 = 1024;
/// `--mem` is rounded up to a multiple of this, MiB.
pub const MEM_STEP_MIB: u64 = 256;

/// The options of `study --slurm`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmOptions {
    /// Shards = array tasks (`None`: about [`TARGET_TASK_SECONDS`] per task).
    pub shards: Option<usize>,
    /// `#SBATCH --partition` (none: the cluster's default).
    pub partition: Option<String>,
    /// `#SBATCH --account` (none: the user's default).
    pub account: Option<String>,
    /// CPUs per array task (runs in parallel within a shard).
    pub cpus_per_task: usize,
    /// Safety factor on the estimated times.
    pub time_factor: f64,
}

impl Default for SlurmOptions {
    fn default() -> Self {
        SlurmOptions {
            shards: None,
            partition: None,
            account: None,
            cpus_per_task: DEFAULT_CPUS_PER_TASK,
            time_factor: DEFAULT_TIME_FACTOR,
        }
    }
}

impl SlurmOptions {
    /// Checks the options that do not depend on the study.
    ///
    /// # Errors
    /// [`Error::Param`] naming the flag: `cpus-per-task` of 0, a `time-factor` that is
    /// not positive and finite, or a `partition`/`account` with characters that do not
    /// belong in an `#SBATCH` line.
    pub fn validate(&self) -> Result<()> {
        if self.cpus_per_task == 0 {
            return Err(Error::param("cpus-per-task", "must be at least 1, got 0"));
        }
        if !(self.time_factor.is_finite() && self.time_factor > 0.0) {
            return Err(Error::param(
                "time-factor",
                format!("must be positive and finite, got {}", self.time_factor),
            ));
        }
        for (key, v) in [("partition", &self.partition), ("account", &self.account)] {
            if let Some(v) = v {
                let ok = |c: char| c.is_ascii_alphanumeric() || "_-.,:+".contains(c);
                if v.is_empty() || !v.chars().all(ok) {
                    return Err(Error::param(
                        key,
                        format!("{v:?} is not a SLURM name (letters, digits and _-.,:+ only)"),
                    ));
                }
            }
        }
        Ok(())
    }
}

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
        .map(|i| crate::cli::shard_range(n_runs, i, shards))
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

/// What the scripts name besides the resources.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptSpec {
    /// The study's name (job names).
    pub study: String,
    /// The redqueen binary, absolute.
    pub binary: PathBuf,
    /// The working directory, absolute.
    pub workdir: PathBuf,
    /// The study's arguments as the user wrote them: the file, `--root R`, `--quick`.
    pub args: Vec<String>,
    /// The folder of the scripts, absolute.
    pub dir: PathBuf,
    /// Comment lines: how the run times were measured.
    pub calibration: Vec<String>,
}

/// `s` as one shell word: as it is when it has only characters no shell treats
/// specially, otherwise single-quoted (a `'` inside becomes `'\''`).
#[must_use]
pub fn sh_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.,:+/=@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn mib_text(mib: f64) -> String {
    if mib < 1.0 {
        format!("{:.0} KiB", mib * 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// The common head of a job script: what it is, how each request was estimated,
/// the `#SBATCH` lines, and the binary and working directory.
fn job_head(s: &ScriptSpec, r: &Resources, o: &SlurmOptions, merge: bool) -> String {
    let req = if merge { &r.merge } else { &r.array };
    let mut t = String::from("#!/bin/bash\n");
    let name = slug(&s.study);
    if merge {
        writeln!(t, "# redqueen study `{}`: merge job. Aggregates the {} runs written by the array job (array.sh)\n# into the summary CSVs, figures and report. submit.sh queues it with\n# --dependency=afterok:<array job id>, so it starts only when every shard succeeded.", s.study, r.runs).ok();
    } else {
        writeln!(t, "# redqueen study `{}`: array job, one task per shard ({} shards of {} runs).\n# Task I runs `--shard I/{}`; submit.sh queues it with the merge job (merge.sh).\n# To rerun only some shards after a failure: sbatch --array=3,5 array.sh, then sbatch merge.sh.", s.study, r.shards, r.runs, r.shards).ok();
    }
    writeln!(t, "# Written by `redqueen study {} --slurm` (redqueen {}).\n#\n# How each request was estimated (on the machine that wrote this script):", s.args.join(" "), env!("CARGO_PKG_VERSION")).ok();
    if merge {
        writeln!(t, "# - time: {MERGE_SECONDS_PER_RUN} s per run × {} runs = {:.0} s, × time factor {} = {:.0} s;\n#   floor {} min; rounded up to the minute: {}.", r.runs, req.estimate_seconds, r.time_factor, req.estimate_seconds * r.time_factor, MERGE_TIME_FLOOR_SECONDS / 60, slurm_time(req.time_seconds)).ok();
        writeln!(
            t,
            "# - cpus: {} ({}).",
            req.cpus,
            if req.cpus == 1 {
                "the aggregation is light; the study has no reduced-game blocks"
            } else {
                "the study's reduced-game blocks run here, in parallel"
            }
        )
        .ok();
        writeln!(t, "# - mem: the process ({MEM_BASE_MIB} MiB; the aggregation measured under 16 MB resident);\n#   floor {MEM_FLOOR_MIB} MiB: {} MiB.", req.mem_mib).ok();
    } else {
        writeln!(t, "# - time: each run's cost (steps × updates per step × batch) × the seconds per unit of\n#   cost measured by timing a shortened copy of each setting's first run on one core:").ok();
        for l in &s.calibration {
            writeln!(t, "#     {l}").ok();
        }
        writeln!(t, "#   {:.1} s of runs on one core in all. The slowest shard (shard {}, runs {}..{}) on {} CPUs\n#   takes at most Σt/C + (1 − 1/C)·max t = {:.1} s (Graham's list-scheduling bound);\n#   × time factor {} = {:.1} s; floor {} min; rounded up to the minute: {}.", r.total_seconds, r.slowest.0, r.slowest.1.start, r.slowest.1.end, req.cpus, req.estimate_seconds, r.time_factor, req.estimate_seconds * r.time_factor, TIME_FLOOR_SECONDS / 60, slurm_time(req.time_seconds)).ok();
        writeln!(t, "# - cpus: {} runs at once (each run is single-threaded; {} asked, at most the\n#   largest shard's run count).", req.cpus, o.cpus_per_task).ok();
        writeln!(t, "# - mem: the process ({MEM_BASE_MIB} MiB) + {} × the largest run's modelled peak (its networks'\n#   workspaces at its largest batch, parameters, logs) = {}; floor {MEM_FLOOR_MIB} MiB, rounded up\n#   to {MEM_STEP_MIB} MiB: {} MiB.", req.cpus, mib_text(req.estimate_mib), req.mem_mib).ok();
    }
    t.push_str("# For your cluster: --partition and --account (regenerate with them, or edit below);\n# a larger --time if its cores are slower than this machine's (regenerate with\n# --time-factor); `module load` lines below if the binary needs them. The binary and the\n# working directory must be visible from the compute nodes (a shared file system), or\n# set REDQUEEN_BIN and REDQUEEN_WORKDIR when you submit.\n");
    writeln!(
        t,
        "#SBATCH --job-name=rq-{name}{}",
        if merge { "-merge" } else { "" }
    )
    .ok();
    if !merge {
        writeln!(t, "#SBATCH --array=0-{}", r.shards - 1).ok();
    }
    writeln!(t, "#SBATCH --cpus-per-task={}", req.cpus).ok();
    writeln!(t, "#SBATCH --mem={}M", req.mem_mib).ok();
    writeln!(t, "#SBATCH --time={}", slurm_time(req.time_seconds)).ok();
    if let Some(p) = &o.partition {
        writeln!(t, "#SBATCH --partition={p}").ok();
    }
    if let Some(a) = &o.account {
        writeln!(t, "#SBATCH --account={a}").ok();
    }
    writeln!(t, "set -euo pipefail\ndefault_bin={}\ndefault_workdir={}\nredqueen=\"${{REDQUEEN_BIN:-$default_bin}}\"\ncd \"${{REDQUEEN_WORKDIR:-$default_workdir}}\"", sh_quote(&s.binary.to_string_lossy()), sh_quote(&s.workdir.to_string_lossy())).ok();
    t
}

fn study_args(s: &ScriptSpec) -> String {
    s.args
        .iter()
        .map(|a| sh_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The array job: task I runs `study … --shard I/N` on `$SLURM_CPUS_PER_TASK` threads.
#[must_use]
pub fn array_script(s: &ScriptSpec, r: &Resources, o: &SlurmOptions) -> String {
    let mut t = job_head(s, r, o, false);
    writeln!(t, ": \"${{SLURM_ARRAY_TASK_ID:?submit this script with sbatch (see submit.sh)}}\"\necho \"shard $SLURM_ARRAY_TASK_ID/{n} on $(hostname) in $PWD\"\nexec \"$redqueen\" study {} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --threads \"${{SLURM_CPUS_PER_TASK:-{}}}\"", study_args(s), r.array.cpus, n = r.shards).ok();
    t
}

/// The merge job: `study … --merge`.
#[must_use]
pub fn merge_script(s: &ScriptSpec, r: &Resources, o: &SlurmOptions) -> String {
    let mut t = job_head(s, r, o, true);
    writeln!(t, "echo \"merge on $(hostname) in $PWD\"\nexec \"$redqueen\" study {} --merge --threads \"${{SLURM_CPUS_PER_TASK:-{}}}\"", study_args(s), r.merge.cpus).ok();
    t
}

/// The submit script: the array, then the merge after it (`afterok`), logs in `logs/`;
/// extra arguments go to both `sbatch` calls; the job ids are printed and written to
/// `array.jobid` and `merge.jobid`.
#[must_use]
pub fn submit_script(s: &ScriptSpec, r: &Resources) -> String {
    format!(
        r#"#!/bin/bash
# Submits the {n}-task array job (array.sh) and the merge job (merge.sh), which starts only
# when every task succeeded (--dependency=afterok) and is cancelled if one fails
# (--kill-on-invalid-dep=yes). Arguments go to both sbatch calls, e.g.
#   bash submit.sh --qos=long --mail-type=END
# Logs: logs/rq-<study>-<array id>_<task>.out and logs/rq-<study>-merge-<id>.out.
set -euo pipefail
dir={dir}
command -v sbatch >/dev/null || {{ echo "submit.sh: sbatch not found (run this on a SLURM login node)" >&2; exit 1; }}
mkdir -p "$dir/logs"
array=$(sbatch --parsable --output="$dir/logs/%x-%A_%a.out" "$@" "$dir/array.sh")
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --output="$dir/logs/%x-%j.out" "$@" "$dir/merge.sh")
merge=${{merge%%;*}}
echo "$array" > "$dir/array.jobid"
echo "$merge" > "$dir/merge.jobid"
echo "submitted array job $array ({n} shards of {runs} runs) and merge job $merge (after the array succeeds)"
echo "watch with: squeue -j $array,$merge    outputs: the study's data/ and figures/ folders; logs: $dir/logs"
"#,
        n = r.shards,
        runs = r.runs,
        dir = sh_quote(&s.dir.to_string_lossy()),
    )
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The folder of the scripts.
    pub dir: PathBuf,
    /// `submit.sh`.
    pub submit: PathBuf,
    /// The requests.
    pub resources: Resources,
    /// Seconds spent timing the calibration runs.
    pub calibration_seconds: f64,
}

impl Generated {
    /// A few lines for the terminal: what was written, the requests, the command.
    #[must_use]
    pub fn summary(&self) -> String {
        let r = &self.resources;
        format!(
            "wrote array.sh, merge.sh and submit.sh to {dir} (calibration {cal:.1} s)\n\
             array: {n} tasks{chosen} × {c} CPUs, --time={t}, --mem={m}M; merge: {mc} CPU(s), --time={mt}, --mem={mm}M\n\
             submit with:\n  bash {submit}",
            dir = self.dir.display(),
            cal = self.calibration_seconds,
            n = r.shards,
            chosen = if r.shards_chosen {
                " (chosen for about an hour each; set --shards to change)"
            } else {
                ""
            },
            c = r.array.cpus,
            t = slurm_time(r.array.time_seconds),
            m = r.array.mem_mib,
            mc = r.merge.cpus,
            mt = slurm_time(r.merge.time_seconds),
            mm = r.merge.mem_mib,
            submit = sh_quote(&self.submit.to_string_lossy()),
        )
    }
}

/// Removes the calibration folder however [`calibrate`] ends.
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover folder in the temporary directory harms nothing.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Times a shortened copy of the first run of each setting (consecutive runs with the
/// same block and setting) on this thread, and returns every run's estimated cost with
/// one comment line per setting.
///
/// # Errors
/// Trainer and file errors of the calibration runs.
pub fn calibrate(runs: &[RunSpec]) -> Result<(Vec<RunCost>, Vec<String>, f64)> {
    let tmp = TempDir(
        std::env::temp_dir().join(format!("redqueen-slurm-calibration-{}", std::process::id())),
    );
    let t_all = Instant::now();
    let mut costs = Vec::with_capacity(runs.len());
    let mut lines = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let first = &runs[i];
        let n = runs[i..]
            .iter()
            .take_while(|r| r.block == first.block && r.setting == first.setting)
            .count();
        let copy = budget::calibration_run(first, CALIBRATION_STEPS, tmp.0.join(i.to_string()));
        let t0 = Instant::now();
        neural_study::execute(&copy)?;
        let secs = t0.elapsed().as_secs_f64();
        let per_unit = secs / neural_study::cost(&copy).max(1) as f64;
        let setting = first.dir.parent().and_then(Path::file_name).map_or_else(
            || format!("setting {}", first.setting),
            |s| s.to_string_lossy().into_owned(),
        );
        let est = per_unit * neural_study::cost(first) as f64;
        lines.push(format!(
            "block {} `{setting}`: a copy at {:.0} % of the first run's cost took {secs:.3} s → {est:.2} s per run × {n} runs",
            first.block,
            100.0 * neural_study::cost(&copy) as f64 / neural_study::cost(first).max(1) as f64,
        ));
        for r in &runs[i..i + n] {
            costs.push(RunCost {
                seconds: per_unit * neural_study::cost(r) as f64,
                bytes: budget::memory_bytes(r)?,
            });
        }
        i += n;
    }
    Ok((costs, lines, t_all.elapsed().as_secs_f64()))
}

/// Loads the study, times its runs, and writes `array.sh`, `merge.sh` and `submit.sh`
/// into `data/<study>/slurm/` under `root`.
///
/// # Errors
/// Config errors of the study; [`Error::Param`] naming the flag for bad options or a
/// study without neural runs (`slurm`); trainer and file errors.
pub fn generate(path: &Path, root: &Path, quick: bool, opts: &SlurmOptions) -> Result<Generated> {
    opts.validate()?;
    let study = crate::study::Study::load(path, quick)?;
    let (data, _) = study.output_dirs(root);
    let runs: Vec<RunSpec> = study.neural_plans(&data).into_iter().flatten().collect();
    if runs.is_empty() {
        return Err(Error::param(
            "slurm",
            format!(
                "study `{}` has no [[neural]] runs to spread over an array; its reduced-game blocks take seconds: run it without --slurm",
                study.file.name
            ),
        ));
    }
    // Refuse a bad shard count before spending time on the calibration.
    let placeholder = vec![
        RunCost {
            seconds: 0.0,
            bytes: 0
        };
        runs.len()
    ];
    resources(&placeholder, opts, false)?;
    let (costs, calibration, calibration_seconds) = calibrate(&runs)?;
    let reduced = !study.file.portraits.is_empty() || !study.file.maps.is_empty();
    let res = resources(&costs, opts, reduced)?;
    let workdir = std::env::current_dir().map_err(|e| Error::file(".", e))?;
    let binary = std::env::current_exe().map_err(|e| Error::file("redqueen", e))?;
    // `components()` drops the `.` of a default `--root .`.
    let dir: PathBuf = workdir.join(&data).join("slurm").components().collect();
    let mut args = vec![
        path.to_string_lossy().into_owned(),
        "--root".into(),
        root.to_string_lossy().into_owned(),
    ];
    if quick {
        args.push("--quick".into());
    }
    let spec = ScriptSpec {
        study: study.file.name.clone(),
        binary,
        workdir,
        args,
        dir: dir.clone(),
        calibration,
    };
    let files = [
        ("array.sh", array_script(&spec, &res, opts)),
        ("merge.sh", merge_script(&spec, &res, opts)),
        ("submit.sh", submit_script(&spec, &res)),
    ];
    for (name, text) in &files {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::file(&p, e))?;
        }
    }
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| Error::file(dir.join("logs"), e))?;
    Ok(Generated {
        submit: dir.join("submit.sh"),
        dir,
        resources: res,
        calibration_seconds,
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

    fn spec(dir: &Path) -> ScriptSpec {
        ScriptSpec {
            study: "my study".into(),
            binary: PathBuf::from("/opt/red queen/bin/redqueen"),
            workdir: dir.to_path_buf(),
            args: vec![
                "studies/it's.toml".into(),
                "--root".into(),
                "out dir".into(),
                "--quick".into(),
            ],
            dir: dir.join("slurm"),
            calibration: vec!["block 0 `a`: 0.1 s".into()],
        }
    }

    fn three_shards() -> Resources {
        resources(
            &runs(&[100.0, 100.0, 1000.0, 10.0, 10.0, 10.0], 0),
            &opts(Some(3), 4),
            false,
        )
        .unwrap()
    }

    #[test]
    fn scripts_carry_the_array_the_requests_and_the_dependency() {
        let s = spec(Path::new("/data/w"));
        let r = three_shards();
        let o = SlurmOptions {
            partition: Some("short".into()),
            account: Some("proj-42".into()),
            ..opts(Some(3), 4)
        };
        let array = array_script(&s, &r, &o);
        for line in [
            "#SBATCH --array=0-2\n",
            "#SBATCH --cpus-per-task=2\n",
            "#SBATCH --time=00:34:00\n",
            "#SBATCH --mem=1024M\n",
            "#SBATCH --partition=short\n",
            "#SBATCH --account=proj-42\n",
            "#SBATCH --job-name=rq-my_study\n",
            "--shard \"$SLURM_ARRAY_TASK_ID/3\"",
        ] {
            assert!(array.contains(line), "array.sh lacks {line:?}:\n{array}");
        }
        let merge = merge_script(&s, &r, &o);
        assert!(
            merge.contains(" --merge ") && !merge.contains("--array") && !merge.contains("--shard")
        );
        assert!(merge.contains("#SBATCH --time=00:15:00\n"));
        let plain = array_script(&s, &r, &opts(Some(3), 4));
        assert!(!plain.contains("#SBATCH --partition") && !plain.contains("#SBATCH --account"));
        let submit = submit_script(&s, &r);
        let a = submit.find("sbatch --parsable --output").unwrap();
        let m = submit.find("--dependency=\"afterok:$array\"").unwrap();
        assert!(a < m, "the array is submitted before the merge");
        assert!(submit.contains("--kill-on-invalid-dep=yes"));
        assert!(submit.contains("\"$dir/array.sh\"") && submit.contains("\"$dir/merge.sh\""));
    }

    /// The scripts are valid bash, quote every path, and honour the environment
    /// overrides: array.sh run by hand with a stand-in binary prints the command line
    /// a SLURM task would run.
    #[cfg(unix)]
    #[test]
    fn scripts_parse_and_run_with_a_stand_in_binary() {
        use std::process::Command;
        let tmp = tempfile::tempdir().unwrap();
        let s = spec(tmp.path());
        let r = three_shards();
        let o = opts(Some(3), 4);
        for (name, text) in [
            ("array.sh", array_script(&s, &r, &o)),
            ("merge.sh", merge_script(&s, &r, &o)),
            ("submit.sh", submit_script(&s, &r)),
        ] {
            let p = tmp.path().join(name);
            std::fs::write(&p, text).unwrap();
            let st = Command::new("bash").arg("-n").arg(&p).status().unwrap();
            assert!(st.success(), "{name} is not valid bash");
        }
        let out = Command::new("bash")
            .arg(tmp.path().join("array.sh"))
            .current_dir("/")
            .env("REDQUEEN_BIN", "echo")
            .env("SLURM_ARRAY_TASK_ID", "1")
            .env_remove("SLURM_CPUS_PER_TASK")
            .env_remove("REDQUEEN_WORKDIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        assert!(
            first.ends_with(&format!("in {}", tmp.path().display())),
            "{first}"
        );
        assert_eq!(
            lines.next().unwrap(),
            "study studies/it's.toml --root out dir --quick --shard 1/3 --threads 2"
        );
        // Without a task id the array script refuses to run.
        let out = Command::new("bash")
            .arg(tmp.path().join("array.sh"))
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env("REDQUEEN_BIN", "echo")
            .output()
            .unwrap();
        assert!(!out.status.success());
    }

    #[cfg(unix)]
    #[test]
    fn shell_quoting_round_trips() {
        for s in [
            "plain/path-1.2",
            "a b",
            "it's",
            "$HOME",
            "x;rm -rf /",
            "",
            "é",
            "a\"b`c`",
        ] {
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {}", sh_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), s, "{}", sh_quote(s));
        }
        assert_eq!(sh_quote("studies/x.toml"), "studies/x.toml");
    }
}
