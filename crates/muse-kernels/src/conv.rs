//! 2-D convolution (groups 1) on `f32` slices in NCHW layout, as im2col + one GEMM per sample:
//! forward, gradient with respect to the weight and to the input. No Burn types: the flex
//! glue (`flex.rs`) hands these slices in and wraps the results.
//!
//! Per sample `n` the patch matrix `cols_n` is `[K, P]` with `K = C·kh·kw` rows ordered
//! `(c, ky, kx)` (the weight's own row-major order) and `P = oh·ow` columns, so that
//!
//! - forward: `Y_n[O, P] = W[O, K] · cols_n`, written straight into the NCHW output;
//! - weight gradient: `dW[O, K] = Σ_n dY_n[O, P] · cols_nᵀ` (a transposed view, no copy);
//! - input gradient: `dcols_n[K, P] = Wᵀ · dY_n`, then scattered back (col2im).
//!
//! A pointwise convolution (1×1, stride 1, no padding) has `cols_n = x_n` and skips both
//! rearrangements. A "same" 3×3 convolution of 16–64 channels takes the direct kernels
//! instead (`direct.rs`: forward and input gradient; `direct_weight.rs`: weight gradient), and
//! a wider one Winograd's F(2×2, 3×3) (`winograd.rs`). Samples run in parallel on the rayon
//! pool, one reusable patch buffer each.

use rayon::prelude::*;

use crate::gemm::{MatRef, matmul};
use crate::{direct, direct_weight, winograd};

/// Shapes and options of one convolution: input `[batch, in_channels, height, width]`, weight
/// `[out_channels, in_channels, kernel[0], kernel[1]]`, groups 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Batch size.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride (non-zero).
    pub stride: [usize; 2],
    /// `(begin, end)` zero padding of height and width.
    pub padding: [(usize, usize); 2],
    /// Vertical and horizontal dilation (non-zero).
    pub dilation: [usize; 2],
}

impl ConvGeometry {
    /// Output height and width, `None` when the (dilated) kernel does not fit the padded input
    /// or a stride or dilation is zero.
    pub fn output_size(&self) -> Option<[usize; 2]> {
        let dim = |i: usize, size: usize| {
            let (s, d) = (self.stride[i], self.dilation[i]);
            if s == 0 || d == 0 || self.kernel[i] == 0 {
                return None;
            }
            let padded = size + self.padding[i].0 + self.padding[i].1;
            let span = d * (self.kernel[i] - 1) + 1;
            (padded >= span).then(|| (padded - span) / s + 1)
        };
        Some([dim(0, self.height)?, dim(1, self.width)?])
    }

    /// The stride of a 3×3 convolution with padding 1 on every side, dilation 1 and the same
    /// stride of 1 or 2 each way (the "same" convolution and its down-sampling twin, the shapes
    /// the direct and Winograd paths take); `None` for any other.
    pub(crate) fn padded_3x3_stride(&self) -> Option<usize> {
        (self.kernel == [3, 3]
            && self.dilation == [1, 1]
            && self.padding == [(1, 1), (1, 1)]
            && (self.stride == [1, 1] || self.stride == [2, 2]))
        .then_some(self.stride[0])
    }

    /// The same geometry with input and output channels swapped (an input gradient's).
    pub(crate) fn channels_swapped(&self) -> Self {
        Self {
            in_channels: self.out_channels,
            out_channels: self.in_channels,
            ..*self
        }
    }

    fn rows(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    fn positions(&self) -> usize {
        let [oh, ow] = self.output_size().unwrap_or([0, 0]);
        oh * ow
    }

    fn input_len(&self) -> usize {
        self.in_channels * self.height * self.width
    }

    fn pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [(0, 0), (0, 0)]
    }

    /// Output columns `ox` whose input column `ox·stride + offset` lies in `0..size`.
    fn valid_range(out: usize, stride: usize, offset: isize, size: usize) -> (usize, usize) {
        let ceil_div = |a: isize, b: isize| (a + b - 1).div_euclid(b);
        let s = stride as isize;
        let lo = ceil_div(-offset, s).clamp(0, out as isize) as usize;
        let hi = ceil_div(size as isize - offset, s).clamp(lo as isize, out as isize) as usize;
        (lo, hi)
    }

    /// Visits every (patch row, output row) pair with the input row it reads, if any:
    /// `f(cols_run_start, input_row_start, column offset, kx range)`, where the patch matrix
    /// has rows of `row_stride` values and this sample's columns start at `col_offset`.
    fn for_each_run(
        &self,
        row_stride: usize,
        col_offset: usize,
        mut f: impl FnMut(usize, Option<usize>, isize, (usize, usize)),
    ) {
        let [oh, ow] = self.output_size().unwrap_or([0, 0]);
        let [kh, kw] = self.kernel;
        let (h, w) = (self.height, self.width);
        for c in 0..self.in_channels {
            for ky in 0..kh {
                for kx in 0..kw {
                    let row = (c * kh + ky) * kw + kx;
                    let off_x = (kx * self.dilation[1]) as isize - self.padding[1].0 as isize;
                    let range = Self::valid_range(ow, self.stride[1], off_x, w);
                    for oy in 0..oh {
                        let iy = (oy * self.stride[0] + ky * self.dilation[0]) as isize
                            - self.padding[0].0 as isize;
                        let input_row = (0..h as isize)
                            .contains(&iy)
                            .then(|| (c * h + iy as usize) * w);
                        f(
                            row * row_stride + col_offset + oy * ow,
                            input_row,
                            off_x,
                            range,
                        );
                    }
                }
            }
        }
    }

    /// Fills one sample's columns `col_offset..col_offset + P` of the patch matrix `cols`
    /// (`K` rows of `row_stride` values) from the sample `x` (`[C, H, W]`).
    fn im2col(&self, x: &[f32], cols: &mut [f32], row_stride: usize, col_offset: usize) {
        let ow = self.output_size().map_or(0, |s| s[1]);
        let sx = self.stride[1];
        self.for_each_run(
            row_stride,
            col_offset,
            |start, input_row, off_x, (lo, hi)| {
                let run = &mut cols[start..start + ow];
                let Some(row) = input_row else {
                    run.fill(0.0);
                    return;
                };
                run[..lo].fill(0.0);
                run[hi..].fill(0.0);
                let first = (lo * sx) as isize + off_x; // ≥ 0 by construction of lo
                let src = &x[row + first.max(0) as usize..];
                if sx == 1 {
                    run[lo..hi].copy_from_slice(&src[..hi - lo]);
                } else {
                    for (i, v) in run[lo..hi].iter_mut().enumerate() {
                        *v = src[i * sx];
                    }
                }
            },
        );
    }

    /// Adds one sample's columns of the patch matrix `cols` (laid out as in
    /// [`im2col`](Self::im2col)) back onto its gradient `dx` (`[C, H, W]`).
    fn col2im(&self, cols: &[f32], dx: &mut [f32], row_stride: usize, col_offset: usize) {
        let sx = self.stride[1];
        self.for_each_run(
            row_stride,
            col_offset,
            |start, input_row, off_x, (lo, hi)| {
                let Some(row) = input_row else { return };
                let run = &cols[start + lo..start + hi];
                let first = (lo * sx) as isize + off_x;
                let dst = &mut dx[row + first.max(0) as usize..];
                if sx == 1 {
                    for (d, v) in dst.iter_mut().zip(run) {
                        *d += v;
                    }
                } else {
                    for (i, v) in run.iter().enumerate() {
                        dst[i * sx] += v;
                    }
                }
            },
        );
    }
}

/// Samples per GEMM: enough that a group has at least [`MIN_COLUMNS`] output positions, so
/// the deep layers' small feature maps (4×4, 8×8) still make well-shaped products.
fn group_size(g: &ConvGeometry) -> usize {
    MIN_COLUMNS
        .div_ceil(g.positions().max(1))
        .clamp(1, g.batch.max(1))
}

/// Output positions per GEMM below which samples are grouped.
const MIN_COLUMNS: usize = 256;

/// The `with_min_len` for a parallel fold over `items` groups that each worker should share:
/// few tasks (each one allocates its own gradient), but one per worker at least. Rayon splits
/// a range only while both halves keep `len / 2 ≥ min`, so `⌈items / workers⌉` would leave an
/// odd count (13 groups on 2 workers: min 7) on **one** worker; half of the floor splits
/// every count into at least one task per worker.
pub(crate) fn min_len_per_task(items: usize) -> usize {
    (items / (2 * rayon::current_num_threads())).max(1)
}

/// Whether the GEMM itself should split work: only when the groups cannot keep the pool busy.
fn gemm_parallel(groups: usize) -> bool {
    groups < rayon::current_num_threads()
}

/// The patch matrix of samples `x` (`[s, C, H, W]`, consecutive) as `[K, s·P]`, or the input
/// itself for a pointwise convolution of one sample.
fn patches<'a>(g: &ConvGeometry, x: &'a [f32], buf: &'a mut Vec<f32>) -> &'a [f32] {
    let (k, p, s) = (g.rows(), g.positions(), x.len() / g.input_len());
    if g.pointwise() && s == 1 {
        return x;
    }
    buf.resize(k * s * p, 0.0);
    for (j, xn) in x.chunks(g.input_len()).enumerate() {
        if g.pointwise() {
            for (c, row) in xn.chunks(p).enumerate() {
                buf[c * s * p + j * p..][..p].copy_from_slice(row);
            }
        } else {
            g.im2col(xn, buf, s * p, j * p);
        }
    }
    buf
}

/// `[s, O, P]` (NCHW samples) ↔ `[O, s·P]` (one GEMM operand): copies `src` into `dst`.
fn to_rows(src: &[f32], dst: &mut [f32], o: usize, p: usize) {
    let s = src.len() / (o * p);
    for (j, sample) in src.chunks(o * p).enumerate() {
        for (c, row) in sample.chunks(p).enumerate() {
            dst[c * s * p + j * p..][..p].copy_from_slice(row);
        }
    }
}

/// The inverse of [`to_rows`].
fn from_rows(src: &[f32], dst: &mut [f32], o: usize, p: usize) {
    let s = dst.len() / (o * p);
    for (j, sample) in dst.chunks_mut(o * p).enumerate() {
        for (c, row) in sample.chunks_mut(p).enumerate() {
            row.copy_from_slice(&src[c * s * p + j * p..][..p]);
        }
    }
}

/// The geometry and weight of the convolution whose forward is the input gradient of the
/// "same" 3×3 convolution `g` (the Winograd and direct paths both take it that way): channels
/// swapped, `w'[c, o, ky, kx] = w[o, c, 2 − ky, 2 − kx]`.
pub(crate) fn flipped_transposed(g: &ConvGeometry, w: &[f32]) -> (ConvGeometry, Vec<f32>) {
    let (o, c) = (g.out_channels, g.in_channels);
    let mut wt = vec![0.0; w.len()];
    for oc in 0..o {
        for ic in 0..c {
            for k in 0..9 {
                wt[(ic * o + oc) * 9 + (8 - k)] = w[(oc * c + ic) * 9 + k];
            }
        }
    }
    (g.channels_swapped(), wt)
}

/// Whether the input gradient of `g` takes the direct path, as the forward of the flipped,
/// transposed weight: a "same" convolution (stride 1) whose channel-swapped geometry the direct
/// forward takes as well.
fn direct_input_gradient(g: &ConvGeometry) -> bool {
    direct::enabled()
        && g.padded_3x3_stride() == Some(1)
        && direct::applies(g)
        && direct::applies(&g.channels_swapped())
}

/// Forward convolution without bias.
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]` (flat, NCHW)
/// - `w`: `[out_channels, in_channels, kh, kw]`
/// - output: `[batch, out_channels, oh, ow]`
pub fn forward(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    if direct::enabled() && direct::applies(g) {
        return direct::forward(g, x, w);
    }
    if winograd::enabled() && winograd::applies(g) {
        return winograd::forward(g, x, w);
    }
    let (k, p, o) = (g.rows(), g.positions(), g.out_channels);
    let mut y = vec![0.0; g.batch * o * p];
    if p == 0 || g.batch == 0 {
        return y;
    }
    let s = group_size(g);
    let par = gemm_parallel(g.batch.div_ceil(s));
    let weight = MatRef::row_major(w, o, k);
    y.par_chunks_mut(s * o * p)
        .zip(x.par_chunks(s * g.input_len()))
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(cols, out), (yg, xg)| {
                let n = xg.len() / g.input_len();
                let rhs = MatRef::row_major(patches(g, xg, cols), k, n * p);
                if n == 1 {
                    matmul(yg, weight, rhs, false, par);
                } else {
                    out.resize(o * n * p, 0.0);
                    matmul(out, weight, rhs, false, par);
                    from_rows(out, yg, o, p);
                }
            },
        );
    y
}

/// Gradient of the loss with respect to the weight, given the output gradient `dy`.
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]`
/// - `dy`: `[batch, out_channels, oh, ow]`
/// - output: `[out_channels, in_channels, kh, kw]`
pub fn grad_weight(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    if direct_weight::enabled() && direct_weight::applies(g) {
        return direct_weight::grad_weight(g, x, dy);
    }
    if winograd::enabled() && winograd::applies(g) {
        return winograd::grad_weight(g, x, dy);
    }
    let (k, p, o) = (g.rows(), g.positions(), g.out_channels);
    if p == 0 || g.batch == 0 {
        return vec![0.0; o * k];
    }
    let s = group_size(g);
    let groups = g.batch.div_ceil(s);
    let par = gemm_parallel(groups);
    let per_task = min_len_per_task(groups);
    x.par_chunks(s * g.input_len())
        .zip(dy.par_chunks(s * o * p))
        .with_min_len(per_task)
        .fold(
            || (vec![0.0; o * k], Vec::new(), Vec::new()),
            |(mut dw, mut cols, mut rows), (xg, dyg)| {
                let n = xg.len() / g.input_len();
                let lhs: &[f32] = if n == 1 {
                    dyg
                } else {
                    rows.resize(o * n * p, 0.0);
                    to_rows(dyg, &mut rows, o, p);
                    &rows
                };
                let rhs = MatRef::row_major(patches(g, xg, &mut cols), k, n * p).t();
                matmul(&mut dw, MatRef::row_major(lhs, o, n * p), rhs, true, par);
                (dw, cols, rows)
            },
        )
        .map(|(dw, _, _)| dw)
        .reduce(
            || vec![0.0; o * k],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        )
}

/// Gradient of the loss with respect to the input, given the output gradient `dy`.
///
/// # Shapes
/// - `w`: `[out_channels, in_channels, kh, kw]`
/// - `dy`: `[batch, out_channels, oh, ow]`
/// - output: `[batch, in_channels, height, width]`
pub fn grad_input(g: &ConvGeometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    // Both fast paths take the input gradient of a "same" 3×3 convolution as the forward of
    // the flipped, transposed weight on the channel-swapped geometry: flip it once.
    let direct = direct_input_gradient(g);
    if direct || (winograd::enabled() && winograd::applies(g)) {
        let (gt, wt) = flipped_transposed(g, w);
        return if direct {
            direct::forward(&gt, dy, &wt)
        } else {
            winograd::forward(&gt, dy, &wt)
        };
    }
    let (k, p, o) = (g.rows(), g.positions(), g.out_channels);
    let mut dx = vec![0.0; g.batch * g.input_len()];
    if p == 0 || g.batch == 0 {
        return dx;
    }
    let s = group_size(g);
    let par = gemm_parallel(g.batch.div_ceil(s));
    let weight_t = MatRef::row_major(w, o, k).t();
    dx.par_chunks_mut(s * g.input_len())
        .zip(dy.par_chunks(s * o * p))
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(dcols, rows), (dxg, dyg)| {
                let n = dxg.len() / g.input_len();
                let rhs: &[f32] = if n == 1 {
                    dyg
                } else {
                    rows.resize(o * n * p, 0.0);
                    to_rows(dyg, rows, o, p);
                    rows
                };
                let rhs = MatRef::row_major(rhs, o, n * p);
                if g.pointwise() && n == 1 {
                    matmul(dxg, weight_t, rhs, false, par);
                    return;
                }
                dcols.resize(k * n * p, 0.0);
                matmul(dcols, weight_t, rhs, false, par);
                for (j, dxn) in dxg.chunks_mut(g.input_len()).enumerate() {
                    if g.pointwise() {
                        for (c, row) in dxn.chunks_mut(p).enumerate() {
                            row.copy_from_slice(&dcols[c * n * p + j * p..][..p]);
                        }
                    } else {
                        g.col2im(dcols, dxn, n * p, j * p);
                    }
                }
            },
        );
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition's products: calls `f(y, x, w)` with the flat indices of every
    /// output element, input element and weight multiplied together (padding skipped).
    fn for_each_product(g: &ConvGeometry, mut f: impl FnMut(usize, usize, usize)) {
        let [oh, ow] = g.output_size().unwrap();
        let [kh, kw] = g.kernel;
        let (c, h, wd, o) = (g.in_channels, g.height, g.width, g.out_channels);
        for n in 0..g.batch {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        for ic in 0..c {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * g.stride[0] + ky * g.dilation[0]) as isize
                                        - g.padding[0].0 as isize;
                                    let ix = (ox * g.stride[1] + kx * g.dilation[1]) as isize
                                        - g.padding[1].0 as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    f(
                                        ((n * o + oc) * oh + oy) * ow + ox,
                                        ((n * c + ic) * h + iy as usize) * wd + ix as usize,
                                        ((oc * c + ic) * kh + ky) * kw + kx,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The textbook convolution.
    fn naive(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
        let [oh, ow] = g.output_size().unwrap();
        let mut y = vec![0.0; g.batch * g.out_channels * oh * ow];
        for_each_product(g, |yi, xi, wi| y[yi] += x[xi] * w[wi]);
        y
    }

    /// The textbook weight gradient, `dW[w] = Σ dY[y]·X[x]` over the products, in `f64`.
    fn naive_grad_weight(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let mut dw = vec![0.0f64; g.out_channels * g.rows()];
        for_each_product(g, |yi, xi, wi| {
            dw[wi] += f64::from(dy[yi]) * f64::from(x[xi]);
        });
        dw.into_iter().map(|v| v as f32).collect()
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0) - 1.0)
            .collect()
    }

    fn geometries() -> Vec<ConvGeometry> {
        let g = |batch, c, h, w, o, k: [usize; 2], s, p, d| ConvGeometry {
            batch,
            in_channels: c,
            height: h,
            width: w,
            out_channels: o,
            kernel: k,
            stride: [s, s],
            padding: p,
            dilation: [d, d],
        };
        vec![
            g(2, 3, 7, 6, 4, [3, 3], 1, [(1, 1), (1, 1)], 1),
            g(3, 2, 9, 9, 5, [3, 3], 2, [(1, 1), (1, 1)], 1),
            g(1, 4, 5, 5, 3, [1, 1], 1, [(0, 0), (0, 0)], 1), // pointwise
            g(2, 4, 8, 8, 3, [1, 1], 2, [(0, 0), (0, 0)], 1), // strided 1×1 (ResNet shortcut)
            g(2, 1, 10, 12, 2, [7, 7], 2, [(3, 3), (3, 3)], 1), // ImageNet stem
            g(2, 2, 6, 7, 2, [3, 2], 1, [(2, 0), (0, 1)], 2), // asymmetric, dilated
            g(2, 1, 12, 12, 6, [5, 5], 1, [(0, 0), (0, 0)], 1), // LeNet
            // Small maps: samples grouped per GEMM (4×4 → 16 a group), last group short.
            g(21, 3, 4, 4, 5, [3, 3], 1, [(1, 1), (1, 1)], 1),
            g(19, 4, 8, 8, 3, [1, 1], 2, [(0, 0), (0, 0)], 1),
            g(18, 4, 2, 2, 6, [1, 1], 1, [(0, 0), (0, 0)], 1),
            // Winograd F(2×2, 3×3): odd sides (tiles cut at the border); tiny maps grouped
            // (4 tiles a sample → 32 a group, the last group short).
            g(3, 64, 7, 6, 65, [3, 3], 1, [(1, 1), (1, 1)], 1),
            g(40, 65, 3, 4, 64, [3, 3], 1, [(1, 1), (1, 1)], 1),
            // The direct path (16–64 channels, rows of ≥ 4): a row of 9 (tiles of 4, 4
            // and 1), a row of exactly 4, 1 input channel (forward only: its input
            // gradient has 1 output channel and stays on im2col), 64 channels on 7 × 7.
            g(2, 3, 5, 9, 16, [3, 3], 1, [(1, 1), (1, 1)], 1),
            g(3, 16, 6, 4, 32, [3, 3], 1, [(1, 1), (1, 1)], 1),
            g(2, 1, 7, 5, 16, [3, 3], 1, [(1, 1), (1, 1)], 1),
            g(2, 64, 7, 7, 64, [3, 3], 1, [(1, 1), (1, 1)], 1),
            // The direct weight gradient's groups of ≤ 1024 padded pixels: (5 + 1) × (4 + 1)
            // = 30 a sample, 34 samples a group, the last of 3.
            g(37, 16, 5, 4, 16, [3, 3], 1, [(1, 1), (1, 1)], 1),
            // Stride 2, padding 1 (WRN's down-sampling 3×3): even sides, and odd sides whose
            // last output row and column read the bottom and right border.
            g(3, 16, 14, 14, 32, [3, 3], 2, [(1, 1), (1, 1)], 1),
            g(2, 8, 9, 11, 16, [3, 3], 2, [(1, 1), (1, 1)], 1),
            // One sample longer than a weight-gradient segment: 34 × 34 padded pixels, cut
            // in two.
            g(2, 16, 33, 33, 16, [3, 3], 1, [(1, 1), (1, 1)], 1),
        ]
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "element {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn winograd_takes_the_same_convolutions_with_enough_channels() {
        let all = geometries();
        let taken: Vec<bool> = all.iter().map(winograd::applies).collect();
        assert_eq!(taken.iter().filter(|&&t| t).count(), 3, "{taken:?}");
        assert!(!winograd::applies(&all[0]), "3 and 4 channels: im2col");
        let mut narrow = all[15];
        narrow.in_channels = 63;
        assert!(!winograd::applies(&narrow), "63 channels in: im2col");
    }

    /// The indices of `geometries()` that `applies` takes.
    fn taken(applies: impl Fn(&ConvGeometry) -> bool) -> Vec<usize> {
        let all = geometries();
        (0..all.len()).filter(|&i| applies(&all[i])).collect()
    }

    #[test]
    fn the_direct_path_takes_3x3_convolutions_of_16_to_64_channels_at_stride_1_or_2() {
        let all = geometries();
        if crate::simd::vector_lanes() == 1 {
            assert!(taken(direct::applies).is_empty());
            assert!(taken(direct_weight::applies).is_empty());
            return;
        }
        // A vector unit (AVX2 here): the eight at the end (rows of 9 and of exactly 4, one
        // input channel, 64 channels on 7 × 7, a batch of 37, two at stride 2, 33 × 33).
        assert_eq!(taken(direct::applies), (12..=19).collect::<Vec<_>>());
        // The input gradient through the flipped weight: stride 1, and the flipped geometry
        // must qualify too (3 or 1 output channels do not).
        assert_eq!(taken(direct_input_gradient), [13, 15, 16, 19]);
        // The weight gradient: these, 3 → 4 channels, and 65 → 64 channels on 3 × 4.
        let mut weight = vec![0, 11];
        weight.extend(12..=19);
        assert_eq!(taken(direct_weight::applies), weight);
        let square = |c, o, side| ConvGeometry {
            in_channels: c,
            out_channels: o,
            height: side,
            width: side,
            ..all[16]
        };
        assert!(direct_weight::applies(&square(64, 64, 28)));
        assert!(direct_weight::applies(&square(128, 128, 14)));
        assert!(!direct_weight::applies(&square(128, 128, 15)), "Winograd");
        assert!(!direct_weight::applies(&square(128, 64, 20)), "Winograd");
        assert!(!direct_weight::applies(&square(129, 128, 7)), "too wide");
        assert!(
            !direct_weight::applies(&square(16, 18, 7)),
            "18 output channels"
        );
        let narrow = ConvGeometry {
            width: 6,
            ..all[17]
        };
        assert!(
            !direct::applies(&narrow),
            "stride 2 on 6 columns: 3 output columns"
        );
    }

    #[test]
    fn the_weight_gradient_matches_the_definition_element_by_element() {
        for g in geometries() {
            let [oh, ow] = g.output_size().unwrap();
            let x = values(g.batch * g.input_len(), 6);
            let dy = values(g.batch * g.out_channels * oh * ow, 7);
            close(&grad_weight(&g, &x, &dy), &naive_grad_weight(&g, &x, &dy));
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let x = values(g.batch * g.input_len(), 1);
            let w = values(g.out_channels * g.rows(), 2);
            close(&forward(&g, &x, &w), &naive(&g, &x, &w));
        }
    }

    /// The direct forward on each vector unit and blocking this CPU has (AVX2, and AVX-512 in
    /// blocks of one and of two vectors), not only the one `forward` picks: each matches the
    /// definition, and all are bit for bit the same (every output sums its products in the
    /// same order, so a run does not depend on the CPU having AVX-512).
    #[test]
    fn every_form_of_the_direct_forward_matches_the_definition_and_the_others_bit_for_bit() {
        let mut forms = 0;
        for g in geometries().into_iter().filter(direct::applies) {
            let x = values(g.batch * g.input_len(), 3);
            let w = values(g.out_channels * g.rows(), 4);
            let want = naive(&g, &x, &w);
            let all = direct::forward_on_every_unit(&g, &x, &w);
            for (form, y) in &all {
                eprintln!("{form}: {g:?}");
                close(y, &want);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert!(
                    bits(y) == bits(&all[0].1),
                    "{form} differs from {}",
                    all[0].0
                );
                forms += 1;
            }
        }
        assert!(forms >= 8, "{forms}");
    }

    /// Both gradients against the adjoint identities of the (linear) convolution:
    /// `⟨dy, conv(x, w)⟩ = ⟨grad_weight(x, dy), w⟩ = ⟨x, grad_input(w, dy)⟩`, with the
    /// convolution itself from the naive definition, plus a finite check per element of dW.
    #[test]
    fn gradients_satisfy_the_adjoint_identities_of_the_definition() {
        let dot =
            |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| f64::from(a * b)).sum::<f64>();
        for g in geometries() {
            let x = values(g.batch * g.input_len(), 3);
            let w = values(g.out_channels * g.rows(), 4);
            let y = naive(&g, &x, &w);
            let dy = values(y.len(), 5);
            let lhs = dot(&dy, &y);
            let dw = grad_weight(&g, &x, &dy);
            let dx = grad_input(&g, &w, &dy);
            assert!(
                (dot(&dw, &w) - lhs).abs() < 1e-3 * (1.0 + lhs.abs()),
                "{g:?}: dW"
            );
            assert!(
                (dot(&x, &dx) - lhs).abs() < 1e-3 * (1.0 + lhs.abs()),
                "{g:?}: dX"
            );
            // dW[j] = ⟨dy, conv(x, e_j)⟩ for a few unit weights e_j.
            for j in [0, dw.len() / 2, dw.len() - 1] {
                let mut e = vec![0.0; w.len()];
                e[j] = 1.0;
                let want = dot(&dy, &naive(&g, &x, &e));
                assert!(
                    (f64::from(dw[j]) - want).abs() < 1e-3 * (1.0 + want.abs()),
                    "{g:?}: dW[{j}]"
                );
            }
            for j in [0, dx.len() / 3, dx.len() - 1] {
                let mut e = vec![0.0; x.len()];
                e[j] = 1.0;
                let want = dot(&dy, &naive(&g, &e, &w));
                assert!(
                    (f64::from(dx[j]) - want).abs() < 1e-3 * (1.0 + want.abs()),
                    "{g:?}: dX[{j}]"
                );
            }
        }
    }

    #[test]
    fn flipped_transposed_weight_by_hand() {
        let g = ConvGeometry {
            batch: 1,
            in_channels: 2,
            height: 4,
            width: 4,
            out_channels: 1,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [(1, 1), (1, 1)],
            dilation: [1, 1],
        };
        let w: Vec<f32> = (0..18).map(|i| i as f32).collect(); // [1, 2, 3, 3]
        let (gt, wt) = flipped_transposed(&g, &w);
        assert_eq!((gt.in_channels, gt.out_channels), (1, 2));
        // w'[c, 0] = reverse of w[0, c].
        let want: Vec<f32> = (0..9)
            .rev()
            .chain((9..18).rev())
            .map(|i| i as f32)
            .collect();
        assert_eq!(wt, want);
    }

    #[test]
    fn a_kernel_larger_than_the_padded_input_has_no_output_size() {
        let mut g = geometries()[0];
        g.kernel = [11, 11];
        assert_eq!(g.output_size(), None);
    }
}
