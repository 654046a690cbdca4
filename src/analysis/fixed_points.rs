//! Fixed points of the field by damped Newton iteration, x ← x − α J⁺v, with the
//! pseudo-inverse J⁺ (SVD) so that games with a continuum of equilibria (the one-mode
//! game's softmax gauge) still converge, and backtracking on ‖v‖.

use serde::Serialize;

use super::spectrum::{Spectrum, spectrum};
use crate::error::{Error, Result};
use crate::game::Game;
use crate::linalg::Vector;

/// Convergence tolerance on ‖v(x)‖.
pub const NEWTON_TOL: f64 = 1e-12;
/// Maximum Newton iterations.
pub const NEWTON_MAX_ITER: usize = 200;
/// Singular values below this (relative to the largest) are treated as zero in J⁺.
pub const PINV_RTOL: f64 = 1e-12;

/// A fixed point found numerically.
#[derive(Debug, Clone, Serialize)]
pub struct FixedPoint {
    /// Where the search started.
    pub start: Vec<f64>,
    /// ‖v‖ at the result.
    pub residual: f64,
    /// Newton iterations used.
    pub iterations: usize,
    /// The spectrum at the fixed point (with the point itself).
    pub spectrum: Spectrum,
}

/// Finds a fixed point of `game` from `start`.
///
/// # Errors
/// [`Error::Numerical`] if Newton does not reach [`NEWTON_TOL`] in
/// [`NEWTON_MAX_ITER`] iterations or meets a non-finite value.
pub fn fixed_point(game: &dyn Game, start: &Vector) -> Result<FixedPoint> {
    let mut x = start.clone();
    let mut v = game.field(&x);
    let mut norm = v.norm();
    if !norm.is_finite() {
        return Err(Error::numerical(
            "fixed_point (Newton)",
            format!(
                "the field is not finite at the start {:?} (choose a start nearer the \
                 equilibrium)",
                start.as_slice()
            ),
        ));
    }
    for it in 0..NEWTON_MAX_ITER {
        if norm <= NEWTON_TOL {
            return Ok(FixedPoint {
                start: start.iter().copied().collect(),
                residual: norm,
                iterations: it,
                spectrum: spectrum(game, &x)?,
            });
        }
        let j = game.jacobian(&x);
        if j.iter().any(|e| !e.is_finite()) {
            return Err(Error::numerical(
                "fixed_point (Newton)",
                format!(
                    "the Jacobian is not finite at {:?} (iteration {it})",
                    x.as_slice()
                ),
            ));
        }
        let svd = j.svd(true, true);
        let cutoff = PINV_RTOL * svd.singular_values.max();
        let step = svd
            .solve(&v, cutoff)
            .map_err(|e| Error::numerical("fixed_point (Newton)", e.to_string()))?;
        // Backtracking: halve the step until ‖v‖ decreases (at most 30 halvings).
        let mut alpha = 1.0;
        let mut accepted = false;
        for _ in 0..30 {
            let trial = &x - alpha * &step;
            let tv = game.field(&trial);
            let tn = tv.norm();
            if tn.is_finite() && tn < norm {
                x = trial;
                v = tv;
                norm = tn;
                accepted = true;
                break;
            }
            alpha *= 0.5;
        }
        if !accepted {
            return Err(Error::numerical(
                "fixed_point (Newton)",
                format!(
                    "no descent step at iteration {it}: ‖v‖ = {norm:.3e} at {:?}",
                    x.as_slice()
                ),
            ));
        }
    }
    Err(Error::numerical(
        "fixed_point (Newton)",
        format!("‖v‖ = {norm:.3e} after {NEWTON_MAX_ITER} iterations"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FlowClass;
    use crate::game::{Dirac, LotkaVolterra, OneMode, TturSaddle};

    /// Distance to the closed-form equilibrium after Newton.
    const LOCATION_TOL: f64 = 1e-9;

    #[test]
    fn a_start_where_the_field_overflows_is_an_error_not_a_panic() {
        let e = fixed_point(&Dirac::default(), &Vector::from_vec(vec![1e200, -1e200]));
        assert!(e.is_err());
    }

    #[test]
    fn finds_known_equilibria_from_nearby_starts() {
        let lv = LotkaVolterra {
            alpha: 1.5,
            beta: 0.5,
            gamma: 3.0,
            delta: 2.0,
        };
        let games: Vec<(Box<dyn Game>, Vec<f64>)> = vec![
            (
                Box::new(Dirac {
                    r1: 0.3,
                    ..Dirac::default()
                }),
                vec![0.4, -0.3],
            ),
            (Box::new(lv), vec![1.0, 2.0]),
            (Box::new(TturSaddle), vec![0.3, 0.5]),
        ];
        for (g, s) in games {
            let fp = fixed_point(g.as_ref(), &Vector::from_vec(s)).unwrap();
            let eq = g.equilibrium().unwrap();
            let got = Vector::from_vec(fp.spectrum.point.clone());
            assert!((got - eq).norm() < LOCATION_TOL, "{}", g.name());
        }
    }

    #[test]
    fn one_mode_interior_equilibrium_is_d_half() {
        let g = OneMode::new(vec![0.5, 0.3, 0.2], 0).unwrap();
        let fp = fixed_point(&g, &Vector::from_vec(vec![0.1, 0.2, -0.1, 0.3, -0.2, 0.1])).unwrap();
        let p = &fp.spectrum.point;
        // D = 1/2 (ψ = 0) and the generator masses equal w.
        assert!(p[3..].iter().all(|psi| psi.abs() < LOCATION_TOL));
        let e: Vec<f64> = p[..3].iter().map(|t| t.exp()).collect();
        let s: f64 = e.iter().sum();
        for (m, w) in e.iter().zip(&g.weights) {
            assert!((m / s - w).abs() < LOCATION_TOL);
        }
        // The softmax gauge gives a zero eigenvalue.
        assert_eq!(fp.spectrum.flow, FlowClass::Degenerate);
    }
}
