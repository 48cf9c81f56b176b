//! PyTorch interoperability: load a PyTorch state dict (`.pt`/`.pth`, or safetensors) into any
//! zoo model, and export a model as safetensors under the PyTorch names of the matching
//! architecture, so `model.load_state_dict(safetensors.torch.load_file(path))` works.
//!
//! Each family has one name table (a file in this folder) listing, for every module that holds
//! tensors, its PyTorch module path and its Burn module path; the leaf names (`weight`, `bias`,
//! `running_mean`, `running_var`) are shared, Burn's PyTorch adapters rename BatchNorm
//! `weight`/`bias` ↔ `gamma`/`beta` and transpose `Linear` weights. Two naming schemes exist:
//! torchvision (`fc`, `downsample`, `features.N…`) and the DFKD CIFAR zoo of Fast-Datafree, CMI
//! and NAYER (`linear`, `shortcut`, `block1.layer.N…`); [`naming`] says which an `Arch` uses.

mod lenet;
mod mobilenetv2;
mod resnet;
mod vgg;
mod wrn;

use std::path::Path;

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;

use crate::arch::{AnyClassifier, Arch, ClassifierConfig};
use crate::error::ModelError;
use muse_weights::load_foreign_named;

/// One module with tensors: its PyTorch path, its Burn path, and whether it is a BatchNorm
/// (PyTorch stores a `num_batches_tracked` counter for those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleName {
    /// PyTorch module path, e.g. `layer1.0.downsample.1`.
    pub pytorch: String,
    /// Burn module path, e.g. `stages.0.blocks.0.shortcut.bn`.
    pub burn: String,
    /// Whether the module is a BatchNorm.
    pub batch_norm: bool,
}

impl ModuleName {
    fn new(pytorch: impl Into<String>, burn: impl Into<String>, batch_norm: bool) -> Self {
        Self {
            pytorch: pytorch.into(),
            burn: burn.into(),
            batch_norm,
        }
    }
}

/// The PyTorch code whose names an architecture follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `torchvision.models` (ResNet-18/34/50, MobileNetV2).
    Torchvision,
    /// The DFKD CIFAR zoo (Fast-Datafree / CMI / NAYER `models/classifiers`): ResNet-8/20
    /// (RepDistiller layout, torchvision-style names), ResNet-18/34, WRN, VGG-11-BN.
    DfkdZoo,
    /// No public PyTorch reference: MUSE-rs's own LeNet-5 (the names of
    /// `scripts/pytorch_parity.py`).
    MuseRs,
}

/// Which naming `arch` follows, or an error for an architecture with no PyTorch counterpart.
pub fn naming(arch: Arch) -> Result<Naming, ModelError> {
    Ok(match arch {
        Arch::ResNet18 | Arch::ResNet34 | Arch::ResNet50 | Arch::MobileNetV2 => Naming::Torchvision,
        Arch::ResNet8
        | Arch::ResNet20
        | Arch::ResNet18Cifar
        | Arch::ResNet34Cifar
        | Arch::Wrn16x1
        | Arch::Wrn16x2
        | Arch::Wrn40x1
        | Arch::Wrn40x2
        | Arch::Vgg11Bn => Naming::DfkdZoo,
        Arch::LeNet5 => Naming::MuseRs,
        Arch::MobileNetV2Cifar => {
            return Err(ModelError::InvalidConfig {
                field: "arch",
                reason: "mobilenetv2-cifar (stride-1 stem) has no PyTorch counterpart; the DFKD \
                         zoo's CIFAR MobileNetV2 is torchvision's layout: load it as mobilenetv2"
                    .into(),
            });
        }
    })
}

/// The name table of `model` (built as `arch`).
pub fn module_names(model: &AnyClassifier, arch: Arch) -> Result<Vec<ModuleName>, ModelError> {
    naming(arch)?;
    Ok(match model {
        AnyClassifier::ResNet(m) => resnet::names(m, arch),
        AnyClassifier::WideResNet(m) => wrn::names(m),
        AnyClassifier::Vgg(m) => vgg::names(m),
        AnyClassifier::MobileNetV2(m) => mobilenetv2::names(m),
        AnyClassifier::LeNet5(_) => lenet::names(),
    })
}

/// Builds `config`'s model and loads a PyTorch state dict into it (`.pt`/`.pth`/`.bin` pickles
/// or zip archives, or `.safetensors`; bare, under `state_dict`/`model`, with or without a
/// `module.` prefix). Every tensor must be present with its shape, and nothing else may be in
/// the file (except `num_batches_tracked` counters).
pub fn load_pytorch(
    config: &ClassifierConfig,
    path: &Path,
    device: &Device,
) -> Result<AnyClassifier, ModelError> {
    let model = config.shell(device)?;
    let names = module_names(&model, config.arch)?;
    let rules: Vec<(String, String)> = names
        .iter()
        .filter(|n| n.pytorch != n.burn)
        .map(|n| {
            (
                format!(r"^{}\.([^.]+)$", regex_escape(&n.pytorch)),
                format!("{}.${{1}}", n.burn),
            )
        })
        .collect();
    // A tensor the file lacks is named as the PyTorch model would have named it.
    let file_name = |burn_path: &str| {
        names
            .iter()
            .find_map(|n| {
                let leaf = burn_path.strip_prefix(&n.burn)?.strip_prefix('.')?;
                (!leaf.contains('.')).then(|| format!("{}.{leaf}", n.pytorch))
            })
            .unwrap_or_else(|| burn_path.to_string())
    };
    let model = load_foreign_named(model, path, &rules, &["num_batches_tracked"], &file_name)?;
    crate::materialize(&model);
    Ok(model)
}

/// Builds `config`'s model and loads `path` into it: Burnpack (`.bpk`, MUSE-rs's own format)
/// or a PyTorch state dict (`.pt`, `.pth`, `.bin`, `.safetensors`, see [`load_pytorch`]).
/// Weights holding NaN or infinite values are refused, naming the tensors.
pub fn load_classifier(
    config: &ClassifierConfig,
    path: &Path,
    device: &Device,
) -> Result<AnyClassifier, ModelError> {
    let model = if path.extension().is_some_and(|e| e == "bpk") {
        crate::io::load_model(config.shell(device)?, path)?
    } else {
        load_pytorch(config, path, device)?
    };
    let bad = muse_weights::non_finite_tensors(&model);
    if !bad.is_empty() {
        return Err(ModelError::BadFile {
            path: path.to_path_buf(),
            problems: vec![format!(
                "holds NaN or infinite values in {}: such a network answers NaN to any input",
                bad.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )],
        });
    }
    Ok(model)
}

/// Writes `model` (built as `arch`) as safetensors under PyTorch names, with a zero
/// `num_batches_tracked` per BatchNorm so that a strict `load_state_dict` accepts it. The file
/// is written beside `path` and renamed into place.
pub fn export_safetensors(
    model: &AnyClassifier,
    arch: Arch,
    path: &Path,
) -> Result<(), ModelError> {
    let names = module_names(model, arch)?;
    let tmp = crate::io::tmp_path(path);
    let record = |e: String| ModelError::Weights {
        path: path.to_path_buf(),
        problems: vec![e],
    };
    let mut store = SafetensorsStore::from_file(&tmp)
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .overwrite(true);
    for n in names.iter().filter(|n| n.pytorch != n.burn) {
        store = store.with_key_remapping(
            format!(r"^{}\.([^.]+)$", regex_escape(&n.burn)),
            format!("{}.${{1}}", n.pytorch),
        );
    }
    let written = model
        .save_into(&mut store)
        .map_err(|e| record(e.to_string()))
        .and_then(|()| {
            drop(store);
            add_batch_counters(&tmp, &names).map_err(record)
        })
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|source| ModelError::Io {
                path: path.to_path_buf(),
                source,
            })
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Adds an `int64` scalar `num_batches_tracked = 0` for every BatchNorm of `names`.
fn add_batch_counters(path: &Path, names: &[ModuleName]) -> Result<(), String> {
    use safetensors::tensor::TensorView;
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| e.to_string())?;
    let zero = 0i64.to_le_bytes();
    let mut views: Vec<(String, TensorView<'_>)> = st.tensors();
    for n in names.iter().filter(|n| n.batch_norm) {
        let view =
            TensorView::new(safetensors::Dtype::I64, vec![], &zero).map_err(|e| e.to_string())?;
        views.push((format!("{}.num_batches_tracked", n.pytorch), view));
    }
    let out = safetensors::serialize(views, None).map_err(|e| e.to_string())?;
    std::fs::write(path, out).map_err(|e| e.to_string())
}

/// Escapes regex metacharacters (module paths only hold `[A-Za-z0-9_.]`).
fn regex_escape(s: &str) -> String {
    s.replace('.', r"\.")
}
