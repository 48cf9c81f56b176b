//! Loading weights written by other frameworks (PyTorch `.pt`/`.pth`, safetensors) into any
//! Burn module, strictly: a missing, unexpected or mis-shaped tensor is an error that names the
//! key, and the module is only replaced when every tensor fits.
//!
//! Key translation is a list of regex rules applied in order to each file key; Burn's
//! `PyTorchToBurnAdapter` then renames normalisation `weight`/`bias` to `gamma`/`beta` and
//! transposes `Linear` weights (`[out, in]` → `[in, out]`).

use std::path::Path;

use burn::module::Module;
use burn::store::{
    ApplyError, ApplyResult, KeyRemapper, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};

use crate::error::ModelError;

/// A key rewrite: a regex over the file's key and its replacement (`$1` for groups).
pub type KeyRule = (&'static str, &'static str);

/// Prefixes that wrappers add around a state dict: a `state_dict` or `model` entry of a training
/// checkpoint, and `module.` from `DataParallel`/`DistributedDataParallel`.
pub const WRAPPER_RULES: &[KeyRule] = &[(r"^(?:state_dict\.|model\.)?(?:module\.)?", "")];

/// Which reader a foreign file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignFormat {
    /// `torch.save` output: a zip archive (PyTorch ≥ 1.6) or a legacy pickle.
    PyTorch,
    /// HuggingFace safetensors.
    Safetensors,
}

impl ForeignFormat {
    /// The format of `path`, from its extension, else from its first bytes.
    pub fn of(path: &Path) -> Result<Self, ModelError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("safetensors") => return Ok(Self::Safetensors),
            Some("pt" | "pth" | "bin" | "ckpt") => return Ok(Self::PyTorch),
            _ => {}
        }
        let mut head = [0u8; 2];
        use std::io::Read;
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .map_err(|source| ModelError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        // Zip archives start with "PK", legacy pickles with the PROTO opcode 0x80.
        if head == *b"PK" || head[0] == 0x80 {
            Ok(Self::PyTorch)
        } else {
            Ok(Self::Safetensors)
        }
    }
}

/// Loads `path` into `module` after stripping wrapper prefixes ([`WRAPPER_RULES`]) and then
/// rewriting every key with `rules`, in order (each rule sees the previous ones' output). Keys
/// ending with an entry of `ignore` (for example `num_batches_tracked`) may be left unused. Returns the module with every parameter and buffer replaced, or an error listing
/// each problem; on error the caller's module is dropped, never half-loaded.
pub fn load_foreign<M: Module, A: AsRef<str>, B: AsRef<str>>(
    mut module: M,
    path: &Path,
    rules: &[(A, B)],
    ignore: &[&str],
) -> Result<M, ModelError> {
    if !path.is_file() {
        return Err(ModelError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let fail = |problems: Vec<String>| ModelError::Weights {
        path: path.to_path_buf(),
        problems,
    };
    let remapper = KeyRemapper::from_pattern_iter(
        WRAPPER_RULES
            .iter()
            .copied()
            .chain(rules.iter().map(|(a, b)| (a.as_ref(), b.as_ref()))),
    )
    .map_err(|e| fail(vec![format!("bad key rule: {e}")]))?;
    let result = match ForeignFormat::of(path)? {
        ForeignFormat::Safetensors => {
            let mut store = SafetensorsStore::from_file(path)
                .remap(remapper)
                .with_from_adapter(PyTorchToBurnAdapter)
                .skip_enum_variants(true)
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(false);
            apply(&mut module, &mut store)
        }
        ForeignFormat::PyTorch => {
            let store = |top: Option<&str>| {
                let mut s = PytorchStore::from_file(path);
                if let Some(top) = top {
                    s = s.with_top_level_key(top);
                }
                s.remap(remapper.clone())
                    .skip_enum_variants(true)
                    .map_indices_contiguous(false)
                    .allow_partial(true)
                    .validate(false)
            };
            // A training checkpoint holds the weights under one entry, next to optimizer
            // state: read only that entry. A plain state dict whose keys merely start with
            // `model.` has no such entry; the wrapper rule strips the prefix instead.
            match wrapped_under(path).map_err(|e| fail(vec![e]))? {
                Some(top) => apply(&mut module, &mut store(Some(top)))
                    .or_else(|_| apply(&mut module, &mut store(None))),
                None => apply(&mut module, &mut store(None)),
            }
        }
    }
    .map_err(|e| fail(vec![e]))?;
    let problems = problems(&result, ignore);
    if problems.is_empty() {
        Ok(module)
    } else {
        Err(fail(problems))
    }
}

/// `Some("state_dict")` / `Some("model")` when a PyTorch file may hold its weights under that
/// entry of a checkpoint dictionary (some keys carry the prefix and others do not, e.g. an
/// optimizer's buffers).
fn wrapped_under(path: &Path) -> Result<Option<&'static str>, String> {
    let mut store = PytorchStore::from_file(path);
    let keys: Vec<String> = store
        .get_all_tensors()
        .map_err(|e| format!("unreadable: {e}"))?
        .keys()
        .cloned()
        .collect();
    Ok(["state_dict", "model"].into_iter().find(|top| {
        let prefix = format!("{top}.");
        keys.iter().any(|k| k.starts_with(&prefix)) && keys.iter().any(|k| !k.starts_with(&prefix))
    }))
}

fn apply<M: Module, S: ModuleStore>(module: &mut M, store: &mut S) -> Result<ApplyResult, String> {
    module
        .load_from(store)
        .map_err(|e| format!("unreadable: {e}"))
}

/// Every missing, unexpected and mis-shaped tensor of an application, one line each.
fn problems(result: &ApplyResult, ignore: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for e in &result.errors {
        out.push(match e {
            ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => {
                format!("`{path}`: the model expects shape {expected:?}, the file has {found:?}")
            }
            other => other.to_string(),
        });
    }
    for (key, _) in &result.missing {
        out.push(format!(
            "`{key}`: missing from the file (it would stay at random init)"
        ));
    }
    for key in result
        .unused
        .iter()
        .filter(|k| !ignore.iter().any(|s| k.ends_with(s)))
    {
        out.push(format!("`{key}`: in the file but not in the model"));
    }
    out
}
