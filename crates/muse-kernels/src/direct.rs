//! Direct "same" 3×3 convolution (stride 1, dilation 1, padding 1 on every side) for small
//! channel counts, where Winograd's transforms cost more than they save (`winograd.rs`) and
//! im2col writes a patch matrix nine times the input for a GEMM whose `M` (16–32 output
//! channels) is too thin to hide it.
//!
//! Each sample's input is copied once into a zero-bordered buffer; then every block of
//! [`OB`] output channels × `VW` output columns of one output row is summed over
//! `(in channel, ky, kx)` in registers: one load of `VW` input values feeds `OB` fused
//! multiply-adds. The input gradient is the forward of the flipped, transposed weight
//! ([`crate::winograd::flipped_transposed`]); the weight gradient sums, per (out, in) channel
//! pair, nine shifted products of the output gradient with the bordered input, `VW` lanes at a
//! time.
//!
//! The loops are written on `pulp`'s portable vectors and run under its runtime dispatch:
//! on x86-64 with AVX2 + FMA (x86-64-v3) they are 256-bit fused multiply-adds. A CPU without
//! them keeps the im2col path ([`applies`] is false): scalar code here would be slower.

use rayon::prelude::*;

use pulp::{Simd, WithSimd};

use crate::conv::ConvGeometry;

/// Output channels per register block.
const OB: usize = 4;

/// Largest channel count (in or out) this path takes when the other is also below Winograd's
/// threshold; see [`applies`].
const MAX_CHANNELS: usize = 64;

/// Whether the direct path is on: it is unless the environment sets `MUSE_DIRECT=0` (read
/// once), which puts these convolutions back on im2col + GEMM (to compare speed or rounding).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("MUSE_DIRECT").map_or(true, |v| v != "0"))
}

/// Whether this module computes the convolution `g`: a "same" 3×3 one that Winograd does not
/// take (fewer than 64 channels on one side) and no side has more than [`MAX_CHANNELS`].
pub fn applies(g: &ConvGeometry) -> bool {
    g.kernel == [3, 3]
        && g.stride == [1, 1]
        && g.dilation == [1, 1]
        && g.padding == [(1, 1), (1, 1)]
        && g.in_channels <= MAX_CHANNELS
        && g.out_channels <= MAX_CHANNELS
        && !crate::winograd::applies(g)
        && g.height > 0
        && g.width > 0
        && vector_unit()
}

/// Whether this CPU has the vector instructions the direct path is written for (AVX2 + FMA on
/// x86-64, detected at run time); without them the im2col path is faster.
pub(crate) fn vector_unit() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !matches!(pulp::Arch::new(), pulp::Arch::Scalar)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `f32` values in one of `S`'s vectors.
const fn lanes<S: Simd>() -> usize {
    std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>()
}

/// One vector from the first `lanes::<S>()` values of `s` (any alignment).
#[inline(always)]
fn load<S: Simd>(s: &[f32]) -> S::f32s {
    pulp::bytemuck::pod_read_unaligned(pulp::bytemuck::cast_slice(&s[..lanes::<S>()]))
}

/// The lanes of `v`.
#[inline(always)]
fn values<S: Simd>(v: &S::f32s) -> &[f32] {
    pulp::bytemuck::cast_slice(std::slice::from_ref(v))
}

/// One sample's channels (`[C, H, W]`) with a zero border: `[C, H + 2, wp]`, value
/// `(c, y, x)` at `(c, y + 1, x + 1)`; columns past `W + 1` are zero too.
fn bordered(x: &[f32], c: usize, h: usize, w: usize, wp: usize, buf: &mut Vec<f32>) {
    buf.clear();
    buf.resize(c * (h + 2) * wp, 0.0);
    for (plane, src) in buf.chunks_mut((h + 2) * wp).zip(x.chunks(h * w)) {
        for (row, s) in plane[wp..].chunks_mut(wp).zip(src.chunks(w)) {
            row[1..=w].copy_from_slice(s);
        }
    }
}

/// The weight `[O, C, 3, 3]` as `[⌈O / OB⌉, C, 9, OB]`, output channels past `O` zero.
fn pack_weight(w: &[f32], o: usize, c: usize) -> Vec<f32> {
    let blocks = o.div_ceil(OB);
    let mut packed = vec![0.0; blocks * c * 9 * OB];
    for oc in 0..o {
        let (b, lane) = (oc / OB, oc % OB);
        for ic in 0..c {
            for k in 0..9 {
                packed[((b * c + ic) * 9 + k) * OB + lane] = w[(oc * c + ic) * 9 + k];
            }
        }
    }
    packed
}

/// Output row `oy`, columns `ox0 .. ox0 + NV·lanes`, of the `OB` output channels whose packed
/// weight is `wb` (`[C, 9, OB]`), from the bordered input `xb` (`[C, H + 2, wp]`): `OB × NV`
/// vector accumulators, each input vector loaded once for `OB` fused multiply-adds.
#[inline(always)]
fn block<S: Simd, const NV: usize>(
    simd: S,
    xb: &[f32],
    wb: &[f32],
    plane: usize,
    wp: usize,
    oy: usize,
    ox0: usize,
) -> [[S::f32s; NV]; OB] {
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; NV]; OB];
    for (xc, wc) in xb.chunks_exact(plane).zip(wb.chunks_exact(9 * OB)) {
        for ky in 0..3 {
            let row = &xc[(oy + ky) * wp + ox0..];
            for kx in 0..3 {
                let mut xs = [zero; NV];
                for (v, x) in xs.iter_mut().enumerate() {
                    *x = load::<S>(&row[kx + v * lanes::<S>()..]);
                }
                let wk = &wc[(ky * 3 + kx) * OB..][..OB];
                for (a, &wv) in acc.iter_mut().zip(wk) {
                    let wv = simd.splat_f32s(wv);
                    for (a, &x) in a.iter_mut().zip(&xs) {
                        *a = simd.mul_add_f32s(wv, x, *a);
                    }
                }
            }
        }
    }
    acc
}

/// One sample's forward: its output `y` (`[O, H, W]`) from its bordered input `xb`, blocks of
/// `NV` vectors along each row; the last block of a row starts at `W − width` (it overlaps
/// the one before, writing equal values) unless the row is narrower than a block.
struct SampleForward<'a, const NV: usize> {
    g: &'a ConvGeometry,
    xb: &'a [f32],
    wpack: &'a [f32],
    wp: usize,
    y: &'a mut [f32],
}

impl<const NV: usize> WithSimd for SampleForward<'_, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            g,
            xb,
            wpack,
            wp,
            y,
        } = self;
        let (h, w, c) = (g.height, g.width, g.in_channels);
        let plane = (h + 2) * wp;
        let width = NV * lanes::<S>();
        let n = width.min(w);
        for (b, wb) in wpack.chunks_exact(c * 9 * OB).enumerate() {
            let live = OB.min(g.out_channels - b * OB);
            for oy in 0..h {
                let mut ox0 = 0;
                while ox0 < w {
                    let start = ox0.min(w.saturating_sub(width));
                    let acc = block::<S, NV>(simd, xb, wb, plane, wp, oy, start);
                    for (lane, a) in acc.iter().enumerate().take(live) {
                        let out = &mut y[((b * OB + lane) * h + oy) * w + start..][..n];
                        for (chunk, v) in out.chunks_mut(lanes::<S>()).zip(a) {
                            chunk.copy_from_slice(&values::<S>(v)[..chunk.len()]);
                        }
                    }
                    ox0 += width;
                }
            }
        }
    }
}

/// Vectors per block of a row of `w` values: two when the row holds two.
fn vectors_per_block(w: usize) -> usize {
    if w >= 2 * vector_lanes() { 2 } else { 1 }
}

/// `f32` lanes of the vectors [`pulp::Arch::new`] dispatches to (1 without a vector unit).
fn vector_lanes() -> usize {
    struct Lanes;
    impl WithSimd for Lanes {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> usize {
            lanes::<S>()
        }
    }
    pulp::Arch::new().dispatch(Lanes)
}

/// Forward convolution without bias; `g` must satisfy [`applies`].
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]` (flat, NCHW)
/// - `w`: `[out_channels, in_channels, 3, 3]`
/// - output: `[batch, out_channels, height, width]`
pub fn forward(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (c, h, wd, o) = (g.in_channels, g.height, g.width, g.out_channels);
    let mut y = vec![0.0; g.batch * o * h * wd];
    let wpack = pack_weight(w, o, c);
    let nv = vectors_per_block(wd);
    let wp = wd.max(nv * vector_lanes()) + 2;
    let arch = pulp::Arch::new();
    y.par_chunks_mut(o * h * wd)
        .zip(x.par_chunks(c * h * wd))
        .for_each_init(Vec::new, |xb, (yn, xn)| {
            bordered(xn, c, h, wd, wp, xb);
            let (g, wpack) = (g, &wpack[..]);
            if nv == 2 {
                arch.dispatch(SampleForward::<2> {
                    g,
                    xb,
                    wpack,
                    wp,
                    y: yn,
                });
            } else {
                arch.dispatch(SampleForward::<1> {
                    g,
                    xb,
                    wpack,
                    wp,
                    y: yn,
                });
            }
        });
    y
}

/// Adds one sample's weight gradient onto `dw` (`[O, C, 9]`): for every (out, in) channel
/// pair, `dw[o, c, ky·3 + kx] += Σ_{y, x} dy[o, y, x] · xb[c, y + ky, x + kx]`, one vector of
/// columns at a time over the output gradient `dyb` (`[O, H, wq]`, zero past column `W`):
/// nine vector accumulators, each output-gradient vector loaded once for nine multiply-adds.
struct SampleGradWeight<'a> {
    g: &'a ConvGeometry,
    xb: &'a [f32],
    dyb: &'a [f32],
    wp: usize,
    wq: usize,
    dw: &'a mut [f32],
}

impl WithSimd for SampleGradWeight<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            g,
            xb,
            dyb,
            wp,
            wq,
            dw,
        } = self;
        let (c, h) = (g.in_channels, g.height);
        let plane = (h + 2) * wp;
        let zero = simd.splat_f32s(0.0);
        for (dyo, dwo) in dyb.chunks_exact(h * wq).zip(dw.chunks_exact_mut(c * 9)) {
            for (xc, dwc) in xb.chunks_exact(plane).zip(dwo.chunks_exact_mut(9)) {
                let mut acc = [zero; 9];
                for oy in 0..h {
                    for ox0 in (0..wq).step_by(lanes::<S>()) {
                        let d = load::<S>(&dyo[oy * wq + ox0..]);
                        for ky in 0..3 {
                            let row = &xc[(oy + ky) * wp + ox0..];
                            for kx in 0..3 {
                                let a = &mut acc[ky * 3 + kx];
                                *a = simd.mul_add_f32s(d, load::<S>(&row[kx..]), *a);
                            }
                        }
                    }
                }
                for (out, a) in dwc.iter_mut().zip(acc) {
                    *out += simd.reduce_sum_f32s(a);
                }
            }
        }
    }
}

/// Gradient of the loss with respect to the weight; `g` must satisfy [`applies`].
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]`
/// - `dy`: `[batch, out_channels, height, width]`
/// - output: `[out_channels, in_channels, 3, 3]`
pub fn grad_weight(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (c, h, wd, o) = (g.in_channels, g.height, g.width, g.out_channels);
    let wq = wd.next_multiple_of(vector_lanes());
    let wp = wq + 2;
    let arch = pulp::Arch::new();
    let per_task = g.batch.div_ceil(rayon::current_num_threads());
    x.par_chunks(c * h * wd)
        .zip(dy.par_chunks(o * h * wd))
        .with_min_len(per_task)
        .fold(
            || (vec![0.0; o * c * 9], Vec::new(), Vec::new()),
            |(mut dw, mut xb, mut dyb), (xn, dyn_)| {
                bordered(xn, c, h, wd, wp, &mut xb);
                dyb.clear();
                dyb.resize(o * h * wq, 0.0);
                for (row, s) in dyb.chunks_mut(wq).zip(dyn_.chunks(wd)) {
                    row[..wd].copy_from_slice(s);
                }
                arch.dispatch(SampleGradWeight {
                    g,
                    xb: &xb,
                    dyb: &dyb,
                    wp,
                    wq,
                    dw: &mut dw,
                });
                (dw, xb, dyb)
            },
        )
        .map(|(dw, _, _)| dw)
        .reduce(
            || vec![0.0; o * c * 9],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_weight_by_hand() {
        // O = 5 (two blocks, the second with one live lane), C = 1.
        let w: Vec<f32> = (0..45).map(|v| v as f32).collect();
        let p = pack_weight(&w, 5, 1);
        assert_eq!(p.len(), 2 * 9 * OB);
        // Block 0, tap 0: output channels 0..4, tap 0 → 0, 9, 18, 27.
        assert_eq!(&p[..4], &[0.0, 9.0, 18.0, 27.0]);
        // Block 0, tap 8: 8, 17, 26, 35.
        assert_eq!(&p[8 * OB..9 * OB], &[8.0, 17.0, 26.0, 35.0]);
        // Block 1, tap 1: channel 4's tap 1 (37), then zeros.
        assert_eq!(&p[(9 + 1) * OB..(9 + 2) * OB], &[37.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn bordered_by_hand() {
        let mut buf = vec![7.0; 3];
        bordered(&[1.0, 2.0, 3.0, 4.0], 1, 2, 2, 5, &mut buf);
        #[rustfmt::skip]
        let want = [
            0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 1.0, 2.0, 0.0, 0.0,
            0.0, 3.0, 4.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(buf, want);
    }

    #[test]
    fn takes_small_same_convolutions_only() {
        let g = ConvGeometry {
            batch: 2,
            in_channels: 16,
            height: 32,
            width: 32,
            out_channels: 16,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [(1, 1), (1, 1)],
            dilation: [1, 1],
        };
        assert!(applies(&g));
        assert!(applies(&ConvGeometry {
            out_channels: 64,
            ..g
        }));
        assert!(
            !applies(&ConvGeometry {
                in_channels: 64,
                out_channels: 64,
                ..g
            }),
            "Winograd's"
        );
        assert!(!applies(&ConvGeometry {
            in_channels: 65,
            ..g
        }));
        assert!(!applies(&ConvGeometry {
            stride: [2, 2],
            ..g
        }));
        assert!(!applies(&ConvGeometry {
            padding: [(0, 0), (0, 0)],
            ..g
        }));
        assert!(!applies(&ConvGeometry {
            kernel: [5, 5],
            ..g
        }));
    }
}
