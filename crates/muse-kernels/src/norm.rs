//! Batch normalisation on `f32` slices laid out `[batch, channels, spatial…]`: the per-channel
//! batch moments, the training-mode forward, and the gradients of both, each in two passes
//! over the data (one for per-channel sums, one element-wise) where Burn's generic
//! composition makes two transposed copies and about ten element-wise passes.
//!
//! `M = batch · spatial` values per channel; statistics are the mean and the *biased* variance
//! (`Σ(x − μ)² / M`), as Burn's and PyTorch's batch norm use for normalising.

use std::borrow::Cow;

use rayon::prelude::*;

/// Layout of a batch-norm input: `[batch, channels, spatial]` with `spatial` the product of
/// the trailing dimensions (1 for a `[batch, channels]` input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormGeometry {
    /// Batch size.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Values per channel per sample.
    pub spatial: usize,
}

impl NormGeometry {
    fn count(&self) -> f64 {
        (self.batch * self.spatial) as f64
    }

    /// Per channel: `K` sums of `f(sample, channel)` over the batch, in f64.
    fn per_channel<const K: usize>(
        &self,
        f: impl Fn(usize, usize) -> [f64; K] + Sync,
    ) -> Vec<[f64; K]> {
        (0..self.channels)
            .into_par_iter()
            .map(|c| {
                (0..self.batch).fold([0.0; K], |mut acc, n| {
                    acc.iter_mut().zip(f(n, c)).for_each(|(a, v)| *a += v);
                    acc
                })
            })
            .collect()
    }

    fn range(&self, n: usize, c: usize) -> std::ops::Range<usize> {
        let start = (n * self.channels + c) * self.spatial;
        start..start + self.spatial
    }
}

/// `K` sums of `term(x_i, y_i)` over two equally long slices, accumulated in f64 on eight independent
/// accumulators: one chain of f64 additions is bound by the adder's latency (4 cycles a value,
/// 2.6 ms for 1.6 M values here), eight chains vectorise (1.0 ms, about the memory's speed).
#[inline(always)]
fn lane_sums<const K: usize>(
    x: &[f32],
    y: &[f32],
    term: impl Fn(f32, f32) -> [f64; K],
) -> [f64; K] {
    const LANES: usize = 8;
    let mut acc = [[0.0f64; LANES]; K];
    let (xs, ys) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (x_rest, y_rest) = (xs.remainder(), ys.remainder());
    for (a, b) in xs.zip(ys) {
        for i in 0..LANES {
            let t = term(a[i], b[i]);
            for k in 0..K {
                acc[k][i] += t[k];
            }
        }
    }
    let mut out = acc.map(|lanes| lanes.iter().sum::<f64>());
    for (&a, &b) in x_rest.iter().zip(y_rest) {
        let t = term(a, b);
        for k in 0..K {
            out[k] += t[k];
        }
    }
    out
}

/// Per-channel mean and biased variance (one pass, f64 accumulation).
///
/// # Shapes
/// - `x`: `[batch, channels, spatial]`
/// - output: `(mean, variance)`, `[channels]` each
pub fn moments(g: &NormGeometry, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let m = g.count();
    // One pass for Σx and Σx²: an f32 squared is exact in f64 and the sums carry 53 bits, so
    // `E[x²] − μ²` keeps 9+ digits unless μ² exceeds the variance by 10⁷ (activations do not).
    let sums = g.per_channel(|n, c| {
        let r = &x[g.range(n, c)];
        lane_sums(r, r, |v, _| {
            let v = f64::from(v);
            [v, v * v]
        })
    });
    sums.iter()
        .map(|[s, sq]| {
            let mean = s / m;
            (mean as f32, (sq / m - mean * mean).max(0.0) as f32)
        })
        .unzip()
}

/// The per-channel affine form of a batch norm with statistics `mean`, `var`:
/// `(scale, shift)` with `scale = γ/√(var + ε)` and `shift = β − mean·scale`.
pub fn affine(
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>) {
    (0..gamma.len())
        .map(|c| {
            let s = f64::from(gamma[c]) / (f64::from(var[c]) + epsilon).sqrt();
            (
                s as f32,
                (f64::from(beta[c]) - f64::from(mean[c]) * s) as f32,
            )
        })
        .unzip()
}

/// `pos` where `v > 0`, `other` elsewhere, without a branch: a branch on the sign of an
/// activation mispredicts on half the values (measured: it made these passes scalar and the
/// WRN student step 25% slower than Burn's three separate passes).
#[inline(always)]
fn if_positive(v: f32, pos: f32, other: f32) -> f32 {
    let keep = u32::from(v > 0.0).wrapping_neg();
    f32::from_bits((pos.to_bits() & keep) | (other.to_bits() & !keep))
}

/// The activation fused into a normalisation's pass: `v` for `v > 0`, `slope·v` otherwise
/// (`slope` 1: none, 0: ReLU, 0.2: LeakyReLU(0.2)). NaN stays NaN.
#[inline(always)]
fn act(v: f32, slope: f32) -> f32 {
    if_positive(v, v, v * slope)
}

/// The derivative of [`act`] at the pre-activation `v` (ReLU's is 0 at 0, as in PyTorch).
#[inline(always)]
fn act_grad(v: f32, slope: f32) -> f32 {
    if_positive(v, 1.0, slope)
}

/// `y = act(x·scale + shift)` per channel, one pass: a batch norm in affine form
/// ([`affine`]) followed by its activation (`slope` as in [`act`]).
///
/// # Shapes
/// - `x`: `[batch, channels, spatial]`; `scale`, `shift`: `[channels]`
/// - output: like `x`
pub fn scale_shift(
    g: &NormGeometry,
    x: &[f32],
    scale: &[f32],
    shift: &[f32],
    slope: f32,
) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    y.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .enumerate()
        .for_each(|(i, (y, x))| {
            let c = i % g.channels;
            // Locals, not captured references: the loop vectorises.
            let (s, t, slope) = (scale[c], shift[c], slope);
            for (y, &x) in y.iter_mut().zip(x) {
                *y = act(x * s + t, slope);
            }
        });
    y
}

/// `(dscale, dshift)`, `[channels]` each.
pub type ScaleShiftGrads = (Vec<f32>, Vec<f32>);

/// Gradients of [`scale_shift`]: `dx = dp·scale` with `dp = dy·act'(x·scale + shift)`, and,
/// when `params` is set, `(dscale, dshift) = (Σ dp·x, Σ dp)` per channel (one more pass).
///
/// # Shapes
/// - `x`, `dy`: `[batch, channels, spatial]`; `scale`, `shift`: `[channels]`
/// - output: `dx` like `x`; `dscale`, `dshift` `[channels]`
pub fn scale_shift_backward(
    g: &NormGeometry,
    x: &[f32],
    dy: &[f32],
    scale: &[f32],
    shift: &[f32],
    slope: f32,
    params: bool,
) -> (Vec<f32>, Option<ScaleShiftGrads>) {
    let dp = pre_activation_grad(g, x, dy, scale, shift, slope);
    let params = params.then(|| {
        let sums = g.per_channel(|n, c| {
            let r = g.range(n, c);
            lane_sums(&x[r.clone()], &dp[r], |x, dp| {
                let dp = f64::from(dp);
                [dp * f64::from(x), dp]
            })
        });
        sums.iter().map(|&[a, b]| (a as f32, b as f32)).unzip()
    });
    let mut dx = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    dx.par_chunks_mut(chunk)
        .zip(dp.par_chunks(chunk))
        .enumerate()
        .for_each(|(i, (dx, dp))| {
            let s = scale[i % g.channels];
            for (dx, &dp) in dx.iter_mut().zip(dp) {
                *dx = dp * s;
            }
        });
    (dx, params)
}

/// `dp = dy·act'(x·scale + shift)`, the gradient at the activation's input: `dy` itself when
/// there is no activation, else a new buffer. Its own pass: folded into the per-channel
/// sums, the sign test kept the compiler from vectorising them (measured: scalar code with a
/// branch per value, and a student step 25% slower than Burn's separate passes).
fn pre_activation_grad<'a>(
    g: &NormGeometry,
    x: &[f32],
    dy: &'a [f32],
    scale: &[f32],
    shift: &[f32],
    slope: f32,
) -> Cow<'a, [f32]> {
    if slope == 1.0 {
        return Cow::Borrowed(dy);
    }
    let mut dp = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    dp.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk).zip(dy.par_chunks(chunk)))
        .enumerate()
        .for_each(|(i, (dp, (x, dy)))| {
            let c = i % g.channels;
            // Locals, not captured references: the loop vectorises.
            let (s, t, slope) = (scale[c], shift[c], slope);
            for ((dp, &x), &dy) in dp.iter_mut().zip(x).zip(dy) {
                *dp = dy * act_grad(x * s + t, slope);
            }
        });
    Cow::Owned(dp)
}

/// `y = act((x − mean)·gamma/√(var + ε) + beta)` per channel (`slope` as in [`act`]).
///
/// # Shapes
/// - `x`: `[batch, channels, spatial]`; `gamma`, `beta`, `mean`, `var`: `[channels]`
/// - output: like `x`
#[allow(clippy::too_many_arguments)] // the batch norm's own parameter list
pub fn normalize(
    g: &NormGeometry,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    slope: f32,
) -> Vec<f32> {
    let (scale, shift) = affine(gamma, beta, mean, var, epsilon);
    scale_shift(g, x, &scale, &shift, slope)
}

/// Gradients of the training-mode batch norm and its activation (batch statistics `mean`,
/// `var` of `x`): `(dx, dgamma, dbeta)` with `x̂ = (x − μ)/σ`, `dp = dy·act'(γx̂ + β)`,
/// `dβ = Σ dp`, `dγ = Σ dp·x̂`, `dx = γ/σ · (dp − dβ/M − x̂·dγ/M)`.
///
/// # Shapes
/// - `x`, `dy`: `[batch, channels, spatial]`; `gamma`, `beta`, `mean`, `var`: `[channels]`
/// - output: `dx` like `x`, `dgamma` and `dbeta` `[channels]`
#[allow(clippy::too_many_arguments)] // the batch norm's own parameter list
pub fn normalize_backward(
    g: &NormGeometry,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    slope: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let inv: Vec<f64> = var
        .iter()
        .map(|&v| 1.0 / (f64::from(v) + epsilon).sqrt())
        .collect();
    let (scale, shift) = affine(gamma, beta, mean, var, epsilon);
    let dp = pre_activation_grad(g, x, dy, &scale, &shift, slope);
    let sums = g.per_channel(|n, c| {
        let r = g.range(n, c);
        let mu = f64::from(mean[c]);
        lane_sums(&x[r.clone()], &dp[r], |x, dp| {
            let dp = f64::from(dp);
            [dp, dp * (f64::from(x) - mu)]
        })
    });
    let dbeta: Vec<f64> = sums.iter().map(|s| s[0]).collect();
    let dgamma: Vec<f64> = sums.iter().zip(&inv).map(|(s, i)| s[1] * i).collect();
    let m = g.count();
    let mut dx = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    dx.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk).zip(dp.par_chunks(chunk)))
        .enumerate()
        .for_each(|(i, (dx, (x, dp)))| {
            let c = i % g.channels;
            let k = (f64::from(gamma[c]) * inv[c]) as f32;
            let (mb, mg) = ((dbeta[c] / m) as f32, (dgamma[c] / m) as f32);
            let (mu, iv) = (mean[c], inv[c] as f32);
            for ((dx, &x), &dp) in dx.iter_mut().zip(x).zip(dp) {
                *dx = k * (dp - mb - (x - mu) * iv * mg);
            }
        });
    (
        dx,
        dgamma.iter().map(|&v| v as f32).collect(),
        dbeta.iter().map(|&v| v as f32).collect(),
    )
}

/// Gradient of [`moments`] with respect to `x`, given the gradients of the mean and variance:
/// `dx = dmean/M + dvar · 2(x − μ)/M`.
///
/// # Shapes
/// - `x`: `[batch, channels, spatial]`; `mean`, `dmean`, `dvar`: `[channels]`
/// - output: like `x`
pub fn moments_backward(
    g: &NormGeometry,
    x: &[f32],
    mean: &[f32],
    dmean: &[f32],
    dvar: &[f32],
) -> Vec<f32> {
    let m = g.count() as f32;
    let mut dx = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    dx.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .enumerate()
        .for_each(|(i, (dx, x))| {
            let c = i % g.channels;
            let (a, b, mu) = (dmean[c] / m, 2.0 * dvar[c] / m, mean[c]);
            for (dx, &x) in dx.iter_mut().zip(x) {
                *dx = a + b * (x - mu);
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two samples, two channels, two positions: channel 0 holds 1, 2 | 3, 6; channel 1 holds
    // 0, 0 | 4, 4.
    const X: [f32; 8] = [1.0, 2.0, 0.0, 0.0, 3.0, 6.0, 4.0, 4.0];
    const G: NormGeometry = NormGeometry {
        batch: 2,
        channels: 2,
        spatial: 2,
    };

    #[test]
    fn moments_by_hand() {
        let (mean, var) = moments(&G, &X);
        assert_eq!(mean, vec![3.0, 2.0]);
        // channel 0: deviations −2, −1, 0, 3 → 14/4; channel 1: −2, −2, 2, 2 → 4.
        assert_eq!(var, vec![3.5, 4.0]);
    }

    #[test]
    fn normalize_by_hand() {
        let y = normalize(
            &G,
            &X,
            &[2.0, 1.0],
            &[1.0, 0.0],
            &[3.0, 2.0],
            &[3.0, 4.0],
            1.0,
            1.0,
        );
        // channel 0: (x − 3)·2/2 + 1 = x − 2; channel 1: (x − 2)/√5.
        let r5 = 5f32.sqrt();
        let want = [
            -1.0,
            0.0,
            -2.0 / r5,
            -2.0 / r5,
            1.0,
            4.0,
            2.0 / r5,
            2.0 / r5,
        ];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{y:?}");
        }
    }

    #[test]
    fn the_fused_activation_by_hand() {
        // scale 2, shift −1 on channel 0; scale −1, shift 0 on channel 1.
        let (scale, shift) = ([2.0, -1.0], [-1.0, 0.0]);
        let pre = [1.0, 3.0, -0.0, -0.0, 5.0, 11.0, -4.0, -4.0];
        let relu = scale_shift(&G, &X, &scale, &shift, 0.0);
        assert_eq!(relu, vec![1.0, 3.0, 0.0, 0.0, 5.0, 11.0, 0.0, 0.0]);
        let leaky = scale_shift(&G, &X, &scale, &shift, 0.2);
        assert_eq!(leaky, vec![1.0, 3.0, 0.0, 0.0, 5.0, 11.0, -0.8, -0.8]);
        assert_eq!(scale_shift(&G, &X, &scale, &shift, 1.0), pre.to_vec());
        // dy = 1 everywhere: dx = act'(pre)·scale; dscale = Σ act'·x, dshift = Σ act'.
        let (dx, params) = scale_shift_backward(&G, &X, &[1.0; 8], &scale, &shift, 0.2, true);
        assert_eq!(dx, vec![2.0, 2.0, -0.2, -0.2, 2.0, 2.0, -0.2, -0.2]);
        let (dscale, dshift) = params.unwrap();
        assert_eq!(dscale, vec![12.0, 0.2 * 8.0]);
        assert_eq!(dshift, vec![4.0, 0.8]);
        assert!(
            scale_shift_backward(&G, &X, &[1.0; 8], &scale, &shift, 0.2, false)
                .1
                .is_none()
        );
        assert!(scale_shift(&G, &[f32::NAN; 8], &scale, &shift, 0.0)[0].is_nan());
    }

    /// The one-pass moments against a two-pass f64 reference on rows whose length is not a
    /// multiple of the eight accumulators, with a mean far from zero.
    #[test]
    fn moments_match_a_two_pass_reference_on_long_rows() {
        let g = NormGeometry {
            batch: 3,
            channels: 2,
            spatial: 37,
        };
        let x: Vec<f32> = (0..g.batch * g.channels * g.spatial)
            .map(|i| 50.0 + (i as f32 * 0.731).sin() * 2.0)
            .collect();
        let (mean, var) = moments(&g, &x);
        for c in 0..2 {
            let vals: Vec<f64> = (0..3)
                .flat_map(|n| x[g.range(n, c)].iter().map(|&v| f64::from(v)))
                .collect();
            let mu = vals.iter().sum::<f64>() / vals.len() as f64;
            let v = vals.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / vals.len() as f64;
            assert!((f64::from(mean[c]) - mu).abs() < 1e-5, "mean {c}");
            assert!(
                (f64::from(var[c]) - v).abs() < 1e-5 * v,
                "var {c}: {} vs {v}",
                var[c]
            );
        }
    }

    /// Finite differences of `L = Σ w·act(BN(x))` (batch statistics recomputed) against the
    /// analytic gradients, without activation, with ReLU and with LeakyReLU(0.2); of
    /// `L = Σ w·act(x·s + t)` for the affine form; and of `L = a·mean + b·var` for the moments.
    /// No pre-activation lies within the step of a kink.
    #[test]
    fn gradients_match_finite_differences() {
        let (gamma, beta, eps) = ([1.5f32, -0.5], [0.2f32, 0.1], 1e-3);
        let w: Vec<f32> = (0..8).map(|i| (i as f32 * 0.37).sin()).collect();
        let weighted =
            |y: Vec<f32>| -> f64 { y.iter().zip(&w).map(|(a, b)| f64::from(a * b)).sum() };
        let (m, v) = moments(&G, &X);
        for slope in [1.0, 0.0, 0.2] {
            let bn = |x: &[f32], gamma: &[f32], beta: &[f32]| {
                let (m, v) = moments(&G, x);
                weighted(normalize(&G, x, gamma, beta, &m, &v, eps, slope))
            };
            let (dx, dg, db) = normalize_backward(&G, &X, &w, &gamma, &beta, &m, &v, eps, slope);
            let case = format!("slope {slope}");
            assert_finite_differences(&X, &dx, |x| bn(x, &gamma, &beta), &format!("{case} dx"));
            assert_finite_differences(&gamma, &dg, |g| bn(&X, g, &beta), &format!("{case} dγ"));
            assert_finite_differences(&beta, &db, |b| bn(&X, &gamma, b), &format!("{case} dβ"));
            let (s, t) = ([0.8f32, -1.2], [0.5f32, 3.1]);
            let affine =
                |x: &[f32], s: &[f32], t: &[f32]| weighted(scale_shift(&G, x, s, t, slope));
            let (dx, params) = scale_shift_backward(&G, &X, &w, &s, &t, slope, true);
            let (ds, dt) = params.unwrap();
            assert_finite_differences(&X, &dx, |x| affine(x, &s, &t), &format!("{case} affine dx"));
            assert_finite_differences(&s, &ds, |p| affine(&X, p, &t), &format!("{case} dscale"));
            assert_finite_differences(&t, &dt, |p| affine(&X, &s, p), &format!("{case} dshift"));
        }
        let (a, b) = ([0.7f32, -1.1], [0.3f32, 0.9]);
        let mloss = |x: &[f32]| {
            let (m, v) = moments(&G, x);
            (0..2)
                .map(|c| f64::from(a[c] * m[c] + b[c] * v[c]))
                .sum::<f64>()
        };
        let dxm = moments_backward(&G, &X, &m, &a, &b);
        assert_finite_differences(&X, &dxm, mloss, "moments dx");
    }

    /// Central differences (step 0.01) of `loss` at `at` against `analytic`, entry by entry.
    fn assert_finite_differences(
        at: &[f32],
        analytic: &[f32],
        loss: impl Fn(&[f32]) -> f64,
        what: &str,
    ) {
        let h = 1e-2f32;
        for i in 0..at.len() {
            let (mut p, mut q) = (at.to_vec(), at.to_vec());
            p[i] += h;
            q[i] -= h;
            let fd = (loss(&p) - loss(&q)) / f64::from(2.0 * h);
            assert!(
                (fd - f64::from(analytic[i])).abs() < 2e-3,
                "{what}[{i}]: {fd} vs {}",
                analytic[i]
            );
        }
    }
}
