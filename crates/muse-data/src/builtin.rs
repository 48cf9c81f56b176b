//! Data sets by name (`fashion-mnist`, `mnist`, `digits`) or by path, found on the local disk
//! only: nothing is ever downloaded.
//!
//! | name | where it is looked for |
//! |---|---|
//! | `fashion-mnist` | `$MUSE_DATA_DIR/fashion-mnist/`, `/usr/share/datasets/fashion-mnist/` (Debian package `dataset-fashion-mnist`) |
//! | `fashion-mnist-scenes` | built from `fashion-mnist` (items at 20–64 px on a 64 px canvas; [`fashion_mnist_scenes`]) |
//! | `mnist` | `$MUSE_DATA_DIR/mnist/`, `/usr/share/datasets/mnist/` |
//! | `digits` | `$MUSE_DATA_DIR/digits.csv.gz`, then scikit-learn's copy under the usual Python `site-packages` / `dist-packages` folders |
//!
//! A path may be a folder of IDX files (`train-images-idx3-ubyte[.gz]`, `t10k-…`), a folder
//! of CIFAR binaries (`data_batch_*.bin` + `test_batch.bin`, or `train.bin` + `test.bin`), an
//! ImageFolder tree (with `train/` and `val/` sub-trees, or one tree for both splits), or a
//! digits-style CSV file.

use std::path::{Path, PathBuf};

use crate::cifar::{CifarKind, load_cifar};
use crate::dataset::ImageDataset;
use crate::digits::load_digits;
use crate::error::DataError;
use crate::folder::load_image_folder;
use crate::idx::load_idx;
use crate::normalize::Normalization;
use crate::scenes::SceneConfig;

/// Training or test split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training split.
    Train,
    /// The test (validation) split.
    Test,
}

/// The Fashion-MNIST class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Number of digits rows used for training; the remaining 360 (20%) form the test split.
pub const DIGITS_TRAIN: usize = 1437;

/// Class names of a built-in data set whose labels are words (for class-name embeddings), or
/// `None` (digit data sets, paths).
pub fn class_names(name: &str) -> Option<Vec<String>> {
    match name {
        "fashion-mnist" | "fashion-mnist-1k" | "fashion-mnist-scenes" => Some(
            FASHION_MNIST_CLASSES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// The built-in data set names.
pub const BUILTIN: [&str; 4] = ["fashion-mnist", "fashion-mnist-scenes", "mnist", "digits"];

/// `fashion-mnist-scenes` for one split: Fashion-MNIST items resized to 20–64 px and placed on a
/// 64 px canvas, with a fixed seed per split (the test scenes from the test items only).
pub fn fashion_mnist_scenes(split: Split) -> SceneConfig {
    SceneConfig {
        canvas: 64,
        min_side: 20,
        seed: match split {
            Split::Train => 0x005C_E4E5_7241,
            Split::Test => 0x005C_E4E5_7E57,
        },
    }
}

/// How a data set was found, with the normalisation that fits it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The samples.
    pub data: ImageDataset,
    /// Its normalisation preset (measured on the fly for folders and unknown layouts).
    pub normalization: Normalization,
}

/// Loads a built-in data set by name, or a data set at a path.
///
/// `image_size` is the crop side for ImageFolder trees (resized to `image_size·8/7` first, as
/// 256 → 224 for ImageNet); other formats keep their native size.
pub fn load(name_or_path: &str, split: Split, image_size: u32) -> Result<Loaded, DataError> {
    match name_or_path {
        "fashion-mnist" => {
            let dir = find_dir("fashion-mnist", "dataset-fashion-mnist")?;
            let names = FASHION_MNIST_CLASSES
                .iter()
                .map(|s| s.to_string())
                .collect();
            let data = load_idx_dir(&dir, split, names)?;
            Ok(Loaded {
                data,
                normalization: Normalization::fashion_mnist(),
            })
        }
        "fashion-mnist-scenes" => {
            let fashion = load("fashion-mnist", split, image_size)?;
            Ok(Loaded {
                data: fashion.data.scenes(&fashion_mnist_scenes(split))?,
                normalization: Normalization::fashion_mnist_scenes(),
            })
        }
        "mnist" => {
            let dir = find_dir("mnist", "an MNIST copy in IDX format")?;
            let names = (0..10).map(|d| d.to_string()).collect();
            let data = load_idx_dir(&dir, split, names)?;
            Ok(Loaded {
                data,
                normalization: Normalization::mnist(),
            })
        }
        "digits" => {
            let file = find_digits()?;
            Ok(Loaded {
                data: digits_split(load_digits(&file)?, split)?,
                normalization: Normalization::digits(),
            })
        }
        other => load_path(Path::new(other), split, image_size),
    }
}

fn load_path(path: &Path, split: Split, image_size: u32) -> Result<Loaded, DataError> {
    if path.is_file() {
        let data = digits_split(load_digits(path)?, split)?;
        let normalization = Normalization::measure(&data);
        return Ok(Loaded {
            data,
            normalization,
        });
    }
    if !path.is_dir() {
        return Err(DataError::UnknownDataset {
            name: path.display().to_string(),
            known: BUILTIN.join(", "),
        });
    }
    if idx_file(path, "train-images-idx3-ubyte").is_some() {
        let names = (0..10).map(|d| d.to_string()).collect();
        let data = load_idx_dir(path, split, names)?;
        let normalization = Normalization::measure(&data);
        return Ok(Loaded {
            data,
            normalization,
        });
    }
    if path.join("data_batch_1.bin").is_file() {
        let files: Vec<PathBuf> = match split {
            Split::Train => (1..=5)
                .map(|i| path.join(format!("data_batch_{i}.bin")))
                .collect(),
            Split::Test => vec![path.join("test_batch.bin")],
        };
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        return Ok(Loaded {
            data: load_cifar(CifarKind::Cifar10, &refs)?,
            normalization: Normalization::cifar10(),
        });
    }
    if path.join("train.bin").is_file() {
        let file = path.join(match split {
            Split::Train => "train.bin",
            Split::Test => "test.bin",
        });
        return Ok(Loaded {
            data: load_cifar(CifarKind::Cifar100, &[&file])?,
            normalization: Normalization::cifar100(),
        });
    }
    let root = match split {
        Split::Train if path.join("train").is_dir() => path.join("train"),
        Split::Test if path.join("val").is_dir() => path.join("val"),
        _ => path.to_path_buf(),
    };
    let data = load_image_folder(&root, image_size * 8 / 7, image_size)?;
    Ok(Loaded {
        data,
        normalization: Normalization::imagenet(),
    })
}

/// `dir/stem` or `dir/stem.gz`, whichever exists.
fn idx_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    [dir.join(stem), dir.join(format!("{stem}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

fn load_idx_dir(dir: &Path, split: Split, names: Vec<String>) -> Result<ImageDataset, DataError> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let find = |kind: &str| {
        let stem = format!("{prefix}-{kind}");
        idx_file(dir, &stem).ok_or_else(|| DataError::Io {
            path: dir.join(&stem),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "IDX file not found (raw or .gz)",
            ),
        })
    };
    load_idx(
        &find("images-idx3-ubyte")?,
        &find("labels-idx1-ubyte")?,
        names,
    )
}

fn data_dirs(sub: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(root) = std::env::var_os("MUSE_DATA_DIR") {
        dirs.push(PathBuf::from(root).join(sub));
    }
    dirs.push(Path::new("/usr/share/datasets").join(sub));
    dirs
}

fn find_dir(name: &'static str, hint_pkg: &'static str) -> Result<PathBuf, DataError> {
    let dirs = data_dirs(name);
    dirs.iter()
        .find(|d| idx_file(d, "t10k-images-idx3-ubyte").is_some())
        .cloned()
        .ok_or_else(|| DataError::NotInstalled {
            name,
            looked: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            hint: if hint_pkg.starts_with("dataset-") {
                "Install it with `apt-get install dataset-fashion-mnist`, or set MUSE_DATA_DIR."
            } else {
                "Put the IDX files under $MUSE_DATA_DIR/mnist/."
            },
        })
}

fn find_digits() -> Result<PathBuf, DataError> {
    let mut candidates = Vec::new();
    if let Some(root) = std::env::var_os("MUSE_DATA_DIR") {
        candidates.push(PathBuf::from(root).join("digits.csv.gz"));
    }
    let rel = "sklearn/datasets/data/digits.csv.gz";
    let mut prefixes = vec![PathBuf::from("/usr/lib/python3/dist-packages")];
    for base in ["/usr/lib", "/usr/local/lib"] {
        prefixes.extend(python_dirs(Path::new(base)));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        prefixes.extend(python_dirs(&home.join(".local/lib")));
        if let Ok(versions) = std::fs::read_dir(home.join(".pyenv/versions")) {
            for v in versions.flatten() {
                prefixes.extend(python_dirs(&v.path().join("lib")));
            }
        }
    }
    candidates.extend(prefixes.into_iter().map(|p| p.join(rel)));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| DataError::NotInstalled {
            name: "digits",
            looked: candidates
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            hint: "Install scikit-learn (`pip install scikit-learn`), or copy digits.csv.gz to $MUSE_DATA_DIR.",
        })
}

/// `base/python3.*/{site,dist}-packages` folders.
fn python_dirs(base: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .flat_map(|e| {
            [
                e.path().join("site-packages"),
                e.path().join("dist-packages"),
            ]
        })
        .collect()
}

/// The first [`DIGITS_TRAIN`] rows (scaled down for shorter files) are the training split.
fn digits_split(all: ImageDataset, split: Split) -> Result<ImageDataset, DataError> {
    let n = all.len();
    let cut = if n == 1797 {
        DIGITS_TRAIN
    } else {
        (n * 4).div_ceil(5)
    };
    let idx: Vec<usize> = match split {
        Split::Train => (0..cut).collect(),
        Split::Test => (cut..n).collect(),
    };
    all.subset(&idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::fixture;

    #[test]
    fn fashion_mnist_scenes_are_built_per_split_and_normalised_by_their_training_set() {
        let (Ok(train), Ok(items)) = (
            load("fashion-mnist-scenes", Split::Train, 0),
            load("fashion-mnist", Split::Test, 0),
        ) else {
            eprintln!("dataset-fashion-mnist is not installed; skipping");
            return;
        };
        assert_eq!(
            (train.data.len(), train.data.shape()),
            (60_000, [1, 64, 64])
        );
        let measured = Normalization::measure(&train.data);
        let preset = Normalization::fashion_mnist_scenes();
        assert!(
            (measured.mean[0] - preset.mean[0]).abs() < 5e-4,
            "{measured:?}"
        );
        assert!(
            (measured.std[0] - preset.std[0]).abs() < 5e-4,
            "{measured:?}"
        );
        // The test scenes are the test items (same labels, in order), each placed as the test
        // seed says: the pixels inside the placement are the item's, the rest empty.
        let test = load("fashion-mnist-scenes", Split::Test, 0).unwrap();
        assert_eq!(test.data.labels(), items.data.labels());
        let config = fashion_mnist_scenes(Split::Test);
        assert_ne!(config.seed, fashion_mnist_scenes(Split::Train).seed);
        let (scene, _) = test.data.get(9).unwrap();
        let p = config.placement(9);
        let inside = |i: usize| {
            (p.y..p.y + p.side).contains(&(i / 64)) && (p.x..p.x + p.side).contains(&(i % 64))
        };
        assert!(scene.iter().enumerate().all(|(i, &v)| inside(i) || v == 0));
        let ink: u64 = scene.iter().map(|&v| v as u64).sum();
        let (item, _) = items.data.get(9).unwrap();
        let item_ink: u64 = item.iter().map(|&v| v as u64).sum();
        // Resizing keeps the mean brightness: ink scales with the area.
        let expected = item_ink as f64 * (p.side * p.side) as f64 / 784.0;
        assert!(
            (ink as f64 / expected - 1.0).abs() < 0.05,
            "{ink} vs {expected}"
        );
    }

    #[test]
    fn paths_are_recognised_by_layout() {
        let s = |p: &str| fixture(p).display().to_string();
        let idx = load(&s("idx"), Split::Test, 0).unwrap();
        assert_eq!(idx.data.shape(), [1, 4, 5]);
        let c10 = load(&s("cifar10"), Split::Test, 0).unwrap();
        assert_eq!(
            (c10.data.len(), c10.normalization.clone()),
            (1, Normalization::cifar10())
        );
        let c100 = load(&s("cifar100"), Split::Test, 0).unwrap();
        assert_eq!(c100.data.labels(), &[99]);
        let folder = load(&s("folder"), Split::Test, 7).unwrap();
        assert_eq!(folder.data.shape(), [3, 7, 7]);
        let digits = load(&s("digits/good.csv"), Split::Train, 0).unwrap();
        assert_eq!(digits.data.len(), 3 * 4 / 5 + 1);
        let err = load("no-such-data-set", Split::Train, 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no-such-data-set") && err.contains("fashion-mnist"),
            "{err}"
        );
    }

    /// Runs against the Debian package when it is installed (CI installs it).
    #[test]
    fn real_fashion_mnist_when_installed() {
        let Ok(test) = load("fashion-mnist", Split::Test, 0) else {
            eprintln!("dataset-fashion-mnist is not installed; skipping");
            return;
        };
        assert_eq!((test.data.len(), test.data.shape()), (10_000, [1, 28, 28]));
        assert_eq!(test.data.labels()[..5], [9, 2, 1, 1, 6]);
        let mut counts = [0usize; 10];
        test.data.labels().iter().for_each(|&l| counts[l] += 1);
        assert_eq!(counts, [1000; 10]);
        let train = load("fashion-mnist", Split::Train, 0).unwrap();
        assert_eq!(train.data.len(), 60_000);
        let measured = Normalization::measure(&train.data);
        assert!((measured.mean[0] - test.normalization.mean[0]).abs() < 1e-3);
        assert!((measured.std[0] - test.normalization.std[0]).abs() < 1e-3);
    }

    #[test]
    fn real_digits_when_installed() {
        let Ok(train) = load("digits", Split::Train, 0) else {
            eprintln!("scikit-learn's digits.csv.gz is not installed; skipping");
            return;
        };
        let test = load("digits", Split::Test, 0).unwrap();
        assert_eq!((train.data.len(), test.data.len()), (1437, 360));
        assert_eq!(train.data.labels()[..3], [0, 1, 2]);
    }
}
