//! Scalar summaries of runs. [`neural`] holds the distribution metrics used by the
//! neural GAN trainer (mode coverage, 1-D histogram divergences and Wasserstein
//! distance, 2-D energy distance).

pub mod neural;
