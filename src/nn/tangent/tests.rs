//! Each tangent pass against central differences of the primal pass it differentiates.

use nalgebra::DMatrix;
use rand::RngExt;

use super::*;
use crate::linalg::{Rng, rng};
use crate::nn::{Activation, LayerKind, Mode};

/// Relative error allowed between a tangent and central differences in f64,
/// ‖a − fd‖ / max(‖a‖, ‖fd‖), as for the gradient checks of the primal passes.
const TANGENT_TOL: f64 = 1e-6;
/// Step of the directional differences: small, so that no ReLU unit is likely to
/// cross its kink within the step (rounding ~ε/H ≈ 1e-10 relative).
const H: f64 = 1e-6;

const ACTS: [Activation; 5] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.2 },
    Activation::Tanh,
    Activation::Sigmoid,
];

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    d / na.max(nb).max(1e-12)
}

fn uniform(r: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| r.random_range(-1.0..1.0)).collect()
}

/// A network with dropout on its hidden layers, random parameters (biases too, so no
/// ReLU unit sits on its kink), an input, and directions for both.
struct Case {
    mlp: Mlp,
    p: Vec<f64>,
    dp: Vec<f64>,
    x: DMatrix<f64>,
    dx: DMatrix<f64>,
    ws: Workspace<f64>,
}

fn case(widths: &[usize], act: Activation, out: Activation, seed: u64) -> Case {
    case_of(widths, act, out, LayerKind::Dense, seed)
}

/// Maxout hidden layers (3 pieces, linear) with dropout, as [`case`].
fn maxout_case(widths: &[usize], seed: u64) -> Case {
    let kind = LayerKind::Maxout { pieces: 3 };
    case_of(widths, Activation::Linear, Activation::Linear, kind, seed)
}

fn case_of(widths: &[usize], act: Activation, out: Activation, kind: LayerKind, seed: u64) -> Case {
    let mut r = rng(seed, 0);
    let mlp = Mlp::chain(widths, act, out, 0.7, kind, None).unwrap();
    let b = 6;
    let p = uniform(&mut r, mlp.n_params());
    let dp = uniform(&mut r, mlp.n_params());
    let x = DMatrix::from_fn(b, widths[0], |_, _| r.random_range(-1.5..1.5));
    let dx = DMatrix::from_fn(b, widths[0], |_, _| r.random_range(-1.0..1.0));
    let mut ws = mlp.workspace::<f64>(b);
    mlp.draw_masks(&mut ws, &mut r);
    Case {
        mlp,
        p,
        dp,
        x,
        dx,
        ws,
    }
}

impl Case {
    /// (p + t·ṗ, x + t·ẋ).
    fn at(&self, t: f64) -> (Vec<f64>, DMatrix<f64>) {
        let p = self
            .p
            .iter()
            .zip(&self.dp)
            .map(|(a, b)| a + t * b)
            .collect();
        (p, &self.x + &self.dx * t)
    }
    /// Central difference of `f` along the direction.
    fn fd(&self, f: impl Fn(&[f64], &DMatrix<f64>, &mut Workspace<f64>) -> Vec<f64>) -> Vec<f64> {
        let mut ws = self.ws.clone();
        let (pp, xp) = self.at(H);
        let (pm, xm) = self.at(-H);
        let (fp, fm) = (f(&pp, &xp, &mut ws), f(&pm, &xm, &mut ws));
        fp.iter()
            .zip(&fm)
            .map(|(a, b)| (a - b) / (2.0 * H))
            .collect()
    }
}

#[test]
fn forward_tangent_matches_differences() {
    for (i, &act) in ACTS.iter().enumerate() {
        let c = case(&[3, 5, 4, 2], act, ACTS[(i + 3) % 5], i as u64);
        check_forward(c, &format!("{act:?}"));
    }
    check_forward(maxout_case(&[3, 5, 4, 2], 60), "maxout");
}

fn check_forward(mut c: Case, what: &str) {
    {
        c.mlp.forward_from(&c.p, &c.x, &mut c.ws, Mode::Train);
        let mut tw = c.mlp.tangent(6, false);
        tw.input_mut().copy_from(&c.dx);
        c.mlp
            .forward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, true);
        let fd = c.fd(|p, x, ws| {
            c.mlp.forward_from(p, x, ws, Mode::Train);
            ws.output().as_slice().to_vec()
        });
        let e = rel_err(tw.output().as_slice(), &fd);
        assert!(e < TANGENT_TOL, "{what}: {e:e}");
    }
}

#[test]
fn backward_tangent_matches_differences_of_both_gradients() {
    for (i, &act) in ACTS.iter().enumerate() {
        let c = case(&[3, 5, 4, 2], act, ACTS[(i + 2) % 5], 10 + i as u64);
        check_backward(c, 20 + i as u64, &format!("{act:?}"));
    }
    check_backward(maxout_case(&[3, 5, 4, 2], 61), 62, "maxout");
}

fn check_backward(mut c: Case, seed: u64, what: &str) {
    {
        let mut r = rng(seed, 0);
        // A seed that moves too: C + t·Ċ.
        let seed = DMatrix::from_fn(6, 2, |_, _| r.random_range(-1.0..1.0));
        let dseed = DMatrix::from_fn(6, 2, |_, _| r.random_range(-1.0..1.0));
        let grads = |p: &[f64], x: &DMatrix<f64>, s: &DMatrix<f64>, ws: &mut Workspace<f64>| {
            c.mlp.forward_from(p, x, ws, Mode::Train);
            ws.output_grad_mut().copy_from(s);
            let mut g = vec![0.0; p.len()];
            c.mlp.backward(p, ws, Some(&mut g), true);
            g.extend_from_slice(ws.input_grad().as_slice());
            g
        };
        grads(&c.p, &c.x, &seed, &mut c.ws);
        let mut tw = c.mlp.tangent(6, false);
        tw.input_mut().copy_from(&c.dx);
        c.mlp
            .forward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, true);
        tw.output_grad_mut().copy_from(&dseed);
        let mut dg = vec![0.0; c.p.len()];
        c.mlp
            .backward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, Some(&mut dg), true);
        dg.extend_from_slice(tw.input_grad().as_slice());
        let fd = {
            let mut ws = c.ws.clone();
            let (pp, xp) = c.at(H);
            let (pm, xm) = c.at(-H);
            let gp = grads(&pp, &xp, &(&seed + &dseed * H), &mut ws);
            let gm = grads(&pm, &xm, &(&seed - &dseed * H), &mut ws);
            gp.iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / (2.0 * H))
                .collect::<Vec<_>>()
        };
        let e = rel_err(&dg, &fd);
        assert!(e < TANGENT_TOL, "{what}: {e:e}");
    }
}

#[test]
fn penalty_tangent_matches_differences_of_double_backprop() {
    for (i, &act) in ACTS.iter().enumerate() {
        for out in [Activation::Linear, Activation::Tanh] {
            let c = case(&[2, 6, 5, 1], act, out, 30 + i as u64);
            check_penalty(c, &format!("{act:?}/{out:?}"));
        }
    }
    check_penalty(maxout_case(&[2, 6, 5, 1], 63), "maxout");
}

fn check_penalty(mut c: Case, what: &str) {
    {
        {
            let u = DMatrix::from_fn(6, 2, |r, k| ((r + 2 * k) as f64 * 0.7).sin());
            // P = Σ 0.7‖∇ₓf‖² + U·∇ₓf, seed Ḡ₀ = 1.4 ∇ₓf + U, R{Ḡ₀} = 1.4 R{∇ₓf}.
            let pgrad = |p: &[f64], x: &DMatrix<f64>, ws: &mut Workspace<f64>| {
                c.mlp.forward_from(p, x, ws, Mode::Train);
                c.mlp.input_gradient(p, ws);
                let s = ws.input_grad() * 1.4 + &u;
                ws.penalty_seed_mut().copy_from(&s);
                let mut g = vec![0.0; p.len()];
                c.mlp.penalty_backward(p, ws, &mut g);
                g
            };
            let fd = c.fd(pgrad);
            c.mlp.forward_from(&c.p, &c.x, &mut c.ws, Mode::Train);
            c.mlp.input_gradient(&c.p, &mut c.ws);
            let s = c.ws.input_grad() * 1.4 + &u;
            c.ws.penalty_seed_mut().copy_from(&s);
            let mut tw = c.mlp.tangent(6, true);
            tw.input_mut().copy_from(&c.dx);
            c.mlp
                .forward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, true);
            tw.output_grad_mut().fill(0.0);
            c.mlp
                .backward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, None, true);
            let rs = tw.input_grad() * 1.4;
            tw.penalty_seed_mut().copy_from(&rs);
            let mut dg = vec![0.0; c.p.len()];
            c.mlp
                .penalty_tangent(&c.p, Some(&c.dp), &mut c.ws, &mut tw, &mut dg);
            let e = rel_err(&dg, &fd);
            assert!(e < TANGENT_TOL, "{what}: {e:e}");
        }
    }
}

/// The seeded and the direct path compute the same sums in another order.
const SEEDED_TOL: f64 = 1e-12;

#[test]
fn seeded_gradient_tangent_equals_the_seeded_backward_tangent() {
    for (i, &act) in ACTS.iter().enumerate() {
        let c = case(&[2, 6, 5, 1], act, Activation::Linear, 40 + i as u64);
        check_seeded(c, &format!("{act:?}"));
    }
    check_seeded(maxout_case(&[2, 6, 5, 1], 64), "maxout");
}

fn check_seeded(mut c: Case, what: &str) {
    {
        let s: Vec<f64> = (0..6).map(|k| (k as f64 * 0.9).cos()).collect();
        let rs: Vec<f64> = (0..6).map(|k| (k as f64 * 1.3).sin()).collect();
        c.mlp.forward_from(&c.p, &c.x, &mut c.ws, Mode::Train);
        let mut tw = c.mlp.tangent(6, false);
        tw.input_mut().copy_from(&c.dx);
        c.mlp
            .forward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, true);
        // Direct: backward from s, tangent from ṡ.
        let mut ws = c.ws.clone();
        ws.output_grad_mut().as_mut_slice().copy_from_slice(&s);
        c.mlp.backward(&c.p, &mut ws, None, false);
        let mut tw_direct = tw.clone();
        tw_direct
            .output_grad_mut()
            .as_mut_slice()
            .copy_from_slice(&rs);
        let mut direct = vec![0.0; c.p.len()];
        c.mlp.backward_tangent(
            &c.p,
            Some(&c.dp),
            &ws,
            &mut tw_direct,
            Some(&mut direct),
            false,
        );
        // Seeded: one backward from 1, then the row scaling.
        c.ws.output_grad_mut().fill(1.0);
        c.mlp.backward(&c.p, &mut c.ws, None, false);
        tw.output_grad_mut().fill(0.0);
        c.mlp
            .backward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, None, false);
        let mut seeded = vec![0.0; c.p.len()];
        c.mlp
            .seeded_gradient_tangent(&c.ws, &mut tw, &s, &rs, &mut seeded);
        let e = rel_err(&seeded, &direct);
        assert!(e < SEEDED_TOL, "{what}: {e:e}");
        assert!(direct.iter().any(|v| v.abs() > 1e-3));
    }
}

#[test]
fn a_zero_direction_gives_zero_tangents() {
    let mut c = case(&[3, 5, 1], Activation::Tanh, Activation::Linear, 50);
    c.mlp.forward_from(&c.p, &c.x, &mut c.ws, Mode::Train);
    c.ws.output_grad_mut().fill(1.0);
    c.mlp.backward(&c.p, &mut c.ws, None, true);
    // Buffers holding a previous, non-zero tangent must not leak into a zero one.
    let mut tw = c.mlp.tangent(6, false);
    tw.input_mut().copy_from(&c.dx);
    c.mlp
        .forward_tangent(&c.p, Some(&c.dp), &c.ws, &mut tw, true);
    assert!(tw.output().iter().any(|v| *v != 0.0));
    c.mlp.forward_tangent(&c.p, None, &c.ws, &mut tw, false);
    assert!(tw.output().iter().all(|v| *v == 0.0));
    tw.output_grad_mut().fill(0.0);
    let mut dg = vec![0.0; c.p.len()];
    c.mlp
        .backward_tangent(&c.p, None, &c.ws, &mut tw, Some(&mut dg), true);
    assert!(dg.iter().chain(tw.input_grad().iter()).all(|v| *v == 0.0));
}
