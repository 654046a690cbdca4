//! The one exponential and logistic function of redqueen's games, branch-free so that
//! they vectorise (see the module docs of [`crate::simd`] for why every copy gives the
//! same bits).
//!
//! e^x: x = k ln2 + r with k = round(x log₂e) and |r| ≤ ln2/2 (Cody–Waite, ln 2 in two
//! parts, so k ln2 is carried to ≈ 106 bits); e^r by a degree-11 polynomial
//! ([`EXP_COEFFS`]); 2^k built from its exponent bits. The logistic function and its
//! derivative use u = e^{−|t|} ∈ (0, 1], so nothing overflows and neither side of 0
//! cancels (unlike (1 − tanh(t/2))/2, which is exactly 0 beyond t ≈ 38).

/// The most negative argument [`exp_neg`] evaluates; below it the result is 0.
///
/// Clamping at −708 keeps k = round(x log₂e) ≥ −1022, so 2^k is a normal number built
/// from its exponent bits alone and e^x ≥ 3.3e-308 never becomes subnormal. Below −708
/// the true e^x < 3.3e-308, so returning 0 is an absolute error below that.
pub const EXP_MIN_ARG: f64 = -708.0;

/// log₂ e, rounded to f64.
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 rounded to f64 (0x3FE62E42FEFA39EF) …
const LN2_HI: f64 = std::f64::consts::LN_2;
/// … and the rest, ln 2 − LN2_HI.
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
/// expansion on |r| ≤ 0.347 minus c_n (0.347)ⁿ T_n(r/0.347)/2ⁿ⁻¹, for n = 24 down to 12,
/// in exact rational arithmetic; the dropped terms sum to < 3.2e-18 in absolute value on
/// the interval (e^r ≥ 0.7 there, so < 0.03 ulp relative), then each coefficient is
/// rounded to f64. It saves two FMAs against the degree-13 Taylor polynomial of the same
/// accuracy. The low coefficients stay within 4e-15 of 1/n!, as they must (tested).
pub const EXP_COEFFS: [f64; EXP_DEGREE + 1] = [
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

/// e^x for x ≤ 0, branch-free and vectorisable; 0 below [`EXP_MIN_ARG`] (and for
/// x = −∞). A few ulp from the C library's `exp` ([`tests`]: `EXP_REL_TOL`). NaN gives a
/// finite number (e^−708): callers whose state is NaN stay NaN through their other
/// factors.
#[inline(always)]
#[must_use]
pub fn exp_neg(x: f64) -> f64 {
    // Written as selects so that they map to min/blend instructions on every path.
    let y = if x > EXP_MIN_ARG { x } else { EXP_MIN_ARG };
    let s = y.mul_add(LOG2E, SHIFTER);
    let k = s - SHIFTER;
    let r = k.mul_add(-LN2_HI, y);
    let r = k.mul_add(-LN2_LO, r);
    // Even and odd halves by Horner in r² (two independent chains of 5 FMAs instead of
    // one of 11: the same work plus one multiply, half the latency), p = E(r²) + r·O(r²).
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
    // s's bits are SHIFTER's bits + k (two's complement in the low mantissa bits); the
    // low 12 bits of SHIFTER's bits are zero, so shifting left by 52 leaves (k + 1023) in
    // the exponent field and zeros elsewhere.
    let scale = f64::from_bits(s.to_bits().wrapping_add(1023) << 52);
    let e = p * scale;
    if x < EXP_MIN_ARG { 0.0 } else { e }
}

/// The logistic function σ(t) = 1/(1 + e^(−t)), branch-free: with u = e^{−|t|},
/// σ = 1/(1 + u) for t ≥ 0 and u/(1 + u) for t < 0, one correctly rounded division.
/// A few ulp from 1/(1 + exp(−t)) of the C library (`SIGMOID_REL_TOL`).
#[inline(always)]
#[must_use]
pub fn sigmoid(t: f64) -> f64 {
    let u = exp_neg(-t.abs());
    let num = if t < 0.0 { u } else { 1.0 };
    num / (1.0 + u)
}

/// σ′(t) = σ(t)σ(−t) = u/(1 + u)² with u = e^{−|t|}: even in t, no cancellation.
#[inline(always)]
#[must_use]
pub fn sigmoid_slope(t: f64) -> f64 {
    let u = exp_neg(-t.abs());
    let w = 1.0 + u;
    u / (w * w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative tolerance of [`exp_neg`] against the C library's `exp` on [−708, 0]:
    /// the reduction and the polynomial each add about one rounding (measured worst
    /// ≈ 2.3 ulp).
    const EXP_REL_TOL: f64 = 4.0 * f64::EPSILON;
    /// Relative tolerance of [`sigmoid`] and [`sigmoid_slope`] against 1/(1 + exp(−t))
    /// and its product form from the C library: the exp's error plus one division
    /// (and one multiplication for the slope).
    const SIGMOID_REL_TOL: f64 = 1e-14;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn exp_matches_libm() {
        let mut worst: f64 = 0.0;
        let n = 200_000;
        for i in 0..=n {
            // Dense near 0 (the reduced argument's whole range) and across the domain.
            for x in [
                -f64::from(i) * 2e-5,
                -f64::from(i) * -EXP_MIN_ARG / f64::from(n),
            ] {
                let e = rel(exp_neg(x), x.exp());
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
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(exp_neg(-0.0), 1.0);
        for x in [-708.5, -745.0, -1e300, f64::NEG_INFINITY] {
            assert_eq!(exp_neg(x), 0.0, "{x}");
        }
        assert!(exp_neg(f64::NAN).is_finite());
    }

    #[test]
    fn sigmoid_matches_libm_over_wide_range() {
        let mut ts = Vec::new();
        for i in -20_000..=20_000 {
            ts.push(f64::from(i) * 1e-3);
        }
        let mut t = 1e-300;
        while t < -EXP_MIN_ARG {
            ts.push(t);
            ts.push(-t);
            t *= 1.001;
        }
        ts.extend([0.5 * std::f64::consts::LN_2, 36.7, -36.7, 708.0, -708.0]);
        let mut worst: f64 = 0.0;
        for &t in &ts {
            let want = 1.0 / (1.0 + (-t).exp());
            let e = rel(sigmoid(t), want);
            worst = worst.max(e);
            assert!(e <= SIGMOID_REL_TOL, "σ({t}): rel {e:e}");
            let slope = want * (1.0 / (1.0 + t.exp()));
            let e = rel(sigmoid_slope(t), slope);
            assert!(e <= SIGMOID_REL_TOL, "σ′({t}): rel {e:e}");
        }
        eprintln!("sigmoid worst relative error vs libm: {worst:e}");
    }

    #[test]
    fn sigmoid_extremes_and_symmetry() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(-0.0), 0.5);
        assert_eq!(sigmoid_slope(0.0), 0.25);
        // σ(t) rounds to exactly 1 once e^(−t) < 2^−54, and σ(−t) is exactly 0 past the
        // exponential's range.
        for t in [40.0, 708.0, 1e4, 1e300, f64::INFINITY] {
            assert_eq!(sigmoid(t), 1.0, "t = {t}");
        }
        for t in [709.0, 1e4, f64::INFINITY] {
            assert_eq!(sigmoid(-t), 0.0, "t = {t}");
            assert_eq!(sigmoid_slope(t), 0.0, "t = {t}");
        }
        // Moderately large t: tiny but relatively accurate.
        let want = 1.0 / (1.0 + 50f64.exp());
        assert!(rel(sigmoid(-50.0), want) <= SIGMOID_REL_TOL);
        for t in [1e-8, 0.3, 2.0, 17.0] {
            assert!((sigmoid(t) + sigmoid(-t) - 1.0).abs() <= 2.0 * f64::EPSILON);
            assert_eq!(sigmoid_slope(t), sigmoid_slope(-t));
        }
    }
}
