//! Top-1 / top-5 accuracy on real data at native resolution.

use burn::tensor::Device;
use muse_data::{ImageDataset, Normalization, batch_indices};
use muse_models::Classifier;
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
/// `[n, classes]`). Ties are resolved in the label's favour.
pub fn top_k_hits(logits: &[f32], labels: &[usize], classes: usize, k: usize) -> usize {
    labels
        .iter()
        .enumerate()
        .filter(|(i, label)| {
            let row = &logits[i * classes..(i + 1) * classes];
            let target = row[**label];
            row.iter().filter(|&&v| v > target).count() < k
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_by_hand() {
        // Three samples, three classes.
        let logits = [0.1, 0.7, 0.2, 0.5, 0.4, 0.1, 0.3, 0.3, 0.4];
        let labels = [1, 1, 0];
        // sample 0: label best -> top1; sample 1: label 2nd; sample 2: label ties 2nd with 1.
        assert_eq!(top_k_hits(&logits, &labels, 3, 1), 1);
        assert_eq!(top_k_hits(&logits, &labels, 3, 2), 3);
        assert_eq!(top_k_hits(&logits, &labels, 3, 5), 3);
    }
}
