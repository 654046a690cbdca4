//! Berard et al.'s path-angle (2020, "A closer look at the optimization landscapes of
//! generative adversarial networks", ICLR, §4.1): along the segment
//! x(α) = x_A + α (x_B − x_A), the cosine between the field v(x(α)) and the segment's
//! direction, and ‖v(x(α))‖. Near a point where the dynamics rotate, the field turns
//! across the segment as α passes the end point: the cosine shows a bump around α = 1
//! while the norm does not vanish (their signature of rotation); at a point where
//! they converge the norm dips to zero and the cosine changes sign there.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::game::Game;
use crate::linalg::Vector;

/// One point of the path-angle curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PathAnglePoint {
    /// α.
    pub alpha: f64,
    /// cos ∠(v(x(α)), x_B − x_A) (NaN where v = 0).
    pub cosine: f64,
    /// ‖v(x(α))‖.
    pub field_norm: f64,
}

/// The path-angle curve at `points` values of α evenly spaced in [`lo`, `hi`].
///
/// # Errors
/// [`Error::Param`] if the points have the wrong length or coincide, `points` < 2 or
/// the range is empty.
pub fn path_angle(
    game: &dyn Game,
    a: &Vector,
    b: &Vector,
    (lo, hi): (f64, f64),
    points: usize,
) -> Result<Vec<PathAnglePoint>> {
    if a.len() != game.dim() || b.len() != game.dim() {
        return Err(Error::param(
            "path-angle",
            format!(
                "end points of length {} and {}, the game has {}",
                a.len(),
                b.len(),
                game.dim()
            ),
        ));
    }
    if points < 2 {
        return Err(Error::param(
            "--points",
            format!("{points} must be at least 2"),
        ));
    }
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::param(
            "alpha",
            format!("[{lo}, {hi}] is not a range"),
        ));
    }
    let d = b - a;
    let dn = d.norm();
    if dn == 0.0 {
        return Err(Error::param(
            "--to-step",
            "the two end points are equal: the segment has no direction",
        ));
    }
    Ok((0..points)
        .map(|i| {
            let alpha = lo + (hi - lo) * i as f64 / (points - 1) as f64;
            let x = a + &d * alpha;
            let v = game.field(&x);
            let vn = v.norm();
            PathAnglePoint {
                alpha,
                cosine: v.dot(&d) / (vn * dn),
                field_norm: vn,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Dirac, DiracLoss};

    /// Closed-form cosines evaluated in f64: rounding only.
    const CLOSED_FORM: f64 = 1e-12;

    #[test]
    fn dirac_wgan_path_angle_matches_the_closed_form() {
        // Dirac-GAN, WGAN loss: v(θ, ψ) = (−ψ, θ) (Mescheder et al. 2018), a pure
        // rotation. From x_A = (1, 0) to x_B = (0, 1): d = (−1, 1), x(α) = (1 − α, α),
        // v = (−α, 1 − α), so cos = (α + 1 − α)/(|v|·√2) = 1/(√2·√(α² + (α − 1)²)),
        // never zero: the field keeps turning across the segment and its norm never
        // vanishes (rotation).
        let game = Dirac::new(DiracLoss::Wgan);
        let a = Vector::from_vec(vec![1.0, 0.0]);
        let b = Vector::from_vec(vec![0.0, 1.0]);
        let pts = path_angle(&game, &a, &b, (-0.5, 1.5), 21).unwrap();
        for p in &pts {
            let al = p.alpha;
            let norm = (al * al + (al - 1.0).powi(2)).sqrt();
            assert!((p.field_norm - norm).abs() < CLOSED_FORM);
            let cos = 1.0 / (2f64.sqrt() * norm);
            assert!(
                (p.cosine - cos).abs() < CLOSED_FORM,
                "α={al}: {} vs {cos}",
                p.cosine
            );
        }
        // The bump: |cos| is largest at the segment's midpoint α = ½, where the
        // field is most aligned with it (closest to the centre).
        let best = pts
            .iter()
            .max_by(|p, q| p.cosine.abs().total_cmp(&q.cosine.abs()))
            .unwrap();
        assert!((best.alpha - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bad_segments_are_refused() {
        let game = Dirac::new(DiracLoss::Wgan);
        let a = Vector::from_vec(vec![1.0, 0.0]);
        assert!(path_angle(&game, &a, &a, (-0.5, 1.5), 5).is_err());
        assert!(path_angle(&game, &a, &Vector::zeros(2), (-0.5, 1.5), 1).is_err());
        assert!(path_angle(&game, &a, &Vector::zeros(3), (-0.5, 1.5), 5).is_err());
    }
}
