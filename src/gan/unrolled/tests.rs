//! Checks of the unrolled objective: its gradient against central differences of the
//! unrolled loss (both variants), the look-ahead against plain gradient steps, and
//! k = 0 against the adversarial GAN bit for bit.

use rand::RngExt;

use super::*;
use crate::datasets::{Dataset, Latent, LatentKind};
use crate::dynamics::{Bound, Optimizer, Order, RuleSpec, Run, Scheme};
use crate::game::Game;
use crate::gan::generator_objective::GeneratorObjective;
use crate::gan::{GanLoss, Objective, Penalty, Scratch};
use crate::linalg::{Vector, norm, rng};
use crate::nn::{Activation, Mlp};

/// Relative error allowed between a hand-written gradient and central differences of
/// the loss in f64, ‖a − fd‖ / max(‖a‖, ‖fd‖): the differences with h = 1e-5 on
/// order-one parameters are accurate to ~1e-9 (truncation h²·|L‴|, rounding ε·|L|/h),
/// as in every gradient check of the neural engine.
const GRAD_CHECK_TOL: f64 = 1e-6;
const FD_H: f64 = 1e-5;
/// Agreement of the look-ahead with steps of [`NeuralGan::discriminator_gradient`]:
/// the same arithmetic, so rounding only (relative, f64).
const SAME_ARITHMETIC: f64 = 1e-14;
/// Look-ahead step of the checks: large enough that ψ_k moves by O(0.1) from ψ on
/// these order-one networks, so the second-order terms are not negligible.
const ETA: f64 = 0.5;

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    norm(&d) / norm(a).max(norm(b)).max(1e-12)
}

fn objective(loss: GanLoss, smoothing: f64) -> Objective {
    Objective {
        loss,
        penalty: Penalty::None,
        label_smoothing: smoothing,
        weight_clip: None,
        info: None,
    }
}

/// A small GAN (batch 5) with generator objective `gen`, at a random point whose
/// every parameter is uniform in (−1, 1) (so no ReLU unit sits on its kink).
fn small<T: Float>(
    o: Objective,
    act: Activation,
    d_keep: f64,
    objective_g: GeneratorObjective,
    seed: u64,
) -> (NeuralGan<T>, Vec<f64>, Vec<f64>) {
    let g = Mlp::new(&[3, 6, 5, 2], act, Activation::Linear, 1.0).unwrap();
    let d = Mlp::new(&[2, 7, 5, 1], act, Activation::Linear, d_keep).unwrap();
    let mut r = rng(seed, 0);
    let data = Dataset::Ring {
        modes: 3,
        radius: 1.0,
        std: 0.3,
        weights: None,
    }
    .build()
    .unwrap();
    let latent = Latent {
        kind: LatentKind::Gaussian,
        dim: 3,
    };
    let gan = NeuralGan::<T>::new(g, d, None, o, latent, data, 5, &mut r)
        .unwrap()
        .with_generator_objective(objective_g)
        .unwrap();
    let theta = (0..gan.n_generator())
        .map(|_| r.random_range(-1.0..1.0))
        .collect();
    let psi = (0..gan.n_discriminator())
        .map(|_| r.random_range(-1.0..1.0))
        .collect();
    (gan, theta, psi)
}

fn unrolled(steps: usize, backprop: bool) -> GeneratorObjective {
    GeneratorObjective::Unrolled(Unroll {
        steps,
        backprop,
        lr: ETA,
    })
}

/// ∇_θ L_G and central differences of θ ↦ `loss(θ)`.
fn grad_and_fd(
    gan: &NeuralGan<f64>,
    theta: &[f64],
    psi: &[f64],
    loss: &dyn Fn(&[f64]) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let mut s = gan.scratch();
    let mut g = vec![0.0; theta.len()];
    gan.generator_gradient(theta, psi, &mut s, &mut g);
    let mut t = theta.to_vec();
    let fd = (0..t.len())
        .map(|i| {
            t[i] = theta[i] + FD_H;
            let a = loss(&t);
            t[i] = theta[i] - FD_H;
            let b = loss(&t);
            t[i] = theta[i];
            (a - b) / (2.0 * FD_H)
        })
        .collect();
    (g, fd)
}

fn unrolled_loss(gan: &NeuralGan<f64>, psi: &[f64]) -> impl Fn(&[f64]) -> f64 {
    move |t: &[f64]| {
        let mut s: Scratch<f64> = gan.scratch();
        gan.generator_gradient(t, psi, &mut s, &mut vec![0.0; t.len()])
            .loss
    }
}

#[test]
fn unrolled_gradient_matches_differences_of_the_unrolled_loss() {
    for act in [Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
        for loss in [
            GanLoss::Minimax,
            GanLoss::NonSaturating,
            GanLoss::Wasserstein,
        ] {
            for (steps, smoothing, keep) in [(1, 0.0, 1.0), (3, 0.1, 1.0), (2, 0.0, 0.7)] {
                let (gan, theta, psi) = small::<f64>(
                    objective(loss, smoothing),
                    act,
                    keep,
                    unrolled(steps, true),
                    7,
                );
                let (g, fd) = grad_and_fd(&gan, &theta, &psi, &unrolled_loss(&gan, &psi));
                let e = rel_err(&g, &fd);
                assert!(
                    e < GRAD_CHECK_TOL,
                    "{act:?} {loss:?} k = {steps} α = {smoothing} keep {keep}: {e:e}"
                );
            }
        }
    }
}

#[test]
fn the_cheap_variant_is_the_partial_gradient_at_the_look_ahead_point() {
    for act in [Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
        let o = objective(GanLoss::NonSaturating, 0.0);
        let (cheap, theta, psi) = small::<f64>(o.clone(), act, 1.0, unrolled(3, false), 3);
        let (plain, ..) = small::<f64>(o, act, 1.0, GeneratorObjective::Adversarial, 3);
        let u = Unroll {
            steps: 3,
            backprop: false,
            lr: ETA,
        };
        let psi_k = cheap.look_ahead(&u, &theta, &psi);
        assert!(rel_err(&psi_k, &psi) > 1e-2, "the look-ahead moved D");
        // ∂_θ L_G(θ, ψ_k) with ψ_k frozen: the plain game's gradient at ψ_k, the same
        // passes in the same order, so equal bit for bit.
        let (g, fd) = grad_and_fd(&cheap, &theta, &psi, &unrolled_loss(&plain, &psi_k));
        let mut gp = vec![0.0; theta.len()];
        plain.generator_gradient(&theta, &psi_k, &mut plain.scratch(), &mut gp);
        assert_eq!(g, gp);
        let e = rel_err(&g, &fd);
        assert!(e < GRAD_CHECK_TOL, "{act:?}: {e:e}");
        // The unrolled gradient is a different vector: the second-order terms count.
        let (full, ..) = small::<f64>(
            objective(GanLoss::NonSaturating, 0.0),
            act,
            1.0,
            unrolled(3, true),
            3,
        );
        let mut gf = vec![0.0; theta.len()];
        full.generator_gradient(&theta, &psi, &mut full.scratch(), &mut gf);
        assert!(rel_err(&gf, &g) > 1e-3, "{act:?}");
    }
}

#[test]
fn the_look_ahead_takes_plain_gradient_steps_of_the_discriminator_loss() {
    let (gan, theta, psi) = small::<f64>(
        objective(GanLoss::Minimax, 0.1),
        Activation::Tanh,
        0.7,
        unrolled(4, true),
        5,
    );
    let u = Unroll {
        steps: 4,
        backprop: true,
        lr: ETA,
    };
    let mut s = gan.scratch();
    let mut p = psi.clone();
    for _ in 0..4 {
        let mut g = vec![0.0; p.len()];
        gan.discriminator_gradient(&theta, &p, &mut s, &mut g);
        p.iter_mut().zip(&g).for_each(|(v, gi)| *v -= ETA * gi);
    }
    let e = rel_err(&gan.look_ahead(&u, &theta, &psi), &p);
    assert!(e < SAME_ARITHMETIC, "{e:e}");
}

/// `steps` Adam updates (D first, then G) of `gan` from `x0` with the minibatches of
/// seed 9: the trainer's loop ([`Run`]).
fn trained<T: Float>(gan: &NeuralGan<T>, x0: &Vector, steps: usize) -> Vector {
    let rule = RuleSpec {
        scheme: Scheme::Alternating {
            order: Order::DFirst,
            k_g: 1,
            k_d: 1,
        },
        g: Optimizer::adam(1e-2, 0.5, 0.999),
        d: Optimizer::adam(1e-2, 0.5, 0.999),
        adjust: None,
    }
    .build()
    .unwrap();
    let mut x = x0.clone();
    let mut st = rule.init_seeded(gan, 9);
    let mut none = |_: usize, _: &Vector, _: &crate::dynamics::RuleState| {
        std::ops::ControlFlow::<String>::Continue(())
    };
    Run {
        game: gan,
        rule: &rule,
        steps,
        bound: Bound::none(),
    }
    .run(&mut x, &mut st, &mut none)
    .unwrap();
    x
}

#[test]
fn zero_look_ahead_steps_train_exactly_as_the_plain_gan() {
    // In f32 (the training precision) and with D dropout, both variants.
    for backprop in [true, false] {
        let o = objective(GanLoss::NonSaturating, 0.0);
        let act = Activation::LeakyRelu { slope: 0.2 };
        let (plain, theta, psi) =
            small::<f32>(o.clone(), act, 0.8, GeneratorObjective::Adversarial, 2);
        let (zero, ..) = small::<f32>(o, act, 0.8, unrolled(0, backprop), 2);
        let x0 = Vector::from_iterator(plain.dim(), theta.iter().chain(&psi).copied());
        let (a, b) = (trained(&plain, &x0, 50), trained(&zero, &x0, 50));
        assert!((&a - &x0).amax() > 1e-3, "training moved");
        assert_eq!(a, b, "backprop = {backprop}");
    }
}

#[test]
fn the_unrolled_objective_refuses_what_it_cannot_differentiate() {
    let (gan, ..) = small::<f64>(
        objective(GanLoss::Wasserstein, 0.0),
        Activation::Tanh,
        1.0,
        GeneratorObjective::Adversarial,
        1,
    );
    let mut o = gan.objective.clone();
    o.penalty = Penalty::GradientPenalty { lambda: 10.0 };
    let (with_gp, ..) = small::<f64>(o, Activation::Tanh, 1.0, GeneratorObjective::Adversarial, 1);
    let e = with_gp
        .with_generator_objective(unrolled(5, true))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unroll"), "{e}");
    let e = gan
        .with_generator_objective(GeneratorObjective::Unrolled(Unroll {
            steps: crate::gan::generator_objective::MAX_UNROLL_STEPS + 1,
            backprop: true,
            lr: 0.1,
        }))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unroll.steps"), "{e}");
}
