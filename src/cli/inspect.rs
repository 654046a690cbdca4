//! `spectrum` and `equilibrium`: the Jacobian, its eigenvalues and the update map at a
//! point, and Newton's fixed point.

use clap::Args;
use serde_json::json;

use redqueen::analysis::{self, MapSpectrum, Spectrum};
use redqueen::dynamics::RuleName;
use redqueen::error::{Error, Result};
use redqueen::game::Game;
use redqueen::linalg::Vector;

use super::args::{GameArgs, LrArgs, RuleArgs, parse_point, parsed};

/// Arguments of `spectrum`.
#[derive(Debug, Args)]
pub struct SpectrumArgs {
    /// dirac, bilinear, lotka-volterra, one-mode or ttur-saddle (or --run for a trained
    /// neural GAN).
    game: Option<String>,
    /// Game settings key=value (repeatable, or several after one --set); see the list below.
    #[arg(long = "set", value_name = "KEY=VALUE", num_args = 1..)]
    set: Vec<String>,
    #[command(flatten)]
    run: super::spectra::RunSpectrumArgs,
    /// The point x1,x2,... (default: the game's known equilibrium).
    #[arg(long, allow_hyphen_values = true)]
    at: Option<String>,
    /// Also linearise this update rule's map at the point: simultaneous, alternating,
    /// momentum, extragradient, optimistic, consensus, sga, adam, rmsprop or flow.
    #[arg(long, value_parser = parsed::<RuleName>)]
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

/// `v` with `digits` decimals, or in scientific notation where fixed notation would
/// print more than a screen of digits (a learning rate of 1e308 gives eigenvalues of
/// size 5e307, which are exact and printed as such).
fn num(v: f64, digits: usize) -> String {
    if v.abs() >= 1e9 {
        format!("{v:.digits$e}")
    } else {
        format!("{v:.digits$}")
    }
}

fn fmt_c(z: &redqueen::linalg::Eigenvalue) -> String {
    let im = if z.im.abs() < 5e-16 { 0.0 } else { z.im };
    if im == 0.0 {
        num(z.re, 6)
    } else {
        format!(
            "{} {} {}i",
            num(z.re, 6),
            if im < 0.0 { '-' } else { '+' },
            num(im.abs(), 6)
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
        let cells: Vec<String> = r.iter().map(|v| format!("{:>12}", num(*v, 6))).collect();
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

pub fn spectrum(a: &SpectrumArgs) -> Result<()> {
    let game_args = match (&a.game, &a.run.run) {
        (Some(_), Some(_)) => {
            return Err(Error::param(
                "--run",
                "give either a game or --run DIR (a trained neural GAN), not both",
            ));
        }
        (None, Some(_)) => {
            if a.at.is_some() || a.rule.is_some() || !a.set.is_empty() {
                return Err(Error::param(
                    "--run",
                    "--at, --rule and --set apply to reduced games; a run is analysed at its \
                     checkpoints with its own rule",
                ));
            }
            return super::spectra::run_spectrum(&a.run, a.json);
        }
        (None, None) => {
            return Err(Error::param(
                "GAME",
                "give a game (dirac, bilinear, …) or --run DIR",
            ));
        }
        (Some(g), None) => GameArgs {
            game: g.clone(),
            set: a.set.clone(),
        },
    };
    let base = game_args.build()?;
    let point = match &a.at {
        Some(s) => parse_point("at", s, base.as_ref())?,
        None => base
            .equilibrium()
            .ok_or_else(|| Error::param("at", "this game has no known equilibrium: give --at"))?,
    };
    if a.rule.is_none() && (a.lrs.any() || a.rule_args.any()) {
        return Err(Error::param(
            "--rule",
            "learning rates and rule options linearise an update map: give --rule too",
        ));
    }
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
            &sp.build()?,
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
                "update map ({}, lr_g = {:e}, lr_d = {:e}; {} Jacobian of the {}-dimensional state):",
                sp.name().as_str(),
                sp.lr_g(),
                sp.lr_d(),
                m.method,
                m.state_dim
            );
            for z in &m.eigenvalues {
                println!("  {}   |λ| = {}", fmt_c(z), num(z.norm(), 9));
            }
            println!(
                "  spectral radius ρ = {}, class: {}",
                num(m.spectral_radius, 12),
                m.class.as_str()
            );
        }
    }
    Ok(())
}

pub fn equilibrium(a: &EquilibriumArgs) -> Result<()> {
    let spec = a.game.spec()?;
    let game = spec.build()?;
    let start = match &a.from {
        Some(s) => parse_point("from", s, game.as_ref())?,
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
            out["d_bound"] = json!(redqueen::game::ONE_MODE_D_BOUND);
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
                b = redqueen::game::ONE_MODE_D_BOUND
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
