//! # muse-losses
//!
//! Every loss of MUSE (Large-Scale Data-Free Knowledge Distillation for ImageNet via
//! Multi-Resolution Data Generation) and of NAYER, which it builds on, one per module, each
//! documented with its paper equation and tested against hand-computed values:
//!
//! | loss | who minimises it | module |
//! |---|---|---|
//! | KL with temperature (Eq. 2) | student | [`kl_divergence`] |
//! | cross entropy on pseudo labels | generator | [`cross_entropy`] |
//! | masked adversarial KL | generator | [`adversarial_kl`] |
//! | BatchNorm statistics (+ momentum) | generator | [`bn_statistics`], [`bn_statistics_per_layer`], [`BnMomentum`] |
//! | CAM (Eq. 5-6) | generator | [`class_activation_map`], [`cam_loss`] |
//! | embedding diversity `L_ED` / `L_AED` (Eq. 9-12) | student / generator | [`ed_loss`], [`aed_loss`] |

mod adversarial;
mod bn_stats;
mod cam;
mod ce;
mod diversity;
mod error;
mod kl;
#[cfg(test)]
mod test_util;

pub use adversarial::adversarial_kl;
pub use bn_stats::{BnMomentum, bn_statistics, bn_statistics_per_layer};
pub use cam::{CamTarget, cam_loss, class_activation_map};
pub use ce::cross_entropy;
pub use diversity::{
    Radii, RadiiRule, aed_loss, ed_loss, embedding_distance, min_pairwise_distance,
};
pub use error::LossError;
pub use kl::{kl_divergence, kl_per_sample};
