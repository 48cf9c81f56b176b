//! Which vector unit the hand-written kernels run on.
//!
//! Every kernel runs on AVX2 + FMA ([`dispatch`]; `pulp`'s `V3`) on x86-64, on `pulp`'s best
//! unit elsewhere (NEON on aarch64), or falls back to the GEMM paths without one. The direct
//! forward convolution alone also has an AVX-512 form ([`avx512`]): its 32 registers hold
//! twice the tile, and a broadcast input is an operand of the multiply-add itself
//! (docs/performance.md, attempt 20). `pulp`'s own `Arch::new` would pick AVX-512 for every
//! kernel once its `x86-v4` feature is on, which halves the channel blocks the others were
//! tuned for; so the choice is made here, per kernel.

use pulp::{Simd, WithSimd};

/// Runs `op` on AVX2 + FMA where the CPU has it (x86-64), on `pulp`'s best vector unit on
/// other architectures, else on scalars.
#[inline(always)]
pub(crate) fn dispatch<Op: WithSimd>(op: Op) -> Op::Output {
    #[cfg(target_arch = "x86_64")]
    {
        static V3: std::sync::OnceLock<Option<pulp::x86::V3>> = std::sync::OnceLock::new();
        match *V3.get_or_init(pulp::x86::V3::try_new) {
            Some(v3) => Simd::vectorize(v3, op),
            None => Simd::vectorize(pulp::Scalar, op),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    pulp::Arch::new().dispatch(op)
}

/// AVX-512 (F, BW, CD, DQ, VL), where the CPU has it, unless the environment sets
/// `MUSE_AVX512=0` (read once; to compare speed or rounding with the AVX2 form).
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512() -> Option<pulp::x86::V4> {
    static V4: std::sync::OnceLock<Option<pulp::x86::V4>> = std::sync::OnceLock::new();
    *V4.get_or_init(|| {
        let on = std::env::var("MUSE_AVX512").map_or(true, |v| v != "0");
        pulp::x86::V4::try_new().filter(|_| on)
    })
}

/// `f32` lanes of the vectors [`dispatch`] runs on (1 without a vector unit).
pub(crate) fn vector_lanes() -> usize {
    struct Lanes;
    impl WithSimd for Lanes {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> usize {
            lanes::<S>()
        }
    }
    static LANES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LANES.get_or_init(|| dispatch(Lanes))
}

/// `f32` values in one of `S`'s vectors.
pub(crate) const fn lanes<S: Simd>() -> usize {
    std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>()
}

/// One vector from the first `lanes::<S>()` values of `s` (any alignment).
#[inline(always)]
pub(crate) fn load<S: Simd>(s: &[f32]) -> S::f32s {
    pulp::bytemuck::pod_read_unaligned(pulp::bytemuck::cast_slice(&s[..lanes::<S>()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_vectors_are_avx2_on_x86_64_and_avx512_is_only_offered_where_the_cpu_has_it() {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            assert_eq!(vector_lanes(), if avx2 { 8 } else { 1 });
            if avx512().is_some() {
                assert!(std::arch::is_x86_feature_detected!("avx512f"));
                assert_eq!(lanes::<pulp::x86::V4>(), 16);
            }
        }
        assert!(vector_lanes().is_power_of_two());
    }
}
