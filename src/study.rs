//! Studies: one TOML file per question, run with `redqueen study studies/<name>.toml`.
//!
//! A study is parsed in two stages: the raw file (serde, unknown keys rejected), then a
//! validated [`Study`] in which every game and rule has been built once, so that a bad
//! value is reported with the file, the key and the reason before anything runs.
//!
//! Outputs: `data/<study>/` (tidy CSV, the resolved configuration `config.json`, a copy
//! of the study file and `report.md`) and `figures/<study>/` (PNG and SVG).
//!
//! Blocks:
//! * `[[portraits]]`: every game × rule × learning-rate pair is simulated, classified by
//!   the eigenvalues of the update map and by simulation, and drawn as a phase portrait,
//!   with a grid over learning rates, distance curves and eigenvalue plots.
//! * `[[maps]]`: a stability map over a log-spaced (lr_G, lr_D) grid.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analysis::{
    self, LogAxis, MapClass, SimClass, StabilityCell, SweepSetup, TrajectoryMetrics,
};
use crate::dynamics::{
    DEFAULT_DIVERGE_BOUND, Order, RuleName, RuleSpec, SchemeKind, Trajectory, simulate,
};
use crate::error::{Error, Result};
use crate::export::{self, Table, num, opt, slug};
use crate::figures;
use crate::game::{Game, GameSpec};
use crate::linalg::Vector;
pub use crate::neural_study::RunMode;

/// A game entry of a study.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameEntry {
    /// Label in tables and titles (default: the game name).
    #[serde(default)]
    pub label: Option<String>,
    /// The game name.
    pub game: String,
    /// Its settings (numbers or strings).
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    /// The published expectation, if any: does this configuration converge locally?
    /// The report checks the simulated class against it.
    #[serde(default)]
    pub expect_converge: Option<bool>,
}

/// A rule entry of a study: a rule without its learning rates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    /// Label in tables and titles (default: built from the settings).
    #[serde(default)]
    pub label: Option<String>,
    /// The rule.
    pub rule: RuleName,
    /// Update order for alternating schemes.
    #[serde(default)]
    pub order: Order,
    /// Generator updates per outer step.
    #[serde(default = "one")]
    pub k_g: usize,
    /// Discriminator updates per outer step.
    #[serde(default = "one")]
    pub k_d: usize,
    /// Simultaneous or alternating for momentum, optimistic and Adam.
    #[serde(default)]
    pub scheme: SchemeKind,
    /// Momentum β.
    #[serde(default)]
    pub beta: Option<f64>,
    /// Consensus γ or SGA λ.
    #[serde(default)]
    pub gamma: Option<f64>,
}

fn one() -> usize {
    1
}

impl RuleEntry {
    fn spec(&self, lr_g: f64, lr_d: f64) -> RuleSpec {
        let base = RuleSpec::new(self.rule, lr_g, lr_d);
        RuleSpec {
            order: self.order,
            k_g: self.k_g,
            k_d: self.k_d,
            scheme: self.scheme,
            beta: self.beta.unwrap_or(base.beta),
            gamma: self.gamma.unwrap_or(base.gamma),
            ..base
        }
    }
    fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| {
            let mut s = self.rule.as_str().to_string();
            if self.k_g != 1 || self.k_d != 1 {
                write!(s, " (k_G = {}, k_D = {})", self.k_g, self.k_d).ok();
            }
            s
        })
    }
}

/// A `[[portraits]]` block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortraitsBlock {
    /// Block name (file prefix).
    pub name: String,
    /// Games.
    pub games: Vec<GameEntry>,
    /// Rules.
    pub rules: Vec<RuleEntry>,
    /// Learning-rate pairs [lr_G, lr_D].
    pub lrs: Vec<[f64; 2]>,
    /// Outer steps.
    pub steps: usize,
    /// Start point (default: (1, …, 1) for games centred at 0, else equilibrium + 0.5).
    #[serde(default)]
    pub from: Option<Vec<f64>>,
    /// Divergence bound on ‖x − x*‖.
    #[serde(default = "default_bound")]
    pub bound: f64,
}

/// A `[[maps]]` block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapBlock {
    /// Block name (file prefix).
    pub name: String,
    /// The game.
    pub game: GameEntry,
    /// The rule.
    pub rule: RuleEntry,
    /// Generator learning-rate axis.
    pub lr_g: LogAxis,
    /// Discriminator learning-rate axis.
    pub lr_d: LogAxis,
    /// Outer steps per cell.
    pub steps: usize,
    /// Start point.
    #[serde(default)]
    pub from: Option<Vec<f64>>,
    /// Divergence bound.
    #[serde(default = "default_bound")]
    pub bound: f64,
}

fn default_bound() -> f64 {
    DEFAULT_DIVERGE_BOUND
}

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

impl GameEntry {
    fn spec(&self, path: &Path, at: &str) -> Result<GameSpec> {
        let mut set = BTreeMap::new();
        for (k, v) in &self.set {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Array(a) => a
                    .iter()
                    .map(|x| match x {
                        toml::Value::Float(f) => Ok(f.to_string()),
                        toml::Value::Integer(i) => Ok(i.to_string()),
                        _ => Err(Error::config(
                            path,
                            format!("{at}.set.{k}: array items must be numbers"),
                        )),
                    })
                    .collect::<Result<Vec<_>>>()?
                    .join(","),
                _ => {
                    return Err(Error::config(
                        path,
                        format!("{at}.set.{k}: expected a number or a string"),
                    ));
                }
            };
            set.insert(k.clone(), s);
        }
        let spec = GameSpec {
            name: self.game.clone(),
            set,
        };
        spec.build()
            .map_err(|e| Error::config(path, format!("{at}: {e}")))?;
        Ok(spec)
    }
    fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.game.clone())
    }
}

/// A validated study.
#[derive(Debug, Clone)]
pub struct Study {
    /// The file it came from.
    pub path: PathBuf,
    /// The raw (and resolved) contents.
    pub file: StudyFile,
    /// Whether this is a `--quick` run.
    pub quick: bool,
    /// The validated `[[neural]]` blocks.
    pub neural: Vec<crate::neural_study::Resolved>,
}

/// Steps in quick mode: a tenth, at least 50.
fn quick_steps(steps: usize) -> usize {
    (steps / 10).max(50).min(steps)
}
/// Grid side in quick mode.
const QUICK_GRID: usize = 12;

impl Study {
    /// Reads and validates a study file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, the key and the reason.
    pub fn load(path: &Path, quick: bool) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
        let mut file: StudyFile = toml::from_str(&text)
            .map_err(|e| Error::config(path, e.message().to_string() + &locate(&text, e.span())))?;
        if file.name.is_empty() || file.name.contains(['/', '\\']) || file.name.starts_with('.') {
            return Err(Error::config(
                path,
                format!("name: `{}` is not a plain folder name", file.name),
            ));
        }
        for (b, p) in file.portraits.iter_mut().enumerate() {
            let at = format!("portraits[{b}]");
            for (i, g) in p.games.iter().enumerate() {
                g.spec(path, &format!("{at}.games[{i}]"))?;
            }
            for (i, r) in p.rules.iter().enumerate() {
                for lr in &p.lrs {
                    r.spec(lr[0], lr[1])
                        .validate()
                        .map_err(|e| Error::config(path, format!("{at}.rules[{i}]/lrs: {e}")))?;
                }
            }
            if p.games.is_empty() || p.rules.is_empty() || p.lrs.is_empty() {
                return Err(Error::config(
                    path,
                    format!("{at}: games, rules and lrs must not be empty"),
                ));
            }
            check_run(path, &at, p.steps, p.bound)?;
            if quick {
                p.steps = quick_steps(p.steps);
            }
        }
        for (b, m) in file.maps.iter_mut().enumerate() {
            let at = format!("maps[{b}]");
            m.game.spec(path, &format!("{at}.game"))?;
            m.lr_g
                .validate("lr_g")
                .map_err(|e| Error::config(path, format!("{at}: {e}")))?;
            m.lr_d
                .validate("lr_d")
                .map_err(|e| Error::config(path, format!("{at}: {e}")))?;
            m.rule
                .spec(1.0, 1.0)
                .validate()
                .map_err(|e| Error::config(path, format!("{at}.rule: {e}")))?;
            check_run(path, &at, m.steps, m.bound)?;
            if quick {
                m.steps = quick_steps(m.steps);
                m.lr_g.n = m.lr_g.n.min(QUICK_GRID);
                m.lr_d.n = m.lr_d.n.min(QUICK_GRID);
            }
        }
        let neural = file
            .neural
            .iter()
            .enumerate()
            .map(|(b, n)| crate::neural_study::resolve(path, b, n, quick))
            .collect::<Result<Vec<_>>>()?;
        Ok(Study {
            path: path.to_path_buf(),
            file,
            quick,
            neural,
        })
    }
}

impl Study {
    /// The output folders under `root`: `data/<name>` and `figures/<name>`. A quick look
    /// goes to its own folders (`<name>-quick`), so it never overwrites the outputs of
    /// a full run.
    #[must_use]
    pub fn output_dirs(&self, root: &Path) -> (PathBuf, PathBuf) {
        let folder = if self.quick {
            format!("{}-quick", self.file.name)
        } else {
            self.file.name.clone()
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
            .map(|(b, r)| crate::neural_study::plan(b, r, self.file.seed, data))
            .collect()
    }
}

fn check_run(path: &Path, at: &str, steps: usize, bound: f64) -> Result<()> {
    if steps == 0 {
        return Err(Error::config(
            path,
            format!("{at}.steps: must be at least 1"),
        ));
    }
    if !(bound.is_finite() && bound > 0.0) {
        return Err(Error::config(
            path,
            format!("{at}.bound: must be positive and finite, got {bound}"),
        ));
    }
    Ok(())
}

fn locate(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| {
        let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
        format!(" (line {line})")
    })
    .unwrap_or_default()
}

fn start_point(game: &dyn Game, from: &Option<Vec<f64>>, path: &Path, at: &str) -> Result<Vector> {
    match from {
        Some(v) if v.len() == game.dim() => Ok(Vector::from_vec(v.clone())),
        Some(v) => Err(Error::config(
            path,
            format!(
                "{at}.from: has {} coordinates, game `{}` needs {}",
                v.len(),
                game.name(),
                game.dim()
            ),
        )),
        None => Ok(crate::cli::default_start(game)),
    }
}

/// One simulated run of a portraits block, with its analysis.
struct Run {
    game: usize,
    rule: usize,
    lr: usize,
    spec: RuleSpec,
    traj: Trajectory,
    metrics: TrajectoryMetrics,
    center: Vector,
    flow: String,
    map: Option<analysis::MapSpectrum>,
    flow_eigs: Vec<crate::linalg::Eigenvalue>,
    csv: String,
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
    let f = &study.file;
    let (data, figs) = study.output_dirs(root);
    let plans = study.neural_plans(&data);
    let all: Vec<crate::neural_study::RunSpec> = plans.iter().flatten().cloned().collect();
    match mode {
        RunMode::Shard(i, n) => {
            let range = crate::cli::shard_range(all.len(), i, n);
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
    for (b, p) in f.portraits.iter().enumerate() {
        run_portraits(&study, b, p, &data, &figs, &mut report)?;
    }
    for (b, m) in f.maps.iter().enumerate() {
        run_map(&study, b, m, &data, &figs, &mut report)?;
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
        "study": f, "quick": quick, "seed": f.seed, "source": path.display().to_string(),
        "threads": rayon::current_num_threads(), "version": env!("CARGO_PKG_VERSION"),
    });
    export::write_atomic(
        &data.join("config.json"),
        format!("{config:#}\n").as_bytes(),
    )?;
    let source = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    export::write_atomic(&data.join("study.toml"), &source)?;
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

fn run_portraits(
    study: &Study,
    b: usize,
    p: &PortraitsBlock,
    data: &Path,
    figs: &Path,
    report: &mut String,
) -> Result<()> {
    let path = &study.path;
    let at = format!("portraits[{b}]");
    let games: Vec<Box<dyn Game>> = p
        .games
        .iter()
        .enumerate()
        .map(|(i, g)| g.spec(path, &format!("{at}.games[{i}]"))?.build())
        .collect::<Result<_>>()?;
    // The field each rule sees (consensus and SGA adjust it), per game and rule.
    let adjusted: Vec<Vec<Box<dyn Game>>> = p
        .games
        .iter()
        .enumerate()
        .map(|(i, g)| {
            p.rules
                .iter()
                .map(|r| {
                    Ok(r.spec(1.0, 1.0)
                        .adjust_game(g.spec(path, &format!("{at}.games[{i}]"))?.build()?))
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    let mut jobs = Vec::new();
    for gi in 0..games.len() {
        for ri in 0..p.rules.len() {
            for li in 0..p.lrs.len() {
                jobs.push((gi, ri, li));
            }
        }
    }
    let bdir = data.join(&p.name);
    let fdir = figs.join(&p.name);
    let runs: Vec<Run> = jobs
        .par_iter()
        .map(|&(gi, ri, li)| -> Result<Run> {
            let spec = p.rules[ri].spec(p.lrs[li][0], p.lrs[li][1]);
            let entry = &p.games[gi];
            let game = &adjusted[gi][ri];
            let rule = spec.build_rule()?;
            let x0 = start_point(game.as_ref(), &p.from, path, &at)?;
            let center = game
                .equilibrium()
                .unwrap_or_else(|| Vector::zeros(game.dim()));
            let traj = simulate(game.as_ref(), &rule, &x0, p.steps, &center, p.bound);
            let metrics = analysis::classify_trajectory(&traj, center.as_slice(), game.split());
            let sp = analysis::spectrum(games[gi].as_ref(), &center)?;
            let map = analysis::linearize_update(game.as_ref(), &rule, &center).ok();
            let name = format!(
                "{}_{}_lrg{}_lrd{}",
                slug(&entry.label()),
                slug(&p.rules[ri].label()),
                spec.lr_g,
                spec.lr_d
            );
            export::trajectory_table(game.as_ref(), &traj, &center)
                .write(&bdir.join(format!("{name}.csv")))?;
            let title = format!("{} · {}", entry.label(), figures::rule_label(&spec));
            crate::plot::phase_portrait(
                &fdir.join(&name),
                &figures::run_panel(game.as_ref(), &title, &traj, &center, &metrics),
            )?;
            Ok(Run {
                game: gi,
                rule: ri,
                lr: li,
                spec,
                traj,
                metrics,
                center,
                flow: sp.flow.as_str().into(),
                map,
                flow_eigs: sp.eigenvalues,
                csv: format!("{name}.csv"),
            })
        })
        .collect::<Result<_>>()?;

    // Summary table.
    let head = [
        "game",
        "game_label",
        "params",
        "rule",
        "rule_label",
        "lr_g",
        "lr_d",
        "k_g",
        "k_d",
        "order",
        "flow_class",
        "spectral_radius",
        "map_class",
    ];
    let tail = ["expect_converge", "matches_expectation", "trajectory_csv"];
    let mut t = Table::new(
        head.iter()
            .chain(export::METRIC_COLUMNS.iter())
            .chain(tail.iter())
            .copied(),
    );
    for r in &runs {
        let e = &p.games[r.game];
        let matches = e
            .expect_converge
            .map(|x| x == converged_like(r.metrics.class));
        let mut row = vec![
            e.game.clone(),
            e.label(),
            games[r.game].params().to_string(),
            r.spec.rule.as_str().into(),
            p.rules[r.rule].label(),
            num(r.spec.lr_g),
            num(r.spec.lr_d),
            r.spec.k_g.to_string(),
            r.spec.k_d.to_string(),
            r.spec.order.as_str().into(),
            r.flow.clone(),
            opt(r.map.as_ref().map(|m| m.spectral_radius)),
            figures::map_class_str(r.map.as_ref().map(|m| m.class)).into(),
        ];
        row.extend(export::metric_cells(&r.metrics));
        row.extend([
            e.expect_converge.map(|x| x.to_string()).unwrap_or_default(),
            matches.map(|x| x.to_string()).unwrap_or_default(),
            r.csv.clone(),
        ]);
        t.push(row);
    }
    t.write(&bdir.join("summary.csv"))?;

    // Figures over learning rates, over games, and spectra.
    let panel = |r: &Run, title: String| -> Result<crate::plot::PhasePortrait> {
        Ok(figures::run_panel(
            adjusted[r.game][r.rule].as_ref(),
            &title,
            &r.traj,
            &r.center,
            &r.metrics,
        ))
    };
    let mut fig_lines = Vec::new();
    for gi in 0..games.len() {
        for ri in 0..p.rules.len() {
            let sel: Vec<&Run> = runs
                .iter()
                .filter(|r| r.game == gi && r.rule == ri)
                .collect();
            let stem = fdir.join(format!(
                "{}_{}",
                slug(&p.games[gi].label()),
                slug(&p.rules[ri].label())
            ));
            if sel.len() > 1 {
                let panels = sel
                    .iter()
                    .map(|r| panel(r, format!("η_G = {}, η_D = {}", r.spec.lr_g, r.spec.lr_d)))
                    .collect::<Result<Vec<_>>>()?;
                let title = format!(
                    "{} · {}: one panel per learning rate",
                    p.games[gi].label(),
                    p.rules[ri].label()
                );
                crate::plot::phase_grid(
                    &figures::with_suffix(&stem, "_grid"),
                    &title,
                    &panels,
                    panels.len().min(3),
                )?;
                fig_lines.push((
                    format!(
                        "{} · {} over learning rates",
                        p.games[gi].label(),
                        p.rules[ri].label()
                    ),
                    figures::with_suffix(&stem, "_grid.png"),
                ));
            }
            let curves: Vec<(String, &Trajectory, &Vector)> = sel
                .iter()
                .map(|r| {
                    (
                        format!("η_G = {}, η_D = {}", r.spec.lr_g, r.spec.lr_d),
                        &r.traj,
                        &r.center,
                    )
                })
                .collect();
            figures::distance_curves(
                &figures::with_suffix(&stem, "_distance"),
                &format!(
                    "{} · {}: distance to equilibrium",
                    p.games[gi].label(),
                    p.rules[ri].label()
                ),
                &curves,
            )?;
            // One spectrum figure per game and rule, one series per learning rate, so
            // that the eigenvalues of different rules near 1 do not hide each other.
            let map_series: Vec<(String, Vec<crate::linalg::Eigenvalue>)> = sel
                .iter()
                .filter_map(|r| {
                    r.map.as_ref().map(|m| {
                        (
                            format!("η_G = {}, η_D = {}", r.spec.lr_g, r.spec.lr_d),
                            m.eigenvalues.clone(),
                        )
                    })
                })
                .collect();
            if !map_series.is_empty() {
                figures::eigenvalue_figure(
                    &figures::with_suffix(&stem, "_eig_map"),
                    &format!(
                        "{} · {}: eigenvalues of the update map ∂F",
                        p.games[gi].label(),
                        p.rules[ri].label()
                    ),
                    true,
                    map_series,
                )?;
                fig_lines.push((
                    format!(
                        "{} · {}: update-map eigenvalues",
                        p.games[gi].label(),
                        p.rules[ri].label()
                    ),
                    figures::with_suffix(&stem, "_eig_map.png"),
                ));
            }
        }
        let gstem = fdir.join(slug(&p.games[gi].label()));
        if let Some(r) = runs.iter().find(|r| r.game == gi) {
            figures::eigenvalue_figure(
                &figures::with_suffix(&gstem, "_eig_flow"),
                &format!(
                    "{}: eigenvalues of J at the equilibrium (flow: {})",
                    p.games[gi].label(),
                    r.flow
                ),
                false,
                vec![("J".into(), r.flow_eigs.clone())],
            )?;
        }
    }
    if games.len() > 1 {
        for ri in 0..p.rules.len() {
            for li in 0..p.lrs.len() {
                let sel: Vec<&Run> = runs.iter().filter(|r| r.rule == ri && r.lr == li).collect();
                let panels = sel
                    .iter()
                    .map(|r| panel(r, p.games[r.game].label()))
                    .collect::<Result<Vec<_>>>()?;
                let stem = fdir.join(format!(
                    "{}_lrg{}_lrd{}_games",
                    slug(&p.rules[ri].label()),
                    p.lrs[li][0],
                    p.lrs[li][1]
                ));
                let title = format!(
                    "{} with η_G = {}, η_D = {}",
                    p.rules[ri].label(),
                    p.lrs[li][0],
                    p.lrs[li][1]
                );
                crate::plot::phase_grid(&stem, &title, &panels, 3)?;
                fig_lines.push((title, figures::with_suffix(&stem, ".png")));
            }
        }
    }

    // Report section.
    writeln!(
        report,
        "## {} ({} steps from {})\n",
        p.name,
        p.steps,
        p.from
            .as_ref()
            .map_or("the default start".to_string(), |f| format!("{f:?}"))
    )
    .ok();
    writeln!(report, "Data: `{}`. Flow class from J at the equilibrium; map class from ρ(∂F); simulated class from the run (see README for the definitions).\n", bdir.join("summary.csv").display()).ok();
    let has_expect = p.games.iter().any(|g| g.expect_converge.is_some());
    writeln!(report, "| game | rule | η_G | η_D | flow | ρ(∂F) | map class | simulated | final distance | winding | diverged at |{}", if has_expect { " expected | matches |" } else { "" }).ok();
    writeln!(
        report,
        "|---|---|---|---|---|---|---|---|---|---|---|{}",
        if has_expect { "---|---|" } else { "" }
    )
    .ok();
    let mut mismatches = 0;
    for r in &runs {
        let e = &p.games[r.game];
        let mut line = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.3e} | {:.2} | {} |",
            e.label(),
            p.rules[r.rule].label(),
            r.spec.lr_g,
            r.spec.lr_d,
            r.flow,
            r.map
                .as_ref()
                .map_or("n/a".into(), |m| format!("{:.6}", m.spectral_radius)),
            figures::map_class_str(r.map.as_ref().map(|m| m.class)),
            r.metrics.class.as_str(),
            r.metrics.final_distance,
            r.metrics.winding,
            r.metrics.diverged_step.map_or("".into(), |s| s.to_string()),
        );
        if has_expect {
            match e.expect_converge {
                Some(x) => {
                    let ok = x == converged_like(r.metrics.class);
                    mismatches += usize::from(!ok);
                    write!(
                        line,
                        " {} | {} |",
                        if x { "converges" } else { "does not converge" },
                        if ok { "yes" } else { "**no**" }
                    )
                    .ok();
                }
                None => line.push_str(" | |"),
            }
        }
        writeln!(report, "{line}").ok();
    }
    if has_expect {
        writeln!(
            report,
            "\n{} of {} runs match the published expectation{}.",
            runs.len() - mismatches,
            runs.len(),
            if mismatches == 0 {
                ""
            } else {
                " — the mismatches are findings, listed above"
            }
        )
        .ok();
    }
    writeln!(report).ok();
    for (caption, f) in fig_lines {
        writeln!(report, "![{caption}]({})\n", rel(figs, &f)).ok();
    }
    Ok(())
}

/// Whether a simulated class counts as convergence for the published expectation.
#[must_use]
pub fn converged_like(c: SimClass) -> bool {
    matches!(c, SimClass::Converged | SimClass::Converging)
}

fn run_map(
    study: &Study,
    b: usize,
    m: &MapBlock,
    data: &Path,
    figs: &Path,
    report: &mut String,
) -> Result<()> {
    let path = &study.path;
    let at = format!("maps[{b}]");
    let spec = m.rule.spec(1.0, 1.0);
    let game = spec.adjust_game(m.game.spec(path, &format!("{at}.game"))?.build()?);
    let x0 = start_point(game.as_ref(), &m.from, path, &at)?;
    let (lg, ld) = (m.lr_g.values(), m.lr_d.values());
    let setup = SweepSetup {
        x0: x0.clone(),
        steps: m.steps,
        bound: m.bound,
    };
    let t0 = Instant::now();
    let cells = analysis::stability_map(
        game.as_ref(),
        &spec,
        &lg,
        &ld,
        &setup,
        0..lg.len() * ld.len(),
    )?;
    let secs = t0.elapsed().as_secs_f64();
    let csv = data.join(format!("{}.csv", m.name));
    export::stability_table(&cells).write(&csv)?;
    let stem = figs.join(&m.name);
    let title = format!("{} · {}", m.game.label(), m.rule.label());
    figures::stability_figures(&stem, &title, &lg, &ld, &cells)?;
    writeln!(
        report,
        "## {}: stability map of {} ({}×{} cells, {} steps each, {:.1} s)\n",
        m.name,
        title,
        lg.len(),
        ld.len(),
        m.steps,
        secs
    )
    .ok();
    writeln!(report, "Data: `{}`.\n", csv.display()).ok();
    report.push_str(&map_summary(&cells));
    for suffix in ["_rho.png", "_class.png"] {
        let f = figures::with_suffix(&stem, suffix);
        if f.exists() {
            writeln!(report, "![{title}]({})\n", rel(figs, &f)).ok();
        }
    }
    Ok(())
}

/// Class counts and disagreements of a map, as Markdown.
#[must_use]
pub fn map_summary(cells: &[StabilityCell]) -> String {
    let mut s = String::new();
    let mut by_map: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_sim: BTreeMap<&str, usize> = BTreeMap::new();
    for c in cells {
        *by_map
            .entry(figures::map_class_str(c.map_class))
            .or_default() += 1;
        *by_sim.entry(c.sim.class.as_str()).or_default() += 1;
    }
    writeln!(s, "- map classes (eigenvalues of ∂F): {by_map:?}").ok();
    writeln!(s, "- simulated classes: {by_sim:?}").ok();
    let dis: Vec<&StabilityCell> = cells.iter().filter(|c| c.agrees() == Some(false)).collect();
    let count = |f: &dyn Fn(&StabilityCell) -> bool| dis.iter().filter(|c| f(c)).count();
    let horizon = count(&|c| c.horizon_limited() == Some(true));
    let rest = |c: &StabilityCell| c.horizon_limited() != Some(true);
    let stalled = count(&|c| rest(c) && c.sim.class == SimClass::Stalled);
    let limit_cycle = count(&|c| {
        rest(c) && c.map_class == Some(MapClass::Divergent) && c.sim.class == SimClass::Cycling
    });
    let escaped = count(&|c| {
        rest(c)
            && c.map_class == Some(MapClass::Convergent)
            && matches!(c.sim.class, SimClass::Diverged | SimClass::Diverging)
    });
    let other = dis.len() - horizon - stalled - limit_cycle - escaped;
    writeln!(
        s,
        "- {} of {} cells disagree between the eigenvalues and the simulation. Of these, {horizon} are horizon-limited \
         (|ln ρ|·steps < ln 2: too few steps to see the predicted growth or decay); {stalled} stalled (vanishing \
         gradients far from the equilibrium); {limit_cycle} are limit cycles (ρ > 1 locally, but the orbit stays \
         bounded and keeps turning: saturation stops the growth); {escaped} left the basin (ρ < 1 locally, but the \
         run from the start point diverged); {other} other.",
        dis.len(),
        cells.len()
    )
    .ok();
    let others: Vec<&&StabilityCell> = dis
        .iter()
        .filter(|c| {
            rest(c)
                && c.sim.class != SimClass::Stalled
                && !(c.map_class == Some(MapClass::Divergent) && c.sim.class == SimClass::Cycling)
                && !(c.map_class == Some(MapClass::Convergent)
                    && matches!(c.sim.class, SimClass::Diverged | SimClass::Diverging))
        })
        .take(10)
        .collect();
    if !others.is_empty() {
        writeln!(
            s,
            "  The first of the other cells (η_G, η_D, ρ, map class, simulated class):"
        )
        .ok();
        for c in others {
            writeln!(
                s,
                "  - {:.4e}, {:.4e}, {}, {}, {}",
                c.lr_g,
                c.lr_d,
                opt(c.spectral_radius),
                figures::map_class_str(c.map_class),
                c.sim.class.as_str()
            )
            .ok();
        }
    }
    let convergent = cells
        .iter()
        .filter(|c| c.map_class == Some(MapClass::Convergent))
        .count();
    writeln!(s, "- {convergent} of {} cells have ρ < 1.\n", cells.len()).ok();
    s
}
