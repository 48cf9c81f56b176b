//! Direct 3×3 convolution (padding 1, stride 1 — "same" — or 2) for 16–64 channels, in
//! oneDNN's shape: output channels in the vector lanes.
//!
//! Each sample's input is copied once into a zero-bordered buffer. For every block of
//! `2·L` output channels (two `L`-lane vectors) and every tile of `T ≤ P` output pixels of a
//! row, `2·T` vector accumulators are summed over (input channel, ky, kx): two weight loads
//! and `T` input broadcasts feed `2·T` fused multiply-adds. The tile is then written to the
//! NCHW output through a small transposition buffer.
//!
//! Tiles are at most [`P`] = 5 pixels (10 accumulators); a row takes tiles of 5 and 4 that
//! cover it exactly where they can, else tiles of 4 and the rest ([`tile_widths`]; until
//! attempt 18 a row's last tile overlapped the one before). With 6 pixels (12 accumulators,
//! 15 of the 16 AVX2 registers) LLVM spilled every accumulator after each FMA and the kernel
//! ran at 40% of the speed of 4 (docs/performance.md, attempts 14, 18 and 19). The loops run
//! on `pulp`'s portable vectors under its runtime dispatch (AVX2 + FMA on x86-64); a CPU
//! without a vector unit keeps the im2col path ([`applies`] is false). The input gradient is
//! this forward on the flipped, transposed weight ([`crate::conv::flipped_transposed`]).

use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::conv::ConvGeometry;

/// Output pixels per register tile.
const P: usize = 5;

/// Fewest output columns this path takes (narrower maps stay on im2col).
const MIN_COLUMNS: usize = 4;

/// Largest channel count on either side this path takes (wider convolutions stay on Winograd).
const MAX_CHANNELS: usize = 64;

/// Whether the direct path is on: it is unless the environment sets `MUSE_DIRECT=0` (read
/// once), which puts these convolutions back on im2col or Winograd (to compare speed or
/// rounding).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("MUSE_DIRECT").map_or(true, |v| v != "0"))
}

/// Whether this module computes the convolution `g`: a 3×3 one with padding 1 and stride 1
/// ("same") or 2, a multiple of two vectors of output channels, at most [`MAX_CHANNELS`] on
/// either side, output rows of at least [`MIN_COLUMNS`] pixels, on a CPU with a vector unit.
/// (Its input gradient takes this path through the flipped weight at stride 1 only.)
pub fn applies(g: &ConvGeometry) -> bool {
    let block = 2 * vector_lanes();
    g.padded_3x3_stride().is_some()
        && block > 2
        && g.out_channels.is_multiple_of(block)
        && g.out_channels <= MAX_CHANNELS
        && (1..=MAX_CHANNELS).contains(&g.in_channels)
        && g.height > 0
        && g.output_size().is_some_and(|[_, ow]| ow >= MIN_COLUMNS)
}

/// `f32` lanes of the vectors [`pulp::Arch::new`] dispatches to (1 without a vector unit).
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
    *LANES.get_or_init(|| pulp::Arch::new().dispatch(Lanes))
}

/// `f32` values in one of `S`'s vectors.
pub(crate) const fn lanes<S: Simd>() -> usize {
    std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>()
}

/// One vector from the first `lanes::<S>()` values of `s` (any alignment).
#[inline(always)]
fn load<S: Simd>(s: &[f32]) -> S::f32s {
    pulp::bytemuck::pod_read_unaligned(pulp::bytemuck::cast_slice(&s[..lanes::<S>()]))
}

/// The weight `[O, C, 3, 3]` as `[O / B, C, 9, B]` for blocks of `B` output channels.
fn pack_weight(w: &[f32], o: usize, c: usize, b: usize) -> Vec<f32> {
    let mut packed = vec![0.0; w.len()];
    for oc in 0..o {
        for ic in 0..c {
            for k in 0..9 {
                packed[(((oc / b) * c + ic) * 9 + k) * b + oc % b] = w[(oc * c + ic) * 9 + k];
            }
        }
    }
    packed
}

/// Input values a tile reads from one bordered row, at most: `2·(P − 1) + 3` (stride 2).
const ROW: usize = 2 * (P - 1) + 3;

/// One sample's channels (`[C, H, W]`) with a one-pixel zero border: `[C, H + 2, W + 2]`,
/// followed by [`ROW`] zeros so that every tile reads a whole [`ROW`]-value array.
fn bordered(x: &[f32], c: usize, h: usize, w: usize, buf: &mut Vec<f32>) {
    let bw = w + 2;
    buf.clear();
    buf.resize(c * (h + 2) * bw + ROW, 0.0);
    for (plane, src) in buf.chunks_mut((h + 2) * bw).zip(x.chunks(h * w)) {
        for (row, s) in plane[bw..].chunks_mut(bw).zip(src.chunks(w)) {
            row[1..=w].copy_from_slice(s);
        }
    }
}

/// Where one tile reads and writes: output row `oy` from column `start`, in block `blk` of
/// output channels (`2·L` of them) whose packed weight is `wb`; `size` is the output's
/// `[OH, OW]`.
struct At<'a> {
    xb: &'a [f32],
    wb: &'a [f32],
    plane: usize,
    bw: usize,
    blk: usize,
    size: [usize; 2],
    oy: usize,
    start: usize,
}

/// The `2·T` accumulators of one tile of `T` output pixels at stride `STRIDE`, summed over
/// (input channel, ky, kx). Each bordered row is read as a fixed-size array (the bounds checks
/// go: a slice of computed length cost 10–20%, attempt 16).
#[inline(always)]
fn tile<S: Simd, const STRIDE: usize, const T: usize>(simd: S, at: &At) -> [[S::f32s; T]; 2] {
    let l = lanes::<S>();
    let b = 2 * l;
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; T]; 2];
    for (ci, wc) in at.wb.chunks_exact(9 * b).enumerate() {
        for ky in 0..3 {
            let from = ci * at.plane + (STRIDE * at.oy + ky) * at.bw + STRIDE * at.start;
            let row: &[f32; ROW] = at.xb[from..][..ROW].try_into().expect("ROW values");
            for kx in 0..3 {
                let wk = &wc[(ky * 3 + kx) * b..][..b];
                let (w0, w1) = (load::<S>(wk), load::<S>(&wk[l..]));
                for i in 0..T {
                    let xs = simd.splat_f32s(row[STRIDE * i + kx]);
                    acc[0][i] = simd.mul_add_f32s(w0, xs, acc[0][i]);
                    acc[1][i] = simd.mul_add_f32s(w1, xs, acc[1][i]);
                }
            }
        }
    }
    acc
}

/// Sums one tile of `T` pixels ([`tile`]) and writes it to the NCHW output `y` (`[O, OH, OW]`)
/// through `buf` (`2·L·T` values): channels `blk·2L + 0..2L`, row `oy`, columns
/// `start..start + T`.
#[inline(always)]
fn tile_to<S: Simd, const STRIDE: usize, const T: usize>(
    simd: S,
    at: &At,
    buf: &mut [f32],
    y: &mut [f32],
) {
    let l = lanes::<S>();
    let [oh, ow] = at.size;
    // By value: a reference into the accumulators would keep them in memory.
    for (v, vectors) in tile::<S, STRIDE, T>(simd, at).into_iter().enumerate() {
        for (i, a) in vectors.into_iter().enumerate() {
            let vals: &[f32] = pulp::bytemuck::cast_slice(std::slice::from_ref(&a));
            for (lane, &val) in vals.iter().enumerate() {
                buf[(v * l + lane) * T + i] = val;
            }
        }
    }
    for (oc, t) in buf[..2 * l * T].chunks_exact(T).enumerate() {
        let to = ((at.blk * 2 * l + oc) * oh + at.oy) * ow + at.start;
        y[to..to + T].copy_from_slice(t);
    }
}

/// One sample's output `y` (`[O, OH, OW]`) from its bordered input `xb` (`[C, H + 2, W + 2]`
/// and [`ROW`] zeros) and the packed weight, at stride `STRIDE`.
struct Sample<'a, const STRIDE: usize> {
    xb: &'a [f32],
    packed: &'a [f32],
    y: &'a mut [f32],
    c: usize,
    h: usize,
    w: usize,
}

impl<const STRIDE: usize> WithSimd for Sample<'_, STRIDE> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            xb,
            packed,
            y,
            c,
            h,
            w,
        } = self;
        let b = 2 * lanes::<S>();
        let (bw, plane) = (w + 2, (h + 2) * (w + 2));
        let size = [(h - 1) / STRIDE + 1, (w - 1) / STRIDE + 1];
        let mut buf = vec![0.0f32; b * P];
        let widths = tile_widths(size[1]);
        for (blk, wb) in packed.chunks_exact(c * 9 * b).enumerate() {
            for oy in 0..size[0] {
                let mut start = 0;
                for &t in &widths {
                    let at = At {
                        xb,
                        wb,
                        plane,
                        bw,
                        blk,
                        size,
                        oy,
                        start,
                    };
                    match t {
                        P => tile_to::<S, STRIDE, P>(simd, &at, &mut buf, y),
                        4 => tile_to::<S, STRIDE, 4>(simd, &at, &mut buf, y),
                        3 => tile_to::<S, STRIDE, 3>(simd, &at, &mut buf, y),
                        2 => tile_to::<S, STRIDE, 2>(simd, &at, &mut buf, y),
                        _ => tile_to::<S, STRIDE, 1>(simd, &at, &mut buf, y),
                    }
                    start += t;
                }
            }
        }
    }
}

/// The widths of the tiles that cover a row of `w` output pixels, left to right: `⌈w / P⌉`
/// tiles of [`P`] and `P − 1` pixels when they can make `w` exactly (28 = 4 × 5 + 2 × 4,
/// 14 = 5 + 5 + 4), else tiles of `P − 1` and the rest (7 = 4 + 3: with 5 + 2 the 7-pixel
/// layers ran 8–20% slower, attempt 19).
fn tile_widths(w: usize) -> Vec<usize> {
    let n = w.div_ceil(P);
    if let Some(full) = w.checked_sub((P - 1) * n) {
        let mut widths = vec![P; full];
        widths.resize(n, P - 1);
        widths
    } else {
        let mut widths = vec![P - 1; w / (P - 1)];
        widths.extend((!w.is_multiple_of(P - 1)).then_some(w % (P - 1)));
        widths
    }
}

/// [`Sample`] at stride `STRIDE` on the vector unit `arch` dispatches to; `[c, h, w]` are the
/// input's channels, height and width.
fn run<const STRIDE: usize>(
    arch: pulp::Arch,
    xb: &[f32],
    packed: &[f32],
    y: &mut [f32],
    [c, h, w]: [usize; 3],
) {
    arch.dispatch(Sample::<STRIDE> {
        xb,
        packed,
        y,
        c,
        h,
        w,
    });
}

/// Forward convolution without bias; `g` must satisfy [`applies`].
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]` (flat, NCHW)
/// - `w`: `[out_channels, in_channels, 3, 3]`
/// - output: `[batch, out_channels, oh, ow]` (`height, width` at stride 1, `⌈height / 2⌉,
///   ⌈width / 2⌉` at stride 2)
pub fn forward(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (c, h, wd, o) = (g.in_channels, g.height, g.width, g.out_channels);
    let [oh, ow] = g.output_size().expect("a geometry `applies` takes");
    let mut y = vec![0.0; g.batch * o * oh * ow];
    let packed = pack_weight(w, o, c, 2 * vector_lanes());
    let arch = pulp::Arch::new();
    let strided = g.stride[0] == 2;
    y.par_chunks_mut(o * oh * ow)
        .zip(x.par_chunks(c * h * wd))
        .for_each_init(Vec::new, |xb, (y, xn)| {
            bordered(xn, c, h, wd, xb);
            let dims = [c, h, wd];
            if strided {
                run::<2>(arch, xb, &packed, y, dims);
            } else {
                run::<1>(arch, xb, &packed, y, dims);
            }
        });
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_a_row_exactly_with_as_few_narrow_tiles_as_possible() {
        assert_eq!(tile_widths(28), [5, 5, 5, 5, 4, 4]);
        assert_eq!(tile_widths(14), [5, 5, 4]);
        assert_eq!(tile_widths(7), [4, 3]);
        assert_eq!(tile_widths(6), [4, 2]);
        assert_eq!(tile_widths(4), [4]);
        assert_eq!(tile_widths(5), [5]);
        for w in 1..100 {
            let widths = tile_widths(w);
            assert_eq!(widths.iter().sum::<usize>(), w, "{w}");
            assert!(widths.iter().all(|&t| (1..=P).contains(&t)), "{w}");
        }
    }
}
