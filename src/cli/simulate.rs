//! `simulate`: one run of an update rule, its CSV, its configuration and its phase portrait.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use redqueen::analysis;
use redqueen::dynamics::{Bound, DEFAULT_DIVERGE_BOUND, RuleName, Run, trajectory_bytes};
use redqueen::error::Result;
use redqueen::export::{self, fingerprint, slug};
use redqueen::linalg::Vector;

use super::args::{GameArgs, LrArgs, RuleArgs, check_bound, check_steps, parse_point, parsed};

/// Arguments of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    game: GameArgs,
    /// The update rule: simultaneous, alternating, momentum, extragradient, optimistic,
    /// consensus, sga, adam, rmsprop or flow.
    #[arg(long, value_parser = parsed::<RuleName>)]
    rule: RuleName,
    #[command(flatten)]
    lrs: LrArgs,
    #[command(flatten)]
    rule_args: RuleArgs,
    /// Outer steps.
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true)]
    steps: usize,
    /// Start x1,x2,... (default: 1 in every coordinate, or the equilibrium + 0.5).
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Output directory.
    #[arg(long, default_value = "data/simulate")]
    out: PathBuf,
    /// Distance from the equilibrium at which a run counts as diverged.
    #[arg(long, default_value_t = DEFAULT_DIVERGE_BOUND, allow_negative_numbers = true)]
    bound: f64,
}

/// Runs `simulate`. Files are named `<game>_<rule>_<fingerprint>` where the fingerprint
/// is that of the whole resolved configuration (game settings, rule with every option,
/// start, steps, bound), so runs that differ in anything never overwrite each other,
/// and the JSON beside the CSV says which configuration it was.
pub fn simulate(a: &SimulateArgs) -> Result<()> {
    let steps = check_steps(a.steps)?;
    let bound = check_bound(a.bound)?;
    let spec = a.rule_args.spec(a.rule, a.lrs.pair()?)?;
    let game = spec.adjust_game(a.game.build()?);
    let rule = spec.build()?;
    let x0 = match &a.from {
        Some(s) => parse_point("from", s, game.as_ref())?,
        None => game.default_start(),
    };
    redqueen::budget::check_memory(
        "--steps",
        trajectory_bytes(steps, game.dim()),
        "recording every state of this run",
    )?;
    let center = game
        .equilibrium()
        .unwrap_or_else(|| Vector::zeros(game.dim()));
    let resolved = json!({
        "game": game.name(), "params": game.params(), "rule": spec,
        "from": x0.as_slice(), "steps": steps, "bound": bound,
    });
    let stem = format!(
        "{}_{}_{}",
        slug(game.name()),
        spec.name().as_str(),
        fingerprint(resolved.to_string().as_bytes())
    );
    let traj = Run {
        game: game.as_ref(),
        rule: &rule,
        steps,
        bound: Bound::around(&center, bound),
    }
    .simulate(&x0);
    let metrics = analysis::classify_trajectory(&traj, game.as_ref(), center.as_slice());
    let csv_path = a.out.join(format!("{stem}.csv"));
    export::trajectory_table(game.as_ref(), &traj, &center).write(&csv_path)?;
    let mut config = resolved;
    config["command"] = json!("simulate");
    config["update_order"] = json!(rule.update_order());
    config["seed"] = json!(null);
    config["seed_note"] = json!("reduced-game runs are deterministic and use no randomness");
    config["stop"] = json!(traj.stop);
    config["metrics"] = serde_json::to_value(&metrics).unwrap_or_default();
    config["version"] = json!(env!("CARGO_PKG_VERSION"));
    export::write_atomic(
        &a.out.join(format!("{stem}.json")),
        format!("{config:#}\n").as_bytes(),
    )?;
    redqueen::figures::phase_portrait_of_run(
        &a.out.join(&stem),
        game.as_ref(),
        &spec,
        &traj,
        &center,
        &metrics,
    )?;
    println!(
        "{}: {} ({}); winding {:.2}, growth {:.3e}/step, final distance {:.4e}",
        spec.describe(),
        metrics.class.as_str(),
        traj.stop.describe(),
        metrics.winding,
        metrics.growth_rate,
        metrics.final_distance
    );
    println!("wrote {} (+ .json, .png, .svg)", csv_path.display());
    redqueen::interrupt::check(&format!(
        "{}; the files hold the steps done so far, and the JSON's stop says so",
        traj.stop.describe()
    ))
}
