//! Throughput benchmark of the neural engine against the PyTorch peers
//! (`../shared/peers/torch_gan2d.py`, `torch_ganvis.py`).
//!
//! One step = one generator update together with the discriminator updates before it,
//! including sampling data and noise, exactly as the peers count it. The workloads run
//! through [`train`] (the production path), logging only at the last step with 2
//! evaluation samples, so the timing is the training loop.
//!
//! FLOPs per step count the matrix products only (2·B·fan_in·fan_out per product; the
//! element-wise work is not counted): per D update, G forward on B rows, D forward and
//! backward (∂W and ∂X) on the stacked 2B rows, and for WGAN-GP another D forward,
//! input-gradient pass and the two products of double backprop on B rows; per G update,
//! G forward, D forward and input-gradient pass, and G backward.
//!
//! # Measured (2026-11-23, 2-core AMD EPYC KVM guest with AVX2 and FMA, no AVX-512)
//! `redqueen bench neural --peers ../shared/peers --threads T`, ours and the PyTorch
//! 2.15 peers in one run (2000 steps; WGAN-GP peer 500 steps), f32:
//!
//! | workload | T | redqueen steps/s | PyTorch steps/s | ratio | MFLOP/step | GFLOP/s |
//! |---|---|---|---|---|---|---|
//! | `seed002-batch500` | 1 | 343 | 133 | 2.6× | 94.3 | 32 |
//! | `seed002-wgangp-batch500` | 1 | 78.9 | 21.9 | 3.6× | 467 | 37 |
//! | `ganvis-batch50` | 1 | 4458 | 235 | 19.0× | 8.29 | 37 |
//! | `seed002-batch500` | 2 | 782 | 121 | 6.5× | 94.3 | 74 |
//! | `seed002-wgangp-batch500` | 2 | 208 | 27.6 | 7.5× | 467 | 97 |
//! | `ganvis-batch50` | 2 | 7862 | 206 | 38.1× | 8.29 | 65 |
//!
//! With T = 2 redqueen runs two independent trainings (aggregate rate) and PyTorch one
//! training on two intra-op threads. The host was noisy: the same binary's batch-500
//! rate varied from 343 to 413 steps/s between runs minutes apart. The ratio depends on
//! the machine: on earlier sessions' machines (an AMD EPYC Zen 4 with AVX-512 and an
//! Intel Xeon with AVX-512) PyTorch ran gan-vis at 524–541 steps/s and the ratio was
//! 8.8–9.4× before the f32 kernel of [`crate::nn`] replaced the packing gemm.
//! At batch 50 the profile is: the gemm kernel ~55 %, forward/backward element-wise
//! work ~13 %, the two Adam updates (f64, ~13.6k parameters) ~6 %, rounding x to f32
//! and writing the field ~7 %. The f32 gemm alone ([`gemm_rates`], printed by `redqueen
//! bench neural`) reaches 75, 60, 67 and 67 GFLOP/s on 50×50·50×50, 100×50·50×50,
//! 500×50·50×50 and 1000×50·50×50 here, so training runs at about 40 % (batch 50) to
//! 60 % (batch 500) of the bare products' rate; the rest is the thin first and last
//! layers, the element-wise passes, sampling and the optimiser.

use serde::Serialize;

use crate::datasets::{Dataset, Latent, LatentKind};
use crate::dynamics::{Optimizer, Order, Scheme};
use crate::error::{Error, Result};
use crate::gan::GanLoss;
use crate::gan::Penalty;
use crate::gan::{NetConfig, Precision, Recording, TrainConfig, train};
use crate::nn::{Activation, Init, Mlp};
use crate::parallel::MAX_THREADS;

/// One benchmark measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeuralBench {
    /// Workload name, e.g. `seed002-batch500` (an `-f64` suffix marks double precision).
    pub name: String,
    /// Independent runs executed concurrently (one per thread; the engine itself is
    /// single-threaded per run).
    pub threads: usize,
    /// Steps per run.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// `f32` or `f64`.
    pub precision: String,
    /// Wall time of the slowest run's training loop, s.
    pub elapsed_s: f64,
    /// Aggregate steps per second over all runs (= per-run rate for one thread).
    pub steps_per_s: f64,
    /// Matrix-product FLOPs per step (see the module docs).
    pub flops_per_step: f64,
    /// Achieved GFLOP/s (aggregate).
    pub gflops: f64,
}

/// The benchmark configurations: name, configuration (steps set by the caller).
#[must_use]
pub fn workloads() -> Vec<(String, TrainConfig)> {
    let leaky = Activation::LeakyRelu { slope: 0.2 };
    let seed002 = TrainConfig {
        batch_size: 500,
        dataset: Dataset::Ring {
            modes: 3,
            radius: 1.0,
            std: 0.1,
            weights: None,
        },
        latent: Latent {
            kind: LatentKind::Gaussian,
            dim: 15,
        },
        generator: NetConfig::dense(vec![50; 4], leaky),
        discriminator: NetConfig::dense(vec![100, 50, 50], leaky),
        optimizer_g: Optimizer::adam(1e-4, 0.5, 0.999),
        optimizer_d: Optimizer::adam(1e-4, 0.5, 0.999),
        ..TrainConfig::default()
    };
    let wgangp = TrainConfig {
        loss: GanLoss::Wasserstein,
        penalty: Penalty::GradientPenalty { lambda: 10.0 },
        schedule: Scheme::Alternating {
            order: Order::DFirst,
            k_g: 1,
            k_d: 5,
        },
        optimizer_g: Optimizer::adam(1e-4, 0.5, 0.9),
        optimizer_d: Optimizer::adam(1e-4, 0.5, 0.9),
        ..seed002.clone()
    };
    let ganvis = TrainConfig::default();
    let mut out = Vec::new();
    for (name, cfg) in [
        ("seed002-batch500", seed002),
        ("seed002-wgangp-batch500", wgangp),
        ("ganvis-batch50", ganvis),
    ] {
        out.push((name.to_string(), cfg.clone()));
        out.push((
            format!("{name}-f64"),
            TrainConfig {
                precision: Precision::F64,
                ..cfg
            },
        ));
    }
    for pack in [1, 2] {
        out.push((format!("pacgan{pack}-batch100"), pacgan(pack)));
    }
    out
}

/// The PacGAN-sized model of the peer `torch_pacgan.py` (Lin et al. 2018, their 2-D
/// mixture experiments): 8 Gaussians on the unit circle (std 0.01), z ~ N(0, I₂),
/// G 2 → 4 × [400, batch norm, ReLU] → 2, D 2m → 3 × maxout(200 units, 5 pieces) → 1,
/// weights N(0, 0.02²) and zero biases, Adam lr 1e-4 with β = (0.8, 0.999),
/// non-saturating loss, batch 100 packs, one D step then one G step.
#[must_use]
pub fn pacgan(pack: usize) -> TrainConfig {
    let normal = Init::Normal { std: 0.02 };
    TrainConfig {
        batch_size: 100,
        pack,
        dataset: Dataset::Ring {
            modes: 8,
            radius: 1.0,
            std: 0.01,
            weights: None,
        },
        latent: Latent {
            kind: LatentKind::Gaussian,
            dim: 2,
        },
        generator: NetConfig {
            batch_norm: true,
            init: normal,
            ..NetConfig::dense(vec![400; 4], Activation::Relu)
        },
        discriminator: NetConfig {
            maxout: 5,
            init: normal,
            ..NetConfig::dense(vec![200; 3], Activation::Linear)
        },
        optimizer_g: Optimizer::adam(1e-4, 0.8, 0.999),
        optimizer_d: Optimizer::adam(1e-4, 0.8, 0.999),
        ..TrainConfig::default()
    }
}

/// Matrix-product FLOPs of one step of `cfg` (module docs).
///
/// # Errors
/// If the configuration's networks are invalid.
pub fn flops_per_step(cfg: &TrainConfig, data_dim: usize) -> Result<f64> {
    let (g, d, _) = cfg.networks(data_dim)?;
    let macs = |m: &Mlp| m.macs_per_sample() as f64;
    let first = |m: &Mlp| (m.layers()[0].fan_in * m.layers()[0].affine_width()) as f64;
    let b = cfg.batch_size as f64;
    // G runs on the B·m samples of B packs, D on the packs.
    let bg = b * cfg.pack as f64;
    let (mg, md) = (macs(&g), macs(&d));
    let mut d_step =
        2.0 * bg * mg + 2.0 * (2.0 * b) * md * 2.0 + 2.0 * (2.0 * b) * (md - first(&d));
    if cfg.penalty.is_active() {
        d_step += 4.0 * 2.0 * b * md;
    }
    let g_step = 2.0 * bg * mg + 2.0 * b * md * 2.0 + 2.0 * bg * mg + 2.0 * bg * (mg - first(&g));
    let (k_g, k_d) = cfg.schedule.updates_per_step();
    Ok(k_d as f64 * d_step + k_g as f64 * g_step)
}

/// Runs every workload for `steps` steps with `threads` concurrent independent runs
/// (seeds 0…threads−1) and reports throughput. Workloads whose configuration fails
/// are skipped (none do). Setting the environment variable `REDQUEEN_BENCH_ONLY` to a
/// workload name runs only that one (for profiling).
///
/// # Errors
/// [`Error::Param`] for zero steps, or threads outside 1..=[`MAX_THREADS`].
pub fn bench_neural(steps: usize, threads: usize) -> Result<Vec<NeuralBench>> {
    if steps == 0 {
        return Err(Error::param("steps", "must be at least 1"));
    }
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(Error::param(
            "threads",
            format!("{threads} is not in 1..={MAX_THREADS} (the number of independent runs)"),
        ));
    }
    let only = std::env::var("REDQUEEN_BENCH_ONLY").unwrap_or_default();
    let mut out = Vec::new();
    for (name, cfg) in workloads() {
        if !only.is_empty() && name != only {
            continue;
        }
        let cfg = TrainConfig {
            steps,
            log_every: steps,
            eval_samples: 2,
            snapshot_samples: 1,
            ..cfg
        };
        let Ok(flops) = flops_per_step(&cfg, 2) else {
            continue;
        };
        let cfg = cfg.validated()?;
        let times: Vec<f64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let c = cfg.with_seed(t as u64);
                    s.spawn(move || train(&c, &Recording::default()).map(|r| r.elapsed_s))
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().ok().and_then(Result::ok))
                .collect()
        });
        if times.len() != threads {
            continue;
        }
        let elapsed = times.iter().copied().fold(0.0, f64::max);
        let rate = (steps * threads) as f64 / elapsed.max(1e-12);
        out.push(NeuralBench {
            name,
            threads,
            steps,
            batch: cfg.batch_size,
            precision: match cfg.precision {
                Precision::F32 => "f32".into(),
                Precision::F64 => "f64".into(),
            },
            elapsed_s: elapsed,
            steps_per_s: rate,
            flops_per_step: flops,
            gflops: rate * flops / 1e9,
        });
    }
    Ok(out)
}

/// The PyTorch peer of each workload (same model, batch and steps), run with the same
/// thread count; returns one rate per workload that has a peer, with our ratio.
///
/// # Errors
/// As [`crate::bench::run_peer`].
pub fn peer_rates(
    ours: &[NeuralBench],
    peers: &crate::bench::Peers,
) -> Result<Vec<crate::bench::PeerRate>> {
    let mut out = Vec::new();
    for (name, script, args) in [
        (
            "seed002-batch500",
            "torch_gan2d.py",
            vec!["--steps", "2000", "--seed", "0"],
        ),
        (
            "seed002-wgangp-batch500",
            "torch_gan2d.py",
            vec!["--steps", "500", "--wgan-gp"],
        ),
        ("ganvis-batch50", "torch_ganvis.py", vec!["--steps", "2000"]),
        (
            "pacgan1-batch100",
            "torch_pacgan.py",
            vec!["--steps", "300", "--pack", "1"],
        ),
        (
            "pacgan2-batch100",
            "torch_pacgan.py",
            vec!["--steps", "300", "--pack", "2"],
        ),
    ] {
        let Some(mine) = ours.iter().find(|b| b.name == name) else {
            continue;
        };
        let t = mine.threads.to_string();
        let mut args = args;
        args.extend(["--threads", t.as_str()]);
        out.push(peers.rate(
            &peers.torch_python,
            name,
            script,
            &args,
            "steps_per_s",
            mine.steps_per_s,
        )?);
    }
    Ok(out)
}

/// What the f32 gemm of [`crate::nn::gemm`] reaches alone on one product shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GemmRate {
    /// Rows of A and C (the batch, or 2·batch for D on [real; fake]).
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// 2·m·k·n per product over the best of five timed batches of products, GFLOP/s.
    pub gflops: f64,
}

/// The reference for the achieved GFLOP/s of [`bench_neural`]: the same gemm on the
/// hidden-layer shapes of the workloads, in a loop with nothing else (the forward
/// product H·W; best of five repeats, single thread).
#[must_use]
pub fn gemm_rates() -> Vec<GemmRate> {
    use crate::nn::{View, gemm};
    [(50, 50, 50), (100, 50, 50), (500, 50, 50), (1000, 50, 50)]
        .into_iter()
        .map(|(m, k, n)| {
            let a = nalgebra::DMatrix::<f32>::from_fn(m, k, |i, j| ((i + 3 * j) as f32).sin());
            let b = nalgebra::DMatrix::<f32>::from_fn(k, n, |i, j| ((2 * i + j) as f32).cos());
            let mut c = vec![0.0f32; m * n];
            let flops = 2.0 * (m * k * n) as f64;
            let reps = ((2e8 / flops) as usize).max(1);
            let best = (0..5)
                .map(|_| {
                    let t = std::time::Instant::now();
                    for _ in 0..reps {
                        gemm(1.0, View::of(&a), View::of(&b), 0.0, &mut c, m, n);
                        std::hint::black_box(&mut c);
                    }
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            GemmRate {
                m,
                k,
                n,
                gflops: reps as f64 * flops / best.max(1e-12) / 1e9,
            }
        })
        .collect()
}

/// Timing of the exact Jacobian-vector products of one workload ([`bench_jvp`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JvpBench {
    /// Workload name, e.g. `ganvis-batch4096`.
    pub name: String,
    /// Threads of the rayon pool the products ran in (the field is single-threaded).
    pub threads: usize,
    /// Batch size of the field.
    pub batch: usize,
    /// Joint parameters n.
    pub n_params: usize,
    /// One field evaluation v(x), ms (best of the repeats).
    pub field_ms: f64,
    /// One exact J·u, ms.
    pub jvp_ms: f64,
    /// One exact H_G·w, ms.
    pub hvp_g_ms: f64,
    /// One exact H_D·w, ms.
    pub hvp_d_ms: f64,
}

/// The product workloads: the gan-vis GAN (f64, ReLU, non-saturating) at `batch`,
/// alone and with WGAN-GP (λ = 10, Wasserstein loss) and R1 (γ = 1), the objectives
/// the neural-spectra study compares.
#[must_use]
pub fn jvp_workloads(batch: usize) -> Vec<(String, TrainConfig)> {
    let base = TrainConfig {
        precision: Precision::F64,
        batch_size: batch,
        ..TrainConfig::default()
    };
    vec![
        (format!("ganvis-batch{batch}"), base.clone()),
        (
            format!("ganvis-wgangp-batch{batch}"),
            TrainConfig {
                loss: GanLoss::Wasserstein,
                penalty: Penalty::GradientPenalty { lambda: 10.0 },
                ..base.clone()
            },
        ),
        (
            format!("ganvis-r1-batch{batch}"),
            TrainConfig {
                penalty: Penalty::R1 { gamma: 1.0 },
                ..base
            },
        ),
    ]
}

/// Times v(x), J·u, H_G·w and H_D·w (best of `reps` calls each, after one warm-up call
/// that builds the buffers and the cached primal passes, as a Krylov solver's first
/// product does) at the initial point of each of [`jvp_workloads`], with a fixed
/// pseudo-random direction, the products in a rayon pool of `threads` threads.
/// Workloads whose configuration fails are skipped (none do).
///
/// # Measured (2026-12-01, 2-core Intel Xeon KVM guest with AVX-512)
/// The host was shared (load average 5–7 on 2 cores), so the numbers are process CPU
/// time per call (wall time was up to twice that), f64, batch 4096, one thread, after
/// the first product at the point:
///
/// | workload | v(x) | J·u | H_G·w | H_D·w | J·u at a new point |
/// |---|---|---|---|---|---|
/// | `ganvis-batch4096` | 31–35 ms | 35–39 ms | 19–22 ms | 26–29 ms | 50–57 ms |
/// | `ganvis-wgangp-batch4096` | 48 ms | 58 ms | 21 ms | 47 ms | 79 ms |
/// | `ganvis-r1-batch4096` | 45 ms | 56 ms | 21 ms | 47 ms | 78 ms |
///
/// The PyTorch product of `torch_spectra.py` (autograd through the gradient graph,
/// float64, one thread) took 70 ms CPU in the same conditions (72 ms wall in a quiet
/// moment), so one J·u is about 2× faster on one thread. With two threads and a quiet
/// host, J·u took 17.5 ms wall (4× PyTorch's one thread). About half the time is the
/// gemm kernel (at ~60 GFLOP/s alone on these shapes), a sixth its packing of the
/// 50-wide operands, and a quarter the element-wise passes, which are memory-bound.
#[must_use]
pub fn bench_jvp(batch: usize, reps: usize, threads: usize) -> Vec<JvpBench> {
    let Ok(pool) = crate::parallel::pool(threads.max(1)) else {
        return Vec::new();
    };
    pool.install(|| bench_jvp_here(batch, reps, threads.max(1)))
}

fn bench_jvp_here(batch: usize, reps: usize, threads: usize) -> Vec<JvpBench> {
    use crate::game::{Game, Player};
    use crate::linalg::Vector;
    let reps = reps.max(1);
    let time = |f: &mut dyn FnMut()| {
        f();
        (0..reps)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mut out = Vec::new();
    for (name, cfg) in jvp_workloads(batch.max(1)) {
        let Ok((gan, x)) = cfg.validated().and_then(|c| crate::gan::build_game(&c)) else {
            continue;
        };
        let n = gan.dim();
        let ng = gan.split();
        let u = Vector::from_fn(n, |i, _| ((i as f64) * 0.618).sin());
        let ug = u.rows(0, ng).into_owned();
        let ud = u.rows(ng, n - ng).into_owned();
        out.push(JvpBench {
            name,
            threads,
            batch: gan.batch_size(),
            n_params: n,
            field_ms: time(&mut || {
                std::hint::black_box(gan.field(&x));
            }),
            jvp_ms: time(&mut || {
                std::hint::black_box(gan.jvp(&x, &u));
            }),
            hvp_g_ms: time(&mut || {
                std::hint::black_box(gan.hessian_vp(&x, Player::Generator, &ug));
            }),
            hvp_d_ms: time(&mut || {
                std::hint::black_box(gan.hessian_vp(&x, Player::Discriminator, &ud));
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_of_seed002_match_a_hand_count() {
        // G MACs 8350 (first layer 750), D MACs 7750 (first 200), B = 500:
        // D update 2·500·8350 + 2·1000·7750·2 + 2·1000·7550 = 54.45e6,
        // G update 2·500·8350·2 + 2·500·7750·2 + 2·500·7600 = 39.8e6.
        let (_, cfg) = workloads().into_iter().next().unwrap();
        let f = flops_per_step(&cfg, 2).unwrap();
        assert!((f - (54.45e6 + 39.8e6)).abs() < 1.0, "{f}");
    }

    #[test]
    fn gemm_rates_cover_the_shapes() {
        let r = gemm_rates();
        assert_eq!(r.len(), 4);
        assert!(r.iter().all(|g| g.gflops.is_finite() && g.gflops > 0.0));
    }

    #[test]
    fn jvp_bench_reports_every_workload() {
        let b = bench_jvp(8, 1, 1);
        assert_eq!(b.len(), 3);
        assert!(b.iter().all(|r| {
            r.batch == 8
                && r.n_params == 13_603
                && [r.field_ms, r.jvp_ms, r.hvp_g_ms, r.hvp_d_ms]
                    .iter()
                    .all(|t| t.is_finite() && *t > 0.0)
        }));
    }

    #[test]
    fn bench_reports_every_workload() {
        let b = bench_neural(3, 1).unwrap();
        assert_eq!(b.len(), 8);
        assert!(
            b.iter()
                .all(|r| r.steps_per_s > 0.0 && r.gflops > 0.0 && r.steps == 3)
        );
        assert!(b.iter().any(|r| r.name == "seed002-wgangp-batch500"));
    }
}
