//! Matrices with known spectra for the solvers' tests.

use rand::RngExt;
use rand_distr::StandardNormal;

use super::{Eigenvalue, Matrix, rng};

/// A Haar-distributed random orthogonal matrix: Q of the QR factorisation of a Gaussian
/// matrix, with the signs of R's diagonal moved into Q (Mezzadri 2007, "How to generate
/// random matrices from the classical compact groups", §5).
pub(crate) fn random_orthogonal(n: usize, seed: u64) -> Matrix {
    let mut r = rng(seed, 0);
    let g = Matrix::from_fn(n, n, |_, _| r.sample::<f64, _>(StandardNormal));
    let qr = g.qr();
    let (mut q, rr) = (qr.q(), qr.r());
    for j in 0..n {
        if rr[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

/// A standard-normal random matrix.
pub(crate) fn gaussian(n: usize, seed: u64) -> Matrix {
    let mut r = rng(seed, 1);
    Matrix::from_fn(n, n, |_, _| r.sample::<f64, _>(StandardNormal))
}

/// Q·B·Qᵀ with B block diagonal: rotation-scaling blocks [[a, −b], [b, a]] (eigenvalues
/// a ± ib) followed by the real diagonal entries; Q random orthogonal from `seed`. With
/// `coupling` > 0, B also gets random entries of that size above its block diagonal,
/// which keeps the spectrum (B stays block upper triangular) but makes the matrix
/// non-normal. Returns the matrix and its eigenvalues.
pub(crate) fn known_spectrum(
    pairs: &[(f64, f64)],
    reals: &[f64],
    coupling: f64,
    seed: u64,
) -> (Matrix, Vec<Eigenvalue>) {
    let n = 2 * pairs.len() + reals.len();
    let mut b = Matrix::zeros(n, n);
    let mut ev = Vec::with_capacity(n);
    // block index of each row, to know what lies above the block diagonal
    let mut block = vec![0usize; n];
    for (i, &(re, im)) in pairs.iter().enumerate() {
        let j = 2 * i;
        b[(j, j)] = re;
        b[(j, j + 1)] = -im;
        b[(j + 1, j)] = im;
        b[(j + 1, j + 1)] = re;
        block[j] = i;
        block[j + 1] = i;
        ev.push(Eigenvalue::new(re, im));
        ev.push(Eigenvalue::new(re, -im));
    }
    for (i, &d) in reals.iter().enumerate() {
        let j = 2 * pairs.len() + i;
        b[(j, j)] = d;
        block[j] = pairs.len() + i;
        ev.push(Eigenvalue::new(d, 0.0));
    }
    if coupling > 0.0 {
        let mut r = rng(seed, 2);
        for i in 0..n {
            for j in 0..n {
                if block[j] > block[i] {
                    b[(i, j)] = coupling * r.random_range(-1.0..1.0);
                }
            }
        }
    }
    let q = random_orthogonal(n, seed);
    (&q * b * q.transpose(), ev)
}
