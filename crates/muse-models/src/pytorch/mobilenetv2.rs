//! MobileNetV2 names (torchvision `mobilenetv2.py`; the DFKD zoo's copy has the same keys).
//! torchvision keeps everything in one `features` `Sequential`: the stem is `features.0`, the
//! inverted-residual blocks `features.1 … features.17`, the last 1×1 conv `features.18`. Inside
//! a block, `conv` is a `Sequential` of [expand (conv-BN-ReLU6)], depthwise (conv-BN-ReLU6),
//! project conv, project BN — block 0 has no expansion, so its indices start one lower.
//!
//! | ours (Burn) | PyTorch (block with expansion) | PyTorch (block 0) |
//! |---|---|---|
//! | `stem.conv` / `stem.bn` | `features.0.0` / `features.0.1` | |
//! | `blocks.{i}.expand.conv` / `.bn` | `features.{i+1}.conv.0.0` / `.0.1` | — |
//! | `blocks.{i}.depthwise.conv` / `.bn` | `features.{i+1}.conv.1.0` / `.1.1` | `conv.0.0` / `.0.1` |
//! | `blocks.{i}.project.conv` / `.bn` | `features.{i+1}.conv.2` / `.3` | `conv.1` / `.2` |
//! | `last.conv` / `last.bn` | `features.{n+1}.0` / `.1` | |
//! | `fc` | `classifier.1` (after a parameter-free dropout) | |

use crate::mobilenetv2::MobileNetV2;

use super::ModuleName;

pub(super) fn names(m: &MobileNetV2) -> Vec<ModuleName> {
    let mut out = vec![
        ModuleName::new("features.0.0", "stem.conv", false),
        ModuleName::new("features.0.1", "stem.bn", true),
    ];
    for (i, block) in m.blocks.iter().enumerate() {
        let pt = format!("features.{}.conv", i + 1);
        let burn = format!("blocks.{i}");
        let mut parts = Vec::new();
        if block.expand.is_some() {
            parts.push("expand");
        }
        parts.push("depthwise");
        // The ConvBNReLU parts are nested Sequentials (`k.0`, `k.1`); the projection is flat.
        for (k, part) in parts.iter().enumerate() {
            out.push(ModuleName::new(
                format!("{pt}.{k}.0"),
                format!("{burn}.{part}.conv"),
                false,
            ));
            out.push(ModuleName::new(
                format!("{pt}.{k}.1"),
                format!("{burn}.{part}.bn"),
                true,
            ));
        }
        let k = parts.len();
        out.push(ModuleName::new(
            format!("{pt}.{k}"),
            format!("{burn}.project.conv"),
            false,
        ));
        out.push(ModuleName::new(
            format!("{pt}.{}", k + 1),
            format!("{burn}.project.bn"),
            true,
        ));
    }
    let last = m.blocks.len() + 1;
    out.push(ModuleName::new(
        format!("features.{last}.0"),
        "last.conv",
        false,
    ));
    out.push(ModuleName::new(
        format!("features.{last}.1"),
        "last.bn",
        true,
    ));
    out.push(ModuleName::new("classifier.1", "fc", false));
    out
}
