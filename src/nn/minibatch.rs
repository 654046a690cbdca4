//! Minibatch discrimination (Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016,
//! "Improved techniques for training GANs", NeurIPS, §3.2).
//!
//! The features f(x_i) ∈ R^A of the rows of a group (the real rows, or the generated
//! rows, of one batch) are multiplied by a tensor T ∈ R^{A×B×C} (stored as an
//! A × (B·C) matrix, column b·C + c), M_i = f(x_i)·T ∈ R^{B×C}, and each kernel b
//! measures closeness to the other rows with the L1 kernel
//! c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖₁), o(x_i)_b = Σ_j c_b(x_i, x_j). The layer
//! outputs [f(x_i), o(x_i)] ∈ R^{A+B}, which D's next (last) layer reads.
//!
//! The sum runs over every row j of the group, i itself included, exactly as the paper
//! writes it (its own term is the constant c_b(x_i, x_i) = 1; the authors' code
//! masks it out, which only shifts o by 1, a constant the next layer's bias absorbs).
//!
//! Backward, with ō = ∂L/∂o: every pair i < j contributes the same e = c_b(x_i, x_j)
//! to o_ib and o_jb, so with s = sign(M_{i,b,c} − M_{j,b,c}) (sign 0 = 0):
//! ∂L/∂M_{i,b,c} −= (ō_ib + ō_jb)·e·s and ∂L/∂M_{j,b,c} += (ō_ib + ō_jb)·e·s; then
//! ∂L/∂T = fᵀ ∂L/∂M and ∂L/∂f = ō_f + ∂L/∂M Tᵀ, with ō_f the adjoint of the copied
//! features. The pairwise cost is O(rows·group·B·C) per pass.
//!
//! Groups: the rows of a workspace form consecutive groups of equal size
//! ([`super::Workspace::set_group_rows`]); D on the stacked [real; fake] batch uses two,
//! so real and generated samples are compared only among themselves, as D sees them in
//! separate batches in the paper. In evaluation mode each row is its own group (o = 1),
//! so D of a single point is defined without a batch.
//!
//! The layer has no tangent or double-backprop pass (its rows interact): a GAN using it
//! takes central differences for J·u, and configurations refuse gradient penalties with
//! it ([`crate::gan::TrainConfig`]).

use nalgebra::DMatrix;

use super::{Float, View, gemm, gemm_into};

/// The buffers of one minibatch layer in a [`super::Workspace`].
#[derive(Debug, Clone)]
pub(super) struct Buffers<T: Float> {
    /// M = f·T (batch × B·C).
    pub m: DMatrix<T>,
    /// c_b(x_i, x_j) for i < j of the last training pass, per group and kernel as a
    /// group × group block (only the upper triangle is written).
    pub e: Vec<T>,
    /// Rows per group of the last pass (1 in evaluation mode).
    pub group: usize,
}

impl<T: Float> Buffers<T> {
    pub fn new(batch: usize, width: usize) -> Self {
        Buffers {
            m: DMatrix::zeros(batch, width),
            e: Vec::new(),
            group: 1,
        }
    }
}

/// The layer's shape.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// A.
    pub features: usize,
    /// B.
    pub kernels: usize,
    /// C.
    pub dim: usize,
}

/// out (batch × (A + B)) ← [h, o(h)] with groups of `group` rows (1 = evaluation).
pub(super) fn forward<T: Float>(
    h: &DMatrix<T>,
    t: &[T],
    out: &mut DMatrix<T>,
    buf: &mut Buffers<T>,
    shape: Shape,
    group: usize,
) {
    let batch = h.nrows();
    let Shape {
        features: a,
        kernels: kb,
        dim: kc,
    } = shape;
    let o = out.as_mut_slice();
    o[..batch * a].copy_from_slice(h.as_slice());
    o[batch * a..].fill(T::one());
    buf.group = group.max(1);
    if buf.group == 1 || batch == 0 {
        return;
    }
    gemm_into(
        T::one(),
        View::of(h),
        View::col_major(t, a, kb * kc),
        T::zero(),
        &mut buf.m,
    );
    let g = buf.group;
    let groups = batch / g;
    buf.e.resize(groups * kb * g * g, T::zero());
    let m = buf.m.as_slice();
    for gi in 0..groups {
        let base = gi * g;
        for b in 0..kb {
            let e = &mut buf.e[(gi * kb + b) * g * g..(gi * kb + b + 1) * g * g];
            let cols = &m[b * kc * batch..(b + 1) * kc * batch];
            let ob = &mut o[(a + b) * batch + base..(a + b) * batch + base + g];
            for i in 0..g {
                for j in i + 1..g {
                    let mut d = T::zero();
                    for c in 0..kc {
                        d += (cols[c * batch + base + i] - cols[c * batch + base + j]).abs();
                    }
                    let v = (-d).exp();
                    e[i * g + j] = v;
                    ob[i] += v;
                    ob[j] += v;
                }
            }
        }
    }
}

/// From ∂L/∂out in `dout` (batch × (A + B)): δ_M (batch × B·C) into `delta`, ∂L/∂T
/// **added** to `grad` (if given), ∂L/∂h into `dh` (if given).
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<T: Float>(
    h: &DMatrix<T>,
    t: &[T],
    dout: &DMatrix<T>,
    delta: &mut DMatrix<T>,
    buf: &Buffers<T>,
    shape: Shape,
    grad: Option<&mut [T]>,
    dh: Option<&mut DMatrix<T>>,
) {
    let batch = h.nrows();
    let Shape {
        features: a,
        kernels: kb,
        dim: kc,
    } = shape;
    let dm = delta.as_mut_slice();
    dm.fill(T::zero());
    let g = buf.group;
    if g > 1 {
        let m = buf.m.as_slice();
        let dout = dout.as_slice();
        for gi in 0..batch / g {
            let base = gi * g;
            for b in 0..kb {
                let e = &buf.e[(gi * kb + b) * g * g..(gi * kb + b + 1) * g * g];
                let ob = &dout[(a + b) * batch + base..(a + b) * batch + base + g];
                for i in 0..g {
                    for j in i + 1..g {
                        let w = (ob[i] + ob[j]) * e[i * g + j];
                        for c in 0..kc {
                            let col = (b * kc + c) * batch + base;
                            let diff = m[col + i] - m[col + j];
                            let s = if diff > T::zero() {
                                w
                            } else if diff < T::zero() {
                                -w
                            } else {
                                T::zero()
                            };
                            dm[col + i] -= s;
                            dm[col + j] += s;
                        }
                    }
                }
            }
        }
    }
    if let Some(gr) = grad {
        gemm(
            T::one(),
            View::of(h).t(),
            View::of(delta),
            T::one(),
            gr,
            a,
            kb * kc,
        );
    }
    if let Some(dh) = dh {
        dh.as_mut_slice()
            .copy_from_slice(&dout.as_slice()[..batch * a]);
        gemm_into(
            T::one(),
            View::of(delta),
            View::col_major(t, a, kb * kc).t(),
            T::one(),
            dh,
        );
    }
}
