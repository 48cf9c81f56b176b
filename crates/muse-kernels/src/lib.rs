//! Faster CPU kernels for MUSE-rs, plugged into Burn 0.22's flex backend through its
//! backend-extension mechanism (`#[backend_extension]`): today the 2-D convolution, forward and
//! both gradients, as im2col + one GEMM per sample on the `gemm` crate (the GEMM flex itself
//! uses). Flex's own conv2d goes through an NHWC copy, per-tile buffers and a scatter, and its
//! weight gradient is a second convolution over swapped tensors with one skinny GEMM per input
//! channel (see `docs/performance.md`).
//!
//! Call [`conv2d`] / [`conv2d_module`] where `burn::tensor::module::conv2d` /
//! `Conv2d::forward` would be called. With the `flex` feature, tensors on `Device::flex()` or
//! its autodiff take this crate's path (f32, groups 1; anything else falls back); every other
//! device, and every build without the feature, gets Burn's convolution unchanged.

mod conv;
#[cfg(feature = "flex")]
mod flex;
mod gemm;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use burn::tensor::ops::ConvOptions;

pub use conv::ConvGeometry;

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
    if !accelerated(&x.device()) {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    }
    #[cfg(feature = "flex")]
    {
        use burn::backend::Dispatch;
        use flex::FastConvOps;
        let y = Tensor::<4>::from_dispatch(<Dispatch as FastConvOps>::fast_conv2d(
            x.into_dispatch(),
            weight.into_dispatch(),
            options,
        ));
        match bias {
            Some(b) => {
                let c = b.dims()[0];
                y + b.reshape([1, c, 1, 1])
            }
            None => y,
        }
    }
    #[cfg(not(feature = "flex"))]
    unreachable!("accelerated() is false without the flex feature")
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
