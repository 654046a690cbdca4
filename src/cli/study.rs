//! `study`: run a study file, one shard of it, or the merge of its shards.

use std::path::PathBuf;

use clap::Args;

use redqueen::error::Result;
use redqueen::parallel::with_threads;
use redqueen::shard::Shard;
use redqueen::study::{RunMode, run_study_mode};

use super::args::parsed;

/// Arguments of `study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// The study file (TOML).
    file: PathBuf,
    /// A reduced run for a first look (fewer steps and grid cells).
    #[arg(long)]
    quick: bool,
    /// Root directory for data/ and figures/.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    threads: usize,
    /// Run only shard I of N (0-based) of the study's neural runs, e.g. 3/8 for a
    /// SLURM array (`--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`); writes
    /// the per-run folders only. Join with `--merge`.
    #[arg(long, value_name = "I/N", conflicts_with = "merge", allow_hyphen_values = true,
          value_parser = parsed::<Shard>)]
    shard: Option<Shard>,
    /// Aggregate the runs already on disk (written by every `--shard I/N`, same
    /// options) into the summary CSVs, figures and report; byte-identical to an
    /// unsharded run. Fails listing missing or stale runs.
    #[arg(long)]
    merge: bool,
    /// Write SLURM job scripts (an array job of --shards tasks, a merge job after it,
    /// and submit.sh) into data/<study>/slurm/, with times measured on this machine;
    /// prints the command to submit. See README, "On a cluster".
    #[arg(long, conflicts_with_all = ["shard", "merge"])]
    slurm: bool,
    /// With --slurm: array tasks (default: about an hour each, at most one per run).
    #[arg(long, requires = "slurm", allow_negative_numbers = true)]
    shards: Option<usize>,
    /// With --slurm: the partition (default: the cluster's default).
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// With --slurm: the account to charge (default: your default account).
    #[arg(long, requires = "slurm")]
    account: Option<String>,
    /// With --slurm: CPUs per array task = runs at once in a shard.
    #[arg(long, requires = "slurm", allow_negative_numbers = true,
          default_value_t = redqueen::slurm::DEFAULT_CPUS_PER_TASK)]
    cpus_per_task: usize,
    /// With --slurm: safety factor on the measured times (raise it for slower nodes).
    #[arg(long, requires = "slurm", allow_negative_numbers = true,
          default_value_t = redqueen::slurm::DEFAULT_TIME_FACTOR)]
    time_factor: f64,
}

/// Runs `study`.
pub fn study(a: &StudyArgs) -> Result<()> {
    if a.slurm {
        let opts = redqueen::slurm::SlurmOptions {
            shards: a.shards,
            partition: a.partition.clone(),
            account: a.account.clone(),
            cpus_per_task: a.cpus_per_task,
            time_factor: a.time_factor,
        };
        let g = redqueen::slurm::generate(&a.file, &a.root, a.quick, &opts)?;
        println!("{}", g.summary());
        return Ok(());
    }
    let mode = match (a.shard, a.merge) {
        (Some(s), _) => RunMode::Shard(s),
        (None, true) => RunMode::Merge,
        (None, false) => RunMode::Full,
    };
    with_threads(a.threads, || {
        run_study_mode(&a.file, &a.root, a.quick, mode).map(|_| ())
    })
}
