//! Checkpoints, `spectrum --run` and `path-angle` on tiny trained networks: the
//! checkpoint format against an independent reading of it, the Krylov solver against
//! the dense one on a neural Jacobian, and bad input (exit 2, one line, nothing
//! written).

use std::path::Path;

use assert_cmd::Command;

use redqueen::analysis::point_spectra::jacobian_from_products;
use redqueen::game::Game;
use redqueen::gan::checkpoint::{load_run, step_path};
use redqueen::gan::spectra::eval_game;
use redqueen::gan::{Recording, TrainConfig, build_game, train};
use redqueen::linalg::{FnOperator, KrylovOptions, Vector, Which, eigenvalues, top_k};

fn rq() -> Command {
    Command::cargo_bin("redqueen").unwrap()
}

/// A tiny 1-D GAN in f64 (tanh, so the field is smooth), 20 steps, checkpoints every 10.
const TINY: &str = r#"
seed = 3
steps = 20
batch_size = 16
precision = "f64"
eval_samples = 50
snapshot_samples = 20
log_every = 10
checkpoint_every = 10
latent = { kind = "gaussian", dim = 2 }
dataset = { kind = "gaussian_mixture1d", means = [-2.0, 2.0], stds = [0.5, 0.5], weights = [0.5, 0.5] }
generator = { hidden = [5], activation = { kind = "tanh" } }
discriminator = { hidden = [6], activation = { kind = "tanh" } }
optimizer_g = { kind = "adam", lr = 1e-2, beta1 = 0.5 }
optimizer_d = { kind = "adam", lr = 1e-2, beta1 = 0.5 }
"#;

fn tiny_run(dir: &Path) -> redqueen::gan::TrainReport {
    let cfg = TrainConfig::from_toml(TINY, Path::new("tiny.toml"))
        .unwrap()
        .validated()
        .unwrap();
    train(
        &cfg,
        &Recording {
            out_dir: Some(dir),
            ..Recording::default()
        },
    )
    .unwrap()
}

/// Reads a 1-D `<f8` .npy without redqueen's reader: the header length at bytes 8–9,
/// then little-endian f64.
fn independent_npy(path: &Path) -> Vec<f64> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..6], b"\x93NUMPY");
    let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
    b[10 + hl..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn checkpoints_rebuild_the_field_and_the_generator_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let rep = tiny_run(dir.path());
    let run = load_run(dir.path()).unwrap();
    assert_eq!(run.steps, vec![0, 10, 20]);
    let x = independent_npy(&step_path(dir.path(), 20));
    assert_eq!(
        x, rep.final_parameters,
        "last checkpoint = final parameters"
    );
    let (game, x0) = build_game(&run.config).unwrap();
    assert_eq!(independent_npy(&step_path(dir.path(), 0)), x0.as_slice());
    let xv = Vector::from_vec(x.clone());
    let direct = game.field(&Vector::from_vec(rep.final_parameters.clone()));
    assert_eq!(game.field(&xv), direct);
    // The generator from layout.json alone: y = W·a + b with W [out, in] row-major.
    let layout: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("checkpoints/layout.json")).unwrap())
            .unwrap();
    let z = [0.3, -1.1];
    let mut a: Vec<f64> = z.to_vec();
    let layers = layout["networks"][0]["layers"].as_array().unwrap();
    for (l, layer) in layers.iter().enumerate() {
        let blocks = layer["blocks"].as_array().unwrap();
        let w = &blocks[0];
        let (out, inp) = (
            w["shape"][0].as_u64().unwrap() as usize,
            w["shape"][1].as_u64().unwrap() as usize,
        );
        let (wo, bo) = (
            w["offset"].as_u64().unwrap() as usize,
            blocks[1]["offset"].as_u64().unwrap() as usize,
        );
        a = (0..out)
            .map(|r| {
                let s = (0..inp).map(|c| x[wo + r * inp + c] * a[c]).sum::<f64>() + x[bo + r];
                if l + 1 < layers.len() { s.tanh() } else { s }
            })
            .collect();
    }
    let zm = nalgebra::DMatrix::from_row_slice(1, 2, &z);
    let theta = &x[..game.n_generator()];
    let mine = game.sample_generator(theta, &zm)[(0, 0)];
    // The same sums in another association order: a few ulps.
    const FORWARD_TOL: f64 = 1e-14;
    assert!(
        (mine - a[0]).abs() <= FORWARD_TOL * mine.abs().max(1.0),
        "{mine} vs {}",
        a[0]
    );
}

#[test]
fn krylov_top_k_equals_the_dense_eigenvalues_of_a_neural_jacobian() {
    // Top-k from exact products against faer on the dense Jacobian (built from the
    // same products): both exact to rounding, so 1e-8 relative to ρ(J).
    const TOPK_REL: f64 = 1e-8;
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path());
    let run = load_run(dir.path()).unwrap();
    let x = run.load(20).unwrap().x;
    let gan = eval_game(&run.config, 64, 1).unwrap();
    let j = jacobian_from_products(&gan, &x);
    let dense = eigenvalues(&j).unwrap();
    let rho = dense.iter().map(|z| z.norm()).fold(0.0, f64::max);
    let op = FnOperator::new(gan.dim(), |u: &[f64], y: &mut [f64]| {
        y.copy_from_slice(gan.jvp(&x, &Vector::from_column_slice(u)).as_slice());
        Ok(())
    });
    for which in [
        Which::LargestMagnitude,
        Which::LargestReal,
        Which::LargestImaginary,
    ] {
        let pe = top_k(&op, which, &KrylovOptions::new(6)).unwrap();
        assert!(pe.all_converged(), "{which:?}");
        let mut sorted = dense.clone();
        sorted.sort_by(|a, b| which.key(*b).partial_cmp(&which.key(*a)).unwrap());
        for (r, want) in pe.values.iter().zip(&sorted) {
            let near = dense
                .iter()
                .map(|z| (z - r.value).norm())
                .fold(f64::INFINITY, f64::min);
            assert!(
                near <= TOPK_REL * rho,
                "{which:?}: {} not in the spectrum",
                r.value
            );
            assert!(
                (which.key(r.value).0 - which.key(*want).0).abs() <= TOPK_REL * rho,
                "{which:?}: {} is not the wanted {want}",
                r.value
            );
        }
    }
}

fn fails_with(args: &[&str], needle: &str) {
    let out = rq().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{needle} not in {err}");
}

#[test]
fn spectrum_and_path_angle_on_a_run_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path());
    let run = dir.path().to_str().unwrap();
    let out = dir.path().join("sp");
    let o = out.to_str().unwrap();
    let ok = rq()
        .args([
            "--quiet", "spectrum", "--run", run, "--dense", "--batch", "32", "--out", o,
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4, "{summary}");
    assert!(summary.contains("exact"));
    for f in [
        "eigenvalues.csv",
        "batch_real.npy",
        "batch_latent.npy",
        "eigenvalues_game.gif",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let pa = dir.path().join("pa");
    let ok = rq()
        .args([
            "--quiet",
            "path-angle",
            "--run",
            run,
            "--from-step",
            "10",
            "--to-step",
            "20",
        ])
        .args([
            "--points",
            "5",
            "--batch",
            "32",
            "--out",
            pa.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(pa.join("path_angle.csv"))
            .unwrap()
            .lines()
            .count(),
        6
    );

    // Bad input: one line, exit 2, no output folder.
    let bad = dir.path().join("never");
    let b = bad.to_str().unwrap();
    fails_with(
        &["spectrum", "--run", run, "--k", "100000", "--out", b],
        "--k",
    );
    fails_with(
        &["spectrum", "--run", run, "--which", "xx", "--out", b],
        "which",
    );
    fails_with(
        &[
            "spectrum",
            "--run",
            run,
            "--dense",
            "--dense-max",
            "10",
            "--out",
            b,
        ],
        "--dense",
    );
    fails_with(
        &["spectrum", "--run", run, "--step", "7", "--out", b],
        "--step",
    );
    assert!(!bad.exists());
    // A truncated checkpoint names its file.
    let p = step_path(dir.path(), 10);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 8]).unwrap();
    fails_with(&["spectrum", "--run", run, "--out", b], "step-000010.npy");
    std::fs::remove_file(&p).unwrap();
    fails_with(
        &["spectrum", "--run", run, "--step", "10", "--out", b],
        "--step",
    );
    // A layout that does not match the configuration.
    let lp = dir.path().join("checkpoints/layout.json");
    let text = std::fs::read_to_string(&lp).unwrap();
    std::fs::write(&lp, text.replacen("\"fan_out\": 5", "\"fan_out\": 7", 1)).unwrap();
    fails_with(&["spectrum", "--run", run, "--out", b], "layout.json");
    std::fs::remove_file(dir.path().join("config.json")).unwrap();
    fails_with(&["spectrum", "--run", run, "--out", b], "config.json");
    assert!(!bad.exists());
}
