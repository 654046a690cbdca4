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
//!
//! Submodules: `estimate` (the requests from the runs' costs) and `script` (the scripts'
//! text); both are re-exported here.

mod estimate;
mod script;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::neural_study::{self, RunSpec, budget};

/// The folder inside a study's `data/<name>/` that holds the job scripts and their logs
/// (a study's merge keeps it: it is not an output of the study's plan).
pub const SCRIPTS_DIR: &str = "slurm";

pub use estimate::{
    Request, Resources, RunCost, makespan_bound, mem_request, resources, slurm_time, time_request,
};
pub use script::{ScriptSpec, array_script, merge_script, sh_quote, submit_script};

/// CPUs per array task by default: each run is single-threaded, so a task runs this
/// many runs at once. Four fits the smallest nodes of common clusters and keeps the
/// per-task memory small.
pub const DEFAULT_CPUS_PER_TASK: usize = 4;
/// Default safety factor on the estimated times. It covers a single calibration on a
/// machine shared with other work, runs slowed down by the other runs of their task,
/// cluster cores slower than this machine's, and seeds that run longer than their
/// setting's timed first seed. Measured on the 2-core development machine while other
/// builds ran: run time / estimate from 0.5 (full-size constraints-latent, whose
/// 200-step copies over-weight the fixed costs) to 2.1 (quick point-sets, two runs at
/// once in a SLURM task); 3 covers that with a margin.
pub const DEFAULT_TIME_FACTOR: f64 = 3.0;
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

/// What [`calibrate`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Every run's estimated cost, in the order of the runs.
    pub costs: Vec<RunCost>,
    /// One line per setting: what was timed and the estimate it gave.
    pub lines: Vec<String>,
    /// Seconds spent timing.
    pub seconds: f64,
}

/// Times a shortened copy of the first run of each setting (consecutive runs with the
/// same block and setting) on this thread, and estimates every run's cost from it.
///
/// # Errors
/// Trainer and file errors of the calibration runs.
pub fn calibrate(runs: &[RunSpec]) -> Result<Calibration> {
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
    Ok(Calibration {
        costs,
        lines,
        seconds: t_all.elapsed().as_secs_f64(),
    })
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
                study.name
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
    let calibration = calibrate(&runs)?;
    let reduced = !study.portraits.is_empty() || !study.maps.is_empty();
    let res = resources(&calibration.costs, opts, reduced)?;
    let workdir = std::env::current_dir().map_err(|e| Error::file(".", e))?;
    let binary = std::env::current_exe().map_err(|e| Error::file("redqueen", e))?;
    // `components()` drops the `.` of a default `--root .`.
    let dir: PathBuf = workdir.join(&data).join(SCRIPTS_DIR).components().collect();
    let mut args = vec![
        path.to_string_lossy().into_owned(),
        "--root".into(),
        root.to_string_lossy().into_owned(),
    ];
    if quick {
        args.push("--quick".into());
    }
    let spec = ScriptSpec {
        study: study.name.clone(),
        binary,
        workdir,
        args,
        dir: dir.clone(),
        calibration: calibration.lines,
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
        calibration_seconds: calibration.seconds,
    })
}
