//! Benchmarks that time the code paths the commands use, and run the Python peers beside
//! them (`redqueen bench …`).
//!
//! * [`sweep`]: `redqueen sweep` itself on the numpy/JAX peers' Dirac-GAN workload, and
//!   under the other rules of the numpy peer;
//! * [`neural`]: neural GAN training steps against the PyTorch peers;
//! * [`peers`]: running a peer and reading its one JSON line.

pub mod neural;
pub mod peers;
pub mod sweep;

pub use neural::{GemmRate, NeuralBench, bench_neural, gemm_rates};
pub use peers::{PeerRate, Peers, run_peer};
pub use sweep::{BENCH_K_D, BenchSweep, SweepPeer, bench_rule, bench_sweep};
