//! Code that vectorises, and the run-time choice of the compiled copy that runs it.
//!
//! redqueen's hot loops (the batch engine, [`crate::dynamics::batch`]) are plain Rust
//! whose innermost loop runs over independent lanes, so LLVM turns each of them into
//! vector code. They are compiled three times: for AVX-512, for AVX2 with FMA and for
//! the build's baseline target, and [`SimdPath::detect`] picks the fastest copy this CPU
//! supports at run time (no `-C target-cpu` needed).
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

/// Runs `f` compiled for `path`: `f` is inlined into a function compiled with that
/// path's target features, so its lane loops vectorise to that width. A path this CPU
/// does not support runs the portable copy instead (same bits, slower).
///
/// `f` and everything it calls in its hot loops should be `#[inline(always)]` (or
/// small generic functions that LLVM inlines), or they are compiled without the
/// features.
#[inline(always)]
pub fn run_on<R>(path: SimdPath, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        match path {
            SimdPath::Avx512 if SimdPath::Avx512.is_available() => {
                // SAFETY: the CPU supports every feature `avx512` enables (checked just
                // above by `is_available`).
                return unsafe { avx512(f) };
            }
            SimdPath::Avx2 if SimdPath::Avx2.is_available() => {
                // SAFETY: the CPU supports avx2 and fma (checked just above).
                return unsafe { avx2(f) };
            }
            _ => {}
        }
    }
    let _ = path;
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_names_an_available_path() {
        let p = SimdPath::detect();
        assert!(p.is_available());
        assert!(SimdPath::Portable.is_available());
        assert_eq!(run_on(p, || 2 + 2), 4);
        for q in SimdPath::ALL {
            assert!(!q.name().is_empty());
        }
    }
}
