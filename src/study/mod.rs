//! Studies: one TOML file per question, run with `redqueen study studies/<name>.toml`.
//!
//! A study file is read in two stages ([`plan`]): the raw file (serde, unknown keys
//! rejected), then a validated [`Study`] in which every game is built once from typed
//! settings and every rule is resolved, so that a bad value is reported with the file,
//! the key and the reason before anything runs.
//!
//! Outputs: `data/<study>/` (tidy CSV, the resolved configuration `config.json`, a copy
//! of the study file and `report.md`) and `figures/<study>/` (PNG and SVG).
//!
//! Blocks:
//! * `[[portraits]]` ([`portraits`]): every game × rule × learning-rate pair is
//!   simulated, classified by the eigenvalues of the update map and by simulation, and
//!   drawn as a phase portrait, with a grid over learning rates, distance curves and
//!   eigenvalue plots.
//! * `[[maps]]` ([`maps`]): a stability map over a log-spaced (lr_G, lr_D) grid.
//! * `[[neural]]` ([`crate::neural_study`]): settings × seeds of the neural trainer.

pub mod maps;
pub mod plan;
pub mod portraits;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::export;
use crate::shard::Shard;
use plan::{MapBlock, MapPlan, Portraits, PortraitsBlock, QUICK_GRID};

/// The raw study file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    /// Study name: the folder under data/ and figures/.
    pub name: String,
    /// One-line title.
    pub title: String,
    /// What question the study answers.
    #[serde(default)]
    pub description: String,
    /// Expected wall time of the full default run.
    #[serde(default)]
    pub expected_wall_time: String,
    /// Seed (recorded; reduced-game runs use no randomness).
    #[serde(default)]
    pub seed: u64,
    /// Phase-portrait blocks.
    #[serde(default)]
    pub portraits: Vec<PortraitsBlock>,
    /// Stability-map blocks.
    #[serde(default)]
    pub maps: Vec<MapBlock>,
    /// Neural-training blocks (settings × seeds), see [`crate::neural_study`].
    #[serde(default)]
    pub neural: Vec<crate::neural_study::NeuralBlock>,
}

/// A validated study: the plan every run follows.
pub struct Study {
    /// The file it came from.
    pub path: PathBuf,
    /// The file's text (copied next to the outputs).
    pub source: String,
    /// Study name: the folder under data/ and figures/.
    pub name: String,
    /// One-line title.
    pub title: String,
    /// What question the study answers.
    pub description: String,
    /// Expected wall time of the full default run.
    pub expected_wall_time: String,
    /// Seed.
    pub seed: u64,
    /// Whether this is a `--quick` run.
    pub quick: bool,
    /// The portraits blocks.
    pub portraits: Vec<Portraits>,
    /// The map blocks.
    pub maps: Vec<MapPlan>,
    /// The validated `[[neural]]` blocks.
    pub neural: Vec<crate::neural_study::Resolved>,
}

/// How a study is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// All runs, then the aggregation.
    Full,
    /// Only the neural runs of one shard; no aggregation.
    Shard(Shard),
    /// Only the aggregation, over runs on disk.
    Merge,
}

impl Study {
    /// Reads and validates a study file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, the key and the reason.
    pub fn load(path: &Path, quick: bool) -> Result<Self> {
        let source = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
        let file: StudyFile = toml::from_str(&source).map_err(|e| {
            Error::config(path, e.message().to_string() + &locate(&source, e.span()))
        })?;
        if let Ok(table) = source.parse::<toml::Table>()
            && let Some(why) = crate::unread_keys::first_unread::<StudyFile>(&table)
        {
            return Err(Error::config(path, why));
        }
        if file.name.is_empty() || file.name.contains(['/', '\\']) || file.name.starts_with('.') {
            return Err(Error::config(
                path,
                format!("name: `{}` is not a plain folder name", file.name),
            ));
        }
        let blocks = file
            .portraits
            .iter()
            .map(|p| p.name.as_str())
            .chain(file.maps.iter().map(|m| m.name.as_str()))
            .chain(file.neural.iter().map(|n| n.name.as_str()));
        plan::unique_labels(path, "block names", blocks)?;
        let portraits = file
            .portraits
            .iter()
            .enumerate()
            .map(|(b, p)| plan::plan_portraits(path, b, p, quick))
            .collect::<Result<_>>()?;
        let maps = file
            .maps
            .iter()
            .enumerate()
            .map(|(b, m)| plan::plan_map(path, b, m, quick))
            .collect::<Result<_>>()?;
        let neural = file
            .neural
            .iter()
            .enumerate()
            .map(|(b, n)| crate::neural_study::resolve(path, b, n, quick))
            .collect::<Result<Vec<_>>>()?;
        Ok(Study {
            path: path.to_path_buf(),
            source,
            name: file.name,
            title: file.title,
            description: file.description,
            expected_wall_time: file.expected_wall_time,
            seed: file.seed,
            quick,
            portraits,
            maps,
            neural,
        })
    }

    /// The output folders under `root`: `data/<name>` and `figures/<name>`. A quick look
    /// goes to its own folders (`<name>-quick`), so it never overwrites the outputs of
    /// a full run.
    #[must_use]
    pub fn output_dirs(&self, root: &Path) -> (PathBuf, PathBuf) {
        let folder = if self.quick {
            format!("{}-quick", self.name)
        } else {
            self.name.clone()
        };
        (
            root.join("data").join(&folder),
            root.join("figures").join(&folder),
        )
    }

    /// The runs of every `[[neural]]` block, block by block, each in its fixed order;
    /// flattened, this is the list that `--shard I/N` slices.
    #[must_use]
    pub fn neural_plans(&self, data: &Path) -> Vec<Vec<crate::neural_study::RunSpec>> {
        self.neural
            .iter()
            .enumerate()
            .map(|(b, r)| crate::neural_study::plan(b, r, self.seed, data))
            .collect()
    }

    /// The resolved plan as JSON (for `config.json`).
    #[must_use]
    pub fn resolved(&self) -> serde_json::Value {
        json!({
            "name": self.name, "title": self.title, "description": self.description,
            "expected_wall_time": self.expected_wall_time, "seed": self.seed,
            "portraits": self.portraits, "maps": self.maps,
            "neural": self.neural.iter().map(|r| json!({"block": r.block, "configs": r.configs})).collect::<Vec<_>>(),
        })
    }
}

fn locate(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| {
        let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
        format!(" (line {line})")
    })
    .unwrap_or_default()
}

/// What a study run produced.
#[derive(Debug, Clone)]
pub struct StudyOutput {
    /// data/<study>/
    pub data_dir: PathBuf,
    /// figures/<study>/
    pub figure_dir: PathBuf,
    /// The report.
    pub report: PathBuf,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Loads and runs a study, writing under `root`.
///
/// # Errors
/// Config errors before anything runs; file errors while writing.
pub fn run_study(path: &Path, root: &Path, quick: bool) -> Result<StudyOutput> {
    run_study_mode(path, root, quick, RunMode::Full)
}

/// Removes from the study's folders everything its plan does not produce: every figure
/// (all are drawn again), every table and report (written again), and every run folder
/// that is not one of `runs` (left by other settings, seeds or an earlier file). Run
/// folders of the plan stay: they are the runs being aggregated; so do the SLURM job
/// scripts and their logs ([`crate::slurm::SCRIPTS_DIR`]).
///
/// # Errors
/// [`Error::File`] naming what could not be removed.
fn clear_stale(
    data: &Path,
    figs: &Path,
    study: &Study,
    runs: &[crate::neural_study::RunSpec],
) -> Result<()> {
    crate::output::clear_folder(figs, &|_| false)?;
    let blocks: Vec<&str> = study.neural.iter().map(|r| r.block.name.as_str()).collect();
    crate::output::clear_folder(data, &|name| {
        blocks.contains(&name) || name == crate::slurm::SCRIPTS_DIR
    })?;
    let planned: std::collections::BTreeSet<&Path> = runs.iter().map(|r| r.dir.as_path()).collect();
    for b in &blocks {
        let bdir = data.join(b);
        crate::output::clear_folder(&bdir, &|name| name == "runs")?;
        let rdir = bdir.join("runs");
        let settings = match std::fs::read_dir(&rdir) {
            Ok(r) => r
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect::<Vec<_>>(),
            Err(_) => continue,
        };
        for sdir in settings {
            if !sdir.is_dir()
                || std::fs::symlink_metadata(&sdir).is_ok_and(|m| m.file_type().is_symlink())
            {
                crate::output::clear_folder(&rdir, &|name| {
                    sdir.file_name().is_none_or(|n| n.to_string_lossy() != name)
                })?;
                continue;
            }
            crate::output::clear_folder(&sdir, &|name| {
                planned.contains(sdir.join(name).as_path())
            })?;
            let empty = std::fs::read_dir(&sdir)
                .map(|mut r| r.next().is_none())
                .unwrap_or(false);
            if empty {
                std::fs::remove_dir(&sdir).map_err(|e| Error::file(&sdir, e))?;
            }
        }
    }
    Ok(())
}

/// Loads and runs a study in `mode`: everything ([`RunMode::Full`]), only one shard of
/// the `[[neural]]` runs ([`RunMode::Shard`]: no aggregation, no report), or only the
/// aggregation over runs already on disk ([`RunMode::Merge`]; the reduced-game blocks,
/// which are cheap and deterministic, run here too). Full = shards 0..N + merge, with
/// byte-identical CSV outputs.
///
/// # Errors
/// Config errors before anything runs; file errors while writing; in merge mode, a
/// [`Error::Config`] listing missing or stale runs.
pub fn run_study_mode(path: &Path, root: &Path, quick: bool, mode: RunMode) -> Result<StudyOutput> {
    let study = Study::load(path, quick)?;
    let t0 = Instant::now();
    let f = &study;
    let (data, figs) = study.output_dirs(root);
    let plans = study.neural_plans(&data);
    let all: Vec<crate::neural_study::RunSpec> = plans.iter().flatten().cloned().collect();
    // The report vouches for everything in the folder: it goes first, and comes back last.
    crate::output::remove_marker(&data.join("report.md"))?;
    match mode {
        RunMode::Shard(shard) => {
            let (i, n) = (shard.index, shard.count);
            let range = shard.range(all.len());
            let runs = &all[range.clone()];
            crate::neural_study::execute_all(runs)?;
            let seconds = t0.elapsed().as_secs_f64();
            eprintln!(
                "study {} shard {i}/{n}: runs {}..{} of {} in {seconds:.1} s → {}; merge with `redqueen study {} --merge{}`",
                f.name,
                range.start,
                range.end,
                all.len(),
                data.display(),
                path.display(),
                if quick { " --quick" } else { "" }
            );
            return Ok(StudyOutput {
                report: data.join("report.md"),
                data_dir: data,
                figure_dir: figs,
                seconds,
            });
        }
        RunMode::Full => crate::neural_study::execute_all(&all)?,
        RunMode::Merge => crate::neural_study::check_done(path, &all)?,
    }
    clear_stale(&data, &figs, &study, &all)?;
    let mut report = String::new();
    writeln!(report, "# {}\n", f.title).ok();
    if !f.description.is_empty() {
        writeln!(report, "{}\n", f.description.trim()).ok();
    }
    let cmd = format!(
        "redqueen study {}{}",
        path.display(),
        if quick { " --quick" } else { "" }
    );
    writeln!(
        report,
        "Reproduce with `{cmd}`. Seed {}{}. Expected wall time of the full run: {}.\n",
        f.seed,
        if f.neural.is_empty() {
            " (the reduced games use no randomness)"
        } else {
            " (every neural run's seed is derived from it)"
        },
        if f.expected_wall_time.is_empty() {
            "not stated"
        } else {
            &f.expected_wall_time
        }
    )
    .ok();
    if quick {
        writeln!(report, "**Quick run**: steps divided by 10 and grids capped at {QUICK_GRID}×{QUICK_GRID}; neural blocks use their `quick_seeds` and `quick_steps`; the numbers below are a first look, not the study's result.\n").ok();
    }
    if mode == RunMode::Merge {
        writeln!(report, "Merged from the runs on disk (run with `--shard I/N`); the wall time below is the merge's only.\n").ok();
    }
    for p in &study.portraits {
        report.push_str(&portraits::run(p, &data, &figs)?);
    }
    for m in &study.maps {
        report.push_str(&maps::run(m, &data, &figs)?);
    }
    for (r, runs) in study.neural.iter().zip(&plans) {
        crate::neural_study::aggregate(&study.path, r, runs, &data, &figs, &mut report)?;
    }
    let seconds = t0.elapsed().as_secs_f64();
    writeln!(
        report,
        "\n---\nWall time: {seconds:.1} s on {} threads; redqueen {}.",
        rayon::current_num_threads(),
        env!("CARGO_PKG_VERSION")
    )
    .ok();
    let config = json!({
        "study": f.resolved(), "quick": quick, "seed": f.seed, "source": path.display().to_string(),
        "threads": rayon::current_num_threads(), "version": env!("CARGO_PKG_VERSION"),
    });
    export::write_atomic(
        &data.join("config.json"),
        format!("{config:#}\n").as_bytes(),
    )?;
    export::write_atomic(&data.join("study.toml"), study.source.as_bytes())?;
    let report_path = data.join("report.md");
    export::write_atomic(&report_path, report.as_bytes())?;
    eprintln!(
        "study {}: {:.1} s → {} and {}",
        f.name,
        seconds,
        data.display(),
        figs.display()
    );
    Ok(StudyOutput {
        data_dir: data,
        figure_dir: figs,
        report: report_path,
        seconds,
    })
}

/// The link from data/<study>/report.md to a figure under figures/<study>/.
fn rel(figs: &Path, to: &Path) -> String {
    let study = figs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let inner = to.strip_prefix(figs).unwrap_or(to);
    format!("../../figures/{study}/{}", inner.to_string_lossy())
}
