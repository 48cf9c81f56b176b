//! VGG-11 with BatchNorm, CIFAR variant of the DFKD zoo (Fast-Datafree `vgg.py`): the
//! configuration-A feature stack, global average pooling and one linear layer.
//!
//! The max-pools use ceil mode, so the network runs at 28 px as well as 32 px; at 32 px (and any
//! power of two) ceil and floor agree and the output equals the reference's.

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

/// VGG-11's configuration A: channel counts, with `0` standing for a 2×2 max-pool.
const VGG11: [usize; 13] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];

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

/// One entry of the feature stack.
#[derive(Module, Debug)]
pub enum VggLayer {
    /// 3×3 convolution, BatchNorm, ReLU.
    Conv(ConvBn),
    /// 2×2 stride-2 max-pool.
    Pool(MaxPool2d),
}

/// VGG-11-BN.
#[derive(Module, Debug)]
pub struct Vgg {
    /// The feature stack.
    pub features: Vec<VggLayer>,
    /// Classifier.
    pub fc: Linear,
    in_channels: usize,
}

impl VggConfig {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<Vgg, ModelError> {
        crate::config_check::common(self.num_classes, self.in_channels, self.width_mult)?;
        let mut c_in = self.in_channels;
        let features = VGG11
            .iter()
            .map(|&c| match c {
                0 => VggLayer::Pool(max_pool(2, 2, 0, true)),
                c => {
                    let c_out = scaled(c, self.width_mult);
                    let layer = VggLayer::Conv(ConvBn::new([c_in, c_out], 3, 1, 1, 1, device));
                    c_in = c_out;
                    layer
                }
            })
            .collect();
        Ok(Vgg {
            features,
            fc: head(c_in, self.num_classes, device),
            in_channels: self.in_channels,
        })
    }
}

impl Classifier for Vgg {
    fn features(&self, mut x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        for layer in &self.features {
            x = match layer {
                VggLayer::Conv(c) => relu(c.forward(x, rec)),
                VggLayer::Pool(p) => p.forward(x),
            };
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
