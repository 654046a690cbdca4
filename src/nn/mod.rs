//! Small multilayer perceptrons with hand-written forward, backward, input-gradient
//! and double-backprop passes on batched nalgebra matrices.
//!
//! # Layout
//! * A batch is a `DMatrix<T>` with **rows = samples** and columns = features
//!   (column-major storage, as nalgebra stores every matrix).
//! * An [`Mlp`] is an architecture only: a chain of layers of a few kinds
//!   ([`LayerKind`]: dense, batch norm, maxout, minibatch discrimination). Its
//!   parameters live in one flat slice, one contiguous block per layer in order
//!   (see [`Mlp::layout`] and, for every block's name, offset and shape, [`Mlp::blocks`]):
//!   a dense layer's weight matrix W_l (fan_in × fan_out, column-major) followed by its
//!   bias b_l (fan_out); the other kinds' blocks are tabled in the docs of `layer`.
//!   This flat slice is the player's parameter vector θ_G or ψ_D, so the joint vector
//!   x = (θ_G, ψ_D) of [`crate::game`] is a concatenation of two of them.
//! * Every pass writes into a preallocated [`Workspace`], so the training loop does not
//!   allocate.
//! * Each pass has a tangent (forward-mode) counterpart, [`Mlp::forward_tangent`],
//!   [`Mlp::backward_tangent`] and [`Mlp::penalty_tangent`] with buffers in a
//!   [`Tangent`], for exact Jacobian-vector products of a GAN's field (analysis only),
//!   for the dense and maxout layers ([`Mlp::has_exact_tangent`]); batch norm and
//!   minibatch discrimination couple the rows of a batch and have none.
//! * State that is not a parameter (batch norm's running statistics, spectral
//!   normalisation's power-iteration vectors, [`spectral`]) belongs to the network's
//!   owner, [`crate::gan::NeuralGan`].
//!
//! Layer l of a dense chain computes A_l = H_{l−1} W_l + 1 b_lᵀ and H_l = σ_l(A_l) ⊙ M_l, where M_l is an
//! inverted-dropout mask (entries 0 or 1/keep, only in training mode).
//!
//! # Speed: gemm, not per-sample loops
//! Every product goes through [`gemm`], which reads transposed operands through their
//! strides: Xᵀ·dY and dY·Wᵀ need no transposed copy and no temporary. Thin products
//! (a dimension ≤ [`SMALL_GEMM_DIM`]) are direct loops; f32 products on CPUs with AVX2
//! and FMA go to this crate's unpacked kernel (`sgemm`, about 10 % faster per training
//! step than the packing library at batch 50, measured); the rest to `matrixmultiply`'s
//! strided gemm (the kernel nalgebra itself uses for dynamic matrices).
//! (RUST-NOTES.md: nalgebra's `tr_mul` runs at ~9 GFLOP/s on these shapes, and strided
//! nalgebra views from raw slices hit a memory-safety bug; a safe, bounds-checked wrapper
//! over the raw kernel avoids both.)
//!
//! # SIMD
//! The crate is built for the baseline x86-64 (SSE2). The three passes are compiled
//! twice more, with AVX2 + FMA and with AVX-512 enabled, and the best one the CPU
//! supports is chosen at run time ([`crate::simd::dispatch`]), so the element-wise
//! loops and the thin products vectorise fully. Rust never contracts a·b + c into an FMA, and
//! every reduction here has a fixed association order, so the three paths compute
//! the same values. The f32 kernel computes each product element by one fixed FMA
//! recurrence, so f32 training is bit-reproducible across CPUs with AVX2 and FMA;
//! f64 products and CPUs without FMA use `matrixmultiply`, which picks its kernel at
//! run time, so those results may differ in the last bits across CPU families.
//!
//! # Precision: generic, f32 for training, f64 for checks
//! The passes are generic over [`Float`] (f32 or f64). Gradient checks run in f64.
//! Measured on this machine (2-core AMD EPYC Zen 4, single thread, `bench_neural`,
//! see `crate::gan::bench`, 2000 steps each): f32 trains the seed-002 workload
//! (batch 500) at 576 steps/s against 338 in f64 (1.7×), its WGAN-GP variant at 111
//! against 65 (1.7×), and the gan-vis workload (batch 50) at 3640 against 2916
//! (1.25×), so the trainer defaults to f32 (`precision = "f32"` in `TrainConfig`) and f64 stays
//! available for analysis and checks.

mod activation;
pub mod batch_norm;
mod init;
#[cfg(test)]
mod kinds_tests;
mod layer;
pub mod maxout;
pub mod minibatch;
mod mlp;
mod sgemm;
pub mod spectral;
mod tangent;

pub use activation::{Activation, sigmoid};
pub use batch_norm::RunningStats;
pub use init::Init;
pub use layer::{LayerKind, LayerSpec, ParamBlock};
pub use mlp::{Mlp, Mode, Workspace};
pub use tangent::Tangent;

use nalgebra::DMatrix;

/// The floating-point types the networks run in: f32 (fast) or f64 (checks).
pub trait Float:
    nalgebra::RealField + Copy + Default + Send + Sync + std::fmt::Display + 'static
{
    /// Conversion from f64 (rounding for f32).
    fn of(x: f64) -> Self;
    /// Conversion to f64 (exact).
    fn f64(self) -> f64;
    /// C ← α·A·B + β·C through this crate's own kernel where there is one for this type
    /// and CPU (f32 with AVX2 and FMA, [`sgemm`]); false if there is none. The shapes
    /// have been checked by [`gemm`].
    #[doc(hidden)]
    fn kernel_gemm(
        _alpha: Self,
        _a: View<'_, Self>,
        _b: View<'_, Self>,
        _beta: Self,
        _c: &mut [Self],
        _m: usize,
        _n: usize,
    ) -> bool {
        false
    }
    /// Whether [`Float::kernel_gemm`] runs (and does not return false) on this CPU.
    #[doc(hidden)]
    fn has_kernel() -> bool {
        false
    }
    /// C ← α·A·B + β·C on raw strided storage.
    ///
    /// # Safety
    /// The caller guarantees that every index reached through the shapes and strides
    /// lies inside the corresponding allocation (checked by [`gemm`]).
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    unsafe fn raw_gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn kernel_gemm(
        alpha: Self,
        a: View<'_, Self>,
        b: View<'_, Self>,
        beta: Self,
        c: &mut [Self],
        m: usize,
        n: usize,
    ) -> bool {
        sgemm::gemm(alpha, a, b, beta, c, m, n)
    }
    fn has_kernel() -> bool {
        sgemm::available()
    }
    unsafe fn raw_gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    ) {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            matrixmultiply::sgemm(
                m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
            )
        }
    }
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn f64(self) -> f64 {
        self
    }
    unsafe fn raw_gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    ) {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            matrixmultiply::dgemm(
                m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
            )
        }
    }
}

/// A read-only matrix operand for [`gemm`]: a slice with a shape and strides, so that
/// a transpose is just swapped strides.
#[derive(Debug, Clone, Copy)]
pub struct View<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T: Float> View<'a, T> {
    /// A column-major `rows × cols` matrix stored in `data`.
    #[must_use]
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            rs: 1,
            cs: rows,
        }
    }
    /// A view of a whole nalgebra matrix.
    #[must_use]
    pub fn of(m: &'a DMatrix<T>) -> Self {
        View::col_major(m.as_slice(), m.nrows(), m.ncols())
    }
    /// The transpose (no copy).
    #[must_use]
    pub fn t(self) -> Self {
        View {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// C ← α·A·B + β·C, with C a column-major `m × n` matrix in `c` (C's old content is
/// ignored when β = 0).
///
/// # Panics
/// If the shapes disagree or a view does not fit its slice: these are programming
/// errors inside the crate, never caused by user data.
#[inline(always)]
pub fn gemm<T: Float>(
    alpha: T,
    a: View<'_, T>,
    b: View<'_, T>,
    beta: T,
    c: &mut [T],
    m: usize,
    n: usize,
) {
    assert!(
        a.rows == m && b.cols == n && a.cols == b.rows && c.len() >= m * n && a.fits() && b.fits(),
        "gemm shape mismatch: A {}x{}, B {}x{}, C {m}x{n}",
        a.rows,
        a.cols,
        b.rows,
        b.cols
    );
    if m == 0 || n == 0 {
        return;
    }
    if m.min(n).min(a.cols) <= SMALL_GEMM_DIM {
        small_gemm(alpha, a, b, beta, &mut c[..m * n], m, n);
        return;
    }
    if T::kernel_gemm(alpha, a, b, beta, &mut c[..m * n], m, n) {
        return;
    }
    // SAFETY: the assertion above checks that every index reached by the kernel,
    // (i·rs + j·cs) for i < rows, j < cols, is inside each slice.
    unsafe {
        T::raw_gemm(
            m,
            a.cols,
            n,
            alpha,
            (a.data.as_ptr(), a.rs as isize, a.cs as isize),
            (b.data.as_ptr(), b.rs as isize, b.cs as isize),
            beta,
            (c.as_mut_ptr(), 1, m as isize),
        );
    }
}

/// Below this inner, row or column count, [`gemm`] uses direct axpy/dot loops: the packing
/// kernels waste most of their work on the thin products of these nets (the 1-wide
/// logit layer, the 2-wide data layers), while an axpy or dot loop streams them.
pub const SMALL_GEMM_DIM: usize = 4;

/// Direct loops for thin products, C (column-major m × n) ← α·A·B + β·C. With A's
/// columns contiguous it accumulates columns (axpy); with A's rows and B's columns
/// contiguous it takes dot products; otherwise it walks the strides.
#[inline(always)]
fn small_gemm<T: Float>(
    alpha: T,
    a: View<'_, T>,
    b: View<'_, T>,
    beta: T,
    c: &mut [T],
    m: usize,
    n: usize,
) {
    let k = a.cols;
    for j in 0..n {
        let ccol = &mut c[j * m..(j + 1) * m];
        if beta == T::zero() {
            ccol.fill(T::zero());
        } else if beta != T::one() {
            ccol.iter_mut().for_each(|v| *v *= beta);
        }
        if a.rs == 1 {
            for p in 0..k {
                let bpj = alpha * b.data[p * b.rs + j * b.cs];
                let acol = &a.data[p * a.cs..p * a.cs + m];
                for (ci, &ai) in ccol.iter_mut().zip(acol) {
                    *ci += bpj * ai;
                }
            }
        } else if a.cs == 1 && b.rs == 1 {
            let bcol = &b.data[j * b.cs..j * b.cs + k];
            for (i, ci) in ccol.iter_mut().enumerate() {
                *ci += alpha * dot(&a.data[i * a.rs..i * a.rs + k], bcol);
            }
        } else {
            for (i, ci) in ccol.iter_mut().enumerate() {
                let mut s = T::zero();
                for p in 0..k {
                    s += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
                }
                *ci += alpha * s;
            }
        }
    }
}

/// Σ xᵢyᵢ with eight independent accumulators (so the loop vectorises).
#[inline(always)]
pub(crate) fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    let mut s = T::zero();
    for (a, b) in xr.iter().zip(yr) {
        s += *a * *b;
    }
    acc.iter().fold(s, |t, v| t + *v)
}

/// Σ xᵢ with eight independent accumulators (so the loop vectorises).
#[inline(always)]
pub(crate) fn sum<T: Float>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let mut s = chunks.remainder().iter().fold(T::zero(), |t, v| t + *v);
    for c in chunks {
        for l in 0..8 {
            acc[l] += c[l];
        }
    }
    for a in acc {
        s += a;
    }
    s
}

/// [`gemm`] into a whole nalgebra matrix.
#[inline(always)]
pub fn gemm_into<T: Float>(alpha: T, a: View<'_, T>, b: View<'_, T>, beta: T, c: &mut DMatrix<T>) {
    let (m, n) = c.shape();
    gemm(alpha, a, b, beta, c.as_mut_slice(), m, n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_products_take_the_small_path_and_agree() {
        // Shapes on both sides of SMALL_GEMM_DIM, all transpose combinations.
        for &(m, k, n) in &[(9, 2, 7), (9, 7, 1), (1, 9, 7), (9, 30, 6), (17, 3, 5)] {
            let a = DMatrix::<f64>::from_fn(m, k, |i, j| (i as f64 * 0.3 - j as f64).sin());
            let b = DMatrix::<f64>::from_fn(k, n, |i, j| (i as f64 + 0.7 * j as f64).cos());
            let at = a.transpose();
            let bt = b.transpose();
            let expect = &a * &b;
            for (va, vb) in [
                (View::of(&a), View::of(&b)),
                (View::of(&at).t(), View::of(&b)),
                (View::of(&a), View::of(&bt).t()),
                (View::of(&at).t(), View::of(&bt).t()),
            ] {
                let mut c = DMatrix::<f64>::from_element(m, n, 2.0);
                gemm_into(1.5, va, vb, -0.5, &mut c);
                let want = &expect * 1.5 - DMatrix::from_element(m, n, 1.0);
                assert!((c - want).amax() < 1e-12, "{m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn strided_gemm_matches_nalgebra_products() {
        let a = DMatrix::<f64>::from_fn(5, 3, |i, j| (i as f64) - 0.5 * j as f64);
        let b = DMatrix::<f64>::from_fn(5, 4, |i, j| (i * j) as f64 * 0.1 + 1.0);
        let mut c = DMatrix::<f64>::zeros(3, 4);
        gemm_into(1.0, View::of(&a).t(), View::of(&b), 0.0, &mut c);
        assert!((c - a.transpose() * &b).amax() < 1e-12);
        let w = DMatrix::<f64>::from_fn(4, 3, |i, j| (i + 2 * j) as f64);
        let mut d = DMatrix::<f64>::from_element(5, 4, 1.0);
        gemm_into(2.0, View::of(&a), View::of(&w).t(), 0.5, &mut d);
        let expect = a * w.transpose() * 2.0 + DMatrix::from_element(5, 4, 0.5);
        assert!((d - expect).amax() < 1e-12);
    }
}
