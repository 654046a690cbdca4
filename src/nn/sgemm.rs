//! An unpacked f32 gemm for the small products of these MLPs (AVX2 + FMA).
//!
//! C (column-major m × n, rows contiguous) ← α·A·B + β·C. A general gemm copies
//! ("packs") both operands into panels on every call; at our shapes (m = batch, k and
//! n ≤ a few hundred) the copies cost as much as a quarter of the product. Here A is
//! read in place when its columns are contiguous (the forward product H·W and the
//! backward dA·Wᵀ); otherwise (the weight gradient Hᵀ·dA) it is transposed once into a
//! thread-local buffer. B is only ever read one scalar at a time (broadcast), so any
//! strides serve.
//!
//! When B's rows are strided (B = Wᵀ in the backward product δ·Wᵀ), each of the six
//! columns a block reads would walk memory with the stride of W's columns, missing the
//! cache on every element once W outgrows L1 (400-wide layers); B is then copied
//! once to column-major (a transpose, k·n moves against m·k·n FMAs) when m ≥
//! [`COPY_B_MIN_ROWS`].
//!
//! The AVX2 micro-kernel holds a 16 × 6 block of C in twelve 8-lane registers; rows
//! left over go through an 8-row kernel and then the same kernel with masked lanes. On
//! CPUs with AVX-512F the same loops run on 16-lane registers with blocks of 64, 32 and
//! 16 rows × 6 columns (24 accumulators) and masked lanes for the rest (measured on a
//! Xeon with AVX-512 at the PacGAN shapes, 100–200 rows × 200–1000: about 1.5–2× the
//! AVX2 kernel). Every element is computed the same way on every path:
//! t = fma(a_{i,k−1}, b_{k−1,j}, … fma(a_{i0}, b_{0j}, 0)), sequentially in p, then
//! α·t (+ β·c as a separate multiply and add), so the bits do not depend on the
//! blocking, on m or on n, nor on the vector width, and a test compares both kernels
//! with that scalar recurrence exactly. (This also makes f32 products reproducible
//! across CPUs that have AVX2 and FMA, unlike a library that picks its kernel at run
//! time.)

use std::cell::RefCell;

use super::View;
use crate::simd::SimdPath;

/// Whether this CPU can run the kernel: AVX2 and FMA ([`SimdPath::best`], detected once).
pub fn available() -> bool {
    cfg!(target_arch = "x86_64") && SimdPath::best() != SimdPath::Portable
}

/// Whether this CPU runs the AVX-512 kernel ([`SimdPath::best`]; the kernel needs
/// AVX-512F only, the path also VL and DQ, which every AVX-512 CPU but Xeon Phi has).
fn wide() -> bool {
    cfg!(target_arch = "x86_64") && SimdPath::best() == SimdPath::Avx512
}

/// Rows of C from which a B with strided rows is copied to column-major first (below,
/// the copy costs more than the cache misses it saves).
pub const COPY_B_MIN_ROWS: usize = 32;

thread_local! {
    /// The transposed copy of A when A's columns are strided.
    static A_COPY: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The column-major copy of B when B's rows are strided.
    static B_COPY: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// C ← α·A·B + β·C through the kernel; returns false (and does nothing) when the CPU
/// lacks AVX2 or FMA. The caller has checked the shapes against the slices.
pub fn gemm(
    alpha: f32,
    a: View<'_, f32>,
    b: View<'_, f32>,
    beta: f32,
    c: &mut [f32],
    m: usize,
    n: usize,
) -> bool {
    if !available() {
        return false;
    }
    if b.rs != 1 && m >= COPY_B_MIN_ROWS && b.rows > 1 {
        let (k, bn) = (b.rows, b.cols);
        B_COPY.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            buf.resize(k * bn, 0.0);
            if b.cs == 1 {
                // SAFETY: AVX2 is present; `View::fits` bounds the rows p·rs..p·rs + n.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    transpose_rows(b.data, b.rs, k, bn, &mut buf);
                }
            } else {
                for j in 0..bn {
                    for (p, v) in buf[j * k..(j + 1) * k].iter_mut().enumerate() {
                        *v = b.data[p * b.rs + j * b.cs];
                    }
                }
            }
            with_b(alpha, a, View::col_major(&buf, k, bn), beta, c, m, n);
        });
        return true;
    }
    with_b(alpha, a, b, beta, c, m, n);
    true
}

/// [`gemm`] once B is in its final form.
fn with_b(
    alpha: f32,
    a: View<'_, f32>,
    b: View<'_, f32>,
    beta: f32,
    c: &mut [f32],
    m: usize,
    n: usize,
) {
    let k = a.cols;
    if a.rs == 1 {
        // SAFETY: AVX2 and FMA are present; the caller's shape check (`View::fits`,
        // c.len() ≥ m·n) bounds every index the kernel reaches.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            dispatch(alpha, a.data, a.cs, b, beta, c, m, n, k);
        }
    } else {
        A_COPY.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            buf.resize(m * k, 0.0);
            if a.cs == 1 {
                // Rows of A are contiguous (A = Hᵀ of a column-major H).
                // SAFETY: AVX2 is present; `View::fits` bounds the rows i·rs..i·rs + k.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    transpose_rows(a.data, a.rs, m, k, &mut buf);
                }
            } else {
                for p in 0..k {
                    let col = &mut buf[p * m..(p + 1) * m];
                    for (i, v) in col.iter_mut().enumerate() {
                        *v = a.data[i * a.rs + p * a.cs];
                    }
                }
            }
            // SAFETY: as above; the copy is column-major m × k.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                dispatch(alpha, &buf, m, b, beta, c, m, n, k);
            }
        });
    }
}

/// The AVX-512 kernel where the CPU has it, else the AVX2 one (same bits).
///
/// # Safety
/// As [`kernel`].
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn dispatch(
    alpha: f32,
    a: &[f32],
    a_cs: usize,
    b: View<'_, f32>,
    beta: f32,
    c: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
) {
    // SAFETY: forwarded; AVX-512F is detected before the wide kernel runs.
    unsafe {
        if wide() {
            wide::kernel(alpha, a, a_cs, b, beta, c, m, n, k);
        } else {
            kernel(alpha, a, a_cs, b, beta, c, m, n, k);
        }
    }
}

/// buf (column-major m × k) ← A, where row i of A is `src[i·rs .. i·rs + k]`: 8 × 8
/// tiles transposed in registers, the edges element by element.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_rows(src: &[f32], rs: usize, m: usize, k: usize, buf: &mut [f32]) {
    use std::arch::x86_64::{
        __m256, _mm256_loadu_ps, _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
        _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };
    assert!(m == 0 || k == 0 || (m - 1) * rs + k <= src.len());
    assert!(buf.len() >= m * k);
    let (m8, k8) = (m / 8 * 8, k / 8 * 8);
    let (sp, bp) = (src.as_ptr(), buf.as_mut_ptr());
    for i in (0..m8).step_by(8) {
        for p in (0..k8).step_by(8) {
            // SAFETY: rows i..i+8 < m and columns p..p+8 ≤ k are inside src (assert);
            // the stores hit buf[(p+q)·m + i .. +8] with p + q < k, i + 8 ≤ m.
            unsafe {
                let r: [__m256; 8] =
                    std::array::from_fn(|q| _mm256_loadu_ps(sp.add((i + q) * rs + p)));
                let t0 = _mm256_unpacklo_ps(r[0], r[1]);
                let t1 = _mm256_unpackhi_ps(r[0], r[1]);
                let t2 = _mm256_unpacklo_ps(r[2], r[3]);
                let t3 = _mm256_unpackhi_ps(r[2], r[3]);
                let t4 = _mm256_unpacklo_ps(r[4], r[5]);
                let t5 = _mm256_unpackhi_ps(r[4], r[5]);
                let t6 = _mm256_unpacklo_ps(r[6], r[7]);
                let t7 = _mm256_unpackhi_ps(r[6], r[7]);
                let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                let cols = [
                    _mm256_permute2f128_ps::<0x20>(u0, u4),
                    _mm256_permute2f128_ps::<0x20>(u1, u5),
                    _mm256_permute2f128_ps::<0x20>(u2, u6),
                    _mm256_permute2f128_ps::<0x20>(u3, u7),
                    _mm256_permute2f128_ps::<0x31>(u0, u4),
                    _mm256_permute2f128_ps::<0x31>(u1, u5),
                    _mm256_permute2f128_ps::<0x31>(u2, u6),
                    _mm256_permute2f128_ps::<0x31>(u3, u7),
                ];
                for (q, col) in cols.iter().enumerate() {
                    _mm256_storeu_ps(bp.add((p + q) * m + i), *col);
                }
            }
        }
    }
    for i in 0..m {
        let row = &src[i * rs..i * rs + k];
        let from = if i < m8 { k8 } else { 0 };
        for (p, v) in row.iter().enumerate().skip(from) {
            buf[p * m + i] = *v;
        }
    }
}

/// The read-only operands of one product: C (m × n) ← α·A·B + β·C with A column-major
/// m × k (column stride `a_cs`).
#[derive(Clone, Copy)]
struct Product<'a> {
    alpha: f32,
    beta: f32,
    a: &'a [f32],
    a_cs: usize,
    b: View<'a, f32>,
    m: usize,
    n: usize,
    k: usize,
}

/// The blocked loops: row blocks of 16, then 8, then the last m mod 8 rows with masked
/// lanes, outside; panels of 6 columns (then the rest) inside, so a block of A stays in
/// L1 across the panels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel(
    alpha: f32,
    a: &[f32],
    a_cs: usize,
    b: View<'_, f32>,
    beta: f32,
    c: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
) {
    use std::arch::x86_64::{_mm256_cmpgt_epi32, _mm256_set1_epi32, _mm256_setr_epi32};
    assert!(
        k == 0 || m == 0 || (m - 1) + (k - 1) * a_cs < a.len(),
        "sgemm: A does not fit"
    );
    assert!(c.len() >= m * n, "sgemm: C does not fit");
    let op = Product {
        alpha,
        beta,
        a,
        a_cs,
        b,
        m,
        n,
        k,
    };
    let all = _mm256_set1_epi32(-1);
    let mut i = 0;
    // SAFETY (all three calls): AVX2/FMA are present, rows i..i + 8·MR ≤ m (or the
    // mask keeps the lanes of rows ≥ m out), and A, B and C fit (asserts above).
    unsafe {
        while i + 16 <= m {
            panels::<2, false>(&op, c, i, all);
            i += 16;
        }
        if i + 8 <= m {
            panels::<1, false>(&op, c, i, all);
            i += 8;
        }
        if i < m {
            // Lane r is active iff r < m − i (the sign bit selects a lane).
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((m - i) as i32), lanes);
            panels::<1, true>(&op, c, i, mask);
        }
    }
}

/// All column panels of the block of `MR`·8 rows starting at row `i` (with `MASKED`,
/// MR = 1 and only the lanes set in `mask` are read and written).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn panels<const MR: usize, const MASKED: bool>(
    op: &Product<'_>,
    c: &mut [f32],
    i: usize,
    mask: std::arch::x86_64::__m256i,
) {
    let n = op.n;
    let mut j = 0;
    // SAFETY (every call): as the caller's; the column ranges are inside 0..n.
    unsafe {
        while j + 6 <= n {
            block::<MR, 6, MASKED>(op, c, i, j, mask);
            j += 6;
        }
        match n - j {
            5 => block::<MR, 5, MASKED>(op, c, i, j, mask),
            4 => block::<MR, 4, MASKED>(op, c, i, j, mask),
            3 => block::<MR, 3, MASKED>(op, c, i, j, mask),
            2 => block::<MR, 2, MASKED>(op, c, i, j, mask),
            1 => block::<MR, 1, MASKED>(op, c, i, j, mask),
            _ => {}
        }
    }
}

/// One MR·8 × NR block of C at (i, j): MR·NR accumulators, one FMA per element and p,
/// then α·t (+ β·c).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block<const MR: usize, const NR: usize, const MASKED: bool>(
    op: &Product<'_>,
    c: &mut [f32],
    i: usize,
    j: usize,
    mask: std::arch::x86_64::__m256i,
) {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_maskload_ps,
        _mm256_maskstore_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };
    // SAFETY (load, store): the caller guarantees the 8 lanes at `ptr` (or the masked
    // ones) are inside the slice.
    let load = |ptr: *const f32| -> __m256 {
        unsafe {
            if MASKED {
                _mm256_maskload_ps(ptr, mask)
            } else {
                _mm256_loadu_ps(ptr)
            }
        }
    };
    let mut acc = [[_mm256_setzero_ps(); NR]; MR];
    let (ap, bp, b) = (op.a.as_ptr(), op.b.data.as_ptr(), op.b);
    for p in 0..op.k {
        // SAFETY: rows i..i + 8·MR (or the masked lanes) of column p < k are inside A;
        // j + NR ≤ n, so the B reads are inside B.
        unsafe {
            let col = ap.add(i + p * op.a_cs);
            let av: [__m256; MR] = std::array::from_fn(|r| load(col.add(8 * r)));
            for jj in 0..NR {
                let bv = _mm256_set1_ps(*bp.add(p * b.rs + (j + jj) * b.cs));
                for (row, a) in acc.iter_mut().zip(&av) {
                    row[jj] = _mm256_fmadd_ps(*a, bv, row[jj]);
                }
            }
        }
    }
    let (va, vb) = (_mm256_set1_ps(op.alpha), _mm256_set1_ps(op.beta));
    let cp = c.as_mut_ptr();
    for jj in 0..NR {
        for (r, row) in acc.iter().enumerate() {
            // SAFETY: rows i + 8r .. i + 8r + 8 (or the masked lanes) of column
            // j + jj < n of the m × n matrix C.
            unsafe {
                let dst = cp.add(i + 8 * r + (j + jj) * op.m);
                let scaled = _mm256_mul_ps(va, row[jj]);
                let out = if op.beta == 0.0 {
                    scaled
                } else {
                    _mm256_add_ps(scaled, _mm256_mul_ps(vb, load(dst)))
                };
                if MASKED {
                    _mm256_maskstore_ps(dst, mask, out);
                } else {
                    _mm256_storeu_ps(dst, out);
                }
            }
        }
    }
}

/// The AVX-512 kernel: the loops of [`kernel`] on 16-lane registers.
#[cfg(target_arch = "x86_64")]
mod wide {
    use super::{Product, View};
    use std::arch::x86_64::{
        __m512, __mmask16, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps,
        _mm512_maskz_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
    };

    /// Row blocks of 64, 32 and 16, then the last m mod 16 rows with masked lanes;
    /// panels of 6 columns (then the rest) inside.
    ///
    /// # Safety
    /// The CPU has AVX-512F; A (m × k, column stride `a_cs`), B and C (m × n) fit
    /// their slices (asserted).
    #[target_feature(enable = "avx512f,avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn kernel(
        alpha: f32,
        a: &[f32],
        a_cs: usize,
        b: View<'_, f32>,
        beta: f32,
        c: &mut [f32],
        m: usize,
        n: usize,
        k: usize,
    ) {
        assert!(
            k == 0 || m == 0 || (m - 1) + (k - 1) * a_cs < a.len(),
            "sgemm: A does not fit"
        );
        assert!(c.len() >= m * n, "sgemm: C does not fit");
        let op = Product {
            alpha,
            beta,
            a,
            a_cs,
            b,
            m,
            n,
            k,
        };
        let mut i = 0;
        // SAFETY (all calls): AVX-512F is present, rows i..i + 16·MR ≤ m (or the mask
        // keeps the lanes of rows ≥ m out), and A, B and C fit (asserts above).
        unsafe {
            while i + 64 <= m {
                panels::<4, false>(&op, c, i, 0xFFFF);
                i += 64;
            }
            if i + 32 <= m {
                panels::<2, false>(&op, c, i, 0xFFFF);
                i += 32;
            }
            if i + 16 <= m {
                panels::<1, false>(&op, c, i, 0xFFFF);
                i += 16;
            }
            if i < m {
                let mask: __mmask16 = ((1u32 << (m - i)) - 1) as __mmask16;
                panels::<1, true>(&op, c, i, mask);
            }
        }
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn panels<const MR: usize, const MASKED: bool>(
        op: &Product<'_>,
        c: &mut [f32],
        i: usize,
        mask: __mmask16,
    ) {
        let n = op.n;
        let mut j = 0;
        // SAFETY (every call): as the caller's; the column ranges are inside 0..n.
        unsafe {
            while j + 6 <= n {
                block::<MR, 6, MASKED>(op, c, i, j, mask);
                j += 6;
            }
            match n - j {
                5 => block::<MR, 5, MASKED>(op, c, i, j, mask),
                4 => block::<MR, 4, MASKED>(op, c, i, j, mask),
                3 => block::<MR, 3, MASKED>(op, c, i, j, mask),
                2 => block::<MR, 2, MASKED>(op, c, i, j, mask),
                1 => block::<MR, 1, MASKED>(op, c, i, j, mask),
                _ => {}
            }
        }
    }

    /// One MR·16 × NR block of C at (i, j), the recurrence of the AVX2 block.
    #[target_feature(enable = "avx512f,avx2,fma")]
    #[inline]
    unsafe fn block<const MR: usize, const NR: usize, const MASKED: bool>(
        op: &Product<'_>,
        c: &mut [f32],
        i: usize,
        j: usize,
        mask: __mmask16,
    ) {
        // SAFETY (load): the caller guarantees the 16 lanes at `ptr` (or the masked
        // ones) are inside the slice.
        let load = |ptr: *const f32| -> __m512 {
            unsafe {
                if MASKED {
                    _mm512_maskz_loadu_ps(mask, ptr)
                } else {
                    _mm512_loadu_ps(ptr)
                }
            }
        };
        let mut acc = [[_mm512_setzero_ps(); NR]; MR];
        let (ap, bp, b) = (op.a.as_ptr(), op.b.data.as_ptr(), op.b);
        for p in 0..op.k {
            // SAFETY: rows i..i + 16·MR (or the masked lanes) of column p < k are
            // inside A; j + NR ≤ n, so the B reads are inside B.
            unsafe {
                let col = ap.add(i + p * op.a_cs);
                let av: [__m512; MR] = std::array::from_fn(|r| load(col.add(16 * r)));
                for jj in 0..NR {
                    let bv = _mm512_set1_ps(*bp.add(p * b.rs + (j + jj) * b.cs));
                    for (row, a) in acc.iter_mut().zip(&av) {
                        row[jj] = _mm512_fmadd_ps(*a, bv, row[jj]);
                    }
                }
            }
        }
        let (va, vb) = (_mm512_set1_ps(op.alpha), _mm512_set1_ps(op.beta));
        let cp = c.as_mut_ptr();
        for jj in 0..NR {
            for (r, row) in acc.iter().enumerate() {
                // SAFETY: rows i + 16r .. i + 16r + 16 (or the masked lanes) of column
                // j + jj < n of the m × n matrix C.
                unsafe {
                    let dst = cp.add(i + 16 * r + (j + jj) * op.m);
                    let scaled = _mm512_mul_ps(va, row[jj]);
                    let out = if op.beta == 0.0 {
                        scaled
                    } else {
                        _mm512_add_ps(scaled, _mm512_mul_ps(vb, load(dst)))
                    };
                    if MASKED {
                        _mm512_mask_storeu_ps(dst, mask, out);
                    } else {
                        _mm512_storeu_ps(dst, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// The defining recurrence, element by element.
    fn reference(
        alpha: f32,
        a: View<'_, f32>,
        b: View<'_, f32>,
        beta: f32,
        c: &mut [f32],
        m: usize,
        n: usize,
    ) {
        for j in 0..n {
            for i in 0..m {
                let mut t = 0.0f32;
                for p in 0..a.cols {
                    t = a.data[i * a.rs + p * a.cs].mul_add(b.data[p * b.rs + j * b.cs], t);
                }
                let o = &mut c[i + j * m];
                *o = if beta == 0.0 {
                    alpha * t
                } else {
                    alpha * t + beta * *o
                };
            }
        }
    }

    /// Both kernels, called directly (the dispatch picks one per CPU), against the
    /// recurrence, bit for bit, on row counts that reach every block size and mask.
    #[test]
    fn both_kernels_equal_the_fma_recurrence_bit_for_bit() {
        if !available() {
            return;
        }
        for &(m, k, n) in &[
            (130, 11, 13),
            (100, 40, 7),
            (47, 5, 6),
            (16, 3, 1),
            (5, 2, 9),
        ] {
            let a = DMatrix::<f32>::from_fn(m, k, |i, j| ((i * 3 + j * 5) as f32 * 0.29).sin());
            let b = DMatrix::<f32>::from_fn(k, n, |i, j| ((i * 7 + j) as f32 * 0.13).cos());
            let init: Vec<f32> = (0..m * n).map(|i| (i as f32 * 0.07).cos()).collect();
            let mut want = init.clone();
            reference(0.75, View::of(&a), View::of(&b), 0.5, &mut want, m, n);
            let mut narrow = init.clone();
            // SAFETY: AVX2 and FMA are available (checked); the shapes fit.
            unsafe {
                kernel(
                    0.75,
                    a.as_slice(),
                    m,
                    View::of(&b),
                    0.5,
                    &mut narrow,
                    m,
                    n,
                    k,
                )
            };
            assert!(
                narrow
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| g.to_bits() == w.to_bits())
            );
            if wide() {
                let mut w512 = init;
                // SAFETY: AVX-512F is available (checked); the shapes fit.
                unsafe {
                    wide::kernel(0.75, a.as_slice(), m, View::of(&b), 0.5, &mut w512, m, n, k)
                };
                assert!(
                    w512.iter()
                        .zip(&want)
                        .all(|(g, w)| g.to_bits() == w.to_bits())
                );
            }
        }
    }

    #[test]
    fn tile_transpose_equals_the_plain_transpose() {
        if !available() {
            return;
        }
        for &(m, k) in &[(8, 8), (50, 100), (17, 9), (3, 30), (24, 5)] {
            let rs = k + 3;
            let src: Vec<f32> = (0..m * rs).map(|v| v as f32).collect();
            let mut buf = vec![0.0; m * k];
            // SAFETY: AVX2 is available; rows fit by construction.
            unsafe { transpose_rows(&src, rs, m, k, &mut buf) };
            for i in 0..m {
                for p in 0..k {
                    assert_eq!(buf[p * m + i], src[i * rs + p], "{m}x{k} ({i}, {p})");
                }
            }
        }
    }

    #[test]
    fn kernel_equals_the_fma_recurrence_bit_for_bit() {
        if !available() {
            return;
        }
        for &(m, k, n) in &[
            (50, 50, 50),
            (100, 50, 1),
            (17, 3, 13),
            (8, 9, 6),
            (7, 5, 5),
            (33, 64, 7),
            (1, 1, 1),
            (100, 40, 13),
            (130, 7, 5),
            (70, 9, 6),
        ] {
            let a = DMatrix::<f32>::from_fn(m, k, |i, j| ((i * 7 + j * 3) as f32 * 0.37).sin());
            let b = DMatrix::<f32>::from_fn(k, n, |i, j| ((i * 5 + j) as f32 * 0.21).cos());
            let at = a.transpose();
            let bt = b.transpose();
            for (va, vb) in [
                (View::of(&a), View::of(&b)),
                (View::of(&at).t(), View::of(&b)),
                (View::of(&a), View::of(&bt).t()),
                (View::of(&at).t(), View::of(&bt).t()),
            ] {
                for (alpha, beta) in [(1.0, 0.0), (-0.5, 1.0), (2.0, 0.25)] {
                    let init: Vec<f32> = (0..m * n).map(|i| (i as f32 * 0.11).sin()).collect();
                    let (mut got, mut want) = (init.clone(), init);
                    assert!(gemm(alpha, va, vb, beta, &mut got, m, n));
                    reference(alpha, va, vb, beta, &mut want, m, n);
                    assert!(
                        got.iter()
                            .zip(&want)
                            .all(|(g, w)| g.to_bits() == w.to_bits()),
                        "{m}x{k}x{n} α={alpha} β={beta}"
                    );
                }
            }
        }
    }
}
