//! Faster CPU kernels for MUSE-rs, plugged into Burn 0.22's flex backend through its
//! backend-extension mechanism (`#[backend_extension]`):
//!
//! - the 2-D convolution, forward and both gradients, as im2col + one GEMM per sample on the
//!   `gemm` crate (the GEMM flex itself uses). Flex's own conv2d goes through an NHWC copy,
//!   per-tile buffers and a scatter, and its weight gradient is a second convolution over
//!   swapped tensors with one skinny GEMM per input channel;
//! - nearest ×2 upsampling and its gradient, one pass each;
//! - batch normalisation: the training-mode forward and backward in two passes each, the
//!   inference form as one scale-and-shift, and differentiable per-channel moments (the BN
//!   statistics taps), where Burn composes them from transposed copies and ~10 element-wise
//!   passes.
//!
//! Call [`conv2d`] / [`conv2d_module`] / [`batch_norm`] / [`batch_norm_act`] /
//! [`channel_moments`] where `burn::tensor::module::conv2d` / `Conv2d::forward` /
//! `BatchNorm::forward` / a batch norm and its (Leaky)ReLU / a batch mean and variance would
//! be computed. With the `flex` feature, f32 tensors on
//! `Device::flex()` or its autodiff take this crate's path (anything else falls back); every
//! other device, and every build without the feature, gets Burn's operations unchanged.
//! The measured effect is in `docs/performance.md`.

pub mod conv;
mod direct;
mod direct_weight;
#[cfg(feature = "flex")]
mod flex;
mod gemm;
pub mod norm;
mod simd;
pub mod upsample;
mod winograd;

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Tensor};

pub use conv::ConvGeometry;
pub use norm::NormGeometry;

static KERNEL_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many convolutions this process has run through this crate's kernels (forward passes;
/// a fallback to Burn is not counted): lets a test or a curious user see that the fast path
/// is taken.
pub fn kernel_calls() -> usize {
    KERNEL_CALLS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether [`conv2d`] takes this crate's kernels for tensors on `device`.
pub fn accelerated(device: &burn::tensor::Device) -> bool {
    #[cfg(feature = "flex")]
    {
        matches!(
            device.clone().inner().as_dispatch(),
            burn::backend::DispatchDevice::Flex(_)
        )
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = device;
        false
    }
}

/// Whether `x` takes this crate's kernels: a non-empty f32 tensor on an accelerated device.
fn fast_path<const D: usize>(x: &Tensor<D>) -> bool {
    accelerated(&x.device()) && x.dtype() == DType::F32 && !x.dims().contains(&0)
}

/// 2-D convolution, `burn::tensor::module::conv2d`'s contract.
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]`
/// - `weight`: `[out_channels, in_channels / groups, kh, kw]`
/// - `bias`: `[out_channels]`
/// - output: `[batch, out_channels, oh, ow]`
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fast_path(&x) {
        let y = flex::conv::conv2d(x, weight, options);
        return match bias {
            Some(b) => {
                let c = b.dims()[0];
                y + b.reshape([1, c, 1, 1])
            }
            None => y,
        };
    }
    burn::tensor::module::conv2d(x, weight, bias, options)
}

/// `conv.forward(x)` through [`conv2d`].
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]`
/// - output: `[batch, out_channels, oh, ow]`
pub fn conv2d_module(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
        // `Same` depends on the input size through a Burn-internal helper: let Burn do it.
        PaddingConfig2d::Same => return conv.forward(x),
    };
    let options = ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, conv.groups);
    conv2d(
        x,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        options,
    )
}

#[cfg(not(feature = "flex"))]
/// `[1, channels, 1, …]`: a per-channel vector shaped to broadcast over a `D`-dimensional input.
fn per_channel<const D: usize>(v: Tensor<1>) -> Tensor<D> {
    let mut shape = [1; D];
    shape[1] = v.dims()[0];
    v.reshape(shape)
}

/// The activation [`batch_norm_act`] fuses into the batch norm's passes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// None: the batch norm alone.
    Identity,
    /// `max(0, v)`.
    Relu,
    /// `v` for `v > 0`, `slope·v` otherwise.
    LeakyRelu(f64),
}

impl Activation {
    /// The negative slope the kernels take: 1 for none, 0 for ReLU.
    #[cfg(feature = "flex")]
    fn slope(self) -> f64 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => 0.0,
            Activation::LeakyRelu(slope) => slope,
        }
    }

    /// Burn's own activation, for the paths without the fused kernels.
    fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Identity => x,
            Activation::Relu => relu(x),
            Activation::LeakyRelu(slope) => leaky_relu(x, slope),
        }
    }
}

/// `bn.forward(x)`, with the same semantics: batch statistics (and a running-statistics update
/// with the layer's momentum) when `x` is on an autodiff device and the layer is training, the
/// running statistics otherwise.
///
/// # Shapes
/// - `x`: `[batch, channels, …]`
/// - output: like `x`
pub fn batch_norm<const D: usize>(bn: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    batch_norm_act(bn, x, Activation::Identity)
}

/// `act(bn.forward(x))` ([`batch_norm`]'s semantics), the activation fused into the batch
/// norm's passes: one element-wise pass forward and one backward instead of three to five
/// (Burn's normalisation, ReLU, and their gradients, each its own pass and buffer).
///
/// # Shapes
/// - `x`: `[batch, channels, …]`
/// - output: like `x`
pub fn batch_norm_act<const D: usize>(bn: &BatchNorm, x: Tensor<D>, act: Activation) -> Tensor<D> {
    if D < 2 || !fast_path(&x) {
        return act.apply(bn.forward(x));
    }
    #[cfg(feature = "flex")]
    if x.device().is_autodiff() && bn.training.is_enabled() {
        let (y, mean, var) = flex::norm::batch_norm_train(bn, x, act.slope());
        let m = bn.momentum;
        let running_mean = bn.running_mean.value_sync() * (1.0 - m) + mean * m;
        let running_var = bn.running_var.value_sync() * (1.0 - m) + var * m;
        bn.running_mean.update(running_mean.detach());
        bn.running_var.update(running_var.detach());
        return y;
    }
    // Running statistics: y = act(x·s + t) with s = γ/√(σ² + ε), t = β − μ·s, one pass.
    let scale = bn.gamma.val() / (bn.running_var.value() + bn.epsilon).sqrt();
    let shift = bn.beta.val() - bn.running_mean.value() * scale.clone();
    #[cfg(feature = "flex")]
    return flex::norm::scale_shift(x, scale, shift, act.slope());
    #[cfg(not(feature = "flex"))]
    act.apply(x * per_channel::<D>(scale) + per_channel::<D>(shift))
}

/// Nearest-neighbour ×2 upsampling: every pixel repeated in a 2×2 block (PyTorch's
/// `Upsample(scale_factor=2)`), one pass forward and one backward on the flex kernels.
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - output: `[batch, channels, 2·height, 2·width]`
pub fn upsample_nearest2(x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fast_path(&x) {
        return flex::upsample::upsample2(x);
    }
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, 2 * h, 2 * w])
}

/// Per-channel batch mean and biased variance of `x`, differentiable in `x` (the batch
/// statistics a BatchNorm-statistics loss compares with the running ones).
///
/// # Shapes
/// - `x`: `[batch, channels, …]`
/// - output: `(mean, variance)`, `[channels]` each
pub fn channel_moments<const D: usize>(x: Tensor<D>) -> (Tensor<1>, Tensor<1>) {
    #[cfg(feature = "flex")]
    if fast_path(&x) {
        return flex::norm::moments(x);
    }
    let c = x.dims()[1];
    let flat = x.swap_dims(0, 1).flatten::<2>(1, D - 1); // [c, n·…]
    let (var, mean) = flat.var_mean_bias(1);
    (mean.reshape([c]), var.reshape([c]))
}
