//! The student's optimiser and per-epoch learning rate (METHOD.md §5), as typed choices:
//! NAYER's SGD with a cosine annealed per epoch to a floor after the warm-up epochs, or the
//! paper's AdamW (App. A.3) with linear warm-up + cosine to zero.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// The student's optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StudentOptimizer {
    /// SGD as PyTorch's `torch.optim.SGD` (no dampening; L2 weight decay added to the gradient),
    /// NAYER's student optimiser (lr 0.1 at batch 128, momentum 0.9, weight decay 1e-4).
    Sgd {
        /// Peak learning rate.
        lr: f64,
        /// Momentum factor (0 turns momentum off).
        momentum: f64,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// AdamW (ε = 1e-8, PyTorch's), the MUSE paper's App. A.3 choice (lr 1e-3).
    AdamW {
        /// Peak learning rate.
        lr: f64,
        /// Decoupled weight decay.
        weight_decay: f64,
    },
}

impl StudentOptimizer {
    /// NAYER's SGD at peak rate `lr` (its scripts: 0.1 at batch 128, 0.2 at 512): momentum 0.9,
    /// weight decay 1e-4, no Nesterov.
    pub const fn nayer_sgd(lr: f64) -> Self {
        Self::Sgd {
            lr,
            momentum: 0.9,
            weight_decay: 1e-4,
            nesterov: false,
        }
    }

    /// The peak learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Self::Sgd { lr, .. } | Self::AdamW { lr, .. } => lr,
        }
    }

    /// A fresh optimiser with no state.
    pub fn init(&self) -> ModuleOptimizer {
        match *self {
            Self::Sgd {
                momentum,
                weight_decay,
                nesterov,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                        .with_nesterov(nesterov)
                }))
                .with_weight_decay(
                    (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32)),
                )
                .init(),
            Self::AdamW { weight_decay, .. } => AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(weight_decay as f32)
                .init(),
        }
    }

    /// Every problem with the values, as `(field, reason)`.
    pub(crate) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0) {
            out.push(("lr", format!("must be positive and finite, got {lr}")));
        }
        let (wd, momentum) = match *self {
            Self::Sgd {
                weight_decay,
                momentum,
                ..
            } => (weight_decay, Some(momentum)),
            Self::AdamW { weight_decay, .. } => (weight_decay, None),
        };
        if !(wd.is_finite() && wd >= 0.0) {
            out.push((
                "weight_decay",
                format!("must be non-negative and finite, got {wd}"),
            ));
        }
        if let Some(m) = momentum
            && !(0.0..1.0).contains(&m)
        {
            out.push(("momentum", format!("must be in [0, 1), got {m}")));
        }
        out
    }
}

/// How the student's learning rate moves over the epochs after the warm-up (no student step is
/// taken during the warm-up epochs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LrSchedule {
    /// NAYER: the peak rate in the first student epoch, then cosine annealing per epoch towards
    /// `floor`: PyTorch's `CosineAnnealingLR` with `T_max` = the student epochs and `eta_min` =
    /// `floor`, stepped after each student epoch, so student epoch j of n runs at
    /// floor + (peak − floor)(1 + cos(πj/n))/2 and the last is one step short of the floor.
    Cosine {
        /// The learning rate the cosine ends at (NAYER: 2e-4).
        floor: f64,
    },
    /// The MUSE paper's App. A.3: linear warm-up over this fraction of the student epochs,
    /// then cosine decay to zero.
    WarmupCosine {
        /// Fraction of the student epochs spent warming up.
        warmup_fraction: f64,
    },
}

impl LrSchedule {
    /// The learning rate of student epoch `epoch` (0-based, counted from the end of the
    /// warm-up) of `epochs` student epochs, for peak rate `peak`.
    pub fn lr(&self, peak: f64, epoch: usize, epochs: usize) -> f64 {
        match *self {
            Self::Cosine { floor } => {
                let t = epoch as f64 / epochs.max(1) as f64;
                floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
            }
            Self::WarmupCosine { warmup_fraction } => {
                peak * warmup_cosine(epoch, epochs, warmup_fraction)
            }
        }
    }

    /// Every problem with the values, as `(field, reason)`.
    pub(crate) fn problems(&self, peak: f64) -> Vec<(&'static str, String)> {
        match *self {
            Self::Cosine { floor } if !(floor.is_finite() && floor >= 0.0 && floor <= peak) => {
                vec![("floor", format!("must be in [0, lr = {peak}], got {floor}"))]
            }
            Self::WarmupCosine { warmup_fraction } if !(0.0..=1.0).contains(&warmup_fraction) => {
                vec![(
                    "warmup_fraction",
                    format!("must be in [0, 1], got {warmup_fraction}"),
                )]
            }
            _ => Vec::new(),
        }
    }
}

/// The factor multiplying the base learning rate at `epoch` (0-based) of `epochs`: linear
/// warm-up over the first `warmup_fraction` of epochs, then cosine decay to zero.
pub fn warmup_cosine(epoch: usize, epochs: usize, warmup_fraction: f64) -> f64 {
    let warmup = ((epochs as f64) * warmup_fraction).round() as usize;
    if epoch < warmup {
        return (epoch + 1) as f64 / warmup as f64;
    }
    let span = epochs.saturating_sub(warmup).max(1) as f64;
    let t = (epoch - warmup) as f64 / span;
    0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine_by_hand() {
        // 20 epochs, 10% warm-up: epochs 0 and 1 at 1/2 and 1, then cosine over 18 epochs.
        assert_eq!(warmup_cosine(0, 20, 0.1), 0.5);
        assert_eq!(warmup_cosine(1, 20, 0.1), 1.0);
        assert_eq!(warmup_cosine(2, 20, 0.1), 1.0);
        assert!((warmup_cosine(11, 20, 0.1) - 0.5).abs() < 1e-12);
        assert!(warmup_cosine(19, 20, 0.1) < 0.01);
        // 5 epochs at 10%: round(0.5) = 1 (half away from zero), one warm-up epoch at 1/1.
        assert_eq!(warmup_cosine(0, 5, 0.1), 1.0);
        // No warm-up: cosine from the first epoch.
        assert_eq!(
            warmup_cosine(1, 5, 0.0),
            (0.5 * (1.0 + (std::f64::consts::PI / 5.0).cos()))
        );
    }

    #[test]
    fn nayer_cosine_runs_from_the_peak_to_the_floor_by_hand() {
        let s = LrSchedule::Cosine { floor: 2e-4 };
        // 4 student epochs (NAYER: T_max = 4, stepped after each): t = 0, 1/4, 1/2, 3/4.
        assert_eq!(s.lr(0.1, 0, 4), 0.1);
        let q = 2e-4 + (0.1 - 2e-4) * 0.5 * (1.0 + std::f64::consts::FRAC_1_SQRT_2);
        assert!((s.lr(0.1, 1, 4) - q).abs() < 1e-15);
        let mid = 2e-4 + (0.1 - 2e-4) * 0.5;
        assert!((s.lr(0.1, 2, 4) - mid).abs() < 1e-15);
        let last = 2e-4 + (0.1 - 2e-4) * 0.5 * (1.0 - std::f64::consts::FRAC_1_SQRT_2);
        assert!((s.lr(0.1, 3, 4) - last).abs() < 1e-15);
        // One student epoch: the peak.
        assert_eq!(s.lr(0.1, 0, 1), 0.1);
        assert_eq!(s.problems(0.1), vec![]);
        assert_eq!(s.problems(1e-4)[0].0, "floor");
    }

    #[test]
    fn sgd_takes_pytorch_steps_by_hand() {
        use burn::nn::{Linear, LinearConfig};
        use burn::optim::GradientsParams;
        use burn::tensor::{Tensor, TensorData};
        // One weight w = 1 (bias off), loss = x·w with x = 2: grad 2 every step.
        // PyTorch SGD(lr 0.1, momentum 0.9, wd 0.5, dampening 0):
        //   step 1: g = 2 + 0.5·1 = 2.5, v = 2.5, w = 1 − 0.25 = 0.75
        //   step 2: g = 2 + 0.5·0.75 = 2.375, v = 0.9·2.5 + 2.375 = 4.625, w = 0.75 − 0.4625 = 0.2875
        let device = muse_device::autodiff_device();
        let mut layer: Linear = LinearConfig::new(1, 1).with_bias(false).init(&device);
        layer.weight = burn::module::Param::from_tensor(Tensor::<2>::ones([1, 1], &device));
        let mut optim = StudentOptimizer::Sgd {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.5,
            nesterov: false,
        }
        .init();
        let x = Tensor::<2>::from_data(TensorData::new(vec![2f32], [1, 1]), &device);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let loss = layer.forward(x.clone()).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &layer);
            layer = optim.step(0.1, layer, grads);
            seen.push(layer.weight.val().into_scalar::<f32>());
        }
        assert!((seen[0] - 0.75).abs() < 1e-6, "{seen:?}");
        assert!((seen[1] - 0.2875).abs() < 1e-6, "{seen:?}");
    }
}
