//! Point sets as the sample metrics read them: validated once (non-empty, finite, one
//! dimension), stored row-major so that a point is a contiguous slice, plus the size limit
//! that is checked before any quadratic work.

use nalgebra::DMatrix;

use crate::error::{Error, Result};

/// A validated set of `n` points in `d` dimensions, row-major.
#[derive(Debug, Clone)]
pub(crate) struct Points {
    /// Number of points.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    data: Vec<f64>,
}

impl Points {
    /// Copies the rows of `m` (rows = points). `key` names the input in errors (the flag or
    /// argument the user gave, e.g. `samples`).
    pub fn from_matrix(key: &str, m: &DMatrix<f64>) -> Result<Points> {
        let (n, d) = m.shape();
        if n == 0 || d == 0 {
            return Err(Error::param(
                key,
                format!("the point set is empty ({n} points of dimension {d})"),
            ));
        }
        if let Some(pos) = m.iter().position(|v| !v.is_finite()) {
            // Column-major position → (row, column).
            return Err(Error::param(
                key,
                format!(
                    "point {} coordinate {} is not finite ({})",
                    pos % n,
                    pos / n,
                    m[pos]
                ),
            ));
        }
        let mut data = Vec::with_capacity(n * d);
        for i in 0..n {
            data.extend(m.row(i).iter());
        }
        Ok(Points { n, d, data })
    }

    /// Point `i` as a slice of its `d` coordinates.
    #[inline]
    #[must_use]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.d..(i + 1) * self.d]
    }
}

/// Squared Euclidean distance Σ (a_j − b_j)², summed from the differences (not from
/// ‖a‖² − 2a·b + ‖b‖², which cancels badly for nearby points).
#[inline]
#[must_use]
pub(crate) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Memory the sample metrics hold for `n` and `m` points of dimension `d` on `threads`
/// threads, in bytes: the two input matrices and their row-major copies (4·8·d·(n + m)),
/// the k-NN radii (8·(n + m)), and per thread one row of distances or one projection
/// (8·2·max(n, m)).
#[must_use]
pub(crate) fn memory_estimate(n: usize, m: usize, d: usize, threads: usize) -> f64 {
    let (n, m, d, t) = (n as f64, m as f64, d as f64, threads.max(1) as f64);
    32.0 * d * (n + m) + 8.0 * (n + m) + 16.0 * n.max(m) * t
}

/// Refuses a point set larger than `max_points`, naming `key`, the count, the limit and what
/// scoring it would cost (memory, and the n·m distance evaluations that dominate the time).
pub(crate) fn check_size(
    key: &str,
    n: usize,
    other: usize,
    d: usize,
    max_points: usize,
) -> Result<()> {
    if n > max_points {
        let mb = memory_estimate(n, other, d, rayon::current_num_threads()) / 1e6;
        return Err(Error::param(
            key,
            format!(
                "{n} points is more than max_points = {max_points}: scoring would hold ≈ {mb:.0} MB \
                 and evaluate ≈ 4·{n}·{other} = {:.2e} distances; subsample or raise max_points",
                4.0 * n as f64 * other as f64
            ),
        ));
    }
    Ok(())
}
