//! A LeNet-5-style network that trains in minutes on two CPU cores: three 5×5/5×5/3×3
//! convolutions with BatchNorm (6, 16, 120 channels), two 2×2 max-pools, global average
//! pooling and one linear layer. Unlike the 1998 original it is fully convolutional (padded
//! convolutions, no 84-unit layer) so that CAM applies and any resolution of 4 px or more works.

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

/// Configuration of a [`LeNet5`].
#[derive(Config, Debug)]
pub struct LeNet5Config {
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 1)]
    pub in_channels: usize,
    /// Multiplies every channel count.
    #[config(default = 1.0)]
    pub width_mult: f64,
}

/// LeNet-5 with BatchNorm and global pooling.
#[derive(Module, Debug)]
pub struct LeNet5 {
    /// 5×5 convolution to 6 channels.
    pub conv1: ConvBn,
    /// 5×5 convolution to 16 channels.
    pub conv2: ConvBn,
    /// 3×3 convolution to 120 channels.
    pub conv3: ConvBn,
    /// 2×2 max-pool used after `conv1` and `conv2`.
    pub pool: MaxPool2d,
    /// Classifier.
    pub fc: Linear,
    in_channels: usize,
}

impl LeNet5Config {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<LeNet5, ModelError> {
        crate::config_check::common(self.num_classes, self.in_channels, self.width_mult)?;
        let [c1, c2, c3] = [6, 16, 120].map(|c| scaled(c, self.width_mult));
        Ok(LeNet5 {
            conv1: ConvBn::new([self.in_channels, c1], 5, 1, 2, 1, device),
            conv2: ConvBn::new([c1, c2], 5, 1, 2, 1, device),
            conv3: ConvBn::new([c2, c3], 3, 1, 1, 1, device),
            pool: max_pool(2, 2, 0, false),
            fc: head(c3, self.num_classes, device),
            in_channels: self.in_channels,
        })
    }
}

impl Classifier for LeNet5 {
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let x = self.pool.forward(relu(self.conv1.forward(x, rec)));
        let x = self.pool.forward(relu(self.conv2.forward(x, rec)));
        relu(self.conv3.forward(x, rec))
    }

    fn head(&self) -> &Linear {
        &self.fc
    }

    fn in_channels(&self) -> usize {
        self.in_channels
    }

    fn min_resolution(&self) -> usize {
        4
    }
}
