//! Benchmarks that time the code paths the commands use, and run the Python peers beside
//! them (`redqueen bench …`).
//!
//! * [`sweep`]: `redqueen sweep` itself on the numpy/JAX peers' Dirac-GAN workload, and
//!   under the other rules of the numpy peer;
//! * [`neural`]: neural GAN training steps against the PyTorch peers;
//! * [`spectra`]: dense and top-k eigenvalues (issue 10's speed targets) against
//!   `torch_spectra.py`;
//! * [`peers`]: running a peer and reading its one JSON line.

pub mod neural;
pub mod peers;
pub mod spectra;
pub mod sweep;

pub use neural::{GemmRate, NeuralBench, bench_neural, gemm_rates};
pub use peers::{PeerRate, Peers, run_peer};
pub use spectra::{SpectraBench, SpectraOptions, bench_spectra};
pub use sweep::{BENCH_K_D, BenchSweep, SweepPeer, bench_rule, bench_sweep};
