//! VGG-11-BN names (DFKD zoo `vgg.py`, after RepDistiller): each block is a `Sequential` of
//! conv, BatchNorm, ReLU triples, so the `i`-th convolution of block `k` is `block{k}.{3i}` and
//! its BatchNorm `block{k}.{3i+1}`.
//!
//! | ours (Burn) | PyTorch |
//! |---|---|
//! | `blocks.{k}.convs.{i}.conv` | `block{k}.{3i}` |
//! | `blocks.{k}.convs.{i}.bn` | `block{k}.{3i+1}` |
//! | `fc` | `classifier` |

use crate::vgg::Vgg;

use super::ModuleName;

pub(super) fn names(m: &Vgg) -> Vec<ModuleName> {
    let mut out = Vec::new();
    for (k, block) in m.blocks.iter().enumerate() {
        for i in 0..block.convs.len() {
            let burn = format!("blocks.{k}.convs.{i}");
            out.push(ModuleName::new(
                format!("block{k}.{}", 3 * i),
                format!("{burn}.conv"),
                false,
            ));
            out.push(ModuleName::new(
                format!("block{k}.{}", 3 * i + 1),
                format!("{burn}.bn"),
                true,
            ));
        }
    }
    out.push(ModuleName::new("classifier", "fc", false));
    out
}
