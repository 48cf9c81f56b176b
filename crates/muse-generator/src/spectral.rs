//! Spectral normalisation of a convolution (Miyato et al. 2018). Burn has none, so this is the
//! hand-written form of PyTorch's `torch.nn.utils.spectral_norm`: the weight is a trained
//! parameter, `u` a persistent non-trained vector; each training forward does one power
//! iteration (without gradient) and divides the weight by `σ = uᵀ W v`, with the gradient
//! flowing through `W`.

use burn::module::{Module, Param, RunningState};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use muse_kernels::conv2d;

/// `v / max(‖v‖, 1e-12)` over all elements.
fn normalize(v: Tensor<2>) -> Tensor<2> {
    let norm = v.clone().powi_scalar(2).sum().sqrt().clamp_min(1e-12);
    v / norm.unsqueeze::<2>()
}

/// A 3×3 (or any odd square) stride-1 "same" convolution with optional spectral normalisation.
#[derive(Module, Debug)]
pub struct SnConv2d {
    /// The raw weight `[out, in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// The bias `[out]`.
    pub bias: Param<Tensor<1>>,
    /// Left singular vector estimate `[out]` (saved, not trained).
    pub u: RunningState<Tensor<1>>,
    spectral: bool,
    padding: usize,
}

impl SnConv2d {
    /// A new convolution with PyTorch's default initialisation.
    pub fn new(channels: [usize; 2], kernel: usize, spectral: bool, device: &Device) -> Self {
        let conv = Conv2dConfig::new(channels, [kernel, kernel])
            .with_padding(PaddingConfig2d::Explicit(
                kernel / 2,
                kernel / 2,
                kernel / 2,
                kernel / 2,
            ))
            .init(device);
        let u = Tensor::<1>::random([channels[1]], Distribution::Normal(0.0, 1.0), device);
        let u = normalize(u.unsqueeze::<2>()).reshape([channels[1]]);
        Self {
            weight: conv.weight,
            bias: conv.bias.expect("bias requested"),
            u: RunningState::new(u),
            spectral,
            padding: kernel / 2,
        }
    }

    /// The weight actually used by the forward: `W / σ(W)` when spectral normalisation is on.
    /// Updates `u` (one power iteration) when `update` is set.
    pub fn effective_weight(&self, update: bool) -> Tensor<4> {
        let w = self.weight.val();
        if !self.spectral {
            return w;
        }
        let [o, i, kh, kw] = w.dims();
        let w_mat = w.clone().reshape([o, i * kh * kw]);
        let w_det = w_mat.clone().detach();
        let device = w.device();
        let u = self.u.value_sync().to_device(&device).reshape([o, 1]);
        let v = normalize(w_det.clone().transpose().matmul(u)); // [i·k·k, 1]
        let u = normalize(w_det.matmul(v.clone())); // [o, 1]
        if update {
            self.u.update(u.clone().reshape([o]).detach());
        }
        let sigma = u.transpose().matmul(w_mat.matmul(v)); // [1, 1], gradient through W
        w / sigma.reshape([1, 1, 1, 1])
    }

    /// # Shapes
    /// - `x`: `[batch, in, h, w]`
    /// - output: `[batch, out, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let update = x.device().is_autodiff() && self.weight.val().is_require_grad();
        let w = self.effective_weight(update);
        let p = self.padding;
        conv2d(
            x,
            w,
            Some(self.bias.val()),
            ConvOptions::new([1, 1], [p, p], [1, 1], 1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn power_iteration_converges_to_the_largest_singular_value() {
        let device = muse_device::device();
        let mut conv = SnConv2d::new([1, 2], 1, true, &device);
        // W as a 2×1 matrix [3, 4]ᵀ: its only singular value is 5.
        conv.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![3.0f32, 4.0], [2, 1, 1, 1]),
            &device,
        ));
        for _ in 0..3 {
            conv.effective_weight(true);
        }
        let w = values(conv.effective_weight(true));
        assert!(
            (w[0] - 0.6).abs() < 1e-5 && (w[1] - 0.8).abs() < 1e-5,
            "{w:?}"
        );
        // Without spectral normalisation the raw weight is used.
        conv.spectral = false;
        assert_eq!(values(conv.effective_weight(false)), vec![3.0, 4.0]);
    }

    /// The largest singular value of a row-major `rows × cols` matrix, in f64: power
    /// iteration on `W Wᵀ` run long enough to converge for any realistic spectral gap.
    fn sigma_max(w: &[f32], rows: usize, cols: usize) -> f64 {
        let gram: Vec<f64> = (0..rows * rows)
            .map(|k| {
                let (i, j) = (k / rows, k % rows);
                (0..cols)
                    .map(|c| w[i * cols + c] as f64 * w[j * cols + c] as f64)
                    .sum()
            })
            .collect();
        let mut v = vec![1.0f64; rows];
        let mut lambda = 0.0;
        for _ in 0..5000 {
            let next: Vec<f64> = (0..rows)
                .map(|i| (0..rows).map(|j| gram[i * rows + j] * v[j]).sum())
                .collect();
            lambda = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = next.iter().map(|x| x / lambda).collect();
        }
        lambda.sqrt()
    }

    #[test]
    fn normalised_3x3_kernel_has_unit_spectral_norm_and_trains() {
        let device = muse_device::autodiff_device();
        let conv = SnConv2d::new([4, 6], 3, true, &device);
        // One power iteration per forward converges at the rate (σ₂/σ₁)^(2n): run many.
        for _ in 0..1000 {
            conv.effective_weight(true);
        }
        let w = values(conv.effective_weight(false).inner());
        let s = sigma_max(&w, 6, 36);
        assert!((s - 1.0).abs() < 2e-3, "spectral norm {s}");
        let x = Tensor::<4>::random([2, 4, 5, 5], Distribution::Default, &device);
        let y = conv.forward(x);
        assert_eq!(y.dims(), [2, 6, 5, 5]);
        let grads = y.sum().backward();
        assert!(conv.weight.val().grad(&grads).is_some());
        assert!(conv.bias.val().grad(&grads).is_some());
    }
}
