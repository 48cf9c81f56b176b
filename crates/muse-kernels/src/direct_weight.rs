//! Weight gradient of 3×3 convolutions with padding 1 and stride 1 or 2, without a patch
//! matrix:
//!
//! `dW[o, c, ky, kx] = Σ_n Σ_(y, x) dY[n, o, y, x] · X[n, c, s·y + ky − 1, s·x + kx − 1]`
//! (zero outside the input), here for stride `s` = 1.
//!
//! A group of samples is laid out channel by channel as one stream: rows of `W + 1` values
//! (the extra column zero), samples of `H + 1` rows (the extra row zero), so the zero column
//! and row after each row and sample are the border of the next as well as of their own. The
//! output gradient `dY'[o]` and input `X'[c]` take this layout, the input shifted by one row
//! and one column (`X'[c][j + (W + 1) + 1] = X[n, c, y, x]` where `dY'[o][j] = dY[n, o, y, x]`),
//! and each tap becomes one contiguous dot product over the group,
//! `dW[o, c, ky, kx] = Σ_j dY'[o][j] · X'[c][j + ky·(W + 1) + kx]`: a product that reaches past
//! a row or a sample meets a zero of `X'` or of `dY'`. Padding costs `(H + 1)(W + 1) / HW`:
//! 7% at 28 px, 15% at 14, 31% at 7.
//!
//! A stride-2 convolution reads input row `2y + ky − 1`: its input is split into four phases
//! (`X[2i + py, 2j + px]`), each laid out like `dY'` (on the output's rows), and every tap reads
//! one phase at a shift of 0 or 1 row and column — `ky = 0` reads phase row 1 one row up,
//! `ky = 1` phase row 0, `ky = 2` phase row 1, alike for `kx` — so the same tile runs
//! unchanged.
//!
//! Pixels lie in the vector lanes; a register tile of [`M`] output channels × the three `kx`
//! taps of one `(c, ky)` keeps 12 vector accumulators, fed per step by [`M`] loads of `dY'`
//! and three of `X'` (seven loads per twelve multiply-adds, where the per-pair kernel of
//! attempt 10 needed more than one per multiply-add). A group holds as many whole samples as
//! fit in [`SEGMENT_PIXELS`] (at least one), long enough that the tile's horizontal sums are
//! a few per cent of its work and short enough that its operands stay in cache; the stream of
//! one sample of a larger map is cut into equal segments that each run every tile. Groups are
//! spread over the rayon pool, each worker summing its own gradient.

use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::conv::ConvGeometry;
use crate::direct;
use crate::simd::{self, lanes, vector_lanes};

/// Output channels per register tile (12 accumulators with the three `kx` taps).
const M: usize = 4;

/// Pixels per segment of a group's streams, at most (a group of samples fills one when the
/// samples are small): each segment runs every tile, so that a tile's output-gradient
/// streams (4 × 4 KiB) and one input stream stay in the L1 cache whatever the map size.
/// Measured on WRN-16-1's maps (docs/performance.md, attempt 15): 256- and 512-pixel
/// segments cost 10–25% more, from the horizontal sums and the tiles' set-up.
const SEGMENT_PIXELS: usize = 1024;

/// Whether this path is on: with [`direct::enabled`], unless the environment sets
/// `MUSE_DIRECT_WEIGHT=0` (read once), which leaves the weight gradient on im2col or
/// Winograd (to compare speed or rounding).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    direct::enabled()
        && *ON.get_or_init(|| std::env::var("MUSE_DIRECT_WEIGHT").map_or(true, |v| v != "0"))
}

/// Channel counts on either side up to which this path takes any map size.
const MAX_CHANNELS: usize = 64;

/// Channel counts up to which it takes maps of at most [`SMALL_MAP`] pixels.
const MAX_CHANNELS_SMALL_MAP: usize = 128;

/// Pixels of the maps that count as small (14 × 14).
const SMALL_MAP: usize = 196;

/// Whether this module computes the weight gradient of `g`: a 3×3 convolution with padding 1
/// and stride 1 ("same") or 2, a multiple of [`M`] output channels, at most [`MAX_CHANNELS`] on either side (or
/// [`MAX_CHANNELS_SMALL_MAP`] on maps of at most [`SMALL_MAP`] pixels), on a CPU with a vector
/// unit. Wider convolutions stay on Winograd, whose weight gradient does fewer multiply-adds
/// and, on larger maps, wins: per pass (`cargo bench --bench convs -- --net generator20` and
/// `generator28`) 128→128 at 10 and 14 px takes 16–18 ms here against Winograd's 21–27, but
/// 128→64 at 20 px 32 ms against 25, and at 28 px 58 against 21.
pub fn applies(g: &ConvGeometry) -> bool {
    let widest = g.in_channels.max(g.out_channels);
    let max = if g.height * g.width <= SMALL_MAP {
        MAX_CHANNELS_SMALL_MAP
    } else {
        MAX_CHANNELS
    };
    g.padded_3x3_stride().is_some()
        && vector_lanes() > 1
        && g.out_channels.is_multiple_of(M)
        && g.in_channels > 0
        && widest <= max
        && g.height > 0
        && g.width > 0
}

/// The stream layout of one group of samples.
#[derive(Clone, Copy)]
struct Layout {
    c: usize,
    h: usize,
    w: usize,
    /// Stride (1 or 2): the input has `stride²` phases.
    stride: usize,
    oh: usize,
    ow: usize,
    /// Values of one output-gradient stream `dY'[o]`: `samples·(OH + 1)·(OW + 1)` rounded up
    /// to whole vectors.
    len: usize,
    /// Values of one input stream `X'[phase, c]`: room for `len` values after the largest
    /// shift.
    xlen: usize,
}

impl Layout {
    fn new(g: &ConvGeometry, samples: usize, lanes: usize) -> Self {
        let stride = g.stride[0];
        let [oh, ow] = g.output_size().expect("a geometry `applies` takes");
        let q = ow + 1;
        let len = (samples * (oh + 1) * q).next_multiple_of(lanes);
        Self {
            c: g.in_channels,
            h: g.height,
            w: g.width,
            stride,
            oh,
            ow,
            len,
            xlen: len + 2 * q + 2,
        }
    }

    /// The phase and shift a tap reads along one axis: stride 1 reads its one phase `k`
    /// values on; stride 2 reads phase 1 one value back (`k = 0`), phase 0 (`k = 1`) or
    /// phase 1 (`k = 2`), on streams that start one value in.
    fn tap(&self, k: usize) -> (usize, usize) {
        if self.stride == 1 {
            (0, k)
        } else {
            [(1, 0), (0, 1), (1, 1)][k]
        }
    }

    /// Appends to `buf` the streams of `src` (`[s, K, h, w]`, consecutive samples): for
    /// every phase `(py, px)` of `step` (one phase for `step` 1) and channel, the values
    /// `src[n, k, step·i + py, step·j + px]` at `offset + n·(OH + 1)·(OW + 1) + i·(OW + 1) + j`
    /// of a stream of `len` values, zero elsewhere.
    fn streams(
        &self,
        src: &[f32],
        [k, h, w]: [usize; 3],
        step: usize,
        len: usize,
        offset: usize,
        buf: &mut Vec<f32>,
    ) {
        let (q, plane) = (self.ow + 1, h * w);
        let start = buf.len();
        buf.resize(start + step * step * k * len, 0.0);
        let phases = buf[start..].chunks_mut(k * len);
        for (phase, streams) in phases.enumerate() {
            let (py, px) = (phase / step, phase % step);
            for (n, sample) in src.chunks(k * plane).enumerate() {
                let at = offset + n * (self.oh + 1) * q;
                for (stream, image) in streams.chunks_mut(len).zip(sample.chunks(plane)) {
                    let rows = image.chunks(w).skip(py).step_by(step);
                    for (row, s) in stream[at..].chunks_mut(q).zip(rows) {
                        if step == 1 {
                            row[..w].copy_from_slice(s);
                        } else {
                            for (d, &v) in row.iter_mut().zip(s.iter().skip(px).step_by(step)) {
                                *d = v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The weight gradient `dw` (`[O, C, 3, 3]`, added to) of one group of samples from its
/// streams: inputs `xs` (`[phases, C, xlen]`) and output gradients `dys` (`[O, len]`).
struct Group<'a> {
    xs: &'a [f32],
    dys: &'a [f32],
    dw: &'a mut [f32],
    at: Layout,
}

impl WithSimd for Group<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self { xs, dys, dw, at } = self;
        let (c, len, q) = (at.c, at.len, at.ow + 1);
        let vectors = len / lanes::<S>();
        let segments = vectors.div_ceil((SEGMENT_PIXELS / lanes::<S>()).max(1));
        let segment = vectors.div_ceil(segments.max(1)).max(1);
        let zero = simd.splat_f32s(0.0);
        let taps: [(usize, usize); 3] = std::array::from_fn(|k| at.tap(k));
        for start in (0..vectors).step_by(segment) {
            let end = (start + segment).min(vectors);
            for (ob, dblock) in dys.chunks_exact(M * len).enumerate() {
                let d: [&[S::f32s]; M] = std::array::from_fn(|m| {
                    &S::as_simd_f32s(&dblock[m * len..][..len]).0[start..end]
                });
                for ci in 0..c {
                    for (ky, &(py, dy)) in taps.iter().enumerate() {
                        let x: [&[S::f32s]; 3] = std::array::from_fn(|kx| {
                            let (px, dx) = taps[kx];
                            let phase = py * at.stride + px;
                            let stream = &xs[(phase * c + ci) * at.xlen..][..at.xlen];
                            &S::as_simd_f32s(&stream[dy * q + dx..][..len]).0[start..end]
                        });
                        let mut acc = [[zero; 3]; M];
                        for i in 0..end - start {
                            let xv = [x[0][i], x[1][i], x[2][i]];
                            for (dm, am) in d.iter().zip(acc.iter_mut()) {
                                let dv = dm[i];
                                for (a, &xk) in am.iter_mut().zip(&xv) {
                                    *a = simd.mul_add_f32s(dv, xk, *a);
                                }
                            }
                        }
                        // By value: a reference into `acc` would keep the accumulators in
                        // memory.
                        for (m, row) in acc.into_iter().enumerate() {
                            for (kx, a) in row.into_iter().enumerate() {
                                dw[((ob * M + m) * c + ci) * 9 + ky * 3 + kx] +=
                                    simd.reduce_sum_f32s(a);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Gradient of the loss with respect to the weight; `g` must satisfy [`applies`].
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]` (flat, NCHW)
/// - `dy`: `[batch, out_channels, oh, ow]`
/// - output: `[out_channels, in_channels, 3, 3]`
pub fn grad_weight(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (c, o, plane) = (g.in_channels, g.out_channels, g.height * g.width);
    let size = o * c * 9;
    if g.batch == 0 {
        return vec![0.0; size];
    }
    let lanes = vector_lanes();
    let one = Layout::new(g, 1, 1);
    let oplane = one.oh * one.ow;
    let s = (SEGMENT_PIXELS / ((one.oh + 1) * (one.ow + 1))).clamp(1, g.batch);
    let groups = g.batch.div_ceil(s);
    let per_task = crate::conv::min_len_per_task(groups);
    x.par_chunks(s * c * plane)
        .zip(dy.par_chunks(s * o * oplane))
        .with_min_len(per_task)
        .fold(
            || (vec![0.0; size], Vec::new(), Vec::new()),
            |(mut dw, mut xs, mut dys), (xg, dyg)| {
                let at = Layout::new(g, xg.len() / (c * plane), lanes);
                // The input streams start one row and one column in, so that a shift of 0
                // reads the row above and the column before (the border).
                let offset = at.ow + 2;
                xs.clear();
                dys.clear();
                at.streams(xg, [c, at.h, at.w], at.stride, at.xlen, offset, &mut xs);
                at.streams(dyg, [o, at.oh, at.ow], 1, at.len, 0, &mut dys);
                simd::dispatch(Group {
                    xs: &xs,
                    dys: &dys,
                    dw: &mut dw,
                    at,
                });
                (dw, xs, dys)
            },
        )
        .map(|(dw, _, _)| dw)
        .reduce(
            || vec![0.0; size],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        )
}
