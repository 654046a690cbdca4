//! Rendering tests: every figure type writes a PNG of the right size and an
//! SVG that contains its title, and hostile data (NaN, ±∞, empty series,
//! mismatched lengths) never panics.
//!
//! Set `PLOT_LOOK=/some/dir` to also write the realistic examples there for
//! inspection by eye.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use super::*;

/// Width and height from a PNG's IHDR chunk, after checking the signature.
/// (`image` is only a transitive dependency, so the header is read by hand.)
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 24, "{} is too short", path.display());
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// Checks `<stem>.png` has `size` and `<stem>.svg` mentions `title`, and that
/// no temporary file was left behind.
fn check_outputs(stem: &Path, size: (u32, u32), title: &str) {
    assert_eq!(png_size(&with_ext(stem, "png")), size);
    let svg = std::fs::read_to_string(with_ext(stem, "svg")).unwrap();
    assert!(svg.starts_with("<svg"), "not an SVG");
    assert!(svg.contains(title), "SVG lacks title {title:?}");
    let dir = stem.parent().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp"), "temporary file left: {name}");
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Dirac-GAN field v = (−ψ σ(−θψ), θ σ(−θψ)) on a 12×12 grid over [−2, 2]².
fn dirac_arrows() -> Vec<Arrow> {
    let mut a = Vec::new();
    for i in 0..12 {
        for j in 0..12 {
            let x = -2.0 + 4.0 * (j as f64 + 0.5) / 12.0;
            let y = -2.0 + 4.0 * (i as f64 + 0.5) / 12.0;
            let s = sigmoid(-x * y);
            a.push(Arrow {
                x,
                y,
                u: -y * s,
                v: x * s,
            });
        }
    }
    a
}

/// Outward spiral θ = r(t) cos t, ψ = r(t) sin t with r growing.
fn spiral(r0: f64, growth: f64, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|k| {
            let t = k as f64 * 0.05;
            let r = r0 * (growth * t).exp();
            (r * t.cos(), r * t.sin())
        })
        .collect()
}

fn example_portrait() -> PhasePortrait {
    PhasePortrait {
        title: "Dirac GAN, simultaneous GD, η = 0.1".into(),
        x_label: "θ (generator)".into(),
        y_label: "ψ (discriminator)".into(),
        x_range: (-2.0, 2.0),
        y_range: (-2.0, 2.0),
        arrows: dirac_arrows(),
        trajectories: vec![Path2 {
            label: "simGD".into(),
            points: spiral(0.5, 0.035, 800),
        }],
        equilibrium: Some((0.0, 0.0)),
        note: Some("left the plot at step 612".into()),
    }
}

fn example_heatmap(n: usize) -> Heatmap {
    let grid: Vec<f64> = (0..n)
        .map(|k| 10f64.powf(-3.0 + 3.0 * k as f64 / (n - 1) as f64))
        .collect();
    let mut values = Vec::with_capacity(n * n);
    for hd in &grid {
        for hg in &grid {
            values.push((1.0 + 0.25 * hg * hd).sqrt());
        }
    }
    Heatmap {
        title: "Spectral radius of simGD on the Dirac GAN".into(),
        x_label: "η_G (generator learning rate)".into(),
        y_label: "η_D (discriminator learning rate)".into(),
        x: grid.clone(),
        y: grid,
        values,
        log_x: true,
        log_y: true,
        colorbar_label: "ρ".into(),
        value_range: None,
        contour: Some(1.01),
        categories: None,
    }
}

fn example_line() -> LinePlot {
    let series = [("simGD", 0.004), ("altGD", 0.0), ("extragradient", -0.006)]
        .iter()
        .map(|(label, rate)| Series {
            label: (*label).into(),
            points: (0..500)
                .map(|k| {
                    let t = k as f64;
                    (t, (rate * t).exp() * (1.0 + 0.1 * (0.3 * t).sin()))
                })
                .collect(),
        })
        .collect();
    LinePlot {
        title: "Distance to equilibrium ‖x − x*‖".into(),
        x_label: "step".into(),
        y_label: "‖x − x*‖".into(),
        log_y: true,
        log_x: false,
        series,
        hlines: vec![(1.0, "initial distance".into())],
    }
}

fn example_histogram() -> Histogram {
    // Deterministic "samples": quantiles of a two-mode mixture via a
    // low-discrepancy sequence (no RNG needed for a picture).
    let samples: Vec<f64> = (0..4000)
        .map(|k| {
            let u = (k as f64 * 0.618_033_988_75).fract();
            let w = (k as f64 * 0.414_213_562_37).fract();
            let z = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * w).cos();
            if k % 2 == 0 {
                -1.5 + 0.5 * z
            } else {
                1.5 + 0.5 * z
            }
        })
        .collect();
    let density = (0..=400)
        .map(|k| {
            let x = -4.0 + 8.0 * k as f64 / 400.0;
            let g = |m: f64| {
                (-(x - m).powi(2) / (2.0 * 0.25)).exp() / (0.5 * (std::f64::consts::TAU).sqrt())
            };
            (x, 0.5 * g(-1.5) + 0.5 * g(1.5))
        })
        .collect();
    Histogram {
        title: "Generator samples at step 5000".into(),
        x_label: "x".into(),
        samples,
        bins: 60,
        range: (-4.0, 4.0),
        density,
    }
}

fn example_frame(step: usize) -> SurfaceFrame {
    let (nx, ny) = (80, 80);
    let modes: Vec<(f64, f64)> = (0..8)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / 8.0;
            (2.0 * a.cos(), 2.0 * a.sin())
        })
        .collect();
    let shift = step as f64 * 0.3;
    let mut values = Vec::with_capacity(nx * ny);
    for i in 0..ny {
        for j in 0..nx {
            let x = -3.0 + 6.0 * (j as f64 + 0.5) / nx as f64;
            let y = -3.0 + 6.0 * (i as f64 + 0.5) / ny as f64;
            values.push(sigmoid(
                1.5 * (x * (shift).cos() + y * (shift).sin()) - 0.5 * (x * x + y * y - 4.0),
            ));
        }
    }
    let points = (0..128)
        .map(|k| {
            let a = k as f64 * 2.399_963 + shift;
            let r = 0.8 + 0.6 * ((k as f64 * 0.618).fract());
            (r * a.cos(), r * a.sin())
        })
        .collect();
    SurfaceFrame {
        title: format!("Discriminator D(x), step {}", step * 500),
        x_range: (-3.0, 3.0),
        y_range: (-3.0, 3.0),
        nx,
        ny,
        values,
        value_range: (0.0, 1.0),
        points,
        modes,
        ..Default::default()
    }
}

/// Writes every realistic example into `dir`; returns the stems written.
fn render_examples(dir: &Path) -> Vec<PathBuf> {
    let mut stems = Vec::new();
    let s = dir.join("phase");
    phase_portrait(&s, &example_portrait()).unwrap();
    stems.push(s);

    let panels: Vec<PhasePortrait> = [0.05, 0.1, 0.2, 0.4]
        .iter()
        .map(|&eta| {
            let mut p = example_portrait();
            p.title = format!("η = {eta}");
            p.note = None;
            p.trajectories = vec![
                Path2 {
                    label: "simGD".into(),
                    points: spiral(0.5, eta * 0.4, 600),
                },
                Path2 {
                    label: "altGD".into(),
                    points: spiral(1.0, 0.0, 130)
                        .into_iter()
                        .map(|(x, y)| (x * 0.9, y * 1.1))
                        .collect(),
                },
            ];
            p
        })
        .collect();
    let s = dir.join("phase_grid");
    phase_grid(
        &s,
        "Dirac GAN: simGD vs altGD across learning rates",
        &panels,
        2,
    )
    .unwrap();
    stems.push(s);

    let s = dir.join("eig_flow");
    eigenvalue_plot(
        &s,
        &EigenPlot {
            title: "Jacobian spectrum of the Dirac GAN flow at θ = ψ = 0".into(),
            kind: EigenKind::Flow,
            series: vec![
                EigenSeries {
                    label: "J (no regulariser)".into(),
                    points: vec![(0.0, 0.5), (0.0, -0.5)],
                },
                EigenSeries {
                    label: "J with R1, γ = 0.3".into(),
                    points: vec![(-0.15, 0.476), (-0.15, -0.476)],
                },
            ],
        },
    )
    .unwrap();
    stems.push(s);
    let s = dir.join("eig_map");
    eigenvalue_plot(
        &s,
        &EigenPlot {
            title: "Update-map spectrum, simGD, η = 0.2".into(),
            kind: EigenKind::Map,
            series: vec![EigenSeries {
                label: "∂F eigenvalues".into(),
                points: vec![(1.0, 0.1), (1.0, -0.1)],
            }],
        },
    )
    .unwrap();
    stems.push(s);

    let s = dir.join("heatmap");
    heatmap(&s, &example_heatmap(64)).unwrap();
    stems.push(s);

    let mut cat = example_heatmap(32);
    cat.title = "Outcome of 2000 steps by learning rates".into();
    cat.values = cat
        .values
        .iter()
        .enumerate()
        .map(|(k, &rho)| {
            if k % 97 == 5 {
                f64::NAN
            } else if rho < 1.0005 {
                0.0
            } else if rho < 1.005 {
                1.0
            } else if rho < 1.02 {
                2.0
            } else {
                3.0
            }
        })
        .collect();
    cat.categories = Some(vec![
        ("converged".into(), RGBColor(44, 160, 44)),
        ("cycling".into(), RGBColor(31, 119, 180)),
        ("stalled".into(), RGBColor(255, 187, 120)),
        ("diverged".into(), RGBColor(214, 39, 40)),
    ]);
    cat.contour = None;
    let s = dir.join("heatmap_cat");
    heatmap(&s, &cat).unwrap();
    stems.push(s);

    let s = dir.join("line");
    line_plot(&s, &example_line()).unwrap();
    stems.push(s);

    let s = dir.join("hist");
    histogram(&s, &example_histogram()).unwrap();
    stems.push(s);

    let frames: Vec<SurfaceFrame> = (0..3).map(example_frame).collect();
    let gif = dir.join("surface.gif");
    surface_frames(&dir.join("surface"), &frames, Some(&gif), 400).unwrap();
    stems.push(dir.join("surface_00000"));
    stems
}

#[test]
fn examples_render_with_right_size_and_title() {
    let dir = tempfile::tempdir().unwrap();
    render_examples(dir.path());
    check_outputs(
        &dir.path().join("phase"),
        DEFAULT_SIZE,
        "Dirac GAN, simultaneous GD",
    );
    check_outputs(
        &dir.path().join("phase_grid"),
        (800, 800),
        "across learning rates",
    );
    check_outputs(
        &dir.path().join("eig_flow"),
        DEFAULT_SIZE,
        "Jacobian spectrum",
    );
    check_outputs(
        &dir.path().join("eig_map"),
        DEFAULT_SIZE,
        "Update-map spectrum",
    );
    check_outputs(&dir.path().join("heatmap"), DEFAULT_SIZE, "Spectral radius");
    check_outputs(
        &dir.path().join("heatmap_cat"),
        DEFAULT_SIZE,
        "Outcome of 2000",
    );
    check_outputs(
        &dir.path().join("line"),
        DEFAULT_SIZE,
        "Distance to equilibrium",
    );
    check_outputs(&dir.path().join("hist"), DEFAULT_SIZE, "Generator samples");
    for k in 0..3 {
        check_outputs(
            &dir.path().join(format!("surface_{k:05}")),
            DEFAULT_SIZE,
            &format!("step {}", k * 500),
        );
    }
    let gif = std::fs::read(dir.path().join("surface.gif")).unwrap();
    assert_eq!(&gif[..6], b"GIF89a");
}

#[test]
fn greek_title_survives_into_svg() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("greek");
    let p = PhasePortrait {
        title: "θ ψ ρ λ γ".into(),
        x_range: (-1.0, 1.0),
        y_range: (-1.0, 1.0),
        ..Default::default()
    };
    phase_portrait(&stem, &p).unwrap();
    check_outputs(&stem, DEFAULT_SIZE, "θ ψ ρ λ γ");
}

#[test]
fn stem_with_dots_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("lr_0.01");
    line_plot(&stem, &LinePlot::default()).unwrap();
    assert!(dir.path().join("lr_0.01.png").exists());
    assert!(dir.path().join("lr_0.01.svg").exists());
}

#[test]
fn missing_directory_is_created_and_unwritable_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("a/b/fig");
    line_plot(&stem, &LinePlot::default()).unwrap();
    assert!(dir.path().join("a/b/fig.png").exists());
    // A file where a directory should be: the error names the path.
    std::fs::write(dir.path().join("blocker"), b"x").unwrap();
    let err = line_plot(&dir.path().join("blocker/fig"), &LinePlot::default()).unwrap_err();
    assert!(matches!(err, crate::error::Error::File { .. }), "{err}");
}

const BAD: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

#[test]
fn hostile_data_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    // With PLOT_LOOK set, keep these figures too: they must still read well.
    let look = std::env::var_os("PLOT_LOOK").map(|p| PathBuf::from(p).join("hostile"));
    let d = look.as_deref().unwrap_or(dir.path());
    let bad_pts: Vec<(f64, f64)> = vec![
        (0.0, 0.0),
        (f64::NAN, 1.0),
        (1e300, -1e300),
        (0.5, f64::INFINITY),
        (0.2, 0.3),
    ];

    // Phase portraits: empty, all-NaN, huge, degenerate ranges.
    for (k, p) in [
        PhasePortrait::default(),
        PhasePortrait {
            title: "bad".into(),
            x_label: String::new(),
            y_label: String::new(),
            x_range: (f64::NAN, 1.0),
            y_range: (3.0, 3.0),
            arrows: vec![
                Arrow {
                    x: 0.0,
                    y: 0.0,
                    u: f64::NAN,
                    v: 1.0,
                },
                Arrow {
                    x: 0.5,
                    y: 0.5,
                    u: 0.0,
                    v: 0.0,
                },
            ],
            trajectories: vec![
                Path2 {
                    label: "a".into(),
                    points: bad_pts.clone(),
                },
                Path2::default(),
                Path2 {
                    label: "single".into(),
                    points: vec![(0.1, 0.1)],
                },
            ],
            equilibrium: Some((f64::NAN, 0.0)),
            note: Some("diverged at step 3".into()),
        },
    ]
    .iter()
    .enumerate()
    {
        phase_portrait(&d.join(format!("p{k}")), p).unwrap();
    }
    phase_grid(&d.join("g0"), "empty", &[], 0).unwrap();
    phase_grid(&d.join("g1"), "one", &[PhasePortrait::default()], 5).unwrap();
    check_outputs(&d.join("g1"), (400, 440), "one");

    for kind in [EigenKind::Flow, EigenKind::Map] {
        let e = EigenPlot {
            title: "eig".into(),
            kind,
            series: vec![
                EigenSeries {
                    label: "bad".into(),
                    points: bad_pts.clone(),
                },
                EigenSeries::default(),
            ],
        };
        eigenvalue_plot(&d.join("e"), &e).unwrap();
        eigenvalue_plot(
            &d.join("e0"),
            &EigenPlot {
                kind,
                ..Default::default()
            },
        )
        .unwrap();
    }

    // Heat maps: empty, wrong length, NaN/inf, non-positive coordinates on
    // log axes, constant values, single cell.
    let mut h = example_heatmap(4);
    h.values[3] = f64::NAN;
    h.values[7] = f64::INFINITY;
    h.values.truncate(13);
    h.x[0] = -1.0;
    heatmap(&d.join("h1"), &h).unwrap();
    heatmap(&d.join("h2"), &Heatmap::default()).unwrap();
    let h3 = Heatmap {
        x: vec![1.0],
        y: vec![2.0],
        values: vec![5.0],
        contour: Some(f64::NAN),
        ..Default::default()
    };
    heatmap(&d.join("h3"), &h3).unwrap();
    let h4 = Heatmap {
        x: vec![0.0, 1.0],
        y: vec![0.0, 1.0],
        values: BAD.iter().copied().chain([7.0]).collect(),
        categories: Some(vec![("only".into(), RGBColor(1, 2, 3))]),
        value_range: Some((f64::NAN, f64::NAN)),
        ..Default::default()
    };
    heatmap(&d.join("h4"), &h4).unwrap();

    // Line plots: empty series, all non-positive on log axes, NaN hlines.
    let l = LinePlot {
        title: "lines".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series::default(),
            Series {
                label: "bad".into(),
                points: bad_pts.clone(),
            },
            Series {
                label: "neg".into(),
                points: vec![(1.0, -1.0), (2.0, 0.0)],
            },
        ],
        hlines: vec![(f64::NAN, "nan".into()), (-1.0, "neg".into())],
        ..Default::default()
    };
    line_plot(&d.join("l"), &l).unwrap();
    line_plot(&d.join("l0"), &LinePlot::default()).unwrap();

    let hist = Histogram {
        title: "hist".into(),
        samples: BAD.iter().copied().chain([0.5, 10.0]).collect(),
        bins: 0,
        range: (1.0, 1.0),
        density: bad_pts.clone(),
        ..Default::default()
    };
    histogram(&d.join("hi"), &hist).unwrap();
    histogram(&d.join("hi0"), &Histogram::default()).unwrap();
    let many = Histogram {
        bins: usize::MAX,
        samples: vec![0.5],
        range: (0.0, 1.0),
        ..Default::default()
    };
    histogram(&d.join("hi1"), &many).unwrap();

    let f = SurfaceFrame {
        title: "frame".into(),
        x_range: (f64::NAN, 0.0),
        nx: 3,
        ny: 2,
        values: BAD.to_vec(),
        value_range: (1.0, 1.0),
        points: bad_pts.clone(),
        modes: bad_pts,
        ..Default::default()
    };
    surface_frames(
        &d.join("s"),
        &[f, SurfaceFrame::default()],
        Some(&d.join("s.gif")),
        100,
    )
    .unwrap();
    surface_frames(&d.join("t"), &[], Some(&d.join("t.gif")), 100).unwrap();
    // A corrupt grid size must neither hang nor allocate: it is reported.
    let huge = SurfaceFrame {
        title: "huge".into(),
        nx: usize::MAX / 2,
        ny: 3,
        values: vec![0.5; 4],
        value_range: (0.0, 1.0),
        ..Default::default()
    };
    surface_frames(&d.join("u"), &[huge], None, 100).unwrap();
    check_outputs(&d.join("u_00000"), DEFAULT_SIZE, "huge");
    assert!(d.join("s_00001.png").exists());
    assert!(d.join("t.gif").exists());
}

#[test]
fn level_edges_on_a_tiny_grid() {
    // 3 columns × 2 rows, level 1:
    //   row 1:  0.5  1.5  1.5
    //   row 0:  0.5  0.5  1.5
    // Above-level cells: (0,2), (1,1), (1,2). Boundary edges:
    //   between columns: (0,1)|(0,2) and (1,0)|(1,1)
    //   between rows:    (0,1)/(1,1)
    let v = [0.5, 0.5, 1.5, 0.5, 1.5, 1.5];
    let e = level_set_edges(3, 2, &v, 1.0);
    assert_eq!(e.between_columns, vec![(0, 1), (1, 0)]);
    assert_eq!(e.between_rows, vec![(0, 1)]);

    // A value exactly at the level counts as above.
    let e = level_set_edges(2, 1, &[1.0, 0.9], 1.0);
    assert_eq!(e.between_columns, vec![(0, 0)]);

    // NaN cells create no edge; +inf is above the level; missing values are
    // skipped rather than indexed out of bounds.
    let e = level_set_edges(3, 1, &[0.5, f64::NAN, 2.0], 1.0);
    assert_eq!(e, LevelEdges::default());
    let e = level_set_edges(2, 1, &[0.5, f64::INFINITY], 1.0);
    assert_eq!(e.between_columns, vec![(0, 0)]);
    let e = level_set_edges(2, 2, &[0.5, 2.0], 1.0);
    assert_eq!(e.between_columns, vec![(0, 0)]);
    assert!(e.between_rows.is_empty());
}

#[test]
fn clip_segment_keeps_inside_part() {
    let b = (0.0, 1.0);
    assert_eq!(
        clip_segment((0.5, 0.5), (0.6, 0.6), b, b),
        Some(((0.5, 0.5), (0.6, 0.6)))
    );
    assert_eq!(
        clip_segment((-1.0, 0.5), (2.0, 0.5), b, b),
        Some(((0.0, 0.5), (1.0, 0.5)))
    );
    assert_eq!(clip_segment((2.0, 2.0), (3.0, 3.0), b, b), None);
    // A line broken by NaN gives two pieces, never a bridge.
    let pieces = clip_polyline(
        &[
            (0.1, 0.1),
            (0.2, 0.2),
            (f64::NAN, 0.0),
            (0.3, 0.3),
            (0.4, 0.4),
        ],
        b,
        b,
    );
    assert_eq!(pieces.len(), 2);
}

#[test]
fn simplify_drops_collinear_points_and_keeps_peaks() {
    // Points on a line (up to 0.1 px of noise) collapse to the end points.
    let line: Vec<(f64, f64)> = (0..20)
        .map(|k| {
            (
                k as f64,
                0.5 * k as f64 + if k % 2 == 0 { 0.1 } else { -0.1 },
            )
        })
        .collect();
    assert_eq!(simplify(&line, 0.3), vec![line[0], line[19]]);
    // A zig-zag of amplitude 5 px keeps every peak.
    let zig: Vec<(f64, f64)> = (0..9)
        .map(|k| (4.0 * k as f64, if k % 2 == 0 { 0.0 } else { 5.0 }))
        .collect();
    assert_eq!(simplify(&zig, 0.3), zig);
    // NaN-free closed loop: start == end must not divide by zero.
    let loop_: Vec<(f64, f64)> = vec![(0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (0.0, 0.0)];
    assert_eq!(simplify(&loop_, 0.3).len(), 4);
}

#[test]
fn log_ticks_are_powers_of_ten() {
    let a = Axis::log((1e-3, 1.0));
    assert_eq!(a.ticks(), vec![-3.0, -2.0, -1.0, 0.0]);
    assert_eq!(a.label(-3.0), "10⁻³");
    assert_eq!(a.label(0.0), "1");
    assert_eq!(pow10_label(12), "10¹²");
}

#[test]
fn large_heatmap_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = example_heatmap(256);
    // A pattern whose neighbours all differ, so no run merging helps: the
    // worst case for both PNG and SVG.
    for (k, v) in h.values.iter_mut().enumerate() {
        *v = ((k * 37) % 251) as f64 / 250.0;
    }
    h.contour = Some(0.5);
    let t = std::time::Instant::now();
    heatmap(&dir.path().join("big"), &h).unwrap();
    let secs = t.elapsed().as_secs_f64();
    // Generous bound for a shared 2-core machine and debug-ish test builds;
    // release runs take a fraction of this.
    assert!(secs < 5.0, "256×256 heat map took {secs:.2} s");
    eprintln!("256×256 heat map (PNG + SVG): {secs:.3} s");
}

/// Writes the examples to `$PLOT_LOOK` for looking at; a no-op otherwise.
#[test]
fn render_examples_for_inspection() {
    if let Some(dir) = std::env::var_os("PLOT_LOOK") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        render_examples(&dir);
    }
}
