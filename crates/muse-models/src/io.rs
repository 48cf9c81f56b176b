//! Saving and loading weights without ever leaving a half-written file behind.

use std::path::{Path, PathBuf};

use burn::module::Module;

use crate::error::ModelError;

/// Saves `model`'s parameters and BatchNorm statistics as a Burnpack file at `path`.
///
/// The model is first put in validation mode (Burn's running statistics can lag one update
/// behind in training mode), written to a temporary file beside `path`, then renamed over it:
/// a crash never corrupts an existing file.
pub fn save_model<M: Module>(model: &M, path: &Path) -> Result<(), ModelError> {
    let tmp = tmp_path(path);
    model
        .valid()
        .save_file(&tmp)
        .map_err(|source| ModelError::Record {
            path: path.to_path_buf(),
            source,
        })?;
    std::fs::rename(&tmp, path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads the weights at `path` into `model` (which fixes the architecture and device).
///
/// A missing file, a corrupt or truncated one, or one saved from another architecture is an
/// error naming the file; `model` is consumed either way.
pub fn load_model<M: Module>(model: M, path: &Path) -> Result<M, ModelError> {
    if !path.is_file() {
        return Err(ModelError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such weights file"),
        });
    }
    model
        .try_load_file(path)
        .map_err(|source| ModelError::Record {
            path: path.to_path_buf(),
            source,
        })
}

/// The temporary name used while `path` is being written (`<name>.tmp-<pid>` beside it).
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arch, Classifier, ClassifierConfig};
    use burn::tensor::{Distribution, Tensor};

    #[test]
    fn save_then_load_reproduces_outputs_exactly_after_training_steps() {
        let device = muse_device::autodiff_device();
        let model = ClassifierConfig::new(Arch::ResNet8, 10)
            .init(&device)
            .unwrap();
        // Train-mode forwards move the running statistics away from their initial values.
        for _ in 0..3 {
            let x = Tensor::<4>::random([4, 3, 8, 8], Distribution::Default, &device);
            let _ = model.forward(x);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bpk");
        save_model(&model, &path).unwrap();
        let plain = muse_device::device();
        let fresh = ClassifierConfig::new(Arch::ResNet8, 10)
            .init(&plain)
            .unwrap();
        let loaded = load_model(fresh, &path).unwrap();
        let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Default, &plain);
        let a = model
            .valid()
            .forward(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let b = loaded.forward(x).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(a, b);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn corrupt_truncated_missing_and_foreign_files_are_errors_naming_the_file() {
        let device = muse_device::device();
        let model = || {
            ClassifierConfig::new(Arch::ResNet8, 10)
                .init(&device)
                .unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.bpk");
        save_model(&model(), &good).unwrap();
        let bytes = std::fs::read(&good).unwrap();

        let truncated = dir.path().join("truncated.bpk");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        let garbage = dir.path().join("garbage.bpk");
        std::fs::write(&garbage, b"this is not a burnpack file").unwrap();
        let missing = dir.path().join("missing.bpk");
        for path in [&truncated, &garbage, &missing] {
            let err = load_model(model(), path).unwrap_err().to_string();
            assert!(
                err.contains(path.file_name().unwrap().to_str().unwrap()),
                "{err}"
            );
        }
        // Weights of another architecture.
        let other = ClassifierConfig::new(Arch::LeNet5, 10)
            .init(&device)
            .unwrap();
        assert!(load_model(other, &good).is_err());
    }

    #[test]
    fn a_failed_save_keeps_the_previous_file() {
        let device = muse_device::device();
        let model = ClassifierConfig::new(Arch::LeNet5, 10)
            .init(&device)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.bpk");
        save_model(&model, &path).unwrap();
        let before = std::fs::read(&path).unwrap();
        // Saving into a directory that does not exist fails without touching `path`.
        let bad = dir.path().join("no-such-dir").join("x.bpk");
        assert!(save_model(&model, &bad).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
