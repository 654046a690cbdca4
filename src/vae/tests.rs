//! The VAE's gradient against central differences of −ELBO (noise held fixed), and
//! its game structure.

use rand::RngExt;

use super::*;
use crate::datasets::Dataset;
use crate::linalg::{norm, rng};
use crate::nn::Activation;

/// Relative error allowed between ∇(−ELBO) and central differences of −ELBO in f64
/// with the batch (data and ε) fixed, as for every gradient check of the neural
/// engine: h = 1e-5 on order-one parameters gives differences accurate to ~1e-9.
const GRAD_CHECK_TOL: f64 = 1e-6;
const FD_H: f64 = 1e-5;

fn small(act: Activation, seed: u64) -> (Vae<f64>, Vec<f64>) {
    let dec = Mlp::new(&[2, 6, 5, 2], act, Activation::Linear, 1.0).unwrap();
    let enc = Mlp::new(&[2, 7, 4], act, Activation::Linear, 1.0).unwrap();
    let data = Dataset::Ring {
        modes: 3,
        radius: 1.0,
        std: 0.2,
        weights: None,
    }
    .build()
    .unwrap();
    let mut r = rng(seed, 0);
    let vae = Vae::new(dec, enc, data, 0.3, 5, &mut r).unwrap();
    let p = (0..vae.dim()).map(|_| r.random_range(-1.0..1.0)).collect();
    (vae, p)
}

#[test]
fn elbo_gradient_matches_differences_with_the_noise_fixed() {
    for act in [Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
        let (vae, p) = small(act, 4);
        let mut s = vae.scratch();
        let mut g = vec![0.0; p.len()];
        let terms = vae.loss_gradient(&p, &mut s, &mut g);
        assert!((terms.elbo - (terms.recon_loglik - terms.kl)).abs() < 1e-15);
        assert!(terms.kl > 0.0);
        let loss = |q: &[f64], s: &mut VaeScratch<f64>| {
            -vae.loss_gradient(q, s, &mut vec![0.0; q.len()]).elbo
        };
        let mut q = p.clone();
        let fd: Vec<f64> = (0..p.len())
            .map(|i| {
                q[i] = p[i] + FD_H;
                let a = loss(&q, &mut s);
                q[i] = p[i] - FD_H;
                let b = loss(&q, &mut s);
                q[i] = p[i];
                (a - b) / (2.0 * FD_H)
            })
            .collect();
        let d: Vec<f64> = g.iter().zip(&fd).map(|(a, b)| a - b).collect();
        let e = norm(&d) / norm(&fd);
        assert!(e < GRAD_CHECK_TOL, "{act:?}: {e:e}");
    }
}

#[test]
fn the_vae_is_a_game_with_one_player() {
    let (vae, p) = small(Activation::Tanh, 8);
    let x = Vector::from_vec(p.clone());
    assert_eq!(vae.split(), vae.dim());
    let v = vae.field(&x);
    let mut g = vec![0.0; p.len()];
    vae.loss_gradient(&p, &mut vae.scratch(), &mut g);
    assert!(v.iter().zip(&g).all(|(a, b)| *a == -b));
    assert_eq!(vae.player_field(&x, Player::Generator), v);
    assert_eq!(vae.player_field(&x, Player::Discriminator).amax(), 0.0);
    assert_eq!(vae.last_evaluation().evals, 2);
    // A discriminator turn draws nothing; a generator turn draws data and noise.
    let before = vae.batch();
    let mut r = rng(1, 0);
    vae.draw_batch(Some(Player::Discriminator), &mut r);
    assert_eq!(vae.batch().x, before.x);
    vae.draw_batch(Some(Player::Generator), &mut r);
    assert_ne!(vae.batch().eps, before.eps);
    // Samples: the means, and σ_x times the given noise on top.
    let z = DMatrix::from_element(3, 2, 0.4);
    let noise = DMatrix::from_element(3, 2, 1.0);
    let d = vae.sample(&p, &z, Some(&noise)) - vae.sample(&p, &z, None);
    assert!(d.iter().all(|v| (v - 0.3).abs() < 1e-15));
}

#[test]
fn bad_shapes_and_scales_name_their_key() {
    let data = Dataset::TwoPoints.build().unwrap();
    let dec = Mlp::new(&[2, 4, 2], Activation::Tanh, Activation::Linear, 1.0).unwrap();
    let enc = Mlp::new(&[2, 4, 3], Activation::Tanh, Activation::Linear, 1.0).unwrap();
    let mut r = rng(0, 0);
    let e = Vae::<f64>::new(dec.clone(), enc, data.clone(), 0.1, 4, &mut r).unwrap_err();
    assert!(e.to_string().contains("vae"), "{e}");
    let enc = Mlp::new(&[2, 4, 4], Activation::Tanh, Activation::Linear, 1.0).unwrap();
    let e = Vae::<f64>::new(dec, enc, data, 0.0, 4, &mut r).unwrap_err();
    assert!(e.to_string().contains("vae.decoder_std"), "{e}");
}
