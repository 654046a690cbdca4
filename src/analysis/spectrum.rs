//! The Jacobian spectrum of the continuous flow ẋ = v(x) and its classification.
//!
//! Stability of the flow at a fixed point: max Re λ(J) < 0 (Hirsch, Smale & Devaney,
//! "Differential Equations, Dynamical Systems, and an Introduction to Chaos", ch. 8).
//! The split J = S + A into its symmetric (potential) part S = (J + Jᵀ)/2 and
//! antisymmetric (rotational) part A = (J − Jᵀ)/2 follows Balduzzi et al. 2018.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::game::Game;
use crate::linalg::{Eigenvalue, Matrix, Vector, eigenvalues};

/// Relative tolerance on real parts: |Re λ| ≤ REAL_TOL · max(1, max|λ|) counts as zero
/// (rotational). Central-difference Jacobians are accurate to ~1e-9, so 1e-7 separates
/// a true centre from a slow focus without being fooled by differencing noise.
pub const REAL_TOL: f64 = 1e-7;

/// The classes of a fixed point of the continuous flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowClass {
    /// All Re λ < 0, all real.
    StableNode,
    /// All Re λ < 0, some complex: trajectories spiral in.
    StableFocus,
    /// All Re λ = 0 within tolerance, none zero: rotation around the point (Red Queen).
    Center,
    /// Re λ of both signs.
    Saddle,
    /// All Re λ > 0, all real.
    UnstableNode,
    /// All Re λ > 0, some complex: trajectories spiral out.
    UnstableFocus,
    /// A zero eigenvalue, a mix of neutral and strictly stable directions with a zero
    /// one, or a non-differentiable field: linearisation does not decide.
    Degenerate,
}

impl FlowClass {
    /// The snake-case name used in JSON and CSV.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FlowClass::StableNode => "stable_node",
            FlowClass::StableFocus => "stable_focus",
            FlowClass::Center => "center",
            FlowClass::Saddle => "saddle",
            FlowClass::UnstableNode => "unstable_node",
            FlowClass::UnstableFocus => "unstable_focus",
            FlowClass::Degenerate => "degenerate",
        }
    }
}

/// Classifies a fixed point of the flow from the eigenvalues of J.
#[must_use]
pub fn classify_flow(ev: &[Eigenvalue]) -> FlowClass {
    let scale = ev.iter().map(|z| z.norm()).fold(1.0, f64::max);
    let tol = REAL_TOL * scale;
    if ev.is_empty() || ev.iter().any(|z| z.norm() <= tol) {
        return FlowClass::Degenerate;
    }
    let pos = ev.iter().any(|z| z.re > tol);
    let neg = ev.iter().any(|z| z.re < -tol);
    let neutral = ev.iter().any(|z| z.re.abs() <= tol);
    let complex = ev.iter().any(|z| z.im.abs() > tol);
    match (pos, neg, neutral) {
        (true, true, _) => FlowClass::Saddle,
        (true, false, false) if complex => FlowClass::UnstableFocus,
        (true, false, false) => FlowClass::UnstableNode,
        // Some directions grow, others are neutral: unstable, and spiralling if complex.
        (true, false, true) => FlowClass::UnstableFocus,
        (false, true, false) if complex => FlowClass::StableFocus,
        (false, true, false) => FlowClass::StableNode,
        (false, false, true) => FlowClass::Center,
        // Neutral rotation plus damped directions: not asymptotically stable, and the
        // linearisation cannot tell whether nonlinear terms damp the rotation.
        (false, true, true) => FlowClass::Degenerate,
        (false, false, false) => FlowClass::Degenerate,
    }
}

/// The spectrum of J at a point, with the classification and the S/A split.
#[derive(Debug, Clone, Serialize)]
pub struct Spectrum {
    /// The point x.
    pub point: Vec<f64>,
    /// J(x), as rows.
    pub jacobian: Vec<Vec<f64>>,
    /// The eigenvalues, sorted by real then imaginary part.
    #[serde(serialize_with = "serialize_eigenvalues")]
    pub eigenvalues: Vec<Eigenvalue>,
    /// The flow class (meaningful at a fixed point).
    pub flow: FlowClass,
    /// ‖S‖_F of the potential part S = (J + Jᵀ)/2.
    pub symmetric_norm: f64,
    /// ‖A‖_F of the rotational part A = (J − Jᵀ)/2.
    pub antisymmetric_norm: f64,
    /// ‖A‖²_F / ‖J‖²_F ∈ [0, 1] (S ⟂ A in the Frobenius inner product, so
    /// ‖J‖² = ‖S‖² + ‖A‖²): 0 for a potential game, 1 for a purely rotational one.
    /// Defined as 0 when J = 0.
    pub rotation_index: f64,
    /// ‖v(x)‖, so a reader can tell whether the point is a fixed point.
    pub field_norm: f64,
    /// Why the field is not differentiable here, if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Serialises eigenvalues as `[{"re": …, "im": …}, …]`.
pub fn serialize_eigenvalues<S: serde::Serializer>(
    ev: &[Eigenvalue],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(ev.len()))?;
    for z in ev {
        seq.serialize_element(&serde_json::json!({"re": z.re, "im": z.im}))?;
    }
    seq.end()
}

/// Rows of a matrix as nested vectors (for JSON and CSV).
#[must_use]
pub fn rows(m: &Matrix) -> Vec<Vec<f64>> {
    m.row_iter().map(|r| r.iter().copied().collect()).collect()
}

/// Computes the [`Spectrum`] of `game` at `x`.
///
/// # Errors
/// [`crate::error::Error::Numerical`] if J has a non-finite entry or the eigenvalue
/// iteration fails.
pub fn spectrum(game: &dyn Game, x: &Vector) -> Result<Spectrum> {
    let j = game.jacobian(x);
    let ev = eigenvalues(&j)?;
    if ev.iter().any(|z| !(z.re.is_finite() && z.im.is_finite())) {
        return Err(Error::numerical(
            "spectrum",
            format!(
                "the eigenvalues overflow (J has entries up to {:.3e})",
                j.amax()
            ),
        ));
    }
    let s = (&j + j.transpose()) * 0.5;
    let a = (&j - j.transpose()) * 0.5;
    let (sn, an) = (s.norm(), a.norm());
    let total = sn * sn + an * an;
    let note = game.nonsmooth_at(x);
    let flow = if note.is_some() {
        FlowClass::Degenerate
    } else {
        classify_flow(&ev)
    };
    Ok(Spectrum {
        point: x.iter().copied().collect(),
        jacobian: rows(&j),
        eigenvalues: ev,
        flow,
        symmetric_norm: sn,
        antisymmetric_norm: an,
        rotation_index: if total > 0.0 { an * an / total } else { 0.0 },
        field_norm: game.field(x).norm(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Bilinear, Dirac, DiracLoss, LotkaVolterra, TturSaddle};
    use proptest::prelude::*;

    fn c(re: f64, im: f64) -> Eigenvalue {
        Eigenvalue::new(re, im)
    }

    #[test]
    fn classification_table() {
        use FlowClass::*;
        let cases = [
            (vec![c(-1.0, 0.0), c(-2.0, 0.0)], StableNode),
            (vec![c(-0.1, 1.0), c(-0.1, -1.0)], StableFocus),
            (vec![c(0.0, 0.5), c(0.0, -0.5)], Center),
            (vec![c(1e-12, 0.5), c(-1e-12, -0.5)], Center),
            (vec![c(-1.0, 0.0), c(2.0, 0.0)], Saddle),
            (vec![c(1.0, 0.0), c(3.0, 0.0)], UnstableNode),
            (vec![c(0.2, 1.0), c(0.2, -1.0)], UnstableFocus),
            (vec![c(0.0, 0.0), c(-1.0, 0.0)], Degenerate),
        ];
        for (ev, class) in cases {
            assert_eq!(classify_flow(&ev), class, "{ev:?}");
        }
    }

    #[test]
    fn known_games_classify_as_published() {
        let dirac = spectrum(&Dirac::default(), &Vector::zeros(2)).unwrap();
        assert_eq!(dirac.flow, FlowClass::Center);
        // S = 0 at the Dirac equilibrium: purely rotational.
        assert!(dirac.symmetric_norm < 1e-15 && (dirac.rotation_index - 1.0).abs() < 1e-15);
        let wgan = Dirac::new(DiracLoss::Wgan);
        for &(t, p) in &[(0.5, -1.0), (2.0, 3.0)] {
            let s = spectrum(&wgan, &Vector::from_vec(vec![t, p])).unwrap();
            assert!(s.symmetric_norm < 1e-15, "WGAN is Hamiltonian everywhere");
        }
        // Critical γ = 2a = 1: below it a focus, above it a node.
        for &gamma in &[0.3, 0.8] {
            let r1 = spectrum(
                &Dirac {
                    r1: gamma,
                    ..Dirac::default()
                },
                &Vector::zeros(2),
            )
            .unwrap();
            assert_eq!(r1.flow, FlowClass::StableFocus);
        }
        let r1 = spectrum(
            &Dirac {
                r1: 2.0,
                ..Dirac::default()
            },
            &Vector::zeros(2),
        )
        .unwrap();
        assert_eq!(r1.flow, FlowClass::StableNode);
        let gp = Dirac {
            gp: 0.7,
            ..Dirac::new(DiracLoss::Wgan)
        };
        assert_eq!(
            spectrum(&gp, &Vector::zeros(2)).unwrap().flow,
            FlowClass::Degenerate
        );
        assert_eq!(
            spectrum(&Bilinear::scalar(1.0), &Vector::zeros(2))
                .unwrap()
                .flow,
            FlowClass::Center
        );
        let lv = LotkaVolterra::default();
        assert_eq!(
            spectrum(&lv, &lv.equilibrium().unwrap()).unwrap().flow,
            FlowClass::Center
        );
        let tt = spectrum(&TturSaddle, &Vector::zeros(2)).unwrap();
        assert_eq!(tt.flow, FlowClass::StableNode);
        assert!(tt.antisymmetric_norm == 0.0 && tt.rotation_index == 0.0);
    }

    proptest! {
        /// Σλ = tr J and Πλ = det J for the Jacobian of random bilinear games and
        /// random points of the Dirac game with random regularisers.
        #[test]
        fn eigenvalues_sum_to_trace_and_multiply_to_det(
            entries in proptest::collection::vec(-3.0f64..3.0, 9),
            theta in -2.0f64..2.0, psi in -2.0f64..2.0, r1 in 0.0f64..2.0, noise in 0.0f64..1.0,
        ) {
            let g = Bilinear { a: Matrix::from_row_slice(3, 3, &entries) };
            let x = Vector::from_fn(6, |i, _| entries[i] * 0.5);
            let d = Dirac { r1, ..Dirac::default() }.with_noise(noise);
            for (game, pt) in [(&g as &dyn Game, x), (&d as &dyn Game, Vector::from_vec(vec![theta, psi]))] {
                let j = game.jacobian(&pt);
                let s = spectrum(game, &pt).unwrap();
                let tr: f64 = s.eigenvalues.iter().map(|z| z.re).sum();
                let det = s.eigenvalues.iter().fold(Eigenvalue::new(1.0, 0.0), |p, z| p * z);
                let scale = j.norm().max(1.0);
                prop_assert!((tr - j.trace()).abs() < 1e-9 * scale);
                prop_assert!((det.re - j.determinant()).abs() < 1e-9 * scale.powi(j.nrows() as i32));
                prop_assert!(det.im.abs() < 1e-9 * scale.powi(j.nrows() as i32));
                prop_assert!((0.0..=1.0).contains(&s.rotation_index));
            }
        }

        /// The analytic Jacobian equals central differences at random points.
        #[test]
        fn analytic_jacobian_equals_differences(
            theta in -3.0f64..3.0, psi in -3.0f64..3.0, r1 in 0.0f64..2.0, noise in 0.0f64..1.0,
            alpha in 0.2f64..3.0, x in 0.1f64..3.0, y in 0.1f64..3.0,
        ) {
            let games: Vec<(Box<dyn Game>, Vector)> = vec![
                (Box::new(Dirac { r1, ..Dirac::new(DiracLoss::NonSaturating) }.with_noise(noise)),
                 Vector::from_vec(vec![theta, psi])),
                (Box::new(LotkaVolterra { alpha, ..LotkaVolterra::default() }), Vector::from_vec(vec![x, y])),
                (Box::new(TturSaddle), Vector::from_vec(vec![theta, psi])),
            ];
            for (g, pt) in games {
                let fd = crate::linalg::central_jacobian(|z| g.field(z), &pt);
                let a = g.jacobian(&pt);
                prop_assert!((&a - &fd).amax() < 1e-6 * fd.amax().max(1.0), "{}", g.name());
            }
        }
    }
}
