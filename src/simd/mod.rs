//! Code that vectorises, and the run-time choice of the compiled copy that runs it.
//!
//! redqueen's hot loops (the batch engine, [`crate::dynamics::batch`]) are plain Rust
//! whose innermost loop runs over independent lanes, so LLVM turns each of them into
//! vector code. They are compiled three times: for AVX-512, for AVX2 with FMA and for
//! the build's baseline target (a `#[target_feature]` function into which the
//! `#[inline(always)]` loop is inlined), and [`SimdPath::detect`] picks the fastest copy
//! this CPU supports at run time (no `-C target-cpu` needed).
//!
//! # The one dispatch mechanism
//! Every run-time choice of compiled copy in redqueen goes through [`SimdPath::run`]
//! (or [`dispatch`], which runs on [`SimdPath::best`], detected once per process):
//!
//! ```ignore
//! crate::simd::dispatch(#[inline(always)] || self.forward_impl(params, ws, mode))
//! ```
//!
//! `run` calls the closure from inside a function compiled with the path's target
//! features; the closure is `#[inline(always)]` and so is the function it calls, so the
//! whole body is inlined there and compiled for that path (a closure or body that is not
//! inlined would run as baseline code, correct but slow). Hand-written intrinsics (the
//! f32 gemm of [`crate::nn`]) keep their own `#[target_feature]` attributes and pick
//! their kernel from [`SimdPath::best`] too, so detection happens in one place.
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

use std::sync::OnceLock;

use serde::Serialize;

/// Runs `f` compiled for the fastest path this CPU supports ([`SimdPath::best`]); see
/// [`SimdPath::run`] and the module docs for how to write `f`.
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    SimdPath::best().run(f)
}

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

    /// The fastest path this CPU supports, detected on the first call and cached.
    #[must_use]
    pub fn best() -> SimdPath {
        static BEST: OnceLock<SimdPath> = OnceLock::new();
        *BEST.get_or_init(SimdPath::detect)
    }

    /// Runs `f` compiled for this path: the closure is called from a function compiled
    /// with the path's target features (AVX-512F/VL/DQ + AVX2 + FMA, or AVX2 + FMA), into
    /// which an `#[inline(always)]` closure is inlined, or directly (the baseline) for
    /// [`SimdPath::Portable`] and for a path this CPU lacks. The arithmetic is the same
    /// on every path (module docs), so only the speed depends on the choice.
    #[inline(always)]
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
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
            match self {
                // SAFETY: the CPU has every feature `avx512` enables (checked in the guard).
                SimdPath::Avx512 if self.is_available() => return unsafe { avx512(f) },
                // SAFETY: the CPU has AVX2 and FMA (checked in the guard).
                SimdPath::Avx2 if self.is_available() => return unsafe { avx2(f) },
                _ => {}
            }
        }
        f()
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
        assert_eq!(SimdPath::best(), p);
        assert!(SimdPath::Portable.is_available());
        for q in SimdPath::ALL {
            assert!(!q.name().is_empty());
        }
    }

    /// A vectorisable loop with a fused multiply-add and a division gives the same bits
    /// on every path (the promise of the module docs), including paths the CPU lacks
    /// (which run the baseline copy).
    #[test]
    fn every_path_gives_the_same_bits() {
        let x: Vec<f64> = (0..1003).map(|i| (f64::from(i) * 0.37).sin()).collect();
        let body = |x: &[f64]| -> Vec<f64> {
            x.iter()
                .map(|v| v.mul_add(1.5, 0.25) / (1.0 + v * v).sqrt())
                .collect()
        };
        let want = body(&x);
        for p in SimdPath::ALL {
            let got = p.run(
                #[inline(always)]
                || body(&x),
            );
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(g, w)| g.to_bits() == w.to_bits()),
                "{}",
                p.name()
            );
        }
    }
}
