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
    /// CRC-32 of the weights file, filled in by [`save_for`](Self::save_for) and checked by
    /// [`load_for`](Self::load_for): flipped bits or a truncated copy are found before the
    /// weights are used. Absent in cards written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_crc32: Option<u32>,
    /// How these weights were chosen among others, when they were (e.g. the best epoch by
    /// top-1 on the evaluation set, which makes that accuracy an optimistic estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
}

/// CRC-32 of the file at `path`.
pub(crate) fn file_crc32(path: &Path) -> Result<u32, EngineError> {
    let bytes = std::fs::read(path).map_err(|source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(crc32fast::hash(&bytes))
}

impl ModelCard {
    /// `weights` with the extension `.json`.
    pub fn path_for(weights: &Path) -> PathBuf {
        weights.with_extension("json")
    }

    /// Writes the card beside `weights` (atomically), with the checksum of the weights file
    /// when it exists (write the weights first).
    pub fn save_for(&self, weights: &Path) -> Result<(), EngineError> {
        let path = Self::path_for(weights);
        let card = Self {
            weights_crc32: match weights.is_file() {
                true => Some(file_crc32(weights)?),
                false => self.weights_crc32,
            },
            ..self.clone()
        };
        let json = serde_json::to_vec_pretty(&card).map_err(|e| EngineError::Corrupt {
            path: path.clone(),
            what: e.to_string(),
        })?;
        write_atomic(&path, &json)
    }

    /// The card beside `weights`, `None` when there is none; an unreadable one is an error, and
    /// so are weights whose checksum differs from the card's.
    pub fn load_for(weights: &Path) -> Result<Option<Self>, EngineError> {
        let path = Self::path_for(weights);
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|source| EngineError::Io {
            path: path.clone(),
            source,
        })?;
        let card: Self = serde_json::from_slice(&bytes).map_err(|e| EngineError::Corrupt {
            path: path.clone(),
            what: format!("not a model card: {e}"),
        })?;
        if let Some(want) = card.weights_crc32
            && weights.is_file()
        {
            let found = file_crc32(weights)?;
            if found != want {
                return Err(EngineError::Corrupt {
                    path: weights.to_path_buf(),
                    what: format!(
                        "checksum {found:08x} differs from the {want:08x} its card {} records: \
                         the weights were damaged (flipped bits, a truncated copy) or replaced \
                         without their card",
                        path.display()
                    ),
                });
            }
        }
        Ok(Some(card))
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
            weights_crc32: None,
            selection: None,
        };
        card.save_for(&weights).unwrap();
        assert!(dir.path().join("teacher.json").is_file());
        assert_eq!(ModelCard::load_for(&weights).unwrap(), Some(card.clone()));
        assert_eq!(card.init(&muse_device::device()).unwrap().num_classes(), 10);
        // With weights beside it, the card records their checksum and a flipped bit is found.
        let model = card.init(&muse_device::device()).unwrap();
        muse_models::save_model(&model, &weights).unwrap();
        card.save_for(&weights).unwrap();
        let loaded = ModelCard::load_for(&weights).unwrap().unwrap();
        assert!(loaded.weights_crc32.is_some());
        let mut bytes = std::fs::read(&weights).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 1;
        std::fs::write(&weights, &bytes).unwrap();
        let err = ModelCard::load_for(&weights).unwrap_err().to_string();
        assert!(
            err.contains("teacher.bpk") && err.contains("checksum"),
            "{err}"
        );
        std::fs::write(dir.path().join("teacher.json"), "{\"arch\": 3").unwrap();
        let err = ModelCard::load_for(&weights).unwrap_err().to_string();
        assert!(
            err.contains("teacher.json") && err.contains("not a model card"),
            "{err}"
        );
    }
}
