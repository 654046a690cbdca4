//! The `mixtures` analysis: the mode-collapse benchmark of VEEGAN (Srivastava et al. 2017)
//! and PacGAN (Lin et al. 2018, "PacGAN: the power of two samples in generative adversarial
//! networks", NeurIPS, Table 1) on the 8-mode ring and the 25-mode grid, with PacGAN's
//! published numbers beside ours.
//!
//! Per run, from its files: PacGAN's three measures ([`crate::metrics::modes`]: modes
//! captured, the high-quality share, the reverse KL of the modes' histogram), precision and
//! recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020), the sliced
//! Wasserstein distance and the Fréchet distance of Gaussian fits, all on the final
//! generator's `snapshot_samples` samples (`samples_final.csv`, PacGAN scores 2500) against
//! as many target samples drawn from stream 3 of the run's seed (never a training stream);
//! the energy distance and gan-vis's coverage at the last log step; and the log's
//! `modes_captured` at every log step (the curve).
//!
//! Per setting: mean ± standard error over the trials (PacGAN's layout; s/√n with the
//! n − 1 sample standard deviation). Against the published row (when the setting's label is
//! one of Table 1's methods and the data set is PacGAN's ring or grid): *agrees* when
//! |ours − theirs| ≤ 2·√(se_ours² + se_theirs²) (a two-sided test at about the 5 % level
//! for normal means), else *higher* or *lower*. Whether the row is **comparable** at all
//! is decided separately ([`paper_differences`]): only a run with PacGAN's networks,
//! optimiser, batch and full budget is. Against the block's first setting (the GAN): paired
//! 95 % t-intervals of the differences and the verdicts of the stabilisers analysis
//! ([`super::stabilisers::change`], [`super::stabilisers::verdict`]).

use std::fmt::Write as _;

use nalgebra::DMatrix;

use super::outputs::{RunLog, column, read_csv};
use super::render::{self, Ctx, StatRow, fig_line};
use super::stabilisers::{Better, describe, paired_comparison, verdict};
use super::stats::{Support, mean_ci};
use crate::datasets::Dataset;
use crate::error::Result;
use crate::export::{Table, num};
use crate::gan::TrainConfig;
use crate::gan::train::Model;
use crate::metrics::{MetricOptions, score};
use crate::plot::{self, LinePlot, Series, SurfaceFrame};

/// PacGAN's training budget: 400 epochs of 100 000 samples at batch 100 (the configs of
/// `2DRing_GAN&PacGAN` and `2DGrid_GAN&PacGAN`), i.e. 400 000 generator updates.
pub const PAPER_STEPS: usize = 400_000;

/// The momentum of PacGAN's batch-norm population statistics (`m * 0.05 + p * 0.95` in
/// `pacgan_task.py`).
pub const PACGAN_BN_MOMENTUM: f64 = 0.05;

/// PacGAN's two mixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mixture {
    /// 8 modes on the unit circle, std 0.01 ([`Dataset::Ring8`]).
    Ring,
    /// 25 modes at {−4, −2, 0, 2, 4}², std 0.05 ([`Dataset::Grid25`]).
    Grid,
}

/// Which of PacGAN's mixtures a data set is (in preset or general form), if either.
#[must_use]
pub fn mixture_of(d: &Dataset) -> Option<Mixture> {
    let e = d.expanded();
    if e == Dataset::Ring8.expanded() {
        Some(Mixture::Ring)
    } else if e == Dataset::Grid25.expanded() {
        Some(Mixture::Grid)
    } else {
        None
    }
}

/// A published cell: mean and standard error over 10 trials.
pub type Cell = (f64, f64);

/// One method's row of PacGAN's Table 1 on one mixture: modes captured, high-quality
/// samples in %, reverse KL (mean, standard error).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    /// Modes captured (of 8 or 25).
    pub modes: Cell,
    /// High-quality samples, in %.
    pub high_quality_pct: Cell,
    /// Reverse KL of the modes' histogram.
    pub reverse_kl: Cell,
}

const fn row(m: Cell, q: Cell, k: Cell) -> Published {
    Published {
        modes: m,
        high_quality_pct: q,
        reverse_kl: k,
    }
}

/// PacGAN's Table 1 (Lin et al. 2018): method, ring, grid.
pub const PACGAN_TABLE1: [(&str, Published, Published); 5] = [
    (
        "GAN",
        row((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)),
        row((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)),
    ),
    (
        "ALI",
        row((6.6, 0.3), (97.6, 0.4), (0.36, 0.04)),
        row((24.1, 0.4), (95.7, 0.6), (0.14, 0.03)),
    ),
    (
        "PacGAN2",
        row((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
        row((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
    ),
    (
        "PacGAN3",
        row((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
        row((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
    ),
    (
        "PacGAN4",
        row((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)),
        row((24.8, 0.2), (93.6, 0.6), (0.04, 0.01)),
    ),
];

/// The published row of the method labelled `label` on `m` (labels as in Table 1).
#[must_use]
pub fn published(m: Mixture, label: &str) -> Option<Published> {
    PACGAN_TABLE1
        .iter()
        .find(|(l, _, _)| *l == label)
        .map(|(_, r, g)| if m == Mixture::Ring { *r } else { *g })
}

/// Mean and standard error s/√n of the finite values (PacGAN's "mean ± standard error").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanSe {
    /// Mean (NaN for no values).
    pub mean: f64,
    /// Standard error (NaN for fewer than two values).
    pub se: f64,
    /// Number of finite values.
    pub n: usize,
}

impl MeanSe {
    /// `mean ± se` with `digits` decimals, scaled by `scale` (100 for %).
    #[must_use]
    pub fn show(&self, digits: usize, scale: f64) -> String {
        if self.n == 0 {
            "n/a".into()
        } else if self.se.is_finite() {
            format!(
                "{:.*} ± {:.*}",
                digits,
                self.mean * scale,
                digits,
                self.se * scale
            )
        } else {
            format!("{:.*}", digits, self.mean * scale)
        }
    }
}

/// [`MeanSe`] of the finite values of `xs`.
#[must_use]
pub fn mean_se(xs: &[f64]) -> MeanSe {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / n as f64
    };
    let se = if n < 2 {
        f64::NAN
    } else {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0) / n as f64).sqrt()
    };
    MeanSe { mean, se, n }
}

/// How our mean compares with a published one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// |ours − theirs| ≤ [`AGREE_Z`]·√(se_ours² + se_theirs²).
    Agrees,
    /// Ours is larger beyond that band.
    Higher,
    /// Ours is smaller beyond that band.
    Lower,
    /// No finite mean or standard error on our side.
    Undefined,
}

/// Standard errors of the difference within which two means agree: 2 (≈ the 95 % normal
/// quantile 1.96, so a two-sided test at about the 5 % level).
pub const AGREE_Z: f64 = 2.0;

/// Our [`MeanSe`] against a published (mean, se); both on the same scale.
#[must_use]
pub fn agreement(ours: &MeanSe, paper: Cell) -> Agreement {
    if !(ours.mean.is_finite() && ours.se.is_finite()) {
        return Agreement::Undefined;
    }
    let band = AGREE_Z * (ours.se * ours.se + paper.1 * paper.1).sqrt();
    let d = ours.mean - paper.0;
    if d.abs() <= band {
        Agreement::Agrees
    } else if d > 0.0 {
        Agreement::Higher
    } else {
        Agreement::Lower
    }
}

impl Agreement {
    fn word(self) -> &'static str {
        match self {
            Agreement::Agrees => "agrees",
            Agreement::Higher => "higher",
            Agreement::Lower => "lower",
            Agreement::Undefined => "n/a",
        }
    }
}

/// PacGAN's setup for Table 1 as a training configuration (without the data set, the budget
/// and the packing, which select the row): the networks, batch norm, initialisation,
/// optimisers, update scheme, batch, latent, loss and the 2500 scored samples. Sources: the
/// configs and `pacgan_task.py` of `2DRing_GAN&PacGAN` and `2DGrid_GAN&PacGAN` (github
/// fjxmlzn/PacGAN); Blocks' batch-norm ε is 1e-4.
const PAPER_SETUP: &str = r#"
batch_size = 100
snapshot_samples = 2500
loss = "non_saturating"
schedule = { order = "simultaneous" }
latent = { kind = "gaussian", dim = 2 }
generator = { hidden = [400, 400, 400, 400], batch_norm = true, batch_norm_momentum = 0.05, batch_norm_eps = 1e-4, init = { kind = "normal", std = 0.02 } }
discriminator = { hidden = [200, 200, 200], maxout = 5, init = { kind = "normal", std = 0.02 } }
optimizer_g = { kind = "adam", lr = 1e-4, beta1 = 0.8 }
optimizer_d = { kind = "adam", lr = 1e-4, beta1 = 0.8 }
"#;

/// Keys that say how a run is logged, scored during training or seeded, not what is
/// trained (the data set and the budget are compared on their own).
const NOT_COMPARED: [&str; 10] = [
    "seed",
    "steps",
    "dataset",
    "pack",
    "log_every",
    "snapshot_every",
    "checkpoint_every",
    "eval_samples",
    "coverage_min_fraction",
    "histogram_bins",
];

/// [`PAPER_SETUP`] as a configuration.
#[must_use]
pub fn paper_config() -> TrainConfig {
    TrainConfig::from_toml(PAPER_SETUP, std::path::Path::new("PAPER_SETUP"))
        .expect("PacGAN's setup parses")
}

/// The differing keys of two serialised configurations, as "`key` = ours (PacGAN's setup:
/// theirs)". An object holding another object is compared key by key; any other value
/// (a number, a list, or an object of plain values such as an optimiser or an init) as a
/// whole, so one choice is one difference.
fn key_differences(
    path: &str,
    ours: &serde_json::Value,
    theirs: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    let nested = |v: &Value| {
        v.as_object()
            .is_some_and(|o| o.values().any(Value::is_object))
    };
    if let (Value::Object(a), Value::Object(b)) = (ours, theirs)
        && (nested(ours) || nested(theirs))
    {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            if path.is_empty() && NOT_COMPARED.contains(&k.as_str()) {
                continue;
            }
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            key_differences(
                &child,
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
                out,
            );
        }
        return;
    }
    if ours != theirs {
        let show = |v: &Value| match v {
            Value::Null => "default".to_string(),
            v => v.to_string(),
        };
        out.push(format!(
            "`{path}` = {} (PacGAN's setup: {})",
            show(ours),
            show(theirs)
        ));
    }
}

/// How a run of `c` over `steps` steps differs from PacGAN's setup (empty: a row directly
/// comparable with Table 1): its data set, its budget, and every key of the configuration
/// against [`PAPER_SETUP`] (networks and their layers, batch norm, initialisation, optimisers,
/// update scheme, objective and penalties, batch, latent, scored samples). Packing and the
/// model select the method and are not compared; a VAE is reported as such.
#[must_use]
pub fn paper_differences(c: &TrainConfig, steps: usize) -> Vec<String> {
    let mut d = Vec::new();
    if mixture_of(&c.dataset).is_none() {
        d.push("data set is neither PacGAN's ring nor its grid".into());
    }
    if steps < PAPER_STEPS {
        d.push(format!(
            "budget {steps} steps = {:.2} % of the paper's {PAPER_STEPS}",
            100.0 * steps as f64 / PAPER_STEPS as f64
        ));
    }
    if c.model != Model::Gan {
        d.push("a VAE (not in Table 1)".into());
        return d;
    }
    let (Ok(ours), Ok(theirs)) = (
        serde_json::to_value(c),
        serde_json::to_value(paper_config()),
    ) else {
        d.push("the configuration does not serialise".into());
        return d;
    };
    key_differences("", &ours, &theirs, &mut d);
    d
}

/// One run's end state.
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureRun {
    /// Column name → value, in [`COLUMNS`] order.
    pub values: Vec<f64>,
    /// (step, modes captured) at each log step.
    pub curve: Vec<(f64, f64)>,
    /// Whether the run completed.
    pub completed: bool,
}

/// The per-run columns: name, report heading, direction (None: shown, not judged).
pub const COLUMNS: [(&str, &str, Option<Better>); 11] = [
    ("modes_captured", "modes", Some(Better::Higher)),
    ("high_quality", "high quality", Some(Better::Higher)),
    ("reverse_kl", "reverse KL", Some(Better::Lower)),
    ("precision", "precision", None),
    ("recall", "recall", None),
    ("density", "density", None),
    ("coverage", "coverage", None),
    ("sliced_w1", "sliced W₁", None),
    ("frechet", "Fréchet", None),
    ("energy_distance", "energy distance", None),
    ("modes_covered", "gan-vis modes covered", None),
];

fn col_index(name: &str) -> usize {
    COLUMNS.iter().position(|c| c.0 == name).unwrap_or(0)
}

/// Scores one run's final samples (see the module docs).
fn load_run(r: &super::RunSpec) -> Result<MixtureRun> {
    let d = RunLog::load(r)?;
    let s = read_csv(&r.dir.join("samples_final.csv"))?;
    let (x0, x1) = (column(&s, "x0"), column(&s, "x1"));
    let n = x0.len();
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { x0[i] } else { x1[i] });
    let data = r.config.data();
    let target: DMatrix<f64> = data.sample(&mut crate::linalg::rng(r.seed, 3), n);
    let modes = data.modes();
    let opts = MetricOptions {
        seed: r.seed,
        ..MetricOptions::default()
    };
    // A diverged generator's samples may be non-finite: its scores are NaN, not an error.
    let rep = score(&x, &target, modes.as_ref(), &opts).ok();
    let get = |f: &dyn Fn(&crate::metrics::MetricReport) -> f64| rep.as_ref().map_or(f64::NAN, f);
    let mm = |f: &dyn Fn(&crate::metrics::modes::ModeMeasures) -> f64| {
        get(&|r| r.modes.as_ref().map_or(f64::NAN, f))
    };
    let values = vec![
        mm(&|m| m.modes_captured as f64),
        mm(&|m| m.high_quality),
        mm(&|m| m.reverse_kl.unwrap_or(f64::NAN)),
        get(&|r| r.precision),
        get(&|r| r.recall),
        get(&|r| r.density),
        get(&|r| r.coverage),
        get(&|r| r.sliced_w1),
        get(&|r| r.frechet),
        d.last("energy_distance"),
        d.last("modes_covered"),
    ];
    Ok(MixtureRun {
        values,
        curve: d
            .col("step")
            .into_iter()
            .zip(d.col("modes_captured"))
            .collect(),
        completed: d.status == "completed",
    })
}

/// The runs of one setting.
struct SettingRuns {
    runs: Vec<MixtureRun>,
}

impl SettingRuns {
    fn values(&self, name: &str) -> Vec<f64> {
        let j = col_index(name);
        self.runs.iter().map(|r| r.values[j]).collect()
    }
    /// Mean over the trials of the modes captured at each log step.
    fn mean_curve(&self) -> Vec<(f64, f64)> {
        let curves: Vec<Vec<(f64, f64)>> = self.runs.iter().map(|r| r.curve.clone()).collect();
        super::stats::mean_curve(&curves)
    }
}

/// The aggregation of a `mixtures` block.
pub(super) fn aggregate(ctx: &Ctx<'_>, report: &mut String) -> Result<()> {
    let b = &ctx.r.block;
    let ns = b.settings.len();
    let c0 = &ctx.r.configs[0];
    let k = c0.data().modes().map_or(0, |m| m.means.len());
    let mix = mixture_of(&c0.dataset);
    let mut header = vec![
        "setting".to_string(),
        "seed_index".into(),
        "seed".into(),
        "steps".into(),
        "status".into(),
    ];
    header.extend(COLUMNS.iter().map(|c| c.0.to_string()));
    let mut t = Table::new(header);
    let mut settings = Vec::new();
    for s in 0..ns {
        let mut runs = Vec::new();
        for r in ctx.runs_of(s) {
            let run = load_run(r)?;
            let mut row = vec![
                ctx.label(s).to_string(),
                r.seed_index.to_string(),
                r.seed.to_string(),
                b.steps.to_string(),
                if run.completed {
                    "completed".into()
                } else {
                    "diverged".into()
                },
            ];
            row.extend(run.values.iter().map(|v| num(*v)));
            t.push(row);
            runs.push(run);
        }
        settings.push(SettingRuns { runs });
    }
    let mut srows = Vec::new();
    for (s, m) in settings.iter().enumerate() {
        for (name, _, _) in COLUMNS {
            let support = match name {
                "modes_captured" | "modes_covered" => Support::up_to(k as f64),
                "high_quality" | "precision" | "recall" | "coverage" => Support::UNIT,
                _ => Support::NON_NEGATIVE,
            };
            srows.push(StatRow::new(
                ctx.label(s),
                name,
                mean_ci(&m.values(name)).within(support),
            ));
        }
    }
    let paths = render::write_tables(ctx, &t, &srows)?;
    render::data_line(report, ctx, &paths);
    writeln!(report, "Measures of the final generator on its {} samples (`samples_final.csv`; VAE: the decoder's means) against {} target samples from stream 3 of the run's seed. PacGAN's measures as in their code: a sample is high quality when it lies strictly within 3σ of its nearest mode (nearest in σ units), a mode is captured by one high-quality sample, the reverse KL is KL(p ‖ uniform) of the high-quality samples' mode histogram (natural log); precision/recall and density/coverage with k = 3; sliced W₁ over {} seeded directions; Fréchet: squared distance of Gaussian fits; the energy distance and gan-vis's coverage (a mode holding ≥ {:.0} % of the {} evaluation samples within 3σ) at the last log step. Mean ± standard error over the trials, as PacGAN reports.\n", c0.snapshot_samples, c0.snapshot_samples, crate::metrics::sliced::DEFAULT_PROJECTIONS, 100.0 * c0.coverage_min_fraction, c0.eval_samples).ok();
    paper_table(ctx, &settings, mix, k, report)?;
    other_table(ctx, &settings, report);
    comparison(ctx, &settings, report)?;
    figures(ctx, &settings, k, report)?;
    Ok(())
}

/// The table in PacGAN's layout, ours beside theirs, with the agreement and whether the
/// row is comparable.
fn paper_table(
    ctx: &Ctx<'_>,
    settings: &[SettingRuns],
    mix: Option<Mixture>,
    k: usize,
    report: &mut String,
) -> Result<()> {
    let b = &ctx.r.block;
    let mut csv = Table::new(
        [
            "setting",
            "metric",
            "n",
            "mean",
            "se",
            "paper_mean",
            "paper_se",
            "agreement",
            "comparable",
            "differences",
        ]
        .map(String::from)
        .to_vec(),
    );
    writeln!(report, "PacGAN's layout (ours: mean ± standard error over {} trials at {} steps; PacGAN: Table 1 of Lin et al. 2018, 10 trials at {PAPER_STEPS} steps; *agrees* when the means differ by at most {AGREE_Z} standard errors of the difference):\n", b.seeds, b.steps).ok();
    writeln!(report, "| method | modes (of {k}) | high quality | reverse KL | PacGAN: modes | high quality | reverse KL | agreement (modes / HQ / KL) | runs not completed |").ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|---|").ok();
    for (s, m) in settings.iter().enumerate() {
        let ms = |n: &str| mean_se(&m.values(n));
        let (mo, hq, kl) = (ms("modes_captured"), ms("high_quality"), ms("reverse_kl"));
        let kl_n = if kl.n < m.runs.len() {
            format!(" ({} of {} defined)", kl.n, m.runs.len())
        } else {
            String::new()
        };
        let pubrow = mix.and_then(|x| published(x, ctx.label(s)));
        let diffs = paper_differences(&ctx.r.configs[s], b.steps);
        // the CSV keeps the high-quality share as a fraction, as summary.csv does
        let hq_pub = pubrow.map(|p| (p.high_quality_pct.0 / 100.0, p.high_quality_pct.1 / 100.0));
        for (name, ours, theirs) in [
            ("modes_captured", &mo, pubrow.map(|p| p.modes)),
            ("high_quality", &hq, hq_pub),
            ("reverse_kl", &kl, pubrow.map(|p| p.reverse_kl)),
        ] {
            csv.push(vec![
                ctx.label(s).to_string(),
                name.to_string(),
                ours.n.to_string(),
                num(ours.mean),
                num(ours.se),
                theirs.map_or(String::new(), |t| num(t.0)),
                theirs.map_or(String::new(), |t| num(t.1)),
                theirs.map_or(String::new(), |t| agreement(ours, t).word().to_string()),
                (diffs.is_empty() && theirs.is_some()).to_string(),
                diffs.join("; "),
            ]);
        }
        let (p, agree) = match pubrow {
            Some(p) => (
                format!(
                    "{:.1} ± {:.1} | {:.1} ± {:.1} % | {:.2} ± {:.2}",
                    p.modes.0,
                    p.modes.1,
                    p.high_quality_pct.0,
                    p.high_quality_pct.1,
                    p.reverse_kl.0,
                    p.reverse_kl.1
                ),
                format!(
                    "{} / {} / {}",
                    agreement(&mo, p.modes).word(),
                    agreement(
                        &MeanSe {
                            mean: 100.0 * hq.mean,
                            se: 100.0 * hq.se,
                            n: hq.n
                        },
                        p.high_quality_pct
                    )
                    .word(),
                    agreement(&kl, p.reverse_kl).word()
                ),
            ),
            None => ("– | – | –".into(), "(not in Table 1)".into()),
        };
        writeln!(
            report,
            "| {} | {} | {} % | {}{kl_n} | {p} | {agree} | {} |",
            ctx.label(s),
            mo.show(1, 1.0),
            hq.show(1, 100.0),
            kl.show(2, 1.0),
            m.runs.iter().filter(|r| !r.completed).count()
        )
        .ok();
    }
    writeln!(report).ok();
    let path = ctx.data.join("table1.csv");
    csv.write(&path)?;
    writeln!(
        report,
        "Data: `{}` (these columns with the standard errors; the high-quality share as a fraction).\n",
        ctx.rel_data(&path)
    )
    .ok();
    writeln!(report, "Comparable with Table 1:\n").ok();
    for s in 0..settings.len() {
        let d = paper_differences(&ctx.r.configs[s], b.steps);
        let in_table = mix.and_then(|x| published(x, ctx.label(s))).is_some();
        let word = match (d.is_empty(), in_table) {
            (true, true) => "**directly comparable**".to_string(),
            (true, false) => "PacGAN's setup, but not a method of Table 1".to_string(),
            (false, _) => format!("**not comparable**: {}", d.join("; ")),
        };
        writeln!(
            report,
            "- {} ({}): {word}",
            ctx.label(s),
            describe(&ctx.r.configs[s])
        )
        .ok();
    }
    writeln!(report).ok();
    Ok(())
}

/// Precision/recall, density/coverage and the distances.
fn other_table(ctx: &Ctx<'_>, settings: &[SettingRuns], report: &mut String) {
    let rest = &COLUMNS[3..];
    let heads: Vec<&str> = rest.iter().map(|c| c.1).collect();
    writeln!(
        report,
        "| method | {} |\n|---|{}",
        heads.join(" | "),
        "---|".repeat(rest.len())
    )
    .ok();
    for (s, m) in settings.iter().enumerate() {
        let cells: Vec<String> = rest
            .iter()
            .map(|(n, _, _)| {
                let digits = if *n == "modes_covered" { 1 } else { 3 };
                mean_se(&m.values(n)).show(digits, 1.0)
            })
            .collect();
        writeln!(report, "| {} | {} |", ctx.label(s), cells.join(" | ")).ok();
    }
    writeln!(report).ok();
}

/// Paired comparison of every setting with the first (the GAN), on PacGAN's measures.
fn comparison(ctx: &Ctx<'_>, settings: &[SettingRuns], report: &mut String) -> Result<()> {
    writeln!(report, "Against **{}** (setting − baseline, paired over the trials, which share their seeds; mean ± 95 % t-interval; *better*/*worse* when the interval excludes 0):\n", ctx.label(0)).ok();
    writeln!(
        report,
        "| setting | Δ modes | Δ high quality | Δ reverse KL | verdict |\n|---|---|---|---|---|"
    )
    .ok();
    let judged: Vec<(&str, Better)> = COLUMNS
        .iter()
        .take(3)
        .filter_map(|(col, _, better)| better.map(|b| (*col, b)))
        .collect();
    let rows = paired_comparison(ctx, &|s, col| settings[s].values(col), &judged, &|col| {
        if col == "modes_captured" { 1 } else { 3 }
    })?;
    for (s, (cells, changes)) in rows.into_iter().enumerate() {
        writeln!(
            report,
            "| {} | {} | **{}** |",
            ctx.label(s + 1),
            cells.join(" | "),
            verdict(&changes)
        )
        .ok();
    }
    writeln!(
        report,
        "\nData: `{}`.\n",
        ctx.rel_data(&ctx.data.join("comparison.csv"))
    )
    .ok();
    Ok(())
}

/// Cells per side of the sample-density background of the samples figures.
const DENSITY_GRID: usize = 100;

/// Half-width of the samples figures: the modes' largest coordinate plus a margin of a
/// quarter of it (at least 0.5).
fn extent_of(modes: &[(f64, f64)]) -> f64 {
    let m = modes
        .iter()
        .map(|(x, y)| x.abs().max(y.abs()))
        .fold(0.0, f64::max);
    m + (0.25 * m).max(0.5)
}

/// √(count / max count) of `pts` in each cell of an n × n grid over [−e, e]² (x fastest,
/// rows from the bottom: [`plot::cell_centres`]' order). The square root keeps a mode
/// holding a few percent of the fullest one visible (a linear scale leaves it black).
#[must_use]
fn density(pts: &[(f64, f64)], e: f64, n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    for (x, y) in pts {
        let j = ((x + e) / (2.0 * e) * n as f64).floor();
        let i = ((y + e) / (2.0 * e) * n as f64).floor();
        if (0.0..n as f64).contains(&i) && (0.0..n as f64).contains(&j) {
            h[i as usize * n + j as usize] += 1.0;
        }
    }
    let mx = h.iter().copied().fold(0.0, f64::max);
    if mx > 0.0 {
        h.iter_mut().for_each(|v| *v = (*v / mx).sqrt());
    }
    h
}

/// Final samples of trial 0 per setting over the mixture, and modes captured against step.
fn figures(ctx: &Ctx<'_>, settings: &[SettingRuns], k: usize, report: &mut String) -> Result<()> {
    ctx.make_fig_dir()?;
    let b = &ctx.r.block;
    let modes: Vec<(f64, f64)> = ctx.r.configs[0]
        .data()
        .modes()
        .map(|m| m.means.iter().map(|v| (v[0], v[1])).collect())
        .unwrap_or_default();
    let e = extent_of(&modes);
    let stem = ctx.figs.join("modes_vs_step");
    plot::line_plot(
        &stem,
        &LinePlot {
            title: format!("{}: modes captured, mean over {} trials", b.name, b.seeds),
            x_label: "training step".into(),
            y_label: format!("modes captured (of {k})"),
            series: settings
                .iter()
                .enumerate()
                .map(|(s, m)| Series {
                    label: ctx.label(s).to_string(),
                    points: m.mean_curve(),
                })
                .collect(),
            ..Default::default()
        },
    )?;
    fig_line(report, ctx, "modes captured over training", &stem);
    let mut links = Vec::new();
    for (s, setting) in settings.iter().enumerate() {
        let Some(r0) = ctx.runs_of(s).into_iter().next() else {
            continue;
        };
        let f = read_csv(&r0.dir.join("samples_final.csv"))?;
        let pts: Vec<(f64, f64)> = column(&f, "x0").into_iter().zip(column(&f, "x1")).collect();
        let captured = setting.runs.first().map_or(f64::NAN, |r| r.values[0]);
        let stem = ctx.setting_stem(s, "samples");
        plot::surface(
            &stem,
            &SurfaceFrame {
                title: format!(
                    "{}, trial 0, step {}: {} of {k} modes",
                    ctx.label(s),
                    b.steps,
                    captured
                ),
                x_range: (-e, e),
                y_range: (-e, e),
                nx: DENSITY_GRID,
                ny: DENSITY_GRID,
                values: density(&pts, e, DENSITY_GRID),
                value_range: (0.0, 1.0),
                points: pts,
                modes: modes.clone(),
                colorbar: "√(samples in cell / fullest cell)".into(),
                points_label: "final samples".into(),
            },
        )?;
        links.push(format!(
            "![{}]({})",
            ctx.label(s),
            ctx.link(&stem.with_extension("png"))
        ));
    }
    writeln!(report, "Final samples of trial 0 of each method ({} points; crosses: the mode means; colour: √(samples in a cell / samples in the fullest cell) on a {DENSITY_GRID} × {DENSITY_GRID} grid):\n\n{}\n", ctx.r.configs[0].snapshot_samples, links.join(" ")).ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::Optimizer;
    use crate::nn::Init;

    /// Rounding tolerance of hand-computed means and standard errors.
    const SE_TOL: f64 = 1e-12;

    fn pacgan(steps: usize) -> TrainConfig {
        TrainConfig {
            dataset: Dataset::Ring8,
            steps,
            ..paper_config()
        }
    }

    #[test]
    fn only_pacgans_setup_at_the_full_budget_is_comparable() {
        assert_eq!(
            paper_differences(&pacgan(PAPER_STEPS), PAPER_STEPS),
            Vec::<String>::new()
        );
        // Packing and the logging keys select or observe the run: not differences.
        let mut c = pacgan(PAPER_STEPS);
        c.pack = 3;
        c.log_every = 7;
        c.eval_samples = 100;
        assert!(paper_differences(&c, PAPER_STEPS).is_empty());
        let d = paper_differences(&pacgan(4000), 4000);
        assert_eq!(d.len(), 1);
        assert!(d[0].contains("1.00 %"), "{d:?}");
        // One difference per choice, named by its key.
        let mut c = pacgan(PAPER_STEPS);
        c.optimizer_g = Optimizer::adam(1e-4, 0.9, 0.999);
        c.batch_size = 64;
        c.generator.init = Init::GlorotUniform;
        c.dataset = Dataset::Grid25;
        let d = paper_differences(&c, PAPER_STEPS);
        assert_eq!(d.len(), 3, "{d:?}");
        for key in ["`optimizer_g`", "`batch_size`", "`generator.init`"] {
            assert!(d.iter().any(|x| x.starts_with(key)), "{key}: {d:?}");
        }
        c.dataset = Dataset::default();
        assert_eq!(paper_differences(&c, PAPER_STEPS).len(), 4);
        // The alternating scheme and PyTorch's batch-norm momentum are differences too.
        let mut c = pacgan(PAPER_STEPS);
        c.schedule = crate::dynamics::Scheme::Alternating {
            order: crate::dynamics::Order::DFirst,
            k_g: 1,
            k_d: 1,
        };
        c.generator.batch_norm_momentum = 0.1;
        let d = paper_differences(&c, PAPER_STEPS);
        assert_eq!(d.len(), 2, "{d:?}");
        // So are the remedies that change D or G's objective, and keys whose default is
        // not written out (spectral norm is skipped when false).
        let mut c = pacgan(PAPER_STEPS);
        c.discriminator.spectral_norm = true;
        c.discriminator.minibatch = Some(crate::gan::MinibatchConfig {
            kernels: 100,
            dim: 5,
        });
        c.label_smoothing = 0.1;
        c.penalty = crate::gan::Penalty::GradientPenalty { lambda: 10.0 };
        c.feature_matching = Some(Default::default());
        let d = paper_differences(&c, PAPER_STEPS);
        assert_eq!(d.len(), 5, "{d:?}");
        assert!(
            d.iter()
                .any(|x| x.contains("spectral_norm") && x.contains("default")),
            "{d:?}"
        );
        let mut v = pacgan(PAPER_STEPS);
        v.model = Model::Vae;
        assert_eq!(
            paper_differences(&v, PAPER_STEPS),
            vec!["a VAE (not in Table 1)"]
        );
    }

    #[test]
    fn the_published_rows_and_the_mixtures() {
        assert_eq!(mixture_of(&Dataset::Ring8), Some(Mixture::Ring));
        assert_eq!(mixture_of(&Dataset::Grid25.expanded()), Some(Mixture::Grid));
        assert_eq!(mixture_of(&Dataset::default()), None);
        assert_eq!(published(Mixture::Ring, "GAN").unwrap().modes, (6.3, 0.5));
        assert_eq!(
            published(Mixture::Grid, "PacGAN4").unwrap().reverse_kl,
            (0.04, 0.01)
        );
        assert!(published(Mixture::Ring, "VAE").is_none());
    }

    #[test]
    fn mean_standard_error_and_agreement() {
        // {1, 2, 3, 6}: mean 3, s² = (4 + 1 + 0 + 9)/3 = 14/3, se = √(14/12).
        let m = mean_se(&[1.0, 2.0, 3.0, 6.0, f64::NAN]);
        assert_eq!((m.mean, m.n), (3.0, 4));
        assert!((m.se - (14.0f64 / 12.0).sqrt()).abs() < SE_TOL);
        assert!(mean_se(&[2.0]).se.is_nan());
        assert_eq!(mean_se(&[]).show(1, 1.0), "n/a");
        assert_eq!(mean_se(&[0.5, 0.5]).show(1, 100.0), "50.0 ± 0.0");
        // Band 2·√(0.3² + 0.4²) = 1.
        let ours = MeanSe {
            mean: 7.0,
            se: 0.3,
            n: 10,
        };
        assert_eq!(agreement(&ours, (6.1, 0.4)), Agreement::Agrees);
        assert_eq!(agreement(&ours, (5.9, 0.4)), Agreement::Higher);
        assert_eq!(agreement(&ours, (8.1, 0.4)), Agreement::Lower);
        let undefined = MeanSe {
            se: f64::NAN,
            ..ours
        };
        assert_eq!(agreement(&undefined, (7.0, 0.1)), Agreement::Undefined);
    }

    #[test]
    fn sample_density_is_binned_in_the_plots_order() {
        // e = 1, n = 2: cells (x<0,y<0), (x≥0,y<0), (x<0,y≥0), (x≥0,y≥0); outside dropped.
        let h = density(
            &[(0.5, 0.5), (0.5, 0.6), (-0.5, 0.5), (0.5, -0.5), (3.0, 0.0)],
            1.0,
            2,
        );
        // counts 0, 1, 1, 2: √(count / 2)
        assert_eq!(h, vec![0.0, 0.5f64.sqrt(), 0.5f64.sqrt(), 1.0]);
        assert_eq!(extent_of(&[(1.0, 0.0), (0.0, -1.0)]), 1.5);
        assert_eq!(extent_of(&[(4.0, -4.0)]), 5.0);
    }
}
