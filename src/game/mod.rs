//! Games: vector fields over the joint parameters of a generator and a discriminator.
//!
//! # Sign convention (used everywhere in redqueen)
//! The joint parameters are x = (θ_G, ψ_D): the generator's coordinates come first
//! (`0..split`), the discriminator's after (`split..dim`). The simultaneous-gradient
//! field is
//!
//! v(x) = (−∇_θ L_G(x), −∇_ψ L_D(x)),
//!
//! so each player *descends* its own loss, and training with learning rate h is
//! x ← x + h·v(x). In a zero-sum game L_D = −L_G, so the discriminator ascends the value.
//! J = ∂v/∂x. The continuous flow ẋ = v(x) is locally stable at a fixed point iff
//! max Re λ(J) < 0, and a discrete map F is stable iff ρ(∂F) < 1. Papers that use
//! ξ = −v and H = −J (Balduzzi et al. 2018, Berard et al. 2020) have the opposite signs.

mod adjusted;
mod bilinear;
mod dirac;
mod jvp;
pub mod lanes;
mod lotka_volterra;
mod one_mode;
mod spec;
mod ttur_saddle;

pub use adjusted::{Consensus, NotebookConsensus, Sga};
pub use bilinear::Bilinear;
pub use dirac::{Dirac, DiracField, DiracLoss, gauss_hermite_normal, sigmoid, sigmoid_slope};
pub use jvp::{JVP_FD_STEP, JvpMethod, central_jvp};
pub use lanes::{Field2, Kernel2, LaneGame};
pub use lotka_volterra::LotkaVolterra;
pub use one_mode::{D_BOUND as ONE_MODE_D_BOUND, OneMode, OneModeOptimum};
pub use spec::{GAME_KEYS, GAME_NAMES, GameSpec, MAX_MATRIX_SIDE, MAX_MODES, Setting, parse_f64};
pub use ttur_saddle::TturSaddle;

use crate::linalg::{Matrix, Vector, central_jacobian};

/// The start of a run on `game`: `from` if given (it must have the game's dimension and
/// finite coordinates), else [`Game::default_start`]. The command line and the study
/// files share this check.
///
/// # Errors
/// [`crate::error::Error::Dimension`] or [`crate::error::Error::Param`] naming `from`.
pub fn start_point(game: &dyn Game, from: Option<&[f64]>) -> crate::error::Result<Vector> {
    let Some(v) = from else {
        return Ok(game.default_start());
    };
    if v.len() != game.dim() {
        return Err(crate::error::Error::Dimension {
            what: format!("start point for game `{}`", game.name()),
            got: v.len(),
            expected: game.dim(),
        });
    }
    if let Some(x) = v.iter().find(|x| !x.is_finite()) {
        return Err(crate::error::Error::param(
            "from",
            format!("coordinate {x} is not finite"),
        ));
    }
    Ok(Vector::from_column_slice(v))
}

/// One of the two players.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Player {
    /// The generator: coordinates `0..split`.
    Generator,
    /// The discriminator: coordinates `split..dim`.
    Discriminator,
}

impl Player {
    /// The coordinate range of this player in a game of dimension `dim` split at `split`.
    #[must_use]
    pub fn range(self, split: usize, dim: usize) -> std::ops::Range<usize> {
        match self {
            Player::Generator => 0..split,
            Player::Discriminator => split..dim,
        }
    }
}

/// A conserved quantity of the continuous flow, with its name for CSV headers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conserved {
    /// Column name, e.g. `radius_sq` or `lv_energy`.
    pub name: &'static str,
    /// The value at the queried point.
    pub value: f64,
}

/// A two-player differentiable game given by its simultaneous-gradient field.
///
/// Only [`Game::dim`], [`Game::split`], [`Game::field`] and [`Game::name`] are required.
/// The Jacobian defaults to central differences ([`central_jacobian`]).
pub trait Game: Send + Sync {
    /// The game's CLI name, e.g. `dirac`.
    fn name(&self) -> &'static str;
    /// Number of joint parameters.
    fn dim(&self) -> usize;
    /// Number of generator coordinates; the rest belong to the discriminator.
    fn split(&self) -> usize;
    /// v(x) = (−∇_θ L_G, −∇_ψ L_D) (see the module docs for the sign convention).
    fn field(&self, x: &Vector) -> Vector;

    /// Only one player's block of the field, written into the full-length vector
    /// (other entries are left as zero). Games where one block is much cheaper than
    /// the whole field (neural GANs) override it.
    fn player_field(&self, x: &Vector, player: Player) -> Vector {
        let mut v = self.field(x);
        let keep = player.range(self.split(), self.dim());
        for i in 0..v.len() {
            if !keep.contains(&i) {
                v[i] = 0.0;
            }
        }
        v
    }

    /// J = ∂v/∂x. Games with a closed form override this and [`Game::has_analytic_jacobian`].
    fn jacobian(&self, x: &Vector) -> Matrix {
        central_jacobian(|y| self.field(y), x)
    }
    /// Whether [`Game::jacobian`] is a closed form (and so is tested against differences).
    fn has_analytic_jacobian(&self) -> bool {
        false
    }
    /// The Jacobian-vector product J·u, the only access to J that Krylov eigen-solvers
    /// need. Default: `jacobian(x)·u` for games with a closed-form Jacobian, otherwise
    /// central differences of the field along u ([`central_jvp`], two field
    /// evaluations). Games with an exact product (the neural GAN) override it and
    /// [`Game::jvp_method`].
    ///
    /// # Panics
    /// If `x` or `u` does not have length [`Game::dim`] (a programming error).
    fn jvp(&self, x: &Vector, u: &Vector) -> Vector {
        assert!(
            x.len() == self.dim() && u.len() == self.dim(),
            "jvp: length ≠ dim"
        );
        if self.has_analytic_jacobian() {
            self.jacobian(x) * u
        } else {
            central_jvp(|y| self.field(y), x, u)
        }
    }
    /// How [`Game::jvp`] and [`Game::hessian_vp`] compute their products (recorded in
    /// every output built from them). Must agree with those two methods.
    fn jvp_method(&self) -> JvpMethod {
        if self.has_analytic_jacobian() {
            JvpMethod::Exact
        } else {
            JvpMethod::CentralDifference { step: JVP_FD_STEP }
        }
    }
    /// A player's Hessian-vector product: H_G·w = ∇²_θ L_G·w for the generator,
    /// H_D·w = ∇²_ψ L_D·w for the discriminator, with `w` and the result of the
    /// player's length. These are the diagonal blocks of −J (v = −∇L per player), so
    /// H_G·w = −(J·(w, 0))_θ and H_D·w = −(J·(0, w))_ψ; symmetric where L is twice
    /// continuously differentiable. Default: the block of the closed-form Jacobian,
    /// otherwise central differences of [`Game::player_field`] along (w, 0) or (0, w)
    /// (so only that player's block of the field is evaluated).
    ///
    /// # Panics
    /// If `x` does not have length [`Game::dim`] or `w` the player's length.
    fn hessian_vp(&self, x: &Vector, player: Player, w: &Vector) -> Vector {
        let r = player.range(self.split(), self.dim());
        assert!(
            x.len() == self.dim() && w.len() == r.len(),
            "hessian_vp: length mismatch"
        );
        if self.has_analytic_jacobian() {
            let j = self.jacobian(x);
            return -(j.view((r.start, r.start), (r.len(), r.len())) * w);
        }
        let mut u = Vector::zeros(self.dim());
        u.rows_mut(r.start, r.len()).copy_from(w);
        let ju = central_jvp(|y| self.player_field(y, player), x, &u);
        -ju.rows(r.start, r.len())
    }
    /// Coordinate names used as CSV columns and axis labels.
    fn coordinate_names(&self) -> Vec<String> {
        (0..self.dim())
            .map(|i| {
                if i < self.split() {
                    format!("g{i}")
                } else {
                    format!("d{}", i - self.split())
                }
            })
            .collect()
    }
    /// The known equilibrium (a fixed point of the field), where one is known in closed form.
    fn equilibrium(&self) -> Option<Vector> {
        None
    }
    /// Where simulations start unless told otherwise: (1, …, 1) for games centred at the
    /// origin (the GAN_stability notebook starts the Dirac-GAN at (1, 1)), otherwise the
    /// equilibrium + 0.5 in every coordinate.
    fn default_start(&self) -> Vector {
        match self.equilibrium() {
            Some(e) if e.amax() != 0.0 => e.add_scalar(0.5),
            _ => Vector::from_element(self.dim(), 1.0),
        }
    }
    /// A quantity conserved by the continuous flow, where the game has one.
    fn conserved(&self, _x: &Vector) -> Option<Conserved> {
        None
    }
    /// Why the field is not differentiable at `x`, if it is not (then the Jacobian there
    /// is a one-sided derivative and the flow is classed `degenerate`).
    fn nonsmooth_at(&self, _x: &Vector) -> Option<String> {
        None
    }
    /// Projection applied after every update (weight clipping); the identity by default.
    fn project(&self, _x: &mut Vector) {}
    /// The game as a lane kernel for the batch engine ([`lanes`]), where it has one. A
    /// game that returns one must compute [`Game::field`] and [`Game::project`] with it
    /// (the engine's cells equal single runs bit for bit because of that).
    fn lanes(&self) -> Option<LaneGame> {
        None
    }
    /// Draws the randomness of the coming update from `rng`: for a neural GAN, a fresh
    /// minibatch (`None`: both players, as a simultaneous update or a discriminator
    /// update uses; `Some(Player::Generator)`: only the generator's latent batch). The
    /// field is a deterministic function of x between two draws, so every analysis sees
    /// one fixed batch. Deterministic games ignore it (the default).
    ///
    /// The drawn batch is state of the game instance: concurrent runs of a stochastic
    /// game each need their own instance.
    fn draw_batch(&self, _for_player: Option<Player>, _rng: &mut crate::linalg::Rng) {}
    /// The parameters, for JSON output and the resolved configuration.
    fn params(&self) -> serde_json::Value;
}

#[cfg(test)]
pub(crate) mod testing {
    //! Shared checks for every game with an analytic Jacobian.
    use super::*;
    use rand::RngExt;

    /// Max-abs tolerance between the analytic Jacobian and central differences at
    /// points of order one (truncation O(h²·|v'''|) with h = 6e-6, rounding O(ε/h)).
    pub const JACOBIAN_FD_TOL: f64 = 1e-7;

    /// Relative tolerance of [`central_jvp`] against an analytic J·u at points of order
    /// one: ‖fd − J u‖ ≤ tol·max(‖J u‖, ‖u‖). Its error is O(h²‖v‴‖‖u‖³) + O(ε‖v‖/h)
    /// with ‖h u‖ = 6e-6·max(1, ‖x‖), about 1e-10 here.
    pub const JVP_FD_TOL: f64 = 1e-7;
    /// The exact products agree with `jacobian(x)·u` to rounding.
    pub const JVP_EXACT_TOL: f64 = 1e-13;

    /// Compares the analytic Jacobian with differences at `n` random points in a box,
    /// and the products of [`Game::jvp`] and [`Game::hessian_vp`] with the Jacobian.
    pub fn check_jacobian(game: &dyn Game, half_width: f64, n: usize, seed: u64) {
        assert!(game.has_analytic_jacobian());
        assert_eq!(game.jvp_method(), JvpMethod::Exact);
        let mut rng = crate::linalg::rng(seed, 0);
        for _ in 0..n {
            let x = Vector::from_fn(game.dim(), |_, _| rng.random_range(-half_width..half_width));
            let u = Vector::from_fn(game.dim(), |_, _| rng.random_range(-1.0..1.0));
            check_products(game, &x, &u);
            let a = game.jacobian(&x);
            let fd = central_jacobian(|y| game.field(y), &x);
            let scale = fd.amax().max(1.0);
            assert!(
                (&a - &fd).amax() <= JACOBIAN_FD_TOL * scale,
                "{}: analytic vs FD Jacobian differ by {} at {x:?}\n{a}\n{fd}",
                game.name(),
                (&a - &fd).amax()
            );
        }
    }

    /// J·u, H_G·w and H_D·w of the game against its (analytic or difference) Jacobian,
    /// and the default central-difference product against J·u.
    pub fn check_products(game: &dyn Game, x: &Vector, u: &Vector) {
        let j = game.jacobian(x);
        let ju = &j * u;
        let exact = game.has_analytic_jacobian();
        let tol = if exact { JVP_EXACT_TOL } else { JVP_FD_TOL };
        let close = |a: &Vector, b: &Vector, tol: f64| {
            (a - b).norm() <= tol * b.norm().max(u.norm()).max(1e-300)
        };
        let got = game.jvp(x, u);
        assert!(
            close(&got, &ju, tol),
            "{}: jvp {got} vs J·u {ju}",
            game.name()
        );
        let fd = central_jvp(|y| game.field(y), x, u);
        assert!(
            close(&fd, &ju, JVP_FD_TOL),
            "{}: central jvp {fd} vs J·u {ju}",
            game.name()
        );
        for player in [Player::Generator, Player::Discriminator] {
            let r = player.range(game.split(), game.dim());
            let w = u.rows(r.start, r.len()).into_owned();
            let want = -(j.view((r.start, r.start), (r.len(), r.len())) * &w);
            let got = game.hessian_vp(x, player, &w);
            assert!(
                (&got - &want).norm() <= tol * want.norm().max(w.norm()),
                "{} {player:?}: H·w {got} vs −J_pp·w {want}",
                game.name()
            );
        }
    }
}
