//! The `spectra` analysis (issue 10, study `neural-spectra`): is a trained GAN rotating
//! or converging, and is its end point a local Nash equilibrium or only a locally stable
//! stationary point (Berard et al. 2020, "A closer look at the optimization landscapes
//! of GANs", §4)?
//!
//! Every run trains with `checkpoint_every`; the aggregation analyses each checkpoint
//! with [`crate::gan::spectra::run_spectra`] (Krylov–Schur top-[`KRYLOV_K`] of the game
//! Jacobian J by largest |Im λ| and by largest Re λ, Lanczos extremes of the players'
//! Hessians, the Hutchinson rotation index ‖A‖²/‖J‖², the linearised update map's ρ) on
//! one evaluation batch of [`EVAL_BATCH`] drawn from [`SPECTRA_SEED`], joins the
//! trainer's log (mode coverage, and W1 on 1-D data or the energy distance on 2-D data)
//! at the same steps, and, for the first [`DENSE_SEEDS`] seeds of each setting on a
//! network small enough, also computes the full dense spectrum at the last checkpoint
//! (not in `--quick` mode, i.e. when the block runs at its quick size).
//! The spectra are written under `data/<study>/<block>/spectra/<setting>/seedNNN/`.
//!
//! # The end state of a run
//! From the last checkpoint's [`Verdict`] and spectrum ([`end_state`]):
//! * **converged**: stationary (‖v‖ ≤ 0.1·‖v(x₀)‖) and stable (max Re λ ≤ 0): the
//!   verdict is local Nash or stable-not-Nash;
//! * **rotating**: not converged, and the top of the spectrum is imaginary-dominated,
//!   max |Im λ| > [`ROTATING_RATIO`]·|max Re λ| (the Dirac-GAN's signature: ±iω with
//!   Re λ = 0, Mescheder et al. 2018 §2);
//! * **other**: neither (the largest real part dominates: drifting or unstable).
//!
//! # Rotation against outcome
//! Across the runs of a block, Spearman's rank correlation of each end-point spectral
//! quantity with the end-point mode coverage and distance, with a 95 % interval from
//! Fisher's z with the rank-correlation variance 1.06/(n − 3) (Fieller, Hartley &
//! Pearson 1957, Biometrika 44, eq. for ρ_s) — [`spearman_ci`].

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use super::outputs::{column, read_csv};
use super::render::{self, Ctx, StatRow, fig_line};
use super::runs::RunSpec;
use super::stats::{MeanCi, Support, mean_ci, spearman};
use crate::analysis::point_spectra::{DEFAULT_DENSE_MAX, SpectraOptions, Verdict};
use crate::error::Result;
use crate::export::{Table, num, slug};
use crate::gan::checkpoint::load_run;
use crate::gan::spectra::{StepSpectra, run_path_angle, run_spectra};
use crate::gan::spectra_figures::{path_angle_figures, spectra_figures};
use crate::linalg::Which;
use crate::plot::{self, LinePlot, Series};

/// Evaluation batch of every spectrum. The spectra module's default (1024) costs about
/// 8× more per product; on the loaded study machine a checkpoint of the ring network
/// took 0.7 s of CPU at batch 128 with k = 6 against 2.8 s at 256 with k = 10, and the
/// study has ~500 checkpoints. 128 is the 1-D trainer's own batch (and above gan-vis's
/// 50), so the field analysed is no noisier than the one the optimiser followed.
pub const EVAL_BATCH: usize = 128;
/// Eigenvalues per Krylov–Schur selection (LI, then LR for max Re λ): enough for the
/// extremes the report uses (max Re, max |Im|), few enough to keep a checkpoint under
/// a second.
pub const KRYLOV_K: usize = 6;
/// Hutchinson samples of the rotation index (interval half-width ~ 1/√N; 8 gives about
/// ±0.1 on these Jacobians, measured, which separates 0.1 from 0.5).
pub const HUTCHINSON: usize = 8;
/// Seed of the evaluation batch, the start vectors and the probes (the same batch for
/// every run of a setting, so checkpoints and seeds are compared on one field).
pub const SPECTRA_SEED: u64 = 0;
/// Seeds per setting whose last checkpoint also gets the full dense spectrum (when
/// n ≤ the dense limit): one dense n ≈ 2300 analysis costs about a minute of CPU
/// (the Jacobian's and the Adam map's eigenvalues), so all of them would not fit.
pub const DENSE_SEEDS: usize = 1;
/// Points of the path-angle curve on α ∈ [−0.5, 1.5].
pub const PATH_POINTS: usize = 41;
/// max |Im λ| above this multiple of |max Re λ| is "imaginary-dominated" (module docs).
pub const ROTATING_RATIO: f64 = 1.0;
/// Half-width of the α-window around the end point in which the path-angle "bump" is
/// measured (Berard et al.'s figures show it within ±0.1 of α = 1).
pub const BUMP_WINDOW: f64 = 0.15;

/// A run's end state (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndState {
    /// Stationary and stable.
    Converged,
    /// Not converged, imaginary-dominated spectrum.
    Rotating,
    /// Neither.
    Other,
}

impl EndState {
    /// Name in tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EndState::Converged => "converged",
            EndState::Rotating => "rotating",
            EndState::Other => "other",
        }
    }
}

/// The end state from a verdict and the spectrum's extremes (module docs).
#[must_use]
pub fn end_state(verdict: Verdict, max_re: f64, max_abs_im: f64) -> EndState {
    match verdict {
        Verdict::LocalNash | Verdict::StableNotNash => EndState::Converged,
        _ if max_abs_im > ROTATING_RATIO * max_re.abs() => EndState::Rotating,
        _ => EndState::Other,
    }
}

/// Counts of the verdicts in the order local Nash, stable not Nash, unstable, not
/// stationary.
#[must_use]
pub fn verdict_counts(v: &[Verdict]) -> [usize; 4] {
    let mut c = [0; 4];
    for x in v {
        c[match x {
            Verdict::LocalNash => 0,
            Verdict::StableNotNash => 1,
            Verdict::Unstable => 2,
            Verdict::NotStationary => 3,
        }] += 1;
    }
    c
}

/// A rank correlation with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankCorrelation {
    /// Spearman's ρ_s.
    pub r: f64,
    /// Lower end of the 95 % interval.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Pairs with both values finite.
    pub n: usize,
}

/// Spearman's ρ_s of the finite pairs with the Fieller–Hartley–Pearson interval:
/// tanh(atanh ρ_s ± 1.96·√(1.06/(n − 3))) (module docs). NaN ends for n < 4 or an
/// undefined ρ_s (a constant variable).
#[must_use]
pub fn spearman_ci(a: &[f64], b: &[f64]) -> RankCorrelation {
    let n = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .count();
    let r = spearman(a, b);
    if n < 4 || !r.is_finite() {
        return RankCorrelation {
            r,
            lo: f64::NAN,
            hi: f64::NAN,
            n,
        };
    }
    // atanh(±1) is infinite; clamp so a perfect rank agreement gives an interval
    // ending at ±1 rather than NaN.
    let z = r.clamp(-1.0 + 1e-12, 1.0 - 1e-12).atanh();
    let se = (1.06 / (n as f64 - 3.0)).sqrt();
    RankCorrelation {
        r,
        lo: (z - 1.959_964 * se).tanh(),
        hi: (z + 1.959_964 * se).tanh(),
        n,
    }
}

/// One analysed checkpoint of a run, with the trainer's metrics at that step.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRow {
    /// Step.
    pub step: usize,
    /// ‖v(x)‖/‖v(x₀)‖.
    pub field_ratio: f64,
    /// max Re λ(J).
    pub max_re: f64,
    /// max |Im λ(J)|.
    pub max_abs_im: f64,
    /// Share of computed eigenvalues with |Im λ| > |Re λ|.
    pub share_rotational: f64,
    /// Rotation index (Hutchinson or exact).
    pub rotation: f64,
    /// ρ of the linearised update map.
    pub rho: f64,
    /// λ_min(H_G), λ_min(H_D).
    pub hessian_min: (f64, f64),
    /// The verdict.
    pub verdict: Verdict,
    /// Modes covered at this step (trainer's log; NaN where the log has no row).
    pub coverage: f64,
    /// W1 (1-D) or energy distance (2-D) at this step.
    pub distance: f64,
}

impl CheckpointRow {
    /// The end state of this checkpoint.
    #[must_use]
    pub fn end_state(&self) -> EndState {
        end_state(self.verdict, self.max_re, self.max_abs_im)
    }
}

/// Joins spectra and the trainer's log (`steps`, `coverage`, `distance` columns) by step.
#[must_use]
pub fn join_rows(spectra: &[StepSpectra], log: (&[f64], &[f64], &[f64])) -> Vec<CheckpointRow> {
    let at = |step: usize, col: &[f64]| {
        log.0
            .iter()
            .position(|&s| s == step as f64)
            .and_then(|i| col.get(i).copied())
            .unwrap_or(f64::NAN)
    };
    spectra
        .iter()
        .map(|s| {
            let p = &s.spectra;
            CheckpointRow {
                step: s.step,
                field_ratio: p.field_norm / p.reference_field_norm,
                max_re: p.max_re,
                max_abs_im: p.max_abs_im,
                share_rotational: p.share_rotational,
                rotation: p.rotation.value,
                rho: p.map_rho,
                hessian_min: (p.hessian_g.0, p.hessian_d.0),
                verdict: p.verdict,
                coverage: at(s.step, log.1),
                distance: at(s.step, log.2),
            }
        })
        .collect()
}

/// One run analysed.
struct RunResult {
    rows: Vec<CheckpointRow>,
    dense: Option<StepSpectra>,
    n: usize,
    seconds_per_checkpoint: f64,
    seconds_dense: f64,
}

fn options(dense: bool) -> SpectraOptions {
    SpectraOptions {
        k: KRYLOV_K,
        which: Which::LargestImaginary,
        dense,
        dense_max: DEFAULT_DENSE_MAX,
        seed: SPECTRA_SEED,
        hutchinson: HUTCHINSON,
    }
}

fn analyse_run(r: &RunSpec, out: &Path, dist_col: &str, dense_ok: bool) -> Result<RunResult> {
    let run = load_run(&r.dir)?;
    let t0 = Instant::now();
    let rs = run_spectra(&run, &[], EVAL_BATCH, &options(false), out)?;
    let per = t0.elapsed().as_secs_f64() / rs.steps.len().max(1) as f64;
    let n = rs.steps.first().map_or(0, |s| s.spectra.n);
    let log = read_csv(&r.dir.join("train_log.csv"))?;
    let (st, cov, dist) = (
        column(&log, "step"),
        column(&log, "modes_covered"),
        column(&log, dist_col),
    );
    let rows = join_rows(&rs.steps, (&st, &cov, &dist));
    let mut dense = None;
    let mut seconds_dense = f64::NAN;
    if dense_ok
        && r.seed_index < DENSE_SEEDS
        && n <= DEFAULT_DENSE_MAX
        && let Some(&last) = run.steps.last()
    {
        let t1 = Instant::now();
        let d = run_spectra(
            &run,
            &[last],
            EVAL_BATCH,
            &options(true),
            &out.join("dense"),
        )?;
        seconds_dense = t1.elapsed().as_secs_f64();
        dense = d.steps.into_iter().next();
    }
    Ok(RunResult {
        rows,
        dense,
        n,
        seconds_per_checkpoint: per,
        seconds_dense,
    })
}

const METRICS: [(&str, &str); 4] = [
    ("max_re", "max Re λ(J)"),
    ("max_abs_im", "max |Im λ(J)|"),
    ("rotation_index", "rotation index ‖A‖²/‖J‖²"),
    ("map_rho", "ρ of the linearised update map"),
];

fn metric(row: &CheckpointRow, m: &str) -> f64 {
    match m {
        "max_re" => row.max_re,
        "max_abs_im" => row.max_abs_im,
        "rotation_index" => row.rotation,
        "map_rho" => row.rho,
        "field_ratio" => row.field_ratio,
        "share_rotational" => row.share_rotational,
        "hessian_g_min" => row.hessian_min.0,
        "hessian_d_min" => row.hessian_min.1,
        "coverage" => row.coverage,
        _ => row.distance,
    }
}

/// Per checkpoint index: (step, mean and interval over the runs) of `m`.
fn curve(runs: &[&RunResult], m: &str) -> Vec<(f64, MeanCi)> {
    let len = runs.iter().map(|r| r.rows.len()).max().unwrap_or(0);
    (0..len)
        .filter_map(|i| {
            let step = runs.iter().find_map(|r| r.rows.get(i))?.step as f64;
            let v: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.rows.get(i))
                .map(|row| metric(row, m))
                .collect();
            Some((step, mean_ci(&v)))
        })
        .collect()
}

fn curve_figures(ctx: &Ctx<'_>, by: &[Vec<&RunResult>], report: &mut String) -> Result<()> {
    let steps = ctx.r.block.steps as f64;
    for (m, what) in METRICS {
        let mut series = Vec::new();
        for (s, runs) in by.iter().enumerate() {
            let c = curve(runs, m);
            // The interval as vertical bars, nudged sideways per setting so the
            // settings' bars do not overlap.
            let dx = steps * 0.006 * s as f64;
            series.push(Series {
                label: format!("{} (mean)", ctx.label(s)),
                points: c.iter().map(|(x, ci)| (*x, ci.mean)).collect(),
            });
            series.push(Series {
                label: format!("{} (95 % interval)", ctx.label(s)),
                points: c
                    .iter()
                    .flat_map(|(x, ci)| {
                        [
                            (x + dx, ci.mean - ci.half),
                            (x + dx, ci.mean + ci.half),
                            (f64::NAN, f64::NAN),
                        ]
                    })
                    .collect(),
            });
        }
        let stem = ctx.figs.join(m);
        plot::line_plot(
            &stem,
            &LinePlot {
                title: format!("{}: {what} at the checkpoints", ctx.r.block.name),
                x_label: "step".into(),
                y_label: what.into(),
                series,
                hlines: if m == "map_rho" {
                    vec![(1.0, "ρ = 1".into())]
                } else {
                    vec![]
                },
                ..LinePlot::default()
            },
        )?;
        fig_line(
            report,
            ctx,
            &format!("{what} against step: mean over seeds and 95 % interval per setting"),
            &stem,
        );
    }
    Ok(())
}

/// The aggregation of a `spectra` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let one_d = ctx.r.configs[0].data().dim() == 1;
    let (dist_col, dist_name) = if one_d {
        ("w1", "W1")
    } else {
        ("energy_distance", "energy distance")
    };
    ctx.make_fig_dir()?;
    let sdir = ctx.data.join("spectra");
    let out_of = |r: &RunSpec| {
        sdir.join(slug(ctx.label(r.setting)))
            .join(format!("seed{:03}", r.seed_index))
    };
    // A block at its quick size (`--quick`) skips the dense spectra, which cost about a
    // minute each.
    let dense_ok = !(b.steps <= b.quick_steps && b.seeds <= b.quick_seeds);
    let t0 = Instant::now();
    let results = ctx
        .runs
        .par_iter()
        .map(|r| analyse_run(r, &out_of(r), dist_col, dense_ok))
        .collect::<Result<Vec<_>>>()?;
    let wall = t0.elapsed().as_secs_f64();
    let ns = b.settings.len();
    let by: Vec<Vec<&RunResult>> = (0..ns)
        .map(|s| {
            ctx.runs
                .iter()
                .zip(&results)
                .filter(|(r, _)| r.setting == s)
                .map(|(_, x)| x)
                .collect()
        })
        .collect();
    // Tidy table: one row per run and checkpoint.
    let mut t = Table::new([
        "setting",
        "seed_index",
        "seed",
        "step",
        "field_ratio",
        "max_re",
        "max_abs_im",
        "share_rotational",
        "rotation_index",
        "map_rho",
        "hessian_g_min",
        "hessian_d_min",
        "verdict",
        "end_state",
        "modes_covered",
        dist_col,
    ]);
    for (r, res) in ctx.runs.iter().zip(&results) {
        for row in &res.rows {
            t.push(vec![
                ctx.label(r.setting).to_string(),
                r.seed_index.to_string(),
                r.seed.to_string(),
                row.step.to_string(),
                num(row.field_ratio),
                num(row.max_re),
                num(row.max_abs_im),
                num(row.share_rotational),
                num(row.rotation),
                num(row.rho),
                num(row.hessian_min.0),
                num(row.hessian_min.1),
                row.verdict.as_str().into(),
                row.end_state().as_str().into(),
                num(row.coverage),
                num(row.distance),
            ]);
        }
    }
    let end_metrics = [
        "field_ratio",
        "max_re",
        "max_abs_im",
        "share_rotational",
        "rotation_index",
        "map_rho",
        "hessian_g_min",
        "hessian_d_min",
        "coverage",
        "distance",
    ];
    let last = |r: &RunResult| r.rows.last().cloned();
    let mut srows = Vec::new();
    for (s, runs) in by.iter().enumerate() {
        for m in end_metrics {
            let v: Vec<f64> = runs
                .iter()
                .filter_map(|r| last(r))
                .map(|row| metric(&row, m))
                .collect();
            let name = if m == "distance" { dist_col } else { m };
            srows.push(StatRow::new(
                ctx.label(s),
                &format!("final_{name}"),
                mean_ci(&v),
            ));
        }
    }
    let paths = render::write_tables(ctx, &t, &srows)?;
    render::data_line(report, ctx, &paths);
    let n = results.first().map_or(0, |r| r.n);
    let cps = results.first().map_or(0, |r| r.rows.len());
    let per: Vec<f64> = results.iter().map(|r| r.seconds_per_checkpoint).collect();
    let dense_s: Vec<f64> = results.iter().map(|r| r.seconds_dense).collect();
    writeln!(report, "**Protocol.** n = {n} parameters; {cps} checkpoints per run (step 0, every `checkpoint_every` steps and the last). At each: Krylov–Schur top-{KRYLOV_K} eigenvalues of the game Jacobian J by largest |Im λ| (Berard et al.'s choice) and by largest Re λ, the Lanczos extremes of H_G and H_D, the Hutchinson rotation index ({HUTCHINSON} probes), and ρ of the update map (Adam: preconditioner frozen at the checkpoint's state), all from exact Jacobian-vector products on one evaluation batch of {EVAL_BATCH} drawn from seed {SPECTRA_SEED}. The first {DENSE_SEEDS} seed(s) of each setting also get the full dense spectrum at the last checkpoint when n ≤ {DEFAULT_DENSE_MAX}. Measured cost (wall time, on this machine while the runs shared its cores): {:.2} s per checkpoint (mean over runs), {} per dense analysis; the spectra of the block took {wall:.0} s of wall time.\n", mean_ci(&per).mean, if dense_s.iter().any(|x| x.is_finite()) { format!("{:.0} s", mean_ci(&dense_s).mean) } else { "none".into() }).ok();

    // End of training, per setting.
    writeln!(report, "### At the last checkpoint\n").ok();
    writeln!(report, "‖v‖/‖v₀‖ is the field's norm relative to its value at initialisation (stationary below 0.1). Verdicts: N = local Nash, S = stable not Nash, U = unstable, ¬ = not stationary. End state: converged (stationary and stable) / rotating (max |Im λ| > |max Re λ|) / other.\n").ok();
    writeln!(report, "| setting | ‖v‖/‖v₀‖ | max Re λ | max \\|Im λ\\| | share \\|Im\\|>\\|Re\\| | rotation index | ρ(map) | λ_min(H_G) | λ_min(H_D) | modes covered | {dist_name} | verdicts N/S/U/¬ | converged/rotating/other |").ok();
    writeln!(
        report,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    .ok();
    let mut all_last = Vec::new();
    for (s, runs) in by.iter().enumerate() {
        let lasts: Vec<CheckpointRow> = runs.iter().filter_map(|r| last(r)).collect();
        let ci = |m: &str, sup: Support| {
            mean_ci(&lasts.iter().map(|r| metric(r, m)).collect::<Vec<_>>()).within(sup)
        };
        let vc = verdict_counts(&lasts.iter().map(|r| r.verdict).collect::<Vec<_>>());
        let es: Vec<EndState> = lasts.iter().map(CheckpointRow::end_state).collect();
        let cnt = |e: EndState| es.iter().filter(|x| **x == e).count();
        writeln!(
            report,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{}/{}/{} | {}/{}/{} |",
            ctx.label(s),
            ci("field_ratio", Support::NON_NEGATIVE).show(3),
            ci("max_re", Support::REAL).show(3),
            ci("max_abs_im", Support::NON_NEGATIVE).show(3),
            ci("share_rotational", Support::UNIT).show(2),
            ci("rotation_index", Support::UNIT).show(3),
            ci("map_rho", Support::NON_NEGATIVE).show(4),
            ci("hessian_g_min", Support::REAL).show(3),
            ci("hessian_d_min", Support::REAL).show(3),
            ci("coverage", Support::NON_NEGATIVE).show(2),
            ci("distance", Support::NON_NEGATIVE).show(3),
            vc[0],
            vc[1],
            vc[2],
            vc[3],
            cnt(EndState::Converged),
            cnt(EndState::Rotating),
            cnt(EndState::Other),
        )
        .ok();
        all_last.extend(lasts);
    }
    writeln!(report).ok();
    let total = all_last.len();
    let es: Vec<EndState> = all_last.iter().map(CheckpointRow::end_state).collect();
    let vc = verdict_counts(&all_last.iter().map(|r| r.verdict).collect::<Vec<_>>());
    let g_neg = all_last.iter().filter(|r| r.hessian_min.0 < 0.0).count();
    let d_neg = all_last.iter().filter(|r| r.hessian_min.1 < 0.0).count();
    let im_dom = all_last
        .iter()
        .filter(|r| r.max_abs_im > ROTATING_RATIO * r.max_re.abs())
        .count();
    let rho_gt1 = all_last.iter().filter(|r| r.rho > 1.0).count();
    let rot =
        mean_ci(&all_last.iter().map(|r| r.rotation).collect::<Vec<_>>()).within(Support::UNIT);
    let ratio = mean_ci(&all_last.iter().map(|r| r.field_ratio).collect::<Vec<_>>())
        .within(Support::NON_NEGATIVE);
    writeln!(report, "**Rotating or converging?** Of {total} runs, {} end converged (stationary and stable), {} rotating and {} other. The field at the end is {} of its initial norm (mean over all runs); {im_dom} of {total} have max |Im λ| > |max Re λ| at the end, the rotation index is {} (0: a gradient field, 1: a pure rotation), and the update map's ρ exceeds 1 in {rho_gt1} of {total} runs.\n",
        es.iter().filter(|e| **e == EndState::Converged).count(),
        es.iter().filter(|e| **e == EndState::Rotating).count(),
        es.iter().filter(|e| **e == EndState::Other).count(),
        ratio.show(3), rot.show(3)).ok();
    writeln!(report, "**Local Nash or only locally stable?** Verdicts at the end: {} local Nash, {} stable not Nash, {} unstable, {} not stationary. Whatever the verdict, λ_min(H_G) < 0 in {g_neg} of {total} runs and λ_min(H_D) < 0 in {d_neg} of {total}: a player's Hessian is indefinite, so no end point with such a Hessian is a local Nash equilibrium even where the field is small.\n", vc[0], vc[1], vc[2], vc[3]).ok();

    // Dense end spectra.
    let dense: Vec<(usize, &StepSpectra)> = ctx
        .runs
        .iter()
        .zip(&results)
        .filter_map(|(r, x)| x.dense.as_ref().map(|d| (r.setting, d)))
        .collect();
    if !dense.is_empty() {
        writeln!(
            report,
            "### Dense spectrum at the last checkpoint (seed index 0)\n"
        )
        .ok();
        writeln!(report, "All n eigenvalues of J (faer), the exact rotation index, both Hessians' full spectra and the dense update map.\n").ok();
        writeln!(report, "| setting | step | ‖v‖/‖v₀‖ | max Re λ | max \\|Im λ\\| | share \\|Im\\|>\\|Re\\| | rotation index | ρ(map) | λ_min(H_G) | λ_min(H_D) | verdict |").ok();
        writeln!(report, "|---|---|---|---|---|---|---|---|---|---|---|").ok();
        for (s, d) in &dense {
            let p = &d.spectra;
            writeln!(report, "| {} | {} | {:.3} | {:.3e} | {:.3} | {:.3} | {:.3} | {:.5} | {:.3e} | {:.3e} | {} |", ctx.label(*s), d.step, p.field_norm / p.reference_field_norm, p.max_re, p.max_abs_im, p.share_rotational, p.rotation.value, p.map_rho, p.hessian_g.0, p.hessian_d.0, p.verdict.as_str()).ok();
        }
        writeln!(report).ok();
    }

    // Rank correlations across runs.
    writeln!(
        report,
        "### Rotation and stability against outcome (across all {total} runs, last checkpoint)\n"
    )
    .ok();
    writeln!(
        report,
        "Spearman's ρ_s with a 95 % interval (Fisher z, variance 1.06/(n − 3)).\n"
    )
    .ok();
    writeln!(
        report,
        "| spectral quantity | vs modes covered | vs {dist_name} |"
    )
    .ok();
    writeln!(report, "|---|---|---|").ok();
    let show = |c: RankCorrelation| {
        if c.lo.is_finite() {
            format!("{:.2} [{:.2}, {:.2}] (n = {})", c.r, c.lo, c.hi, c.n)
        } else {
            format!("undefined (n = {})", c.n)
        }
    };
    let col = |m: &str| all_last.iter().map(|r| metric(r, m)).collect::<Vec<_>>();
    let (cov, dist) = (col("coverage"), col("distance"));
    for (m, what) in [
        ("rotation_index", "rotation index"),
        ("max_abs_im", "max |Im λ|"),
        ("max_re", "max Re λ"),
        ("map_rho", "ρ(map)"),
        ("field_ratio", "‖v‖/‖v₀‖"),
        ("hessian_g_min", "λ_min(H_G)"),
    ] {
        let x = col(m);
        writeln!(
            report,
            "| {what} | {} | {} |",
            show(spearman_ci(&x, &cov)),
            show(spearman_ci(&x, &dist))
        )
        .ok();
    }
    writeln!(report).ok();

    // Figures: curves, one run's clouds, one path-angle.
    curve_figures(ctx, &by, report)?;
    if let Some(r0) = ctx.runs.first() {
        let run = load_run(&r0.dir)?;
        let rs = run_spectra(&run, &[], EVAL_BATCH, &options(false), &out_of(r0))?;
        let fdir = ctx.figs.join(format!("{}_seed000", slug(ctx.label(0))));
        spectra_figures(&rs, &fdir)?;
        let stem = fdir.join("eigenvalues_game");
        fig_line(
            report,
            ctx,
            &format!(
                "{}, seed index 0: top-{KRYLOV_K} (LI and LR) eigenvalues of J at every checkpoint, coloured by step (GIF beside it)",
                ctx.label(0)
            ),
            &stem,
        );
        if let Some(d) = results.first().and_then(|x| x.dense.as_ref()) {
            let ddir = ctx
                .figs
                .join(format!("{}_seed000_dense", slug(ctx.label(0))));
            let one = crate::gan::spectra::RunSpectra {
                jvp_method: rs.jvp_method,
                batch: EVAL_BATCH,
                seed: SPECTRA_SEED,
                steps: vec![d.clone()],
                files: vec![],
            };
            spectra_figures(&one, &ddir)?;
            fig_line(
                report,
                ctx,
                &format!(
                    "{}, seed index 0: all eigenvalues of J at step {}",
                    ctx.label(0),
                    d.step
                ),
                &ddir.join("eigenvalues_game"),
            );
        }
        let n_steps = run.steps.len();
        if n_steps >= 2 {
            let (a, bb) = (run.steps[n_steps - 2], run.steps[n_steps - 1]);
            let (pts, _) = run_path_angle(
                &run,
                (a, bb),
                PATH_POINTS,
                EVAL_BATCH,
                SPECTRA_SEED,
                &out_of(r0).join("path_angle"),
            )?;
            let pdir = ctx
                .figs
                .join(format!("{}_seed000_path_angle", slug(ctx.label(0))));
            let files = path_angle_figures(&pts, (a, bb), &pdir)?;
            let near: Vec<f64> = pts
                .iter()
                .filter(|p| (p.alpha - 1.0).abs() <= BUMP_WINDOW)
                .map(|p| p.cosine)
                .collect();
            let lo = near.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = near.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let at = |x: f64| {
                pts.iter()
                    .min_by(|p, q| (p.alpha - x).abs().total_cmp(&(q.alpha - x).abs()))
                    .map_or(f64::NAN, |p| p.cosine)
            };
            writeln!(report, "**Path-angle** ({}, seed index 0, steps {a} → {bb}): cos ∠(v, x_B − x_A) is {:.3} at α = 0 and {:.3} at α = 1; within α ∈ [1 − {BUMP_WINDOW}, 1 + {BUMP_WINDOW}] it ranges over [{lo:.3}, {hi:.3}] (Berard et al.'s rotation signature is a bump there).\n", ctx.label(0), at(0.0), at(1.0)).ok();
            if let Some(png) = files
                .iter()
                .find(|f| f.extension().is_some_and(|e| e == "png"))
            {
                fig_line(
                    report,
                    ctx,
                    "path-angle between the last two checkpoints",
                    &png.with_extension(""),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rank correlations are exact rational numbers here; this is f64 round-off.
    const CORR_TOL: f64 = 1e-12;

    #[test]
    fn end_state_follows_verdict_then_spectrum() {
        assert_eq!(end_state(Verdict::LocalNash, 0.0, 5.0), EndState::Converged);
        assert_eq!(
            end_state(Verdict::StableNotNash, -1.0, 0.0),
            EndState::Converged
        );
        assert_eq!(
            end_state(Verdict::NotStationary, 0.1, 2.0),
            EndState::Rotating
        );
        assert_eq!(end_state(Verdict::Unstable, -0.5, 2.0), EndState::Rotating);
        assert_eq!(end_state(Verdict::Unstable, 3.0, 2.0), EndState::Other);
        // Equal magnitudes are not imaginary-dominated (strict inequality).
        assert_eq!(end_state(Verdict::NotStationary, 2.0, 2.0), EndState::Other);
    }

    #[test]
    fn verdict_counts_count_each_kind() {
        let v = [
            Verdict::StableNotNash,
            Verdict::NotStationary,
            Verdict::StableNotNash,
            Verdict::LocalNash,
            Verdict::Unstable,
            Verdict::NotStationary,
            Verdict::NotStationary,
        ];
        assert_eq!(verdict_counts(&v), [1, 2, 1, 3]);
        assert_eq!(verdict_counts(&[]), [0; 4]);
    }

    #[test]
    fn spearman_ci_matches_closed_form() {
        // A monotone relation: ρ_s = 1, interval ends at 1 above.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [10.0, 20.0, 25.0, 40.0, 41.0, 90.0];
        let c = spearman_ci(&a, &b);
        assert!((c.r - 1.0).abs() < CORR_TOL);
        assert!((c.hi - 1.0).abs() < CORR_TOL && c.lo < 1.0 && c.n == 6);
        // One swapped pair among 5: ρ_s = 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/120 = 0.9; the
        // interval is tanh(atanh 0.9 ± 1.96·√(1.06/2)).
        let c = spearman_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 2.0, 4.0, 3.0, 5.0]);
        assert!((c.r - 0.9).abs() < CORR_TOL);
        let z = 0.9_f64.atanh();
        let se = (1.06_f64 / 2.0).sqrt();
        assert!((c.lo - (z - 1.959_964 * se).tanh()).abs() < CORR_TOL);
        assert!((c.hi - (z + 1.959_964 * se).tanh()).abs() < CORR_TOL);
        assert!(c.lo < c.r && c.r < c.hi);
        // Non-finite pairs are dropped; too few pairs leave the interval undefined.
        let c = spearman_ci(&[1.0, f64::NAN, 2.0, 3.0], &[1.0, 5.0, 2.0, 3.0]);
        assert_eq!(c.n, 3);
        assert!(c.lo.is_nan() && c.hi.is_nan());
        // A constant variable has no rank correlation.
        let c = spearman_ci(&[1.0; 6], &a);
        assert!(c.r.is_nan() && c.lo.is_nan());
    }
}
