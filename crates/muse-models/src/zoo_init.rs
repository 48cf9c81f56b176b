//! The DFKD zoo's parameter initialisation (`datafree/models/classifiers` in Fast-Datafree and
//! NAYER), applied after a network is built.
//!
//! Burn's defaults equal PyTorch's module defaults (convolution and linear weights uniform in
//! ±1/√fan_in), which is what the zoo's CIFAR ResNet-18/34 and LeNet-5 keep. Its WideResNets,
//! VGG, MobileNetV2, ImageNet ResNets and ResNet-8/20 re-draw their convolutions from
//! N(0, 2 / (out · k_h · k_w)) (He, fan-out): for a WRN-16-1 that is 2.4× the default's standard
//! deviation. Behind a BatchNorm the scale of a weight does not change the function, but it does
//! change the step: SGD's effective learning rate on a weight's direction goes as lr / ‖w‖², so a
//! student drawn with the smaller default takes steps about six times larger at NAYER's lr 0.1,
//! and its first epochs collapse. A student distilled with the zoo's recipe needs the zoo's init.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Distribution, Tensor};

use crate::arch::Arch;

/// How the zoo initialises one architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ZooInit {
    /// Convolution weights from N(0, 2 / (out · k_h · k_w)) and convolution biases 0.
    he_fan_out: bool,
    /// The classifier head.
    head: HeadInit,
}

/// The classifier head's initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadInit {
    /// PyTorch's (and Burn's) default.
    Default,
    /// The default weight, a zero bias (the zoo's WideResNet).
    ZeroBias,
    /// Weights from N(0, 0.01²), a zero bias (the zoo's VGG and MobileNetV2).
    SmallNormal,
}

impl ZooInit {
    /// What the zoo's definition of `arch` does after building it.
    pub(crate) fn of(arch: Arch) -> Self {
        let (he_fan_out, head) = match arch {
            Arch::ResNet18Cifar | Arch::ResNet34Cifar | Arch::LeNet5 => (false, HeadInit::Default),
            Arch::ResNet8 | Arch::ResNet20 => (true, HeadInit::Default),
            Arch::ResNet18 | Arch::ResNet34 | Arch::ResNet50 => (true, HeadInit::Default),
            Arch::Wrn16x1 | Arch::Wrn16x2 | Arch::Wrn40x1 | Arch::Wrn40x2 => {
                (true, HeadInit::ZeroBias)
            }
            Arch::Vgg11Bn | Arch::MobileNetV2 | Arch::MobileNetV2Cifar => {
                (true, HeadInit::SmallNormal)
            }
        };
        Self { he_fan_out, head }
    }

    /// Whether this is Burn's default (nothing to re-draw).
    pub(crate) fn is_default(self) -> bool {
        !self.he_fan_out && self.head == HeadInit::Default
    }

    /// Re-draws `model`'s parameters the way the zoo does (nothing for Burn's default).
    pub(crate) fn apply<M: Module>(self, model: M) -> M {
        if self.is_default() {
            return model;
        }
        model.map(&mut ZooInitMapper {
            init: self,
            containers: Vec::new(),
        })
    }
}

/// Walks a module, knowing which layer type each parameter belongs to.
struct ZooInitMapper {
    init: ZooInit,
    /// The container types entered, innermost last (`"Struct:Conv2d"`, `"Struct:Linear"`, ...).
    containers: Vec<String>,
}

impl ModuleMapper for ZooInitMapper {
    fn enter_module(&mut self, _name: &str, container_type: &str) {
        self.containers.push(container_type.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.containers.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let layer = self.containers.last().map(String::as_str).unwrap_or("");
        let dims = param.shape().dims::<D>();
        let ZooInit { he_fan_out, head } = self.init;
        match (layer, D) {
            ("Struct:Conv2d", 4) if he_fan_out => {
                // PyTorch's fan-out of a [out, in / groups, k_h, k_w] weight: out · k_h · k_w.
                let std = (2.0 / (dims[0] * dims[2] * dims[3]) as f64).sqrt();
                replace(param, |t| normal(&t, std))
            }
            ("Struct:Conv2d", 1) if he_fan_out => replace(param, |t| t.zeros_like()),
            ("Struct:Linear", 2) if head == HeadInit::SmallNormal => {
                replace(param, |t| normal(&t, 0.01))
            }
            ("Struct:Linear", 1) if head != HeadInit::Default => replace(param, |t| t.zeros_like()),
            _ => param,
        }
    }
}

/// Replaces a parameter's value, keeping its id and whether it requires a gradient.
fn replace<const D: usize>(
    param: Param<Tensor<D>>,
    value: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Param<Tensor<D>> {
    param.map(|t| {
        let require_grad = t.is_require_grad();
        value(t).set_require_grad(require_grad)
    })
}

/// A draw from N(0, std²) shaped and placed like `like`.
fn normal<const D: usize>(like: &Tensor<D>, std: f64) -> Tensor<D> {
    Tensor::random(like.shape(), Distribution::Normal(0.0, std), &like.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{AnyClassifier, ClassifierConfig};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn std(v: &[f32]) -> f64 {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
    }

    #[test]
    fn wide_resnet_convolutions_are_he_fan_out_and_its_head_bias_zero() {
        let device = muse_device::device();
        let AnyClassifier::WideResNet(net) = ClassifierConfig::new(Arch::Wrn16x1, 10)
            .init(&device)
            .unwrap()
        else {
            panic!("wrn16-1 builds a WideResNet");
        };
        // Last group's second convolution: [64, 64, 3, 3], 36,864 draws; the zoo's
        // std = √(2 / (64 · 3 · 3)) = 0.0589, Burn's default 1/√(3 · 576) = 0.0241.
        let w = values(net.groups[2].blocks[0].conv2.weight.val());
        let s = std(&w);
        assert!((s - 0.058_93).abs() < 0.002, "std {s}");
        let bias = net.fc.bias.as_ref().expect("the head has a bias").val();
        assert!(values(bias).iter().all(|&b| b == 0.0));
        // The head's weight keeps the default: uniform in ±1/√64.
        let fc = values(net.fc.weight.val());
        assert!(fc.iter().all(|w| w.abs() <= 0.125) && std(&fc) > 0.05);
    }

    #[test]
    fn cifar_resnet18_keeps_pytorch_defaults() {
        let device = muse_device::device();
        let AnyClassifier::ResNet(net) = ClassifierConfig::new(Arch::ResNet18Cifar, 10)
            .init(&device)
            .unwrap()
        else {
            panic!("resnet18-cifar builds a ResNet");
        };
        // Stem [64, 3, 3, 3]: uniform in ±1/√27.
        let w = values(net.conv1.weight.val());
        let bound = 1.0 / 27f32.sqrt();
        assert!(w.iter().all(|x| x.abs() <= bound));
        assert!(w.iter().any(|x| x.abs() > 0.8 * bound));
    }

    #[test]
    fn vgg_head_is_small_normal_and_every_bias_zero() {
        let device = muse_device::device();
        let AnyClassifier::Vgg(net) = ClassifierConfig::new(Arch::Vgg11Bn, 10)
            .init(&device)
            .unwrap()
        else {
            panic!("vgg11-bn builds a Vgg");
        };
        let s = std(&values(net.fc.weight.val()));
        assert!((s - 0.01).abs() < 0.001, "std {s}");
        let conv = &net.blocks[0].convs[0].conv;
        let bias = conv
            .bias
            .as_ref()
            .expect("the zoo's VGG convolutions have biases");
        assert!(values(bias.val()).iter().all(|&b| b == 0.0));
        let head_bias = net.fc.bias.as_ref().expect("the head has a bias").val();
        assert!(values(head_bias).iter().all(|&b| b == 0.0));
    }
}
