//! Linearisation of an update rule's discrete map F at a fixed point x* of the field.
//!
//! The map is stable iff ρ(∂F) < 1 (Strogatz, "Nonlinear Dynamics and Chaos", §10.1).
//! Rules with memory (momentum, optimistic) act on the augmented state z = (x, slots),
//! and are linearised at z* = (x*, 0), where every buffer of a fixed point is zero.
//! For plain-step rules the Jacobian is the analytic chain:
//! * simultaneous: I + HJ;
//! * alternating (G first): (I + H_D J)^{k_D} (I + H_G J)^{k_G};
//! * extragradient: I + HJ + (HJ)²;
//! * RK4 flow: I + M + M²/2 + M³/6 + M⁴/24 with M = HJ.
//!
//! Other rules are differentiated numerically (central differences of F).

use serde::Serialize;

use super::spectrum::serialize_eigenvalues;
use crate::dynamics::{Order, Rule, RuleState, Scheme};
use crate::error::{Error, Result};
use crate::game::Game;
use crate::linalg::{Eigenvalue, Matrix, Vector, central_jacobian, eigenvalues, spectral_radius};
use crate::optim::Transform;

/// Tolerance on |ρ − 1| for the class `cycling`. Analytic chains are exact to rounding
/// (~1e-15); differenced maps to ~1e-9, so 1e-7 keeps both on the right side.
pub const RHO_TOL: f64 = 1e-7;

/// The class of a fixed point of a discrete map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapClass {
    /// ρ < 1: iterates converge.
    Convergent,
    /// ρ < 1 for the RK4 flow on a centre of the flow (every eigenvalue of HJ on the
    /// imaginary axis): the game conserves the orbit and the contraction is the
    /// integrator's own damping, |R(iy)|² = 1 − y⁶/72 + y⁸/576 < 1 for the RK4 stability
    /// function R(z) = 1 + z + z²/2 + z³/6 + z⁴/24 at z = iy, 0 < |y| < 2√2 (Hairer &
    /// Wanner, "Solving ODEs II", §IV.2).
    Rk4Damped,
    /// ρ = 1 within [`RHO_TOL`] with complex eigenvalues on the unit circle: bounded rotation.
    Cycling,
    /// ρ = 1 within tolerance with only real eigenvalues on the circle (a neutral
    /// direction such as a continuum of equilibria): linearisation does not decide.
    Marginal,
    /// ρ > 1: iterates move away.
    Divergent,
}

impl MapClass {
    /// The snake-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MapClass::Convergent => "convergent",
            MapClass::Rk4Damped => "rk4_damped",
            MapClass::Cycling => "cycling",
            MapClass::Marginal => "marginal",
            MapClass::Divergent => "divergent",
        }
    }
}

/// The linearised update map at a fixed point.
#[derive(Debug, Clone, Serialize)]
pub struct MapSpectrum {
    /// Eigenvalues of ∂F.
    #[serde(serialize_with = "serialize_eigenvalues")]
    pub eigenvalues: Vec<Eigenvalue>,
    /// ρ(∂F).
    pub spectral_radius: f64,
    /// The class.
    pub class: MapClass,
    /// `analytic` or `finite_differences`.
    pub method: &'static str,
    /// Dimension of the (augmented) state.
    pub state_dim: usize,
    /// Why the class is what it is, where that needs saying (the RK4 damping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The note of [`MapClass::Rk4Damped`].
pub const RK4_DAMPING_NOTE: &str = "the flow is a centre (HJ has imaginary eigenvalues iy): ρ < 1 is RK4's \
     own damping |R(iy)| = √(1 − y⁶/72 + y⁸/576), not the game's";

/// Eigenvalues of a 2 × 2 matrix [[a, b], [c, d]] in closed form, sorted like
/// [`crate::linalg::eigenvalues`]: with m = (a + d)/2 and Δ = ((a − d)/2)² + bc (no
/// cancellation between tr²/4 and det for close eigenvalues), m ± √Δ for Δ ≥ 0 (the
/// smaller one as det/λ₁ when that avoids cancellation) and m ± i√−Δ otherwise.
#[must_use]
pub fn eigenvalues_2x2(m: [[f64; 2]; 2]) -> [Eigenvalue; 2] {
    // Entries beyond 2^500 would overflow the squares below (a learning rate of 1e308
    // gives entries of 5e307 whose eigenvalues are finite): scale by the power of two
    // 2^-600, exact, and scale the eigenvalues back. Smaller matrices are untouched, so
    // their bits do not change.
    const BIG: f64 = 3.273_390_607_896_142e150; // 2^500
    const DOWN: f64 = 2.409_919_865_102_884e-181; // 2^-600
    let amax = m.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs()));
    if amax > BIG && amax.is_finite() {
        let ev = eigenvalues_2x2(m.map(|r| r.map(|v| v * DOWN)));
        return ev.map(|z| Eigenvalue::new(z.re / DOWN, z.im / DOWN));
    }
    let [[a, b], [c, d]] = m;
    let mid = 0.5 * (a + d);
    let half = 0.5 * (a - d);
    let disc = half * half + b * c;
    let mut ev = if disc >= 0.0 {
        let s = disc.sqrt();
        let big = if mid >= 0.0 { mid + s } else { mid - s };
        let det = a * d - b * c;
        let small = if big != 0.0 { det / big } else { mid - s };
        [Eigenvalue::new(big, 0.0), Eigenvalue::new(small, 0.0)]
    } else {
        let s = (-disc).sqrt();
        [Eigenvalue::new(mid, -s), Eigenvalue::new(mid, s)]
    };
    ev.sort_by(|p, q| p.re.total_cmp(&q.re).then(p.im.total_cmp(&q.im)));
    ev
}

/// The Jacobian of a plain-step rule's map for a two-coordinate game with Jacobian `j`
/// at the fixed point and steps (h_G, h_D), in closed form (see the module docs); the
/// arithmetic [`linearize_update`] uses for such games, so a bulk computation with a
/// shared J gives the same numbers.
#[must_use]
pub fn map_jacobian_2x2(scheme: &Scheme, hg: f64, hd: f64, j: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    type M = [[f64; 2]; 2];
    let mul = |p: M, q: M| -> M {
        let mut r = [[0.0; 2]; 2];
        for i in 0..2 {
            for k in 0..2 {
                r[i][k] = p[i][0] * q[0][k] + p[i][1] * q[1][k];
            }
        }
        r
    };
    let add = |p: M, q: M, w: f64| -> M {
        [
            [p[0][0] + w * q[0][0], p[0][1] + w * q[0][1]],
            [p[1][0] + w * q[1][0], p[1][1] + w * q[1][1]],
        ]
    };
    let eye: M = [[1.0, 0.0], [0.0, 1.0]];
    let hj = |g: f64, d: f64| -> M { [[g * j[0][0], g * j[0][1]], [d * j[1][0], d * j[1][1]]] };
    let pow = |m: M, k: usize| (0..k).fold(eye, |acc, _| mul(m, acc));
    match scheme {
        Scheme::Simultaneous => add(eye, hj(hg, hd), 1.0),
        Scheme::Alternating { order, k_g, k_d } => {
            let fg = pow(add(eye, hj(hg, 0.0), 1.0), *k_g);
            let fd = pow(add(eye, hj(0.0, hd), 1.0), *k_d);
            match order {
                Order::GFirst => mul(fd, fg),
                Order::DFirst => mul(fg, fd),
            }
        }
        Scheme::Extragradient => {
            let m = hj(hg, hd);
            add(add(eye, m, 1.0), mul(m, m), 1.0)
        }
        Scheme::Flow => {
            let m = hj(hg, hd);
            let m2 = mul(m, m);
            let m3 = mul(m2, m);
            let m4 = mul(m3, m);
            add(
                add(add(add(eye, m, 1.0), m2, 0.5), m3, 1.0 / 6.0),
                m4,
                1.0 / 24.0,
            )
        }
    }
}

/// The linearised map of a plain-step rule on a two-coordinate game whose Jacobian at
/// the fixed point is `j` (closed-form 2 × 2 eigenvalues; cheap enough to run for every
/// cell of a sweep).
#[must_use]
pub fn map_spectrum_2x2(scheme: &Scheme, hg: f64, hd: f64, j: [[f64; 2]; 2]) -> MapSpectrum {
    let m = map_jacobian_2x2(scheme, hg, hd, j);
    let ev = eigenvalues_2x2(m);
    let mut class = classify_map(&ev);
    let mut note = None;
    if *scheme == Scheme::Flow && class == MapClass::Convergent {
        let flow = eigenvalues_2x2([[hg * j[0][0], hg * j[0][1]], [hd * j[1][0], hd * j[1][1]]]);
        if super::spectrum::classify_flow(&flow) == super::spectrum::FlowClass::Center {
            class = MapClass::Rk4Damped;
            note = Some(RK4_DAMPING_NOTE.to_string());
        }
    }
    MapSpectrum {
        spectral_radius: spectral_radius(&ev),
        class,
        eigenvalues: ev.to_vec(),
        method: "analytic",
        state_dim: 2,
        note,
    }
}

/// Classifies a map from its eigenvalues.
#[must_use]
pub fn classify_map(ev: &[Eigenvalue]) -> MapClass {
    let rho = spectral_radius(ev);
    if rho < 1.0 - RHO_TOL {
        MapClass::Convergent
    } else if rho > 1.0 + RHO_TOL {
        MapClass::Divergent
    } else if ev
        .iter()
        .any(|z| (z.norm() - 1.0).abs() <= RHO_TOL && z.im.abs() > RHO_TOL)
    {
        MapClass::Cycling
    } else {
        MapClass::Marginal
    }
}

/// The analytic Jacobian of the map for plain-step rules, or None.
#[must_use]
pub fn analytic_map_jacobian(game: &dyn Game, rule: &Rule, x: &Vector) -> Option<Matrix> {
    let plain = |c: &crate::optim::Chain| match c.0.as_slice() {
        [Transform::Scale { factor }] => Some(*factor),
        [] => Some(1.0),
        _ => None,
    };
    let (hg, hd) = (plain(&rule.g)?, plain(&rule.d)?);
    let (n, split) = (game.dim(), game.split());
    let j = game.jacobian(x);
    let eye = Matrix::identity(n, n);
    let diag = |g: f64, d: f64| {
        Matrix::from_fn(n, n, |r, c| {
            if r != c {
                0.0
            } else if r < split {
                g
            } else {
                d
            }
        })
    };
    match &rule.scheme {
        Scheme::Simultaneous => Some(&eye + diag(hg, hd) * &j),
        Scheme::Alternating { order, k_g, k_d } => {
            let fg = (&eye + diag(hg, 0.0) * &j).pow(*k_g as u32);
            let fd = (&eye + diag(0.0, hd) * &j).pow(*k_d as u32);
            Some(match order {
                Order::GFirst => fd * fg,
                Order::DFirst => fg * fd,
            })
        }
        Scheme::Extragradient => {
            // x+ = x + H v(x + H v(x)) → I + HJ (I + HJ)
            let m = diag(hg, hd) * &j;
            Some(&eye + &m * (&eye + &m))
        }
        Scheme::Flow => {
            let m = diag(hg, hd) * &j;
            let m2 = &m * &m;
            let m3 = &m2 * &m;
            let m4 = &m3 * &m;
            Some(&eye + &m + m2 / 2.0 + m3 / 6.0 + m4 / 24.0)
        }
    }
}

fn pack(x: &Vector, st: &RuleState) -> Vector {
    Vector::from_iterator(
        x.len() + st.g.slots.len() + st.d.slots.len(),
        x.iter().chain(&st.g.slots).chain(&st.d.slots).copied(),
    )
}

/// The map on the augmented state z = (x, generator slots, discriminator slots).
fn augmented_step(game: &dyn Game, rule: &Rule, z: &Vector, template: &RuleState) -> Vector {
    let n = game.dim();
    let (lg, ld) = (template.g.slots.len(), template.d.slots.len());
    let mut x = Vector::from_iterator(n, z.iter().take(n).copied());
    let mut st = template.clone();
    st.g.slots.copy_from_slice(&z.as_slice()[n..n + lg]);
    st.d.slots
        .copy_from_slice(&z.as_slice()[n + lg..n + lg + ld]);
    rule.step(game, &mut x, &mut st);
    pack(&x, &st)
}

/// Linearises `rule` on `game` at `x` (normally a fixed point of the field).
///
/// # Errors
/// [`Error::Numerical`] for Adam (its map depends on the step count and divides by
/// √ŝ = 0 at a fixed point, so it has no linearisation there), or if the eigenvalue
/// computation fails.
pub fn linearize_update(game: &dyn Game, rule: &Rule, x: &Vector) -> Result<MapSpectrum> {
    // Large learning rates overflow the map's Jacobian (extragradient's holds η²) or its
    // eigenvalues; either way the answer is "too large", said in the user's terms.
    let overflow = |amax: f64| {
        Error::numerical(
            "linearize_update",
            format!(
                "the map's Jacobian or eigenvalues overflow (entries up to {amax:.3e}): are the \
                 learning rates too large?"
            ),
        )
    };
    let adaptive = |c: &crate::optim::Chain| {
        c.0.iter()
            .any(|t| matches!(t, Transform::Adam { .. } | Transform::RmsProp { .. }))
    };
    if adaptive(&rule.g) || adaptive(&rule.d) {
        return Err(Error::numerical(
            "linearize_update",
            "Adam and RMSProp divide by √ŝ, which is 0 at a fixed point, and depend on the \
             step count: their update map has no linearisation there (use simulation)",
        ));
    }
    if let Some((hg, hd)) = plain_steps(rule).filter(|_| game.dim() == 2) {
        let j = game.jacobian(x);
        let j = [[j[(0, 0)], j[(0, 1)]], [j[(1, 0)], j[(1, 1)]]];
        if j.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::numerical(
                "linearize_update",
                "the Jacobian has a non-finite entry",
            ));
        }
        let m = map_spectrum_2x2(&rule.scheme, hg, hd, j);
        if m.eigenvalues
            .iter()
            .any(|z| !(z.re.is_finite() && z.im.is_finite()))
        {
            let amax = map_jacobian_2x2(&rule.scheme, hg, hd, j)
                .iter()
                .flatten()
                .fold(0.0f64, |s, v| s.max(v.abs()));
            return Err(overflow(amax));
        }
        return Ok(m);
    }
    let (jac, method) = match analytic_map_jacobian(game, rule, x) {
        Some(m) => (m, "analytic"),
        None => {
            let template = rule.init(game);
            let z = pack(x, &template);
            (
                central_jacobian(|z| augmented_step(game, rule, z, &template), &z),
                "finite_differences",
            )
        }
    };
    if jac.iter().any(|v| !v.is_finite()) {
        return Err(overflow(jac.amax()));
    }
    let ev = eigenvalues(&jac)?;
    if ev.iter().any(|z| !(z.re.is_finite() && z.im.is_finite())) {
        return Err(overflow(jac.amax()));
    }
    let mut class = classify_map(&ev);
    let mut note = None;
    if rule.scheme == Scheme::Flow && class == MapClass::Convergent {
        let (hg, hd) = plain_steps(rule).unwrap_or((1.0, 1.0));
        let split = game.split();
        let h = Matrix::from_fn(game.dim(), game.dim(), |r, c| {
            if r != c {
                0.0
            } else if r < split {
                hg
            } else {
                hd
            }
        });
        let flow = eigenvalues(&(h * game.jacobian(x)))?;
        if super::spectrum::classify_flow(&flow) == super::spectrum::FlowClass::Center {
            class = MapClass::Rk4Damped;
            note = Some(RK4_DAMPING_NOTE.to_string());
        }
    }
    Ok(MapSpectrum {
        spectral_radius: spectral_radius(&ev),
        class,
        eigenvalues: ev,
        method,
        state_dim: jac.nrows(),
        note,
    })
}

/// (h_G, h_D) of a rule whose players take plain steps, or None.
#[must_use]
pub fn plain_steps(rule: &Rule) -> Option<(f64, f64)> {
    let plain = |c: &crate::optim::Chain| match c.0.as_slice() {
        [Transform::Scale { factor }] => Some(*factor),
        [] => Some(1.0),
        _ => None,
    };
    Some((plain(&rule.g)?, plain(&rule.d)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{RuleName, RuleSpec};
    use crate::game::{Bilinear, Dirac, DiracLoss, TturSaddle};

    /// Spectral radii against closed forms (the 1e-9).
    const RHO_EXACT: f64 = 1e-9;

    fn rho<G: Game + Clone + 'static>(game: &G, spec: RuleSpec) -> MapSpectrum {
        let rule = spec.build().unwrap();
        let g = spec.adjust_game(std::sync::Arc::new(game.clone()));
        linearize_update(g.as_ref(), &rule, &game.equilibrium().unwrap()).unwrap()
    }

    /// Huge entries are scaled by a power of two, so the closed form stays finite and
    /// agrees with the dense eigensolver to rounding (relative 1e-14).
    #[test]
    fn eigenvalues_2x2_of_huge_entries_are_finite_and_match_dense() {
        const REL: f64 = 1e-14;
        for m in [
            [[1.0, -5e307], [5e307, 1.0]],
            [[3e200, 1e200], [2e200, -7e199]],
            [[1e160, 0.0], [0.0, -2e160]],
        ] {
            let ev = eigenvalues_2x2(m);
            let mut dense =
                crate::linalg::eigenvalues(&Matrix::from_fn(2, 2, |r, c| m[r][c])).unwrap();
            dense.sort_by(|p, q| p.re.total_cmp(&q.re).then(p.im.total_cmp(&q.im)));
            for (a, b) in ev.iter().zip(&dense) {
                assert!(
                    (a - b).norm() <= REL * b.norm(),
                    "{m:?}: {ev:?} vs {dense:?}"
                );
            }
        }
    }

    #[test]
    fn simultaneous_dirac_radius() {
        // ρ = √(1 + a² h_g h_d).
        for loss in [DiracLoss::Standard, DiracLoss::Wgan] {
            let g = Dirac::new(loss);
            let a = g.a();
            for &(hg, hd) in &[(0.01, 0.01), (0.2, 0.2), (0.5, 0.05), (1.0, 0.3)] {
                let m = rho(&g, RuleSpec::new(RuleName::Simultaneous, hg, hd).unwrap());
                assert!((m.spectral_radius - (1.0 + a * a * hg * hd).sqrt()).abs() < RHO_EXACT);
                assert_eq!(m.class, MapClass::Divergent);
            }
        }
    }

    #[test]
    fn alternating_dirac_det_one_and_threshold() {
        // det = 1, tr = 2 − h_g h_d a²: bounded rotation iff h_g h_d a² < 4.
        let g = Dirac::default();
        let a2 = g.a() * g.a();
        for &(hg, hd) in &[(0.2, 0.2), (1.0, 3.0), (3.0, 5.0), (4.0, 4.1), (5.0, 4.0)] {
            let m = rho(&g, RuleSpec::new(RuleName::Alternating, hg, hd).unwrap());
            let det = m
                .eigenvalues
                .iter()
                .fold(Eigenvalue::new(1.0, 0.0), |p, z| p * z);
            assert!((det.re - 1.0).abs() < RHO_EXACT);
            let expected = if hg * hd * a2 < 4.0 {
                MapClass::Cycling
            } else {
                MapClass::Divergent
            };
            assert_eq!(m.class, expected, "h_g h_d a² = {}", hg * hd * a2);
        }
        // The threshold to 1e-3: just below and above h² a² = 4 with h_g = h_d.
        let h_star = 2.0 / g.a();
        let below = rho(
            &g,
            RuleSpec::new(RuleName::Alternating, h_star - 1e-3, h_star - 1e-3).unwrap(),
        );
        let above = rho(
            &g,
            RuleSpec::new(RuleName::Alternating, h_star + 1e-3, h_star + 1e-3).unwrap(),
        );
        assert_eq!(
            (below.class, above.class),
            (MapClass::Cycling, MapClass::Divergent)
        );
    }

    #[test]
    fn r1_simultaneous_threshold_and_published_radius() {
        // Converges iff h < γ/a² (γ < 2a); h = 0.2, γ = 0.3 gives ρ = √0.95.
        let g = Dirac {
            r1: 0.3,
            ..Dirac::default()
        };
        let m = rho(&g, RuleSpec::new(RuleName::Simultaneous, 0.2, 0.2).unwrap());
        assert!((m.spectral_radius - 0.95f64.sqrt()).abs() < RHO_EXACT);
        for &gamma in &[0.1, 0.3, 0.6] {
            let g = Dirac {
                r1: gamma,
                ..Dirac::default()
            };
            let h_star = gamma / (g.a() * g.a());
            let below = rho(
                &g,
                RuleSpec::new(RuleName::Simultaneous, h_star - 1e-3, h_star - 1e-3).unwrap(),
            );
            let above = rho(
                &g,
                RuleSpec::new(RuleName::Simultaneous, h_star + 1e-3, h_star + 1e-3).unwrap(),
            );
            assert_eq!(
                (below.class, above.class),
                (MapClass::Convergent, MapClass::Divergent)
            );
        }
        // Alternating: det = 1 − hγ.
        for &(gamma, h) in &[(0.3, 0.2), (1.0, 0.5)] {
            let g = Dirac {
                r1: gamma,
                ..Dirac::default()
            };
            let m = rho(&g, RuleSpec::new(RuleName::Alternating, h, h).unwrap());
            let det = m
                .eigenvalues
                .iter()
                .fold(Eigenvalue::new(1.0, 0.0), |p, z| p * z);
            assert!((det.re - (1.0 - h * gamma)).abs() < RHO_EXACT);
        }
    }

    #[test]
    fn bilinear_thresholds() {
        let g = Bilinear::scalar(1.0);
        // Simultaneous: ρ = √(1 + η²) always divergent.
        for &eta in &[0.05, 0.5, 1.5] {
            let m = rho(&g, RuleSpec::new(RuleName::Simultaneous, eta, eta).unwrap());
            assert!((m.spectral_radius - (1.0 + eta * eta).sqrt()).abs() < RHO_EXACT);
        }
        let class = |name, eta: f64| rho(&g, RuleSpec::new(name, eta, eta).unwrap()).class;
        let eps = 1e-3;
        // Alternating bounded for η < 2; extragradient converges iff η < 1; optimistic iff η < 1/√3.
        assert_eq!(class(RuleName::Alternating, 2.0 - eps), MapClass::Cycling);
        assert_eq!(class(RuleName::Alternating, 2.0 + eps), MapClass::Divergent);
        assert_eq!(
            class(RuleName::Extragradient, 1.0 - eps),
            MapClass::Convergent
        );
        assert_eq!(
            class(RuleName::Extragradient, 1.0 + eps),
            MapClass::Divergent
        );
        let t = 1.0 / 3f64.sqrt();
        assert_eq!(class(RuleName::Optimistic, t - eps), MapClass::Convergent);
        assert_eq!(class(RuleName::Optimistic, t + eps), MapClass::Divergent);
        // Negative momentum converges when alternating; simultaneous momentum diverges.
        let alt_neg = RuleName::Momentum
            .spec(
                0.5,
                0.5,
                &crate::dynamics::RuleOptions {
                    beta: Some(-0.5),
                    scheme: Some(crate::dynamics::SchemeKind::Alternating),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(rho(&g, alt_neg).class, MapClass::Convergent);
        for &beta in &[0.5, -0.5] {
            let sim = RuleName::Momentum
                .spec(
                    0.5,
                    0.5,
                    &crate::dynamics::RuleOptions {
                        beta: Some(beta),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(rho(&g, sim).class, MapClass::Divergent, "β = {beta}");
        }
    }

    #[test]
    fn ttur_saddle_thresholds() {
        let class = |hx: f64, hy: f64| {
            rho(
                &TturSaddle,
                RuleSpec::new(RuleName::Simultaneous, hx, hy).unwrap(),
            )
            .class
        };
        let e = 1e-3;
        assert_eq!(class(0.01 - e * 0.01, 1.0 - e), MapClass::Convergent);
        assert_eq!(class(0.01 + e * 0.01, 0.5), MapClass::Divergent);
        assert_eq!(class(0.005, 1.0 + e), MapClass::Divergent);
    }

    #[test]
    fn consensus_and_flow() {
        // Consensus at the Dirac equilibrium: λ(J_c) = −γa² ± ia, so I + hJ_c has
        // ρ² = (1 − hγa²)² + h²a².
        let g = Dirac::default();
        let a = g.a();
        for &(gamma, h) in &[(1.0, 0.2), (0.5, 0.1)] {
            let m = rho(
                &g,
                RuleName::Consensus
                    .spec(
                        h,
                        h,
                        &crate::dynamics::RuleOptions {
                            gamma: Some(gamma),
                            ..Default::default()
                        },
                    )
                    .unwrap(),
            );
            let expected = ((1.0 - h * gamma * a * a).powi(2) + h * h * a * a).sqrt();
            assert!((m.spectral_radius - expected).abs() < 1e-7);
        }
        // RK4 on a centre: |R(ih a)| slightly below 1 for small h (order-4 damping h⁶/72).
        let m = rho(&g, RuleSpec::new(RuleName::Flow, 0.1, 0.1).unwrap());
        let z: f64 = 0.1 * a;
        let expected =
            ((1.0 - z * z / 2.0 + z.powi(4) / 24.0).powi(2) + (z - z.powi(3) / 6.0).powi(2)).sqrt();
        assert!((m.spectral_radius - expected).abs() < RHO_EXACT);
    }

    #[test]
    fn analytic_chain_equals_differenced_map() {
        let games: Vec<Box<dyn Game>> = vec![
            Box::new(Dirac {
                r1: 0.3,
                ..Dirac::default()
            }),
            Box::new(Bilinear {
                a: Matrix::from_row_slice(2, 2, &[1.0, 0.5, -0.2, 2.0]),
            }),
            Box::new(TturSaddle),
        ];
        for g in &games {
            for spec in [
                RuleSpec::new(RuleName::Simultaneous, 0.1, 0.3).unwrap(),
                RuleSpec {
                    scheme: Scheme::Alternating {
                        order: Order::DFirst,
                        k_g: 1,
                        k_d: 3,
                    },
                    ..RuleSpec::new(RuleName::Alternating, 0.004, 0.2).unwrap()
                },
                RuleSpec {
                    scheme: Scheme::Alternating {
                        order: Order::GFirst,
                        k_g: 2,
                        k_d: 1,
                    },
                    ..RuleSpec::new(RuleName::Alternating, 0.003, 0.1).unwrap()
                },
                RuleSpec::new(RuleName::Extragradient, 0.005, 0.4).unwrap(),
                RuleSpec::new(RuleName::Flow, 0.004, 0.2).unwrap(),
            ] {
                let rule = spec.build().unwrap();
                // The chain evaluates J once, so it is the map's Jacobian at a fixed point
                // (everywhere for the linear bilinear game).
                let x = if g.name() == "bilinear" {
                    Vector::from_fn(g.dim(), |i, _| 0.1 * (i as f64 + 1.0))
                } else {
                    g.equilibrium().unwrap()
                };
                let a = analytic_map_jacobian(g.as_ref(), &rule, &x).unwrap();
                let t = rule.init(g.as_ref());
                let fd = central_jacobian(|z| augmented_step(g.as_ref(), &rule, z, &t), &x);
                assert!((&a - &fd).amax() < 1e-7, "{} {:?}", g.name(), spec.name());
            }
        }
    }

    #[test]
    fn closed_form_2x2_eigenvalues_match_schur() {
        /// Relative agreement of the closed form and the Schur iteration.
        const EIG_2X2_TOL: f64 = 1e-12;
        let mut rng = crate::linalg::rng(7, 0);
        use rand::RngExt;
        for _ in 0..2000 {
            let m: [[f64; 2]; 2] = [
                [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)],
                [rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)],
            ];
            let a = eigenvalues_2x2(m);
            let b = eigenvalues(&Matrix::from_row_slice(
                2,
                2,
                &[m[0][0], m[0][1], m[1][0], m[1][1]],
            ))
            .unwrap();
            let scale = b.iter().map(|z| z.norm()).fold(1.0, f64::max);
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).norm() <= EIG_2X2_TOL * scale,
                    "{m:?}: {a:?} vs {b:?}"
                );
            }
        }
        // Repeated and real-split cases.
        let i = eigenvalues_2x2([[1.0, 0.0], [0.0, 1.0]]);
        assert!(i.iter().all(|z| *z == Eigenvalue::new(1.0, 0.0)));
        let r = eigenvalues_2x2([[1.0, 1e-9], [0.0, 1.0 - 1e-12]]);
        assert!(r.iter().all(|z| z.im == 0.0));
    }

    #[test]
    fn rk4_on_a_centre_is_the_integrators_damping() {
        // Issue 9: the flow of the Dirac-GAN (a centre) at η = 0.5: ρ = |R(i·0.25)| =
        // √(1 − y⁶/72 + y⁸/576) < 1 is RK4's damping, not the game's.
        let m = rho(
            &Dirac::default(),
            RuleSpec::new(RuleName::Flow, 0.5, 0.5).unwrap(),
        );
        let y: f64 = 0.5 * Dirac::default().a();
        let expected = (1.0 - y.powi(6) / 72.0 + y.powi(8) / 576.0).sqrt();
        assert!(
            (m.spectral_radius - expected).abs() < RHO_EXACT,
            "{}",
            m.spectral_radius
        );
        assert!(m.spectral_radius < 1.0 - RHO_TOL);
        assert_eq!(m.class, MapClass::Rk4Damped);
        assert!(m.note.is_some());
        // A stable focus under the flow is the game's convergence.
        let r1 = Dirac {
            r1: 0.3,
            ..Dirac::default()
        };
        let m = rho(&r1, RuleSpec::new(RuleName::Flow, 0.5, 0.5).unwrap());
        assert_eq!(m.class, MapClass::Convergent);
    }

    #[test]
    fn adam_has_no_linearisation() {
        let rule = RuleSpec::new(RuleName::Adam, 0.1, 0.1)
            .unwrap()
            .build()
            .unwrap();
        assert!(linearize_update(&Dirac::default(), &rule, &Vector::zeros(2)).is_err());
    }
}
