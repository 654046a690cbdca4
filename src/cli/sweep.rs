//! `sweep` (a stability map over a learning-rate grid, optionally one shard of it) and
//! `merge` (joining the shards).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use redqueen::analysis::{self, LogAxis};
use redqueen::dynamics::{DEFAULT_DIVERGE_BOUND, RuleName};
use redqueen::error::Result;
use redqueen::export;
use redqueen::parallel::with_threads;
use redqueen::shard::{Shard, merge_csv_shards};

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

/// Runs `sweep`.
pub fn sweep(a: &SweepArgs) -> Result<()> {
    let steps = check_steps(a.steps)?;
    let bound = check_bound(a.bound)?;
    // The learning rates come from the grid; 1 is a placeholder replaced in every cell.
    let spec = a.rule_args.spec(a.rule, (1.0, 1.0))?;
    let game = spec.adjust_game(a.game.build()?);
    let gx = LogAxis::parse("--lr-g", &a.grid_g)?;
    let gy = LogAxis::parse("--lr-d", &a.grid_d)?;
    let (lr_g, lr_d) = (gx.values(), gy.values());
    let x0 = match &a.from {
        Some(s) => parse_point("from", s, game.as_ref())?,
        None => game.default_start(),
    };
    let total = lr_g.len() * lr_d.len();
    let (range, name) = match a.shard {
        Some(s) => (s.range(total), s.file_name("sweep", "csv")),
        None => (0..total, "sweep.csv".to_string()),
    };
    let t0 = std::time::Instant::now();
    let setup = analysis::SweepSetup {
        x0: x0.clone(),
        steps,
        bound,
    };
    let cells = with_threads(a.threads, || {
        analysis::stability_map(game.as_ref(), &spec, &lr_g, &lr_d, &setup, range.clone())
    })?;
    let path = a.out.join(&name);
    export::stability_table(&cells).write(&path)?;
    let config = json!({
        "command": "sweep", "game": game.name(), "params": game.params(), "rule": spec,
        "lr_grid_g": gx, "lr_grid_d": gy, "from": x0.as_slice(), "steps": steps,
        "bound": bound, "shard": a.shard, "cells": [range.start, range.end],
        "seed": null, "seed_note": "reduced-game runs are deterministic and use no randomness",
        "version": env!("CARGO_PKG_VERSION"),
    });
    export::write_atomic(
        &path.with_extension("json"),
        format!("{config:#}\n").as_bytes(),
    )?;
    println!(
        "{} cells in {:.2} s → {}",
        cells.len(),
        t0.elapsed().as_secs_f64(),
        path.display()
    );
    if a.shard.is_none() {
        let title = format!("{} · {}", game.name(), spec.name().as_str());
        let figures = redqueen::figures::stability_figures(
            &a.out.join("sweep"),
            &title,
            &lr_g,
            &lr_d,
            &cells,
        )?;
        for f in figures {
            println!("figure: {}", f.display());
        }
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
