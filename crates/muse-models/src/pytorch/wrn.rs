//! Wide ResNet names (DFKD zoo `wresnet.py`, after ZSKT):
//!
//! | ours (Burn) | PyTorch |
//! |---|---|
//! | `conv1` | `conv1` (stem convolution, no BatchNorm) |
//! | `groups.{g}.blocks.{b}.bn1/conv1/bn2/conv2` | `block{g+1}.layer.{b}.bn1/conv1/bn2/conv2` |
//! | `groups.{g}.blocks.{b}.shortcut` | `block{g+1}.layer.{b}.convShortcut` |
//! | `bn` (final BatchNorm) | `bn1` |
//! | `fc` | `fc` |

use crate::wrn::WideResNet;

use super::ModuleName;

pub(super) fn names(m: &WideResNet) -> Vec<ModuleName> {
    let mut out = vec![ModuleName::new("conv1", "conv1", false)];
    for (g, group) in m.groups.iter().enumerate() {
        for (b, block) in group.blocks.iter().enumerate() {
            let pt = format!("block{}.layer.{b}", g + 1);
            let burn = format!("groups.{g}.blocks.{b}");
            for (leaf, bn) in [
                ("bn1", true),
                ("conv1", false),
                ("bn2", true),
                ("conv2", false),
            ] {
                out.push(ModuleName::new(
                    format!("{pt}.{leaf}"),
                    format!("{burn}.{leaf}"),
                    bn,
                ));
            }
            if block.shortcut.is_some() {
                out.push(ModuleName::new(
                    format!("{pt}.convShortcut"),
                    format!("{burn}.shortcut"),
                    false,
                ));
            }
        }
    }
    out.push(ModuleName::new("bn1", "bn", true));
    out.push(ModuleName::new("fc", "fc", false));
    out
}
