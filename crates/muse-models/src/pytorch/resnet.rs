//! ResNet names. Three PyTorch layouts share our [`ResNet`]:
//!
//! | ours (Burn) | torchvision ResNet-18/34/50 | DFKD zoo ResNet-18/34 | DFKD zoo ResNet-8/20 |
//! |---|---|---|---|
//! | `conv1`, `bn1` | `conv1`, `bn1` | `conv1`, `bn1` | `conv1`, `bn1` |
//! | `stages.{s}.blocks.{b}.conv1`… | `layer{s+1}.{b}.conv1`… | same | same |
//! | `….shortcut.conv` / `.bn` | `….downsample.0` / `.1` | `….shortcut.0` / `.1` | `….downsample.0` / `.1` |
//! | `fc` | `fc` | `linear` | `fc` |

use crate::arch::Arch;
use crate::resnet::ResNet;
use crate::resnet_blocks::ResBlock;

use super::ModuleName;

pub(super) fn names(m: &ResNet, arch: Arch) -> Vec<ModuleName> {
    // Only the zoo's ResNet-18/34 (DAFL's resnet.py) says `shortcut` and `linear`.
    let zoo_18_34 = matches!(arch, Arch::ResNet18Cifar | Arch::ResNet34Cifar);
    let (shortcut, classifier) = if zoo_18_34 {
        ("shortcut", "linear")
    } else {
        ("downsample", "fc")
    };
    let mut out = vec![
        ModuleName::new("conv1", "conv1", false),
        ModuleName::new("bn1", "bn1", true),
    ];
    for (s, stage) in m.stages.iter().enumerate() {
        for (b, block) in stage.blocks.iter().enumerate() {
            let pt = format!("layer{}.{b}", s + 1);
            let burn = format!("stages.{s}.blocks.{b}");
            let (depth, has_shortcut) = match block {
                ResBlock::Basic(x) => (2, x.shortcut.is_some()),
                ResBlock::Bottleneck(x) => (3, x.shortcut.is_some()),
            };
            for i in 1..=depth {
                out.push(ModuleName::new(
                    format!("{pt}.conv{i}"),
                    format!("{burn}.conv{i}"),
                    false,
                ));
                out.push(ModuleName::new(
                    format!("{pt}.bn{i}"),
                    format!("{burn}.bn{i}"),
                    true,
                ));
            }
            if has_shortcut {
                out.push(ModuleName::new(
                    format!("{pt}.{shortcut}.0"),
                    format!("{burn}.shortcut.conv"),
                    false,
                ));
                out.push(ModuleName::new(
                    format!("{pt}.{shortcut}.1"),
                    format!("{burn}.shortcut.bn"),
                    true,
                ));
            }
        }
    }
    out.push(ModuleName::new(classifier, "fc", false));
    out
}
