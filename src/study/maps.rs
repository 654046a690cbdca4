//! `[[maps]]` blocks: a stability map over a log-spaced (lr_G, lr_D) grid, its CSV,
//! heat maps and a report section that explains every disagreement between the
//! eigenvalues and the simulation.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::plan::MapPlan;
use super::rel;
use crate::analysis::{self, MapClass, SimClass, StabilityCell, SweepSetup};
use crate::error::Result;
use crate::export::{self, opt};
use crate::figures;
use crate::linalg::Vector;

/// Runs a map block and returns its report section.
///
/// # Errors
/// File errors; invalid rule settings.
pub fn run(m: &MapPlan, data: &Path, figs: &Path) -> Result<String> {
    let mut report = String::new();
    let game = m.rule.spec.adjust_game(m.game.game.clone());
    let (lg, ld) = (m.lr_g.values(), m.lr_d.values());
    let setup = SweepSetup {
        x0: Vector::from_column_slice(&m.x0),
        steps: m.steps,
        bound: m.bound,
    };
    let t0 = Instant::now();
    let cells = analysis::stability_map(
        game.as_ref(),
        &m.rule.spec,
        &lg,
        &ld,
        &setup,
        0..lg.len() * ld.len(),
        None,
    )?;
    let secs = t0.elapsed().as_secs_f64();
    let csv = data.join(format!("{}.csv", m.name));
    export::stability_table(&cells).write(&csv)?;
    let stem = figs.join(&m.name);
    let title = format!("{} · {}", m.game.label, m.rule.label);
    let written = figures::stability_figures(&stem, &title, &lg, &ld, &cells)?;
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
    for f in written {
        writeln!(report, "![{title}]({})\n", rel(figs, &f)).ok();
    }
    Ok(report)
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
