use super::*;
use crate::linalg::rng;
use nalgebra::DMatrix;

#[test]
fn mode_std_is_the_shared_std_of_equal_gaussian_modes_only() {
    assert_eq!(Dataset::default().mode_std(), Some(0.05));
    let grid = Dataset::Grid {
        side: 3,
        spacing: 2.0,
        std: 0.2,
    };
    assert_eq!(grid.mode_std(), Some(0.2));
    assert_eq!(grid.build().unwrap().modes().unwrap().stds, vec![0.2; 9]);
    for other in [Dataset::TwoPoints, Dataset::FourPoints, Dataset::UnitCircle] {
        assert_eq!(other.mode_std(), None);
    }
}

#[test]
fn ring_samples_sit_near_their_means_with_the_right_std() {
    let s = Dataset::default().build().unwrap();
    let x: DMatrix<f64> = s.sample(&mut rng(0, 0), 30_000);
    let m = s.modes().unwrap();
    assert_eq!(m.means.len(), 3);
    // Every sample's nearest mean, and the per-axis residual variance ≈ 0.05².
    let mut counts = [0usize; 3];
    let mut ss = 0.0;
    for i in 0..x.nrows() {
        let (k, d2) = (0..3)
            .map(|k| {
                (
                    k,
                    (x[(i, 0)] - m.means[k][0]).powi(2) + (x[(i, 1)] - m.means[k][1]).powi(2),
                )
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        counts[k] += 1;
        ss += d2;
    }
    let var = ss / (2.0 * x.nrows() as f64);
    assert!((var.sqrt() - 0.05).abs() < 0.002, "std {}", var.sqrt());
    assert!(
        counts
            .iter()
            .all(|c| (*c as f64 / 30_000.0 - 1.0 / 3.0).abs() < 0.02)
    );
}

#[test]
fn mixture_1d_has_its_moments() {
    let d = Dataset::GaussianMixture1d {
        means: vec![-2.0, 2.0],
        stds: vec![0.5, 0.5],
        weights: vec![1.0, 3.0],
    };
    let x: DMatrix<f64> = d.build().unwrap().sample(&mut rng(1, 0), 40_000);
    // mean = 0.25·(−2) + 0.75·2 = 1; var = 0.25 + 4 − 1 = 3.25
    let mean = x.mean();
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40_000.0;
    assert!(
        (mean - 1.0).abs() < 0.03 && (var - 3.25).abs() < 0.06,
        "{mean} {var}"
    );
}

#[test]
fn point_sets_grid_and_circle() {
    let x: DMatrix<f64> = Dataset::FourPoints
        .build()
        .unwrap()
        .sample(&mut rng(0, 0), 100);
    assert!(
        x.row_iter()
            .all(|r| ((r[0].abs() - 1.0).abs() < 1e-15 && r[1] == 0.0)
                || (r[0] == 0.0 && (r[1].abs() - 1.0).abs() < 1e-15))
    );
    let c: DMatrix<f64> = Dataset::UnitCircle
        .build()
        .unwrap()
        .sample(&mut rng(0, 0), 100);
    assert!(c.row_iter().all(|r| (r[0].hypot(r[1]) - 1.0).abs() < 1e-12));
    let g = Dataset::Grid {
        side: 3,
        spacing: 2.0,
        std: 0.01,
    }
    .build()
    .unwrap();
    let m = g.modes().unwrap();
    assert_eq!(m.means.len(), 9);
    assert!(m.means.contains(&vec![-2.0, 2.0]) && m.means.contains(&vec![0.0, 0.0]));
}

#[test]
fn bad_parameters_name_their_key() {
    let e = Dataset::Ring {
        modes: 0,
        radius: 1.0,
        std: 0.1,
        weights: None,
    }
    .build()
    .unwrap_err();
    assert!(e.to_string().contains("dataset.modes"), "{e}");
    let e = Dataset::GaussianMixture1d {
        means: vec![0.0],
        stds: vec![-1.0],
        weights: vec![1.0],
    }
    .build()
    .unwrap_err();
    assert!(e.to_string().contains("dataset.stds"), "{e}");
}

#[test]
fn mode_counts_are_bounded_before_allocating() {
    let ring = |modes| Dataset::Ring {
        modes,
        radius: 1.0,
        std: 0.1,
        weights: None,
    };
    assert_eq!(
        ring(MAX_MODES)
            .build()
            .unwrap()
            .modes()
            .unwrap()
            .means
            .len(),
        MAX_MODES
    );
    for modes in [MAX_MODES + 1, usize::MAX] {
        let e = ring(modes).build().unwrap_err().to_string();
        assert!(
            e.contains("dataset.modes") && e.contains("more than"),
            "{e}"
        );
    }
    let grid = |side, spacing| Dataset::Grid {
        side,
        spacing,
        std: 0.1,
    };
    // side = 100 is exactly MAX_MODES modes; side² overflowing usize must not wrap.
    assert_eq!(
        grid(100, 1.0).build().unwrap().modes().unwrap().means.len(),
        MAX_MODES
    );
    for side in [101, 1 << 32, usize::MAX] {
        let e = grid(side, 1.0).build().unwrap_err().to_string();
        assert!(e.contains("dataset.side"), "{e}");
    }
    let e = grid(5, 1e308).build().unwrap_err().to_string();
    assert!(e.contains("dataset.spacing"), "{e}");
}

#[test]
fn csv_points_load_and_malformed_files_name_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "x,y\n0.5,1\n-1,2.5\n").unwrap();
    let s = Dataset::Csv { path: good }.build().unwrap();
    assert_eq!(s.dim(), 2);
    let x: DMatrix<f64> = s.sample(&mut rng(0, 0), 50);
    assert!(
        x.row_iter()
            .all(|r| (r[0] == 0.5 && r[1] == 1.0) || (r[0] == -1.0 && r[1] == 2.5))
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x,y\n0.5,1\n0.3,abc\n").unwrap();
    let e = Dataset::Csv { path: bad.clone() }
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.csv") && e.contains("line 3") && e.contains("not a number"),
        "{e}"
    );
    std::fs::write(&bad, "1,2\n3\n").unwrap();
    let e = Dataset::Csv { path: bad.clone() }
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("1 fields"), "{e}");
    std::fs::write(&bad, "x,y\n").unwrap();
    assert!(
        Dataset::Csv { path: bad }
            .build()
            .unwrap_err()
            .to_string()
            .contains("no data")
    );
    let e = Dataset::Csv {
        path: dir.path().join("missing.csv"),
    }
    .build()
    .unwrap_err();
    assert!(e.to_string().contains("missing.csv"));
}

#[test]
fn presets_are_spelled_like_unit_variants_and_expand_to_the_general_form() {
    #[derive(Deserialize)]
    struct Cfg {
        dataset: Dataset,
    }
    let c: Cfg = toml::from_str("dataset = { kind = \"ring8\" }").unwrap();
    assert_eq!(c.dataset, Dataset::Ring8);
    let c: Cfg = toml::from_str("dataset = { kind = \"grid25\" }").unwrap();
    assert_eq!(c.dataset, Dataset::Grid25);
    assert_eq!(
        Dataset::named("dataset", "grid25").unwrap(),
        Dataset::Grid25
    );
    assert_eq!(
        Dataset::named("dataset", "ring").unwrap(),
        Dataset::default(),
        "a general variant with all its defaults"
    );
    let e = Dataset::named("--modes", "csv").unwrap_err().to_string();
    assert!(e.contains("--modes") && e.contains("\"csv\""), "{e}");
    let s = Dataset::Ring8.build().unwrap();
    assert_eq!(
        s.spec(),
        &Dataset::Ring {
            modes: 8,
            radius: 1.0,
            std: 0.01,
            weights: None
        }
    );
    assert_eq!(
        Dataset::Grid25.build().unwrap().spec(),
        &Dataset::Grid {
            side: 5,
            spacing: 2.0,
            std: 0.05
        }
    );
}

#[test]
fn latent_fills_only_its_columns() {
    let mut z = DMatrix::<f32>::from_element(4, 5, 9.0);
    Latent {
        kind: LatentKind::Uniform,
        dim: 3,
    }
    .sample_into(&mut rng(0, 0), &mut z);
    assert!(z.columns(0, 3).iter().all(|v| (0.0..1.0).contains(v)));
    assert!(z.columns(3, 2).iter().all(|v| *v == 9.0));
}
