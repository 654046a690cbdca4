//! `bench`: our speed on the commands' own code paths, with the Python peers beside it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use redqueen::bench::{self, Peers};
use redqueen::error::Result;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// `redqueen sweep` itself on the numpy/JAX peers' Dirac-GAN workload (simultaneous GD
    /// over an N×N (lr_G, lr_D) grid), and under alternating GD, extragradient and Adam.
    Sweep(BenchSweepArgs),
    /// Neural GAN training steps: seed002-batch500, seed002-wgangp-batch500, ganvis-batch50.
    Neural(BenchNeuralArgs),
}

/// Options shared by the benchmarks for running the peers.
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// Also run the Python peers in this folder (e.g. ../shared/peers) and print ratios.
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Python of the numpy/JAX peers.
    #[arg(long, default_value = "/tmp/peers/venv/bin/python")]
    python: PathBuf,
    /// Python of the PyTorch peers.
    #[arg(long, default_value = "/tmp/peers/torchvenv/bin/python")]
    torch_python: PathBuf,
}

/// Arguments of `bench sweep`.
#[derive(Debug, Args)]
pub struct BenchSweepArgs {
    /// Grid side N (N×N cells) of the simultaneous-GD workload.
    #[arg(long, default_value_t = 256)]
    grid: usize,
    /// Steps per cell of the simultaneous-GD workload.
    #[arg(long, default_value_t = 10_000)]
    steps: usize,
    /// Other rules to time, against `numpy_dirac_sweep.py --rule` (comma-separated:
    /// alternating, extragradient, adam; `none` for none).
    #[arg(long, default_value = "alternating,extragradient,adam")]
    rules: String,
    /// Grid side of the other rules' workloads.
    #[arg(long, default_value_t = 128)]
    rule_grid: usize,
    /// Steps per cell of the other rules' workloads.
    #[arg(long, default_value_t = 4000)]
    rule_steps: usize,
    /// Threads (0: all cores).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    threads: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peers: PeerArgs,
}

/// Arguments of `bench neural`.
#[derive(Debug, Args)]
pub struct BenchNeuralArgs {
    /// Training steps per workload.
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Threads (independent runs in parallel; each run is single-threaded).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    threads: usize,
    /// Print a JSON list.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peers: PeerArgs,
}

impl PeerArgs {
    fn peers(&self) -> Option<Peers> {
        self.peers.as_ref().map(|dir| Peers {
            dir: dir.clone(),
            python: self.python.clone(),
            torch_python: self.torch_python.clone(),
        })
    }
}

/// Runs `bench …`.
pub fn bench(b: &BenchCommand) -> Result<()> {
    match b {
        BenchCommand::Sweep(a) => sweep(a),
        BenchCommand::Neural(a) => neural(a),
    }
}

fn sweep(a: &BenchSweepArgs) -> Result<()> {
    let mut work = vec![("simultaneous".to_string(), a.grid, a.steps)];
    for r in a
        .rules
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != "none")
    {
        bench::bench_rule(r)?;
        work.push((r.to_string(), a.rule_grid, a.rule_steps));
    }
    let mut results = Vec::new();
    let peers = a.peers.peers();
    for (rule, grid, steps) in &work {
        let (ours, peers) = bench::bench_sweep(rule, *grid, *steps, a.threads, peers.as_ref())?;
        if !a.json {
            println!(
                "{} ({}) {}×{} × {} steps, {} threads ({:?}): {:.3} s (median of {}) for the \
                 whole sweep command (CSV and figures included), {:.3e} cell-steps/s, \
                 {:.2} ns/cell-step; norms at the corners {:.4}, {:.4}",
                ours.name,
                ours.rule,
                ours.grid,
                ours.grid,
                ours.steps,
                ours.threads,
                ours.path,
                ours.seconds,
                ours.repeats,
                ours.cell_steps_per_s,
                ours.ns_per_cell_step,
                ours.norm_lo,
                ours.norm_hi
            );
            for p in &peers {
                let diff = |d: Option<f64>| d.map_or("–".to_string(), |d| format!("{d:.1e}"));
                println!(
                    "  vs {:<24} {:.3e} cell-steps/s (median of {}) → redqueen is {:.1}× \
                     faster; |Δ norm| at the corners {}, {}",
                    p.name,
                    p.rate,
                    p.rates.len(),
                    p.ratio,
                    diff(p.corner_norm_diff[0]),
                    diff(p.corner_norm_diff[1])
                );
            }
        }
        results.push((ours, peers));
    }
    if a.json {
        let mut items = results.into_iter().map(|(ours, peers)| {
            let mut v = serde_json::to_value(&ours).unwrap_or_default();
            if a.peers.peers.is_some() {
                v["peers"] = json!(peers);
            }
            v
        });
        // The simultaneous workload is the object; the other rules are its `rules`.
        let mut out = items.next().unwrap_or_default();
        let rest: Vec<serde_json::Value> = items.collect();
        out["rules"] = json!(rest);
        println!("{out}");
    }
    Ok(())
}

fn neural(a: &BenchNeuralArgs) -> Result<()> {
    let ours = bench::bench_neural(a.steps, a.threads)?;
    let peers = match a.peers.peers() {
        Some(p) => bench::neural::peer_rates(&ours, &p)?,
        None => Vec::new(),
    };
    if a.json {
        let items: Vec<serde_json::Value> = ours
            .iter()
            .map(|b| {
                let mut v = serde_json::to_value(b).unwrap_or_default();
                if let Some(p) = peers.iter().find(|p| p.name == b.name) {
                    v["peer_steps_per_s"] = json!(p.rate);
                    v["ratio"] = json!(p.ratio);
                }
                v
            })
            .collect();
        println!("{}", json!(items));
        return Ok(());
    }
    let rates: Vec<String> = bench::gemm_rates()
        .iter()
        .map(|g| format!("{}×{}·{}×{} {:.0}", g.m, g.k, g.k, g.n, g.gflops))
        .collect();
    println!(
        "f32 gemm alone on this machine, GFLOP/s: {}",
        rates.join(", ")
    );
    for b in &ours {
        let peer = peers.iter().find(|p| p.name == b.name);
        println!(
            "{:<26} {} thread(s): {:>8.1} steps/s, {:.2} GFLOP/s{}",
            b.name,
            b.threads,
            b.steps_per_s,
            b.gflops,
            peer.map_or(String::new(), |p| format!(
                "  (PyTorch {:.1} steps/s → {:.1}×)",
                p.rate.unwrap_or(f64::NAN),
                p.ratio.unwrap_or(f64::NAN)
            ))
        );
    }
    Ok(())
}
