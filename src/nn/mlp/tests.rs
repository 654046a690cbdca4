use super::*;
use crate::linalg::rng;

/// Relative error allowed between a hand-written gradient and central differences
/// in f64: ‖a − fd‖ / max(‖a‖, ‖fd‖, 1e-12).
pub const GRAD_CHECK_TOL: f64 = 1e-6;
/// Central-difference step for the checks.
const FD_H: f64 = 1e-5;

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    d / na.max(nb).max(1e-12)
}

fn fd_grad(mut f: impl FnMut(&[f64]) -> f64, p: &[f64]) -> Vec<f64> {
    let mut q = p.to_vec();
    (0..p.len())
        .map(|i| {
            q[i] = p[i] + FD_H;
            let fp = f(&q);
            q[i] = p[i] - FD_H;
            let fm = f(&q);
            q[i] = p[i];
            (fp - fm) / (2.0 * FD_H)
        })
        .collect()
}

const ACTS: [Activation; 5] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.2 },
    Activation::Tanh,
    Activation::Sigmoid,
];

/// L = Σ C ⊙ f(X) for a fixed random C.
fn weighted_output(
    mlp: &Mlp,
    p: &[f64],
    x: &DMatrix<f64>,
    c: &DMatrix<f64>,
    ws: &mut Workspace<f64>,
) -> f64 {
    mlp.forward_from(p, x, ws, Mode::Train);
    ws.output().component_mul(c).sum()
}

#[test]
fn backward_matches_differences_for_every_activation_and_dropout() {
    for (ai, &act) in ACTS.iter().enumerate() {
        for &keep in &[1.0, 0.6] {
            let mut r = rng(0, ai as u64);
            let mlp = Mlp::new(&[3, 5, 4, 2], act, ACTS[(ai + 1) % 5], keep).unwrap();
            // Random biases too (Normal init sets them to 0, which would put dead-ReLU
            // rows exactly on the next layer's kink).
            let p: Vec<f64> = (0..mlp.n_params())
                .map(|_| r.random_range(-1.0..1.0))
                .collect();
            let x = DMatrix::from_fn(6, 3, |_, _| r.random_range(-1.5..1.5));
            let c = DMatrix::from_fn(6, 2, |_, _| r.random_range(-1.0..1.0));
            let mut ws = mlp.workspace::<f64>(6);
            mlp.draw_masks(&mut ws, &mut r);
            weighted_output(&mlp, &p, &x, &c, &mut ws);
            ws.output_grad_mut().copy_from(&c);
            let mut g = vec![0.0; p.len()];
            mlp.backward(&p, &mut ws, Some(&mut g), true);
            let gx = ws.input_grad().clone();
            let mut ws2 = ws.clone();
            let fd = fd_grad(|q| weighted_output(&mlp, q, &x, &c, &mut ws2), &p);
            assert!(
                rel_err(&g, &fd) < GRAD_CHECK_TOL,
                "{act:?} keep {keep}: {}",
                rel_err(&g, &fd)
            );
            let fdx = fd_grad(
                |xs| {
                    let xm = DMatrix::from_column_slice(6, 3, xs);
                    weighted_output(&mlp, &p, &xm, &c, &mut ws2)
                },
                x.as_slice(),
            );
            assert!(
                rel_err(gx.as_slice(), &fdx) < GRAD_CHECK_TOL,
                "{act:?} input grad"
            );
        }
    }
}

/// P = Σ_i [ a·‖∇ₓf(x_i)‖² + uᵢ·∇ₓf(x_i) ] exercises both the quadratic and the
/// linear seed. Returns P and the seed Ḡ₀.
fn penalty(
    mlp: &Mlp,
    p: &[f64],
    x: &DMatrix<f64>,
    u: &DMatrix<f64>,
    ws: &mut Workspace<f64>,
) -> (f64, DMatrix<f64>) {
    mlp.forward_from(p, x, ws, Mode::Train);
    mlp.input_gradient(p, ws);
    let g = ws.input_grad();
    let val = 0.7 * g.norm_squared() + g.component_mul(u).sum();
    (val, g * 1.4 + u)
}

#[test]
fn double_backprop_matches_differences_for_every_activation() {
    for (ai, &act) in ACTS.iter().enumerate() {
        for &out_act in &[Activation::Linear, Activation::Tanh] {
            let mut r = rng(1, ai as u64);
            let mlp = Mlp::new(&[2, 6, 5, 1], act, out_act, 0.7).unwrap();
            let p: Vec<f64> = (0..mlp.n_params())
                .map(|_| r.random_range(-1.0..1.0))
                .collect();
            let x = DMatrix::from_fn(7, 2, |_, _| r.random_range(-1.5..1.5));
            let u = DMatrix::from_fn(7, 2, |_, _| r.random_range(-1.0..1.0));
            let mut ws = mlp.workspace::<f64>(7);
            mlp.draw_masks(&mut ws, &mut r);
            let (_, seed) = penalty(&mlp, &p, &x, &u, &mut ws);
            ws.penalty_seed_mut().copy_from(&seed);
            let mut g = vec![0.0; p.len()];
            mlp.penalty_backward(&p, &mut ws, &mut g);
            let mut ws2 = ws.clone();
            let fd = fd_grad(|q| penalty(&mlp, q, &x, &u, &mut ws2).0, &p);
            assert!(
                rel_err(&g, &fd) < GRAD_CHECK_TOL,
                "{act:?}/{out_act:?}: {}",
                rel_err(&g, &fd)
            );
        }
    }
}

#[test]
fn glorot_init_respects_its_bound_and_he_zero_bias() {
    let mlp = Mlp::new(&[10, 50, 2], Activation::Relu, Activation::Linear, 1.0).unwrap();
    let p: Vec<f64> = mlp.init(Init::GlorotUniform, &mut rng(0, 0));
    let r0 = (6.0f64 / 60.0).sqrt();
    let (w, b) = mlp.layout(0);
    assert!(p[w..b + 50].iter().all(|v| v.abs() <= r0));
    assert!(p[b..b + 50].iter().any(|v| v.abs() > 0.0));
    let q: Vec<f64> = mlp.init(Init::He, &mut rng(0, 0));
    assert!(q[b..b + 50].iter().all(|v| *v == 0.0));
    let var = q[w..b].iter().map(|v| v * v).sum::<f64>() / 500.0;
    assert!((var - 0.2).abs() < 0.05, "He variance {var}");
}

#[test]
fn bad_architectures_are_rejected() {
    assert!(Mlp::new(&[3], Activation::Relu, Activation::Linear, 1.0).is_err());
    assert!(Mlp::new(&[3, 0, 1], Activation::Relu, Activation::Linear, 1.0).is_err());
    assert!(Mlp::new(&[3, 4, 1], Activation::Relu, Activation::Linear, 0.0).is_err());
}
