//! A sweep as a product: a stability map over a log-spaced (lr_G, lr_D) grid, run by the
//! batch engine ([`crate::analysis::stability_map`]), written as CSV, a JSON file with the
//! resolved configuration, and heat maps. The `sweep` command and `bench sweep` both call
//! [`run_sweep`], so the benchmark times exactly what users run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::analysis::{LogAxis, StabilityCell, SweepSetup, stability_map};
use crate::budget::{check_memory, product};
use crate::dynamics::RuleSpec;
use crate::error::{Error, Result};
use crate::export;
use crate::game::Game;
use crate::linalg::Vector;
use crate::shard::Shard;

/// Bytes a sweep needs per cell, beyond the engine's own state: the cell (about 200 B),
/// its CSV row (about 250 B) and the figure's values (16 B), rounded up.
pub const SWEEP_BYTES_PER_CELL: u128 = 1024;

/// What to sweep and where to write it.
pub struct SweepRequest<'a> {
    /// The game as the user named it (the rule's consensus/SGA adjustment is applied here).
    pub game: Arc<dyn Game>,
    /// The rule; every cell replaces its learning rates.
    pub rule: &'a RuleSpec,
    /// Generator learning rates.
    pub lr_g: LogAxis,
    /// Discriminator learning rates.
    pub lr_d: LogAxis,
    /// Start of every run.
    pub x0: Vector,
    /// Outer steps per cell.
    pub steps: usize,
    /// Divergence bound on ‖x − x*‖.
    pub bound: f64,
    /// Only this slice of the cells (no figures then).
    pub shard: Option<Shard>,
    /// Output directory.
    pub out: &'a Path,
}

/// What a sweep wrote.
pub struct SweepOutput {
    /// The cells computed, row-major over lr_G.
    pub cells: Vec<StabilityCell>,
    /// The CSV.
    pub csv: PathBuf,
    /// The JSON configuration beside it.
    pub config: PathBuf,
    /// The heat maps written (PNG; an SVG beside each).
    pub figures: Vec<PathBuf>,
    /// Wall seconds of the whole sweep (simulation, spectra, CSV, figures).
    pub seconds: f64,
}

/// The estimated memory of a sweep of `cells` cells (engine state and results, CSV,
/// figures) and of its axes.
#[must_use]
pub fn sweep_memory(n_g: usize, n_d: usize, dim: usize) -> u128 {
    let cells = product(&[n_g as u128, n_d as u128]);
    product(&[cells, SWEEP_BYTES_PER_CELL])
        .saturating_add(
            crate::dynamics::batch::memory_estimate(1, dim, 0, false).saturating_mul(cells),
        )
        .saturating_add(8 * (n_g as u128 + n_d as u128))
}

/// Runs a sweep: the cells, `sweep.csv` (or the shard's file), its JSON configuration
/// and, unsharded, the heat maps `sweep_rho` and `sweep_class`.
///
/// # Errors
/// [`Error::Param`] naming `--lr-g`/`--lr-d` when the grid would need more memory than
/// this machine allows (refused before anything is allocated), invalid rule settings,
/// file errors.
pub fn run_sweep(req: &SweepRequest<'_>) -> Result<SweepOutput> {
    let t0 = Instant::now();
    req.lr_g.validate("--lr-g")?;
    req.lr_d.validate("--lr-d")?;
    let game = req.rule.adjust_game(req.game.clone());
    check_memory(
        "--lr-g",
        sweep_memory(req.lr_g.n, req.lr_d.n, game.dim()),
        &format!("a sweep of {} × {} cells", req.lr_g.n, req.lr_d.n),
    )?;
    let total = req.lr_g.n.checked_mul(req.lr_d.n).ok_or_else(|| {
        Error::param(
            "--lr-g",
            "the grid has more cells than this machine can count",
        )
    })?;
    let (lr_g, lr_d) = (req.lr_g.values(), req.lr_d.values());
    let (range, name) = match req.shard {
        Some(s) => (s.range(total), s.file_name("sweep", "csv")),
        None => (0..total, "sweep.csv".to_string()),
    };
    let setup = SweepSetup {
        x0: req.x0.clone(),
        steps: req.steps,
        bound: req.bound,
    };
    let progress = crate::progress::Progress::new("sweep", range.len() as u64, "cells");
    let cells = stability_map(
        game.as_ref(),
        req.rule,
        &lr_g,
        &lr_d,
        &setup,
        range.clone(),
        Some(&progress),
    )?;
    progress.finish();
    let csv = req.out.join(&name);
    export::stability_table(&cells).write(&csv)?;
    let config = json!({
        "command": "sweep", "game": game.name(), "params": game.params(), "rule": req.rule,
        "lr_grid_g": req.lr_g, "lr_grid_d": req.lr_d, "from": req.x0.as_slice(),
        "steps": req.steps, "bound": req.bound, "shard": req.shard,
        "cells": [range.start, range.end],
        "seed": null, "seed_note": "reduced-game runs are deterministic and use no randomness",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let config_path = csv.with_extension("json");
    export::write_atomic(&config_path, format!("{config:#}\n").as_bytes())?;
    let figures = if req.shard.is_none() {
        let title = format!("{} · {}", game.name(), req.rule.name().as_str());
        crate::figures::stability_figures(&req.out.join("sweep"), &title, &lr_g, &lr_d, &cells)?
    } else {
        Vec::new()
    };
    Ok(SweepOutput {
        cells,
        csv,
        config: config_path,
        figures,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
