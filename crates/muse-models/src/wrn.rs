//! Wide ResNets (Zagoruyko & Komodakis), pre-activation blocks, as in the DFKD CIFAR zoo
//! (Fast-Datafree `wresnet.py`): WRN-16-1, 16-2, 40-1, 40-2.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::{Device, Tensor};
use muse_kernels::conv2d_module;

use crate::classifier::Classifier;
use crate::error::ModelError;
use crate::layers::{bn, conv, head, scaled};
use crate::taps::{TapRecorder, bn_relu_forward};

/// Depth and widening factor of a Wide ResNet.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum WrnVariant {
    /// Depth 16, widen 1.
    W16x1,
    /// Depth 16, widen 2.
    W16x2,
    /// Depth 40, widen 1.
    W40x1,
    /// Depth 40, widen 2.
    W40x2,
}

impl WrnVariant {
    /// `(depth, widen_factor)`.
    pub fn depth_widen(self) -> (usize, usize) {
        match self {
            Self::W16x1 => (16, 1),
            Self::W16x2 => (16, 2),
            Self::W40x1 => (40, 1),
            Self::W40x2 => (40, 2),
        }
    }
}

/// Configuration of a [`WideResNet`].
#[derive(Config, Debug)]
pub struct WideResNetConfig {
    /// Depth and width.
    pub variant: WrnVariant,
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Multiplies every channel count.
    #[config(default = 1.0)]
    pub width_mult: f64,
}

/// Pre-activation block: BN-ReLU-conv3×3-BN-ReLU-conv3×3 plus a 1×1 shortcut when the shape
/// changes (applied to the pre-activated input, as in the reference code).
#[derive(Module, Debug)]
pub struct WrnBlock {
    /// BatchNorm of the block input.
    pub bn1: BatchNorm,
    /// First 3×3 convolution (carries the stride).
    pub conv1: Conv2d,
    /// BatchNorm after `conv1`.
    pub bn2: BatchNorm,
    /// Second 3×3 convolution.
    pub conv2: Conv2d,
    /// 1×1 shortcut when input and output differ.
    pub shortcut: Option<Conv2d>,
}

impl WrnBlock {
    fn new(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Self {
        Self {
            bn1: bn(c_in, device),
            conv1: conv([c_in, c_out], 3, stride, 1, 1, device),
            bn2: bn(c_out, device),
            conv2: conv([c_out, c_out], 3, 1, 1, 1, device),
            shortcut: (c_in != c_out || stride != 1)
                .then(|| conv([c_in, c_out], 1, stride, 0, 1, device)),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`
    /// - output: `[batch, c_out, h/stride, w/stride]`
    fn forward(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let pre = bn_relu_forward(&self.bn1, x.clone(), rec);
        let residual = match &self.shortcut {
            Some(sc) => conv2d_module(sc, pre.clone()),
            None => x,
        };
        let out = conv2d_module(&self.conv1, pre);
        let out = bn_relu_forward(&self.bn2, out, rec);
        conv2d_module(&self.conv2, out) + residual
    }
}

/// A group of blocks at one width.
#[derive(Module, Debug)]
pub struct WrnGroup {
    /// The blocks, in order.
    pub blocks: Vec<WrnBlock>,
}

/// Wide ResNet: stem conv, three groups (strides 1, 2, 2), final BN-ReLU, pooling, linear.
#[derive(Module, Debug)]
pub struct WideResNet {
    /// Stem 3×3 convolution to 16 channels.
    pub conv1: Conv2d,
    /// The three groups.
    pub groups: Vec<WrnGroup>,
    /// Final BatchNorm.
    pub bn: BatchNorm,
    /// Classifier.
    pub fc: Linear,
    in_channels: usize,
}

impl WideResNetConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<WideResNet, ModelError> {
        crate::config_check::common(self.num_classes, self.in_channels, self.width_mult)?;
        let (depth, k) = self.variant.depth_widen();
        let n = (depth - 4) / 6;
        let widths = [16, 16 * k, 32 * k, 64 * k].map(|c| scaled(c, self.width_mult));
        let mut groups = Vec::new();
        for g in 0..3 {
            let stride = if g == 0 { 1 } else { 2 };
            let blocks = (0..n)
                .map(|j| {
                    let c_in = if j == 0 { widths[g] } else { widths[g + 1] };
                    WrnBlock::new(c_in, widths[g + 1], if j == 0 { stride } else { 1 }, device)
                })
                .collect();
            groups.push(WrnGroup { blocks });
        }
        Ok(WideResNet {
            conv1: conv([self.in_channels, widths[0]], 3, 1, 1, 1, device),
            groups,
            bn: bn(widths[3], device),
            fc: head(widths[3], self.num_classes, device),
            in_channels: self.in_channels,
        })
    }
}

impl Classifier for WideResNet {
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let mut x = conv2d_module(&self.conv1, x);
        for group in &self.groups {
            for block in &group.blocks {
                x = block.forward(x, rec);
            }
        }
        bn_relu_forward(&self.bn, x, rec)
    }

    fn head(&self) -> &Linear {
        &self.fc
    }

    fn in_channels(&self) -> usize {
        self.in_channels
    }
}
