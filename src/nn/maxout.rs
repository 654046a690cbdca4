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
