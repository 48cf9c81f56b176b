//! What ships inside the binary so `muse distill` runs on a fresh machine with nothing else:
//! a WRN-16-1 teacher trained on Fashion-MNIST with `muse train-teacher` (93.34% top-1; weights
//! and card, 0.7 MB), and
//! 1,000 Fashion-MNIST test images (100 per class, `scripts/make_embedded_slice.py`), and the
//! teacher's class-name embeddings (all-MiniLM-L6-v2 of "a photo of a {name}", 10 × 384, made by
//! `muse embed-labels --names fashion-mnist`), so a fresh machine without the text model runs
//! the default exactly as it was tuned.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use muse::data::{FASHION_MNIST_CLASSES, Loaded, Normalization, idx_dataset};

/// The name `--data` / `--eval-data` accept for the embedded test slice.
pub const TEST_SLICE: &str = "fashion-mnist-1k";

const TEACHER: &[u8] = include_bytes!("../assets/teacher-wrn16-1-fashion-mnist.bpk");
const TEACHER_CARD: &[u8] = include_bytes!("../assets/teacher-wrn16-1-fashion-mnist.json");
const LABEL_EMBEDDINGS: &[u8] = include_bytes!("../assets/fashion-mnist-labels-minilm.safetensors");
const IMAGES: &[u8] = include_bytes!("../assets/fashion-mnist-1k-images-idx3-ubyte.gz");
const LABELS: &[u8] = include_bytes!("../assets/fashion-mnist-1k-labels-idx1-ubyte.gz");

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// The embedded 1,000-image test slice.
pub fn test_slice() -> Result<Loaded> {
    let source = Path::new("<embedded fashion-mnist-1k>");
    let data = idx_dataset(
        (source, &gunzip(IMAGES)?),
        (source, &gunzip(LABELS)?),
        FASHION_MNIST_CLASSES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )?;
    Ok(Loaded {
        data,
        normalization: Normalization::fashion_mnist(),
    })
}

/// The embedded teacher's card.
pub fn teacher_card() -> Result<muse::engine::ModelCard> {
    serde_json::from_slice(TEACHER_CARD).context("the embedded teacher card")
}

/// Writes the embedded teacher (weights and card) into `dir`; returns the weights' path.
pub fn write_teacher(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let weights = dir.join("teacher.bpk");
    std::fs::write(&weights, TEACHER).with_context(|| weights.display().to_string())?;
    let card = dir.join("teacher.json");
    std::fs::write(&card, TEACHER_CARD).with_context(|| card.display().to_string())?;
    Ok(weights)
}

/// The file name [`write_label_embeddings`] writes in a run directory.
pub const LABEL_EMBEDDINGS_FILE: &str = "label-embeddings.safetensors";

/// Writes the embedded teacher's class-name embeddings into `dir`; returns the file's path.
pub fn write_label_embeddings(dir: &Path) -> Result<PathBuf> {
    let path = dir.join(LABEL_EMBEDDINGS_FILE);
    std::fs::write(&path, LABEL_EMBEDDINGS).with_context(|| path.display().to_string())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slice_has_100_images_per_class_and_the_teacher_a_card() {
        let s = test_slice().unwrap();
        assert_eq!(s.data.len(), 1000);
        assert_eq!(s.data.shape(), [1, 28, 28]);
        for c in 0..10 {
            assert_eq!(s.data.labels().iter().filter(|&&l| l == c).count(), 100);
        }
        let dir = tempfile::tempdir().unwrap();
        let w = write_teacher(dir.path()).unwrap();
        let card = muse::engine::ModelCard::load_for(&w).unwrap().unwrap();
        assert_eq!(
            (card.arch.name(), card.num_classes, card.resolution),
            ("wrn16-1", 10, 28)
        );
        let labels = write_label_embeddings(dir.path()).unwrap();
        let e = muse::engine::LabelEmbeddings::load(&labels, 10).unwrap();
        assert_eq!(e.dim(), 384);
    }
}
