//! `sweep` (a stability map over a learning-rate grid, optionally one shard of it) and
//! `merge` (joining the shards).

use std::path::PathBuf;

use clap::Args;
use redqueen::analysis::LogAxis;
use redqueen::dynamics::{DEFAULT_DIVERGE_BOUND, RuleName};
use redqueen::error::Result;
use redqueen::export;
use redqueen::parallel::with_threads;
use redqueen::shard::{Shard, merge_csv_shards};
use redqueen::sweep::{SweepRequest, run_sweep};

use super::args::{GameArgs, RuleArgs, check_bound, check_steps, parse_point, parsed};

/// Arguments of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    game: GameArgs,
    /// The update rule: simultaneous, alternating, momentum, extragradient, optimistic,
    /// consensus, sga, adam, rmsprop or flow.
    #[arg(long, value_parser = parsed::<RuleName>)]
    rule: RuleName,
    #[command(flatten)]
    rule_args: RuleArgs,
    /// Generator learning rates MIN:MAX:N (log-spaced).
    #[arg(long = "lr-g", alias = "lr-grid-g", value_name = "MIN:MAX:N")]
    grid_g: String,
    /// Discriminator learning rates MIN:MAX:N (log-spaced).
    #[arg(long = "lr-d", alias = "lr-grid-d", value_name = "MIN:MAX:N")]
    grid_d: String,
    /// Outer steps per cell.
    #[arg(long, default_value_t = 2000, allow_negative_numbers = true)]
    steps: usize,
    /// Start x1,x2,...
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Distance from the equilibrium at which a run counts as diverged.
    #[arg(long, default_value_t = DEFAULT_DIVERGE_BOUND, allow_negative_numbers = true)]
    bound: f64,
    /// Run only shard I of N (0-based), e.g. 3/8, for batch schedulers.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = parsed::<Shard>)]
    shard: Option<Shard>,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    threads: usize,
    /// Output directory.
    #[arg(long, default_value = "data/sweep")]
    out: PathBuf,
}

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard files (any order; all N shards of one sweep).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The merged CSV (its description is written beside it as .json).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `sweep` (the library's [`redqueen::sweep::run_sweep`], which `bench sweep` times).
pub fn sweep(a: &SweepArgs) -> Result<()> {
    let steps = check_steps(a.steps)?;
    let bound = check_bound(a.bound)?;
    // The learning rates come from the grid; 1 is a placeholder replaced in every cell.
    let spec = a.rule_args.spec(a.rule, (1.0, 1.0))?;
    let game = a.game.build()?;
    let lr_g = LogAxis::parse("--lr-g", &a.grid_g)?;
    let lr_d = LogAxis::parse("--lr-d", &a.grid_d)?;
    let adjusted = spec.adjust_game(game.clone());
    let x0 = match &a.from {
        Some(s) => parse_point("from", s, adjusted.as_ref())?,
        None => adjusted.default_start(),
    };
    let out = with_threads(a.threads, || {
        run_sweep(&SweepRequest {
            game,
            rule: &spec,
            lr_g,
            lr_d,
            x0,
            steps,
            bound,
            shard: a.shard,
            out: &a.out,
        })
    })?;
    println!(
        "{} cells in {:.2} s → {}",
        out.cells.len(),
        out.seconds,
        out.csv.display()
    );
    for f in out.figures {
        println!("figure: {}", f.display());
    }
    Ok(())
}

/// Runs `merge`.
pub fn merge(a: &MergeArgs) -> Result<()> {
    let merged = merge_csv_shards(&a.shards)?;
    let json = a.out.with_extension("json");
    export::write_atomic(&a.out, &merged.csv)?;
    export::write_atomic(&json, format!("{:#}\n", merged.json).as_bytes())?;
    println!(
        "merged {} shards → {} (+ {})",
        a.shards.len(),
        a.out.display(),
        json.display()
    );
    Ok(())
}
