//! Scalar summaries of runs and distances between sample sets.
//!
//! - [`neural`]: the metrics the neural GAN trainer logs (gan-vis mode coverage, 1-D
//!   histogram divergences and Wasserstein distance, the energy distance).
//! - [`modes`]: PacGAN's mode-collapse measures on mixtures with known modes (modes
//!   captured, high-quality share, reverse KL), and where a target's modes come from.
//! - [`manifold`]: k-NN manifold metrics, precision and recall (Kynkäänniemi et al. 2019) and
//!   density and coverage (Naeem et al. 2020).
//! - [`sliced`]: sliced Wasserstein distances SW₁, SW₂ and exact 1-D W_p.
//! - [`frechet`]: the Fréchet distance between Gaussian fits.
//! - [`score`](mod@score): one entry point computing all of them for two sample sets or CSV files.

pub mod frechet;
pub mod manifold;
pub mod modes;
pub mod neural;
mod points;
pub mod score;
pub mod sliced;

pub use score::{MetricOptions, MetricReport, score, score_files};
