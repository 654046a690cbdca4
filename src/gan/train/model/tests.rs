//! The generator objectives and the VAE from training configurations: their keys and
//! errors, k = 0 against the plain GAN, the VAE's files, and the blur of seed 002
//! measured on the two-point set.

use super::super::tests::{seed002_nets, train};
use super::super::*;
use crate::datasets::{Dataset, Latent, LatentKind};
use crate::dynamics::Optimizer;
use crate::gan::GeneratorObjective;

fn bad(text: &str, key: &str) {
    let e = TrainConfig::from_toml(text, Path::new("t.toml"))
        .and_then(TrainConfig::validated)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains(key), "expected `{key}` in: {e}");
}

#[test]
fn objective_and_vae_keys_validate_with_errors_naming_the_key() {
    let ok = |text: &str| {
        TrainConfig::from_toml(text, Path::new("t.toml"))
            .and_then(TrainConfig::validated)
            .unwrap()
    };
    let c = ok("unroll = { steps = 5 }\n[optimizer_d]\nkind = \"adam\"\nlr = 3e-4\n");
    assert_eq!(
        c.generator_objective().unwrap().describe(),
        "unrolled, k = 5 SGD look-ahead steps of η = 0.0003, gradient through the look-ahead (dψ_k/dθ included)"
    );
    let c = ok("unroll = { steps = 3, backprop = false, lr = 0.01 }");
    assert!(matches!(
        c.generator_objective().unwrap(),
        GeneratorObjective::Unrolled(u) if !u.backprop && u.lr == 0.01 && u.steps == 3
    ));
    // Feature matching defaults to D's last hidden layer (gan-vis D has four).
    let c = ok("feature_matching = {}");
    assert!(matches!(
        c.generator_objective().unwrap(),
        GeneratorObjective::FeatureMatching(f) if f.layer() == 4
    ));
    let c = ok(
        "model = \"vae\"\nlatent = { kind = \"gaussian\", dim = 2 }\nvae = { decoder_std = 0.2 }",
    );
    assert_eq!(c.vae_config().decoder_std, 0.2);
    bad("unroll = { steps = 5, lr = -1.0 }", "unroll.lr");
    bad("unroll = { steps = 100000 }", "unroll.steps");
    bad("unroll = { steps = 5, bogus = 1 }", "bogus");
    bad(
        "unroll = { steps = 5 }\npenalty = { kind = \"r1\", gamma = 1.0 }",
        "unroll",
    );
    bad("unroll = { steps = 5 }\nweight_clip = 0.1", "unroll");
    bad(
        "unroll = { steps = 5 }\ninfogan = { categories = 3 }",
        "unroll",
    );
    bad("feature_matching = { layer = 5 }", "feature_matching.layer");
    bad("feature_matching = { layer = 0 }", "feature_matching.layer");
    bad(
        "feature_matching = {}\nunroll = { steps = 1 }",
        "feature_matching",
    );
    bad("vae = { decoder_std = 0.1 }", "vae");
    bad("model = \"vae\"", "latent.kind");
    let vae = "model = \"vae\"\nlatent = { kind = \"gaussian\", dim = 2 }\n";
    bad(&format!("{vae}loss = \"wasserstein\""), "loss");
    bad(&format!("{vae}label_smoothing = 0.1"), "label_smoothing");
    bad(&format!("{vae}unroll = {{ steps = 2 }}"), "unroll");
    bad(
        &format!("{vae}vae = {{ decoder_std = 0.0 }}"),
        "vae.decoder_std",
    );
    bad(&format!("{vae}vae = {{ samples = \"blurry\" }}"), "blurry");
    bad("model = \"autoencoder\"", "autoencoder");
}

fn small(cfg: TrainConfig) -> TrainConfig {
    TrainConfig {
        steps: 40,
        log_every: 10,
        eval_samples: 200,
        snapshot_samples: 50,
        generator: NetConfig {
            hidden: vec![16, 16],
            ..cfg.generator.clone()
        },
        discriminator: NetConfig {
            hidden: vec![16, 16],
            ..cfg.discriminator.clone()
        },
        ..cfg
    }
}

#[test]
fn zero_unroll_steps_train_the_plain_gan_bit_for_bit() {
    let plain = small(TrainConfig::default());
    let a = train(&plain, None, false).unwrap();
    for backprop in [true, false] {
        let zero = TrainConfig {
            unroll: Some(crate::gan::UnrollConfig {
                steps: 0,
                backprop,
                lr: None,
            }),
            ..plain.clone()
        };
        let b = train(&zero, None, false).unwrap();
        assert_eq!(
            a.final_parameters, b.final_parameters,
            "backprop {backprop}"
        );
        // Bit for bit: the reverse-KL column is NaN while no sample is high quality.
        let bits = |rows: &[Vec<f64>]| -> Vec<Vec<u64>> {
            rows.iter()
                .map(|r| r.iter().map(|v| v.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&a.rows), bits(&b.rows));
    }
}

#[test]
fn every_objective_trains_to_finite_values_and_records_which_it_was() {
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in [
        "unroll = { steps = 3, lr = 0.01 }",
        "unroll = { steps = 3, backprop = false, lr = 0.01 }",
        "feature_matching = { layer = 1 }",
        "loss = \"minimax\"\nunroll = { steps = 2, lr = 0.01 }\nlabel_smoothing = 0.1",
    ]
    .iter()
    .enumerate()
    {
        let cfg = small(TrainConfig::from_toml(text, Path::new("t.toml")).unwrap());
        let out = dir.path().join(format!("run{i}"));
        let r = train(&cfg, Some(&out), false).unwrap();
        assert_eq!(r.status, RunStatus::Completed, "{text}");
        assert!(
            r.rows.iter().flatten().take(9).all(|v| v.is_finite()),
            "{text}"
        );
        let conf = std::fs::read_to_string(out.join("config.json")).unwrap();
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let label = if text.contains("backprop = false") {
            "no backprop through the look-ahead"
        } else if text.contains("unroll") {
            "gradient through the look-ahead"
        } else {
            "feature matching on D's hidden layer 1"
        };
        assert!(conf.contains(label) && summary.contains(label), "{text}");
    }
}

#[test]
fn a_vae_run_writes_the_trainer_files_with_its_own_loss_columns() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small(TrainConfig {
        model: Model::Vae,
        latent: Latent {
            kind: LatentKind::Gaussian,
            dim: 2,
        },
        ..TrainConfig::default()
    });
    let rec = Recording {
        out_dir: Some(dir.path()),
        surfaces: true,
        ..Recording::default()
    };
    let r = super::super::train(&cfg.clone().validated().unwrap(), &rec).unwrap();
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(
        &r.header[..6],
        &[
            "step",
            "elbo",
            "recon_loglik",
            "kl",
            "grad_norm",
            "modes_covered"
        ]
    );
    assert!(!r.header.iter().any(|h| h.starts_with("d_at_mode")));
    for row in &r.rows {
        // elbo = recon_loglik − kl, and KL ≥ 0.
        assert!((row[1] - (row[2] - row[3])).abs() < 1e-9 * row[1].abs().max(1.0));
        assert!(row[3] >= 0.0);
    }
    for f in [
        "train_log.csv",
        "config.json",
        "summary.json",
        "samples_final.csv",
        "sample_density_final.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    // The same seed gives the same bytes; `redqueen report` draws the folder.
    let again = tempfile::tempdir().unwrap();
    super::super::train(
        &cfg.validated().unwrap(),
        &Recording {
            out_dir: Some(again.path()),
            surfaces: true,
            ..Recording::default()
        },
    )
    .unwrap();
    for f in ["train_log.csv", "samples_final.csv", "summary.json"] {
        assert_eq!(
            std::fs::read(dir.path().join(f)).unwrap(),
            std::fs::read(again.path().join(f)).unwrap(),
            "{f}"
        );
    }
    let figs = crate::report::train::render(dir.path()).unwrap();
    assert!(figs.iter().any(|f| f.ends_with("elbo.png")), "{figs:?}");
    assert!(
        figs.iter().any(|f| f.ends_with("samples_final.png")),
        "{figs:?}"
    );
}

/// "Between" the two points (−1, 0) and (1, 0): inside the box |x₀| ≤ 0.5, |x₁| ≤ 0.5,
/// the middle half of the segment joining them and as far off it, at least 0.5 from
/// both points (five times the 0.1 radius within which a sample counts as on a point).
const BETWEEN_HALF_WIDTH: f64 = 0.5;
/// The VAE puts at least this share of its samples between the points: 2 %, forty
/// binomial standard errors (√(0.02·0.98/4000) ≈ 0.0022) above zero at 4000 samples,
/// so "measurable" is not a matter of sampling noise.
const VAE_BETWEEN_AT_LEAST: f64 = 0.02;
/// The VAE puts at least this many times the GAN's share between the points. The
/// bound written before the first measurement was absolute, "the GAN puts at most
/// 0.5 % there"; the measurement refuted it (the GAN's generator is continuous, so some
/// latents map into the gap: 1.47 % on seed 0, 0.65–2.05 % on seeds 0–4, against the
/// VAE's 5.95 % and 5.75–6.85 %), so the claim checked is the relative one, with a
/// factor below the smallest measured (2.8×).
const VAE_OVER_GAN_AT_LEAST: f64 = 2.0;

fn between(samples: &[Vec<f64>]) -> f64 {
    samples
        .iter()
        .filter(|p| p[0].abs() <= BETWEEN_HALF_WIDTH && p[1].abs() <= BETWEEN_HALF_WIDTH)
        .count() as f64
        / samples.len() as f64
}

/// Seed 002's comparison on its two-point set: "VAEs are doing the job, but the result
/// is blurry". The same networks (seed 002's G as the decoder, its D's hidden layers as
/// the encoder), the same 15-D Gaussian latent, Adam 1e-3 (0.5, 0.999), batch 128,
/// 4000 steps, seed 0, 4000 samples; the VAE's samples are its decoder's means
/// (σ_x = 0.1), the GAN's its generator's outputs.
#[test]
fn a_vae_puts_several_times_the_gans_mass_between_the_two_points() {
    let mut cfg = TrainConfig::default();
    seed002_nets(&mut cfg);
    cfg.dataset = Dataset::TwoPoints;
    cfg.steps = 4000;
    cfg.batch_size = 128;
    cfg.optimizer_g = Optimizer::adam(1e-3, 0.5, 0.999);
    cfg.optimizer_d = Optimizer::adam(1e-3, 0.5, 0.999);
    cfg.log_every = 1000;
    cfg.snapshot_samples = 4000;
    let gan = train(&cfg, None, false).unwrap();
    let vae = train(
        &TrainConfig {
            model: Model::Vae,
            ..cfg
        },
        None,
        false,
    )
    .unwrap();
    let (bg, bv) = (between(&gan.final_samples), between(&vae.final_samples));
    println!(
        "between the two points: GAN {bg:.4}, VAE {bv:.4}; on the points (high quality): GAN {:?}, VAE {:?}",
        gan.final_metrics.high_quality, vae.final_metrics.high_quality
    );
    assert!(bv >= VAE_BETWEEN_AT_LEAST, "VAE: {bv}");
    assert!(bv >= VAE_OVER_GAN_AT_LEAST * bg, "VAE {bv}, GAN {bg}");
}
