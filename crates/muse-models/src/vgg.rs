//! VGG-11 with BatchNorm, CIFAR variant of the DFKD zoo (Fast-Datafree / NAYER `vgg.py`,
//! configuration A): five blocks of 3×3 convolutions (with bias) + BatchNorm + ReLU; a 2×2
//! max-pool (floor) after blocks 0–2, after block 3 only for 64 px inputs, none after block 4;
//! then global average pooling and one linear layer. At 32 px the last map is 4×4.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::nn::pool::MaxPool2d;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::classifier::Classifier;
use crate::error::ModelError;
use crate::layers::{ConvBn, head, max_pool, scaled};
use crate::taps::TapRecorder;

/// VGG-11's configuration A: the channel counts of each block's convolutions.
const VGG11: [&[usize]; 5] = [&[64], &[128], &[256, 256], &[512, 512], &[512, 512]];

/// The zoo pools after block 3 only at this input side (Tiny-ImageNet's 64 px).
const POOL3_SIDE: usize = 64;

/// Configuration of a [`Vgg`].
#[derive(Config, Debug)]
pub struct VggConfig {
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Multiplies every channel count.
    #[config(default = 1.0)]
    pub width_mult: f64,
}

/// One block: convolutions, each followed by BatchNorm and ReLU (PyTorch `blockN`).
#[derive(Module, Debug)]
pub struct VggBlock {
    /// The convolutions of the block, in order.
    pub convs: Vec<ConvBn>,
}

/// VGG-11-BN.
#[derive(Module, Debug)]
pub struct Vgg {
    /// The five blocks.
    pub blocks: Vec<VggBlock>,
    /// 2×2 stride-2 max-pool between blocks.
    pub pool: MaxPool2d,
    /// Classifier.
    pub fc: Linear,
    in_channels: usize,
}

impl VggConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<Vgg, ModelError> {
        crate::config_check::common(self.num_classes, self.in_channels, self.width_mult)?;
        let mut c_in = self.in_channels;
        let blocks = VGG11
            .iter()
            .map(|channels| VggBlock {
                convs: channels
                    .iter()
                    .map(|&c| {
                        let c_out = scaled(c, self.width_mult);
                        let layer = ConvBn::biased([c_in, c_out], device);
                        c_in = c_out;
                        layer
                    })
                    .collect(),
            })
            .collect();
        Ok(Vgg {
            blocks,
            pool: max_pool(2, 2, 0, false),
            fc: head(c_in, self.num_classes, device),
            in_channels: self.in_channels,
        })
    }
}

impl Classifier for Vgg {
    fn features(&self, mut x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let side = x.dims()[2];
        for (i, block) in self.blocks.iter().enumerate() {
            for conv in &block.convs {
                x = relu(conv.forward(x, rec));
            }
            if i < 3 || (i == 3 && side == POOL3_SIDE) {
                x = self.pool.forward(x);
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

    fn min_resolution(&self) -> usize {
        8
    }
}
