//! Choosing an architecture at run time: [`Arch`] names every model of the zoo, and
//! [`ClassifierConfig`] builds any of them as an [`AnyClassifier`].

use std::fmt;
use std::str::FromStr;

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::classifier::Classifier;
use crate::error::ModelError;
use crate::lenet::{LeNet5, LeNet5Config};
use crate::mobilenetv2::{MobileNetV2, MobileNetV2Config};
use crate::resnet::{ResNet, ResNetConfig, ResNetDepth, Stem};
use crate::taps::TapRecorder;
use crate::vgg::{Vgg, VggConfig};
use crate::wrn::{WideResNet, WideResNetConfig, WrnVariant};
use crate::zoo_init::ZooInit;

/// Every architecture of the zoo. Serialised by its [`name`](Arch::name) (`"resnet34-cifar"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Arch {
    /// CIFAR ResNet-8 (16-32-64).
    ResNet8,
    /// CIFAR ResNet-20 (16-32-64).
    ResNet20,
    /// CIFAR ResNet-18 (DAFL/Fast variant).
    ResNet18Cifar,
    /// CIFAR ResNet-34 (DAFL/Fast variant).
    ResNet34Cifar,
    /// torchvision ResNet-18.
    ResNet18,
    /// torchvision ResNet-34.
    ResNet34,
    /// torchvision ResNet-50.
    ResNet50,
    /// WRN-16-1.
    Wrn16x1,
    /// WRN-16-2.
    Wrn16x2,
    /// WRN-40-1.
    Wrn40x1,
    /// WRN-40-2.
    Wrn40x2,
    /// VGG-11-BN (CIFAR variant).
    Vgg11Bn,
    /// MobileNetV2 with a stride-2 stem (torchvision).
    MobileNetV2,
    /// MobileNetV2 with a stride-1 stem, for CIFAR-sized inputs.
    MobileNetV2Cifar,
    /// LeNet-5 style, with BatchNorm and global pooling.
    LeNet5,
}

impl Arch {
    /// Every architecture, in the order the docs list them.
    pub const ALL: [Arch; 15] = [
        Arch::ResNet8,
        Arch::ResNet20,
        Arch::ResNet18Cifar,
        Arch::ResNet34Cifar,
        Arch::ResNet18,
        Arch::ResNet34,
        Arch::ResNet50,
        Arch::Wrn16x1,
        Arch::Wrn16x2,
        Arch::Wrn40x1,
        Arch::Wrn40x2,
        Arch::Vgg11Bn,
        Arch::MobileNetV2,
        Arch::MobileNetV2Cifar,
        Arch::LeNet5,
    ];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Arch::ResNet8 => "resnet8",
            Arch::ResNet20 => "resnet20",
            Arch::ResNet18Cifar => "resnet18-cifar",
            Arch::ResNet34Cifar => "resnet34-cifar",
            Arch::ResNet18 => "resnet18",
            Arch::ResNet34 => "resnet34",
            Arch::ResNet50 => "resnet50",
            Arch::Wrn16x1 => "wrn16-1",
            Arch::Wrn16x2 => "wrn16-2",
            Arch::Wrn40x1 => "wrn40-1",
            Arch::Wrn40x2 => "wrn40-2",
            Arch::Vgg11Bn => "vgg11-bn",
            Arch::MobileNetV2 => "mobilenetv2",
            Arch::MobileNetV2Cifar => "mobilenetv2-cifar",
            Arch::LeNet5 => "lenet5",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for Arch {
    type Error = ModelError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Arch> for String {
    fn from(a: Arch) -> String {
        a.name().to_string()
    }
}

impl FromStr for Arch {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Arch::ALL
            .into_iter()
            .find(|a| a.name() == wanted)
            .ok_or_else(|| ModelError::UnknownArch {
                name: s.to_string(),
                known: Arch::ALL.map(Arch::name).join(", "),
            })
    }
}

/// Builds any model of the zoo.
#[derive(Config, Debug)]
pub struct ClassifierConfig {
    /// The architecture.
    pub arch: Arch,
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels (1 for grey-scale data).
    #[config(default = 3)]
    pub in_channels: usize,
    /// Multiplies every channel count (1.0 is the published width).
    #[config(default = 1.0)]
    pub width_mult: f64,
}

impl ClassifierConfig {
    /// Builds the network on `device`, or says which field is invalid.
    ///
    /// Parameters are drawn the way the DFKD zoo's PyTorch definition of the architecture draws
    /// them (He fan-out convolutions for WRN, VGG, MobileNetV2, ResNet-8/20 and the ImageNet
    /// ResNets; PyTorch's defaults for the CIFAR ResNet-18/34 and LeNet-5): a student trained
    /// with the zoo's SGD recipe depends on it.
    pub fn init(&self, device: &Device) -> Result<AnyClassifier, ModelError> {
        Ok(ZooInit::of(self.arch).apply(self.shell(device)?))
    }

    /// The network with Burn's lazily drawn default parameters: the shape for weights about to
    /// be loaded (nothing is drawn unless read), where [`init`](Self::init) would draw every
    /// convolution only to have it overwritten.
    pub fn shell(&self, device: &Device) -> Result<AnyClassifier, ModelError> {
        let (k, c, w) = (self.num_classes, self.in_channels, self.width_mult);
        let resnet = |depth, stem| {
            ResNetConfig::new(depth, stem, k)
                .with_in_channels(c)
                .with_width_mult(w)
                .init(device)
                .map(AnyClassifier::ResNet)
        };
        let wrn = |variant| {
            WideResNetConfig::new(variant, k)
                .with_in_channels(c)
                .with_width_mult(w)
                .init(device)
                .map(AnyClassifier::WideResNet)
        };
        let mobilenet = |stem_stride| {
            MobileNetV2Config::new(k)
                .with_in_channels(c)
                .with_width_mult(w)
                .with_stem_stride(stem_stride)
                .init(device)
                .map(AnyClassifier::MobileNetV2)
        };
        match self.arch {
            Arch::ResNet8 => resnet(ResNetDepth::R8, Stem::Cifar),
            Arch::ResNet20 => resnet(ResNetDepth::R20, Stem::Cifar),
            Arch::ResNet18Cifar => resnet(ResNetDepth::R18, Stem::Cifar),
            Arch::ResNet34Cifar => resnet(ResNetDepth::R34, Stem::Cifar),
            Arch::ResNet18 => resnet(ResNetDepth::R18, Stem::ImageNet),
            Arch::ResNet34 => resnet(ResNetDepth::R34, Stem::ImageNet),
            Arch::ResNet50 => resnet(ResNetDepth::R50, Stem::ImageNet),
            Arch::Wrn16x1 => wrn(WrnVariant::W16x1),
            Arch::Wrn16x2 => wrn(WrnVariant::W16x2),
            Arch::Wrn40x1 => wrn(WrnVariant::W40x1),
            Arch::Wrn40x2 => wrn(WrnVariant::W40x2),
            Arch::Vgg11Bn => VggConfig::new(k)
                .with_in_channels(c)
                .with_width_mult(w)
                .init(device)
                .map(AnyClassifier::Vgg),
            Arch::MobileNetV2 => mobilenet(2),
            Arch::MobileNetV2Cifar => mobilenet(1),
            Arch::LeNet5 => LeNet5Config::new(k)
                .with_in_channels(c)
                .with_width_mult(w)
                .init(device)
                .map(AnyClassifier::LeNet5),
        }
    }
}

/// Any model of the zoo, for code that picks the architecture at run time.
#[derive(Module, Debug)]
pub enum AnyClassifier {
    /// A ResNet (CIFAR or ImageNet layout).
    ResNet(ResNet),
    /// A Wide ResNet.
    WideResNet(WideResNet),
    /// VGG-11-BN.
    Vgg(Vgg),
    /// MobileNetV2.
    MobileNetV2(MobileNetV2),
    /// LeNet-5 style.
    LeNet5(LeNet5),
}

/// Calls `$body` with `$m` bound to the inner model, whatever the variant.
macro_rules! dispatch {
    ($self:expr, $m:ident => $body:expr) => {
        match $self {
            AnyClassifier::ResNet($m) => $body,
            AnyClassifier::WideResNet($m) => $body,
            AnyClassifier::Vgg($m) => $body,
            AnyClassifier::MobileNetV2($m) => $body,
            AnyClassifier::LeNet5($m) => $body,
        }
    };
}

impl Classifier for AnyClassifier {
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        dispatch!(self, m => m.features(x, rec))
    }

    fn head(&self) -> &Linear {
        dispatch!(self, m => m.head())
    }

    fn in_channels(&self) -> usize {
        dispatch!(self, m => m.in_channels())
    }

    fn min_resolution(&self) -> usize {
        dispatch!(self, m => m.min_resolution())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taps::BnStats;
    use burn::tensor::Distribution;

    /// `(arch, in_channels, resolution, embedding_dim, feature side, BatchNorm2d count)`, all
    /// worked out by hand from the published layouts.
    const EXPECTED: [(Arch, usize, usize, usize, usize, usize); 25] = [
        (Arch::ResNet8, 3, 28, 64, 7, 9),
        (Arch::ResNet8, 1, 32, 64, 8, 9),
        (Arch::ResNet20, 3, 28, 64, 7, 21),
        (Arch::ResNet20, 3, 32, 64, 8, 21),
        (Arch::ResNet18Cifar, 3, 28, 512, 4, 20),
        (Arch::ResNet18Cifar, 3, 32, 512, 4, 20),
        (Arch::ResNet34Cifar, 3, 32, 512, 4, 36),
        (Arch::ResNet18, 3, 96, 512, 3, 20),
        (Arch::ResNet18, 3, 112, 512, 4, 20),
        (Arch::ResNet34, 3, 112, 512, 4, 36),
        (Arch::ResNet50, 3, 96, 2048, 3, 53),
        (Arch::ResNet50, 3, 224, 2048, 7, 53),
        (Arch::Wrn16x1, 3, 28, 64, 7, 13),
        (Arch::Wrn16x2, 3, 32, 128, 8, 13),
        (Arch::Wrn40x1, 3, 32, 64, 8, 37),
        (Arch::Wrn40x2, 3, 28, 128, 7, 37),
        (Arch::Vgg11Bn, 3, 28, 512, 3, 8),
        (Arch::Vgg11Bn, 3, 32, 512, 4, 8),
        (Arch::Vgg11Bn, 3, 64, 512, 4, 8),
        (Arch::MobileNetV2, 3, 96, 1280, 3, 52),
        (Arch::MobileNetV2, 3, 112, 1280, 4, 52),
        (Arch::MobileNetV2Cifar, 3, 28, 1280, 2, 52),
        (Arch::MobileNetV2Cifar, 3, 32, 1280, 2, 52),
        (Arch::LeNet5, 1, 28, 120, 7, 3),
        (Arch::LeNet5, 1, 20, 120, 5, 3),
    ];

    #[test]
    fn every_model_gives_every_tap_with_the_hand_computed_shapes() {
        let device = muse_device::device();
        for (arch, c, res, dim, side, n_bn) in EXPECTED {
            let model = ClassifierConfig::new(arch, 7)
                .with_in_channels(c)
                .init(&device)
                .unwrap();
            let x = Tensor::<4>::random([2, c, res, res], Distribution::Default, &device);
            let taps = model.forward_taps(x, BnStats::Record);
            let what = format!("{arch} at {res}px");
            assert_eq!(taps.logits.dims(), [2, 7], "{what}");
            assert_eq!(taps.embedding.dims(), [2, dim], "{what}");
            assert_eq!(taps.feature_map.dims(), [2, dim, side, side], "{what}");
            assert_eq!(taps.classifier_weight.dims(), [7, dim], "{what}");
            assert_eq!(taps.bn.len(), n_bn, "{what}");
            for tap in &taps.bn {
                let [ch] = tap.batch_mean.dims();
                assert_eq!(tap.batch_var.dims(), [ch], "{what}");
                assert_eq!(tap.running_mean.dims(), [ch], "{what}");
                assert_eq!(tap.running_var.dims(), [ch], "{what}");
            }
            assert_eq!(model.num_classes(), 7);
            assert_eq!(model.embedding_dim(), dim);
        }
    }

    #[test]
    fn every_arch_is_listed_and_round_trips_through_its_name() {
        for arch in Arch::ALL {
            assert_eq!(arch.name().parse::<Arch>().unwrap(), arch);
        }
        assert!(EXPECTED.iter().map(|e| e.0).collect::<Vec<_>>().len() >= Arch::ALL.len());
        for arch in Arch::ALL {
            assert!(
                EXPECTED.iter().any(|e| e.0 == arch),
                "{arch} has no shape test"
            );
        }
        let err = "resnet-9000".parse::<Arch>().unwrap_err().to_string();
        assert!(
            err.contains("resnet-9000") && err.contains("wrn40-2"),
            "{err}"
        );
    }

    #[test]
    fn invalid_configs_name_the_field() {
        let device = muse_device::device();
        let err = ClassifierConfig::new(Arch::ResNet8, 0)
            .init(&device)
            .unwrap_err();
        assert!(err.to_string().contains("num_classes"), "{err}");
        let err = ClassifierConfig::new(Arch::Vgg11Bn, 10)
            .with_in_channels(0)
            .init(&device)
            .unwrap_err();
        assert!(err.to_string().contains("in_channels"), "{err}");
        let err = ClassifierConfig::new(Arch::Wrn16x1, 10)
            .with_width_mult(f64::NAN)
            .init(&device)
            .unwrap_err();
        assert!(err.to_string().contains("width_mult"), "{err}");
    }

    #[test]
    fn width_multiplier_narrows_the_imagenet_resnet() {
        let device = muse_device::device();
        let model = ClassifierConfig::new(Arch::ResNet18, 10)
            .with_width_mult(0.25)
            .init(&device)
            .unwrap();
        assert_eq!(model.embedding_dim(), 128);
    }
}
