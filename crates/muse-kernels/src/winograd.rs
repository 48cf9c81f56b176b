//! Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
//! Neural Networks", 2016) for the "same" 3×3 convolution (stride 1, dilation 1, padding 1 on
//! every side), the convolution of every generator block and most teacher/student layers.
//!
//! Each 2×2 output tile is `Y = Aᵀ · [(G·g·Gᵀ) ⊙ (Bᵀ·d·B)] · A` over the 4×4 input tile `d`
//! around it, so the channel sums become 16 GEMMs, one per element `e` of the 4×4 transform
//! domain: `M_e[O, T] = U_e[O, C] · V_e[C, T]` over the `T` tiles of a group of samples. That is
//! 16 multiply-adds per tile and channel pair where im2col + GEMM needs 36 (2.25× fewer), and
//! no patch matrix: `V` holds 16 values per tile and channel where im2col holds 36.
//!
//! The input gradient of a "same" 3×3 convolution is itself one (output gradient convolved with
//! the weight flipped in both axes and with in/out channels swapped), so it takes this path too
//! ([`crate::conv::flipped_transposed`]); the weight gradient is the gradient of the Winograd form
//! ([`grad_weight`]). The transforms are exact in real arithmetic; in `f32` F(2×2, 3×3)
//! stays within a few ULPs of the direct sum (its constants are 0, ±1, ±½).

use rayon::prelude::*;

use crate::conv::ConvGeometry;
use crate::gemm::{MatRef, matmul};

/// Smallest channel counts (in and out) for which this path pays: below them the transforms
/// cost more than the GEMMs they shrink. Measured with `benches/steps.rs` (docs/performance.md):
/// at 16 the WRN-16-1 teacher forward (16–64 channels) took twice as long; at 64 only the
/// generator's 128/64-channel blocks (and a WRN's last stage) take this path.
const MIN_CHANNELS: usize = 64;

/// Tiles per GEMM below which samples are grouped (as `conv.rs`'s `MIN_COLUMNS`).
const MIN_TILES: usize = 128;

/// Whether the Winograd path is on: it is unless the environment sets `MUSE_WINOGRAD=0`
/// (read once), which puts every convolution back on im2col + GEMM (to compare speed or
/// rounding).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("MUSE_WINOGRAD").map_or(true, |v| v != "0"))
}

/// Whether [`forward`] computes this convolution.
pub fn applies(g: &ConvGeometry) -> bool {
    g.padded_3x3_stride() == Some(1)
        && g.in_channels >= MIN_CHANNELS
        && g.out_channels >= MIN_CHANNELS
        && g.height > 0
        && g.width > 0
}

/// `U = G·g·Gᵀ` for every (out, in) channel pair, laid out `[16, O, C]`.
fn transform_weight(o: usize, c: usize, w: &[f32]) -> Vec<f32> {
    let mut u = vec![0.0; 16 * o * c];
    for (pair, g) in w.chunks_exact(9).enumerate() {
        // t = G·g (4×3), then U = t·Gᵀ (4×4).
        let mut t = [[0.0f32; 3]; 4];
        for j in 0..3 {
            let (g0, g1, g2) = (g[j], g[3 + j], g[6 + j]);
            t[0][j] = g0;
            t[1][j] = 0.5 * (g0 + g1 + g2);
            t[2][j] = 0.5 * (g0 - g1 + g2);
            t[3][j] = g2;
        }
        for (i, row) in t.iter().enumerate() {
            let [g0, g1, g2] = *row;
            let v = [g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2];
            for (j, value) in v.into_iter().enumerate() {
                u[(i * 4 + j) * o * c + pair] = value;
            }
        }
    }
    u
}

/// `V = Bᵀ·d·B` for one row of tiles of one channel plane.
///
/// `rows` are the four input rows the tiles span, zero-padded to `2·tw + 2` values (input
/// columns −1 ..= 2·tw); `v_e(e)` is where transform element `e`'s `tw` values go. Every loop
/// runs along the tile row, so the compiler vectorises it.
fn input_row(
    rows: &[Vec<f32>; 4],
    tmp: &mut [Vec<f32>; 4],
    tw: usize,
    v: &mut [f32],
    v_e: impl Fn(usize) -> usize,
) {
    // Vertical (Bᵀ on the four rows), over the whole padded width.
    let [r0, r1, r2, r3] = rows;
    for k in 0..r0.len() {
        tmp[0][k] = r0[k] - r2[k];
        tmp[1][k] = r1[k] + r2[k];
        tmp[2][k] = r2[k] - r1[k];
        tmp[3][k] = r1[k] - r3[k];
    }
    // Horizontal (B on the columns 2·tx .. 2·tx + 3 of each tile).
    for (i, a) in tmp.iter().enumerate() {
        let a = &a[..2 * tw + 2];
        let [o0, o1, o2, o3] = [0, 1, 2, 3].map(|j| v_e(4 * i + j));
        for tx in 0..tw {
            let k = 2 * tx;
            let (a0, a1, a2, a3) = (a[k], a[k + 1], a[k + 2], a[k + 3]);
            v[o0 + tx] = a0 - a2;
            v[o1 + tx] = a1 + a2;
            v[o2 + tx] = a2 - a1;
            v[o3 + tx] = a1 - a3;
        }
    }
}

/// `Y = Aᵀ·M·A` for one row of tiles of one output plane: `m_e(e)` is where transform element
/// `e`'s `tw` values are; writes the two output rows (`2·tw` values each) into `out`.
fn output_row(
    m: &[f32],
    m_e: impl Fn(usize) -> usize,
    tw: usize,
    p: &mut [Vec<f32>; 8],
    out: &mut [Vec<f32>; 2],
) {
    // Vertical (Aᵀ over i): p[a·4 + j] = Σ_i Aᵀ[a, i]·M[4i + j].
    for j in 0..4 {
        let (m0, m1, m2, m3) = (
            &m[m_e(j)..][..tw],
            &m[m_e(4 + j)..][..tw],
            &m[m_e(8 + j)..][..tw],
            &m[m_e(12 + j)..][..tw],
        );
        let (lo, hi) = p.split_at_mut(4);
        for tx in 0..tw {
            lo[j][tx] = m0[tx] + m1[tx] + m2[tx];
            hi[j][tx] = m1[tx] - m2[tx] - m3[tx];
        }
    }
    // Horizontal (A over j), interleaving the two output columns of each tile.
    for (a, row) in out.iter_mut().enumerate() {
        let [q0, q1, q2, q3] = [&p[4 * a], &p[4 * a + 1], &p[4 * a + 2], &p[4 * a + 3]];
        for tx in 0..tw {
            row[2 * tx] = q0[tx] + q1[tx] + q2[tx];
            row[2 * tx + 1] = q1[tx] - q2[tx] - q3[tx];
        }
    }
}

/// How a geometry is cut: `th × tw` tiles per sample, `group` samples per set of GEMMs, and
/// whether the GEMMs themselves go parallel (when the groups cannot keep the pool busy).
struct Plan {
    th: usize,
    tw: usize,
    tiles: usize,
    group: usize,
    groups: usize,
    par: bool,
}

impl Plan {
    fn new(g: &ConvGeometry) -> Self {
        let (th, tw) = (g.height.div_ceil(2), g.width.div_ceil(2));
        let tiles = th * tw;
        let group = MIN_TILES.div_ceil(tiles).clamp(1, g.batch.max(1));
        let groups = g.batch.div_ceil(group);
        Self {
            th,
            tw,
            tiles,
            group,
            groups,
            par: groups < rayon::current_num_threads(),
        }
    }
}

/// One worker's input transform: `v` (`[16, C, T]`) and the padded rows it is built from.
struct InputScratch {
    v: Vec<f32>,
    rows: [Vec<f32>; 4],
    tmp: [Vec<f32>; 4],
}

impl InputScratch {
    fn new(tw: usize) -> Self {
        let row = || -> [Vec<f32>; 4] { std::array::from_fn(|_| vec![0.0; 2 * tw + 2]) };
        Self {
            v: Vec::new(),
            rows: row(),
            tmp: row(),
        }
    }

    /// `V[e, c, t] = (Bᵀ·d·B)[e]` for every channel `c` and tile `t` of the samples `xg`
    /// (consecutive `[C, H, W]` samples).
    fn transform(&mut self, g: &ConvGeometry, plan: &Plan, xg: &[f32]) {
        let (c, h, wd) = (g.in_channels, g.height, g.width);
        let (th, tw, tiles) = (plan.th, plan.tw, plan.tiles);
        let t_all = xg.len() / (c * h * wd) * tiles;
        self.v.resize(16 * c * t_all, 0.0);
        for (j, xn) in xg.chunks_exact(c * h * wd).enumerate() {
            for (ch, plane) in xn.chunks_exact(h * wd).enumerate() {
                for ty in 0..th {
                    for (r, row) in self.rows.iter_mut().enumerate() {
                        row.fill(0.0);
                        let iy = (2 * ty + r) as isize - 1;
                        if (0..h as isize).contains(&iy) {
                            row[1..=wd].copy_from_slice(&plane[iy as usize * wd..][..wd]);
                        }
                    }
                    let base = j * tiles + ty * tw;
                    input_row(&self.rows, &mut self.tmp, tw, &mut self.v, |e| {
                        (e * c + ch) * t_all + base
                    });
                }
            }
        }
    }
}

/// `dM = A·dY·Aᵀ` (the adjoint of [`output_row`]) for one row of tiles of one output-gradient
/// plane: `dy_rows` are the tile row's two rows of `dY`, zero-padded to `2·tw` values;
/// writes element `e`'s `tw` values at `dm_e(e)`.
fn grad_output_row(
    dy_rows: &[Vec<f32>; 2],
    q: &mut [Vec<f32>; 8],
    tw: usize,
    dm: &mut [f32],
    dm_e: impl Fn(usize) -> usize,
) {
    // Horizontal (A over the two columns of each tile): q[a·4 + j].
    for (a, row) in dy_rows.iter().enumerate() {
        for tx in 0..tw {
            let (y0, y1) = (row[2 * tx], row[2 * tx + 1]);
            q[4 * a][tx] = y0;
            q[4 * a + 1][tx] = y0 + y1;
            q[4 * a + 2][tx] = y0 - y1;
            q[4 * a + 3][tx] = -y1;
        }
    }
    // Vertical (A over the two rows): dM[4i + j].
    for j in 0..4 {
        let [o0, o1, o2, o3] = [0, 1, 2, 3].map(|i| dm_e(4 * i + j));
        let (r0, r1) = (&q[j], &q[4 + j]);
        for tx in 0..tw {
            dm[o0 + tx] = r0[tx];
            dm[o1 + tx] = r0[tx] + r1[tx];
            dm[o2 + tx] = r0[tx] - r1[tx];
            dm[o3 + tx] = -r1[tx];
        }
    }
}

/// Weight gradient of a geometry for which [`applies`] holds: the gradient of the Winograd
/// form itself (equal to the convolution's), `dU_e = Σ_t dM_e[·, t]·V_e[·, t]ᵀ` as 16 GEMMs of
/// `[O, T]·[T, C]`, then `dW = Gᵀ·dU·G` per channel pair.
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]`
/// - `dy`: `[batch, out_channels, height, width]`
/// - output: `[out_channels, in_channels, 3, 3]`
pub fn grad_weight(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (c, o, h, wd) = (g.in_channels, g.out_channels, g.height, g.width);
    if g.batch == 0 {
        return vec![0.0; o * c * 9];
    }
    let plan = Plan::new(g);
    let (th, tw, tiles) = (plan.th, plan.tw, plan.tiles);
    let per_task = crate::conv::min_len_per_task(plan.groups);
    let du = x
        .par_chunks(plan.group * c * h * wd)
        .zip(dy.par_chunks(plan.group * o * h * wd))
        .with_min_len(per_task)
        .fold(
            || {
                let dy_rows: [Vec<f32>; 2] = std::array::from_fn(|_| vec![0.0; 2 * tw]);
                let q: [Vec<f32>; 8] = std::array::from_fn(|_| vec![0.0; tw]);
                let du = vec![0.0; 16 * o * c];
                (du, InputScratch::new(tw), Vec::new(), dy_rows, q)
            },
            |(mut du, mut input, mut dm, mut dy_rows, mut q), (xg, dyg)| {
                let t_all = xg.len() / (c * h * wd) * tiles;
                input.transform(g, &plan, xg);
                dm.resize(16 * o * t_all, 0.0);
                for (j, dyn_) in dyg.chunks_exact(o * h * wd).enumerate() {
                    for (oc, plane) in dyn_.chunks_exact(h * wd).enumerate() {
                        for ty in 0..th {
                            for (a, row) in dy_rows.iter_mut().enumerate() {
                                row.fill(0.0);
                                let oy = 2 * ty + a;
                                if oy < h {
                                    row[..wd].copy_from_slice(&plane[oy * wd..][..wd]);
                                }
                            }
                            let base = j * tiles + ty * tw;
                            grad_output_row(&dy_rows, &mut q, tw, &mut dm, |e| {
                                (e * o + oc) * t_all + base
                            });
                        }
                    }
                }
                for e in 0..16 {
                    matmul(
                        &mut du[e * o * c..][..o * c],
                        MatRef::row_major(&dm[e * o * t_all..][..o * t_all], o, t_all),
                        MatRef::row_major(&input.v[e * c * t_all..][..c * t_all], c, t_all).t(),
                        true,
                        plan.par,
                    );
                }
                (du, input, dm, dy_rows, q)
            },
        )
        .map(|(du, ..)| du)
        .reduce(
            || vec![0.0; 16 * o * c],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    // dW = Gᵀ·dU·G for every channel pair (the adjoint of `transform_weight`).
    let gt = |u: [f32; 4]| {
        [
            u[0] + 0.5 * (u[1] + u[2]),
            0.5 * (u[1] - u[2]),
            0.5 * (u[1] + u[2]) + u[3],
        ]
    };
    let mut dw = vec![0.0; o * c * 9];
    for (pair, out) in dw.chunks_exact_mut(9).enumerate() {
        let at = |e: usize| du[e * o * c + pair];
        let mut cols = [[0.0f32; 3]; 4];
        for (i, col) in cols.iter_mut().enumerate() {
            *col = gt([at(4 * i), at(4 * i + 1), at(4 * i + 2), at(4 * i + 3)]);
        }
        for kx in 0..3 {
            let k = gt([cols[0][kx], cols[1][kx], cols[2][kx], cols[3][kx]]);
            for ky in 0..3 {
                out[ky * 3 + kx] = k[ky];
            }
        }
    }
    dw
}

/// Forward convolution of a geometry for which [`applies`] holds, without bias.
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]` (flat, NCHW)
/// - `w`: `[out_channels, in_channels, 3, 3]`
/// - output: `[batch, out_channels, height, width]`
pub fn forward(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (c, o, h, wd) = (g.in_channels, g.out_channels, g.height, g.width);
    let mut y = vec![0.0; g.batch * o * h * wd];
    if g.batch == 0 {
        return y;
    }
    let u = transform_weight(o, c, w);
    let plan = Plan::new(g);
    let (th, tw, tiles) = (plan.th, plan.tw, plan.tiles);
    y.par_chunks_mut(plan.group * o * h * wd)
        .zip(x.par_chunks(plan.group * c * h * wd))
        .for_each_init(
            || {
                let p: [Vec<f32>; 8] = std::array::from_fn(|_| vec![0.0; tw]);
                let out: [Vec<f32>; 2] = std::array::from_fn(|_| vec![0.0; 2 * tw]);
                (InputScratch::new(tw), Vec::new(), p, out)
            },
            |(input, m, p, out), (yg, xg)| {
                let t_all = xg.len() / (c * h * wd) * tiles;
                input.transform(g, &plan, xg);
                let v = &input.v;
                // M_e = U_e · V_e, one GEMM per transform element.
                m.resize(16 * o * t_all, 0.0);
                for e in 0..16 {
                    matmul(
                        &mut m[e * o * t_all..][..o * t_all],
                        MatRef::row_major(&u[e * o * c..][..o * c], o, c),
                        MatRef::row_major(&v[e * c * t_all..][..c * t_all], c, t_all),
                        false,
                        plan.par,
                    );
                }
                // Y = Aᵀ·M·A, a row of tiles at a time, cut at the borders of odd sides.
                for (j, yn) in yg.chunks_exact_mut(o * h * wd).enumerate() {
                    for (oc, plane) in yn.chunks_exact_mut(h * wd).enumerate() {
                        for ty in 0..th {
                            let base = j * tiles + ty * tw;
                            output_row(m, |e| (e * o + oc) * t_all + base, tw, p, out);
                            for (a, row) in out.iter().enumerate() {
                                let oy = 2 * ty + a;
                                if oy < h {
                                    plane[oy * wd..][..wd].copy_from_slice(&row[..wd]);
                                }
                            }
                        }
                    }
                }
            },
        );
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tile_by_hand() {
        // A 2×2 input, one channel each way, all-ones 3×3 kernel: with padding 1 every output
        // sums all four inputs (each 3×3 window covers the whole 2×2 image).
        let g = ConvGeometry {
            batch: 1,
            in_channels: 1,
            height: 2,
            width: 2,
            out_channels: 1,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [(1, 1), (1, 1)],
            dilation: [1, 1],
        };
        let y = forward(&g, &[1.0, 2.0, 3.0, 4.0], &[1.0; 9]);
        assert_eq!(y, vec![10.0; 4]);
        // Only the centre tap: the identity.
        let mut w = [0.0; 9];
        w[4] = 1.0;
        assert_eq!(
            forward(&g, &[1.0, 2.0, 3.0, 4.0], &w),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        // Only the top-left tap w[0, 0]: y[i, j] = x[i − 1, j − 1].
        let mut w = [0.0; 9];
        w[0] = 1.0;
        assert_eq!(
            forward(&g, &[1.0, 2.0, 3.0, 4.0], &w),
            vec![0.0, 0.0, 0.0, 1.0]
        );
    }
}
