//! CIFAR-10 and CIFAR-100 binary batches (`data_batch_N.bin`, `test_batch.bin`, `train.bin`,
//! `test.bin`): one record per image, the label byte(s) then 3072 bytes of R, G, B planes.

use std::path::Path;

use crate::bytes::read_maybe_gz;
use crate::dataset::ImageDataset;
use crate::error::DataError;

const PIXELS: usize = 3 * 32 * 32;

/// Which CIFAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CifarKind {
    /// 10 classes, one label byte per record.
    Cifar10,
    /// 100 fine classes; records carry a coarse then a fine label byte (the fine one is used).
    Cifar100,
}

impl CifarKind {
    fn label_bytes(self) -> usize {
        match self {
            Self::Cifar10 => 1,
            Self::Cifar100 => 2,
        }
    }

    fn num_classes(self) -> usize {
        match self {
            Self::Cifar10 => 10,
            Self::Cifar100 => 100,
        }
    }
}

/// The CIFAR-10 class names, by label.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Reads one or more binary batch files into one data set.
pub fn load_cifar(kind: CifarKind, files: &[&Path]) -> Result<ImageDataset, DataError> {
    let record = kind.label_bytes() + PIXELS;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for &path in files {
        let bytes = read_maybe_gz(path)?;
        if bytes.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        if bytes.len() % record != 0 {
            return Err(DataError::Truncated {
                path: path.to_path_buf(),
                expected: bytes.len().div_ceil(record) * record,
                found: bytes.len(),
            });
        }
        for (index, rec) in bytes.chunks_exact(record).enumerate() {
            let label = rec[kind.label_bytes() - 1] as usize;
            if label >= kind.num_classes() {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    label,
                    num_classes: kind.num_classes(),
                });
            }
            labels.push(label);
            pixels.extend_from_slice(&rec[kind.label_bytes()..]);
        }
    }
    let names = match kind {
        CifarKind::Cifar10 => CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect(),
        CifarKind::Cifar100 => (0..100).map(|i| format!("class_{i}")).collect(),
    };
    let source = files.first().map(|p| p.to_path_buf()).unwrap_or_default();
    ImageDataset::new(pixels, labels, [3, 32, 32], names, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::fixture;

    #[test]
    fn reads_cifar10_and_cifar100_records() {
        let d = load_cifar(CifarKind::Cifar10, &[&fixture("cifar10/data_batch_1.bin")]).unwrap();
        assert_eq!(
            (d.len(), d.shape(), d.labels()),
            (2, [3, 32, 32], &[3usize, 9][..])
        );
        assert_eq!(d.class_names()[3], "cat");
        // byte p of record i is (11i + p) mod 256; the G plane starts at 1024.
        let (px, _) = d.get(1).unwrap();
        assert_eq!((px[0], px[1024]), (11, ((11 + 1024) % 256) as u8));
        let d = load_cifar(CifarKind::Cifar100, &[&fixture("cifar100/train.bin")]).unwrap();
        assert_eq!(d.labels(), &[42, 7]);
        assert_eq!(d.num_classes(), 100);
        let both = load_cifar(
            CifarKind::Cifar10,
            &[
                &fixture("cifar10/data_batch_1.bin"),
                &fixture("cifar10/test_batch.bin"),
            ],
        )
        .unwrap();
        assert_eq!(both.labels(), &[3, 9, 5]);
    }

    #[test]
    fn truncated_files_and_bad_labels_are_named_errors() {
        let e = load_cifar(CifarKind::Cifar10, &[&fixture("cifar-bad/truncated.bin")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("truncated.bin") && e.contains("truncated"),
            "{e}"
        );
        let e = load_cifar(CifarKind::Cifar10, &[&fixture("cifar-bad/bad-label.bin")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad-label.bin") && e.contains("label 10"), "{e}");
        // A CIFAR-10 file read as CIFAR-100 has the wrong record size.
        let e = load_cifar(CifarKind::Cifar100, &[&fixture("cifar10/data_batch_1.bin")]);
        assert!(e.is_err());
    }
}
