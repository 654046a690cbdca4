use super::*;
use crate::datasets::{Dataset, LatentKind};
use crate::game::Player;
use crate::linalg::{Vector, rng};
use crate::nn::Activation;
use rand::RngExt;

/// Relative error allowed between the hand-written field and central differences
/// of the losses, in f64: ‖a − fd‖ / max(‖a‖, ‖fd‖).
const GRAD_CHECK_TOL: f64 = 1e-6;
const FD_H: f64 = 1e-5;

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let n = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(b.iter().map(|x| x * x).sum::<f64>().sqrt());
    d / n.max(1e-12)
}

fn small_gan(
    objective: Objective,
    act: Activation,
    g_keep: f64,
    seed: u64,
) -> (NeuralGan<f64>, Vec<f64>, Vec<f64>) {
    let k = objective.info.map_or(0, |i| i.categories);
    let latent = Latent {
        kind: LatentKind::Gaussian,
        dim: 3,
    };
    let g = Mlp::new(&[3 + k, 6, 5, 2], act, Activation::Linear, g_keep).unwrap();
    let d = Mlp::new(&[2, 7, 5, 1], act, Activation::Linear, 1.0).unwrap();
    let q = objective
        .info
        .map(|i| Mlp::new(&[2, 4, i.categories], act, Activation::Linear, 1.0).unwrap());
    let mut r = rng(seed, 0);
    let data = Dataset::Ring {
        modes: 3,
        radius: 1.0,
        std: 0.3,
        weights: None,
    }
    .build()
    .unwrap();
    let gan = NeuralGan::new(g, d, q, objective, latent, data, 5, &mut r).unwrap();
    // Random biases so that no ReLU row sits exactly on a kink.
    let theta = (0..gan.n_generator())
        .map(|_| r.random_range(-1.0..1.0))
        .collect();
    let psi = (0..gan.n_discriminator())
        .map(|_| r.random_range(-1.0..1.0))
        .collect();
    (gan, theta, psi)
}

fn check(objective: Objective, act: Activation, g_keep: f64) {
    let (gan, theta, psi) = small_gan(objective.clone(), act, g_keep, 3);
    let mut s = gan.scratch();
    let mut gg = vec![0.0; theta.len()];
    gan.generator_gradient(&theta, &psi, &mut s, &mut gg);
    let mut gd = vec![0.0; psi.len()];
    gan.discriminator_gradient(&theta, &psi, &mut s, &mut gd);
    let lg = |t: &[f64], s: &mut Scratch<f64>| {
        gan.generator_gradient(t, &psi, s, &mut vec![0.0; theta.len()])
            .loss
    };
    let ld = |p: &[f64], s: &mut Scratch<f64>| {
        gan.discriminator_gradient(&theta, p, s, &mut vec![0.0; psi.len()])
            .loss
    };
    let fd = |f: &dyn Fn(&[f64], &mut Scratch<f64>) -> f64, p: &[f64], s: &mut Scratch<f64>| {
        let mut q = p.to_vec();
        (0..p.len())
            .map(|i| {
                q[i] = p[i] + FD_H;
                let a = f(&q, s);
                q[i] = p[i] - FD_H;
                let b = f(&q, s);
                q[i] = p[i];
                (a - b) / (2.0 * FD_H)
            })
            .collect::<Vec<_>>()
    };
    let eg = rel_err(&gg, &fd(&lg, &theta, &mut s));
    let ed = rel_err(&gd, &fd(&ld, &psi, &mut s));
    assert!(
        eg < GRAD_CHECK_TOL && ed < GRAD_CHECK_TOL,
        "{objective:?} {act:?}: G {eg:e}, D {ed:e}"
    );
}

fn objective(loss: GanLoss, penalty: Penalty) -> Objective {
    Objective {
        loss,
        penalty,
        label_smoothing: 0.0,
        weight_clip: None,
        info: None,
    }
}

#[test]
fn field_matches_differences_for_every_loss_and_penalty() {
    let penalties = [
        Penalty::None,
        Penalty::GradientPenalty { lambda: 10.0 },
        Penalty::R1 { gamma: 3.0 },
        Penalty::R2 { gamma: 0.5 },
    ];
    for loss in [
        GanLoss::Minimax,
        GanLoss::NonSaturating,
        GanLoss::Wasserstein,
    ] {
        for pen in penalties {
            for act in [Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
                check(objective(loss, pen), act, 1.0);
            }
        }
    }
}

#[test]
fn field_matches_differences_with_smoothing_infogan_and_dropout() {
    let mut o = objective(GanLoss::NonSaturating, Penalty::R1 { gamma: 1.0 });
    o.label_smoothing = 0.1;
    check(o.clone(), Activation::Sigmoid, 1.0);
    o.info = Some(InfoGanTerm {
        categories: 3,
        lambda: 0.7,
    });
    check(o.clone(), Activation::Tanh, 1.0);
    check(o, Activation::Relu, 0.5);
}

#[test]
fn game_field_is_minus_gradients_and_player_field_agrees() {
    let (gan, theta, psi) = small_gan(
        objective(GanLoss::Minimax, Penalty::None),
        Activation::Tanh,
        1.0,
        5,
    );
    let x = Vector::from_iterator(gan.dim(), theta.iter().chain(&psi).copied());
    let v = gan.field(&x);
    let vg = gan.player_field(&x, Player::Generator);
    let vd = gan.player_field(&x, Player::Discriminator);
    assert!((&vg + &vd - &v).amax() < 1e-15);
    let mut s = gan.scratch();
    let mut gg = vec![0.0; theta.len()];
    gan.generator_gradient(&theta, &psi, &mut s, &mut gg);
    assert!(
        gg.iter()
            .zip(v.iter())
            .all(|(g, vi)| (g + vi).abs() < 1e-15)
    );
    // Zero-sum check for minimax without smoothing: ∇_θ L_G = −∇_θ L_D. L_D depends
    // on θ only through the fakes, so compare the θ-differences of the two losses.
    let mut tp = theta.clone();
    tp[0] += 1e-5;
    let lg = |t: &[f64], s: &mut Scratch<f64>| {
        gan.generator_gradient(t, &psi, s, &mut vec![0.0; theta.len()])
            .loss
    };
    let ld = |t: &[f64], s: &mut Scratch<f64>| {
        gan.discriminator_gradient(t, &psi, s, &mut vec![0.0; psi.len()])
            .loss
    };
    let dg = lg(&tp, &mut s) - lg(&theta, &mut s);
    let dd = ld(&tp, &mut s) - ld(&theta, &mut s);
    assert!((dg + dd).abs() < 1e-12, "{dg} {dd}");
}

/// Tolerance of the zero-sum Jacobian identity: both blocks come from central
/// differences of the field (h ≈ 6e-6), so agreement is to ~1e-8 at order-one entries.
const JACOBIAN_TOL: f64 = 1e-6;

#[test]
fn zero_sum_jacobian_has_antisymmetric_coupling_blocks() {
    // Minimax without smoothing or penalty: L_G = −L_D + c(ψ), so v = (∇_θL_D, −∇_ψL_D)
    // and J_θψ = ∇²_θψ L_D = −J_ψθᵀ. Computed through the Game trait's default
    // (finite-difference) Jacobian, as every analysis does.
    let (gan, theta, psi) = small_gan(
        objective(GanLoss::Minimax, Penalty::None),
        Activation::Tanh,
        1.0,
        9,
    );
    let x = Vector::from_iterator(gan.dim(), theta.iter().chain(&psi).copied());
    let j = gan.jacobian(&x);
    let (ng, n) = (gan.split(), gan.dim());
    let jgd = j.view((0, ng), (ng, n - ng));
    let jdg = j.view((ng, 0), (n - ng, ng));
    let err = (jgd + jdg.transpose()).amax();
    assert!(err < JACOBIAN_TOL * jgd.amax().max(1.0), "{err}");
    assert!(jgd.amax() > 1e-3, "coupling block is not trivially zero");
    assert!(gan.nonsmooth_at(&x).is_none());
}

#[test]
fn clipping_projects_only_the_discriminator() {
    let mut o = objective(GanLoss::Wasserstein, Penalty::None);
    o.weight_clip = Some(0.1);
    let (gan, theta, psi) = small_gan(o, Activation::Relu, 1.0, 1);
    let mut x = Vector::from_iterator(gan.dim(), theta.iter().chain(&psi).copied());
    gan.project(&mut x);
    assert!(x.iter().skip(gan.split()).all(|v| v.abs() <= 0.1));
    assert!(x.iter().take(gan.split()).zip(&theta).all(|(a, b)| a == b));
    assert!(gan.nonsmooth_at(&x).is_some());
}
