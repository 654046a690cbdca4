//! One reference: every cell of the engine equals the scalar runner (`Run::simulate`,
//! then the statistics fed from the recorded states) bit for bit, for every game × rule
//! on small grids whose cells converge, cycle, stall, diverge, leave the finite numbers
//! or are clipped, on every SIMD path of this CPU and at 1–3 threads.

use std::sync::Arc;

use super::*;
use crate::analysis::{SimClass, classify_cell, classify_trajectory};
use crate::dynamics::{Order, RuleName, RuleOptions, SchemeKind};
use crate::game::{Bilinear, Dirac, DiracLoss, LotkaVolterra, OneMode, TturSaddle};
use crate::linalg::Matrix;

/// What the references of a game × rule covered: how they ended, their classes, and
/// whether the projection (the WGAN clip) changed a state.
#[derive(Default)]
struct Seen {
    lanes: bool,
    stops: Vec<Stop>,
    classes: Vec<SimClass>,
    clipped: bool,
}

/// The reference of one cell: the recorded run and its statistics.
fn reference(
    game: &dyn Game,
    spec: &RuleSpec,
    c: &Cell,
    x0: &Vector,
    steps: usize,
    center: &Vector,
    bound: f64,
) -> (RunStats, Stop, Vec<Vec<f64>>, SimClass) {
    let rule = spec.with_lrs(c.lr_g, c.lr_d).build().unwrap();
    let t = Run {
        game,
        rule: &rule,
        steps,
        bound: Bound::around(center, bound),
    }
    .simulate(x0);
    let mut st = RunStats::start(&t.states[0], center.as_slice(), game.split(), steps);
    for x in &t.states[1..] {
        st.push(x);
    }
    let class = classify_trajectory(&t, game, center.as_slice()).class;
    (st, t.stop, t.states, class)
}

fn bits(s: &LaneStats) -> Vec<u64> {
    [
        s.qx, s.qy, s.up, s.d2, s.n, s.a0, s.w_first, s.r0, s.r1, s.d2_h, s.g_max, s.g_min,
        s.p_cur, s.k_cur, s.p_half, s.k_half, s.p_first, s.k_first, s.p_last, s.k_last, s.halves,
        s.path,
    ]
    .iter()
    .map(|v| v.to_bits())
    .collect()
}

fn grid(lr_g: &[f64], lr_d: &[f64], starts: usize) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (i, &g) in lr_g.iter().enumerate() {
        for &d in lr_d {
            cells.push(Cell {
                lr_g: g,
                lr_d: d,
                start: i % starts,
            });
        }
    }
    cells
}

/// Checks one game × rule on every path and thread count; returns (cells, lanes used,
/// class names seen) for the coverage assertions.
fn check(
    game: Arc<dyn Game>,
    spec: &RuleSpec,
    steps: usize,
    lrs: (&[f64], &[f64]),
) -> (usize, Seen) {
    let game = spec.adjust_game(game);
    let center = game
        .equilibrium()
        .unwrap_or_else(|| Vector::zeros(game.dim()));
    let starts = vec![
        game.default_start(),
        center.map(|c| c - 0.7) + Vector::from_fn(game.dim(), |i, _| 0.1 * i as f64),
    ];
    let cells = grid(lrs.0, lrs.1, starts.len());
    let mut seen = Seen::default();
    // A bound that ends divergent runs early, and none (they end non-finite).
    for bound in [50.0, f64::INFINITY] {
        let s = check_bound(game.as_ref(), spec, steps, &cells, &starts, &center, bound);
        seen.lanes = s.lanes;
        seen.stops.extend(s.stops);
        seen.classes.extend(s.classes);
        seen.clipped |= s.clipped;
    }
    (cells.len(), seen)
}

#[allow(clippy::too_many_arguments)]
fn check_bound(
    game: &dyn Game,
    spec: &RuleSpec,
    steps: usize,
    cells: &[Cell],
    starts: &[Vector],
    center: &Vector,
    bound: f64,
) -> Seen {
    let refs: Vec<_> = cells
        .iter()
        .map(|c| reference(game, spec, c, &starts[c.start], steps, center, bound))
        .collect();
    let batch = Batch {
        game,
        rule: spec,
        cells,
        starts,
        steps,
        center,
        bound,
        record: true,
        progress: None,
    };
    for path in SimdPath::ALL.into_iter().filter(|p| p.is_available()) {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let out = pool.install(|| batch.run_on(path)).unwrap();
            assert_eq!(out.len(), cells.len());
            for (k, (o, (st, stop, states, class))) in out.iter().zip(&refs).enumerate() {
                let what = format!(
                    "{} {:?} cell {k} ({}, {}) on {path:?} × {threads}",
                    game.name(),
                    spec.name(),
                    cells[k].lr_g,
                    cells[k].lr_d
                );
                assert_eq!(&o.stop, stop, "{what}");
                assert_eq!(o.last, st.last(), "{what}");
                assert_eq!(bits(&o.stats), bits(&st.lane), "{what}");
                assert_eq!(o.d2_0.to_bits(), st.d2_0().to_bits(), "{what}");
                // The sweep's classification of the cell (conserved quantity at its
                // ends included) is the reference's.
                let x0 = &starts[cells[k].start];
                assert_eq!(classify_cell(game, o, x0, center).class, *class, "{what}");
                if !matches!(stop, Stop::NonFinite { .. }) {
                    let last = states.last().unwrap();
                    let same = o
                        .x_end
                        .iter()
                        .zip(last)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{what}: {:?} vs {last:?}", o.x_end);
                }
                let rec = o.states.as_ref().unwrap();
                assert_eq!(rec.len(), states.len(), "{what}");
                for (a, b) in rec.iter().zip(states) {
                    assert!(
                        a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits()),
                        "{what}"
                    );
                }
            }
        }
    }
    // A clipped coordinate sits exactly on the clip after a step that crossed it.
    let clip = game.params()["clip"].as_f64();
    let clipped = refs.iter().any(|r| {
        r.2[1..]
            .iter()
            .any(|x| clip.is_some_and(|c| x[1].abs() == c))
    });
    Seen {
        lanes: batch.uses_lanes(),
        stops: refs.iter().map(|r| r.1.clone()).collect(),
        classes: refs.iter().map(|r| r.3).collect(),
        clipped,
    }
}

fn opts() -> RuleOptions {
    RuleOptions::default()
}

/// Every rule of the vocabulary, with the options that change its arithmetic.
fn rules() -> Vec<RuleSpec> {
    let alt = |order, k_g, k_d| RuleOptions {
        order: Some(order),
        k_g: Some(k_g),
        k_d: Some(k_d),
        ..opts()
    };
    let turns = |o: RuleOptions| RuleOptions {
        scheme: Some(SchemeKind::Alternating),
        order: Some(Order::DFirst),
        k_d: Some(2),
        ..o
    };
    let beta = RuleOptions {
        beta: Some(-0.5),
        ..opts()
    };
    let r = |n: RuleName, o: &RuleOptions| n.spec(1.0, 1.0, o).unwrap();
    vec![
        r(RuleName::Simultaneous, &opts()),
        r(RuleName::Alternating, &alt(Order::GFirst, 1, 1)),
        r(RuleName::Alternating, &alt(Order::DFirst, 2, 3)),
        r(RuleName::Momentum, &beta),
        r(RuleName::Momentum, &turns(beta)),
        r(RuleName::Extragradient, &opts()),
        r(RuleName::Optimistic, &opts()),
        r(RuleName::Optimistic, &turns(opts())),
        r(RuleName::Consensus, &opts()),
        r(
            RuleName::Sga,
            &RuleOptions {
                gamma: Some(0.5),
                ..opts()
            },
        ),
        r(RuleName::Adam, &opts()),
        r(RuleName::Adam, &turns(opts())),
        r(RuleName::RmsProp, &opts()),
        r(RuleName::Flow, &opts()),
    ]
}

fn games() -> Vec<Arc<dyn Game>> {
    vec![
        Arc::new(Dirac::default()),
        Arc::new(Dirac::new(DiracLoss::NonSaturating)),
        Arc::new(Dirac {
            clip: Some(0.8),
            ..Dirac::new(DiracLoss::Wgan)
        }),
        Arc::new(Dirac {
            r1: 0.3,
            ..Dirac::default()
        }),
        Arc::new(Dirac {
            gp: 0.7,
            ..Dirac::new(DiracLoss::Wgan)
        }),
        Arc::new(Dirac::new(DiracLoss::Standard).with_noise(0.7)),
        Arc::new(Bilinear::scalar(1.0)),
        Arc::new(Bilinear {
            a: Matrix::from_row_slice(2, 2, &[1.0, 0.5, -0.2, 2.0]),
        }),
        Arc::new(LotkaVolterra {
            alpha: 2.0 / 3.0,
            beta: 4.0 / 3.0,
            gamma: 1.0,
            delta: 1.0,
        }),
        Arc::new(TturSaddle),
        Arc::new(OneMode::new(vec![0.5, 0.3, 0.2], 0).unwrap()),
    ]
}

#[test]
fn every_game_and_rule_equals_the_reference_bit_for_bit() {
    // Learning rates from tiny (undecided) through cycling and stalling to divergent
    // (non-finite within a few steps at 30); 4 × 5 = 20 cells, a partial block.
    let lr_g = [0.003, 0.2, 1.5, 30.0];
    let lr_d = [0.01, 0.1, 0.9, 4.0, 30.0];
    let mut lanes = 0;
    let mut stops = Vec::new();
    let mut classes = std::collections::BTreeSet::new();
    let mut clipped = 0;
    for game in games() {
        for spec in rules() {
            // Quadratures and softmaxes are slow in the reference; 60 steps still cross
            // the late half and the stall window.
            let slow = game.name() == "one-mode" || game.params()["noise"].as_f64() > Some(0.0);
            let steps = if slow { 60 } else { 240 };
            let (_, seen) = check(game.clone(), &spec, steps, (&lr_g, &lr_d));
            lanes += usize::from(seen.lanes);
            stops.extend(seen.stops);
            classes.extend(seen.classes.iter().map(|c| c.as_str()));
            clipped += usize::from(seen.clipped);
        }
    }
    // The vector path ran for most pairs, and the grid hit every way of ending.
    assert!(lanes >= 60, "{lanes}");
    assert!(stops.iter().any(|s| matches!(s, Stop::NonFinite { .. })));
    assert!(stops.iter().any(|s| matches!(s, Stop::Diverged { .. })));
    assert!(stops.iter().any(|s| matches!(s, Stop::Budget)));
    // Every class the classifier knows, and the clip at work under every rule.
    for class in SimClass::ALL {
        assert!(
            classes.contains(class.as_str()),
            "{class:?} not seen: {classes:?}"
        );
    }
    assert_eq!(
        clipped,
        rules().len(),
        "the clip changed no state under some rule"
    );
}

#[test]
fn several_blocks_and_odd_budgets() {
    // 9 × 9 = 81 cells: one full block and a partial one; budgets 1, 2, 3 and 501 put the
    // late half and the stall window at their edge cases.
    let axis: Vec<f64> = (0..9).map(|i| 0.01 * 2f64.powi(i)).collect();
    for steps in [1, 2, 3, 501] {
        for spec in [
            RuleSpec::new(RuleName::Simultaneous, 1.0, 1.0).unwrap(),
            RuleSpec::new(RuleName::Adam, 1.0, 1.0).unwrap(),
        ] {
            let (n, seen) = check(Arc::new(Dirac::default()), &spec, steps, (&axis, &axis));
            assert_eq!(n, 81);
            assert!(seen.lanes);
        }
    }
}
