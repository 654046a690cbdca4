//! Code that vectorises, and the run-time choice of the compiled copy that runs it.
//!
//! redqueen's hot loops (the batch engine, [`crate::dynamics::batch`]) are plain Rust
//! whose innermost loop runs over independent lanes, so LLVM turns each of them into
//! vector code. They are compiled three times: for AVX-512, for AVX2 with FMA and for
//! the build's baseline target (a `#[target_feature]` function into which the
//! `#[inline(always)]` loop is inlined), and [`SimdPath::detect`] picks the fastest copy
//! this CPU supports at run time (no `-C target-cpu` needed).
//!
//! Every copy gives the same bits. The lane code uses only IEEE-754 operations with one
//! rounding each (`+ − × ÷ √`, explicit [`f64::mul_add`], comparisons and selects,
//! integer bit operations): Rust never contracts a multiply and an add into an FMA or
//! reassociates a sum on its own, vectorising a loop over lanes does not change the
//! arithmetic of a lane, and `mul_add` is a fused multiply-add on every path (the FMA
//! instruction on the AVX copies, the correctly rounded `fma()` of the C library on the
//! baseline). The elementary functions the games need ([`math`]) are written the same
//! way, because the C library's `exp` neither vectorises nor promises the same bits as
//! another implementation.

pub mod math;

use serde::Serialize;

/// Which compiled copy of a vectorised kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SimdPath {
    /// AVX-512F (+VL, DQ) with FMA: 8 f64 per vector.
    Avx512,
    /// AVX2 with FMA: 4 f64 per vector.
    Avx2,
    /// The build's baseline target (SSE2 on x86-64), or any other architecture;
    /// `mul_add` is a call to the C library here, so this copy is slow but exact.
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
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_names_an_available_path() {
        let p = SimdPath::detect();
        assert!(p.is_available());
        assert!(SimdPath::Portable.is_available());
        for q in SimdPath::ALL {
            assert!(!q.name().is_empty());
        }
    }
}
