//! Feature matching (Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016,
//! "Improved techniques for training GANs", §3.1): the generator's loss is
//!
//! L_G(θ) = ‖ m_r − m_f ‖²,  m_r = (1/B) Σᵢ f(x_i),  m_f = (1/B) Σᵢ f(G(z_i; θ)),
//!
//! with f the output of one hidden layer of D (after its activation and, with dropout,
//! its mask; [`super::generator_objective::FeatureMatching`], default the last hidden
//! layer), on the current batch's real rows and latents. The discriminator keeps its
//! own loss and update; only the generator's field block changes. The real means do
//! not depend on θ, so
//!
//! ∂L_G/∂f(G(z_i)) = −(2/B)(m_r − m_f) for every fake row i,
//!
//! which D's first layers carry back to the fakes ([`crate::nn::Mlp::backward`] of the
//! truncated network with an input gradient) and G to θ.
//!
//! D's dropout masks (if any): the fakes use the first layers of the masks of stream 2
//! of the batch's D seed (the adversarial generator pass's masks), the real rows those
//! of stream 3.

use nalgebra::DMatrix;

use super::generator_objective::FeatureMatching;
use super::neural::{Batch, GStats, NeuralGan, copy_into};
use crate::linalg::rng;
use crate::nn::{Float, Mode, Workspace};

/// Buffers of feature matching for one game.
#[derive(Debug, Clone)]
pub(crate) struct FeatureMatchingScratch<T: Float> {
    layer: usize,
    batch: usize,
    /// G on the B latent rows.
    g: Workspace<T>,
    /// D's first layers on the real rows and on the fakes.
    real: Workspace<T>,
    fake: Workspace<T>,
    /// m_r − m_f.
    diff: Vec<T>,
    dfake: DMatrix<T>,
}

impl<T: Float> FeatureMatchingScratch<T> {
    pub(crate) fn new(gan: &NeuralGan<T>, f: &FeatureMatching) -> Self {
        let b = gan.batch_size();
        FeatureMatchingScratch {
            layer: f.layer(),
            batch: b,
            g: gan.g.workspace(b),
            real: f.body().workspace(b),
            fake: f.body().workspace(b),
            diff: vec![T::zero(); f.body().output_dim()],
            dfake: DMatrix::zeros(b, gan.data.dim()),
        }
    }

    pub(crate) fn fits(&self, gan: &NeuralGan<T>, f: &FeatureMatching) -> bool {
        self.layer == f.layer() && self.batch == gan.batch_size()
    }
}

impl<T: Float> NeuralGan<T> {
    /// ∇_θ of the feature-matching loss, **added** to `grad`, and the loss.
    pub(super) fn feature_matching_gradient(
        &self,
        f: &FeatureMatching,
        batch: &Batch<T>,
        theta: &[T],
        psi: &[T],
        s: &mut FeatureMatchingScratch<T>,
        grad: &mut [T],
    ) -> GStats {
        let body = f.body();
        let params = &psi[..body.n_params()];
        let b = self.batch_size();
        copy_into(s.g.input_mut(), &batch.z);
        if self.g.has_dropout() {
            self.g.draw_masks(&mut s.g, &mut rng(batch.g_mask_seed, 0));
        }
        self.g.forward(theta, &mut s.g, Mode::Train);
        copy_into(s.real.input_mut(), &batch.real);
        copy_into(s.fake.input_mut(), s.g.output());
        if body.has_dropout() {
            body.draw_masks(&mut s.fake, &mut rng(batch.d_mask_seed, 2));
            body.draw_masks(&mut s.real, &mut rng(batch.d_mask_seed, 3));
        }
        body.forward(params, &mut s.real, Mode::Train);
        body.forward(params, &mut s.fake, Mode::Train);
        let inv_b = T::of(1.0 / b as f64);
        let mut loss = 0.0;
        let (hr, hf) = (s.real.output(), s.fake.output());
        for (j, d) in s.diff.iter_mut().enumerate() {
            let mr = crate::nn::sum(&hr.as_slice()[j * b..(j + 1) * b]) * inv_b;
            let mf = crate::nn::sum(&hf.as_slice()[j * b..(j + 1) * b]) * inv_b;
            *d = mr - mf;
            loss += (*d * *d).f64();
        }
        // ∂L/∂f(G(z_i)) = −(2/B)(m_r − m_f), the same for every row.
        let scale = T::of(-2.0 / b as f64);
        let seed = s.fake.output_grad_mut();
        for (j, d) in s.diff.iter().enumerate() {
            seed.as_mut_slice()[j * b..(j + 1) * b].fill(scale * *d);
        }
        body.backward(params, &mut s.fake, None, true);
        copy_into(&mut s.dfake, s.fake.input_grad());
        copy_into(s.g.output_grad_mut(), &s.dfake);
        self.g.backward(theta, &mut s.g, Some(grad), false);
        GStats { loss, info: 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{Dataset, Latent, LatentKind};
    use crate::gan::generator_objective::GeneratorObjective;
    use crate::gan::{GanLoss, Objective, Penalty};
    use crate::linalg::rng;
    use crate::nn::{Activation, Mlp};
    use rand::RngExt;

    /// Relative error allowed between the hand-written gradient and central
    /// differences of the loss in f64 (as every gradient check of the neural engine:
    /// the differences are accurate to ~1e-9 with h = 1e-5 on order-one parameters).
    const GRAD_CHECK_TOL: f64 = 1e-6;
    const FD_H: f64 = 1e-5;

    fn gan(act: Activation, layer: usize, d_keep: f64) -> (NeuralGan<f64>, Vec<f64>, Vec<f64>) {
        let g = Mlp::new(&[3, 6, 5, 2], act, Activation::Linear, 1.0).unwrap();
        let d = Mlp::new(&[2, 7, 5, 1], act, Activation::Linear, d_keep).unwrap();
        let mut r = rng(11, 0);
        let data = Dataset::Ring {
            modes: 3,
            radius: 1.0,
            std: 0.3,
            weights: None,
        }
        .build()
        .unwrap();
        let objective = Objective {
            loss: GanLoss::NonSaturating,
            penalty: Penalty::None,
            label_smoothing: 0.0,
            weight_clip: None,
            info: None,
        };
        let latent = Latent {
            kind: LatentKind::Gaussian,
            dim: 3,
        };
        let fm = FeatureMatching::new(&d, layer).unwrap();
        let gan = NeuralGan::new(g, d, None, objective, latent, data, 6, &mut r)
            .unwrap()
            .with_generator_objective(GeneratorObjective::FeatureMatching(fm))
            .unwrap();
        let theta = (0..gan.n_generator())
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        let psi = (0..gan.n_discriminator())
            .map(|_| r.random_range(-1.0..1.0))
            .collect();
        (gan, theta, psi)
    }

    #[test]
    fn feature_matching_gradient_matches_differences() {
        for act in [Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }] {
            for layer in [1, 2] {
                for keep in [1.0, 0.6] {
                    let (gan, theta, psi) = gan(act, layer, keep);
                    let mut s = gan.scratch();
                    let mut g = vec![0.0; theta.len()];
                    let st = gan.generator_gradient(&theta, &psi, &mut s, &mut g);
                    assert!(st.loss > 0.0);
                    let l = |t: &[f64], s: &mut crate::gan::Scratch<f64>| {
                        gan.generator_gradient(t, &psi, s, &mut vec![0.0; t.len()])
                            .loss
                    };
                    let mut t = theta.clone();
                    let fd: Vec<f64> = (0..t.len())
                        .map(|i| {
                            t[i] = theta[i] + FD_H;
                            let a = l(&t, &mut s);
                            t[i] = theta[i] - FD_H;
                            let b = l(&t, &mut s);
                            t[i] = theta[i];
                            (a - b) / (2.0 * FD_H)
                        })
                        .collect();
                    let err = crate::linalg::norm(
                        &g.iter().zip(&fd).map(|(a, b)| a - b).collect::<Vec<_>>(),
                    ) / crate::linalg::norm(&fd).max(1e-12);
                    assert!(
                        err < GRAD_CHECK_TOL,
                        "{act:?} layer {layer} keep {keep}: {err:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_loss_is_the_squared_distance_of_the_feature_means() {
        // Closed form on the batch: recompute f on real and fake rows with the full
        // forward pass of D's body and compare ‖m_r − m_f‖².
        let (gan, theta, psi) = gan(Activation::Tanh, 2, 1.0);
        let mut s = gan.scratch();
        let st = gan.generator_gradient(&theta, &psi, &mut s, &mut vec![0.0; theta.len()]);
        let batch = gan.batch();
        let GeneratorObjective::FeatureMatching(fm) = gan.generator_objective() else {
            panic!("not feature matching")
        };
        let body = fm.body();
        let fake = gan.sample_generator(&theta, &batch.z);
        let mut ws = body.workspace(6);
        let mut mean = |x: &DMatrix<f64>| {
            body.forward_from(&psi[..body.n_params()], x, &mut ws, Mode::Eval);
            ws.output().row_mean()
        };
        let d = mean(&batch.real) - mean(&fake);
        assert!((st.loss - d.norm_squared()).abs() < 1e-12 * st.loss.max(1.0));
        assert!(
            FeatureMatching::new(&gan.d, 3).is_err() && FeatureMatching::new(&gan.d, 0).is_err()
        );
    }
}
