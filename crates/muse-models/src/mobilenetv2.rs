//! MobileNetV2 in torchvision's layout (Sandler et al. 2018), with a configurable stem stride so
//! that CIFAR-sized inputs keep some resolution. Dropout before the classifier is omitted (it
//! is the identity in eval mode, so logits match torchvision's).

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::classifier::Classifier;
use crate::error::ModelError;
use crate::layers::{ConvBn, head, make_divisible, relu6};
use crate::taps::TapRecorder;

/// torchvision's inverted-residual settings: expansion t, channels c, repeats n, stride s.
const INVERTED_RESIDUAL_SETTINGS: [[usize; 4]; 7] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
];

/// Configuration of a [`MobileNetV2`].
#[derive(Config, Debug)]
pub struct MobileNetV2Config {
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Width multiplier (torchvision's `width_mult`).
    #[config(default = 1.0)]
    pub width_mult: f64,
    /// Stride of the stem convolution: 2 for ImageNet, 1 for CIFAR-sized inputs.
    #[config(default = 2)]
    pub stem_stride: usize,
}

/// Inverted residual: optional 1×1 expansion, 3×3 depthwise, 1×1 linear projection.
#[derive(Module, Debug)]
pub struct InvertedResidual {
    /// 1×1 expansion (absent when the expansion ratio is 1).
    pub expand: Option<ConvBn>,
    /// 3×3 depthwise convolution (carries the stride).
    pub depthwise: ConvBn,
    /// 1×1 projection, no activation.
    pub project: ConvBn,
    residual: bool,
}

impl InvertedResidual {
    fn new(c_in: usize, c_out: usize, stride: usize, t: usize, device: &Device) -> Self {
        let hidden = c_in * t;
        Self {
            expand: (t != 1).then(|| ConvBn::new([c_in, hidden], 1, 1, 0, 1, device)),
            depthwise: ConvBn::new([hidden, hidden], 3, stride, 1, hidden, device),
            project: ConvBn::new([hidden, c_out], 1, 1, 0, 1, device),
            residual: stride == 1 && c_in == c_out,
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`
    /// - output: `[batch, c_out, h/stride, w/stride]`
    fn forward(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let mut out = x.clone();
        if let Some(expand) = &self.expand {
            out = relu6(expand.forward(out, rec));
        }
        let out = relu6(self.depthwise.forward(out, rec));
        let out = self.project.forward(out, rec);
        if self.residual { out + x } else { out }
    }
}

/// MobileNetV2.
#[derive(Module, Debug)]
pub struct MobileNetV2 {
    /// 3×3 stem convolution.
    pub stem: ConvBn,
    /// Inverted residual blocks.
    pub blocks: Vec<InvertedResidual>,
    /// Final 1×1 convolution to the embedding width.
    pub last: ConvBn,
    /// Classifier.
    pub fc: Linear,
    in_channels: usize,
}

impl MobileNetV2Config {
    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<MobileNetV2, ModelError> {
        crate::config_check::common(self.num_classes, self.in_channels, self.width_mult)?;
        crate::config_check::positive("stem_stride", self.stem_stride)?;
        let mut c_in = make_divisible(32.0 * self.width_mult, 8);
        let last = make_divisible(1280.0 * self.width_mult.max(1.0), 8);
        let stem = ConvBn::new([self.in_channels, c_in], 3, self.stem_stride, 1, 1, device);
        let mut blocks = Vec::new();
        for [t, c, n, s] in INVERTED_RESIDUAL_SETTINGS {
            let c_out = make_divisible(c as f64 * self.width_mult, 8);
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                blocks.push(InvertedResidual::new(c_in, c_out, stride, t, device));
                c_in = c_out;
            }
        }
        Ok(MobileNetV2 {
            stem,
            blocks,
            last: ConvBn::new([c_in, last], 1, 1, 0, 1, device),
            fc: head(last, self.num_classes, device),
            in_channels: self.in_channels,
        })
    }
}

impl Classifier for MobileNetV2 {
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let mut x = relu6(self.stem.forward(x, rec));
        for block in &self.blocks {
            x = block.forward(x, rec);
        }
        relu6(self.last.forward(x, rec))
    }

    fn head(&self) -> &Linear {
        &self.fc
    }

    fn in_channels(&self) -> usize {
        self.in_channels
    }
}
