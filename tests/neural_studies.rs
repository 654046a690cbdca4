//! The neural studies' plumbing through the real binary: sharded runs merge into
//! byte-identical outputs, results do not depend on the thread count, and a merge with
//! missing or stale runs fails with a clear message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn rq() -> Command {
    Command::cargo_bin("redqueen").unwrap()
}

/// A tiny study: a 1-D mixture block (2 settings × 3 seeds) and a ring block with
/// D-surface frames (1 setting × 2 seeds), a few dozen steps each.
const TINY: &str = r#"
name = "tiny"
title = "tiny neural study"
seed = 7

[[neural]]
name = "mix"
analysis = "mixture1d"
seeds = 3
steps = 60
log_every = 5
base = { batch_size = 32, eval_samples = 200, dataset = { kind = "gaussian_mixture1d", means = [-2.0, 2.0], stds = [0.5, 0.5], weights = [0.5, 0.5] }, latent = { kind = "gaussian", dim = 1 }, generator = { hidden = [8] }, discriminator = { hidden = [8] } }
[[neural.settings]]
label = "a"
set = { optimizer_g = { kind = "adam", lr = 1e-3 } }
[[neural.settings]]
label = "b"
set = { optimizer_g = { kind = "adam", lr = 1e-2 } }
[[neural.claims]]
kind = "ordering"
text = "a beats b"
order = ["a", "b"]

[[neural]]
name = "ring"
analysis = "ring"
seeds = 2
steps = 40
log_every = 10
frames = 3
base = { batch_size = 16, eval_samples = 100, generator = { hidden = [8] }, discriminator = { hidden = [8] } }
[[neural.settings]]
label = "standard"
expect_modes = [1]
"#;

fn write_study(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("tiny.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(study: &Path, root: &Path, extra: &[&str]) -> std::process::Output {
    rq().arg("study")
        .arg(study)
        .arg("--root")
        .arg(root)
        .args(extra)
        .output()
        .unwrap()
}

/// Every CSV under `dir`, keyed by its relative path.
fn csvs(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()) == Some("csv") {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn shards_and_merge_equal_an_unsharded_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), TINY);
    let (full, sharded) = (tmp.path().join("full"), tmp.path().join("sharded"));
    let o = run(&study, &full, &["--threads", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for i in 0..2 {
        let o = run(
            &study,
            &sharded,
            &["--shard", &format!("{i}/2"), "--threads", "1"],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Before the merge, no shard has written an aggregate.
    assert!(!sharded.join("data/tiny/mix/summary.csv").exists());
    let o = run(&study, &sharded, &["--merge"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (
        csvs(&full.join("data/tiny")),
        csvs(&sharded.join("data/tiny")),
    );
    for key in [
        "mix/summary.csv",
        "mix/stats.csv",
        "ring/summary.csv",
        "ring/stats.csv",
    ] {
        assert!(a.contains_key(Path::new(key)), "missing {key}");
    }
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{} differs between sharded and unsharded runs",
            k.display()
        );
    }
    intervals_stay_inside_the_metrics_ranges(&full.join("data/tiny"));
    // The frames of the ring block exist and the report links them.
    let report = std::fs::read_to_string(sharded.join("data/tiny/report.md")).unwrap();
    assert!(report.contains("standard_surface.gif"), "{report}");
    assert!(
        sharded
            .join("figures/tiny/ring/standard_surface.gif")
            .exists()
    );
}

/// The range each metric of the tiny study's `stats.csv` files can take.
fn range_of(block: &str, metric: &str) -> (f64, f64) {
    match (block, metric) {
        (_, "covers_both" | "high_quality") => (0.0, 1.0),
        // Two mixture modes; three ring modes.
        ("mix", "modes_covered") => (0.0, 2.0),
        (_, "modes_covered") => (0.0, 3.0),
        _ => (0.0, f64::INFINITY),
    }
}

/// Every metric of the tiny study is non-negative (W1, counts, amplitudes, periods,
/// fractions): its 95 % interval must stay in its range, cut where the t-interval of
/// three seeds (t = 4.303) leaves it, and the report must show the cut ones as
/// `mean [lo, hi]`.
fn intervals_stay_inside_the_metrics_ranges(data: &Path) {
    let mut cut = 0;
    for block in ["mix", "ring"] {
        let text = std::fs::read_to_string(data.join(block).join("stats.csv")).unwrap();
        for line in text.lines().skip(1) {
            // setting, metric, n, mean, ci95_half, ci95_lo, ci95_hi (no quoted commas
            // in the tiny study's labels).
            let f: Vec<&str> = line.split(',').collect();
            let v = |i: usize| f[i].parse::<f64>().unwrap();
            let (lo, hi) = range_of(block, f[1]);
            let (mean, half, ci_lo, ci_hi) = (v(3), v(4), v(5), v(6));
            if !half.is_finite() {
                continue;
            }
            assert!(ci_lo >= lo && ci_hi <= hi, "{block}: {line}");
            if mean - half < lo || mean + half > hi {
                cut += 1;
                assert!(ci_lo == lo || ci_hi == hi, "{block}: {line}");
            } else {
                assert!(
                    ci_lo == mean - half && ci_hi == mean + half,
                    "{block}: {line}"
                );
            }
        }
    }
    assert!(
        cut > 0,
        "no interval needed a cut: the check proves nothing"
    );
    let report = std::fs::read_to_string(data.join("report.md")).unwrap();
    assert!(report.contains("is cut at the boundary and shown as mean [lower, upper]"));
    assert!(report.contains(" [0.000, "), "no cut W1 interval shown");
}

#[test]
fn merge_refuses_missing_and_stale_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), TINY);
    let root = tmp.path().join("out");
    let o = run(&study, &root, &["--shard", "0/3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&study, &root, &["--merge"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("runs are missing") && err.contains("--shard"),
        "{err}"
    );
    // Finish the other shards, then change the configuration: the runs are stale.
    for i in 1..3 {
        let o = run(&study, &root, &["--shard", &format!("{i}/3")]);
        assert!(o.status.success());
    }
    let o = run(&study, &root, &["--merge"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    write_study(tmp.path(), &TINY.replace("steps = 60", "steps = 61"));
    let o = run(&study, &root, &["--merge"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another configuration"), "{err}");
}

#[test]
fn bad_neural_blocks_are_rejected_with_their_key() {
    let tmp = tempfile::tempdir().unwrap();
    for (bad, key) in [
        (
            TINY.replace("order = [\"a\", \"b\"]", "order = [\"a\", \"zz\"]"),
            "zz",
        ),
        (TINY.replace("seeds = 3", "seeds = 0"), "seeds"),
        (
            TINY.replace(
                "latent = { kind = \"gaussian\", dim = 1 }",
                "latent = { kind = \"gaussian\", dim = 0 }",
            ),
            "latent.dim",
        ),
        (
            TINY.replace("analysis = \"ring\"", "analysis = \"mixture1d\""),
            "1-D data",
        ),
    ] {
        let study = write_study(tmp.path(), &bad);
        let o = run(&study, &tmp.path().join("o"), &[]);
        assert!(!o.status.success(), "accepted a bad block ({key})");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(key) && err.contains("neural["), "{key}: {err}");
    }
    let study = write_study(tmp.path(), TINY);
    let o = rq()
        .args(["study", study.to_str().unwrap(), "--shard", "2/2"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard"));
}

/// `study --slurm` writes array.sh, merge.sh and submit.sh and prints the submit
/// command; running the array's tasks and then the merge by hand, as SLURM would (from
/// another directory, with SLURM's variables set), reproduces an unsharded run's CSVs.
/// (scripts/slurm-e2e.sh does the same on a real SLURM.)
#[cfg(unix)]
#[test]
fn slurm_scripts_run_by_hand_equal_an_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), TINY);
    let (full, cluster) = (tmp.path().join("full"), tmp.path().join("cluster"));
    let o = run(&study, &full, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(
        &study,
        &cluster,
        &["--slurm", "--shards", "3", "--cpus-per-task", "2"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let dir = cluster.join("data/tiny/slurm");
    assert!(
        out.contains("submit with:") && out.contains(&dir.join("submit.sh").display().to_string()),
        "{out}"
    );
    let array = std::fs::read_to_string(dir.join("array.sh")).unwrap();
    assert!(array.contains("#SBATCH --array=0-2\n"), "{array}");
    assert!(array.contains("#SBATCH --cpus-per-task=2\n"), "{array}");
    assert!(
        !cluster.join("data/tiny/mix/summary.csv").exists(),
        "nothing ran yet"
    );
    for i in 0..3 {
        let o = std::process::Command::new("bash")
            .arg(dir.join("array.sh"))
            .current_dir("/")
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .env("SLURM_CPUS_PER_TASK", "2")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "task {i}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = std::process::Command::new("bash")
        .arg(dir.join("merge.sh"))
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "merge: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (a, b) = (
        csvs(&full.join("data/tiny")),
        csvs(&cluster.join("data/tiny")),
    );
    assert!(a.len() > 4);
    assert_eq!(a, b, "the merged CSVs equal the unsharded ones");
    assert!(
        dir.join("array.sh").exists() && dir.join("merge.sh").exists(),
        "the merge keeps the job scripts (and their logs) in data/<study>/slurm/"
    );

    // More shards than runs (8), or a shard count without --slurm, are refused.
    let o = run(&study, &cluster, &["--slurm", "--shards", "9"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("shards") && err.contains("9 shards for 8 runs"),
        "{err}"
    );
    let o = run(&study, &cluster, &["--shards", "2"]);
    assert_eq!(o.status.code(), Some(2));
}
