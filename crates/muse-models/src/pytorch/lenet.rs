//! LeNet-5 names. There is no public PyTorch reference for our BatchNorm LeNet-5; these are the
//! names of the `LeNet5` class in `scripts/pytorch_parity.py`:
//!
//! | ours (Burn) | PyTorch |
//! |---|---|
//! | `conv{i}.conv` / `conv{i}.bn` | `conv{i}` / `bn{i}` (i = 1, 2, 3) |
//! | `fc` | `fc` |

use super::ModuleName;

pub(super) fn names() -> Vec<ModuleName> {
    let mut out = Vec::new();
    for i in 1..=3 {
        out.push(ModuleName::new(
            format!("conv{i}"),
            format!("conv{i}.conv"),
            false,
        ));
        out.push(ModuleName::new(
            format!("bn{i}"),
            format!("conv{i}.bn"),
            true,
        ));
    }
    out.push(ModuleName::new("fc", "fc", false));
    out
}
