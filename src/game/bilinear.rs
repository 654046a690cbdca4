//! The bilinear game min_x max_y xᵀAy (Weng, "From GAN to WGAN", §"Hard to achieve
//! Nash equilibrium"; Gidel et al. 2019).
//!
//! v = (−A y, Aᵀ x), J = [[0, −A], [Aᵀ, 0]]: purely rotational (S = 0), with
//! eigenvalues ±i·sᵢ for the singular values sᵢ of A, and ‖x‖² + ‖y‖² conserved.

use serde_json::json;

use super::lanes::{Kernel2, LaneGame, ScalarBilinear};
use super::{Conserved, Game};
use crate::linalg::{Matrix, Vector};

/// min over x ∈ ℝⁿ, max over y ∈ ℝᵐ of xᵀAy.
#[derive(Debug, Clone)]
pub struct Bilinear {
    /// The n × m coupling matrix A.
    pub a: Matrix,
}

impl Bilinear {
    /// The scalar game min_x max_y s·xy.
    #[must_use]
    pub fn scalar(s: f64) -> Self {
        Bilinear {
            a: Matrix::from_element(1, 1, s),
        }
    }
}

impl Game for Bilinear {
    fn name(&self) -> &'static str {
        "bilinear"
    }
    fn dim(&self) -> usize {
        self.a.nrows() + self.a.ncols()
    }
    fn split(&self) -> usize {
        self.a.nrows()
    }
    fn coordinate_names(&self) -> Vec<String> {
        let (n, m) = self.a.shape();
        if n == 1 && m == 1 {
            return vec!["x".into(), "y".into()];
        }
        (1..=n)
            .map(|i| format!("x{i}"))
            .chain((1..=m).map(|j| format!("y{j}")))
            .collect()
    }
    fn field(&self, x: &Vector) -> Vector {
        // Explicit sums in index order (the 1 × 1 case is [`ScalarBilinear`]'s
        // arithmetic): v_xᵢ = −Σⱼ aᵢⱼ yⱼ, v_yⱼ = Σᵢ aᵢⱼ xᵢ.
        let (n, m) = self.a.shape();
        let a = &self.a;
        Vector::from_fn(n + m, |k, _| {
            if k < n {
                let mut s = a[(k, 0)] * x[n];
                for j in 1..m {
                    s += a[(k, j)] * x[n + j];
                }
                -s
            } else {
                let j = k - n;
                let mut s = a[(0, j)] * x[0];
                for i in 1..n {
                    s += a[(i, j)] * x[i];
                }
                s
            }
        })
    }
    fn lanes(&self) -> Option<LaneGame> {
        (self.a.shape() == (1, 1))
            .then(|| LaneGame::Plain(Kernel2::Bilinear(ScalarBilinear { s: self.a[(0, 0)] })))
    }
    fn jacobian(&self, _x: &Vector) -> Matrix {
        let (n, m) = self.a.shape();
        let mut j = Matrix::zeros(n + m, n + m);
        j.view_mut((0, n), (n, m)).copy_from(&(-&self.a));
        j.view_mut((n, 0), (m, n)).copy_from(&self.a.transpose());
        j
    }
    fn has_analytic_jacobian(&self) -> bool {
        true
    }
    fn equilibrium(&self) -> Option<Vector> {
        Some(Vector::zeros(self.dim()))
    }
    fn conserved(&self, x: &Vector) -> Option<Conserved> {
        Some(Conserved {
            name: "radius_sq",
            value: x.norm_squared(),
        })
    }
    fn params(&self) -> serde_json::Value {
        let rows: Vec<Vec<f64>> = self
            .a
            .row_iter()
            .map(|r| r.iter().copied().collect())
            .collect();
        json!({ "matrix": rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::testing::check_jacobian;
    use crate::linalg::eigenvalues;

    #[test]
    fn jacobian_and_eigenvalues_are_singular_values() {
        #[rustfmt::skip]
        let cases = [
            Bilinear::scalar(1.0),
            Bilinear::scalar(-2.5),
            Bilinear { a: Matrix::from_row_slice(2, 2, &[2.0, 0.0,
                                                         0.0, 0.5]) },
            Bilinear { a: Matrix::from_row_slice(2, 3, &[1.0, 2.0, 0.0,
                                                         0.0, 1.0, 3.0]) },
        ];
        for (k, g) in cases.iter().enumerate() {
            check_jacobian(g, 3.0, 10, k as u64);
            let ev = eigenvalues(&g.jacobian(&g.equilibrium().unwrap())).unwrap();
            let sv = g.a.singular_values();
            for z in &ev {
                assert!(z.re.abs() < 1e-12);
                let ok = z.im.abs() < 1e-12 || sv.iter().any(|s| (s - z.im.abs()).abs() < 1e-10);
                assert!(ok, "{ev:?} vs {sv}");
            }
            let x = Vector::from_fn(g.dim(), |i, _| 0.3 * i as f64 - 0.5);
            assert!(x.dot(&g.field(&x)).abs() < 1e-14, "‖x‖² not conserved");
        }
    }
}
