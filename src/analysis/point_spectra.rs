//! Every spectrum at one point of any game, from its Jacobian-vector products: the
//! game Jacobian's eigenvalues (all of them by the dense solver, or k by Krylov–Schur),
//! the players' Hessian extremes (Lanczos, or the dense blocks), the rotation index
//! (exact or Hutchinson), the linearised update map's spectral radius and class, and a
//! verdict (Berard et al. 2020, §4: local Nash equilibrium, or a locally stable
//! stationary point that is not Nash).
//!
//! # The verdict and its thresholds
//! * **not stationary**: ‖v(x)‖ > [`STATIONARY_REL`]·‖v(x₀)‖, x₀ the run's initial
//!   point on the same batch. A linearisation describes the dynamics only near a fixed
//!   point; a field that has not fallen an order of magnitude below its value at
//!   initialisation says that training has not reached such a neighbourhood (the
//!   absolute size of v has no meaning across networks and losses, its decrease does).
//! * **unstable**: max Re λ(J) > [`STABLE_TOL`]·max |λ(J)|. The neural Jacobian has
//!   many exactly-zero eigenvalues (symmetries of the networks, dead units), computed
//!   with errors of order ε·‖J‖·condition; 1e-6 relative keeps them neutral.
//! * **local Nash**: stable, and both Hessians positive semidefinite, λ_min(H_p) ≥
//!   −[`STABLE_TOL`]·max |λ(H_p)| for p = G, D.
//! * **stable, not Nash**: stable, and a player's Hessian has a negative eigenvalue.
//!
//! With Krylov–Schur, max Re λ is taken from a largest-real (`LR`) run (made in
//! addition to the requested selection when that is not `LR`); an unconverged value
//! is reported with its residual and the verdict gets a note.

use serde::Serialize;

use super::linear_map::LinearMap;
use super::rotation::{RotationIndex, rotation_index_exact, rotation_index_hutchinson};
use super::update_map::classify_map;
use crate::error::{Error, Result};
use crate::game::{Game, Player};
use crate::linalg::{
    FnOperator, KrylovOptions, Matrix, SymmetricWhich, Vector, Which, eigenvalues,
    extreme_eigenvalues, spectral_radius, symmetric_eigenvalues, top_k,
};
use crate::optim::ChainState;

/// ‖v(x)‖ above this fraction of ‖v(x₀)‖ is "not stationary" (module docs).
pub const STATIONARY_REL: f64 = 0.1;
/// Relative tolerance on max Re λ and on the Hessians' smallest eigenvalues (module
/// docs).
pub const STABLE_TOL: f64 = 1e-6;
/// Default number of Hutchinson samples (2 products each): the interval's half-width
/// scales as 1/√N; 64 samples give about ±0.02 on the gan-vis Jacobians.
pub const DEFAULT_HUTCHINSON: usize = 64;
/// Default largest n for the dense solver (`--dense-max`): a dense n × n Jacobian
/// needs 8n² bytes (128 MB at 4000) and n products to form, and faer's eigenvalues
/// take seconds at n = 2000.
pub const DEFAULT_DENSE_MAX: usize = 4000;
/// Eigenvalues per end of each player's Hessian (Lanczos, both ends).
pub const HESSIAN_K: usize = 4;

/// The options of [`point_spectra`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpectraOptions {
    /// Eigenvalues of J (and of the map) by Krylov–Schur.
    pub k: usize,
    /// The selection of the Krylov run on J.
    pub which: Which,
    /// All eigenvalues by the dense solver.
    pub dense: bool,
    /// Largest n for `dense`.
    pub dense_max: usize,
    /// Seed of the start vectors and Hutchinson probes.
    pub seed: u64,
    /// Hutchinson samples for the rotation index without `dense`.
    pub hutchinson: usize,
}

/// One eigenvalue row of the tidy table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EigenRow {
    /// `game`, `map`, `hessian_g` or `hessian_d`.
    pub matrix: &'static str,
    /// `dense` or `krylov_schur` / `lanczos`.
    pub method: &'static str,
    /// `all`, `LM`, `LR`, `LI`, `BE`.
    pub which: &'static str,
    /// Position in its list.
    pub index: usize,
    /// Re λ.
    pub re: f64,
    /// Im λ.
    pub im: f64,
    /// ‖Jx − λx‖/‖x‖ (NaN for dense eigenvalues, which have no Ritz vector here).
    pub residual: f64,
    /// Whether the residual met the tolerance (true for dense).
    pub converged: bool,
}

/// The verdict at a point (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Stable, both Hessians PSD.
    LocalNash,
    /// Stable, a Hessian indefinite.
    StableNotNash,
    /// max Re λ > 0.
    Unstable,
    /// ‖v‖ too large for a local analysis.
    NotStationary,
}

impl Verdict {
    /// Snake-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::LocalNash => "local_nash",
            Verdict::StableNotNash => "stable_not_nash",
            Verdict::Unstable => "unstable",
            Verdict::NotStationary => "not_stationary",
        }
    }
}

/// Everything at one point.
#[derive(Debug, Clone, Serialize)]
pub struct PointSpectra {
    /// n.
    pub n: usize,
    /// ‖v(x)‖.
    pub field_norm: f64,
    /// ‖v(x₀)‖ (the reference of the stationarity test).
    pub reference_field_norm: f64,
    /// max Re λ(J) among the computed eigenvalues.
    pub max_re: f64,
    /// max |Im λ(J)| among the computed eigenvalues.
    pub max_abs_im: f64,
    /// Share of computed eigenvalues with |Im λ| > |Re λ|.
    pub share_rotational: f64,
    /// ‖A‖²/‖J‖².
    pub rotation: RotationIndex,
    /// ρ of the linearised map (NaN when not linearised).
    pub map_rho: f64,
    /// Its class, or why it is missing.
    pub map_class: String,
    /// `exact`, `adam_frozen_preconditioner`, … (module docs of [`super::linear_map`]).
    pub map_method: String,
    /// λ_min, λ_max of H_G.
    pub hessian_g: (f64, f64),
    /// λ_min, λ_max of H_D.
    pub hessian_d: (f64, f64),
    /// The verdict.
    pub verdict: Verdict,
    /// Whether every Krylov/Lanczos value converged.
    pub converged: bool,
    /// The eigenvalue rows.
    #[serde(skip)]
    pub rows: Vec<EigenRow>,
}

fn jv(game: &dyn Game, x: &Vector, u: &[f64]) -> Vec<f64> {
    game.jvp(x, &Vector::from_column_slice(u))
        .as_slice()
        .to_vec()
}

/// The dense Jacobian from n products (exact products where the game has them).
#[must_use]
pub fn jacobian_from_products(game: &dyn Game, x: &Vector) -> Matrix {
    let n = game.dim();
    let mut j = Matrix::zeros(n, n);
    let mut e = Vector::zeros(n);
    for i in 0..n {
        e[i] = 1.0;
        j.set_column(i, &game.jvp(x, &e));
        e[i] = 0.0;
    }
    j
}

fn push_complex(
    rows: &mut Vec<EigenRow>,
    matrix: &'static str,
    method: &'static str,
    which: &'static str,
    vals: &[(f64, f64, f64, bool)],
) {
    for (i, &(re, im, residual, converged)) in vals.iter().enumerate() {
        rows.push(EigenRow {
            matrix,
            method,
            which,
            index: i,
            re,
            im,
            residual,
            converged,
        });
    }
}

/// All spectra of `game` at `x` (module docs); `x0` is the reference point of the
/// stationarity test, `state` the optimisers' state (for Adam's frozen
/// preconditioner).
///
/// # Errors
/// [`Error::Param`] for `--dense` above the limit or k ≥ n; the solvers' errors.
pub fn point_spectra(
    game: &dyn Game,
    rule: &crate::dynamics::Rule,
    x: &Vector,
    x0: &Vector,
    state: Option<(&ChainState, &ChainState)>,
    opts: &SpectraOptions,
) -> Result<PointSpectra> {
    let n = game.dim();
    let split = game.split();
    if opts.dense && n > opts.dense_max {
        return Err(Error::param(
            "--dense",
            format!(
                "n = {n} parameters is above the dense limit {} (raise --dense-max, or use --k)",
                opts.dense_max
            ),
        ));
    }
    if !opts.dense && (opts.k == 0 || opts.k >= n) {
        return Err(Error::param(
            "--k",
            format!("k = {} must satisfy 1 ≤ k < n = {n}", opts.k),
        ));
    }
    let field_norm = game.field(x).norm();
    let reference_field_norm = game.field(x0).norm();
    let mut rows = Vec::new();
    let mut converged = true;
    let lin = LinearMap::new(rule, n, split, state);
    let (ev, rotation, hg, hd, map) = if opts.dense {
        let j = jacobian_from_products(game, x);
        let ev = eigenvalues(&j)?;
        let vals: Vec<_> = ev.iter().map(|z| (z.re, z.im, f64::NAN, true)).collect();
        push_complex(&mut rows, "game", "dense", "all", &vals);
        let rotation = rotation_index_exact(&j);
        let mut ends = Vec::new();
        for (name, r) in [("hessian_g", 0..split), ("hessian_d", split..n)] {
            let h = -j.view((r.start, r.start), (r.len(), r.len())).clone_owned();
            let hs = (&h + h.transpose()) * 0.5;
            let e = symmetric_eigenvalues(&hs)?;
            let vals: Vec<_> = e.iter().map(|v| (*v, 0.0, f64::NAN, true)).collect();
            push_complex(&mut rows, name, "dense", "all", &vals);
            let lo = e.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = e.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            ends.push((lo, hi));
        }
        let map = match &lin {
            Ok(l) => {
                let m = l.apply(&Matrix::identity(l.dim(), l.dim()), &|z| Ok(&j * z))?;
                let mev = eigenvalues(&m)?;
                let vals: Vec<_> = mev.iter().map(|z| (z.re, z.im, f64::NAN, true)).collect();
                push_complex(&mut rows, "map", "dense", "all", &vals);
                Ok((
                    spectral_radius(&mev),
                    classify_map(&mev).as_str().to_string(),
                ))
            }
            Err(e) => Err(e.to_string()),
        };
        (ev, rotation, ends[0], ends[1], map)
    } else {
        let op = FnOperator::new(n, |u: &[f64], y: &mut [f64]| {
            y.copy_from_slice(&jv(game, x, u));
            Ok(())
        });
        let mut kopts = KrylovOptions::new(opts.k);
        kopts.seed = opts.seed;
        let mut selections = vec![opts.which];
        if opts.which != Which::LargestReal {
            selections.push(Which::LargestReal);
        }
        let mut ev = Vec::new();
        for w in selections {
            let pe = top_k(&op, w, &kopts)?;
            converged &= pe.all_converged();
            let vals: Vec<_> = pe
                .values
                .iter()
                .map(|r| (r.value.re, r.value.im, r.residual, r.converged))
                .collect();
            push_complex(&mut rows, "game", "krylov_schur", w.code(), &vals);
            ev.extend(pe.values.iter().map(|r| r.value));
        }
        let rotation =
            rotation_index_hutchinson(n, opts.hutchinson, opts.seed, &|u| Ok(jv(game, x, u)))?;
        let mut ends = Vec::new();
        for (name, player, len) in [
            ("hessian_g", Player::Generator, split),
            ("hessian_d", Player::Discriminator, n - split),
        ] {
            let hop = FnOperator::new(len, |w: &[f64], y: &mut [f64]| {
                y.copy_from_slice(
                    game.hessian_vp(x, player, &Vector::from_column_slice(w))
                        .as_slice(),
                );
                Ok(())
            });
            let mut hopts = KrylovOptions::new(HESSIAN_K.min(len.saturating_sub(1)).max(1));
            hopts.seed = opts.seed;
            let pe = extreme_eigenvalues(&hop, SymmetricWhich::BothEnds, &hopts)?;
            converged &= pe.all_converged();
            let vals: Vec<_> = pe
                .values
                .iter()
                .map(|r| (r.value, 0.0, r.residual, r.converged))
                .collect();
            push_complex(&mut rows, name, "lanczos", "BE", &vals);
            let lo = pe
                .values
                .iter()
                .map(|r| r.value)
                .fold(f64::INFINITY, f64::min);
            let hi = pe
                .values
                .iter()
                .map(|r| r.value)
                .fold(f64::NEG_INFINITY, f64::max);
            ends.push((lo, hi));
        }
        let map = match &lin {
            Ok(l) => {
                let mop = FnOperator::new(l.dim(), |z: &[f64], y: &mut [f64]| {
                    let zm = Matrix::from_column_slice(z.len(), 1, z);
                    let out = l.apply(&zm, &|c| {
                        Ok(Matrix::from_column_slice(n, 1, &jv(game, x, c.as_slice())))
                    })?;
                    y.copy_from_slice(out.as_slice());
                    Ok(())
                });
                let mut mopts = KrylovOptions::new(opts.k.min(l.dim() - 1));
                mopts.seed = opts.seed;
                let pe = top_k(&mop, Which::LargestMagnitude, &mopts)?;
                converged &= pe.all_converged();
                let vals: Vec<_> = pe
                    .values
                    .iter()
                    .map(|r| (r.value.re, r.value.im, r.residual, r.converged))
                    .collect();
                push_complex(&mut rows, "map", "krylov_schur", "LM", &vals);
                let mev: Vec<_> = pe.values.iter().map(|r| r.value).collect();
                Ok((
                    spectral_radius(&mev),
                    classify_map(&mev).as_str().to_string(),
                ))
            }
            Err(e) => Err(e.to_string()),
        };
        (ev, rotation, ends[0], ends[1], map)
    };
    let max_re = ev.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
    let max_abs_im = ev.iter().map(|z| z.im.abs()).fold(0.0, f64::max);
    let scale = spectral_radius(&ev);
    let share_rotational =
        ev.iter().filter(|z| z.im.abs() > z.re.abs()).count() as f64 / ev.len().max(1) as f64;
    let psd = |(lo, hi): (f64, f64)| lo >= -STABLE_TOL * lo.abs().max(hi.abs());
    let verdict = if field_norm > STATIONARY_REL * reference_field_norm {
        Verdict::NotStationary
    } else if max_re > STABLE_TOL * scale {
        Verdict::Unstable
    } else if psd(hg) && psd(hd) {
        Verdict::LocalNash
    } else {
        Verdict::StableNotNash
    };
    let (map_rho, map_class, map_method) = match (map, &lin) {
        (Ok((rho, class)), Ok(l)) => (rho, class, l.method.to_string()),
        (Err(why), _) => (f64::NAN, format!("not linearised: {why}"), "none".into()),
        (Ok(_), Err(e)) => (f64::NAN, format!("not linearised: {e}"), "none".into()),
    };
    Ok(PointSpectra {
        n,
        field_norm,
        reference_field_norm,
        max_re,
        max_abs_im,
        share_rotational,
        rotation,
        map_rho,
        map_class,
        map_method,
        hessian_g: hg,
        hessian_d: hd,
        verdict,
        converged,
        rows,
    })
}
