//! Maxout units (Goodfellow, Warde-Farley, Mirza, Courville & Bengio 2013, "Maxout
//! networks", ICML, §3): unit j of a layer with k pieces outputs
//! h_j = max_{p < k} A_{j·k+p}, where A = H W + 1bᵀ has k·width columns (column j·k + p
//! is piece p of unit j, PyTorch's `view(B, width, k).max(2)` order).
//!
//! For a fixed argmax p*(i, j) the unit is linear, so every pass is the dense layer's
//! with the element-wise factor σ′ replaced by a selection S (the maxout network is
//! piecewise linear, like a ReLU network):
//!
//! * forward: h_ij = A_{i, j·k+p*} (ties go to the lowest piece);
//! * backward: ∂L/∂A = Sᵀ(∂L/∂h): the adjoint of each unit is put on its argmax column,
//!   the other k − 1 columns get 0 ([`scatter`]);
//! * tangent and double backprop: R{h} = S(R{A}) and Ḡ_{l+1} = S(δ̄_l), a gather
//!   ([`gather`]); there is no curvature term (S is constant where it is differentiable).
//!
//! Dropout on a maxout layer multiplies h by the mask, and the selection by it too.

//!
//! # Sparse products
//! δ = Sᵀ(·) has one non-zero column of k per unit and sample, so the two backward
//! products ∂W = Hᵀδ and H̄ = δWᵀ, 80 % zero terms at k = 5, are computed over the argmax
//! columns only ([`weight_grad`], [`input_grad`]): 1/k of the multiply-adds (at
//! PacGAN's discriminator, 200 → 3 × maxout(200, 5), this removes about 40 % of a
//! training step's matrix FLOPs). They are used exactly where the dense products would
//! run the f32 kernel of [`super::sgemm`] ([`sparse_products`]) and run the same
//! recurrence, t = fma(a, b, t) in order of the summed index from t = 0, then α·t + β·c
//! with α = 1 and β ∈ {0, 1}, minus the terms with b = 0. Dropping t = fma(a, 0, t) = t
//! changes nothing for finite a and t ≠ −0 (tested bit for bit against the dense
//! kernel); the two exceptions are a −0 that the dense recurrence would turn into +0, and
//! a non-finite activation, whose NaN the dense product spreads to every piece of the
//! unit (training stops at a non-finite state either way).

use super::{Float, SMALL_GEMM_DIM};

/// Most pieces per unit (the argmax is stored in a byte).
pub const MAX_PIECES: usize = 255;

/// In place on the affine output `a` (batch × k·width, holding H·W): adds the bias, then
/// writes each unit's maximum to `out` (batch × width) and its argmax to `arg`.
#[inline(always)]
pub(super) fn forward<T: super::Float>(
    a: &mut [T],
    bias: &[T],
    out: &mut [T],
    arg: &mut [u8],
    batch: usize,
    pieces: usize,
) {
    if batch == 0 {
        return;
    }
    for (col, &b) in a.chunks_exact_mut(batch).zip(bias) {
        for v in col.iter_mut() {
            *v += b;
        }
    }
    for ((unit, o), g) in a
        .chunks_exact(batch * pieces)
        .zip(out.chunks_exact_mut(batch))
        .zip(arg.chunks_exact_mut(batch))
    {
        o.copy_from_slice(&unit[..batch]);
        g.fill(0);
        for (p, piece) in unit.chunks_exact(batch).enumerate().skip(1) {
            let p = p as u8;
            for ((ov, gv), &v) in o.iter_mut().zip(g.iter_mut()).zip(piece) {
                if v > *ov {
                    *ov = v;
                    *gv = p;
                }
            }
        }
    }
}

/// dst (batch × k·width) ← Sᵀ(src ⊙ scale): src (batch × width) scaled element-wise by
/// `scale` (the dropout mask or ones) on each unit's argmax column, 0 elsewhere.
#[inline(always)]
pub(super) fn scatter<T: super::Float>(
    src: &[T],
    scale: &[T],
    arg: &[u8],
    dst: &mut [T],
    batch: usize,
    pieces: usize,
) {
    if batch == 0 {
        return;
    }
    for (((unit, s), m), g) in dst
        .chunks_exact_mut(batch * pieces)
        .zip(src.chunks_exact(batch))
        .zip(scale.chunks_exact(batch))
        .zip(arg.chunks_exact(batch))
    {
        for (p, piece) in unit.chunks_exact_mut(batch).enumerate() {
            let p = p as u8;
            for (((d, &sv), &mv), &gv) in piece.iter_mut().zip(s).zip(m).zip(g) {
                *d = if gv == p { sv * mv } else { T::zero() };
            }
        }
    }
}

/// dst (batch × width) ← S(src) ⊙ scale: each unit's argmax column of src (batch ×
/// k·width), scaled element-wise.
#[inline(always)]
pub(super) fn gather<T: super::Float>(
    src: &[T],
    scale: &[T],
    arg: &[u8],
    dst: &mut [T],
    batch: usize,
    pieces: usize,
) {
    if batch == 0 {
        return;
    }
    for (((d, unit), m), g) in dst
        .chunks_exact_mut(batch)
        .zip(src.chunks_exact(batch * pieces))
        .zip(scale.chunks_exact(batch))
        .zip(arg.chunks_exact(batch))
    {
        for (i, ((dv, &mv), &gv)) in d.iter_mut().zip(m).zip(g).enumerate() {
            *dv = unit[gv as usize * batch + i] * mv;
        }
    }
}

/// Whether a maxout layer's backward products go through [`weight_grad`] and
/// [`input_grad`]: when the dense ones would run the f32 kernel (module docs), i.e.
/// the kernel exists for T on this CPU and no dimension takes the small-product path.
#[inline(always)]
#[must_use]
pub(super) fn sparse_products<T: Float>(batch: usize, fan_in: usize, affine: usize) -> bool {
    T::has_kernel() && batch.min(fan_in).min(affine) > SMALL_GEMM_DIM
}

/// The sizes of a maxout layer's sparse products.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Rows of H and δ.
    pub batch: usize,
    /// Columns of H (rows of W).
    pub fan_in: usize,
    /// Pieces k per unit.
    pub pieces: usize,
}

/// g (fan_in × k·width, column-major) += Hᵀδ over each unit's argmax columns: column
/// j·k + p of Hᵀδ is Σ over the samples b with argmax p of H[b, ·]·δ[b, j·k + p], summed
/// in order of b by fused multiply-adds from 0, then added to g (the dense kernel's
/// t + c with α = β = 1). H is batch × fan_in and δ batch × k·width, column-major.
#[inline(always)]
pub(super) fn weight_grad<T: Float>(h: &[T], delta: &[T], arg: &[u8], g: &mut [T], sh: Shape) {
    let Shape {
        batch,
        fan_in,
        pieces,
    } = sh;
    if batch == 0 || fan_in == 0 {
        return;
    }
    // Hᵀ, so that each sample's row is contiguous.
    let mut ht = vec![T::zero(); batch * fan_in];
    for (i, col) in h.chunks_exact(batch).take(fan_in).enumerate() {
        for (b, &v) in col.iter().enumerate() {
            ht[b * fan_in + i] = v;
        }
    }
    let mut t = vec![T::zero(); pieces * fan_in];
    for ((args, gj), dj) in arg
        .chunks_exact(batch)
        .zip(g.chunks_exact_mut(pieces * fan_in))
        .zip(delta.chunks_exact(pieces * batch))
    {
        t.fill(T::zero());
        for ((b, &p), row) in args.iter().enumerate().zip(ht.chunks_exact(fan_in)) {
            let p = usize::from(p);
            let d = dj[p * batch + b];
            for (tv, &hv) in t[p * fan_in..(p + 1) * fan_in].iter_mut().zip(row) {
                *tv = hv.mul_add(d, *tv);
            }
        }
        for (gv, &tv) in gj.iter_mut().zip(&t) {
            *gv = tv + *gv;
        }
    }
}

/// dh (batch × fan_in, column-major) ← δWᵀ over each unit's argmax columns: row b is
/// Σ over the units j, in order, of δ[b, c]·W[·, c] with c = j·k + argmax, by fused
/// multiply-adds from 0 (the dense kernel's α·t with α = 1, β = 0). W is fan_in × k·width,
/// column-major.
#[inline(always)]
pub(super) fn input_grad<T: Float>(delta: &[T], arg: &[u8], w: &[T], dh: &mut [T], sh: Shape) {
    let Shape {
        batch,
        fan_in,
        pieces,
    } = sh;
    if batch == 0 || fan_in == 0 {
        return;
    }
    let width = arg.len() / batch;
    let mut t = vec![T::zero(); fan_in];
    for b in 0..batch {
        t.fill(T::zero());
        for j in 0..width {
            let c = j * pieces + usize::from(arg[j * batch + b]);
            let d = delta[c * batch + b];
            for (tv, &wv) in t.iter_mut().zip(&w[c * fan_in..(c + 1) * fan_in]) {
                *tv = d.mul_add(wv, *tv);
            }
        }
        for (i, &tv) in t.iter().enumerate() {
            dh[i * batch + b] = tv;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{View, gemm};
    use super::*;

    /// The sparse products equal the dense f32 kernel bit for bit (module docs), on
    /// shapes past the small-product path, with zero adjoints and a unit whose
    /// argmax never moves.
    #[test]
    fn sparse_products_equal_the_dense_kernel_bit_for_bit() {
        if !<f32 as Float>::has_kernel() {
            return;
        }
        for &(batch, fan_in, width, pieces) in &[(37, 9, 7, 5), (100, 20, 11, 3), (8, 5, 5, 2)] {
            let a = width * pieces;
            let h: Vec<f32> = (0..batch * fan_in)
                .map(|i| ((i as f32) * 0.37).sin())
                .collect();
            let w: Vec<f32> = (0..fan_in * a).map(|i| ((i as f32) * 0.21).cos()).collect();
            let arg: Vec<u8> = (0..batch * width)
                .map(|i| {
                    if i < batch {
                        1
                    } else {
                        ((i * 7 + i / 3) % pieces) as u8
                    }
                })
                .collect();
            let dh: Vec<f32> = (0..batch * width)
                .map(|i| {
                    if i % 5 == 0 {
                        0.0
                    } else {
                        ((i as f32) * 0.13).sin()
                    }
                })
                .collect();
            let ones = vec![1.0f32; batch * width];
            let mut delta = vec![0.0f32; batch * a];
            scatter(&dh, &ones, &arg, &mut delta, batch, pieces);
            let sh = Shape {
                batch,
                fan_in,
                pieces,
            };
            assert!(sparse_products::<f32>(batch, fan_in, a));
            let g0: Vec<f32> = (0..fan_in * a).map(|i| ((i as f32) * 0.05).cos()).collect();
            let (mut dense, mut sparse) = (g0.clone(), g0);
            let hv = View::col_major(&h, batch, fan_in);
            let dv = View::col_major(&delta, batch, a);
            gemm(1.0, hv.t(), dv, 1.0, &mut dense, fan_in, a);
            weight_grad(&h, &delta, &arg, &mut sparse, sh);
            assert!(
                dense
                    .iter()
                    .zip(&sparse)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
            let mut dense = vec![7.0f32; batch * fan_in];
            let mut sparse = dense.clone();
            let wv = View::col_major(&w, fan_in, a);
            gemm(1.0, dv, wv.t(), 0.0, &mut dense, batch, fan_in);
            input_grad(&delta, &arg, &w, &mut sparse, sh);
            assert!(
                dense
                    .iter()
                    .zip(&sparse)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
        }
    }
}
