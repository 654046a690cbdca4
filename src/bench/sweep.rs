//! The learning-rate sweep benchmark: it times [`crate::sweep::run_sweep`], the code
//! behind `redqueen sweep` (engine, spectra, CSV, JSON and heat maps, written to a
//! temporary folder), on the numpy/JAX peers' workload (Dirac-GAN, simultaneous GD, an
//! N × N grid of learning rates log-spaced in [1e-3, 1], from (1, 1)), and on the same
//! game under alternating GD (G first, k_D = 5), extragradient and Adam, the rules of
//! `numpy_dirac_sweep.py --rule`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::LogAxis;
use crate::dynamics::{Order, RuleName, RuleOptions, RuleSpec};
use crate::error::{Error, Result};
use crate::game::Dirac;
use crate::linalg::Vector;
use crate::parallel::pool;
use crate::simd::SimdPath;
use crate::sweep::{SweepRequest, run_sweep};

/// Number of timed repeats of each workload; the reported time is their median.
pub const BENCH_REPEATS: usize = 3;

/// D updates per G update in the alternating workload (the numpy peer's default).
pub const BENCH_K_D: usize = 5;

/// One timed workload (`name` = `"dirac-sweep"` for the peers' headline workload).
#[derive(Debug, Clone, Serialize)]
pub struct BenchSweep {
    /// `dirac-sweep`, or `dirac-sweep-<rule>`.
    pub name: String,
    /// The rule.
    pub rule: String,
    /// Grid side: `grid × grid` learning-rate pairs in [1e-3, 1].
    pub grid: usize,
    /// Steps per cell.
    pub steps: usize,
    /// Threads actually in the pool (resolved when 0 was asked).
    pub threads: usize,
    /// SIMD copy of the engine that ran.
    pub path: SimdPath,
    /// Timed repeats.
    pub repeats: usize,
    /// Wall seconds of the whole sweep (simulation, classification, spectra, CSV, JSON
    /// and figures), **median of [`BenchSweep::repeats`] runs**.
    pub seconds: f64,
    /// The fastest of the repeats, in seconds.
    pub seconds_min: f64,
    /// grid²·steps / `seconds` (outer steps; alternating GD takes 1 + k_D field
    /// evaluations per step, extragradient 2).
    pub cell_steps_per_s: f64,
    /// Wall nanoseconds per cell-step over the whole pool.
    pub ns_per_cell_step: f64,
    /// Cells per simulated class.
    pub classes: BTreeMap<String, usize>,
    /// Final ‖(θ, ψ)‖ at (h_G, h_D) = (1e-3, 1e-3) (peer: 1.4156 at 10,000 steps).
    #[serde(rename = "norm_at_lr_1e-3_1e-3")]
    pub norm_lo: f64,
    /// Final ‖(θ, ψ)‖ at (h_G, h_D) = (1, 1) (peer: 7.5999 at 10,000 steps).
    #[serde(rename = "norm_at_lr_1_1")]
    pub norm_hi: f64,
}

/// The rule of a workload: `simultaneous`, `alternating` (G first, k_D =
/// [`BENCH_K_D`]), `extragradient` or `adam` (PyTorch's defaults).
///
/// # Errors
/// [`Error::Param`] for any other name.
pub fn bench_rule(name: &str) -> Result<RuleSpec> {
    let rule: RuleName = name.parse()?;
    let opts = match rule {
        RuleName::Alternating => RuleOptions {
            order: Some(Order::GFirst),
            k_d: Some(BENCH_K_D),
            ..RuleOptions::default()
        },
        RuleName::Simultaneous | RuleName::Extragradient | RuleName::Adam => RuleOptions::default(),
        other => {
            return Err(Error::param(
                "rule",
                format!(
                    "`{}` has no numpy peer (simultaneous, alternating, extragradient, adam)",
                    other.as_str()
                ),
            ));
        }
    };
    rule.spec(1.0, 1.0, &opts)
}

/// Times `redqueen sweep dirac --rule <rule> --lr-g 1e-3:1:grid --lr-d 1e-3:1:grid
/// --steps <steps> --from 1,1` (into a temporary folder, removed afterwards) on
/// `threads` threads (0 → all cores), [`BENCH_REPEATS`] times.
///
/// # Errors
/// [`Error::Param`] if `grid` or `steps` is 0, the rule has no peer, or the pool cannot
/// be built; file errors of the sweep.
pub fn bench_sweep(rule: &str, grid: usize, steps: usize, threads: usize) -> Result<BenchSweep> {
    if grid == 0 || steps == 0 {
        return Err(Error::param("grid", "grid and steps must be at least 1"));
    }
    let spec = bench_rule(rule)?;
    let pool = pool(threads)?;
    let axis = LogAxis {
        min: 1e-3,
        max: 1.0,
        n: grid,
    };
    let dir = std::env::temp_dir().join(format!(
        "redqueen-bench-sweep-{}-{rule}-{grid}-{steps}",
        std::process::id()
    ));
    let mut times = Vec::with_capacity(BENCH_REPEATS);
    let mut last = None;
    for _ in 0..BENCH_REPEATS {
        let t0 = Instant::now();
        let out = pool.install(|| {
            run_sweep(&SweepRequest {
                game: Arc::new(Dirac::default()),
                rule: &spec,
                lr_g: axis,
                lr_d: axis,
                x0: Vector::from_vec(vec![1.0, 1.0]),
                steps,
                bound: crate::dynamics::DEFAULT_DIVERGE_BOUND,
                shard: None,
                out: &dir,
            })
        });
        times.push(t0.elapsed().as_secs_f64());
        last = Some(out);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let out = last.ok_or_else(|| Error::param("repeats", "no repeat ran"))??;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let seconds = sorted[sorted.len() / 2];
    let cell_steps_per_s = (grid * grid * steps) as f64 / seconds;
    let mut classes = BTreeMap::new();
    for c in &out.cells {
        *classes.entry(c.sim.class.as_str().to_string()).or_insert(0) += 1;
    }
    let name = if rule == "simultaneous" {
        "dirac-sweep".to_string()
    } else {
        format!("dirac-sweep-{rule}")
    };
    Ok(BenchSweep {
        name,
        rule: rule.to_string(),
        grid,
        steps,
        threads: pool.current_num_threads(),
        path: SimdPath::detect(),
        repeats: BENCH_REPEATS,
        seconds,
        seconds_min: sorted[0],
        cell_steps_per_s,
        ns_per_cell_step: 1e9 / cell_steps_per_s,
        classes,
        norm_lo: out.cells[0].sim.final_distance,
        norm_hi: out.cells[out.cells.len() - 1].sim.final_distance,
    })
}

/// The peers of a workload, each with our rate divided by theirs: for the simultaneous
/// rule the numpy in-place and naive peers and the JAX peer, for the others
/// `numpy_dirac_sweep.py --rule <rule>`.
///
/// # Errors
/// As [`crate::bench::run_peer`].
pub fn peer_rates(
    ours: &BenchSweep,
    peers: &crate::bench::Peers,
) -> Result<Vec<crate::bench::PeerRate>> {
    let (n, st) = (ours.grid.to_string(), ours.steps.to_string());
    let k_d = BENCH_K_D.to_string();
    let runs: Vec<(String, &str, Vec<&str>)> = if ours.rule == "simultaneous" {
        vec![
            (
                "numpy-inplace-f64".into(),
                "numpy_dirac_sweep.py",
                vec!["--impl", "inplace"],
            ),
            (
                "numpy-naive-f64".into(),
                "numpy_dirac_sweep.py",
                vec!["--impl", "naive"],
            ),
            ("jax-f64".into(), "jax_dirac_sweep.py", vec![]),
        ]
    } else {
        let mut extra = vec!["--rule", ours.rule.as_str()];
        if ours.rule == "alternating" {
            extra.extend(["--k-d", k_d.as_str()]);
        }
        vec![(
            format!("numpy-{}-f64", ours.rule),
            "numpy_dirac_sweep.py",
            extra,
        )]
    };
    let mut out = Vec::new();
    for (label, script, extra) in runs {
        let mut args = vec!["--n", n.as_str(), "--steps", st.as_str()];
        args.extend(extra);
        out.push(peers.rate(
            &peers.python,
            &label,
            script,
            &args,
            "cell_steps_per_s",
            ours.cell_steps_per_s,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peers print 4 decimals: 1.4156 and 7.5999.
    const PEER_ABS_TOL: f64 = 5e-5;

    #[test]
    fn bench_times_the_product_and_matches_peer_norms() {
        let b = bench_sweep("simultaneous", 2, 10_000, 1).unwrap();
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["name"], "dirac-sweep");
        assert_eq!((b.grid, b.steps, b.threads), (2, 10_000, 1));
        assert!(b.seconds > 0.0 && b.seconds_min <= b.seconds);
        assert!((b.cell_steps_per_s * b.seconds / 40_000.0 - 1.0).abs() < 1e-12);
        // The corner cells of the peers' grid (the same arithmetic up to the last bits
        // of f′ and of the association of lr·ψ·f′).
        assert!((b.norm_lo - 1.4156).abs() <= PEER_ABS_TOL, "{}", b.norm_lo);
        assert!((b.norm_hi - 7.5999).abs() <= PEER_ABS_TOL, "{}", b.norm_hi);
        assert_eq!(b.classes.values().sum::<usize>(), 4);
        for rule in ["alternating", "extragradient", "adam"] {
            let r = bench_sweep(rule, 2, 20, 1).unwrap();
            assert_eq!(r.name, format!("dirac-sweep-{rule}"));
        }
        assert!(bench_rule("flow").is_err());
    }
}
