//! The TTUR toy saddle f(x, y) = (1 + x²)(100 − y²), x descending and y ascending
//! (Heusel et al. 2017, "GANs trained by a two time-scale update rule", toy example).
//!
//! v = (−2x(100 − y²), −2y(1 + x²)); at the saddle (0, 0), J = diag(−200, −2), so
//! simultaneous Euler is stable iff lr_x < 2/200 = 0.01 and lr_y < 2/2 = 1.

use serde_json::json;

use super::Game;
use super::lanes::{Field2, Kernel2, LaneGame};
use crate::linalg::{Matrix, Vector};

/// The TTUR saddle.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TturSaddle;

impl Game for TturSaddle {
    fn name(&self) -> &'static str {
        "ttur-saddle"
    }
    fn dim(&self) -> usize {
        2
    }
    fn split(&self) -> usize {
        1
    }
    fn coordinate_names(&self) -> Vec<String> {
        vec!["x".into(), "y".into()]
    }
    fn field(&self, p: &Vector) -> Vector {
        Vector::from_vec(Field2::field2(self, [p[0], p[1]]).to_vec())
    }
    fn jacobian(&self, p: &Vector) -> Matrix {
        let j = Field2::jacobian2(self, [p[0], p[1]]);
        Matrix::from_row_slice(2, 2, &[j[0][0], j[0][1], j[1][0], j[1][1]])
    }
    fn lanes(&self) -> Option<LaneGame> {
        Some(LaneGame::Plain(Kernel2::TturSaddle(*self)))
    }
    fn has_analytic_jacobian(&self) -> bool {
        true
    }
    fn equilibrium(&self) -> Option<Vector> {
        Some(Vector::zeros(2))
    }
    fn params(&self) -> serde_json::Value {
        json!({})
    }
}

impl Field2 for TturSaddle {
    #[inline(always)]
    fn field2(&self, p: [f64; 2]) -> [f64; 2] {
        let (x, y) = (p[0], p[1]);
        [-2.0 * x * (100.0 - y * y), -2.0 * y * (1.0 + x * x)]
    }
    #[inline(always)]
    fn jacobian2(&self, p: [f64; 2]) -> [[f64; 2]; 2] {
        let (x, y) = (p[0], p[1]);
        [
            [-2.0 * (100.0 - y * y), 4.0 * x * y],
            [-4.0 * x * y, -2.0 * (1.0 + x * x)],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::testing::check_jacobian;

    #[test]
    fn jacobian_and_saddle() {
        check_jacobian(&TturSaddle, 3.0, 25, 11);
        let j = TturSaddle.jacobian(&Vector::zeros(2));
        assert_eq!(j, Matrix::from_row_slice(2, 2, &[-200.0, 0.0, 0.0, -2.0]));
        assert_eq!(TturSaddle.field(&Vector::zeros(2)).amax(), 0.0);
    }
}
