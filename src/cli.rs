//! The command-line interface (clap). Each subcommand parses its arguments, calls the
//! library, and prints or writes the results; errors propagate to `main`, which prints
//! one line and exits with status 2.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::analysis::{self, LogAxis, MapSpectrum, Spectrum};
use crate::dynamics::{DEFAULT_DIVERGE_BOUND, Order, RuleName, RuleSpec, SchemeKind, simulate};
use crate::error::{Error, Result};
use crate::export;
use crate::game::{Game, GameSpec};
use crate::linalg::Vector;

const GAME_HELP: &str = "\
Games and their --set keys (defaults in brackets):
  dirac           loss=standard|nonsaturating|wgan [standard], r1=γ [0], r2=γ [0],
                  gp=λ [0], gp_target=t [1], noise=σ [0], consensus=γ [0], clip=c [none]
  bilinear        a=s [1] (min_x max_y s·xy), or matrix=a11,a12;a21,a22 (rows split by ;)
  lotka-volterra  alpha [1], beta [1], gamma [1], delta [1]
  one-mode        modes=k [3], weights=w1,w2,... [equal], on=i [1] (mode the generator sits on)
  ttur-saddle     (no keys) f = (1 + x²)(100 − y²)";

/// redqueen: GAN training as a dynamical system.
#[derive(Debug, Parser)]
#[command(name = "redqueen", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Jacobian, eigenvalues and flow class at a point (and the update map's spectrum with --rule).
    #[command(after_help = GAME_HELP)]
    Spectrum(SpectrumArgs),
    /// Find a fixed point numerically (Newton) and print it with its eigenvalues.
    #[command(after_help = GAME_HELP)]
    Equilibrium(EquilibriumArgs),
    /// Run an update rule and write the trajectory (CSV) and a phase portrait.
    #[command(after_help = GAME_HELP)]
    Simulate(SimulateArgs),
    /// Stability map over a log-spaced (lr_G, lr_D) grid: CSV and heat maps.
    #[command(after_help = GAME_HELP)]
    Sweep(SweepArgs),
    /// Join sweep shards into the file one unsharded run would write (for studies, use
    /// `study FILE --merge`).
    Merge(MergeArgs),
    /// Run a study file (studies/*.toml); `--shard I/N` and `--merge` split its neural
    /// runs across jobs.
    Study(StudyArgs),
    /// Train a neural GAN from a TOML configuration (every key: see README, "train").
    Train(TrainArgs),
    /// Benchmarks, optionally measured side by side with the Python peers.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Dirac-GAN simultaneous-GD sweep over an N×N (lr_G, lr_D) grid (numpy/JAX peers' workload).
    Sweep(BenchSweepArgs),
    /// Neural GAN training steps: seed002-batch500, seed002-wgangp-batch500, ganvis-batch50.
    Neural(BenchNeuralArgs),
}

/// Options shared by the benchmarks for running the peers.
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// Also run the Python peers in this folder (e.g. ../shared/peers) and print ratios.
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Python of the numpy/JAX peers.
    #[arg(long, default_value = "/tmp/peers/venv/bin/python")]
    python: PathBuf,
    /// Python of the PyTorch peers.
    #[arg(long, default_value = "/tmp/peers/torchvenv/bin/python")]
    torch_python: PathBuf,
}

/// Arguments of `bench sweep`.
#[derive(Debug, Args)]
pub struct BenchSweepArgs {
    /// Grid side N (N×N cells).
    #[arg(long, default_value_t = 256)]
    grid: usize,
    /// Steps per cell.
    #[arg(long, default_value_t = 10_000)]
    steps: usize,
    /// Threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peers: PeerArgs,
}

/// Arguments of `bench neural`.
#[derive(Debug, Args)]
pub struct BenchNeuralArgs {
    /// Training steps per workload.
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Threads (independent runs in parallel; each run is single-threaded).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print a JSON list.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peers: PeerArgs,
}

/// Arguments of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The configuration file (TOML; every key is optional and defaults to the gan-vis setup).
    #[arg(long)]
    pub config: PathBuf,
    /// Output directory (default: data/train/<config file stem>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the number of steps.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Override the seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// A game and its settings.
#[derive(Debug, Args)]
pub struct GameArgs {
    /// dirac, bilinear, lotka-volterra, one-mode or ttur-saddle.
    pub game: String,
    /// Game settings key=value (repeatable, or several after one --set); see the list below.
    #[arg(long = "set", value_name = "KEY=VALUE", num_args = 1..)]
    pub set: Vec<String>,
}

impl GameArgs {
    fn build(&self) -> Result<Box<dyn Game>> {
        GameSpec::parse(&self.game, &self.set)?.build()
    }
}

/// The learning rates of one run.
#[derive(Debug, Args, Clone)]
pub struct LrArgs {
    /// Learning rate of the generator.
    #[arg(long = "lr-g", allow_negative_numbers = true)]
    pub lr_g: Option<f64>,
    /// Learning rate of the discriminator.
    #[arg(long = "lr-d", allow_negative_numbers = true)]
    pub lr_d: Option<f64>,
    /// Learning rate of both players (overridden by --lr-g / --lr-d).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
}

impl LrArgs {
    fn pair(&self) -> Result<(f64, f64)> {
        let lr_g = self
            .lr_g
            .or(self.lr)
            .ok_or_else(|| Error::param("lr-g", "give --lr-g (or --lr)"))?;
        let lr_d = self
            .lr_d
            .or(self.lr)
            .ok_or_else(|| Error::param("lr-d", "give --lr-d (or --lr)"))?;
        Ok((lr_g, lr_d))
    }
}

/// The update rule's settings other than the learning rates.
#[derive(Debug, Args, Clone)]
pub struct RuleArgs {
    /// Which player moves first (alternating schemes).
    #[arg(long, value_enum, default_value = "g-first")]
    pub order: Order,
    /// Generator updates per outer step (alternating schemes).
    #[arg(long = "k-g", default_value_t = 1)]
    pub k_g: usize,
    /// Discriminator updates per outer step (alternating schemes).
    #[arg(long = "k-d", default_value_t = 1)]
    pub k_d: usize,
    /// Simultaneous or alternating steps for momentum, optimistic and adam.
    #[arg(long, value_enum, default_value = "simultaneous")]
    pub scheme: SchemeKind,
    /// Momentum β (negative allowed), for --rule momentum.
    #[arg(long, default_value_t = -0.5, allow_negative_numbers = true)]
    pub beta: f64,
    /// Consensus γ, or SGA λ.
    #[arg(long, default_value_t = 1.0)]
    pub gamma: f64,
    /// Adam β₁.
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f64,
    /// Adam β₂.
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f64,
    /// Adam ε.
    #[arg(long, default_value_t = 1e-8)]
    pub eps: f64,
}

impl RuleArgs {
    fn spec(&self, rule: RuleName, (lr_g, lr_d): (f64, f64)) -> Result<RuleSpec> {
        let spec = RuleSpec {
            order: self.order,
            k_g: self.k_g,
            k_d: self.k_d,
            scheme: self.scheme,
            beta: self.beta,
            gamma: self.gamma,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            ..RuleSpec::new(rule, lr_g, lr_d)
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Arguments of `spectrum`.
#[derive(Debug, Args)]
pub struct SpectrumArgs {
    #[command(flatten)]
    game: GameArgs,
    /// The point x1,x2,... (default: the game's known equilibrium).
    #[arg(long, allow_hyphen_values = true)]
    at: Option<String>,
    /// Also linearise this update rule's map at the point.
    #[arg(long, value_enum)]
    rule: Option<RuleName>,
    #[command(flatten)]
    lrs: LrArgs,
    #[command(flatten)]
    rule_args: RuleArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `equilibrium`.
#[derive(Debug, Args)]
pub struct EquilibriumArgs {
    #[command(flatten)]
    game: GameArgs,
    /// Start of the Newton search x1,x2,... (default: the known equilibrium shifted by 0.1
    /// in every coordinate, or 0.5·1 when none is known).
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Arguments of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    game: GameArgs,
    /// The update rule.
    #[arg(long, value_enum)]
    rule: RuleName,
    #[command(flatten)]
    lrs: LrArgs,
    #[command(flatten)]
    rule_args: RuleArgs,
    /// Outer steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Start x1,x2,... (default: 1 in every coordinate, or the equilibrium + 0.5).
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Output directory.
    #[arg(long, default_value = "data/simulate")]
    out: PathBuf,
    /// Distance from the equilibrium at which a run counts as diverged.
    #[arg(long, default_value_t = DEFAULT_DIVERGE_BOUND)]
    bound: f64,
}

/// Arguments of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    game: GameArgs,
    /// The update rule.
    #[arg(long, value_enum)]
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
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Start x1,x2,...
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Distance from the equilibrium at which a run counts as diverged.
    #[arg(long, default_value_t = DEFAULT_DIVERGE_BOUND)]
    bound: f64,
    /// Run only shard I of N (0-based), e.g. 3/8, for batch schedulers.
    #[arg(long)]
    shard: Option<String>,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
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
    /// The merged file.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// The study file (TOML).
    pub file: PathBuf,
    /// A reduced run for a first look (fewer steps and grid cells).
    #[arg(long)]
    pub quick: bool,
    /// Root directory for data/ and figures/.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Run only shard I of N (0-based) of the study's neural runs, e.g. 3/8 for a
    /// SLURM array (`--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`); writes
    /// the per-run folders only. Join with `--merge`.
    #[arg(long, value_name = "I/N", conflicts_with = "merge")]
    pub shard: Option<String>,
    /// Aggregate the runs already on disk (written by every `--shard I/N`, same
    /// options) into the summary CSVs, figures and report; byte-identical to an
    /// unsharded run. Fails listing missing or stale runs.
    #[arg(long)]
    pub merge: bool,
    /// Write SLURM job scripts (an array job of --shards tasks, a merge job after it,
    /// and submit.sh) into data/<study>/slurm/, with times measured on this machine;
    /// prints the command to submit. See README, "On a cluster".
    #[arg(long, conflicts_with_all = ["shard", "merge"])]
    pub slurm: bool,
    /// With --slurm: array tasks (default: about an hour each, at most one per run).
    #[arg(long, requires = "slurm")]
    pub shards: Option<usize>,
    /// With --slurm: the partition (default: the cluster's default).
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// With --slurm: the account to charge (default: your default account).
    #[arg(long, requires = "slurm")]
    pub account: Option<String>,
    /// With --slurm: CPUs per array task = runs at once in a shard.
    #[arg(long, requires = "slurm", default_value_t = crate::slurm::DEFAULT_CPUS_PER_TASK)]
    pub cpus_per_task: usize,
    /// With --slurm: safety factor on the measured times (raise it for slower nodes).
    #[arg(long, requires = "slurm", default_value_t = crate::slurm::DEFAULT_TIME_FACTOR)]
    pub time_factor: f64,
}

/// Parses and runs the command line.
///
/// # Errors
/// Any library error, to be printed by `main`.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Spectrum(a) => cmd_spectrum(&a),
        Command::Equilibrium(a) => cmd_equilibrium(&a),
        Command::Simulate(a) => cmd_simulate(&a),
        Command::Sweep(a) => cmd_sweep(&a),
        Command::Merge(a) => cmd_merge(&a),
        Command::Train(a) => cmd_train(&a),
        Command::Bench(BenchCommand::Sweep(a)) => cmd_bench_sweep(&a),
        Command::Bench(BenchCommand::Neural(a)) => cmd_bench_neural(&a),
        Command::Study(a) if a.slurm => {
            let opts = crate::slurm::SlurmOptions {
                shards: a.shards,
                partition: a.partition.clone(),
                account: a.account.clone(),
                cpus_per_task: a.cpus_per_task,
                time_factor: a.time_factor,
            };
            let g = crate::slurm::generate(&a.file, &a.root, a.quick, &opts)?;
            println!("{}", g.summary());
            Ok(())
        }
        Command::Study(a) => {
            let mode = match (&a.shard, a.merge) {
                (Some(s), _) => {
                    let (i, n) = parse_shard(s)?;
                    crate::study::RunMode::Shard(i, n)
                }
                (None, true) => crate::study::RunMode::Merge,
                (None, false) => crate::study::RunMode::Full,
            };
            with_threads(a.threads, || {
                crate::study::run_study_mode(&a.file, &a.root, a.quick, mode).map(|_| ())
            })
        }
    }
}

fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::param("threads", e.to_string()))?;
    pool.install(f)
}

/// Parses `x1,x2,...` for a game of dimension `dim`.
///
/// # Errors
/// [`Error::Param`] for a bad number, [`Error::Dimension`] for the wrong length.
pub fn parse_point(key: &str, s: &str, dim: usize) -> Result<Vector> {
    let v: Vec<f64> = s
        .split(',')
        .map(|t| crate::game::parse_f64(key, t.trim()))
        .collect::<Result<_>>()?;
    if v.len() != dim {
        return Err(Error::Dimension {
            what: format!("--{key} `{s}`"),
            got: v.len(),
            expected: dim,
        });
    }
    Ok(Vector::from_vec(v))
}

/// The default start of simulations: (1, …, 1) for games centred at the origin (the
/// GAN_stability notebook starts Dirac at (1, 1)), otherwise the equilibrium + 0.5.
#[must_use]
pub fn default_start(game: &dyn Game) -> Vector {
    match game.equilibrium() {
        Some(e) if e.amax() == 0.0 => Vector::from_element(game.dim(), 1.0),
        Some(e) => e.add_scalar(0.5),
        None => Vector::from_element(game.dim(), 1.0),
    }
}

fn fmt_c(z: &crate::linalg::Eigenvalue) -> String {
    let im = if z.im.abs() < 5e-16 { 0.0 } else { z.im };
    if im == 0.0 {
        format!("{:.6}", z.re)
    } else {
        format!(
            "{:.6} {} {:.6}i",
            z.re,
            if im < 0.0 { '-' } else { '+' },
            im.abs()
        )
    }
}

fn print_spectrum(game: &dyn Game, s: &Spectrum) {
    println!("game:      {}  {}", game.name(), game.params());
    let names = game.coordinate_names();
    let pt: Vec<String> = names
        .iter()
        .zip(&s.point)
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    println!(
        "point:     {}   (‖v‖ = {:.3e})",
        pt.join(", "),
        s.field_norm
    );
    println!("Jacobian J = ∂v/∂x:");
    for r in &s.jacobian {
        let cells: Vec<String> = r.iter().map(|v| format!("{v:>12.6}")).collect();
        println!("  {}", cells.join(" "));
    }
    println!("eigenvalues of J:");
    for z in &s.eigenvalues {
        println!("  {}", fmt_c(z));
    }
    println!("flow:      {}", s.flow.as_str());
    if let Some(n) = &s.note {
        println!("note:      {n}");
    }
    println!(
        "split:     ‖S‖ = {:.6} (potential), ‖A‖ = {:.6} (rotational), rotation index = {:.6}",
        s.symmetric_norm, s.antisymmetric_norm, s.rotation_index
    );
}

fn cmd_spectrum(a: &SpectrumArgs) -> Result<()> {
    let base = a.game.build()?;
    let point = match &a.at {
        Some(s) => parse_point("at", s, base.dim())?,
        None => base
            .equilibrium()
            .ok_or_else(|| Error::param("at", "this game has no known equilibrium: give --at"))?,
    };
    let spec = a
        .rule
        .map(|r| a.rule_args.spec(r, a.lrs.pair()?))
        .transpose()?;
    let game = match &spec {
        Some(s) => s.adjust_game(base),
        None => base,
    };
    let s = analysis::spectrum(game.as_ref(), &point)?;
    let map: Option<MapSpectrum> = match &spec {
        Some(sp) => Some(analysis::linearize_update(
            game.as_ref(),
            &sp.build_rule()?,
            &point,
        )?),
        None => None,
    };
    if a.json {
        let mut out = json!({
            "game": game.name(),
            "params": game.params(),
            "point": s.point,
            "jacobian": s.jacobian,
            "eigenvalues": s.eigenvalues.iter().map(|z| json!({"re": z.re, "im": z.im})).collect::<Vec<_>>(),
            "flow": s.flow.as_str(),
            "symmetric_norm": s.symmetric_norm,
            "antisymmetric_norm": s.antisymmetric_norm,
            "rotation_index": s.rotation_index,
            "field_norm": s.field_norm,
        });
        if let Some(n) = &s.note {
            out["note"] = json!(n);
        }
        if let (Some(m), Some(sp)) = (&map, &spec) {
            out["rule"] = serde_json::to_value(sp).unwrap_or_default();
            out["map"] = serde_json::to_value(m).unwrap_or_default();
        }
        println!("{out}");
    } else {
        print_spectrum(game.as_ref(), &s);
        if let (Some(m), Some(sp)) = (&map, &spec) {
            println!(
                "update map ({}, lr_g = {}, lr_d = {}; {} Jacobian of the {}-dimensional state):",
                sp.rule.as_str(),
                sp.lr_g,
                sp.lr_d,
                m.method,
                m.state_dim
            );
            for z in &m.eigenvalues {
                println!("  {}   |λ| = {:.9}", fmt_c(z), z.norm());
            }
            println!(
                "  spectral radius ρ = {:.12}, class: {}",
                m.spectral_radius,
                m.class.as_str()
            );
        }
    }
    Ok(())
}

fn cmd_equilibrium(a: &EquilibriumArgs) -> Result<()> {
    let spec = GameSpec::parse(&a.game.game, &a.game.set)?;
    let game = spec.build()?;
    let start = match &a.from {
        Some(s) => parse_point("from", s, game.dim())?,
        None => game.equilibrium().map_or_else(
            || Vector::from_element(game.dim(), 0.5),
            |e| e.add_scalar(0.1),
        ),
    };
    let fp = analysis::fixed_point(game.as_ref(), &start)?;
    let collapsed = if game.name() == "one-mode" {
        Some(spec.one_mode()?.collapsed_optimum()?)
    } else {
        None
    };
    if a.json {
        let s = &fp.spectrum;
        let mut out = json!({
            "game": game.name(),
            "params": game.params(),
            "start": fp.start,
            "point": s.point,
            "residual": fp.residual,
            "iterations": fp.iterations,
            "eigenvalues": s.eigenvalues.iter().map(|z| json!({"re": z.re, "im": z.im})).collect::<Vec<_>>(),
            "flow": s.flow.as_str(),
        });
        if let Some(c) = &collapsed {
            out["discriminator"] = json!(c.discriminator);
            out["collapsed"] = serde_json::to_value(c).unwrap_or_default();
            out["d_bound"] = json!(crate::game::ONE_MODE_D_BOUND);
        }
        println!("{out}");
    } else {
        println!(
            "fixed point found by Newton from {:?} in {} iterations (‖v‖ = {:.3e})",
            fp.start, fp.iterations, fp.residual
        );
        print_spectrum(game.as_ref(), &fp.spectrum);
        if let Some(c) = &collapsed {
            println!(
                "\ncollapsed point (generator entirely on one mode), D maximised by Brent (argmin):"
            );
            println!("  mode   weight   D (numerical)   D = w/(w+g) (closed form)");
            let weights = spec.one_mode()?.weights;
            for (i, (w, (d, cf))) in weights
                .iter()
                .zip(c.discriminator.iter().zip(&c.closed_form))
                .enumerate()
            {
                println!("  {:>4}   {w:.4}   {d:.9}     {cf:.9}", i + 1);
            }
            println!(
                "  D is bounded to [{b:e}, 1 − {b:e}]: at an empty mode the optimum D = 1 needs an infinite logit.",
                b = crate::game::ONE_MODE_D_BOUND
            );
            println!(
                "  escape eigenvalues (replicator flow of the generator): {:?}",
                c.escape_eigenvalues
            );
            println!(
                "  discriminator eigenvalues: {:?}",
                c.discriminator_eigenvalues
            );
            println!(
                "  the collapsed point is {}",
                if c.stable {
                    "a stable fixed point"
                } else {
                    "NOT a stable fixed point: the generator escapes"
                }
            );
        }
    }
    Ok(())
}

fn stem_for(game: &dyn Game, spec: &RuleSpec) -> String {
    format!(
        "{}_{}_lrg{}_lrd{}",
        game.name(),
        spec.rule.as_str(),
        spec.lr_g,
        spec.lr_d
    )
}

fn cmd_simulate(a: &SimulateArgs) -> Result<()> {
    let spec = a.rule_args.spec(a.rule, a.lrs.pair()?)?;
    let game = spec.adjust_game(a.game.build()?);
    let rule = spec.build_rule()?;
    let x0 = match &a.from {
        Some(s) => parse_point("from", s, game.dim())?,
        None => default_start(game.as_ref()),
    };
    let center = game
        .equilibrium()
        .unwrap_or_else(|| Vector::zeros(game.dim()));
    let traj = simulate(game.as_ref(), &rule, &x0, a.steps, &center, a.bound);
    let metrics = analysis::classify_trajectory(&traj, center.as_slice(), game.split());
    let stem = stem_for(game.as_ref(), &spec);
    let csv_path = a.out.join(format!("{stem}.csv"));
    export::trajectory_table(game.as_ref(), &traj, &center).write(&csv_path)?;
    let config = json!({
        "command": "simulate",
        "game": game.name(), "params": game.params(), "rule": spec,
        "update_order": rule.update_order(),
        "from": x0.as_slice(), "steps": a.steps, "bound": a.bound,
        "seed": null, "seed_note": "reduced-game runs are deterministic and use no randomness",
        "stop": traj.stop, "metrics": metrics,
        "version": env!("CARGO_PKG_VERSION"),
    });
    export::write_atomic(
        &a.out.join(format!("{stem}.json")),
        format!("{config:#}\n").as_bytes(),
    )?;
    crate::figures::phase_portrait_of_run(
        &a.out.join(&stem),
        game.as_ref(),
        &spec,
        &traj,
        &center,
        &metrics,
    )?;
    println!(
        "{}: {} ({}); winding {:.2}, growth {:.3e}/step, final distance {:.4e}",
        stem,
        metrics.class.as_str(),
        traj.stop.describe(),
        metrics.winding,
        metrics.growth_rate,
        metrics.final_distance
    );
    println!("wrote {} (+ .json, .png, .svg)", csv_path.display());
    Ok(())
}

/// Parses `I/N` into (I, N) with I < N.
///
/// # Errors
/// [`Error::Param`] naming `shard`.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::param(
            "shard",
            format!("`{s}` is not I/N with 0 ≤ I < N (for example 2/8)"),
        )
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The cells of shard i of n over `total` cells: a contiguous block, so concatenating
/// the shards in order gives the unsharded order.
#[must_use]
pub fn shard_range(total: usize, i: usize, n: usize) -> std::ops::Range<usize> {
    (i * total / n)..((i + 1) * total / n)
}

fn cmd_sweep(a: &SweepArgs) -> Result<()> {
    // The learning rates come from the grid; 1 is a placeholder replaced in every cell.
    let spec = a.rule_args.spec(a.rule, (1.0, 1.0))?;
    let game = spec.adjust_game(a.game.build()?);
    let gx = LogAxis::parse("lr-g", &a.grid_g)?;
    let gy = LogAxis::parse("lr-d", &a.grid_d)?;
    let (lr_g, lr_d) = (gx.values(), gy.values());
    let x0 = match &a.from {
        Some(s) => parse_point("from", s, game.dim())?,
        None => default_start(game.as_ref()),
    };
    let total = lr_g.len() * lr_d.len();
    let (range, name) = match &a.shard {
        Some(s) => {
            let (i, n) = parse_shard(s)?;
            (
                shard_range(total, i, n),
                format!("sweep.shard-{i}-of-{n}.csv"),
            )
        }
        None => (0..total, "sweep.csv".to_string()),
    };
    let t0 = std::time::Instant::now();
    let setup = analysis::SweepSetup {
        x0: x0.clone(),
        steps: a.steps,
        bound: a.bound,
    };
    let cells = with_threads(a.threads, || {
        analysis::stability_map(game.as_ref(), &spec, &lr_g, &lr_d, &setup, range.clone())
    })?;
    let path = a.out.join(&name);
    export::stability_table(&cells).write(&path)?;
    let config = json!({
        "command": "sweep", "game": game.name(), "params": game.params(), "rule": spec,
        "lr_grid_g": gx, "lr_grid_d": gy, "from": x0.as_slice(), "steps": a.steps,
        "bound": a.bound, "shard": a.shard, "cells": [range.start, range.end],
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
        let title = format!("{} · {}", game.name(), spec.rule.as_str());
        crate::figures::stability_figures(&a.out.join("sweep"), &title, &lr_g, &lr_d, &cells)?;
        println!("figures: {}", a.out.join("sweep_rho.png").display());
    }
    Ok(())
}

fn cmd_merge(a: &MergeArgs) -> Result<()> {
    let bytes = merge_shards(&a.shards)?;
    export::write_atomic(&a.out, &bytes)?;
    println!("merged {} shards → {}", a.shards.len(), a.out.display());
    Ok(())
}

/// Joins shard CSVs named `*.shard-I-of-N.csv` (any order) into the bytes of the
/// unsharded file: the header once, then the bodies in shard order.
///
/// # Errors
/// [`Error::File`] for unreadable or misnamed files, missing or duplicate shards, or
/// headers that differ.
pub fn merge_shards(paths: &[PathBuf]) -> Result<Vec<u8>> {
    let mut parts: Vec<(usize, usize, &Path, Vec<u8>)> = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (i, n) = shard_index(&name)
            .ok_or_else(|| Error::file(p, "not a shard file (expected NAME.shard-I-of-N.csv)"))?;
        let bytes = std::fs::read(p).map_err(|e| Error::file(p, e))?;
        parts.push((i, n, p.as_path(), bytes));
    }
    parts.sort_by_key(|x| x.0);
    let n = parts[0].1;
    if parts.iter().any(|x| x.1 != n)
        || parts.len() != n
        || parts.iter().enumerate().any(|(k, x)| x.0 != k)
    {
        let have: Vec<String> = parts.iter().map(|x| format!("{}/{}", x.0, x.1)).collect();
        return Err(Error::file(
            parts[0].2,
            format!(
                "need shards 0..{n} of {n} exactly once, got {}",
                have.join(", ")
            ),
        ));
    }
    let header_of = |b: &[u8]| b.iter().position(|&c| c == b'\n').map(|k| b[..=k].to_vec());
    let header = header_of(&parts[0].3).ok_or_else(|| Error::file(parts[0].2, "empty file"))?;
    let mut out = header.clone();
    for (_, _, p, b) in &parts {
        if header_of(b).as_ref() != Some(&header) {
            return Err(Error::file(p, "its header differs from shard 0's"));
        }
        out.extend_from_slice(&b[header.len()..]);
    }
    Ok(out)
}

fn shard_index(name: &str) -> Option<(usize, usize)> {
    let rest = name.split(".shard-").nth(1)?;
    let rest = rest.strip_suffix(".csv")?;
    let (i, n) = rest.split_once("-of-")?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

fn cmd_train(a: &TrainArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.config).map_err(|e| Error::file(&a.config, e))?;
    let mut cfg = crate::gan::TrainConfig::from_toml(&text, &a.config)?;
    if let Some(s) = a.steps {
        cfg.steps = s;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    cfg.validate().map_err(|e| Error::Config {
        path: a.config.clone(),
        reason: e.to_string(),
    })?;
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .config
            .file_stem()
            .map_or("run".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("data/train").join(stem)
    });
    let report = crate::gan::train(&cfg, Some(&out), true)?;
    let m = &report.final_metrics;
    let coverage = match (m.modes_covered, m.high_quality) {
        (Some(c), Some(h)) => format!(
            "{c}/{} modes covered, high-quality fraction {h:.3}",
            m.per_mode.len()
        ),
        _ if *m == crate::gan::EvalMetrics::default() => "no sample metrics were logged".into(),
        _ => "the target has no modes".into(),
    };
    println!(
        "{} ({} steps, {:.0} steps/s, update order {}): {coverage}",
        report.stop_reason, report.steps_completed, report.steps_per_s, report.update_order
    );
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

fn peer_script(dir: &Path, name: &str) -> Result<PathBuf> {
    let p = dir.join(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(Error::file(p, "peer program not found"))
    }
}

fn peer_rate(v: &serde_json::Value, key: &str) -> Option<f64> {
    v.get(key).and_then(serde_json::Value::as_f64)
}

fn cmd_bench_sweep(a: &BenchSweepArgs) -> Result<()> {
    if a.grid == 0 || a.steps == 0 {
        return Err(Error::param("grid", "grid and steps must be at least 1"));
    }
    let ours = crate::bench::bench_sweep(a.grid, a.steps, a.threads);
    let mut out = serde_json::to_value(&ours).unwrap_or_default();
    if let Some(dir) = &a.peers.peers {
        let (n, st) = (a.grid.to_string(), a.steps.to_string());
        let mut peers = Vec::new();
        for (label, script, extra) in [
            (
                "numpy-inplace-f64",
                "numpy_dirac_sweep.py",
                vec!["--impl", "inplace"],
            ),
            (
                "numpy-naive-f64",
                "numpy_dirac_sweep.py",
                vec!["--impl", "naive"],
            ),
            ("jax-f64", "jax_dirac_sweep.py", vec![]),
        ] {
            let mut args = vec!["--n", n.as_str(), "--steps", st.as_str()];
            args.extend(extra);
            let v = crate::bench::run_peer(&a.peers.python, &peer_script(dir, script)?, &args)?;
            let rate = peer_rate(&v, "cell_steps_per_s");
            peers.push(json!({
                "name": label, "cell_steps_per_s": rate,
                "ratio": rate.map(|r| ours.cell_steps_per_s / r), "peer": v,
            }));
        }
        out["peers"] = json!(peers);
    }
    if a.json {
        println!("{out}");
    } else {
        println!(
            "dirac-sweep {}×{} × {} steps, {} threads ({:?}): {:.3} s, {:.3e} cell-steps/s, {:.2} ns/cell-step, {:.1} GFLOP/s ({} flops/cell-step)",
            ours.grid,
            ours.grid,
            ours.steps,
            ours.threads,
            ours.path,
            ours.seconds,
            ours.cell_steps_per_s,
            ours.ns_per_cell_step,
            ours.gflop_per_s,
            ours.flops_per_cell_step
        );
        if let Some(peers) = out.get("peers").and_then(|p| p.as_array()) {
            for p in peers {
                println!(
                    "  vs {:<18} {:.3e} cell-steps/s → redqueen is {:.1}× faster",
                    p["name"].as_str().unwrap_or(""),
                    p["cell_steps_per_s"].as_f64().unwrap_or(f64::NAN),
                    p["ratio"].as_f64().unwrap_or(f64::NAN)
                );
            }
        }
    }
    Ok(())
}

fn cmd_bench_neural(a: &BenchNeuralArgs) -> Result<()> {
    if a.steps == 0 {
        return Err(Error::param("steps", "must be at least 1"));
    }
    let ours = crate::gan::bench::bench_neural(a.steps, a.threads);
    let mut out = serde_json::to_value(&ours).unwrap_or_default();
    if let Some(dir) = &a.peers.peers {
        let t = a.threads.to_string();
        let peer_runs = [
            (
                "seed002-batch500",
                "torch_gan2d.py",
                vec!["--steps", "2000", "--seed", "0"],
            ),
            (
                "seed002-wgangp-batch500",
                "torch_gan2d.py",
                vec!["--steps", "500", "--wgan-gp"],
            ),
            ("ganvis-batch50", "torch_ganvis.py", vec!["--steps", "2000"]),
        ];
        for (name, script, mut args) in peer_runs {
            args.extend(["--threads", t.as_str()]);
            let v =
                crate::bench::run_peer(&a.peers.torch_python, &peer_script(dir, script)?, &args)?;
            let rate = peer_rate(&v, "steps_per_s");
            if let Some(items) = out.as_array_mut() {
                for item in items.iter_mut().filter(|i| i["name"] == name) {
                    let r = item["steps_per_s"].as_f64().unwrap_or(f64::NAN);
                    item["peer_steps_per_s"] = json!(rate);
                    item["ratio"] = json!(rate.map(|p| r / p));
                }
            }
        }
    }
    if a.json {
        println!("{out}");
    } else if let Some(items) = out.as_array() {
        let rates: Vec<String> = crate::gan::bench::gemm_rates()
            .iter()
            .map(|g| format!("{}×{}·{}×{} {:.0}", g.m, g.k, g.k, g.n, g.gflops))
            .collect();
        println!(
            "f32 gemm alone on this machine, GFLOP/s: {}",
            rates.join(", ")
        );
        for i in items {
            let ratio = i.get("ratio").and_then(|r| r.as_f64());
            println!(
                "{:<26} {} thread(s): {:>8.1} steps/s, {:.2} GFLOP/s{}",
                i["name"].as_str().unwrap_or(""),
                i["threads"],
                i["steps_per_s"].as_f64().unwrap_or(f64::NAN),
                i["gflops"].as_f64().unwrap_or(f64::NAN),
                ratio.map_or(String::new(), |r| format!(
                    "  (PyTorch {:.1} steps/s → {r:.1}×)",
                    i["peer_steps_per_s"].as_f64().unwrap_or(f64::NAN)
                ))
            );
        }
    }
    Ok(())
}
