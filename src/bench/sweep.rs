//! The speed-critical Dirac-GAN learning-rate sweep and its benchmark.
//!
//! # The workload
//! Dirac-GAN (Mescheder, Geiger and Nowozin 2018, "Which training methods for GANs do
//! actually converge?", §2): generator p_θ = δ(θ), data δ(0), discriminator D(x) = ψx,
//! L(θ, ψ) = f(θψ) + f(0) with f(t) = −log(1 + e^{−t}), so
//!
//! f′(t) = σ(−t) = 1/(1 + e^t) = (1 − tanh(t/2))/2,
//!
//! and the simultaneous-gradient field is v(θ, ψ) = (−ψ f′(θψ), θ f′(θψ)).
//! Simultaneous gradient descent updates both players from the old point:
//!
//! θ ← θ − h_G ψ f′(θψ),  ψ ← ψ + h_D θ f′(θψ).
//!
//! [`dirac_simultaneous_sweep`] runs this from one start point for every (h_G, h_D) of a
//! grid (h_G along rows), one cell per independent trajectory, on a local rayon pool.
//!
//! # One reference function, every dispatch path
//! `tanh`/`exp` from libm do not vectorise, so f′ is computed by [`dirac_fprime`], our own
//! branch-free exp (Cody–Waite range reduction, a degree-11 Chebyshev-economised
//! polynomial, the exponent 2^k built by bit manipulation) followed by one correctly
//! rounded division. Every arithmetic step is an IEEE-754 operation with a single rounding (`+ − × ÷`, explicit [`f64::mul_add`],
//! compare/select, integer bit operations), so the scalar code, the SSE2 fallback, the
//! AVX2+FMA copy and the AVX-512 copy give **bit-identical** results: the compiler may not
//! contract or reassociate IEEE operations, and `mul_add` is a fused multiply-add on every
//! path (the FMA instruction on the `fma` copies, glibc's correctly rounded `fma()` on the
//! baseline — slow, but only the fallback pays it). [`dirac_simultaneous_step`] is the
//! single-cell update used by the SIMD kernel lane by lane; any other Dirac sweep in
//! redqueen should call it so that results agree to the bit.
//!
//! # Speed
//! The kernel keeps a block of [`BLOCK`] cells in local arrays and loops over the steps
//! inside; the loop over the lanes of the block auto-vectorises (8 f64 per zmm register on
//! AVX-512). The lanes are independent, so out-of-order execution overlaps the long
//! dependency chain (exp polynomial + divide) of one vector with the others. A partial
//! last block is padded with inert cells (learning rates 0), so every real cell goes
//! through exactly the same instructions. The hot copies are compiled with
//! `#[target_feature]` and chosen at run time ([`SimdPath::detect`]); no
//! `-C target-cpu` is needed. The one division per cell-step (correctly rounded, so
//! identical on every path) sets the throughput limit on Intel cores with AVX-512:
//! `vdivpd zmm` issues about every 17 cycles for 8 lanes (measured 0.62 ns per lane here),
//! while the ≈ 30 other vector operations per 8 lanes need ≈ 15 cycles on the two 512-bit
//! ports.
//!
//! Flop count per cell-step, by hand ([`FLOPS_PER_CELL_STEP`], an FMA counts 2):
//! θψ 1; k = round(x·log₂e) 2 (FMA with the shifter) + 1 (subtract the shifter);
//! r = x − k·ln2 (two-part) 4; degree-11 polynomial as even + odd halves in r² 23 (r² 1,
//! 11 FMAs); scale by 2^k 1; 1 + u 1; divide 1; ψf′, θf′ 2; two FMA updates 4. Total 40. Not counted: |t|, the clamp, the sign
//! select and the two integer operations that build 2^k.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::parallel::pool;

/// Cells processed together by one call of the kernel: 8 zmm registers per state
/// variable on AVX-512. One step of one vector is a dependency chain of ≈ 90 cycles
/// (polynomial, divide, …) but only ≈ 16 cycles of throughput, so several independent
/// vectors must be in flight. With an earlier, longer polynomial, 32 cells ran at
/// 1.3 ns/cell-step and 64 or 128 cells at 1.0 ns (one thread, this machine). A partial
/// last block is padded with inert cells.
pub const BLOCK: usize = 64;

/// Hand-counted floating-point operations per cell-step (an FMA counts 2); see the module
/// docs for the breakdown.
pub const FLOPS_PER_CELL_STEP: u32 = 40;

/// Largest |t| passed to the exponential in [`dirac_fprime`].
///
/// f′ uses u = e^{−|t|}. Clamping |t| at 708 keeps k = round(−|t| log₂e) ≥ −1022, so 2^k
/// is a normal number that can be built from its exponent bits alone, and u ≥ 3.3e-308
/// never becomes subnormal. For t < −708, f′(t) = 1/(1 + u) rounds to exactly 1 either way
/// (u < 2^−53). For t > 708 the true f′(t) < e^{−708} ≈ 3.3e-308 and we return
/// f′(708) ≈ 3.3e-308 instead: an absolute error below 3.3e-308, which cannot change an
/// update x ± h·y·f′ for any state or learning rate that is not itself astronomically
/// large (h·y·3.3e-308 is below half an ulp of x for |x| > 1e-290 whenever h·y < 1e15).
/// NaN is mapped to the clamp too (the state then stays NaN through θ·f′ anyway).
pub const EXP_CLAMP: f64 = 708.0;

/// Converged class: final ‖(θ, ψ)‖ below this (as in the NumPy/JAX peers).
pub const CONVERGED_NORM: f64 = 1e-3;
/// Diverged class: final ‖(θ, ψ)‖ above this, or non-finite (as in the peers).
pub const DIVERGED_NORM: f64 = 1e3;

/// log₂ e, rounded to f64.
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 rounded to f64 (0x3FE62E42FEFA39EF) …
const LN2_HI: f64 = std::f64::consts::LN_2;
/// … and the rest, ln 2 − LN2_HI, so that k·ln2 is carried to ≈ 106 bits (Cody–Waite).
const LN2_LO: f64 = 2.319_046_813_846_299_6e-17;
/// 1.5·2^52: adding it to |y| < 2^51 rounds y to the nearest integer (ties to even) and
/// leaves that integer in the low bits of the sum's mantissa.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// Degree of the polynomial for e^r on |r| ≤ ln2/2.
const EXP_DEGREE: usize = 11;

/// Coefficients (c₀ … c₁₁, ascending) of the polynomial for e^r on |r| ≤ ln2/2.
///
/// Chebyshev economisation of the Taylor series: starting from the degree-24 Taylor
/// polynomial (tail < 1e-30), the leading term c_n rⁿ is replaced by its Chebyshev
/// expansion on |r| ≤ 0.347 minus c_n (0.347)ⁿ T_n(r/0.347)/2ⁿ⁻¹, for n = 24 down to 12, in
/// exact rational arithmetic; the dropped terms sum to < 3.2e-18 in absolute value on the
/// interval (e^r ≥ 0.7 there, so < 0.03 ulp relative), then each coefficient is rounded to
/// f64. Near-minimax: it saves two FMAs against the degree-13 Taylor polynomial of the same
/// accuracy (truncation (ln2/2)¹²/12! ≈ 6e-15 would be 30 ulp at degree 11). The low
/// coefficients stay within 4e-15 of 1/n!, as they must (tested).
const EXP_COEFFS: [f64; EXP_DEGREE + 1] = [
    1.0,
    1.0,
    0.5000000000000019,
    0.16666666666666702,
    0.041666666666486316,
    0.00833333333330929,
    0.0013888888952788027,
    0.00019841269909723295,
    2.480148497675849e-05,
    2.755722449096152e-06,
    2.763282636688916e-07,
    2.5115024932567576e-08,
];

/// e^x for x ∈ [−EXP_CLAMP, 0], branch-free and vectorisable.
///
/// x = k ln2 + r with k = round(x log₂e) and |r| ≤ ln2/2 (two-part ln2); e^r by the polynomial
/// [`EXP_COEFFS`]; 2^k built from exponent bits ((k + 1023) << 52), valid because
/// −1022 ≤ k ≤ 0 on this domain. Relative error a few ulp (see the tests).
#[inline(always)]
fn exp_nonpositive(x: f64) -> f64 {
    let s = x.mul_add(LOG2E, SHIFTER);
    let k = s - SHIFTER;
    let r = k.mul_add(-LN2_HI, x);
    let r = k.mul_add(-LN2_LO, r);
    // Even and odd halves by Horner in r² (two independent chains of 5 FMAs instead of one
    // of 11: the same work plus one multiply, half the latency), p = E(r²) + r·O(r²).
    let c = &EXP_COEFFS;
    let r2 = r * r;
    let mut even = c[10];
    let mut odd = c[11];
    let mut n = 10;
    while n >= 2 {
        n -= 2;
        even = even.mul_add(r2, c[n]);
        odd = odd.mul_add(r2, c[n + 1]);
    }
    let p = odd.mul_add(r, even);
    // s's bits are SHIFTER's bits + k (two's complement in the low mantissa bits); the low
    // 12 bits of SHIFTER's bits are zero, so shifting left by 52 leaves (k + 1023) in the
    // exponent field and zeros elsewhere.
    let scale = f64::from_bits(s.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// f′(t) = σ(−t) = 1/(1 + e^t), the Dirac-GAN derivative, vectorisable and a few ulp accurate.
///
/// With u = e^{−|t|} ∈ (0, 1] (never overflows): f′ = u/(1 + u) for t > 0 and 1/(1 + u)
/// otherwise, so there is no cancellation on either side (unlike (1 − tanh(t/2))/2, which
/// loses all relative accuracy for t ≳ 20 and is exactly 0 beyond t ≈ 38). |t| is clamped
/// at [`EXP_CLAMP`] (see there for why that is harmless).
///
/// This is *the* f′ of redqueen's Dirac sweep: the SIMD kernel uses it lane by lane, so
/// every dispatch path gives the same bits.
#[inline(always)]
#[must_use]
pub fn dirac_fprime(t: f64) -> f64 {
    let a = t.abs();
    // Written as a select so that it maps to one `minpd` (NaN → EXP_CLAMP) on every path.
    let a = if a < EXP_CLAMP { a } else { EXP_CLAMP };
    let u = exp_nonpositive(-a);
    let num = if t > 0.0 { u } else { 1.0 };
    num / (1.0 + u)
}

/// One simultaneous gradient step of the Dirac-GAN from (θ, ψ) with learning rates
/// (h_G, h_D): θ′ = θ − h_G ψ f′(θψ), ψ′ = ψ + h_D θ f′(θψ), both from the old point.
///
/// Uses [`dirac_fprime`] and explicit FMAs; it is the exact per-lane arithmetic of
/// [`dirac_simultaneous_sweep`].
#[inline(always)]
#[must_use]
pub fn dirac_simultaneous_step(theta: f64, psi: f64, lr_g: f64, lr_d: f64) -> (f64, f64) {
    let fp = dirac_fprime(theta * psi);
    let th = (-lr_g).mul_add(psi * fp, theta);
    let ps = lr_d.mul_add(theta * fp, psi);
    (th, ps)
}

/// The learning-rate axis of the sweep: n values log-spaced in [1e-3, 1],
/// lr_i = 10^(−3 + 3i/(n − 1)), computed like `np.logspace(-3, 0, n)` (exponent
/// start + i·step, last exponent exactly 0). For n = 1 it is `[1e-3]`.
#[must_use]
pub fn log_grid(n: usize) -> Vec<f64> {
    let (start, stop) = (-3.0_f64, 0.0_f64);
    if n == 1 {
        return vec![10f64.powf(start)];
    }
    let step = (stop - start) / (n - 1) as f64;
    (0..n)
        .map(|i| {
            let e = if i + 1 == n {
                stop
            } else {
                start + i as f64 * step
            };
            10f64.powf(e)
        })
        .collect()
}

/// Which compiled copy of the kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SimdPath {
    /// AVX-512F (+VL, DQ) with FMA: 8 f64 per vector.
    Avx512,
    /// AVX2 with FMA: 4 f64 per vector.
    Avx2,
    /// The x86-64 baseline (SSE2) or any other target; `mul_add` is a libm call here.
    Portable,
}

impl SimdPath {
    /// All paths, fastest first.
    pub const ALL: [SimdPath; 3] = [SimdPath::Avx512, SimdPath::Avx2, SimdPath::Portable];

    /// Whether this CPU can run the path (checked at run time).
    #[must_use]
    pub fn is_available(self) -> bool {
        match self {
            SimdPath::Portable => true,
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest path this CPU supports.
    #[must_use]
    pub fn detect() -> SimdPath {
        SimdPath::ALL
            .into_iter()
            .find(|p| p.is_available())
            .unwrap_or(SimdPath::Portable)
    }

    /// Lower-case name, as in JSON output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "avx512",
            SimdPath::Avx2 => "avx2",
            SimdPath::Portable => "portable",
        }
    }
}

/// State of one block of cells: θ, ψ and the two learning rates, lane by lane.
#[derive(Clone, Copy)]
struct Block {
    theta: [f64; BLOCK],
    psi: [f64; BLOCK],
    lr_g: [f64; BLOCK],
    lr_d: [f64; BLOCK],
}

/// The generic kernel: `steps` simultaneous steps of every lane of a block. Inlined into
/// each target-feature copy below, where the lane loop vectorises to that width.
#[inline(always)]
fn run_block_generic(b: &mut Block, steps: usize) {
    let (mut th, mut ps) = (b.theta, b.psi);
    let (hg, hd) = (&b.lr_g, &b.lr_d);
    for _ in 0..steps {
        for l in 0..BLOCK {
            let (t, p) = dirac_simultaneous_step(th[l], ps[l], hg[l], hd[l]);
            th[l] = t;
            ps[l] = p;
        }
    }
    b.theta = th;
    b.psi = ps;
}

/// The kernel compiled for AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
fn run_block_avx512(b: &mut Block, steps: usize) {
    run_block_generic(b, steps);
}

/// The kernel compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_block_avx2(b: &mut Block, steps: usize) {
    run_block_generic(b, steps);
}

/// The kernel for the build's baseline target.
fn run_block_portable(b: &mut Block, steps: usize) {
    run_block_generic(b, steps);
}

/// A safe function pointer to the kernel of `path`.
///
/// # Panics
/// If the CPU does not support `path` (callers check [`SimdPath::is_available`] first).
fn kernel_for(path: SimdPath) -> fn(&mut Block, usize) {
    assert!(path.is_available(), "SIMD path {path:?} not supported here");
    match path {
        #[cfg(target_arch = "x86_64")]
        SimdPath::Avx512 => |b, steps| {
            // SAFETY: `kernel_for` asserted above that the CPU has every feature that
            // `run_block_avx512` enables (avx512f, avx512vl, avx512dq, avx2, fma).
            unsafe { run_block_avx512(b, steps) }
        },
        #[cfg(target_arch = "x86_64")]
        SimdPath::Avx2 => |b, steps| {
            // SAFETY: `kernel_for` asserted above that the CPU has avx2 and fma.
            unsafe { run_block_avx2(b, steps) }
        },
        _ => run_block_portable,
    }
}

/// How the final state of a cell is classed (thresholds as in the NumPy/JAX peers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellClass {
    /// ‖(θ, ψ)‖ < [`CONVERGED_NORM`].
    Converged,
    /// Neither converged nor diverged. For the unregularised Dirac-GAN this includes cells
    /// that stalled where the sigmoid saturates (θψ ≫ 0), see peers/README.md.
    Cycling,
    /// ‖(θ, ψ)‖ > [`DIVERGED_NORM`] or non-finite.
    Diverged,
}

impl CellClass {
    /// Class of a final state (θ, ψ), with the norm computed as the peers do,
    /// √(θ² + ψ²).
    #[must_use]
    pub fn of(theta: f64, psi: f64) -> CellClass {
        let norm = (theta * theta + psi * psi).sqrt();
        if !norm.is_finite() || norm > DIVERGED_NORM {
            CellClass::Diverged
        } else if norm < CONVERGED_NORM {
            CellClass::Converged
        } else {
            CellClass::Cycling
        }
    }
}

/// Number of cells in each [`CellClass`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    /// Cells with ‖·‖ < 1e-3.
    pub converged: usize,
    /// Cells that are neither.
    pub cycling: usize,
    /// Cells with ‖·‖ > 1e3 or non-finite.
    pub diverged: usize,
}

impl ClassCounts {
    /// Counts the classes of paired final states.
    #[must_use]
    pub fn of(theta: &[f64], psi: &[f64]) -> ClassCounts {
        let mut c = ClassCounts::default();
        for (&t, &p) in theta.iter().zip(psi) {
            match CellClass::of(t, p) {
                CellClass::Converged => c.converged += 1,
                CellClass::Cycling => c.cycling += 1,
                CellClass::Diverged => c.diverged += 1,
            }
        }
        c
    }
}

/// Final states of a sweep, row-major with h_G along rows: cell (i, j) is
/// (`lr_g[i]`, `lr_d[j]`) at index `i * n_d + j`.
#[derive(Debug, Clone, Serialize)]
pub struct SweepResult {
    /// Number of generator learning rates (rows).
    pub n_g: usize,
    /// Number of discriminator learning rates (columns).
    pub n_d: usize,
    /// Steps taken by every cell.
    pub steps: usize,
    /// The kernel copy that ran.
    pub path: SimdPath,
    /// Threads in the pool that ran it.
    pub threads: usize,
    /// Final θ per cell.
    pub theta: Vec<f64>,
    /// Final ψ per cell.
    pub psi: Vec<f64>,
    /// Class counts of the final states (peer thresholds).
    pub classes: ClassCounts,
}

impl SweepResult {
    /// Final ‖(θ, ψ)‖ of cell (i, j), computed as the peers do.
    ///
    /// # Panics
    /// If (i, j) is outside the grid.
    #[must_use]
    pub fn norm(&self, i: usize, j: usize) -> f64 {
        assert!(i < self.n_g && j < self.n_d, "cell ({i}, {j}) outside grid");
        let k = i * self.n_d + j;
        (self.theta[k] * self.theta[k] + self.psi[k] * self.psi[k]).sqrt()
    }

    /// Class of cell (i, j).
    ///
    /// # Panics
    /// If (i, j) is outside the grid.
    #[must_use]
    pub fn class(&self, i: usize, j: usize) -> CellClass {
        assert!(i < self.n_g && j < self.n_d, "cell ({i}, {j}) outside grid");
        let k = i * self.n_d + j;
        CellClass::of(self.theta[k], self.psi[k])
    }
}

/// Runs the kernel into preallocated row-major `theta`/`psi` (length n_g·n_d) on `pool`.
fn sweep_into(
    kernel: fn(&mut Block, usize),
    pool: &rayon::ThreadPool,
    lr_g: &[f64],
    lr_d: &[f64],
    x0: (f64, f64),
    steps: usize,
    (theta, psi): (&mut [f64], &mut [f64]),
) {
    let n_d = lr_d.len();
    let cells = lr_g.len() * n_d;
    debug_assert!(theta.len() == cells && psi.len() == cells);
    pool.install(|| {
        theta
            .par_chunks_mut(BLOCK)
            .zip(psi.par_chunks_mut(BLOCK))
            .enumerate()
            .for_each(|(bi, (th, ps))| {
                // Padding lanes: learning rates 0 keep them at x0, inert and finite.
                let mut b = Block {
                    theta: [x0.0; BLOCK],
                    psi: [x0.1; BLOCK],
                    lr_g: [0.0; BLOCK],
                    lr_d: [0.0; BLOCK],
                };
                for l in 0..th.len() {
                    let cell = bi * BLOCK + l;
                    b.lr_g[l] = lr_g[cell / n_d];
                    b.lr_d[l] = lr_d[cell % n_d];
                }
                kernel(&mut b, steps);
                th.copy_from_slice(&b.theta[..th.len()]);
                ps.copy_from_slice(&b.psi[..ps.len()]);
            });
    });
}

/// Dirac-GAN simultaneous GD on the grid `lr_g × lr_d` from `x0` for `steps` steps, with
/// the fastest SIMD path of this CPU on a local pool of `threads` threads (0 → all cores).
///
/// Returns the final (θ, ψ) per cell (row-major, `lr_g` along rows) and the class counts.
/// The result is bit-identical for every thread count and every [`SimdPath`].
///
/// # Errors
/// If the thread pool cannot be built.
pub fn dirac_simultaneous_sweep(
    lr_g: &[f64],
    lr_d: &[f64],
    x0: (f64, f64),
    steps: usize,
    threads: usize,
) -> Result<SweepResult> {
    dirac_simultaneous_sweep_with(SimdPath::detect(), lr_g, lr_d, x0, steps, threads)
}

/// [`dirac_simultaneous_sweep`] with an explicit kernel copy (for tests and benchmarks).
///
/// # Errors
/// If `path` is not supported by this CPU or the thread pool cannot be built.
pub fn dirac_simultaneous_sweep_with(
    path: SimdPath,
    lr_g: &[f64],
    lr_d: &[f64],
    x0: (f64, f64),
    steps: usize,
    threads: usize,
) -> Result<SweepResult> {
    if !path.is_available() {
        return Err(Error::param(
            "simd path",
            format!("{} is not supported by this CPU", path.name()),
        ));
    }
    let pool = pool(threads)?;
    let cells = lr_g.len() * lr_d.len();
    let (mut theta, mut psi) = (vec![0.0; cells], vec![0.0; cells]);
    sweep_into(
        kernel_for(path),
        &pool,
        lr_g,
        lr_d,
        x0,
        steps,
        (&mut theta, &mut psi),
    );
    let classes = ClassCounts::of(&theta, &psi);
    Ok(SweepResult {
        n_g: lr_g.len(),
        n_d: lr_d.len(),
        steps,
        path,
        threads: pool.current_num_threads(),
        theta,
        psi,
        classes,
    })
}

/// Timing of the Dirac sweep, one JSON object (`name` = `"dirac-sweep"`).
#[derive(Debug, Clone, Serialize)]
pub struct BenchSweep {
    /// Always `"dirac-sweep"`.
    pub name: String,
    /// Grid side: `grid × grid` learning-rate pairs from [`log_grid`].
    pub grid: usize,
    /// Steps per cell.
    pub steps: usize,
    /// Threads actually in the pool (resolved when 0 was asked).
    pub threads: usize,
    /// SIMD copy that ran.
    pub path: SimdPath,
    /// Timed repeats of the kernel.
    pub repeats: usize,
    /// Kernel wall time in seconds, **median of [`BenchSweep::repeats`] runs** (the pool
    /// is built and the output buffers allocated outside the timing; classification too).
    pub seconds: f64,
    /// The fastest of the repeats, in seconds.
    pub seconds_min: f64,
    /// grid²·steps / `seconds`.
    pub cell_steps_per_s: f64,
    /// Wall nanoseconds per cell-step over the whole pool (1e9 / `cell_steps_per_s`);
    /// multiply by `threads` for core-nanoseconds.
    pub ns_per_cell_step: f64,
    /// Hand-counted flops per cell-step ([`FLOPS_PER_CELL_STEP`]).
    pub flops_per_cell_step: u32,
    /// `flops_per_cell_step · cell_steps_per_s` / 1e9.
    pub gflop_per_s: f64,
    /// Class counts of the final states (peer thresholds), for comparison with the peers.
    pub classes: ClassCounts,
    /// Final norm at (h_G, h_D) = (1e-3, 1e-3) (peer: 1.4156 at 10,000 steps).
    #[serde(rename = "norm_at_lr_1e-3_1e-3")]
    pub norm_lo: f64,
    /// Final norm at (h_G, h_D) = (1, 1) (peer: 7.5999 at 10,000 steps).
    #[serde(rename = "norm_at_lr_1_1")]
    pub norm_hi: f64,
}

/// Number of timed repeats in [`bench_sweep`]; the reported time is their median.
pub const BENCH_REPEATS: usize = 3;

/// Times [`dirac_simultaneous_sweep`]'s kernel on the `grid × grid` log grid
/// ([`log_grid`]) from (1, 1) for `steps` steps on `threads` threads (0 → all cores),
/// with the fastest SIMD path. Reports the median of [`BENCH_REPEATS`] runs.
///
/// # Errors
/// [`Error::Param`] if `grid` or `steps` is 0 or the thread pool cannot be built.
pub fn bench_sweep(grid: usize, steps: usize, threads: usize) -> Result<BenchSweep> {
    if grid == 0 || steps == 0 {
        return Err(Error::param("grid", "grid and steps must be at least 1"));
    }
    let path = SimdPath::detect();
    let kernel = kernel_for(path);
    let pool = pool(threads)?;
    let lrs = log_grid(grid);
    let cells = grid * grid;
    // Allocated and touched before timing.
    let (mut theta, mut psi) = (vec![0.0; cells], vec![0.0; cells]);
    let mut times = Vec::with_capacity(BENCH_REPEATS);
    for _ in 0..BENCH_REPEATS {
        let t0 = Instant::now();
        sweep_into(
            kernel,
            &pool,
            &lrs,
            &lrs,
            (1.0, 1.0),
            steps,
            (&mut theta, &mut psi),
        );
        times.push(t0.elapsed().as_secs_f64());
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let seconds = sorted[sorted.len() / 2];
    let cell_steps = (cells * steps) as f64;
    let cell_steps_per_s = cell_steps / seconds;
    let norm = |k: usize| (theta[k] * theta[k] + psi[k] * psi[k]).sqrt();
    Ok(BenchSweep {
        name: "dirac-sweep".to_string(),
        grid,
        steps,
        threads: pool.current_num_threads(),
        path,
        repeats: BENCH_REPEATS,
        seconds,
        seconds_min: sorted[0],
        cell_steps_per_s,
        ns_per_cell_step: 1e9 / cell_steps_per_s,
        flops_per_cell_step: FLOPS_PER_CELL_STEP,
        gflop_per_s: f64::from(FLOPS_PER_CELL_STEP) * cell_steps_per_s / 1e9,
        classes: ClassCounts::of(&theta, &psi),
        norm_lo: norm(0),
        norm_hi: norm(cells - 1),
    })
}

/// The numpy (in place and naive) and JAX peers on the same workload, each with our
/// rate divided by theirs.
///
/// # Errors
/// As [`crate::bench::run_peer`].
pub fn peer_rates(
    ours: &BenchSweep,
    peers: &crate::bench::Peers,
) -> Result<Vec<crate::bench::PeerRate>> {
    let (n, st) = (ours.grid.to_string(), ours.steps.to_string());
    let mut out = Vec::new();
    for (label, script, extra) in [
        (
            "numpy-inplace-f64",
            "numpy_dirac_sweep.py",
            vec!["--impl", "inplace"],
        ),
        (
            "numpy-naive-f64",
            "numpy_dirac_sweep.py",
            vec!["--impl", "naive"],
        ),
        ("jax-f64", "jax_dirac_sweep.py", vec![]),
    ] {
        let mut args = vec!["--n", n.as_str(), "--steps", st.as_str()];
        args.extend(extra);
        out.push(peers.rate(
            &peers.python,
            label,
            script,
            &args,
            "cell_steps_per_s",
            ours.cell_steps_per_s,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative tolerance of [`dirac_fprime`] against libm's 1/(1 + exp(t)).
    const FPRIME_REL_TOL: f64 = 1e-14;
    /// Relative agreement after 10,000 steps between the kernel and the libm-tanh scalar
    /// reference. The dynamics amplify last-bit differences in f′ at large learning rates:
    /// the two libm formulas (1 − tanh(t/2))/2 and 1/(1 + eᵗ) themselves end 1.5e-10 apart
    /// at (h_G, h_D) = (1, 0.5) after 10,000 steps (measured), and the kernel ends 1.6e-10 from
    /// the tanh one. After 1,000 steps all three agree to ≈ 1e-13 ([`SHORT_REL_TOL`]).
    const TRAJ_REL_TOL: f64 = 1e-9;
    /// Relative agreement with the libm reference after [`SHORT_STEPS`] steps, before the
    /// amplification sets in (measured worst 1.1e-13).
    const SHORT_REL_TOL: f64 = 1e-12;
    /// Steps of the short comparison.
    const SHORT_STEPS: usize = 1_000;
    /// The peers print 4 decimals: 1.4156 and 7.5999.
    const PEER_ABS_TOL: f64 = 5e-5;

    /// Plain scalar reference with the peers' formula f′ = (1 − tanh(t/2))/2 and no FMA.
    fn reference_libm(lr_g: f64, lr_d: f64, steps: usize) -> (f64, f64) {
        let (mut th, mut ps) = (1.0_f64, 1.0_f64);
        for _ in 0..steps {
            let fp = 0.5 * (1.0 - (0.5 * th * ps).tanh());
            (th, ps) = (th - lr_g * ps * fp, ps + lr_d * th * fp);
        }
        (th, ps)
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn bench_fprime_matches_libm_over_wide_range() {
        let mut worst: f64 = 0.0;
        let mut ts = Vec::new();
        // Linear near 0 (both signs), then geometric out to the clamp.
        for i in -20_000..=20_000 {
            ts.push(f64::from(i) * 1e-3);
        }
        let mut t = 1e-300;
        while t < EXP_CLAMP {
            ts.push(t);
            ts.push(-t);
            t *= 1.001;
        }
        ts.extend([
            EXP_CLAMP,
            -EXP_CLAMP,
            0.5 * std::f64::consts::LN_2,
            36.7,
            -36.7,
        ]);
        for &t in &ts {
            let want = 1.0 / (1.0 + t.exp());
            let got = dirac_fprime(t);
            let e = rel(got, want);
            worst = worst.max(e);
            assert!(
                e <= FPRIME_REL_TOL,
                "t = {t}: got {got:e}, want {want:e}, rel {e:e}"
            );
        }
        eprintln!("dirac_fprime worst relative error vs libm: {worst:e}");
    }

    /// Relative tolerance of the internal exp against libm's `exp` on [−708, 0].
    const EXP_REL_TOL: f64 = 4.0 * f64::EPSILON;

    #[test]
    fn bench_exp_matches_libm() {
        let mut worst: f64 = 0.0;
        let n = 200_000;
        for i in 0..=n {
            // Dense near 0 (the reduced argument's whole range) and across the domain.
            for x in [
                -f64::from(i) * 2e-5,
                -f64::from(i) * EXP_CLAMP / f64::from(n),
            ] {
                let e = rel(exp_nonpositive(x), x.exp());
                worst = worst.max(e);
                assert!(e <= EXP_REL_TOL, "x = {x}: rel {e:e}");
            }
        }
        eprintln!("exp worst relative error vs libm: {worst:e}");
        let mut fact = 1.0;
        for (k, &c) in EXP_COEFFS.iter().enumerate() {
            if k > 0 {
                fact *= k as f64;
            }
            let tol = if k < 4 { 4e-15 } else { 1e-2 };
            assert!((c * fact - 1.0).abs() <= tol, "c_{k} = {c} vs 1/{k}!");
        }
    }

    #[test]
    fn bench_fprime_extremes() {
        assert_eq!(dirac_fprime(0.0), 0.5);
        assert_eq!(dirac_fprime(-0.0), 0.5);
        // σ(−t) rounds to exactly 1 once e^t < 2^−54.
        for t in [-40.0, -708.0, -1e4, -1e300, f64::NEG_INFINITY] {
            assert_eq!(dirac_fprime(t), 1.0, "t = {t}");
        }
        // Beyond the clamp the result is f′(708) ≈ 3.3e-308, an absolute error below that.
        let at_clamp = 1.0 / (1.0 + EXP_CLAMP.exp());
        for t in [709.0, 745.0, 1e4, 1e300, f64::INFINITY] {
            let v = dirac_fprime(t);
            assert!(
                v > 0.0 && v <= at_clamp * (1.0 + FPRIME_REL_TOL),
                "t = {t}: {v:e}"
            );
        }
        // Moderately large t: tiny but relatively accurate (where (1 − tanh)/2 is 0).
        let want = 1.0 / (1.0 + 50f64.exp());
        assert!(rel(dirac_fprime(50.0), want) <= FPRIME_REL_TOL);
        // Symmetry f′(t) + f′(−t) = 1.
        for t in [1e-8, 0.3, 2.0, 17.0] {
            assert!((dirac_fprime(t) + dirac_fprime(-t) - 1.0).abs() <= 2.0 * f64::EPSILON);
        }
        assert!(dirac_fprime(f64::NAN).is_finite());
    }

    #[test]
    fn bench_log_grid_endpoints() {
        let g = log_grid(256);
        assert_eq!(g.len(), 256);
        assert!(rel(g[0], 1e-3) <= 1e-15);
        assert_eq!(g[255], 1.0);
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(log_grid(1), vec![10f64.powf(-3.0)]);
    }

    /// A small grid whose size is not a multiple of BLOCK, so padding is exercised.
    fn small_grid() -> (Vec<f64>, Vec<f64>) {
        (log_grid(7), log_grid(11))
    }

    #[test]
    fn bench_paths_and_threads_bit_identical() {
        let (g, d) = small_grid();
        let steps = 500;
        let base = dirac_simultaneous_sweep_with(SimdPath::Portable, &g, &d, (1.0, 1.0), steps, 1)
            .unwrap();
        // The scalar step, cell by cell, is the definition.
        for (i, &hg) in g.iter().enumerate() {
            for (j, &hd) in d.iter().enumerate() {
                let (mut th, mut ps) = (1.0, 1.0);
                for _ in 0..steps {
                    (th, ps) = dirac_simultaneous_step(th, ps, hg, hd);
                }
                let k = i * d.len() + j;
                assert_eq!(base.theta[k].to_bits(), th.to_bits(), "θ at ({i}, {j})");
                assert_eq!(base.psi[k].to_bits(), ps.to_bits(), "ψ at ({i}, {j})");
            }
        }
        let mut ran = Vec::new();
        for path in SimdPath::ALL.into_iter().filter(|p| p.is_available()) {
            for threads in [1, 2, 3] {
                let r = dirac_simultaneous_sweep_with(path, &g, &d, (1.0, 1.0), steps, threads)
                    .unwrap();
                for k in 0..base.theta.len() {
                    assert_eq!(
                        r.theta[k].to_bits(),
                        base.theta[k].to_bits(),
                        "{path:?} θ[{k}]"
                    );
                    assert_eq!(r.psi[k].to_bits(), base.psi[k].to_bits(), "{path:?} ψ[{k}]");
                }
            }
            ran.push(path);
        }
        eprintln!("bit-identical across paths {ran:?} and 1–3 threads");
        assert_eq!(
            dirac_simultaneous_sweep(&g, &d, (1.0, 1.0), steps, 0)
                .unwrap()
                .path,
            SimdPath::detect()
        );
    }

    #[test]
    fn bench_unsupported_path_is_an_error() {
        for path in SimdPath::ALL.into_iter().filter(|p| !p.is_available()) {
            assert!(dirac_simultaneous_sweep_with(path, &[0.1], &[0.1], (1.0, 1.0), 1, 1).is_err());
        }
    }

    #[test]
    fn bench_matches_libm_reference() {
        let lrs = [1e-3, 1e-2, 0.1, 0.5, 1.0];
        for (steps, tol) in [(SHORT_STEPS, SHORT_REL_TOL), (10_000, TRAJ_REL_TOL)] {
            let r = dirac_simultaneous_sweep(&lrs, &lrs, (1.0, 1.0), steps, 0).unwrap();
            let mut worst: f64 = 0.0;
            for (i, &hg) in lrs.iter().enumerate() {
                for (j, &hd) in lrs.iter().enumerate() {
                    let (th, ps) = reference_libm(hg, hd, steps);
                    let k = i * lrs.len() + j;
                    let want = (th * th + ps * ps).sqrt();
                    for (got, exp) in [(r.theta[k], th), (r.psi[k], ps), (r.norm(i, j), want)] {
                        let e = (got - exp).abs() / want;
                        worst = worst.max(e);
                        assert!(e <= tol, "{steps} steps, ({hg}, {hd}): {got} vs {exp}");
                    }
                }
            }
            eprintln!("{steps} steps: worst relative deviation from libm-tanh reference {worst:e}");
        }
    }

    #[test]
    fn bench_matches_peer_published_norms() {
        let lrs = [1e-3, 1.0];
        let r = dirac_simultaneous_sweep(&lrs, &lrs, (1.0, 1.0), 10_000, 0).unwrap();
        assert!(
            (r.norm(0, 0) - 1.4156).abs() <= PEER_ABS_TOL,
            "{}",
            r.norm(0, 0)
        );
        assert!(
            (r.norm(1, 1) - 7.5999).abs() <= PEER_ABS_TOL,
            "{}",
            r.norm(1, 1)
        );
        assert_eq!(r.classes.cycling, 4);
    }

    #[test]
    fn bench_classes() {
        assert_eq!(CellClass::of(1e-4, -1e-4), CellClass::Converged);
        assert_eq!(CellClass::of(1.0, 2.0), CellClass::Cycling);
        assert_eq!(CellClass::of(1e3, 1.0), CellClass::Diverged);
        assert_eq!(CellClass::of(f64::NAN, 0.0), CellClass::Diverged);
        assert_eq!(CellClass::of(f64::INFINITY, 0.0), CellClass::Diverged);
        let c = ClassCounts::of(&[0.0, 1.0, f64::NAN], &[0.0, 1.0, 1.0]);
        assert_eq!((c.converged, c.cycling, c.diverged), (1, 1, 1));
    }

    #[test]
    fn bench_sweep_reports_consistent_fields() {
        let b = bench_sweep(5, 20, 1).unwrap();
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["name"], "dirac-sweep");
        assert_eq!(
            (b.grid, b.steps, b.threads, b.repeats),
            (5, 20, 1, BENCH_REPEATS)
        );
        assert!(b.seconds > 0.0 && b.seconds_min <= b.seconds);
        let rel_err = (b.cell_steps_per_s * b.seconds / 500.0 - 1.0).abs();
        assert!(rel_err < 1e-12);
        assert!((b.ns_per_cell_step * b.cell_steps_per_s / 1e9 - 1.0).abs() < 1e-12);
        assert_eq!(b.classes.cycling, 25);
        assert!(v.get("norm_at_lr_1_1").is_some());
    }
}
