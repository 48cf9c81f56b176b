//! DeepInversion's BatchNorm-statistics loss (Yin et al. 2020; the generator's `L_BN`,
//! paper Eq. 11), with NAYER's optional momentum on the batch statistics.
//!
//! `L_BN = Σ_l ‖μ_l(x̂) − μ_l^run‖₂ + ‖σ²_l(x̂) − σ²_l^run‖₂` (plain L2 norms, biased variance),
//! summed over the teacher's BatchNorm2d layers. With momentum `m`, after the first generation
//! iteration each batch statistic `s` is replaced by `(1 − m)·s + m·s̄`, where `s̄` is a running
//! average of the statistics of earlier iterations' last steps (METHOD.md §4).

use burn::tensor::Tensor;
use muse_models::BnTap;

use crate::error::{LossError, same_shape};

/// `‖a − b‖₂` of two vectors.
fn l2(a: Tensor<1>, b: Tensor<1>) -> Tensor<1> {
    (a - b).powi_scalar(2).sum().sqrt()
}

fn check(taps: &[BnTap]) -> Result<(), LossError> {
    if taps.is_empty() {
        return Err(LossError::Parameter {
            loss: "bn_statistics",
            what: "no BatchNorm taps: run the teacher with BnStats::Record".into(),
        });
    }
    for t in taps {
        let c = t.running_mean.dims();
        same_shape("bn_statistics", "batch mean", &c, &t.batch_mean.dims())?;
        same_shape("bn_statistics", "batch variance", &c, &t.batch_var.dims())?;
        same_shape(
            "bn_statistics",
            "running variance",
            &c,
            &t.running_var.dims(),
        )?;
    }
    Ok(())
}

/// One layer's summand of `L_BN`: `‖mean − μ_run‖₂ + ‖var − σ²_run‖₂`.
fn layer_term(mean: Tensor<1>, var: Tensor<1>, tap: &BnTap) -> Tensor<1> {
    l2(mean, tap.running_mean.clone()) + l2(var, tap.running_var.clone())
}

/// The BN-statistics loss without momentum.
///
/// # Shapes
/// - `taps`: one per BatchNorm2d, each `[channels_l]`
/// - output: `[1]`
pub fn bn_statistics(taps: &[BnTap]) -> Result<Tensor<1>, LossError> {
    BnMomentum::new(0.0).loss(taps)
}

/// The summands of [`bn_statistics`], one per layer in forward order (how far each layer's
/// batch statistics are from its running ones).
///
/// # Shapes
/// - `taps`: one per BatchNorm2d, each `[channels_l]`
/// - output: `[layers]`
pub fn bn_statistics_per_layer(taps: &[BnTap]) -> Result<Tensor<1>, LossError> {
    check(taps)?;
    let terms = taps
        .iter()
        .map(|t| layer_term(t.batch_mean.clone(), t.batch_var.clone(), t))
        .collect();
    Ok(Tensor::cat(terms, 0))
}

/// NAYER's `bn_mmt`: a running average of earlier iterations' BatchNorm statistics that is
/// blended into the current ones. Rate 0 is plain DeepInversion.
#[derive(Debug, Clone)]
pub struct BnMomentum {
    rate: f64,
    /// Per layer: averaged `(mean, variance)`, detached. `None` before the first update.
    average: Option<Vec<(Tensor<1>, Tensor<1>)>>,
}

impl BnMomentum {
    /// A fresh average with momentum `rate` in `[0, 1)`.
    pub fn new(rate: f64) -> Self {
        Self {
            rate,
            average: None,
        }
    }

    /// The momentum rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The averaged `(mean, variance)` per layer, once [`update`](Self::update) has run.
    pub fn average(&self) -> Option<&[(Tensor<1>, Tensor<1>)]> {
        self.average.as_deref()
    }

    /// Restores a saved average (for resuming a run).
    pub fn with_average(mut self, average: Option<Vec<(Tensor<1>, Tensor<1>)>>) -> Self {
        self.average = average;
        self
    }

    /// The loss on `taps`, blending in the average when there is one.
    ///
    /// # Shapes
    /// - `taps`: one per BatchNorm2d, each `[channels_l]`
    /// - output: `[1]`
    pub fn loss(&self, taps: &[BnTap]) -> Result<Tensor<1>, LossError> {
        check(taps)?;
        if !(0.0..1.0).contains(&self.rate) {
            return Err(LossError::Parameter {
                loss: "bn_statistics",
                what: format!("momentum must be in [0, 1), got {}", self.rate),
            });
        }
        let avg = self.average.as_ref().filter(|_| self.rate > 0.0);
        if let Some(avg) = avg
            && avg.len() != taps.len()
        {
            return Err(LossError::Parameter {
                loss: "bn_statistics",
                what: format!(
                    "momentum holds {} layers, taps have {}",
                    avg.len(),
                    taps.len()
                ),
            });
        }
        let m = self.rate;
        let mut total: Option<Tensor<1>> = None;
        for (i, tap) in taps.iter().enumerate() {
            let (mean, var) = match avg {
                Some(avg) => (
                    tap.batch_mean.clone() * (1.0 - m) + avg[i].0.clone() * m,
                    tap.batch_var.clone() * (1.0 - m) + avg[i].1.clone() * m,
                ),
                None => (tap.batch_mean.clone(), tap.batch_var.clone()),
            };
            let term = layer_term(mean, var, tap);
            total = Some(match total {
                Some(t) => t + term,
                None => term,
            });
        }
        Ok(total.expect("checked non-empty"))
    }

    /// Folds the (detached) statistics of `taps` into the average: the first call stores them,
    /// later ones keep `m·s̄ + (1 − m)·s`.
    pub fn update(&mut self, taps: &[BnTap]) {
        let m = self.rate;
        let new: Vec<_> = taps
            .iter()
            .map(|t| (t.batch_mean.clone().detach(), t.batch_var.clone().detach()))
            .collect();
        self.average = Some(match self.average.take() {
            Some(old) if old.len() == new.len() => old
                .into_iter()
                .zip(new)
                .map(|((om, ov), (nm, nv))| (om * m + nm * (1.0 - m), ov * m + nv * (1.0 - m)))
                .collect(),
            _ => new,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{close, t1, value};

    fn tap(d: &burn::tensor::Device, mean: Vec<f32>, var: Vec<f32>) -> BnTap {
        let c = mean.len();
        BnTap {
            batch_mean: t1(d, mean),
            batch_var: t1(d, var),
            running_mean: t1(d, vec![0.0; c]),
            running_var: t1(d, vec![1.0; c]),
        }
    }

    #[test]
    fn plain_norms_summed_over_layers() {
        let d = muse_device::device();
        // Layer 1: ‖[1,2]‖ = √5, ‖[1,1] − [1,1]‖ = 0. Layer 2: ‖[0]‖ = 0, ‖[4 − 1]‖ = 3.
        let taps = [
            tap(&d, vec![1.0, 2.0], vec![1.0, 1.0]),
            tap(&d, vec![0.0], vec![4.0]),
        ];
        close(value(bn_statistics(&taps).unwrap()), 5f32.sqrt() + 3.0);
    }

    #[test]
    fn per_layer_terms_by_hand() {
        let d = muse_device::device();
        let taps = [
            tap(&d, vec![1.0, 2.0], vec![1.0, 1.0]),
            tap(&d, vec![0.0], vec![4.0]),
        ];
        let per_layer = crate::test_util::values(bn_statistics_per_layer(&taps).unwrap());
        close(per_layer[0], 5f32.sqrt());
        close(per_layer[1], 3.0);
        assert!(bn_statistics_per_layer(&[]).is_err());
    }

    #[test]
    fn momentum_blends_the_running_average_after_the_first_update() {
        let d = muse_device::device();
        let mut mm = BnMomentum::new(0.5);
        let first = [tap(&d, vec![2.0], vec![1.0])];
        close(value(mm.loss(&first).unwrap()), 2.0); // no average yet
        mm.update(&first);
        // Now s = 0.5·4 + 0.5·2 = 3 for a batch mean of 4.
        let second = [tap(&d, vec![4.0], vec![1.0])];
        close(value(mm.loss(&second).unwrap()), 3.0);
        mm.update(&second);
        // Average is 0.5·2 + 0.5·4 = 3.
        close(value(mm.average().unwrap()[0].0.clone()), 3.0);
    }

    #[test]
    fn gradient_reaches_the_batch_statistics() {
        let d = muse_device::autodiff_device();
        let mean = t1(&d, vec![1.0, -2.0]).require_grad();
        let taps = [BnTap {
            batch_mean: mean.clone(),
            batch_var: t1(&d, vec![2.0, 2.0]),
            running_mean: t1(&d, vec![0.0, 0.0]),
            running_var: t1(&d, vec![1.0, 1.0]),
        }];
        let g = bn_statistics(&taps).unwrap().backward();
        // d‖μ‖/dμ = μ/‖μ‖ = [1, −2]/√5
        let grad = crate::test_util::values(mean.grad(&g).unwrap());
        close(grad[0], 1.0 / 5f32.sqrt());
        close(grad[1], -2.0 / 5f32.sqrt());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let d = muse_device::device();
        assert!(bn_statistics(&[]).is_err());
        let mut bad = tap(&d, vec![1.0, 2.0], vec![1.0, 1.0]);
        bad.batch_var = t1(&d, vec![1.0]);
        assert!(bn_statistics(&[bad]).is_err());
        assert!(
            BnMomentum::new(1.5)
                .loss(&[tap(&d, vec![1.0], vec![1.0])])
                .is_err()
        );
    }
}
