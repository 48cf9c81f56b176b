//! Direct 3×3 convolution (padding 1, stride 1 — "same" — or 2) for 16–64 channels, in
//! oneDNN's shape: output channels in the vector lanes.
//!
//! Each sample's input is copied once into a zero-bordered buffer. For every block of
//! `NB·L` output channels (`NB` vectors of `L` lanes) and every tile of `T` output pixels of a
//! row, `NB·T` vector accumulators are summed over (input channel, ky, kx): `NB` weight loads
//! and `T` input broadcasts feed `NB·T` fused multiply-adds. The tile is then written to the
//! NCHW output, channel rows from pixel vectors: through a small transposition buffer on AVX2,
//! by an in-register transpose on AVX-512 ([`Unit::write`]).
//!
//! On AVX2 (`NB` = 2, 16 channels a block) tiles are at most [`P`] = 5 pixels (10
//! accumulators). With 6 pixels (12 accumulators, 15 of the 16 AVX2 registers) LLVM spilled
//! every accumulator after each FMA and the kernel ran at 40% of the speed of 4
//! (docs/performance.md, attempts 14, 18 and 19). On AVX-512 (32 registers; attempt 20) a
//! block is two vectors (32 channels) in tiles of at most [`P_AVX512_PAIR`] = 7 pixels, or one
//! vector (16 channels) in tiles of at most [`P_AVX512_ONE`] = 14. Either way a row takes the
//! fewest tiles that cover it exactly, as equal as they can be ([`tile_widths`]). Every form
//! sums an output's products in the same order (input channel, ky, kx), so they agree bit for
//! bit. The loops run on `pulp`'s portable vectors, on the unit [`crate::simd`] picks; a CPU
//! without a vector unit keeps the im2col path ([`applies`] is false). The input gradient is
//! this forward on the flipped, transposed weight ([`crate::conv::flipped_transposed`]).

use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::conv::ConvGeometry;
use crate::simd::{self, lanes, load, vector_lanes};

/// Output pixels per register tile on AVX2 (two vectors of output channels, 10 accumulators).
const P: usize = 5;

/// Output pixels per register tile on AVX-512 with two vectors (32 output channels) per block:
/// 14 of the 32 registers accumulate, and rows of 28, 14 and 7 pixels take whole tiles.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const P_AVX512_PAIR: usize = 7;

/// Output pixels per register tile on AVX-512 with one vector (16 output channels) per block.
const P_AVX512_ONE: usize = 14;

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
/// ("same") or 2, a multiple of two AVX2 vectors of output channels (16; one AVX-512 vector),
/// at most [`MAX_CHANNELS`] on either side, output rows of at least [`MIN_COLUMNS`] pixels, on
/// a CPU with a vector unit. (Its input gradient takes this path through the flipped weight at
/// stride 1 only.)
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

/// Input values a tile reads from one bordered row, at most: `2·(T − 1) + 3` for the widest
/// tile at stride 2.
const ROW: usize = 2 * (P_AVX512_ONE - 1) + 3;

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
/// output channels (`NB·L` of them) whose packed weight is `wb`; `size` is the output's
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

/// The `NB·T` accumulators of one tile of `T` output pixels × `NB` vectors of output channels
/// at stride `STRIDE`, summed over (input channel, ky, kx). Each bordered row is read as a
/// fixed-size array (the bounds checks go: a slice of computed length cost 10–20%, attempt 16).
#[inline(always)]
fn tile<S: Simd, const STRIDE: usize, const NB: usize, const T: usize>(
    simd: S,
    at: &At,
) -> [[S::f32s; T]; NB] {
    let l = lanes::<S>();
    let b = NB * l;
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; T]; NB];
    for (ci, wc) in at.wb.chunks_exact(9 * b).enumerate() {
        for ky in 0..3 {
            let from = ci * at.plane + (STRIDE * at.oy + ky) * at.bw + STRIDE * at.start;
            let row: &[f32; ROW] = at.xb[from..][..ROW].try_into().expect("ROW values");
            for kx in 0..3 {
                let wk = &wc[(ky * 3 + kx) * b..][..b];
                let ws: [S::f32s; NB] = std::array::from_fn(|v| load::<S>(&wk[v * l..]));
                for i in 0..T {
                    let xs = simd.splat_f32s(row[STRIDE * i + kx]);
                    for v in 0..NB {
                        acc[v][i] = simd.mul_add_f32s(ws[v], xs, acc[v][i]);
                    }
                }
            }
        }
    }
    acc
}

/// Sums one tile of `T` pixels ([`tile`]) and writes it to the NCHW output `y` (`[O, OH, OW]`)
/// through `unit`'s [`Unit::write`]: channels `blk·NB·L + 0..NB·L`, row `oy`, columns
/// `start..start + T`.
#[inline(always)]
fn tile_to<U: Unit, S: Simd, const STRIDE: usize, const NB: usize, const T: usize>(
    unit: U,
    simd: S,
    at: &At,
    buf: &mut [f32],
    y: &mut [f32],
) {
    unit.write::<S, NB, T>(tile::<S, STRIDE, NB, T>(simd, at), at, buf, y);
}

/// Writes a tile's accumulators, `[NB, T, L]` in `buf`, to the NCHW output `y`: value
/// `(v, i, lane)` to channel `blk·NB·L + v·L + lane`, row `oy`, column `start + i`. Not
/// inlined into the vector kernels: compiled for AVX-512 inside them, LLVM made this loop of
/// gathers, which cost a quarter of the kernel's time (attempt 20); the AVX-512 form
/// transposes in registers instead ([`transpose16`]).
#[inline(never)]
fn transpose_to(buf: &[f32], t: usize, l: usize, at: &At, y: &mut [f32]) {
    let [oh, ow] = at.size;
    let first = at.blk * (buf.len() / t);
    for (v, block) in buf.chunks_exact(t * l).enumerate() {
        for lane in 0..l {
            let to = ((first + v * l + lane) * oh + at.oy) * ow + at.start;
            for (i, out) in y[to..to + t].iter_mut().enumerate() {
                *out = block[i * l + lane];
            }
        }
    }
}

/// [`tile_to`] for a tile of `t` pixels, `1 ≤ t ≤ 14` (a const parameter per width).
#[inline(always)]
fn tile_of_width<U: Unit, S: Simd, const STRIDE: usize, const NB: usize>(
    unit: U,
    simd: S,
    t: usize,
    at: &At,
    buf: &mut [f32],
    y: &mut [f32],
) {
    macro_rules! widths {
        ($($w:literal)*) => {
            match t {
                $($w => tile_to::<U, S, STRIDE, NB, $w>(unit, simd, at, buf, y),)*
                _ => unreachable!("tile_widths makes tiles of 1 to {P_AVX512_ONE} pixels"),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14)
}

/// One sample's output `y` (`[O, OH, OW]`) from its bordered input `xb` (`[C, H + 2, W + 2]`
/// and [`ROW`] zeros) and the weight packed in blocks of `NB` vectors, at stride `STRIDE`, in
/// tiles of at most `PT` pixels.
struct Sample<'a, U, const STRIDE: usize, const NB: usize, const PT: usize> {
    unit: U,
    xb: &'a [f32],
    packed: &'a [f32],
    y: &'a mut [f32],
    c: usize,
    h: usize,
    w: usize,
}

impl<U: Unit, const STRIDE: usize, const NB: usize, const PT: usize> WithSimd
    for Sample<'_, U, STRIDE, NB, PT>
{
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            unit,
            xb,
            packed,
            y,
            c,
            h,
            w,
        } = self;
        let b = NB * lanes::<S>();
        let (bw, plane) = (w + 2, (h + 2) * (w + 2));
        let size = [(h - 1) / STRIDE + 1, (w - 1) / STRIDE + 1];
        let mut buf = vec![0.0f32; b * PT];
        let widths = tile_widths(size[1], PT);
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
                    tile_of_width::<U, S, STRIDE, NB>(unit, simd, t, &at, &mut buf, y);
                    start += t;
                }
            }
        }
    }
}

/// The widths of the tiles that cover a row of `w` output pixels, left to right: the fewest
/// tiles of at most `p` pixels (`⌈w / p⌉`), as equal as they can be, the wider first
/// (28 = 4 × 5 + 2 × 4 and 7 = 4 + 3 at `p` = 5: with 5 + 2 the 7-pixel layers ran 8–20%
/// slower, attempt 19).
fn tile_widths(w: usize, p: usize) -> Vec<usize> {
    let n = w.div_ceil(p.max(1));
    (0..n).map(|i| w / n + usize::from(i < w % n)).collect()
}

/// A vector unit [`Sample`] runs on, and how a tile's accumulators reach the output there.
trait Unit: Copy + Send + Sync {
    /// Runs `op` on this unit.
    fn run<Op: WithSimd>(self, op: Op) -> Op::Output;

    /// Writes one tile's accumulators (`acc[v][i]`: output channels `v·L + 0..L` of pixel `i`,
    /// vectors of this unit's `S`) to the NCHW output `y` (see [`tile_to`]); `buf` holds
    /// `NB·T·L` values of scratch.
    fn write<S: Simd, const NB: usize, const T: usize>(
        self,
        acc: [[S::f32s; T]; NB],
        at: &At,
        buf: &mut [f32],
        y: &mut [f32],
    );
}

/// AVX2 + FMA on x86-64, `pulp`'s best elsewhere ([`simd::dispatch`]).
#[derive(Clone, Copy)]
struct Avx2;

impl Unit for Avx2 {
    #[inline(always)]
    fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        simd::dispatch(op)
    }

    #[inline(always)]
    fn write<S: Simd, const NB: usize, const T: usize>(
        self,
        acc: [[S::f32s; T]; NB],
        at: &At,
        buf: &mut [f32],
        y: &mut [f32],
    ) {
        let l = lanes::<S>();
        // By value: a reference into the accumulators would keep them in memory.
        for (k, a) in acc.into_iter().flatten().enumerate() {
            buf[k * l..][..l].copy_from_slice(pulp::bytemuck::cast_slice(std::slice::from_ref(&a)));
        }
        transpose_to(&buf[..NB * T * l], T, l, at, y);
    }
}

#[cfg(target_arch = "x86_64")]
impl Unit for pulp::x86::V4 {
    #[inline(always)]
    fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        Simd::vectorize(self, op)
    }

    /// Each vector's 16 channels × `T` pixels transposed in registers ([`transpose16`]), then
    /// `T` values a channel stored under a mask.
    #[inline(always)]
    fn write<S: Simd, const NB: usize, const T: usize>(
        self,
        acc: [[S::f32s; T]; NB],
        at: &At,
        _: &mut [f32],
        y: &mut [f32],
    ) {
        use std::arch::x86_64::__m512;
        let [oh, ow] = at.size;
        let zero = self.avx512f._mm512_setzero_ps();
        for (v, pixels) in acc.into_iter().enumerate() {
            let mut rows: [__m512; 16] = [zero; 16];
            for (row, &p) in rows.iter_mut().zip(&pixels) {
                *row = pulp::cast(p);
            }
            for (lane, channel) in transpose16(self, rows).into_iter().enumerate() {
                let to = (((at.blk * NB + v) * 16 + lane) * oh + at.oy) * ow + at.start;
                self.partial_store_f32s(&mut y[to..to + T], pulp::cast(channel));
            }
        }
    }
}

/// The 16 × 16 transpose of `r` (lane `j` of the result's vector `i` is lane `i` of `r[j]`),
/// in 64 shuffles: pairs of rows interleaved, then pairs of pairs, then 128-bit blocks twice.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn transpose16(
    v4: pulp::x86::V4,
    r: [std::arch::x86_64::__m512; 16],
) -> [std::arch::x86_64::__m512; 16] {
    let f = v4.avx512f;
    // (Loops, not `array::from_fn`: a closure does not take the caller's target features, and
    // the intrinsics in it became calls.)
    let zero = f._mm512_setzero_ps();
    // t[2k] lane block q: r[2k][4q], r[2k+1][4q], r[2k][4q+1], r[2k+1][4q+1]; t[2k+1] the
    // same for 4q + 2 and 4q + 3.
    let mut t = [zero; 16];
    for k in 0..8 {
        t[2 * k] = f._mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = f._mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    // u[4k + m] lane block q: rows 4k..4k+4 of column 4q + m.
    let mut u = [zero; 16];
    for k in 0..4 {
        for h in 0..2 {
            let a = f._mm512_castps_pd(t[4 * k + h]);
            let b = f._mm512_castps_pd(t[4 * k + 2 + h]);
            u[4 * k + 2 * h] = f._mm512_castpd_ps(f._mm512_unpacklo_pd(a, b));
            u[4 * k + 2 * h + 1] = f._mm512_castpd_ps(f._mm512_unpackhi_pd(a, b));
        }
    }
    let mut out = [zero; 16];
    for m in 0..4 {
        // Blocks 0 and 2 of u[m] and u[4 + m], then of u[8 + m] and u[12 + m]; 1 and 3 alike.
        let x0 = f._mm512_shuffle_f32x4::<0x88>(u[m], u[4 + m]);
        let x1 = f._mm512_shuffle_f32x4::<0xdd>(u[m], u[4 + m]);
        let y0 = f._mm512_shuffle_f32x4::<0x88>(u[8 + m], u[12 + m]);
        let y1 = f._mm512_shuffle_f32x4::<0xdd>(u[8 + m], u[12 + m]);
        out[m] = f._mm512_shuffle_f32x4::<0x88>(x0, y0);
        out[8 + m] = f._mm512_shuffle_f32x4::<0xdd>(x0, y0);
        out[4 + m] = f._mm512_shuffle_f32x4::<0x88>(x1, y1);
        out[12 + m] = f._mm512_shuffle_f32x4::<0xdd>(x1, y1);
    }
    out
}

/// Every sample of `x` through [`Sample`] on `unit`, in blocks of `NB` vectors of `lanes`
/// output channels and tiles of at most `PT` pixels, into `y`.
fn convolve<U: Unit, const NB: usize, const PT: usize>(
    unit: U,
    lanes: usize,
    g: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    y: &mut [f32],
) {
    let (c, h, wd, o) = (g.in_channels, g.height, g.width, g.out_channels);
    let packed = pack_weight(w, o, c, NB * lanes);
    let strided = g.stride[0] == 2;
    y.par_chunks_mut(y.len() / g.batch.max(1))
        .zip(x.par_chunks(c * h * wd))
        .for_each_init(Vec::new, |xb, (y, xn)| {
            bordered(xn, c, h, wd, xb);
            let (xb, packed) = (&xb[..], &packed[..]);
            if strided {
                let op = Sample::<U, 2, NB, PT> {
                    unit,
                    xb,
                    packed,
                    y,
                    c,
                    h,
                    w: wd,
                };
                unit.run(op);
            } else {
                let op = Sample::<U, 1, NB, PT> {
                    unit,
                    xb,
                    packed,
                    y,
                    c,
                    h,
                    w: wd,
                };
                unit.run(op);
            }
        });
}

/// Forward convolution without bias; `g` must satisfy [`applies`]. On AVX-512 a block is two
/// vectors (32 output channels) in tiles of up to 7 pixels, or one vector (16 channels) in
/// tiles of up to 14; on AVX2 two vectors (16 channels) in tiles of up to 5.
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]` (flat, NCHW)
/// - `w`: `[out_channels, in_channels, 3, 3]`
/// - output: `[batch, out_channels, oh, ow]` (`height, width` at stride 1, `⌈height / 2⌉,
///   ⌈width / 2⌉` at stride 2)
pub fn forward(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    let o = g.out_channels;
    let [oh, ow] = g.output_size().expect("a geometry `applies` takes");
    let mut y = vec![0.0; g.batch * o * oh * ow];
    if g.batch == 0 {
        return y;
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = simd::avx512() {
        const L: usize = lanes::<pulp::x86::V4>();
        if o.is_multiple_of(2 * L) {
            convolve::<_, 2, P_AVX512_PAIR>(v4, L, g, x, w, &mut y);
        } else {
            convolve::<_, 1, P_AVX512_ONE>(v4, L, g, x, w, &mut y);
        }
        return y;
    }
    convolve::<_, 2, P>(Avx2, vector_lanes(), g, x, w, &mut y);
    y
}

/// The forward on every vector unit and blocking this CPU has, named (tests compare each with
/// the definition; [`forward`] takes one of them).
#[cfg(test)]
pub(crate) fn forward_on_every_unit(
    g: &ConvGeometry,
    x: &[f32],
    w: &[f32],
) -> Vec<(&'static str, Vec<f32>)> {
    let [oh, ow] = g.output_size().expect("a geometry `applies` takes");
    let y = || vec![0.0; g.batch * g.out_channels * oh * ow];
    let mut all = vec![];
    let mut avx2 = y();
    convolve::<_, 2, P>(Avx2, vector_lanes(), g, x, w, &mut avx2);
    all.push(("AVX2 (2 vectors × 5 px)", avx2));
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = simd::avx512() {
        const L: usize = lanes::<pulp::x86::V4>();
        let mut one = y();
        convolve::<_, 1, P_AVX512_ONE>(v4, L, g, x, w, &mut one);
        all.push(("AVX-512 (1 vector × 14 px)", one));
        if g.out_channels.is_multiple_of(2 * L) {
            let mut pair = y();
            convolve::<_, 2, P_AVX512_PAIR>(v4, L, g, x, w, &mut pair);
            all.push(("AVX-512 (2 vectors × 7 px)", pair));
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn transpose16_moves_lane_j_of_vector_i_to_lane_i_of_vector_j() {
        let Some(v4) = simd::avx512() else { return };
        let r: [std::arch::x86_64::__m512; 16] = std::array::from_fn(|i| {
            pulp::cast(std::array::from_fn::<f32, 16, _>(|j| (16 * i + j) as f32))
        });
        for (j, column) in transpose16(v4, r).into_iter().enumerate() {
            let got: [f32; 16] = pulp::cast(column);
            let want: [f32; 16] = std::array::from_fn(|i| (16 * i + j) as f32);
            assert_eq!(got, want, "vector {j}");
        }
    }

    #[test]
    fn tiles_cover_a_row_exactly_with_as_few_narrow_tiles_as_possible() {
        assert_eq!(tile_widths(28, P), [5, 5, 5, 5, 4, 4]);
        assert_eq!(tile_widths(14, P), [5, 5, 4]);
        assert_eq!(tile_widths(7, P), [4, 3]);
        assert_eq!(tile_widths(6, P), [3, 3]);
        assert_eq!(tile_widths(4, P), [4]);
        assert_eq!(tile_widths(5, P), [5]);
        assert_eq!(tile_widths(28, P_AVX512_PAIR), [7, 7, 7, 7]);
        assert_eq!(tile_widths(16, P_AVX512_PAIR), [6, 5, 5]);
        assert_eq!(tile_widths(32, P_AVX512_ONE), [11, 11, 10]);
        for p in [P, P_AVX512_PAIR, P_AVX512_ONE] {
            for w in 1..100 {
                let widths = tile_widths(w, p);
                assert_eq!(widths.iter().sum::<usize>(), w, "{w}");
                assert!(widths.iter().all(|&t| (1..=p).contains(&t)), "{w}");
                assert_eq!(widths.len(), w.div_ceil(p), "{w}");
                assert!(
                    widths.windows(2).all(|t| t[0] >= t[1] && t[0] - t[1] <= 1),
                    "{w}"
                );
            }
        }
    }
}
