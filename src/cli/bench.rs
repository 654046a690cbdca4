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
    /// Eigenvalues: dense (n = 2000) and the top-k of the gan-vis game Jacobian from exact
    /// products (batch 4096, k = 20, largest imaginary part), against torch_spectra.py.
    Spectra(BenchSpectraArgs),
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

/// Arguments of `bench spectra`.
#[derive(Debug, Args)]
pub struct BenchSpectraArgs {
    /// Side of the dense matrix (0: skip the dense part).
    #[arg(long, default_value_t = 2000)]
    dense_n: usize,
    /// Batch of the gan-vis field (0: skip the top-k part).
    #[arg(long, default_value_t = 4096)]
    batch: usize,
    /// Eigenvalues wanted.
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// LM, LR or LI.
    #[arg(long, default_value = "LI")]
    which: String,
    /// Relative residual tolerance.
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// Threads of ours and of the peer.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Krylov subspace size m (default: the library's, max(2k + 1, 20)).
    #[arg(long)]
    subspace: Option<usize>,
    /// Repeats of the whole comparison (medians are reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Seed of the matrix, the game and the start vector (and the peer's --seed).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object.
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
        BenchCommand::Spectra(a) => spectra(a),
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

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".to_string(), |v| format!("{v:.digits$}"))
}

fn spectra(a: &BenchSpectraArgs) -> Result<()> {
    let opts = bench::SpectraOptions {
        dense_n: a.dense_n,
        batch: a.batch,
        k: a.k,
        tol: a.tol,
        which: a.which.parse()?,
        threads: a.threads,
        subspace: a.subspace,
        repeats: a.repeats,
        seed: a.seed,
    };
    let peers = a.peers.peers();
    let quiet = a.json;
    let b = bench::bench_spectra(&opts, peers.as_ref(), |r, b| {
        if quiet {
            return;
        }
        let la = b.loadavg.last().map_or("", String::as_str);
        println!("repeat {} (loadavg before: {la})", r + 1);
        if let Some(d) = b.dense.last() {
            println!(
                "  dense n = {}: {:.2} s (CPU {} s), |Σλ − tr A|/‖A‖_F = {:.1e}",
                opts.dense_n,
                d.seconds,
                opt(d.cpu_s, 2),
                d.trace_error
            );
        }
        if let Some(t) = b.top_k.last() {
            println!(
                "  top-{} {} of the gan-vis J (n = {}, batch {}): {:.2} s (CPU {} s), {} \
                 products ({} restarts, m = {}), {:.1} ms/product, {}/{} converged, max \
                 residual {:.1e} ({:.1e} relative)",
                opts.k,
                opts.which.code(),
                b.n_params.unwrap_or(0),
                opts.batch,
                t.seconds,
                opt(t.cpu_s, 2),
                t.products,
                t.restarts,
                t.subspace,
                t.ms_per_product,
                t.converged,
                t.eigenvalues.len(),
                t.max_residual,
                t.max_relative_residual
            );
        }
        if let Some(p) = b.peer.last() {
            println!(
                "  peer: eigs {:.2} s (CPU {} s), {} products, {:.1} ms/product; numpy eigvals \
                 {} s (CPU {} s)",
                p.eigs_s,
                opt(p.eigs_cpu_s, 2),
                p.matvecs,
                p.ms_per_matvec,
                opt(p.dense_s, 2),
                opt(p.dense_cpu_s, 2)
            );
        }
    })?;
    if a.json {
        println!("{}", serde_json::to_value(&b).unwrap_or_default());
        return Ok(());
    }
    let s = &b.summary;
    println!("medians over {} repeats:", b.options.repeats);
    println!(
        "  dense: ours {} s, numpy {} s → ratio (numpy/ours) {}",
        opt(s.dense_s, 2),
        opt(s.peer_dense_s, 2),
        opt(s.dense_ratio, 2)
    );
    println!(
        "  top-k: ours {} s, {} products, {} ms/product; peer {} s, {} products, {} \
         ms/product → time ratio (peer/ours) {}, per-product ratio {}",
        opt(s.top_k_s, 2),
        opt(s.products, 0),
        opt(s.ms_per_product, 1),
        opt(s.peer_eigs_s, 2),
        opt(s.peer_matvecs, 0),
        opt(s.peer_ms_per_matvec, 1),
        opt(s.top_k_ratio, 2),
        opt(s.product_ratio, 2)
    );
    println!(
        "  CPU seconds: dense ours {} vs numpy {} → {}; top-k ours {} vs peer {} → {}",
        opt(s.dense_cpu_s, 2),
        opt(s.peer_dense_cpu_s, 2),
        opt(s.dense_cpu_ratio, 2),
        opt(s.top_k_cpu_s, 2),
        opt(s.peer_eigs_cpu_s, 2),
        opt(s.top_k_cpu_ratio, 2)
    );
    if let (Some(t), Some(p)) = (b.top_k.last(), b.peer.last()) {
        println!("  eigenvalues (ours | peer; different networks: Glorot vs PyTorch init):");
        for i in 0..t.eigenvalues.len().max(p.eigenvalues.len()) {
            let o = t.eigenvalues.get(i).map_or(String::new(), |z| {
                format!("{:+.6e} {:+.6e}i (res {:.1e})", z[0], z[1], z[2])
            });
            let q = p
                .eigenvalues
                .get(i)
                .map_or(String::new(), |z| format!("{:+.6e} {:+.6e}i", z[0], z[1]));
            println!("    {o:<48} | {q}");
        }
    }
    Ok(())
}
