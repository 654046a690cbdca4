//! End-to-end tests of the `redqueen` binary: the JSON contract, error handling,
//! outputs on disk, shard merging and every study file in quick mode.

use assert_cmd::Command;
use serde_json::Value;

fn rq() -> Command {
    Command::cargo_bin("redqueen").unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let out = rq().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Two ulps at 0.5: an eigenvalue printed by the binary may differ from the closed form
/// in its last bits (rounding of the QR algorithm), not more.
const ULP_TOL: f64 = 2.0 * f64::EPSILON * 0.5;

#[test]
fn spectrum_json_contract() {
    let v = json_of(&["spectrum", "dirac", "--json"]);
    for key in [
        "game",
        "params",
        "point",
        "jacobian",
        "eigenvalues",
        "flow",
        "symmetric_norm",
        "antisymmetric_norm",
        "rotation_index",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["flow"], "center");
    // ±0.5i: the dense solver (faer, like LAPACK's dlanv2) forms √|b|·√|c| and may be
    // one ulp off the exact 0.5
    assert!((v["eigenvalues"][1]["im"].as_f64().unwrap() - 0.5).abs() <= ULP_TOL);
    let v = json_of(&[
        "spectrum",
        "dirac",
        "--set",
        "r1=0.3",
        "--rule",
        "simultaneous",
        "--lr-g",
        "0.2",
        "--lr-d",
        "0.2",
        "--json",
    ]);
    assert_eq!(v["map"]["class"], "convergent");
    assert!((v["map"]["spectral_radius"].as_f64().unwrap() - 0.95f64.sqrt()).abs() < 1e-12);
    let v = json_of(&[
        "spectrum",
        "bilinear",
        "--set",
        "matrix=1,0;0,2",
        "--at",
        "0.5,-1,0.2,0.3",
        "--json",
    ]);
    assert_eq!(v["point"].as_array().unwrap().len(), 4);
    let v = json_of(&["spectrum", "ttur-saddle", "--json"]);
    assert_eq!(v["flow"], "stable_node");
}

#[test]
fn one_mode_equilibrium_reports_one_quarter() {
    let v = json_of(&[
        "equilibrium",
        "one-mode",
        "--set",
        "modes=3",
        "--set",
        "on=1",
        "--json",
    ]);
    let d: Vec<f64> = v["discriminator"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (got, want) in d.iter().zip([0.25, 1.0, 1.0]) {
        assert!((got - want).abs() < 1e-6, "{d:?}");
    }
    assert_eq!(v["collapsed"]["stable"], false);
    let v = json_of(&[
        "equilibrium",
        "lotka-volterra",
        "--set",
        "alpha=2",
        "--set",
        "beta=1",
        "--json",
    ]);
    let p: Vec<f64> = v["point"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!((p[0] - 1.0).abs() < 1e-9 && (p[1] - 2.0).abs() < 1e-9);
}

#[test]
fn bad_input_is_one_line_and_exit_two() {
    let sweep = |g: &'static str, d: &'static str| -> Vec<&'static str> {
        vec![
            "sweep",
            "dirac",
            "--rule",
            "simultaneous",
            "--lr-g",
            g,
            "--lr-d",
            d,
            "--steps",
            "10",
        ]
    };
    let cases: [&[&str]; 8] = [
        &["spectrum", "nogame"],
        &["spectrum", "dirac", "--set", "r9=1"],
        &["spectrum", "dirac", "--set", "r1=abc"],
        &["spectrum", "dirac", "--set", "noise=inf"],
        &["spectrum", "dirac", "--at", "1,2,3"],
        &[
            "spectrum",
            "dirac",
            "--rule",
            "simultaneous",
            "--lr",
            "-0.1",
        ],
        &[
            "simulate",
            "dirac",
            "--rule",
            "alternating",
            "--lr",
            "0.1",
            "--k-d",
            "0",
        ],
        &[
            "sweep",
            "dirac",
            "--rule",
            "simultaneous",
            "--lr-g",
            "1:0.1:3",
            "--lr-d",
            "1e-3:1:3",
        ],
    ];
    let grids = [
        // A grid of zero or negative size.
        sweep("1e-3:1:0", "1e-3:1:3"),
        sweep("1e-3:1:3", "1e-3:1:-5"),
        // More cells than memory allows: refused with the estimate, before allocating.
        sweep("1e-3:1:1000000", "1e-3:1:1000000"),
        // A rule option that does not apply to the rule.
        [sweep("1e-3:1:3", "1e-3:1:3"), vec!["--k-d", "5"]].concat(),
    ];
    let expect = ["at least 1", "MIN:MAX:N", "memory", "k-d"];
    for (args, what) in grids.iter().zip(expect) {
        let out = rq().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
    }
    for args in cases {
        let out = rq().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
    }
}

#[test]
fn simulate_writes_tidy_csv_with_conserved_quantity() {
    let dir = tempfile::tempdir().unwrap();
    rq().args([
        "simulate", "dirac", "--rule", "flow", "--lr", "0.05", "--steps", "200", "--out",
    ])
    .arg(dir.path())
    .assert()
    .success();
    // Files are named by the game, the rule and the fingerprint of the whole
    // configuration, so runs that differ in any option never overwrite each other.
    let stem = only_stem(dir.path(), "dirac_flow_");
    let text = std::fs::read_to_string(dir.path().join(format!("{stem}.csv"))).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "step,theta,psi,distance,radius_sq");
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 201);
    // RK4's global error is O(h⁴): the library test sees a drift below 1e-10 at h = 0.01
    // over 20 time units, so h = 0.05 over 10 time units allows about 5⁴/2 · 1e-10 ≈ 3e-8.
    assert!(
        rows.iter().all(|r| (r[4] - 2.0).abs() < 1e-7),
        "RK4 conserves θ² + ψ²"
    );
    assert!(dir.path().join(format!("{stem}.png")).exists());
    assert!(dir.path().join(format!("{stem}.json")).exists());
}

/// The one file stem in `dir` that starts with `prefix` (panics on none or several).
fn only_stem(dir: &std::path::Path, prefix: &str) -> String {
    let mut stems: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_suffix(".csv")
                .filter(|s| s.starts_with(prefix))
                .map(String::from)
        })
        .collect();
    assert_eq!(stems.len(), 1, "{stems:?}");
    stems.pop().unwrap()
}

#[test]
fn simulate_runs_that_differ_in_any_option_write_different_files() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [
        vec![],
        vec!["--k-d", "2"],
        vec!["--order", "d-first"],
        vec!["--set", "r1=0.1"],
        vec!["--lr-g", "1e-300"],
    ] {
        let mut args = vec![
            "simulate",
            "dirac",
            "--rule",
            "alternating",
            "--lr",
            "0.1",
            "--steps",
            "50",
        ];
        args.extend(extra);
        rq().args(&args)
            .arg("--out")
            .arg(dir.path())
            .assert()
            .success();
    }
    let csvs = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "csv")
        })
        .count();
    assert_eq!(csvs, 5, "every configuration has its own files");
}

#[test]
fn sweep_shards_merge_to_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "sweep",
        "dirac",
        "--set",
        "r1=0.3",
        "--rule",
        "simultaneous",
        "--lr-g",
        "1e-2:2:5",
        "--lr-d",
        "1e-2:2:4",
        "--steps",
        "300",
    ];
    rq().args(base)
        .arg("--out")
        .arg(dir.path())
        .args(["--threads", "2"])
        .assert()
        .success();
    for i in 0..3 {
        rq().args(base)
            .arg("--out")
            .arg(dir.path())
            .args(["--shard", &format!("{i}/3"), "--threads", "1"])
            .assert()
            .success();
    }
    let merged = dir.path().join("merged.csv");
    rq().arg("merge")
        .args(
            (0..3)
                .rev()
                .map(|i| dir.path().join(format!("sweep.shard-{i}-of-3.csv"))),
        )
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&merged).unwrap(),
        std::fs::read(dir.path().join("sweep.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(dir.path().join("merged.json")).unwrap(),
        std::fs::read(dir.path().join("sweep.json")).unwrap(),
        "the merged description is the unsharded run's"
    );
    // Everything below is refused with exit 2 and a line naming the bad shard.
    let shard = |i: usize| dir.path().join(format!("sweep.shard-{i}-of-3.csv"));
    let merge_fails = |files: Vec<std::path::PathBuf>, expect: &str| {
        let out = rq()
            .arg("merge")
            .args(&files)
            .arg("--out")
            .arg(dir.path().join("bad.csv"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{expect}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{expect}: {err}");
        assert!(!dir.path().join("bad.csv").exists());
    };
    // A missing shard.
    merge_fails(vec![shard(0)], "exactly once");
    // A shard of a sweep with other --steps.
    let other = tempfile::tempdir().unwrap();
    let mut args = base.to_vec();
    let last = args.len() - 1;
    args[last] = "301";
    rq().args(&args)
        .arg("--out")
        .arg(other.path())
        .args(["--shard", "1/3"])
        .assert()
        .success();
    merge_fails(
        vec![
            shard(0),
            other.path().join("sweep.shard-1-of-3.csv"),
            shard(2),
        ],
        "other parameters",
    );
    // A shard cut in the middle of a row.
    let cut = other.path().join("sweep.shard-2-of-3.csv");
    let bytes = std::fs::read(shard(2)).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    std::fs::copy(shard(2).with_extension("json"), cut.with_extension("json")).unwrap();
    merge_fails(vec![shard(0), shard(1), cut.clone()], "middle of a row");
    // A shard missing whole rows.
    let text = String::from_utf8(bytes).unwrap();
    let short: Vec<&str> = text.lines().take(text.lines().count() - 1).collect();
    std::fs::write(&cut, short.join("\n") + "\n").unwrap();
    merge_fails(vec![shard(0), shard(1), cut.clone()], "rows");
    // Garbage with a shard's name and no description.
    let junk = other.path().join("junk.shard-1-of-3.csv");
    std::fs::write(&junk, "not,a\nsweep\n").unwrap();
    merge_fails(vec![shard(0), junk, shard(2)], "description is missing");
}

#[test]
fn every_study_runs_quick() {
    let root = tempfile::tempdir().unwrap();
    let studies = std::fs::read_dir("studies").unwrap();
    let mut n = 0;
    for entry in studies {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        n += 1;
        rq().arg("study")
            .arg(&path)
            .arg("--quick")
            .arg("--root")
            .arg(root.path())
            .assert()
            .success();
        let name = toml::from_str::<toml::Value>(&std::fs::read_to_string(&path).unwrap()).unwrap()
            ["name"]
            .as_str()
            .unwrap()
            .to_string();
        let name = format!("{name}-quick");
        let data = root.path().join("data").join(&name);
        for f in ["report.md", "config.json", "study.toml"] {
            assert!(data.join(f).exists(), "{name}: {f}");
        }
        assert!(
            std::fs::read_dir(root.path().join("figures").join(&name))
                .unwrap()
                .count()
                > 0
        );
    }
    assert!(n >= 3);
}

#[test]
fn malformed_study_names_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown.toml",
            "name = \"x\"\ntitle = \"t\"\nbogus = 1\n",
            "bogus",
        ),
        (
            "badgame.toml",
            "name = \"x\"\ntitle = \"t\"\n[[maps]]\nname = \"m\"\ngame = { game = \"dirac\", set = { r1 = -1 } }\nrule = { rule = \"simultaneous\" }\nlr_g = { min = 0.1, max = 1, n = 2 }\nlr_d = { min = 0.1, max = 1, n = 2 }\nsteps = 10\n",
            "r1",
        ),
        (
            "badlr.toml",
            "name = \"x\"\ntitle = \"t\"\n[[portraits]]\nname = \"p\"\ngames = [{ game = \"dirac\" }]\nrules = [{ rule = \"simultaneous\" }]\nlrs = [[-0.1, 0.1]]\nsteps = 10\n",
            "lr_g",
        ),
    ];
    for (file, text, key) in cases {
        let p = dir.path().join(file);
        std::fs::write(&p, text).unwrap();
        let out = rq()
            .arg("study")
            .arg(&p)
            .arg("--root")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(file) && err.contains(key), "{err}");
    }
    let out = rq().args(["study", "no/such/file.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.toml"));
}

#[test]
fn bench_json_contracts() {
    let v = json_of(&[
        "bench",
        "sweep",
        "--grid",
        "8",
        "--steps",
        "50",
        "--threads",
        "1",
        "--rule-grid",
        "3",
        "--rule-steps",
        "20",
        "--json",
    ]);
    for key in [
        "name",
        "grid",
        "steps",
        "threads",
        "seconds",
        "cell_steps_per_s",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["grid"], 8);
    let rules: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["alternating", "extragradient", "adam"]);
    let v = json_of(&["bench", "neural", "--steps", "3", "--json"]);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    for n in [
        "seed002-batch500",
        "seed002-wgangp-batch500",
        "ganvis-batch50",
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    assert!(v[0]["steps_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn metrics_scores_two_sample_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    // Eight points on the unit circle at the ring8 modes, twice over.
    let pts: String = (0..16)
        .map(|i| {
            let t = std::f64::consts::TAU * (i % 8) as f64 / 8.0;
            format!("{},{}\n", t.cos(), t.sin())
        })
        .collect();
    std::fs::write(&a, format!("x0,x1\n{pts}")).unwrap();
    let v: Value = serde_json::from_slice(
        &rq()
            .args(["metrics", "--samples"])
            .arg(&a)
            .arg("--target")
            .arg(&a)
            .args(["--modes", "ring8", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    // Identical sets: precision = recall = 1, distances 0; every sample sits on a mode.
    assert_eq!(v["precision"], 1.0);
    assert_eq!(v["recall"], 1.0);
    assert_eq!(v["sliced_w1"], 0.0);
    assert_eq!(v["modes"]["modes_captured"], 8);
    assert_eq!(v["modes"]["high_quality"], 1.0);
    assert!(v["modes"]["reverse_kl"].as_f64().unwrap().abs() < 1e-12);
}

/// A huge learning rate has an exact, finite answer for simultaneous GD on the
/// Dirac-GAN (the map I + ηJ has eigenvalues 1 ± iη/2): it is printed in scientific
/// notation, not as hundreds of digits.
#[test]
fn huge_learning_rate_prints_exact_map_eigenvalues() {
    let out = rq()
        .args([
            "spectrum",
            "dirac",
            "--rule",
            "simultaneous",
            "--lr",
            "1e308",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1.000000 + 5.000000e307i"), "{text}");
    assert!(text.lines().all(|l| l.len() < 200), "{text}");
}
