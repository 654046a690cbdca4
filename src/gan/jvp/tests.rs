//! Checks of the exact products of [`super`] against central differences of the field.

use rand::RngExt;

use super::*;
use crate::datasets::{Dataset, Latent, LatentKind};
use crate::game::Game;
use crate::gan::{GanLoss, InfoGanTerm, Objective};
use crate::linalg::{Matrix, central_jacobian, rng};
use crate::nn::Activation;

/// Relative error allowed between an exact product and central differences in
/// f64, ‖a − fd‖ / max(‖a‖, ‖fd‖), as for the gradient checks: the differences
/// are accurate to ~1e-9 relative (truncation h²·|v‴|, rounding ε·|v|/h).
const JVP_TOL: f64 = 1e-6;
/// Relative step of the directional differences in these checks: the perturbation
/// h·u has norm `FD_ETA`·max(1, ‖x‖). Smaller than the library's ε^(1/3) so that
/// a ReLU unit within h·|R{A}| of its kink (where differences are wrong by the
/// jump, not by h²) is ~60× less likely; rounding stays ~ε/η ≈ 1e-9 relative.
const FD_ETA: f64 = 1e-7;

const ACTS: [Activation; 5] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.2 },
    Activation::Tanh,
    Activation::Sigmoid,
];
const LOSSES: [GanLoss; 3] = [
    GanLoss::Minimax,
    GanLoss::NonSaturating,
    GanLoss::Wasserstein,
];

fn rel_err(a: &Vector, b: &Vector) -> f64 {
    (a - b).norm() / a.norm().max(b.norm()).max(1e-12)
}

fn objective(loss: GanLoss, penalty: Penalty, smoothing: f64, info: bool) -> Objective {
    Objective {
        loss,
        penalty,
        label_smoothing: smoothing,
        weight_clip: None,
        info: info.then_some(InfoGanTerm {
            categories: 3,
            lambda: 0.7,
        }),
    }
}

/// A small GAN with batch `batch` at a random point x with a random direction u. Every parameter,
/// biases included, is uniform in (−1, 1), so no ReLU unit sits on its kink.
fn small_gan(
    objective: Objective,
    act: Activation,
    keep: (f64, f64),
    seed: u64,
) -> (NeuralGan<f64>, Vector, Vector) {
    gan_with_batch(objective, act, keep, 5, seed)
}

fn gan_with_batch(
    objective: Objective,
    act: Activation,
    (g_keep, d_keep): (f64, f64),
    batch: usize,
    seed: u64,
) -> (NeuralGan<f64>, Vector, Vector) {
    let k = objective.info.map_or(0, |i| i.categories);
    let latent = Latent {
        kind: LatentKind::Gaussian,
        dim: 3,
    };
    let g = Mlp::new(&[3 + k, 6, 5, 2], act, Activation::Linear, g_keep).unwrap();
    let d = Mlp::new(&[2, 7, 5, 1], act, Activation::Linear, d_keep).unwrap();
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
    let gan = NeuralGan::new(g, d, q, objective, latent, data, batch, &mut r).unwrap();
    let n = gan.dim();
    let x = Vector::from_fn(n, |_, _| r.random_range(-1.0..1.0));
    let u = Vector::from_fn(n, |_, _| r.random_range(-1.0..1.0));
    (gan, x, u)
}

/// (v(x + h u) − v(x − h u)) / 2h with ‖h u‖ = FD_ETA·max(1, ‖x‖).
fn fd_jvp(gan: &NeuralGan<f64>, x: &Vector, u: &Vector) -> Vector {
    let h = FD_ETA * x.norm().max(1.0) / u.norm();
    (gan.field(&(x + u * h)) - gan.field(&(x - u * h))) / (2.0 * h)
}

fn check_directional(gan: &NeuralGan<f64>, x: &Vector, u: &Vector, what: &str) {
    let exact = gan.jvp(x, u);
    let fd = fd_jvp(gan, x, u);
    let err = rel_err(&exact, &fd);
    assert!(err < JVP_TOL, "{what}: relative error {err:e}");
    assert!(fd.norm() > 1e-3, "{what}: the product is trivially small");
}

#[test]
fn exact_jvp_matches_differences_for_every_loss_activation_and_smoothing() {
    for (li, &loss) in LOSSES.iter().enumerate() {
        for (ai, &act) in ACTS.iter().enumerate() {
            for smoothing in [0.0, 0.1] {
                let o = objective(loss, Penalty::None, smoothing, false);
                let (gan, x, u) = small_gan(o, act, (1.0, 1.0), (10 * li + ai) as u64);
                check_directional(&gan, &x, &u, &format!("{loss:?} {act:?} α={smoothing}"));
            }
        }
    }
}

#[test]
fn exact_jvp_matches_differences_with_infogan_and_dropout() {
    for (ai, &act) in ACTS.iter().enumerate() {
        for (info, keep) in [
            (true, (1.0, 1.0)),
            (false, (0.5, 1.0)),
            (true, (0.5, 1.0)),
            (false, (1.0, 0.6)),
        ] {
            let o = objective(GanLoss::NonSaturating, Penalty::None, 0.1, info);
            let (gan, x, u) = small_gan(o, act, keep, 100 + ai as u64);
            check_directional(&gan, &x, &u, &format!("{act:?} info={info} keep={keep:?}"));
        }
    }
}

const PENALTIES: [Penalty; 3] = [
    Penalty::GradientPenalty { lambda: 10.0 },
    Penalty::R1 { gamma: 3.0 },
    Penalty::R2 { gamma: 0.5 },
];

#[test]
fn exact_jvp_with_penalties_matches_the_dense_central_jacobian() {
    for (pi, &pen) in PENALTIES.iter().enumerate() {
        for (ai, &act) in ACTS.iter().enumerate() {
            let loss = LOSSES[(pi + ai) % 3];
            // InfoGAN with tanh, dropout in both networks with sigmoid (σ‴ under a mask).
            let o = objective(loss, pen, 0.1, ai == 3);
            let keep = if ai == 4 { (0.7, 0.6) } else { (1.0, 1.0) };
            let (gan, x, u) = small_gan(o, act, keep, (200 + 10 * pi + ai) as u64);
            let dense: Matrix = central_jacobian(|y| gan.field(y), &x);
            let err = rel_err(&gan.jvp(&x, &u), &(&dense * &u));
            assert!(err < JVP_TOL, "{pen:?} {act:?} {loss:?}: {err:e}");
        }
    }
}

#[test]
fn hessian_vector_products_match_the_dense_jacobian_blocks() {
    for (pi, &pen) in [Penalty::None, PENALTIES[0], PENALTIES[1]]
        .iter()
        .enumerate()
    {
        for &act in &[Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
            let o = objective(GanLoss::NonSaturating, pen, 0.0, pi == 1);
            let (gan, x, u) = small_gan(o, act, (1.0, 0.7), 300 + pi as u64);
            let dense: Matrix = central_jacobian(|y| gan.field(y), &x);
            let (ng, n) = (gan.split(), gan.dim());
            for (player, r) in [(Player::Generator, 0..ng), (Player::Discriminator, ng..n)] {
                let w = u.rows(r.start, r.len()).into_owned();
                let block = dense.view((r.start, r.start), (r.len(), r.len()));
                let want = -(block * &w);
                let got = gan.hessian_vp(&x, player, &w);
                let err = rel_err(&got, &want);
                assert!(err < JVP_TOL, "{pen:?} {act:?} {player:?}: {err:e}");
                // The same block through the full product J·(w, 0) or J·(0, w).
                let mut e = Vector::zeros(n);
                e.rows_mut(r.start, r.len()).copy_from(&w);
                let full = -gan.jvp(&x, &e).rows(r.start, r.len()).into_owned();
                assert!(rel_err(&got, &full) < 1e-12, "{player:?} block vs full");
            }
        }
    }
}

#[test]
fn row_blocks_of_a_large_batch_give_the_exact_product() {
    // 600 rows = blocks of 256, 256 and 88: masks, seeds and penalty weights are
    // split across blocks. Smooth σ only: at this batch a ReLU net has ~10⁴ units,
    // and one of them within a difference step of its kink would spoil the check.
    let batch = 600;
    assert!(batch > 2 * JVP_BLOCK_ROWS);
    for (i, (act, pen, info)) in [
        (Activation::Tanh, PENALTIES[0], true),
        (Activation::Sigmoid, PENALTIES[2], false),
        (Activation::Tanh, Penalty::None, false),
    ]
    .into_iter()
    .enumerate()
    {
        let o = objective(GanLoss::NonSaturating, pen, 0.1, info);
        let (gan, x, u) = gan_with_batch(o, act, (0.8, 0.7), batch, 400 + i as u64);
        check_directional(&gan, &x, &u, &format!("B=600 {act:?} {pen:?} info={info}"));
    }
}

#[test]
fn products_do_not_depend_on_the_number_of_threads() {
    let o = objective(GanLoss::Minimax, PENALTIES[1], 0.0, true);
    let (gan, x, u) = gan_with_batch(o, Activation::Tanh, (0.8, 1.0), 700, 500);
    let with = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let (ng, n) = (gan.split(), gan.dim());
                let w = u.rows(ng, n - ng).into_owned();
                (
                    gan.jvp(&x, &u),
                    gan.hessian_vp(&x, Player::Discriminator, &w),
                )
            })
    };
    let one = with(1);
    for threads in [2, 3] {
        assert_eq!(one, with(threads), "{threads} threads");
    }
}

#[test]
fn cached_primal_passes_follow_the_point_and_the_batch() {
    let o = objective(GanLoss::NonSaturating, PENALTIES[0], 0.0, false);
    let (gan, x, u) = small_gan(o, Activation::Tanh, (1.0, 0.7), 600);
    let first = gan.jvp(&x, &u);
    assert_eq!(first, gan.jvp(&x, &u), "a repeated product is identical");
    // A new point: the product is that of the new point, not the cached one.
    let y = &x * 0.9;
    check_directional(&gan, &y, &u, "new point");
    // A new batch: the product follows the new field.
    gan.draw_batch(None, &mut rng(601, 0));
    check_directional(&gan, &x, &u, "new batch");
    assert!(
        rel_err(&first, &gan.jvp(&x, &u)) > 1e-3,
        "the batch changed the product"
    );
}
