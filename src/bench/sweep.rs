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
use crate::bench::{Peers, run_peer};
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

/// One peer of a sweep workload, measured once per repeat between our repeats.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPeer {
    /// The peer configuration, e.g. `numpy-inplace-f64`.
    pub name: String,
    /// The peer's cell-steps/s (its work loop only), one per repeat.
    pub rates: Vec<f64>,
    /// Their median.
    pub rate: f64,
    /// Our median rate (the whole command) divided by the peer's median.
    pub ratio: f64,
    /// |ours − peer| of the final ‖(θ, ψ)‖ at (1e-3, 1e-3) and at (1, 1), the corner
    /// cells, whose arithmetic is the same up to the last bits of f′ (the peer's
    /// (1 − tanh(t/2))/2 against our sigmoid) and the association of lr·ψ·f′.
    pub corner_norm_diff: [Option<f64>; 2],
    /// The peer's JSON line of the last repeat.
    pub peer: serde_json::Value,
}

/// The median of a non-empty list (the upper middle one for an even count).
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The peer runs of a workload: for the simultaneous rule the numpy in-place and naive
/// peers and the JAX peer, for the others `numpy_dirac_sweep.py --rule <rule>`.
fn peer_runs(rule: &str, grid: usize, steps: usize) -> Vec<(String, &'static str, Vec<String>)> {
    let base = |extra: &[&str]| {
        let mut a = vec![
            "--n".to_string(),
            grid.to_string(),
            "--steps".to_string(),
            steps.to_string(),
        ];
        a.extend(extra.iter().map(|s| (*s).to_string()));
        a
    };
    if rule == "simultaneous" {
        vec![
            (
                "numpy-inplace-f64".into(),
                "numpy_dirac_sweep.py",
                base(&["--impl", "inplace"]),
            ),
            (
                "numpy-naive-f64".into(),
                "numpy_dirac_sweep.py",
                base(&["--impl", "naive"]),
            ),
            ("jax-f64".into(), "jax_dirac_sweep.py", base(&[])),
        ]
    } else {
        let k_d = BENCH_K_D.to_string();
        let mut extra = vec!["--rule", rule];
        if rule == "alternating" {
            extra.extend(["--k-d", k_d.as_str()]);
        }
        vec![(
            format!("numpy-{rule}-f64"),
            "numpy_dirac_sweep.py",
            base(&extra),
        )]
    }
}

/// Times `redqueen sweep dirac --rule <rule> --lr-g 1e-3:1:grid --lr-d 1e-3:1:grid
/// --steps <steps> --from 1,1` (into a temporary folder, removed afterwards) on
/// `threads` threads (0 → all cores), [`BENCH_REPEATS`] times; with `peers`, each
/// repeat of ours is followed by one run of each peer of the workload, so that both
/// sides see the same load of a shared machine, and every ratio is of medians.
///
/// # Errors
/// [`Error::Param`] if `grid` or `steps` is 0, the rule has no peer, or the pool cannot
/// be built; file errors of the sweep; a peer that fails ([`crate::bench::run_peer`]).
pub fn bench_sweep(
    rule: &str,
    grid: usize,
    steps: usize,
    threads: usize,
    peers: Option<&Peers>,
) -> Result<(BenchSweep, Vec<SweepPeer>)> {
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
    let runs = peer_runs(rule, grid, steps);
    let mut peer_json: Vec<Vec<serde_json::Value>> = vec![Vec::new(); runs.len()];
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
        let failed = out.is_err();
        last = Some(out);
        if failed {
            break;
        }
        if let Some(p) = peers {
            for ((_, script, args), json) in runs.iter().zip(&mut peer_json) {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                json.push(run_peer(&p.python, &p.script(script)?, &args)?);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let out = last.ok_or_else(|| Error::param("repeats", "no repeat ran"))??;
    let seconds = median(&times);
    let seconds_min = times.iter().copied().fold(f64::INFINITY, f64::min);
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
    let ours = BenchSweep {
        name,
        rule: rule.to_string(),
        grid,
        steps,
        threads: pool.current_num_threads(),
        path: SimdPath::detect(),
        repeats: times.len(),
        seconds,
        seconds_min,
        cell_steps_per_s,
        ns_per_cell_step: 1e9 / cell_steps_per_s,
        classes,
        norm_lo: out.cells[0].sim.final_distance,
        norm_hi: out.cells[out.cells.len() - 1].sim.final_distance,
    };
    let peers = runs
        .into_iter()
        .zip(peer_json)
        .filter(|(_, json)| !json.is_empty())
        .map(|((name, _, _), json)| {
            let rates: Vec<f64> = json
                .iter()
                .filter_map(|v| v["cell_steps_per_s"].as_f64())
                .collect();
            let rate = median(&rates);
            let last = json.last().cloned().unwrap_or_default();
            let diff = |key: &str, ours: f64| last[key].as_f64().map(|p| (ours - p).abs());
            SweepPeer {
                name,
                rates,
                rate,
                ratio: cell_steps_per_s / rate,
                corner_norm_diff: [
                    diff("norm_at_lr_1e-3_1e-3", ours.norm_lo),
                    diff("norm_at_lr_1_1", ours.norm_hi),
                ],
                peer: last,
            }
        })
        .collect();
    Ok((ours, peers))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peers print 4 decimals: 1.4156 and 7.5999.
    const PEER_ABS_TOL: f64 = 5e-5;

    #[test]
    fn bench_times_the_product_and_matches_peer_norms() {
        let (b, peers) = bench_sweep("simultaneous", 2, 10_000, 1, None).unwrap();
        assert!(peers.is_empty());
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
            let (r, _) = bench_sweep(rule, 2, 20, 1, None).unwrap();
            assert_eq!(r.name, format!("dirac-sweep-{rule}"));
        }
        assert!(bench_rule("flow").is_err());
    }

    #[test]
    fn bench_runs_each_peer_between_our_repeats_and_takes_medians() {
        // A stand-in peer (a shell script) that prints a rate that grows by one each
        // call, and the corner norms of the real peer's 10 000-step run.
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        std::fs::write(
            dir.path().join("numpy_dirac_sweep.py"),
            format!(
                "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}\n\
                 echo '{{\"cell_steps_per_s\": '$n', \"norm_at_lr_1e-3_1e-3\": 1.4156, \
                 \"norm_at_lr_1_1\": 7.5999}}'\n",
                c = count.display()
            ),
        )
        .unwrap();
        let peers = Peers {
            dir: dir.path().to_path_buf(),
            python: "/bin/sh".into(),
            torch_python: "/bin/sh".into(),
        };
        let (b, p) = bench_sweep("adam", 2, 10, 1, Some(&peers)).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "numpy-adam-f64");
        // One peer run per repeat, in order; the median of 1, 2, 3 is 2.
        assert_eq!(p[0].rates, vec![1.0, 2.0, 3.0]);
        assert_eq!(p[0].rate, 2.0);
        assert_eq!(p[0].ratio, b.cell_steps_per_s / 2.0);
        let d = p[0].corner_norm_diff;
        assert_eq!(d[0], Some((b.norm_lo - 1.4156).abs()));
        assert_eq!(d[1], Some((b.norm_hi - 7.5999).abs()));
    }
}
