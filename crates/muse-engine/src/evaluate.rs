//! Top-1 / top-5 accuracy on real data at native resolution.

use burn::tensor::Device;
use muse_data::{ImageDataset, Normalization, batch_indices};
use muse_models::{BnStats, Classifier};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::observer::Observer;

/// Accuracy of a classifier on a data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Fraction of samples whose label has the highest score.
    pub top1: f64,
    /// Fraction whose label is among the five highest scores (all, with fewer than 5 classes).
    pub top5: f64,
    /// Number of samples.
    pub samples: usize,
}

/// Counts the samples whose label is among the `k` highest of `logits` (row-major
/// `[n, classes]`). A tie is not a hit: another class scoring exactly the label's score counts
/// as ranked above it (an all-zero classifier scores 0, not 100%). Callers check for NaN first
/// (a NaN compares false and would rank the label first).
pub fn top_k_hits(logits: &[f32], labels: &[usize], classes: usize, k: usize) -> usize {
    labels
        .iter()
        .enumerate()
        .filter(|&(i, &label)| {
            let row = &logits[i * classes..(i + 1) * classes];
            let target = row[label];
            let above = row
                .iter()
                .enumerate()
                .filter(|&(j, &v)| j != label && v >= target)
                .count();
            above < k
        })
        .count()
}

/// Checks that `model` takes `data`'s images and predicts its number of classes.
pub(crate) fn check_fits<M: Classifier>(model: &M, data: &ImageDataset) -> Result<(), EngineError> {
    let [c, h, w] = data.shape();
    model.check_input([1, c, h, w])?;
    if data.num_classes() != model.num_classes() {
        return Err(EngineError::Mismatch(format!(
            "the model has {} classes, the data set {}",
            model.num_classes(),
            data.num_classes()
        )));
    }
    Ok(())
}

/// Evaluates `model` on `data` in eval mode (running statistics), `batch_size` at a time.
pub fn evaluate<M: Classifier>(
    model: &M,
    data: &ImageDataset,
    normalization: &Normalization,
    batch_size: usize,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Accuracy, EngineError> {
    check_fits(model, data)?;
    if batch_size == 0 {
        return Err(EngineError::InvalidConfig {
            field: "batch_size",
            reason: "must be at least 1".into(),
        });
    }
    let model = model.valid();
    let device = device.clone().inner();
    let batches = batch_indices(data.len(), batch_size, None, false);
    let classes = model.num_classes();
    let (mut hit1, mut hit5) = (0, 0);
    observer.phase_started("eval", batches.len());
    for idx in &batches {
        let (x, _) = data.batch(idx, &device)?;
        let logits = model.forward(normalization.apply(x)?);
        let values = logits
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| EngineError::Mismatch(format!("logits: {e:?}")))?;
        if let Some(at) = values.iter().position(|v| !v.is_finite()) {
            return Err(EngineError::NonFiniteOutput {
                what: "logits",
                value: values[at],
                sample: idx[at / classes],
            });
        }
        let labels: Vec<usize> = idx.iter().map(|&i| data.labels()[i]).collect();
        hit1 += top_k_hits(&values, &labels, classes, 1);
        hit5 += top_k_hits(&values, &labels, classes, 5);
        observer.step(None);
    }
    observer.phase_finished();
    let n = data.len() as f64;
    Ok(Accuracy {
        top1: hit1 as f64 / n,
        top5: hit5 as f64 / n,
        samples: data.len(),
    })
}

/// How far real images are from the BatchNorm statistics a teacher recorded in training: per
/// BatchNorm2d layer (forward order), the mean over batches of `‖μ(x) − μ_run‖₂ + ‖σ²(x) − σ²_run‖₂`,
/// the summand of the generator's `L_BN` (paper Eq. 11). Run at a lower `data` resolution it
/// shows how much of `L_BN` no image, natural or synthetic, can remove there: the floor a
/// generator at that resolution fights.
///
/// Batches have `batch_size` images (the last, smaller one is dropped unless it is the only one).
pub fn bn_distance<M: Classifier>(
    model: &M,
    data: &ImageDataset,
    normalization: &Normalization,
    batch_size: usize,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Vec<f64>, EngineError> {
    check_fits(model, data)?;
    if batch_size < 2 {
        return Err(EngineError::InvalidConfig {
            field: "batch_size",
            reason: "batch statistics need at least 2 images".into(),
        });
    }
    let model = model.valid();
    let device = device.clone().inner();
    let mut batches = batch_indices(data.len(), batch_size, None, false);
    if batches.len() > 1 {
        batches.retain(|b| b.len() == batch_size);
    }
    let mut sums: Vec<f64> = Vec::new();
    observer.phase_started("bn-distance", batches.len());
    for idx in &batches {
        let (x, _) = data.batch(idx, &device)?;
        let taps = model.forward_taps(normalization.apply(x)?, BnStats::Record);
        let per_layer = muse_losses::bn_statistics_per_layer(&taps.bn)?
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .map_err(|e| EngineError::Mismatch(format!("BatchNorm distances: {e:?}")))?;
        sums.resize(per_layer.len(), 0.0);
        for (sum, v) in sums.iter_mut().zip(per_layer) {
            *sum += v;
        }
        observer.step(None);
    }
    observer.phase_finished();
    let n = batches.len().max(1) as f64;
    Ok(sums.into_iter().map(|s| s / n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn top_k_by_hand() {
        // Three samples, three classes.
        let logits = [0.1, 0.7, 0.2, 0.5, 0.4, 0.1, 0.3, 0.3, 0.4];
        let labels = [1, 1, 0];
        // sample 0: label best -> top1; sample 1: label 2nd; sample 2: label 0 (0.3) ties
        // class 1 (0.3) below class 2 (0.4): third, since a tie ranks against the label.
        assert_eq!(top_k_hits(&logits, &labels, 3, 1), 1);
        assert_eq!(top_k_hits(&logits, &labels, 3, 2), 2);
        assert_eq!(top_k_hits(&logits, &labels, 3, 3), 3);
        assert_eq!(top_k_hits(&logits, &labels, 3, 5), 3);
        // An all-zero classifier: every class ties, nothing is a hit below k = classes.
        assert_eq!(top_k_hits(&[0.0; 9], &labels, 3, 1), 0);
        assert_eq!(top_k_hits(&[0.0; 9], &labels, 3, 2), 0);
        assert_eq!(top_k_hits(&[0.0; 9], &labels, 3, 3), 3);
    }

    /// 12 px grey images, pixel values varied per image and per position, 3 classes.
    fn ramp(n: usize) -> ImageDataset {
        let px = (0..n * 144)
            .map(|i| ((i * 37 + i / 144 * 11) % 256) as u8)
            .collect();
        let labels = (0..n).map(|i| i % 3).collect();
        let names = vec!["a".into(), "b".into(), "c".into()];
        ImageDataset::new(px, labels, [1, 12, 12], names, "ramp".into()).unwrap()
    }

    #[test]
    fn bn_distance_of_one_batch_is_the_generator_bn_loss_per_layer() {
        let device = muse_device::device();
        let model = crate::test_nets::tiny_teacher(&device);
        let data = ramp(8);
        let norm = Normalization::identity(1);
        let per_layer = bn_distance(&model, &data, &norm, 8, &device, &mut crate::Silent).unwrap();
        let (x, _) = data.batch(&(0..8).collect::<Vec<_>>(), &device).unwrap();
        let taps = burn::module::Module::valid(&model).forward_taps(x, BnStats::Record);
        let reference: f32 = muse_losses::bn_statistics(&taps.bn).unwrap().into_scalar();
        assert_eq!(per_layer.len(), taps.bn.len());
        let total: f64 = per_layer.iter().sum();
        assert!(
            (total - f64::from(reference)).abs() < 1e-4 * total.max(1.0),
            "{total} vs {reference}"
        );
        assert!(per_layer.iter().all(|v| *v > 0.0));
    }

    #[test]
    fn a_nan_model_is_an_error_and_an_all_zero_one_scores_nothing() {
        use burn::module::{Module, ModuleMapper, Param};
        struct Fill(f32);
        impl ModuleMapper for Fill {
            fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let (id, t, mapper) = p.consume();
                Param::from_mapped_value(id, t.full_like(self.0), mapper)
            }
        }
        let device = muse_device::device();
        let data = ramp(6);
        let norm = Normalization::identity(1);
        let nan = crate::test_nets::tiny_teacher(&device).map(&mut Fill(f32::NAN));
        let err = evaluate(&nan, &data, &norm, 4, &device, &mut crate::Silent).unwrap_err();
        assert!(
            matches!(err, EngineError::NonFiniteOutput { sample: 0, .. }),
            "{err}"
        );
        let zero = crate::test_nets::tiny_teacher(&device).map(&mut Fill(0.0));
        let acc = evaluate(&zero, &data, &norm, 4, &device, &mut crate::Silent).unwrap();
        assert_eq!(
            (acc.top1, acc.top5),
            (0.0, 1.0),
            "3 classes: every tie is in the top 5"
        );
    }

    #[test]
    fn bn_distance_averages_whole_batches_and_refuses_single_images() {
        let device = muse_device::device();
        let model = crate::test_nets::tiny_teacher(&device);
        let data = ramp(10);
        let norm = Normalization::identity(1);
        let both = bn_distance(&model, &data, &norm, 4, &device, &mut crate::Silent).unwrap();
        // Batches 0..4 and 4..8 (the 2-image remainder is dropped), averaged.
        let a = data.subset(&[0, 1, 2, 3]).unwrap();
        let b = data.subset(&[4, 5, 6, 7]).unwrap();
        let a = bn_distance(&model, &a, &norm, 4, &device, &mut crate::Silent).unwrap();
        let b = bn_distance(&model, &b, &norm, 4, &device, &mut crate::Silent).unwrap();
        for ((m, a), b) in both.iter().zip(&a).zip(&b) {
            assert!(
                (m - (a + b) / 2.0).abs() < 1e-5 * m.max(1.0),
                "{m} vs {a}, {b}"
            );
        }
        assert!(bn_distance(&model, &data, &norm, 1, &device, &mut crate::Silent).is_err());
    }
}
