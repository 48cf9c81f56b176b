//! Forcing Burn's lazily initialised parameters into existence.
//!
//! Burn 0.22 creates a new module's parameters lazily, and clones of a module share the pending
//! initialisation. `set_require_grad` on a pending parameter edits that shared state, so
//! `model.clone().freeze()` freezes the original too: its parameters materialise without
//! gradients and silently stop training. Calling [`materialize`] first makes every clone own
//! its tensors, after which freezing a clone leaves the original untouched.
//!
//! Likewise a BatchNorm running statistic updated in train mode stays pending (per thread) until
//! something syncs it; the eval-mode forward of a frozen clone reads the value *before* the
//! last update, while saving (which goes through `valid()`) writes the value after it.
//! [`sync_running_stats`] settles them, so a run that is saved and resumed sees the same
//! statistics as one that goes on.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

struct Touch;

impl ModuleVisitor for Touch {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Initialises every pending float parameter of `module` (a no-op for loaded or trained ones).
pub fn materialize<M: Module>(module: &M) {
    module.visit(&mut Touch);
}

/// Folds every pending running-statistic update of `module` into its value (shared with clones).
pub fn sync_running_stats<M: Module>(module: &M) {
    // `valid()` syncs each `RunningState` in place as it copies it; the copy is dropped.
    let _ = module.valid();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arch, ClassifierConfig};

    struct CountTrainable(usize, usize);

    impl ModuleVisitor for CountTrainable {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0 += 1;
            if param.val().is_require_grad() {
                self.1 += 1;
            }
        }
    }

    fn trainable<M: Module>(m: &M) -> (usize, usize) {
        let mut c = CountTrainable(0, 0);
        m.visit(&mut c);
        (c.0, c.1)
    }

    #[test]
    fn freezing_a_clone_leaves_a_materialized_original_trainable() {
        let device = muse_device::autodiff_device();
        let fresh = || {
            ClassifierConfig::new(Arch::ResNet8, 3)
                .init(&device)
                .unwrap()
        };
        // ResNet-8: 9 convolutions, 9 BatchNorms (γ, β trainable; running mean and variance are
        // visited as untrainable), one Linear: 9 + 18 + 2 = 29 trainable of 47.
        let untouched = fresh();
        assert_eq!(trainable(&untouched), (47, 29));
        // The Burn behaviour this guards against: a fresh model's clone shares its pending init.
        // (A LeNet-5 keeps Burn's lazy default initialisation; a ResNet-8 is re-drawn as the
        // DFKD zoo draws it, which materialises its parameters.)
        let lenet = || {
            ClassifierConfig::new(Arch::LeNet5, 3)
                .init(&device)
                .unwrap()
        };
        let all = trainable(&lenet()).1;
        let lazy = lenet();
        let _frozen = lazy.clone().freeze();
        assert!(
            trainable(&lazy).1 < all,
            "Burn no longer shares lazy init between clones"
        );

        let model = fresh();
        materialize(&model);
        let frozen = model.clone().freeze();
        assert_eq!(trainable(&model), (47, 29), "the original still trains");
        assert_eq!(trainable(&frozen).1, 0, "the clone is frozen");
    }
}
