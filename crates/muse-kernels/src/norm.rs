//! Batch normalisation on `f32` slices laid out `[batch, channels, spatial…]`: the per-channel
//! batch moments, the training-mode forward, and the gradients of both, each in two passes
//! over the data (one for per-channel sums, one element-wise) where Burn's generic
//! composition makes two transposed copies and about ten element-wise passes.
//!
//! `M = batch · spatial` values per channel; statistics are the mean and the *biased* variance
//! (`Σ(x − μ)² / M`), as Burn's and PyTorch's batch norm use for normalising.

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

    /// Per channel: `f(sample slice)` summed over the batch, in f64.
    fn per_channel(&self, f: impl Fn(usize, usize) -> f64 + Sync) -> Vec<f64> {
        (0..self.channels)
            .into_par_iter()
            .map(|c| (0..self.batch).map(|n| f(n, c)).sum())
            .collect()
    }

    fn range(&self, n: usize, c: usize) -> std::ops::Range<usize> {
        let start = (n * self.channels + c) * self.spatial;
        start..start + self.spatial
    }
}

/// Per-channel mean and biased variance (two passes, f64 accumulation).
///
/// # Shapes
/// - `x`: `[batch, channels, spatial]`
/// - output: `(mean, variance)`, `[channels]` each
pub fn moments(g: &NormGeometry, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let m = g.count();
    let sums = g.per_channel(|n, c| x[g.range(n, c)].iter().map(|&v| f64::from(v)).sum());
    let mean: Vec<f64> = sums.iter().map(|s| s / m).collect();
    let sq = g.per_channel(|n, c| {
        x[g.range(n, c)]
            .iter()
            .map(|&v| (f64::from(v) - mean[c]).powi(2))
            .sum()
    });
    (
        mean.iter().map(|&v| v as f32).collect(),
        sq.iter().map(|&s| (s / m) as f32).collect(),
    )
}

/// `y = (x − mean)·gamma/√(var + ε) + beta`, per channel.
///
/// # Shapes
/// - `x`: `[batch, channels, spatial]`; `gamma`, `beta`, `mean`, `var`: `[channels]`
/// - output: like `x`
pub fn normalize(
    g: &NormGeometry,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
) -> Vec<f32> {
    let (scale, shift): (Vec<f32>, Vec<f32>) = (0..g.channels)
        .map(|c| {
            let s = f64::from(gamma[c]) / (f64::from(var[c]) + epsilon).sqrt();
            (
                s as f32,
                (f64::from(beta[c]) - f64::from(mean[c]) * s) as f32,
            )
        })
        .unzip();
    let mut y = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    y.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .enumerate()
        .for_each(|(i, (y, x))| {
            let c = i % g.channels;
            let (s, t) = (scale[c], shift[c]);
            for (y, &x) in y.iter_mut().zip(x) {
                *y = x * s + t;
            }
        });
    y
}

/// Gradients of the training-mode batch norm (batch statistics `mean`, `var` of `x`):
/// `(dx, dgamma, dbeta)` with `x̂ = (x − μ)/σ`, `dβ = Σ dy`, `dγ = Σ dy·x̂`,
/// `dx = γ/σ · (dy − dβ/M − x̂·dγ/M)`.
///
/// # Shapes
/// - `x`, `dy`: `[batch, channels, spatial]`; `gamma`, `mean`, `var`: `[channels]`
/// - output: `dx` like `x`, `dgamma` and `dbeta` `[channels]`
pub fn normalize_backward(
    g: &NormGeometry,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let inv: Vec<f64> = var
        .iter()
        .map(|&v| 1.0 / (f64::from(v) + epsilon).sqrt())
        .collect();
    let dbeta = g.per_channel(|n, c| dy[g.range(n, c)].iter().map(|&v| f64::from(v)).sum());
    let dgamma = g.per_channel(|n, c| {
        let r = g.range(n, c);
        let mu = f64::from(mean[c]);
        x[r.clone()]
            .iter()
            .zip(&dy[r])
            .map(|(&x, &d)| f64::from(d) * (f64::from(x) - mu) * inv[c])
            .sum()
    });
    let m = g.count();
    let mut dx = vec![0.0; x.len()];
    let chunk = g.spatial.max(1);
    dx.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk).zip(dy.par_chunks(chunk)))
        .enumerate()
        .for_each(|(i, (dx, (x, dy)))| {
            let c = i % g.channels;
            let k = (f64::from(gamma[c]) * inv[c]) as f32;
            let (mb, mg) = ((dbeta[c] / m) as f32, (dgamma[c] / m) as f32);
            let (mu, iv) = (mean[c], inv[c] as f32);
            for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
                *dx = k * (dy - mb - (x - mu) * iv * mg);
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

    /// Finite differences of `L = Σ w·BN(x)` (batch statistics recomputed) against the analytic
    /// gradients, and of `L = a·mean + b·var` for the moments.
    #[test]
    fn gradients_match_finite_differences() {
        let (gamma, beta, eps) = ([1.5f32, -0.5], [0.2f32, 0.1], 1e-3);
        let w: Vec<f32> = (0..8).map(|i| (i as f32 * 0.37).sin()).collect();
        let loss = |x: &[f32], gamma: &[f32], beta: &[f32]| -> f64 {
            let (m, v) = moments(&G, x);
            let y = normalize(&G, x, gamma, beta, &m, &v, eps);
            y.iter().zip(&w).map(|(a, b)| f64::from(a * b)).sum()
        };
        let (m, v) = moments(&G, &X);
        let (dx, dg, db) = normalize_backward(&G, &X, &w, &gamma, &m, &v, eps);
        let h = 1e-2f32;
        for i in 0..8 {
            let (mut p, mut q) = (X, X);
            p[i] += h;
            q[i] -= h;
            let fd = (loss(&p, &gamma, &beta) - loss(&q, &gamma, &beta)) / f64::from(2.0 * h);
            assert!(
                (fd - f64::from(dx[i])).abs() < 2e-3,
                "dx[{i}]: {fd} vs {}",
                dx[i]
            );
        }
        for c in 0..2 {
            let (mut p, mut q) = (gamma, gamma);
            p[c] += h;
            q[c] -= h;
            let fd = (loss(&X, &p, &beta) - loss(&X, &q, &beta)) / f64::from(2.0 * h);
            assert!((fd - f64::from(dg[c])).abs() < 2e-3, "dgamma[{c}]");
            let (mut p, mut q) = (beta, beta);
            p[c] += h;
            q[c] -= h;
            let fd = (loss(&X, &gamma, &p) - loss(&X, &gamma, &q)) / f64::from(2.0 * h);
            assert!((fd - f64::from(db[c])).abs() < 2e-3, "dbeta[{c}]");
        }
        let (a, b) = ([0.7f32, -1.1], [0.3f32, 0.9]);
        let mloss = |x: &[f32]| {
            let (m, v) = moments(&G, x);
            (0..2)
                .map(|c| f64::from(a[c] * m[c] + b[c] * v[c]))
                .sum::<f64>()
        };
        let dxm = moments_backward(&G, &X, &m, &a, &b);
        for i in 0..8 {
            let (mut p, mut q) = (X, X);
            p[i] += h;
            q[i] -= h;
            let fd = (mloss(&p) - mloss(&q)) / f64::from(2.0 * h);
            assert!((fd - f64::from(dxm[i])).abs() < 2e-3, "moments dx[{i}]");
        }
    }
}
