//! The JSON card saved beside a weights file (`teacher.bpk` → `teacher.json`): what network it
//! is, what it expects as input and how well it did, so `muse distill --teacher teacher.bpk`
//! needs no other flags.

use std::path::{Path, PathBuf};

use muse_data::Normalization;
use muse_models::{AnyClassifier, Arch, ClassifierConfig};
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::EngineError;

/// What a weights file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Architecture.
    pub arch: Arch,
    /// Channel multiplier.
    pub width_mult: f64,
    /// Classes.
    pub num_classes: usize,
    /// Input channels.
    pub channels: usize,
    /// Side of the images it was trained (or distilled) for.
    pub resolution: usize,
    /// Normalisation its inputs need.
    pub normalization: Normalization,
    /// The data set it was trained or evaluated on.
    pub data: String,
    /// Top-1 accuracy on that data set's test split, if measured.
    pub top1: Option<f64>,
}

impl ModelCard {
    /// `weights` with the extension `.json`.
    pub fn path_for(weights: &Path) -> PathBuf {
        weights.with_extension("json")
    }

    /// Writes the card beside `weights` (atomically).
    pub fn save_for(&self, weights: &Path) -> Result<(), EngineError> {
        let path = Self::path_for(weights);
        let json = serde_json::to_vec_pretty(self).map_err(|e| EngineError::Corrupt {
            path: path.clone(),
            what: e.to_string(),
        })?;
        write_atomic(&path, &json)
    }

    /// The card beside `weights`, `None` when there is none; an unreadable one is an error.
    pub fn load_for(weights: &Path) -> Result<Option<Self>, EngineError> {
        let path = Self::path_for(weights);
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|source| EngineError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| EngineError::Corrupt {
                path,
                what: format!("not a model card: {e}"),
            })
    }

    /// A freshly initialised network of this card's shape.
    pub fn init(&self, device: &burn::tensor::Device) -> Result<AnyClassifier, EngineError> {
        Ok(self.classifier_config().init(device)?)
    }

    /// The zoo config of the network this card describes.
    pub fn classifier_config(&self) -> ClassifierConfig {
        ClassifierConfig::new(self.arch, self.num_classes)
            .with_in_channels(self.channels)
            .with_width_mult(self.width_mult)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muse_models::Classifier;

    #[test]
    fn round_trip_absent_and_corrupt_cards() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("teacher.bpk");
        assert_eq!(ModelCard::load_for(&weights).unwrap(), None);
        let card = ModelCard {
            arch: Arch::LeNet5,
            width_mult: 1.0,
            num_classes: 10,
            channels: 1,
            resolution: 28,
            normalization: Normalization::fashion_mnist(),
            data: "fashion-mnist".into(),
            top1: Some(0.83),
        };
        card.save_for(&weights).unwrap();
        assert!(dir.path().join("teacher.json").is_file());
        assert_eq!(ModelCard::load_for(&weights).unwrap(), Some(card.clone()));
        assert_eq!(card.init(&muse_device::device()).unwrap().num_classes(), 10);
        std::fs::write(dir.path().join("teacher.json"), "{\"arch\": 3").unwrap();
        let err = ModelCard::load_for(&weights).unwrap_err().to_string();
        assert!(
            err.contains("teacher.json") && err.contains("not a model card"),
            "{err}"
        );
    }
}
