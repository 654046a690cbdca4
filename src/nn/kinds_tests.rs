//! Checks of the batch-norm, maxout and minibatch layers: every pass against central
//! differences in f64, and closed forms.

use nalgebra::DMatrix;
use rand::RngExt;

use super::*;
use crate::linalg::{Rng, rng};

/// Relative error allowed between a hand-written gradient and central differences in
/// f64, ‖a − fd‖ / max(‖a‖, ‖fd‖), as for the dense layers (truncation ~h², rounding
/// ~ε/h ≈ 1e-11 relative at these scales).
const GRAD_CHECK_TOL: f64 = 1e-6;
/// Central-difference step.
const FD_H: f64 = 1e-5;
/// Identities that hold up to a few roundings of order-one numbers.
const EXACT_TOL: f64 = 1e-12;

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let n = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let m = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    d / n.max(m).max(1e-12)
}

fn fd(mut f: impl FnMut(&[f64]) -> f64, p: &[f64]) -> Vec<f64> {
    let mut q = p.to_vec();
    (0..p.len())
        .map(|i| {
            q[i] = p[i] + FD_H;
            let a = f(&q);
            q[i] = p[i] - FD_H;
            let b = f(&q);
            q[i] = p[i];
            (a - b) / (2.0 * FD_H)
        })
        .collect()
}

fn uniform(r: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| r.random_range(-1.0..1.0)).collect()
}

/// L = Σ C ⊙ f(X): the parameter and input gradients of one backward pass against
/// central differences of L.
fn check_backward(mlp: &Mlp, batch: usize, group: usize, mode: Mode, seed: u64, what: &str) {
    let mut r = rng(seed, 0);
    let p = uniform(&mut r, mlp.n_params());
    let x = DMatrix::from_fn(batch, mlp.input_dim(), |_, _| r.random_range(-1.5..1.5));
    let c = DMatrix::from_fn(batch, mlp.output_dim(), |_, _| r.random_range(-1.0..1.0));
    let mut ws = mlp.workspace::<f64>(batch);
    ws.set_group_rows(group);
    mlp.draw_masks(&mut ws, &mut r);
    let stats: Vec<RunningStats> = mlp
        .running_stats()
        .into_iter()
        .map(|s| RunningStats {
            mean: s.mean.iter().map(|_| r.random_range(-0.5..0.5)).collect(),
            var: s.var.iter().map(|_| r.random_range(0.5..2.0)).collect(),
        })
        .collect();
    ws.set_running_stats(&stats);
    let loss = |p: &[f64], x: &DMatrix<f64>, ws: &mut Workspace<f64>| {
        ws.input_mut().copy_from(x);
        mlp.forward(p, ws, mode);
        ws.output().component_mul(&c).sum()
    };
    loss(&p, &x, &mut ws);
    ws.output_grad_mut().copy_from(&c);
    let mut g = vec![0.0; p.len()];
    mlp.backward(&p, &mut ws, Some(&mut g), true);
    let gx = ws.input_grad().clone();
    let mut ws2 = ws.clone();
    let e = rel_err(&g, &fd(|q| loss(q, &x, &mut ws2), &p));
    assert!(e < GRAD_CHECK_TOL, "{what}: parameters {e:e}");
    let ex = rel_err(
        gx.as_slice(),
        &fd(
            |xs| {
                let xm = DMatrix::from_column_slice(batch, mlp.input_dim(), xs);
                loss(&p, &xm, &mut ws2)
            },
            x.as_slice(),
        ),
    );
    assert!(ex < GRAD_CHECK_TOL, "{what}: input {ex:e}");
    assert!(g.iter().any(|v| v.abs() > 1e-3), "{what}: trivial gradient");
}

fn bn() -> LayerKind {
    LayerKind::BatchNorm {
        momentum: 0.1,
        eps: 1e-5,
    }
}

#[test]
fn batch_norm_gradients_match_differences_through_the_batch_statistics() {
    for (i, act) in [
        Activation::Relu,
        Activation::Tanh,
        Activation::LeakyRelu { slope: 0.2 },
    ]
    .into_iter()
    .enumerate()
    {
        for keep in [1.0, 0.7] {
            let mlp = Mlp::chain(&[3, 6, 5, 2], act, Activation::Linear, keep, bn(), None).unwrap();
            for mode in [Mode::Train, Mode::Eval] {
                check_backward(
                    &mlp,
                    7,
                    0,
                    mode,
                    i as u64,
                    &format!("BN {act:?} {keep} {mode:?}"),
                );
            }
        }
    }
}

#[test]
fn batch_norm_normalises_each_unit_over_the_batch() {
    // γ = 1, β = 0, linear σ: each output column of the first layer has mean 0 and
    // variance v/(v + ε) (closed form of Algorithm 1).
    let mlp = Mlp::chain(
        &[2, 4, 1],
        Activation::Linear,
        Activation::Linear,
        1.0,
        bn(),
        None,
    )
    .unwrap();
    let mut r = rng(3, 0);
    let mut p: Vec<f64> = mlp.init(Init::Normal { std: 1.0 }, &mut r);
    let (_, b) = mlp.layout(0);
    assert!(p[b..b + 4].iter().all(|v| *v == 1.0) && p[b + 4..b + 8].iter().all(|v| *v == 0.0));
    p[b..b + 4].fill(1.0);
    let x = DMatrix::from_fn(9, 2, |_, _| r.random_range(-2.0..2.0));
    let mut ws = mlp.workspace::<f64>(9);
    mlp.forward_from(&p, &x, &mut ws, Mode::Train);
    let h = ws.layer_output(0);
    let (mean, var) = ws.batch_statistics()[0];
    for k in 0..4 {
        let col = h.column(k);
        let m = col.sum() / 9.0;
        let v = col.map(|y| (y - m).powi(2)).sum() / 9.0;
        assert!(m.abs() < EXACT_TOL, "mean {m}");
        assert!((v - var[k] / (var[k] + 1e-5)).abs() < EXACT_TOL, "var {v}");
        let a = x.column(0) * p[k * 2] + x.column(1) * p[k * 2 + 1];
        assert!((a.sum() / 9.0 - mean[k]).abs() < EXACT_TOL);
    }
}

#[test]
fn running_statistics_follow_pytorchs_update() {
    let mut st = RunningStats::new(2);
    st.update(&[2.0f64, -1.0], &[0.5, 3.0], 5, 0.1);
    // r_μ = 0.9·0 + 0.1·μ, r_v = 0.9·1 + 0.1·v·B/(B − 1).
    assert!((st.mean[0] - 0.2).abs() < EXACT_TOL && (st.mean[1] + 0.1).abs() < EXACT_TOL);
    assert!((st.var[0] - (0.9 + 0.1 * 0.5 * 1.25)).abs() < EXACT_TOL);
    assert!((st.var[1] - (0.9 + 0.1 * 3.0 * 1.25)).abs() < EXACT_TOL);
}

#[test]
fn maxout_takes_the_largest_piece() {
    let mlp = Mlp::chain(
        &[3, 4, 1],
        Activation::Linear,
        Activation::Linear,
        1.0,
        LayerKind::Maxout { pieces: 5 },
        None,
    )
    .unwrap();
    let mut r = rng(5, 0);
    let p = uniform(&mut r, mlp.n_params());
    let x = DMatrix::from_fn(6, 3, |_, _| r.random_range(-1.0..1.0));
    let mut ws = mlp.workspace::<f64>(6);
    mlp.forward_from(&p, &x, &mut ws, Mode::Eval);
    let (w, b) = mlp.layout(0);
    let wm = DMatrix::from_column_slice(3, 20, &p[w..b]);
    let a = &x * wm;
    for i in 0..6 {
        for j in 0..4 {
            let best = (0..5)
                .map(|q| a[(i, j * 5 + q)] + p[b + j * 5 + q])
                .fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(ws.layer_output(0)[(i, j)], best);
        }
    }
}

#[test]
fn maxout_gradients_and_double_backprop_match_differences() {
    for keep in [1.0, 0.6] {
        for pieces in [2, 5] {
            let mlp = Mlp::chain(
                &[2, 6, 5, 1],
                Activation::Linear,
                Activation::Linear,
                keep,
                LayerKind::Maxout { pieces },
                None,
            )
            .unwrap();
            let what = format!("maxout({pieces}) keep {keep}");
            check_backward(&mlp, 7, 0, Mode::Train, pieces as u64, &what);
            // P = Σ 0.7‖∇ₓf‖² + U·∇ₓf, as for the dense layers.
            let mut r = rng(10 + pieces as u64, 0);
            let p = uniform(&mut r, mlp.n_params());
            let x = DMatrix::from_fn(7, 2, |_, _| r.random_range(-1.5..1.5));
            let u = DMatrix::from_fn(7, 2, |_, _| r.random_range(-1.0..1.0));
            let mut ws = mlp.workspace::<f64>(7);
            mlp.draw_masks(&mut ws, &mut r);
            let pen = |q: &[f64], ws: &mut Workspace<f64>| {
                mlp.forward_from(q, &x, ws, Mode::Train);
                mlp.input_gradient(q, ws);
                let g = ws.input_grad();
                (
                    0.7 * g.norm_squared() + g.component_mul(&u).sum(),
                    g * 1.4 + &u,
                )
            };
            let (_, seed) = pen(&p, &mut ws);
            ws.penalty_seed_mut().copy_from(&seed);
            let mut g = vec![0.0; p.len()];
            mlp.penalty_backward(&p, &mut ws, &mut g);
            let mut ws2 = ws.clone();
            let e = rel_err(&g, &fd(|q| pen(q, &mut ws2).0, &p));
            assert!(e < GRAD_CHECK_TOL, "{what} double backprop: {e:e}");
        }
    }
}

fn minibatch(kernels: usize, dim: usize) -> Option<LayerKind> {
    Some(LayerKind::Minibatch { kernels, dim })
}

#[test]
fn minibatch_features_match_a_hand_computed_pair() {
    // One feature, one kernel of dimension 2, T = [1, −2]: M_i = (f_i, −2 f_i), so
    // ‖M_1 − M_2‖₁ = 3|f_1 − f_2| and o_1 = o_2 = 1 + e^{−3|f_1 − f_2|}.
    let mlp = Mlp::from_layers(vec![LayerSpec {
        fan_in: 1,
        fan_out: 2,
        activation: Activation::Linear,
        keep: 1.0,
        kind: LayerKind::Minibatch { kernels: 1, dim: 2 },
    }])
    .unwrap();
    let x = DMatrix::from_column_slice(2, 1, &[0.3, -0.1]);
    let mut ws = mlp.workspace::<f64>(2);
    mlp.forward_from(&[1.0, -2.0], &x, &mut ws, Mode::Train);
    let want = 1.0 + (-3.0f64 * 0.4).exp();
    let o = ws.output();
    assert_eq!((o[(0, 0)], o[(1, 0)]), (0.3, -0.1));
    assert!((o[(0, 1)] - want).abs() < EXACT_TOL && (o[(1, 1)] - want).abs() < EXACT_TOL);
    mlp.forward_from(&[1.0, -2.0], &x, &mut ws, Mode::Eval);
    assert_eq!((ws.output()[(0, 1)], ws.output()[(1, 1)]), (1.0, 1.0));
    // Two groups of one row: no pairs.
    ws.set_group_rows(1);
    mlp.forward_from(&[1.0, -2.0], &x, &mut ws, Mode::Train);
    assert_eq!(ws.output()[(0, 1)], 1.0);
}

#[test]
fn minibatch_gradients_match_differences_within_groups() {
    for (i, hidden) in [LayerKind::Dense, LayerKind::Maxout { pieces: 3 }]
        .into_iter()
        .enumerate()
    {
        let act = if i == 0 {
            Activation::Tanh
        } else {
            Activation::Linear
        };
        let mlp = Mlp::chain(
            &[2, 6, 4, 1],
            act,
            Activation::Linear,
            1.0,
            hidden,
            minibatch(3, 2),
        )
        .unwrap();
        assert_eq!(mlp.layers().len(), 4);
        assert_eq!(mlp.layers()[3].fan_in, 4 + 3);
        for group in [0, 4] {
            let what = format!("minibatch after {hidden:?}, groups of {group}");
            check_backward(&mlp, 8, group, Mode::Train, 30 + i as u64, &what);
        }
    }
}

#[test]
fn blocks_tile_the_parameter_vector() {
    let mlp = Mlp::chain(
        &[4, 5, 3, 1],
        Activation::Linear,
        Activation::Linear,
        1.0,
        LayerKind::Maxout { pieces: 2 },
        minibatch(2, 3),
    )
    .unwrap();
    let blocks = mlp.blocks();
    let mut at = 0;
    for b in &blocks {
        assert_eq!(b.offset, at, "{b:?}");
        at += b.rows * b.cols;
    }
    assert_eq!(at, mlp.n_params());
    let names: Vec<&str> = blocks.iter().map(|b| b.name).collect();
    assert_eq!(names, ["W", "b", "W", "b", "T", "W", "b"]);
    // Maxout W is fan_in × k·fan_out; T is features × kernels·dim.
    assert_eq!((blocks[0].rows, blocks[0].cols), (4, 10));
    assert_eq!((blocks[4].rows, blocks[4].cols), (3, 6));
    let g = Mlp::chain(
        &[2, 3, 1],
        Activation::Relu,
        Activation::Linear,
        1.0,
        bn(),
        None,
    )
    .unwrap();
    let names: Vec<&str> = g.blocks().iter().map(|b| b.name).collect();
    assert_eq!(names, ["W", "gamma", "beta", "W", "b"]);
    assert_eq!(g.n_params(), 2 * 3 + 6 + 3 + 1);
}

#[test]
fn bad_layer_kinds_are_rejected() {
    let relu = Activation::Relu;
    let lin = Activation::Linear;
    let mo = |k| LayerKind::Maxout { pieces: k };
    assert!(Mlp::chain(&[2, 3, 1], relu, lin, 1.0, mo(3), None).is_err());
    assert!(Mlp::chain(&[2, 3, 1], lin, lin, 1.0, mo(1), None).is_err());
    assert!(Mlp::chain(&[2, 3, 1], lin, lin, 1.0, mo(256), None).is_err());
    let bad_bn = LayerKind::BatchNorm {
        momentum: 1.5,
        eps: 1e-5,
    };
    assert!(Mlp::chain(&[2, 3, 1], relu, lin, 1.0, bad_bn, None).is_err());
    assert!(
        Mlp::chain(
            &[2, 3, 1],
            relu,
            lin,
            1.0,
            LayerKind::Dense,
            minibatch(0, 2)
        )
        .is_err()
    );
    assert!(Mlp::chain(&[2, 3, 1], relu, lin, 1.0, LayerKind::Dense, Some(bn())).is_err());
    let ok = Mlp::chain(&[2, 3, 1], lin, lin, 1.0, mo(2), None).unwrap();
    assert!(ok.has_exact_tangent() && ok.supports_double_backprop());
    let coupled = Mlp::chain(&[2, 3, 1], relu, lin, 1.0, bn(), None).unwrap();
    assert!(coupled.couples_rows() && !coupled.has_exact_tangent());
}
