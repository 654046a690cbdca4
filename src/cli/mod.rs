//! The command line: clap argument types, one handler per command, printing. The
//! handlers only translate arguments into the library's types and print what the
//! library returns; errors go back to `main`, which prints one line and exits with 2.

mod args;
mod bench;
mod inspect;
mod metrics;
mod report;
mod simulate;
mod spectra;
mod study;
mod sweep;
mod train;

use clap::{Parser, Subcommand};

use redqueen::error::Result;

const GAME_HELP: &str = "\
Games and their --set keys (defaults in brackets):
  dirac           loss=standard|nonsaturating|wgan [standard], r1=γ [0], r2=γ [0],
                  gp=λ [0], gp_target=t [1], noise=σ [0], consensus=γ [0],
                  consensus_form=exact|notebook [exact] (notebook: GAN_stability's
                  regulariser gradient, minimax loss only), clip=c [none]
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
    command: Command,
    /// No progress display (on a terminal a bar, otherwise a line every few seconds).
    #[arg(long, global = true)]
    quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Jacobian, eigenvalues and flow class at a point (and the update map's spectrum with
    /// --rule); with --run DIR, the spectra of a trained neural GAN at its checkpoints.
    #[command(after_help = GAME_HELP)]
    Spectrum(inspect::SpectrumArgs),
    /// Berard et al.'s path-angle between two checkpoints of a trained neural GAN.
    PathAngle(spectra::PathAngleArgs),
    /// Find a fixed point numerically (Newton) and print it with its eigenvalues.
    #[command(after_help = GAME_HELP)]
    Equilibrium(inspect::EquilibriumArgs),
    /// Run an update rule and write the trajectory (CSV) and a phase portrait.
    #[command(after_help = GAME_HELP)]
    Simulate(simulate::SimulateArgs),
    /// Stability map over a log-spaced (lr_G, lr_D) grid: CSV and heat maps.
    #[command(after_help = GAME_HELP)]
    Sweep(sweep::SweepArgs),
    /// Join sweep shards into the file one unsharded run would write (for studies, use
    /// `study FILE --merge`).
    Merge(sweep::MergeArgs),
    /// Run a study file (studies/*.toml); `--shard I/N` and `--merge` split its neural
    /// runs across jobs.
    Study(study::StudyArgs),
    /// Train a neural GAN from a TOML configuration (every key: see README, "train").
    Train(train::TrainArgs),
    /// Score generated samples against target samples (precision/recall, density/coverage,
    /// sliced Wasserstein, Fréchet, and PacGAN's mode measures with --modes).
    Metrics(metrics::MetricsArgs),
    /// Draw the figures and report.md of a finished train or study output folder again,
    /// from its files.
    Report(report::ReportArgs),
    /// Benchmarks, optionally measured side by side with the Python peers.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs the parsed command line.
///
/// # Errors
/// Any library error, to be printed by `main`.
pub fn run(cli: Cli) -> Result<()> {
    redqueen::progress::set_quiet(cli.quiet);
    match cli.command {
        Command::Spectrum(a) => inspect::spectrum(&a),
        Command::Equilibrium(a) => inspect::equilibrium(&a),
        Command::PathAngle(a) => spectra::path_angle(&a),
        Command::Simulate(a) => simulate::simulate(&a),
        Command::Sweep(a) => sweep::sweep(&a),
        Command::Merge(a) => sweep::merge(&a),
        Command::Study(a) => study::study(&a),
        Command::Train(a) => train::train(&a),
        Command::Report(a) => report::report(&a),
        Command::Metrics(a) => metrics::metrics(&a),
        Command::Bench(b) => bench::bench(&b),
    }
}

/// Prints the first non-empty line of `message` as `redqueen: error: …` (plus `hint`)
/// and exits with `status`.
pub fn fail(message: &str, hint: &str, status: i32) -> ! {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines.next().unwrap_or("invalid arguments").to_string();
    // clap puts what is missing on the next line ("… were not provided:\n  --slurm").
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    let first = first.strip_prefix("error: ").unwrap_or(&first);
    eprintln!("redqueen: error: {first}{hint}");
    std::process::exit(status);
}
