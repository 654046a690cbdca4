//! Element-wise activations with their first, second and third derivatives (the second
//! is what double backprop through σ′ needs, the third what its tangent needs).

use serde::{Deserialize, Serialize};

use super::Float;

/// An element-wise activation σ.
///
/// | name | σ(a) | σ′(a) | σ″(a) | σ‴(a) |
/// |---|---|---|---|---|
/// | `linear` | a | 1 | 0 | 0 |
/// | `relu` | max(a, 0) | 𝟙(a > 0) | 0 (a.e.) | 0 (a.e.) |
/// | `leaky_relu` | a if a > 0 else s·a | 1 or s | 0 (a.e.) | 0 (a.e.) |
/// | `tanh` | tanh a | 1 − tanh² a | −2 tanh a (1 − tanh² a) | (1 − tanh² a)(6 tanh² a − 2) |
/// | `sigmoid` | 1/(1 + e^{−a}) | σ(1 − σ) | σ(1 − σ)(1 − 2σ) | σ(1 − σ)(1 − 6σ + 6σ²) |
///
/// At the kinks of ReLU and leaky ReLU (a = 0) the derivative is taken from the left
/// (0, or s), as PyTorch does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Activation {
    /// The identity.
    #[default]
    Linear,
    /// Rectified linear unit.
    Relu,
    /// Leaky ReLU with negative-side slope `slope` (0.2 in seed 002).
    LeakyRelu {
        /// Slope for a < 0.
        slope: f64,
    },
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
}

impl Activation {
    /// σ(a).
    #[inline]
    #[must_use]
    pub fn value<T: Float>(self, a: T) -> T {
        match self {
            Activation::Linear => a,
            Activation::Relu => {
                if a > T::zero() {
                    a
                } else {
                    T::zero()
                }
            }
            Activation::LeakyRelu { slope } => {
                if a > T::zero() {
                    a
                } else {
                    a * T::of(slope)
                }
            }
            Activation::Tanh => a.tanh(),
            Activation::Sigmoid => sigmoid(a),
        }
    }

    /// σ′(a), given a and y = σ(a).
    #[inline]
    #[must_use]
    pub fn derivative<T: Float>(self, a: T, y: T) -> T {
        match self {
            Activation::Linear => T::one(),
            Activation::Relu => {
                if a > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Activation::LeakyRelu { slope } => {
                if a > T::zero() {
                    T::one()
                } else {
                    T::of(slope)
                }
            }
            Activation::Tanh => T::one() - y * y,
            Activation::Sigmoid => y * (T::one() - y),
        }
    }

    /// σ″(a), given a and y = σ(a).
    #[inline]
    #[must_use]
    pub fn second_derivative<T: Float>(self, _a: T, y: T) -> T {
        match self {
            Activation::Linear | Activation::Relu | Activation::LeakyRelu { .. } => T::zero(),
            Activation::Tanh => T::of(-2.0) * y * (T::one() - y * y),
            Activation::Sigmoid => y * (T::one() - y) * (T::one() - T::of(2.0) * y),
        }
    }

    /// σ‴(a), given a and y = σ(a). Only the exact Jacobian-vector products of fields
    /// with a gradient penalty need it (the tangent of double backprop through σ″,
    /// [`crate::nn::Mlp::penalty_tangent`]).
    #[inline]
    #[must_use]
    pub fn third_derivative<T: Float>(self, _a: T, y: T) -> T {
        let s1 = T::one() - y * y;
        match self {
            Activation::Linear | Activation::Relu | Activation::LeakyRelu { .. } => T::zero(),
            Activation::Tanh => s1 * (T::of(6.0) * y * y - T::of(2.0)),
            Activation::Sigmoid => {
                y * (T::one() - y) * (T::one() - T::of(6.0) * y + T::of(6.0) * y * y)
            }
        }
    }

    /// Whether σ″ vanishes almost everywhere (then double backprop skips a pass).
    #[must_use]
    pub fn is_piecewise_linear(self) -> bool {
        matches!(
            self,
            Activation::Linear | Activation::Relu | Activation::LeakyRelu { .. }
        )
    }
}

/// Numerically stable logistic σ(t) = 1/(1 + e^{−t}).
#[inline]
#[must_use]
pub fn sigmoid<T: Float>(t: T) -> T {
    if t >= T::zero() {
        T::one() / (T::one() + (-t).exp())
    } else {
        let e = t.exp();
        e / (T::one() + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central-difference step and tolerance for scalar derivative checks in f64.
    const H: f64 = 1e-6;
    const DERIV_TOL: f64 = 1e-7;

    #[test]
    fn derivatives_match_central_differences() {
        let acts = [
            Activation::Linear,
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.2 },
            Activation::Tanh,
            Activation::Sigmoid,
        ];
        for act in acts {
            for &a in &[-2.3, -0.4, 0.7, 1.9] {
                let y = act.value(a);
                let fd = (act.value(a + H) - act.value(a - H)) / (2.0 * H);
                assert!(
                    (act.derivative(a, y) - fd).abs() < DERIV_TOL,
                    "{act:?} σ′ at {a}"
                );
                let d = |t: f64| act.derivative(t, act.value(t));
                let fd2 = (d(a + H) - d(a - H)) / (2.0 * H);
                assert!(
                    (act.second_derivative(a, y) - fd2).abs() < 1e3 * DERIV_TOL,
                    "{act:?} σ″ at {a}"
                );
                let d2 = |t: f64| act.second_derivative(t, act.value(t));
                let fd3 = (d2(a + H) - d2(a - H)) / (2.0 * H);
                assert!(
                    (act.third_derivative(a, y) - fd3).abs() < 1e3 * DERIV_TOL,
                    "{act:?} σ‴ at {a}"
                );
            }
        }
    }
}
