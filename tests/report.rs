//! `train` draws its figures, and `report DIR` draws them again from the files alone, for
//! a train folder (1-D and 2-D data) and a study folder.

use std::path::Path;

use assert_cmd::Command;

fn rq() -> Command {
    Command::cargo_bin("redqueen").unwrap()
}

fn pngs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") || n.ends_with(".gif"))
        .collect();
    v.sort();
    v
}

#[test]
fn train_draws_its_figures_and_report_draws_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let two_d = "steps = 200\nlog_every = 20\nsnapshot_every = 100\neval_samples = 100\n[generator]\nhidden = [8]\n[discriminator]\nhidden = [8]\n";
    let one_d = "steps = 200\nlog_every = 20\neval_samples = 100\ndataset = { kind = \"gaussian_mixture1d\", means = [-2.0, 2.0], stds = [0.5, 0.5], weights = [0.5, 0.5] }\nlatent = { kind = \"gaussian\", dim = 1 }\n[generator]\nhidden = [8]\n[discriminator]\nhidden = [8]\n";
    for (name, cfg, expect) in [
        (
            "2d",
            two_d,
            vec![
                "coverage.png",
                "d_outputs.png",
                "distance.png",
                "grad_norms.png",
                "losses.png",
                "quality.png",
                "samples_final.png",
                "surface.gif",
            ],
        ),
        (
            "1d",
            one_d,
            vec![
                "coverage.png",
                "d_outputs.png",
                "distance.png",
                "grad_norms.png",
                "losses.png",
                "quality.png",
                "samples_final.png",
            ],
        ),
    ] {
        std::fs::write(d.join(format!("{name}.toml")), cfg).unwrap();
        let out = d.join(name);
        rq().current_dir(d)
            .args([
                "train",
                "--config",
                &format!("{name}.toml"),
                "--out",
                name,
                "--quiet",
            ])
            .assert()
            .success();
        assert_eq!(pngs(&out), expect, "{name}");
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(report.contains("completed") && report.contains("losses.png"));
        if name == "2d" {
            assert_eq!(std::fs::read_dir(out.join("frames")).unwrap().count(), 4);
        }
        // Drawn again from the files alone, the same figures, byte for byte.
        let before: Vec<Vec<u8>> = expect
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
        for f in &expect {
            std::fs::remove_file(out.join(f)).unwrap();
        }
        rq().args(["report"]).arg(&out).assert().success();
        let after: Vec<Vec<u8>> = expect
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
        assert!(before == after, "{name}: report redraws the same figures");
    }
    // --no-figures writes none; report draws them later.
    rq().current_dir(d)
        .args([
            "train",
            "--config",
            "1d.toml",
            "--out",
            "nofig",
            "--no-figures",
            "--quiet",
        ])
        .assert()
        .success();
    assert!(pngs(&d.join("nofig")).is_empty());
    rq().args(["report"])
        .arg(d.join("nofig"))
        .assert()
        .success();
    assert_eq!(pngs(&d.join("nofig")).len(), 7);
}

#[test]
fn report_redraws_a_study_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/one-mode.toml");
    rq().args(["study"])
        .arg(&study)
        .args(["--quick", "--quiet", "--root"])
        .arg(d)
        .assert()
        .success();
    let data = d.join("data/one-mode-quick");
    let figs = d.join("figures/one-mode-quick");
    let csvs = |dir: &Path| {
        let mut all = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e.is_dir() {
                    stack.push(e);
                } else if e.extension().is_some_and(|x| x == "csv") {
                    all.push((e.clone(), std::fs::read(&e).unwrap()));
                }
            }
        }
        all.sort();
        all
    };
    let csv_before = csvs(&data);
    assert!(!csv_before.is_empty());
    std::fs::remove_dir_all(&figs).unwrap();
    std::fs::remove_file(data.join("report.md")).unwrap();
    rq().args(["report", "--quiet"])
        .arg(&data)
        .assert()
        .success();
    assert!(data.join("report.md").exists());
    assert!(std::fs::read_dir(&figs).unwrap().count() > 0);
    assert!(csvs(&data) == csv_before, "the CSVs are the same bytes");
}
