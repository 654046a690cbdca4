//! Hardening: every subcommand answers bad input with one line that names the flag or
//! key and exit status 2; the loaders never panic on random TOML; interrupted and killed
//! runs never pass for finished ones; outputs never replace links, FIFOs or devices.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use proptest::prelude::*;

fn rq() -> Command {
    Command::cargo_bin("redqueen").unwrap()
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("redqueen")
}

/// Runs `args` in `dir` and checks: exit status 2, exactly one line on stderr, which
/// names `key`, and no panic or backtrace.
fn refused(dir: &Path, args: &[&str], key: &str) {
    let out = rq().current_dir(dir).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(key), "{args:?}: `{key}` not in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{args:?}: {err}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

#[test]
fn bad_input_to_every_subcommand_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = ["simulate", "dirac", "--rule", "simultaneous", "--lr", "0.1"];
    let sweep = [
        "sweep",
        "dirac",
        "--rule",
        "simultaneous",
        "--lr-g",
        "1e-2:1:3",
        "--lr-d",
        "1e-2:1:3",
    ];
    let points = "x,y\n0,0\n1,0\n0,1\n1,1\n0.5,0.5\n";
    write(d, "p.csv", points);
    write(d, "m3.csv", "a,b,c\n1,2,3\n");
    let metrics_ok = ["metrics", "--samples", "p.csv", "--target", "p.csv"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // spectrum and equilibrium
        (vec!["spectrum", "nogame"], "game"),
        (vec!["spectrum", "dirac", "--set", "r9=1"], "r9"),
        (vec!["spectrum", "dirac", "--set", "r1=abc"], "r1"),
        (vec!["spectrum", "dirac", "--at", "1,2,3"], "--at"),
        (vec!["spectrum", "dirac", "--at", "nan,1"], "--at"),
        (vec!["spectrum", "dirac", "--lr", "-5"], "--rule"),
        (
            vec![
                "spectrum",
                "dirac",
                "--rule",
                "extragradient",
                "--lr",
                "1e308",
            ],
            "learning rates",
        ),
        (
            vec!["spectrum", "one-mode", "--set", "modes=100000"],
            "modes",
        ),
        (
            vec![
                "spectrum", "dirac", "--rule", "adam", "--lr", "0.1", "--beta", "0.5",
            ],
            "--beta",
        ),
        (
            vec!["equilibrium", "dirac", "--from", "1e200,-1e200"],
            "start",
        ),
        (
            vec!["equilibrium", "one-mode", "--set", "weights=1,nan"],
            "weights",
        ),
        // simulate
        ([&sim[..], &["--steps", "0"]].concat(), "--steps"),
        ([&sim[..], &["--steps", "-1"]].concat(), "--steps"),
        (
            [&sim[..], &["--steps", "1000000000000000000"]].concat(),
            "--steps",
        ),
        ([&sim[..], &["--bound", "nan"]].concat(), "--bound"),
        ([&sim[..], &["--bound", "0"]].concat(), "--bound"),
        ([&sim[..], &["--k-d", "2"]].concat(), "--k-d"),
        ([&sim[..], &["--from", "1"]].concat(), "--from"),
        (
            vec![
                "simulate",
                "dirac",
                "--rule",
                "alternating",
                "--lr",
                "0.1",
                "--k-d",
                "-1",
            ],
            "--k-d",
        ),
        (
            vec![
                "simulate",
                "dirac",
                "--rule",
                "alternating",
                "--lr",
                "0.1",
                "--k-d",
                "0",
            ],
            "--k-d",
        ),
        (
            vec![
                "simulate",
                "dirac",
                "--rule",
                "consensus",
                "--lr",
                "0.1",
                "--gamma",
                "-1",
            ],
            "--gamma",
        ),
        (
            vec!["simulate", "dirac", "--rule", "nosuch", "--lr", "0.1"],
            "rule",
        ),
        // sweep and merge
        (
            vec![
                "sweep",
                "dirac",
                "--rule",
                "simultaneous",
                "--lr-g",
                "1:0.1:3",
                "--lr-d",
                "1e-3:1:3",
            ],
            "--lr-g",
        ),
        (
            vec![
                "sweep",
                "dirac",
                "--rule",
                "simultaneous",
                "--lr-g",
                "1e-3:1:0",
                "--lr-d",
                "1e-3:1:3",
            ],
            "--lr-g",
        ),
        ([&sweep[..], &["--shard", "3/2"]].concat(), "shard"),
        ([&sweep[..], &["--shard", "-1/2"]].concat(), "shard"),
        ([&sweep[..], &["--threads", "100000"]].concat(), "threads"),
        ([&sweep[..], &["--steps", "0"]].concat(), "--steps"),
        (
            vec!["merge", "nothing.csv", "--out", "x.csv"],
            "nothing.csv",
        ),
        // study
        (vec!["study", "missing.toml"], "missing.toml"),
        (
            vec!["study", "studies-none.toml", "--shard", "5/2"],
            "shard",
        ),
        (vec!["study", "x.toml", "--threads", "-1"], "--threads"),
        (vec!["study", "x.toml", "--shards", "3"], "--slurm"),
        // train
        (vec!["train", "--config", "missing.toml"], "missing.toml"),
        (
            vec!["train", "--config", "x.toml", "--seed", "-1"],
            "--seed",
        ),
        (
            vec!["train", "--config", "x.toml", "--steps", "-5"],
            "--steps",
        ),
        // metrics
        (
            vec!["metrics", "--samples", "a.csv", "--target", "b.csv"],
            "a.csv",
        ),
        (
            vec![
                "metrics",
                "--samples",
                "a.csv",
                "--target",
                "b.csv",
                "--modes",
                "m.csv",
            ],
            "--std",
        ),
        (
            vec![
                "metrics",
                "--samples",
                "a.csv",
                "--target",
                "b.csv",
                "--modes",
                "nosuch",
            ],
            "--modes",
        ),
        (
            [&metrics_ok[..], &["--projections", "100000000000"]].concat(),
            "projections",
        ),
        (
            [&metrics_ok[..], &["--modes", "m3.csv", "--std", "0.1"]].concat(),
            "m3.csv",
        ),
        (
            [&metrics_ok[..], &["--modes", "m3.csv", "--std", "-1"]].concat(),
            "--std",
        ),
        // bench
        (vec!["bench", "sweep", "--grid", "0"], "grid"),
        (vec!["bench", "sweep", "--threads", "100000"], "threads"),
        (vec!["bench", "neural", "--threads", "0"], "threads"),
        (vec!["bench", "neural", "--threads", "100000"], "threads"),
        (vec!["bench", "spectra", "--threads", "0"], "threads"),
        (vec!["bench", "spectra", "--dense-n", "1"], "dense-n"),
        (vec!["bench", "spectra", "--batch", "1000000"], "batch"),
        (vec!["bench", "spectra", "--which", "XX"], "which"),
        (vec!["bench", "spectra", "--repeats", "0"], "repeats"),
        // refused before the dense part is timed (seconds at the default n = 2000)
        (vec!["bench", "spectra", "--k", "0"], "k = 0"),
        (vec!["bench", "spectra", "--tol", "2"], "tol"),
    ];
    for (args, key) in &cases {
        refused(d, args, key);
    }
    // Study files: the loader names the file and the key.
    let s = |body: &str| format!("name = \"t\"\ntitle = \"t\"\n{body}");
    let portraits = "[[portraits]]\nname = \"p\"\nlrs = [[0.1, 0.1]]\nrules = [{ rule = \"simultaneous\" }]\ngames = [{ game = \"dirac\" }]\n";
    for (i, (body, key)) in [
        (s(&format!("{portraits}steps = 0\n")), "steps"),
        (
            s(&format!("{portraits}steps = 10\nfrom = [nan, 1.0]\n")),
            "from",
        ),
        (s(&format!("{portraits}steps = 1000000000000\n")), "steps"),
        (
            s(&format!("{portraits}steps = 10\nbound = -1.0\n")),
            "bound",
        ),
        (s("bogus = 1\n"), "bogus"),
        (
            STUDY.replace("STEPS", "10").replace(
                "label = \"a\"",
                "label = \"a\"\nset = { penalty = { kind = \"none\", weight = 1.0 } }",
            ),
            "penalty.weight",
        ),
        (
            s(&format!("{portraits}steps = 10\n{portraits}steps = 10\n")),
            "used twice",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let f = write(d, &format!("study{i}.toml"), &body);
        refused(d, &["study", &f], &f);
        refused(d, &["study", &f], key);
    }
    // Training configurations: the file and the key.
    for (i, (body, key)) in [
        (
            "[optimizer_g]\nkind = \"adam\"\nlr = -1e-3\n",
            "optimizer_g.lr",
        ),
        (
            "[generator]\nhidden = [100000, 100000]\n",
            "generator.hidden",
        ),
        ("batch_size = 1000000000\n", "batch_size"),
        ("eval_samples = 2000000\n", "eval_samples"),
        ("histogram_bins = 1000000000000\n", "histogram_bins"),
        (
            "dataset = { kind = \"csv\", path = \"/dev/zero\" }\n",
            "/dev/zero",
        ),
        ("steps = 0\n", "steps"),
        ("unknown_key = 3\n", "unknown_key"),
        ("schedule = { order = \"sideways\" }\n", "sideways"),
        // Keys beside a tag that takes no keys would be dropped silently by serde.
        ("dataset = { kind = \"ring8\", std = 0.5 }\n", "dataset.std"),
        (
            "penalty = { kind = \"none\", weight = 10.0 }\n",
            "penalty.weight",
        ),
        (
            "[generator]\nhidden = [8]\nactivation = { kind = \"relu\", slope = 0.2 }\n",
            "generator.activation.slope",
        ),
        // Mode counts are bounded before the means are allocated.
        (
            "dataset = { kind = \"ring\", modes = 1000000000000 }\n",
            "dataset.modes",
        ),
        (
            "dataset = { kind = \"grid\", side = 4294967296 }\n",
            "dataset.side",
        ),
        (
            "dataset = { kind = \"grid\", side = 5, spacing = 1e308 }\n",
            "dataset.spacing",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let f = write(d, &format!("train{i}.toml"), body);
        refused(d, &["train", "--config", &f, "--out", "out"], &f);
        refused(d, &["train", "--config", &f, "--out", "out"], key);
    }
    // An output folder that holds something else is not ours to clear.
    std::fs::create_dir_all(d.join("foreign")).unwrap();
    std::fs::write(d.join("foreign/notes.txt"), "mine").unwrap();
    let f = write(d, "ok.toml", "steps = 2\n");
    refused(d, &["train", "--config", &f, "--out", "foreign"], "foreign");
    assert_eq!(
        std::fs::read_to_string(d.join("foreign/notes.txt")).unwrap(),
        "mine"
    );
}

/// Runs a sweep split into two shards in `dir`, for the merge tests.
fn two_shards(dir: &Path) -> Vec<PathBuf> {
    for i in 0..2 {
        rq().current_dir(dir)
            .args([
                "sweep",
                "dirac",
                "--rule",
                "simultaneous",
                "--lr-g",
                "1e-2:1:3",
                "--lr-d",
                "1e-2:1:3",
                "--steps",
                "50",
                "--out",
                ".",
            ])
            .args(["--shard", &format!("{i}/2")])
            .assert()
            .success();
    }
    (0..2)
        .map(|i| dir.join(format!("sweep.shard-{i}-of-2.csv")))
        .collect()
}

#[test]
fn outputs_never_replace_links_fifos_or_devices() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shards = two_shards(d);
    let target = d.join("precious.csv");
    std::fs::write(&target, "keep\n").unwrap();
    let link = d.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let fifo = d.join("fifo.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for out in [link.as_path(), fifo.as_path(), Path::new("/dev/full")] {
        let o = rq()
            .arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{out:?}: {err}");
        assert!(err.contains("refusing"), "{err}");
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
    assert!(
        !std::fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_file()
    );
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

/// Starts `redqueen args…` in `dir` with piped output, waits until `ready` exists (the
/// run has started writing), then sends `signal`; returns the child.
fn start_and_signal(dir: &Path, args: &[&str], ready: &Path, signal: &str) -> Child {
    let mut child = std::process::Command::new(bin())
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !ready.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the run never started writing {ready:?}"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended ({status}) before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let ok = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    child
}

const LONG_TRAIN: &str =
    "steps = 10000000\nlog_every = 100\n[generator]\nhidden = [8]\n[discriminator]\nhidden = [8]\n";

#[test]
fn an_interrupted_training_says_so_and_a_killed_one_cannot_pass_for_finished() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = write(d, "long.toml", LONG_TRAIN);
    // SIGINT: status 130, outputs written and marked interrupted.
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = d.join(format!("run{code}"));
        let child = start_and_signal(
            d,
            &["train", "--config", &cfg, "--out", out.to_str().unwrap()],
            &out.join("config.json"),
            signal,
        );
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["status"], "interrupted");
        let steps = summary["steps_completed"].as_u64().unwrap();
        assert!(steps > 0 && steps < 10_000_000);
        assert!(
            summary["stop_reason"]
                .as_str()
                .unwrap()
                .starts_with(&format!("interrupted at step {steps}"))
        );
        let log = std::fs::read_to_string(out.join("train_log.csv")).unwrap();
        let last: u64 = log
            .lines()
            .last()
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(last <= steps);
    }
    // A finished run, then a longer rerun into the same folder killed part-way: the old
    // "completed" summary must be gone.
    let out = d.join("rerun");
    let short = write(
        d,
        "short.toml",
        "steps = 20\nlog_every = 10\n[generator]\nhidden = [8]\n[discriminator]\nhidden = [8]\n",
    );
    rq().current_dir(d)
        .args(["train", "--config", &short, "--out", "rerun"])
        .assert()
        .success();
    assert!(out.join("summary.json").exists());
    std::fs::write(out.join("samples_step9999999.csv"), "stale").unwrap();
    let mut child = start_and_signal(
        d,
        &["train", "--config", &cfg, "--out", "rerun"],
        &out.join("config.json"),
        "-KILL",
    );
    let _ = child.wait();
    assert!(
        !out.join("summary.json").exists(),
        "a killed run left a summary"
    );
    assert!(
        !out.join("samples_step9999999.csv").exists(),
        "stale file kept"
    );
}

const STUDY: &str = r#"
name = "killed"
title = "a study killed part-way"
seed = 3

[[neural]]
name = "mix"
analysis = "mixture1d"
seeds = 2
steps = STEPS
log_every = 50
base = { batch_size = 32, eval_samples = 50, dataset = { kind = "gaussian_mixture1d", means = [-2.0, 2.0], stds = [0.5, 0.5], weights = [0.5, 0.5] }, latent = { kind = "gaussian", dim = 1 }, generator = { hidden = [8] }, discriminator = { hidden = [8] } }
[[neural.settings]]
label = "a"
"#;

#[test]
fn a_study_killed_part_way_is_never_reported_or_merged_as_finished() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = write(d, "s.toml", &STUDY.replace("STEPS", "60"));
    rq().current_dir(d)
        .args(["study", &f, "--threads", "1"])
        .assert()
        .success();
    let data = d.join("data/killed");
    assert!(data.join("report.md").exists());
    // The same study with far more steps, killed once its first run has started.
    let f = write(d, "s.toml", &STUDY.replace("STEPS", "5000000"));
    let run0 = data.join("mix/runs/a/seed000/config.json");
    let _ = std::fs::remove_file(&run0);
    let mut child = start_and_signal(d, &["study", &f, "--threads", "1"], &run0, "-KILL");
    let _ = child.wait();
    assert!(!data.join("report.md").exists(), "the old report survived");
    assert!(
        !data.join("mix/runs/a/seed000/done.json").exists(),
        "a run cut part-way has a done marker"
    );
    let o = rq()
        .current_dir(d)
        .args(["study", &f, "--merge"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot merge"));
    // SIGINT: exit 130, no report, no marker.
    let mut child = start_and_signal(d, &["study", &f, "--threads", "1"], &run0, "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(!data.join("report.md").exists());
    assert!(!data.join("mix/runs/a/seed000/done.json").exists());
}

#[test]
fn a_long_sweep_prints_progress_lines_and_sigint_writes_no_csv() {
    use std::io::BufRead;
    // Seconds between progress lines off a terminal (`progress::LINE_EVERY_S`), less a
    // margin for the pipe's delivery; a line can come later under load, never sooner.
    const LINE_EVERY_S: f64 = 5.0;
    const PIPE_SLACK_S: f64 = 0.2;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 512² cells × 10⁶ steps: minutes of work, so the signal comes mid-sweep.
    let t0 = Instant::now();
    let mut child = std::process::Command::new(bin())
        .current_dir(d)
        .args([
            "sweep",
            "dirac",
            "--rule",
            "simultaneous",
            "--lr-g",
            "1e-3:1:512",
            "--lr-d",
            "1e-3:1:512",
            "--steps",
            "1000000",
            "--from",
            "1,1",
            "--threads",
            "1",
            "--out",
            "out",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let _ = tx.send((Instant::now(), line.unwrap()));
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(120)).unwrap();
    let (t1, first) = next();
    let (t2, second) = next();
    for l in [&first, &second] {
        assert!(
            l.starts_with("sweep: ") && l.contains("/262144 cells (") && l.contains("ETA"),
            "{l}"
        );
    }
    assert!(
        (t1 - t0).as_secs_f64() >= LINE_EVERY_S - PIPE_SLACK_S,
        "first line after {:?}",
        t1 - t0
    );
    assert!(
        (t2 - t1).as_secs_f64() >= LINE_EVERY_S - PIPE_SLACK_S,
        "lines {:?} apart",
        t2 - t1
    );
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().map(|(_, l)| l).collect();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("interrupt")), "{rest:?}");
    for f in [
        "sweep.csv",
        "sweep.json",
        "sweep_class.png",
        "sweep_rho.png",
    ] {
        assert!(
            !d.join("out").join(f).exists(),
            "an interrupted sweep wrote {f}"
        );
    }
}

/// A random TOML value: numbers of every kind (huge, negative, non-finite), strings,
/// booleans, arrays and small tables.
fn value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-1e308),
            Just(1e-320),
            -1e6f64..1e6
        ]
        .prop_map(toml::Value::Float),
        "[a-z_]{0,8}".prop_map(toml::Value::String),
        any::<bool>().prop_map(toml::Value::Boolean),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
}

/// Keys the loaders know (so random documents reach deep validation), and others.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "name",
            "title",
            "seed",
            "steps",
            "portraits",
            "maps",
            "neural",
            "games",
            "rules",
            "lrs",
            "from",
            "bound",
            "game",
            "set",
            "rule",
            "k_d",
            "order",
            "lr_g",
            "lr_d",
            "n",
            "min",
            "max",
            "batch_size",
            "dataset",
            "kind",
            "modes",
            "hidden",
            "latent",
            "dim",
            "generator",
            "discriminator",
            "optimizer_g",
            "lr",
            "schedule",
            "d_steps",
            "penalty",
            "eval_samples",
            "histogram_bins",
            "settings",
            "label",
            "analysis",
            "seeds",
            "base",
            "infogan",
            "categories",
            "weight_clip",
            "loss",
            "r1",
            "weights",
            "matrix",
        ])
        .prop_map(String::from),
        "[a-z]{1,6}",
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::btree_map(key(), value(), 0..8).prop_map(|m| {
        let t: toml::Table = m.into_iter().collect();
        toml::to_string(&t).unwrap_or_default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// The study and training loaders answer any TOML with a value or an error, never a
    /// panic (and never by allocating what the document asks for).
    #[test]
    fn loaders_never_panic_on_random_toml(doc in document()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.toml");
        std::fs::write(&p, &doc).unwrap();
        let _ = redqueen::study::Study::load(&p, false);
        let _ = redqueen::study::Study::load(&p, true);
        let _ = redqueen::gan::TrainConfig::from_toml(&doc, &p)
            .and_then(redqueen::gan::TrainConfig::validated);
    }
}
