//! Jacobian-vector products: how a game computes J·u ([`JvpMethod`]) and the
//! central-difference product that is every game's default ([`central_jvp`]).
//!
//! Krylov eigen-solvers (Arnoldi, Lanczos) need only products x ↦ J·x, never J
//! itself, so large games (neural GANs with thousands of parameters) can be analysed
//! without forming the dense Jacobian. Every result of such an analysis records the
//! [`JvpMethod`] of the game it came from.

use serde::Serialize;

use crate::linalg::{FD_STEP, Vector, norm};

/// Relative step η of [`central_jvp`]: the perturbation h·u has norm
/// η·max(1, ‖x‖). η = ε^(1/3) ≈ 6e-6 balances the O(h²) truncation and the O(ε/h)
/// rounding errors of central differences in f64, as for [`crate::linalg::FD_STEP`]
/// (the same value, scaled by ‖x‖ instead of |xᵢ|).
pub const JVP_FD_STEP: f64 = FD_STEP;

/// How a game computes J·u ([`crate::game::Game::jvp`]), for the `method` column of
/// every output built from products.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JvpMethod {
    /// Central differences of the field along u ([`central_jvp`]) with relative step
    /// `step` (h = step·max(1, ‖x‖)/‖u‖). Accurate to about ε^(2/3) relative where the
    /// field is smooth; not linear in u at the scale of rounding errors.
    CentralDifference {
        /// The relative step η.
        step: f64,
    },
    /// Exact to rounding: J·u from a closed-form Jacobian, or by forward-mode
    /// differentiation of the field (the R-operator of the neural GAN).
    Exact,
}

impl JvpMethod {
    /// Short name for CSV columns: `exact` or `central_difference`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            JvpMethod::CentralDifference { .. } => "central_difference",
            JvpMethod::Exact => "exact",
        }
    }
}

/// J·u by central differences of `f` along u: (f(x + h u) − f(x − h u)) / 2h with
/// h = [`JVP_FD_STEP`]·max(1, ‖x‖)/‖u‖, so that the perturbation has norm
/// η·max(1, ‖x‖) whatever the scale of u (the relative perturbation of x is η, as
/// for each coordinate in [`crate::linalg::central_jacobian`]). J·0 = 0 without
/// evaluating f. `f` maps ℝⁿ → ℝⁿ (a field).
///
/// Error (Taylor expansion with remainder): the truncation error is at most
/// (h²/6)·sup‖D³f[u, u, u]‖ ≤ (h²‖u‖³/6)·M₃, with M₃ the norm of f‴ on the segment
/// [x − hu, x + hu]; rounding adds about ε(‖f(x)‖ + ‖J‖‖x‖)/h (the error of each
/// evaluation of f and of forming x ± hu, divided by 2h). Relative to ‖J u‖ both are
/// about ε^(2/3) ≈ 4e-11 when f varies on the scale of ‖x‖. Where f is only piecewise
/// smooth (ReLU networks), a kink inside the segment adds an error of the size of the
/// jump in J·u, which no choice of h removes.
#[must_use]
pub fn central_jvp(f: impl Fn(&Vector) -> Vector, x: &Vector, u: &Vector) -> Vector {
    let nu = norm(u.as_slice());
    if nu == 0.0 {
        return Vector::zeros(x.len());
    }
    let h = JVP_FD_STEP * norm(x.as_slice()).max(1.0) / nu;
    let fp = f(&(x + u * h));
    let fm = f(&(x - u * h));
    (fp - fm) / (2.0 * h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::testing::check_products;
    use crate::game::{Consensus, Dirac, DiracLoss, Game, Sga};
    use crate::linalg::{Matrix, central_jacobian};

    #[test]
    fn central_jvp_of_a_closed_form_map_and_of_zero() {
        // f(x) = (x0² x1, sin x0 + x1³): J = [[2 x0 x1, x0²], [cos x0, 3 x1²]].
        let f = |x: &Vector| Vector::from_vec(vec![x[0] * x[0] * x[1], x[0].sin() + x[1].powi(3)]);
        for &(a, b) in &[(0.3, -1.2), (2.0, 0.5), (-15.0, 30.0)] {
            let x = Vector::from_vec(vec![a, b]);
            let j = Matrix::from_row_slice(2, 2, &[2.0 * a * b, a * a, a.cos(), 3.0 * b * b]);
            for u in [
                Vector::from_vec(vec![1.0, -0.5]),
                Vector::from_vec(vec![1e-9, 3e-9]),
            ] {
                let want = &j * &u;
                let got = central_jvp(f, &x, &u);
                // The step scales with ‖x‖/‖u‖, so the relative error does not depend
                // on the scale of u (1e-9 here) or of x (30 here).
                let err = (&got - &want).norm() / want.norm();
                assert!(err < 1e-8, "{x} {u}: {err:e}");
            }
        }
        assert_eq!(
            central_jvp(f, &Vector::from_vec(vec![1.0, 2.0]), &Vector::zeros(2)),
            Vector::zeros(2)
        );
    }

    #[test]
    fn games_without_a_closed_form_use_central_differences() {
        // Consensus and SGA fields contain the inner Jacobian, so they have none.
        for game in [
            Box::new(Consensus {
                inner: std::sync::Arc::new(Dirac::new(DiracLoss::Standard)),
                gamma: 0.5,
            }) as Box<dyn Game>,
            Box::new(Sga {
                inner: std::sync::Arc::new(Dirac::new(DiracLoss::Wgan)),
                lambda: 0.3,
            }),
        ] {
            assert_eq!(
                game.jvp_method(),
                JvpMethod::CentralDifference { step: JVP_FD_STEP }
            );
            assert_eq!(game.jvp_method().name(), "central_difference");
            assert_eq!(
                serde_json::to_string(&game.jvp_method()).unwrap(),
                format!(r#"{{"kind":"central_difference","step":{JVP_FD_STEP:?}}}"#)
            );
            for (a, b) in [(0.4, -0.7), (1.5, 0.2)] {
                let x = Vector::from_vec(vec![a, b]);
                let u = Vector::from_vec(vec![0.3, 1.1]);
                check_products(game.as_ref(), &x, &u);
                let dense = central_jacobian(|y| game.field(y), &x);
                assert!((game.jvp(&x, &u) - &dense * &u).norm() < 1e-7);
            }
        }
    }
}
