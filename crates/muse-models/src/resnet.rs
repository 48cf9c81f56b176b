//! ResNets: the CIFAR variant of the DFKD papers (DAFL, Fast, NAYER: 3×3 stem, no max-pool) and
//! torchvision's ImageNet layout (7×7 stride-2 stem and max-pool), from one constructor.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::{Device, Tensor};
use muse_kernels::conv2d_module;

use crate::classifier::Classifier;
use crate::error::ModelError;
use crate::layers::{bn, conv, head, max_pool, scaled};
use crate::resnet_blocks::{BasicBlock, Bottleneck, ResBlock};
use crate::taps::{TapRecorder, bn_relu_forward};

/// Depth of a ResNet; each names a block type and a stage table.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ResNetDepth {
    /// 3 stages of 1 basic block, widths 16-32-64.
    R8,
    /// 3 stages of 3 basic blocks, widths 16-32-64.
    R20,
    /// 4 stages of [2,2,2,2] basic blocks, widths 64-128-256-512.
    R18,
    /// 4 stages of [3,4,6,3] basic blocks, widths 64-128-256-512.
    R34,
    /// 4 stages of [3,4,6,3] bottlenecks, widths 64-128-256-512 (×4 out).
    R50,
}

impl ResNetDepth {
    /// Blocks per stage.
    pub fn stages(self) -> &'static [usize] {
        match self {
            Self::R8 => &[1, 1, 1],
            Self::R20 => &[3, 3, 3],
            Self::R18 => &[2, 2, 2, 2],
            Self::R34 | Self::R50 => &[3, 4, 6, 3],
        }
    }

    /// Width of the stem and first stage at width multiplier 1.
    pub fn base_width(self) -> usize {
        match self {
            Self::R8 | Self::R20 => 16,
            _ => 64,
        }
    }

    fn bottleneck(self) -> bool {
        self == Self::R50
    }
}

/// The stem: how the first layers reduce resolution.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Stem {
    /// 3×3 stride-1 convolution, no max-pool (CIFAR-sized inputs).
    Cifar,
    /// 7×7 stride-2 convolution and 3×3 stride-2 max-pool (torchvision).
    ImageNet,
}

/// Configuration of a [`ResNet`].
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// Depth and block type.
    pub depth: ResNetDepth,
    /// Stem layout.
    pub stem: Stem,
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Multiplies every channel count (0.25 gives a narrow ResNet-18 of widths 16-32-64-128).
    #[config(default = 1.0)]
    pub width_mult: f64,
}

/// One stage: a run of residual blocks, the first of which may stride.
#[derive(Module, Debug)]
pub struct Stage {
    /// The blocks, in order.
    pub blocks: Vec<ResBlock>,
}

/// A residual network ending in global average pooling and one linear layer.
#[derive(Module, Debug)]
pub struct ResNet {
    /// Stem convolution.
    pub conv1: Conv2d,
    /// Stem BatchNorm.
    pub bn1: BatchNorm,
    /// Stem max-pool (ImageNet layout only).
    pub maxpool: Option<MaxPool2d>,
    /// Residual stages.
    pub stages: Vec<Stage>,
    /// Classifier.
    pub fc: Linear,
    in_channels: usize,
}

impl ResNetConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<ResNet, ModelError> {
        crate::config_check::common(self.num_classes, self.in_channels, self.width_mult)?;
        let base = scaled(self.depth.base_width(), self.width_mult);
        let (conv1, maxpool) = match self.stem {
            Stem::Cifar => (conv([self.in_channels, base], 3, 1, 1, 1, device), None),
            Stem::ImageNet => (
                conv([self.in_channels, base], 7, 2, 3, 1, device),
                Some(max_pool(3, 2, 1, false)),
            ),
        };
        let expansion = if self.depth.bottleneck() {
            Bottleneck::EXPANSION
        } else {
            BasicBlock::EXPANSION
        };
        let mut c_in = base;
        let mut stages = Vec::new();
        for (i, &n) in self.depth.stages().iter().enumerate() {
            let width = base << i;
            let blocks = (0..n)
                .map(|j| {
                    let stride = if i > 0 && j == 0 { 2 } else { 1 };
                    let block = if self.depth.bottleneck() {
                        ResBlock::Bottleneck(Bottleneck::new(c_in, width, stride, device))
                    } else {
                        ResBlock::Basic(BasicBlock::new(c_in, width, stride, device))
                    };
                    c_in = width * expansion;
                    block
                })
                .collect();
            stages.push(Stage { blocks });
        }
        Ok(ResNet {
            conv1,
            bn1: bn(base, device),
            maxpool,
            stages,
            fc: head(c_in, self.num_classes, device),
            in_channels: self.in_channels,
        })
    }
}

impl Classifier for ResNet {
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let mut x = bn_relu_forward(&self.bn1, conv2d_module(&self.conv1, x), rec);
        if let Some(pool) = &self.maxpool {
            x = pool.forward(x);
        }
        for stage in &self.stages {
            for block in &stage.blocks {
                x = block.forward(x, rec);
            }
        }
        x
    }

    fn head(&self) -> &Linear {
        &self.fc
    }

    fn in_channels(&self) -> usize {
        self.in_channels
    }
}
