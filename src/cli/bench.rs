//! `bench`: our speed on the commands' own code paths, with the Python peers beside it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use redqueen::bench::{self, Peers};
use redqueen::error::Result;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Dirac-GAN simultaneous-GD sweep over an N×N (lr_G, lr_D) grid (numpy/JAX peers' workload).
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
    /// Grid side N (N×N cells).
    #[arg(long, default_value_t = 256)]
    grid: usize,
    /// Steps per cell.
    #[arg(long, default_value_t = 10_000)]
    steps: usize,
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

fn print_peers(peers: &[bench::PeerRate], unit: &str) {
    for p in peers {
        println!(
            "  vs {:<24} {:.3e} {unit} → redqueen is {:.1}× faster",
            p.name,
            p.rate.unwrap_or(f64::NAN),
            p.ratio.unwrap_or(f64::NAN)
        );
    }
}

fn sweep(a: &BenchSweepArgs) -> Result<()> {
    let ours = bench::bench_sweep(a.grid, a.steps, a.threads)?;
    let peers = match a.peers.peers() {
        Some(p) => bench::sweep::peer_rates(&ours, &p)?,
        None => Vec::new(),
    };
    if a.json {
        let mut out = serde_json::to_value(&ours).unwrap_or_default();
        if a.peers.peers.is_some() {
            out["peers"] = json!(peers);
        }
        println!("{out}");
        return Ok(());
    }
    println!(
        "dirac-sweep {}×{} × {} steps, {} threads ({:?}): {:.3} s, {:.3e} cell-steps/s, {:.2} ns/cell-step, {:.1} GFLOP/s ({} flops/cell-step)",
        ours.grid,
        ours.grid,
        ours.steps,
        ours.threads,
        ours.path,
        ours.seconds,
        ours.cell_steps_per_s,
        ours.ns_per_cell_step,
        ours.gflop_per_s,
        ours.flops_per_cell_step
    );
    print_peers(&peers, "cell-steps/s");
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
