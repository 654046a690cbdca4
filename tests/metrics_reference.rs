//! `redqueen metrics` against other people's implementations: the point sets and values in
//! tests/fixtures/metrics/ were written by scripts/metrics_reference.py with `prdc`
//! (clovaai/generative-evaluation-prdc: precision, recall, density, coverage), the
//! pytorch-fid formula (numpy.cov, scipy.linalg.sqrtm: Fréchet distance) and scipy / POT
//! (1-D W₁ and W₂, which the sliced distances equal in one dimension).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use redqueen::metrics::{MetricOptions, score_files};

/// P, R, D, C are ratios of integer counts; both sides divide the same integers, so they
/// agree to the last bit or two.
const RATIO_TOL: f64 = 1e-12;
/// Fréchet: our symmetric eigendecomposition against scipy's Schur-based sqrtm of the
/// non-symmetric Σ₁Σ₂; both are backward stable, relative agreement ~1e-12 for these
/// well-conditioned covariances.
const FRECHET_REL_TOL: f64 = 1e-9;
/// 1-D W₁ and W₂: the same quantile coupling summed in another order.
const W_REL_TOL: f64 = 1e-12;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics")
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(what: &str, ours: f64, theirs: f64, tol: f64) {
    assert!(
        (ours - theirs).abs() <= tol * theirs.abs().max(1.0),
        "{what}: ours {ours}, reference {theirs}"
    );
}

#[test]
fn manifold_frechet_and_one_d_wasserstein_match_the_reference_implementations() {
    let r = reference();
    let cases = r["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 3);
    for (name, c) in cases {
        let samples = fixtures().join(format!("{name}_samples.csv"));
        let target = fixtures().join(format!("{name}_target.csv"));
        for k in [3usize, 5] {
            let opts = MetricOptions {
                k,
                ..MetricOptions::default()
            };
            let m = score_files(&samples, &target, None, &opts).unwrap();
            assert_eq!(m.n_samples as u64, c["n_samples"].as_u64().unwrap());
            assert_eq!(m.n_target as u64, c["n_target"].as_u64().unwrap());
            let p = &c[format!("k{k}")];
            for (key, ours) in [
                ("precision", m.precision),
                ("recall", m.recall),
                ("density", m.density),
                ("coverage", m.coverage),
            ] {
                let theirs = p[key].as_f64().unwrap();
                close(&format!("{name} k={k} {key}"), ours, theirs, RATIO_TOL);
            }
            let f = c["frechet"].as_f64().unwrap();
            close(&format!("{name} Fréchet"), m.frechet, f, FRECHET_REL_TOL);
            if m.dim == 1 {
                let w1 = c["w1"].as_f64().unwrap();
                let w2 = c["w2"].as_f64().unwrap();
                close(
                    &format!("{name} sliced W₁ = W₁"),
                    m.sliced_w1,
                    w1,
                    W_REL_TOL,
                );
                close(
                    &format!("{name} sliced W₂ = W₂"),
                    m.sliced_w2,
                    w2,
                    W_REL_TOL,
                );
            }
        }
    }
}

#[test]
fn the_command_prints_the_same_numbers() {
    let r = reference();
    let c = &r["cases"]["ring2d"];
    let out = Command::cargo_bin("redqueen")
        .unwrap()
        .args(["metrics", "--json", "--samples"])
        .arg(fixtures().join("ring2d_samples.csv"))
        .arg("--target")
        .arg(fixtures().join("ring2d_target.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["precision", "recall", "density", "coverage"] {
        close(
            key,
            v[key].as_f64().unwrap(),
            c["k3"][key].as_f64().unwrap(),
            RATIO_TOL,
        );
    }
    close(
        "frechet",
        v["frechet"].as_f64().unwrap(),
        c["frechet"].as_f64().unwrap(),
        FRECHET_REL_TOL,
    );
}
