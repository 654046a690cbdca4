//! The batch engine: many independent runs of one rule on one game at once (the cells of
//! a learning-rate grid, start points), each with the streaming statistics of
//! [`super::stats`] computed inside the loop. Sweeps, stability maps and the portraits'
//! runs all go through it.
//!
//! # One reference
//! A cell of the engine equals the scalar reference, [`super::Run::simulate`] followed
//! by [`crate::analysis::classify_trajectory`], bit for bit, at every thread count and on
//! every SIMD path:
//! * games with a lane kernel ([`crate::game::LaneGame`]: the two-coordinate games and
//!   their consensus/SGA adjustments) whose players use one kind of optimiser run in
//!   vector lanes ([`lanes`]): blocks of [`LANES`] cells in structure-of-arrays form,
//!   with the game's own field function, the optimisers' arithmetic ([`opt`]) and the
//!   statistics' pushes, compiled for AVX-512, AVX2 and the baseline and chosen at run
//!   time ([`crate::simd`]);
//! * every other game or rule runs the reference step itself, cell by cell, with the
//!   same statistics.
//!
//! Blocks and cells are independent and collected in order, so the thread count changes
//! only the speed.

mod lanes;
mod opt;

#[cfg(test)]
mod tests;

use std::ops::ControlFlow;

use rayon::prelude::*;

pub use lanes::LANES;
use lanes::{Block, LaneEnd, Setup};
use opt::{LaneOpt, OptPair};

use super::stats::{LaneStats, RunStats, StatsPlan, bound_threshold, dist2};
use super::{Bound, RuleSpec, RuleState, Run, Scheme, Stop};
use crate::error::{Error, Result};
use crate::game::lanes::{Consensus2, Sga2};
use crate::game::{Field2, Game, Kernel2, LaneGame};
use crate::linalg::Vector;
use crate::simd::SimdPath;

/// One run of a batch: its learning rates and which start point it uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Generator learning rate (replaces the rule's).
    pub lr_g: f64,
    /// Discriminator learning rate.
    pub lr_d: f64,
    /// Index into [`Batch::starts`].
    pub start: usize,
}

/// A batch of runs of one rule on one game.
pub struct Batch<'a> {
    /// The field the rule steps on (already adjusted for consensus or SGA, as
    /// [`RuleSpec::adjust_game`] does).
    pub game: &'a dyn Game,
    /// The rule; each cell replaces its learning rates.
    pub rule: &'a RuleSpec,
    /// The runs.
    pub cells: &'a [Cell],
    /// Start points, indexed by [`Cell::start`].
    pub starts: &'a [Vector],
    /// Outer steps per run.
    pub steps: usize,
    /// The point distances, winding and the bound are measured from (the equilibrium).
    pub center: &'a Vector,
    /// ‖x − center‖ > bound ends a run.
    pub bound: f64,
    /// Keep every state of every run (for figures); otherwise only the statistics.
    pub record: bool,
    /// Counts the runs finished (a sweep's progress line), if given.
    pub progress: Option<&'a crate::progress::Progress>,
}

/// How one run of a batch went.
#[derive(Debug, Clone)]
pub struct CellRun {
    /// The streaming statistics after the last state.
    pub stats: LaneStats,
    /// Their schedule.
    pub plan: StatsPlan,
    /// The last step whose state was taken (the steps of the run).
    pub last: usize,
    /// d² of the start.
    pub d2_0: f64,
    /// Why it ended.
    pub stop: Stop,
    /// The state after the last step computed (for a non-finite stop, the non-finite
    /// state, as [`Run::run`] leaves it).
    pub x_end: Vec<f64>,
    /// Every state x₀, x₁, … that a recorded run keeps ([`Batch::record`]).
    pub states: Option<Vec<Vec<f64>>>,
}

/// Bytes of memory a batch of `cells` runs of `steps` steps in `dim` coordinates needs
/// (results, plus the states when recorded), for [`crate::budget::check_memory`].
#[must_use]
pub fn memory_estimate(cells: usize, dim: usize, steps: usize, record: bool) -> u128 {
    let per_cell = std::mem::size_of::<CellRun>() as u128 + 8 * dim as u128 + 64;
    let states = if record {
        crate::budget::product(&[steps as u128 + 1, dim as u128 * 8 + 24])
    } else {
        0
    };
    crate::budget::product(&[cells as u128, per_cell + states])
}

impl Batch<'_> {
    /// Whether the runs go through the vector lanes (else the scalar reference, cell
    /// by cell).
    #[must_use]
    pub fn uses_lanes(&self) -> bool {
        self.lane_plan().is_some()
    }

    fn lane_plan(&self) -> Option<(LaneGame, OptPair)> {
        let g = self.game.lanes()?;
        let pair = OptPair::of(&self.rule.g, &self.rule.d)?;
        // Consensus and SGA kernels are compiled for their named rule only.
        let adjusted = !matches!(g, LaneGame::Plain(_));
        let plain_simultaneous =
            matches!(pair, OptPair::Sgd) && self.rule.scheme == Scheme::Simultaneous;
        if adjusted && !plain_simultaneous {
            return None;
        }
        if self.rule.scheme == Scheme::Flow && !matches!(pair, OptPair::Sgd) {
            return None;
        }
        Some((g, pair))
    }

    /// Runs every cell on the fastest SIMD path of this CPU.
    ///
    /// # Errors
    /// [`Error::Param`] for invalid rule settings, a start of the wrong dimension or a
    /// bad cell index.
    pub fn run(&self) -> Result<Vec<CellRun>> {
        self.run_on(SimdPath::detect())
    }

    /// Runs every cell on `path` (a path this CPU lacks runs the portable copy).
    ///
    /// # Errors
    /// As [`Batch::run`].
    pub fn run_on(&self, path: SimdPath) -> Result<Vec<CellRun>> {
        self.rule.validate()?;
        let dim = self.game.dim();
        if let Some(s) = self.starts.iter().find(|s| s.len() != dim) {
            return Err(Error::Dimension {
                what: "start point of a batch".into(),
                got: s.len(),
                expected: dim,
            });
        }
        if self.center.len() != dim {
            return Err(Error::Dimension {
                what: "centre of a batch".into(),
                got: self.center.len(),
                expected: dim,
            });
        }
        if let Some(c) = self.cells.iter().find(|c| c.start >= self.starts.len()) {
            return Err(Error::param(
                "start",
                format!(
                    "cell start {} is not one of {} starts",
                    c.start,
                    self.starts.len()
                ),
            ));
        }
        for c in self.cells {
            self.rule.with_lrs(c.lr_g, c.lr_d).validate()?;
        }
        match self.lane_plan() {
            Some((g, pair)) => Ok(self.run_lanes(g, pair, path)),
            None => self.run_reference(),
        }
    }

    /// The scalar reference, cell by cell (games or rules without lanes).
    fn run_reference(&self) -> Result<Vec<CellRun>> {
        let plan = StatsPlan::new(self.steps);
        let split = self.game.split();
        self.cells
            .par_iter()
            .map(|c| {
                let rule = self.rule.with_lrs(c.lr_g, c.lr_d).build()?;
                let x0 = &self.starts[c.start];
                let center = self.center.as_slice();
                let mut stats = RunStats::start(x0.as_slice(), center, split, self.steps);
                let mut states = self.record.then(|| vec![x0.iter().copied().collect()]);
                let mut observe = |k: usize, x: &Vector, _: &RuleState| {
                    if k > 0 {
                        stats.push(x.as_slice());
                        if let Some(s) = states.as_mut() {
                            s.push(x.iter().copied().collect());
                        }
                    }
                    ControlFlow::Continue(())
                };
                let mut x = x0.clone();
                let mut state = rule.init(self.game);
                let stop = Run {
                    game: self.game,
                    rule: &rule,
                    steps: self.steps,
                    bound: Bound::around(self.center, self.bound),
                }
                .run(&mut x, &mut state, &mut observe)?;
                if let Some(p) = self.progress {
                    p.inc(1);
                }
                Ok(CellRun {
                    stats: stats.lane,
                    plan,
                    last: stats.last(),
                    d2_0: dist2(x0.as_slice(), center),
                    stop,
                    x_end: x.iter().copied().collect(),
                    states,
                })
            })
            .collect()
    }

    fn run_lanes(&self, g: LaneGame, pair: OptPair, path: SimdPath) -> Vec<CellRun> {
        macro_rules! with_kernel {
            ($k:expr, |$f:ident| $body:expr) => {
                match $k {
                    Kernel2::Dirac($f) => $body,
                    Kernel2::DiracRegularised($f) => $body,
                    Kernel2::DiracLoss($f) => $body,
                    Kernel2::DiracLossRegularised($f) => $body,
                    Kernel2::LotkaVolterra($f) => $body,
                    Kernel2::TturSaddle($f) => $body,
                    Kernel2::Bilinear($f) => $body,
                }
            };
        }
        macro_rules! with_opt {
            (|$o:ident| $body:expr) => {
                match pair {
                    OptPair::Sgd => {
                        let $o = [opt::Sgd, opt::Sgd];
                        $body
                    }
                    OptPair::Momentum(a, b) => {
                        let $o = [a, b];
                        $body
                    }
                    OptPair::Optimistic => {
                        let $o = [opt::Optimistic, opt::Optimistic];
                        $body
                    }
                    OptPair::Adam(a, b) => {
                        let $o = [a, b];
                        $body
                    }
                    OptPair::RmsProp(a, b) => {
                        let $o = [a, b];
                        $body
                    }
                }
            };
        }
        match g {
            LaneGame::Plain(k) => with_kernel!(k, |f| with_opt!(|o| self.blocks(&f, &o, path))),
            LaneGame::Consensus(k, gamma) => with_kernel!(k, |f| self.blocks(
                &Consensus2 { inner: f, gamma },
                &[opt::Sgd, opt::Sgd],
                path
            )),
            LaneGame::Sga(k, lambda) => with_kernel!(k, |f| self.blocks(
                &Sga2 { inner: f, lambda },
                &[opt::Sgd, opt::Sgd],
                path
            )),
        }
    }

    /// Runs the cells in blocks of [`LANES`] on `path`, in parallel.
    fn blocks<F: Field2, O: LaneOpt>(&self, f: &F, o: &[O; 2], path: SimdPath) -> Vec<CellRun> {
        let plan = StatsPlan::new(self.steps);
        let center = [self.center[0], self.center[1]];
        let setup = Setup {
            plan,
            center,
            threshold: bound_threshold(self.bound),
            record: self.record,
        };
        let scheme = &self.rule.scheme;
        let chunks: Vec<Vec<CellRun>> = self
            .cells
            .par_chunks(LANES)
            .map(|cells| {
                // A signal stops the batch between blocks (a block of 10 000 steps takes
                // about a millisecond); the caller reports the interruption.
                if let Some(signal) = crate::interrupt::requested() {
                    return cells
                        .iter()
                        .map(|c| self.not_run(c, plan, signal))
                        .collect();
                }
                let x0: Vec<[f64; 2]> = cells
                    .iter()
                    .map(|c| {
                        let s = &self.starts[c.start];
                        [s[0], s[1]]
                    })
                    .collect();
                let lr: Vec<[f64; 2]> = cells.iter().map(|c| [c.lr_g, c.lr_d]).collect();
                let mut block = Block::new(&x0, &lr, center);
                let mut ends: Vec<Option<LaneEnd>> = vec![None; cells.len()];
                let mut states: Vec<Vec<[f64; 2]>> = if self.record {
                    (0..cells.len())
                        .map(|_| Vec::with_capacity(self.steps.saturating_add(1).min(1 << 24)))
                        .collect()
                } else {
                    Vec::new()
                };
                lanes::run_block_on(
                    path,
                    f,
                    o,
                    scheme,
                    &setup,
                    &mut block,
                    &mut ends,
                    &mut states,
                );
                if let Some(p) = self.progress {
                    p.inc(cells.len() as u64);
                }
                let mut states = states.into_iter();
                ends.into_iter()
                    .zip(&x0)
                    .map(|(end, x0)| {
                        let end = end.unwrap_or_else(|| unreachable_end(plan));
                        CellRun {
                            stats: end.stats,
                            plan,
                            last: end.last,
                            d2_0: dist2(x0, &center),
                            stop: end.stop,
                            x_end: end.x_end.to_vec(),
                            states: states
                                .next()
                                .map(|s| s.into_iter().map(|x| x.to_vec()).collect()),
                        }
                    })
                    .collect()
            })
            .collect();
        chunks.into_iter().flatten().collect()
    }
}

impl Batch<'_> {
    /// A cell that a signal stopped before its first step.
    fn not_run(&self, c: &Cell, plan: StatsPlan, signal: crate::interrupt::Signal) -> CellRun {
        let x0 = &self.starts[c.start];
        CellRun {
            stats: LaneStats::default(),
            plan,
            last: 0,
            d2_0: dist2(x0.as_slice(), self.center.as_slice()),
            stop: Stop::Interrupted { step: 0, signal },
            x_end: x0.iter().copied().collect(),
            states: self.record.then(|| vec![x0.iter().copied().collect()]),
        }
    }
}

/// Every lane is given an end by `run_block`; this is only the type's fallback.
fn unreachable_end(plan: StatsPlan) -> LaneEnd {
    LaneEnd {
        stats: LaneStats::default(),
        last: plan.budget,
        stop: Stop::Budget,
        x_end: [f64::NAN; 2],
    }
}
