//! Loading weights written by other frameworks (PyTorch `.pt`/`.pth`, safetensors) into any
//! Burn module, strictly: a missing, unexpected or mis-shaped tensor is an error that names the
//! key, and the module is only replaced when every tensor fits.
//!
//! Key translation is a list of regex rules applied in order to each file key; Burn's
//! `PyTorchToBurnAdapter` then renames normalisation `weight`/`bias` to `gamma`/`beta` and
//! transposes `Linear` weights (`[out, in]` → `[in, out]`).

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::pytorch_reader::{PickleValue, PytorchReader};
use burn::store::{
    ApplyError, ApplyResult, BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, ModuleStore,
    PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};

use crate::error::WeightsError;

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
    pub fn of(path: &Path) -> Result<Self, WeightsError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("safetensors") => return Ok(Self::Safetensors),
            Some("pt" | "pth" | "bin" | "ckpt") => return Ok(Self::PyTorch),
            _ => {}
        }
        let mut head = [0u8; 2];
        use std::io::Read;
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .map_err(|source| WeightsError::Io {
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
/// ending with an entry of `ignore` (for example `num_batches_tracked`) may be left unused.
/// Returns the module with every parameter and buffer replaced, or an error listing each
/// problem; on error the caller's module is dropped, never half-loaded.
///
/// Nothing is read before the file's tensors are known to fit: every tensor's shape is checked
/// against the module from the file's header (a stride-0 tensor declaring 50,000 × 50,000 values
/// is refused before a byte of it is read), so a file can make the loader allocate no more than
/// the module itself needs. A PyTorch file holding anything but tensors and plain values (an
/// object rebuilt by calling a Python function, say `posix.system`) is refused by name; nothing
/// in it is imported or run.
pub fn load_foreign<M: Module, A: AsRef<str>, B: AsRef<str>>(
    module: M,
    path: &Path,
    rules: &[(A, B)],
    ignore: &[&str],
) -> Result<M, WeightsError> {
    load_foreign_named(module, path, rules, ignore, &|name: &str| name.to_string())
}

/// [`load_foreign`], naming a tensor the file lacks by `file_name(module path)` (the key the
/// file would have used) rather than by its path in the module.
pub fn load_foreign_named<M: Module, A: AsRef<str>, B: AsRef<str>>(
    mut module: M,
    path: &Path,
    rules: &[(A, B)],
    ignore: &[&str],
    file_name: &dyn Fn(&str) -> String,
) -> Result<M, WeightsError> {
    if !path.is_file() {
        return Err(WeightsError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let bad = |problems: Vec<String>| WeightsError::BadFile {
        path: path.to_path_buf(),
        problems,
    };
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(bad(vec!["the file is empty".into()]));
    }
    let fail = |problems: Vec<String>| WeightsError::Mismatch {
        path: path.to_path_buf(),
        problems,
    };
    let remapper = KeyRemapper::from_pattern_iter(
        WRAPPER_RULES
            .iter()
            .copied()
            .chain(rules.iter().map(|(a, b)| (a.as_ref(), b.as_ref()))),
    )
    .map_err(|e| bad(vec![format!("bad key rule: {e}")]))?;
    let expected = expected_shapes(&module);
    let fit =
        |tensors: Vec<PackTensor>| fit_problems(tensors, &remapper, &expected, ignore, file_name);
    let result = match ForeignFormat::of(path)? {
        ForeignFormat::Safetensors => {
            let mut plain = SafetensorsStore::from_file(path).map_indices_contiguous(false);
            let problems = fit(headers(&mut plain).map_err(|e| bad(vec![e]))?);
            if !problems.is_empty() {
                return Err(fail(problems));
            }
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
            let objects = python_objects(path).map_err(|e| bad(vec![e]))?;
            if !objects.is_empty() {
                return Err(bad(objects));
            }
            let store = |top: Option<&str>| {
                let mut s = PytorchStore::from_file(path).map_indices_contiguous(false);
                if let Some(top) = top {
                    s = s.with_top_level_key(top);
                }
                s
            };
            // A training checkpoint holds the weights under one entry, next to optimizer
            // state: read only that entry. A plain state dict whose keys merely start with
            // `model.` has no such entry; the wrapper rule strips the prefix instead.
            // The whole file's headers are read once; a wrapped entry's once more.
            let all = headers(&mut store(None)).map_err(|e| bad(vec![e]))?;
            let mut candidates = Vec::new();
            if let Some(top) = wrapped_under(&all) {
                let inner = headers(&mut store(Some(top))).map_err(|e| bad(vec![e]))?;
                candidates.push((Some(top), inner));
            }
            candidates.push((None, all));
            let mut first_problems = None;
            let mut chosen = None;
            for (top, tensors) in candidates {
                let problems = fit(tensors);
                if problems.is_empty() {
                    chosen = Some(top);
                    break;
                }
                first_problems.get_or_insert(problems);
            }
            let Some(top) = chosen else {
                return Err(fail(first_problems.unwrap_or_default()));
            };
            let mut s = store(top)
                .remap(remapper.clone())
                .skip_enum_variants(true)
                .allow_partial(true)
                .validate(false);
            apply(&mut module, &mut s)
        }
    }
    .map_err(|e| bad(vec![e]))?;
    let problems = problems(&result, ignore);
    if problems.is_empty() {
        Ok(module)
    } else {
        Err(fail(problems))
    }
}

/// The tensors of a file as its header declares them (names, dtypes, shapes); their data is
/// not read.
fn headers<S: ModuleStore>(store: &mut S) -> Result<Vec<PackTensor>, String> {
    Ok(store
        .get_all_tensors()
        .map_err(|e| format!("unreadable: {e}"))?
        .values()
        .cloned()
        .collect())
}

/// Every tensor of `module` by its path with PyTorch's leaf names (`weight`/`bias` for a norm's
/// `gamma`/`beta`) and PyTorch's layout (`Linear` weights as `[out, in]`), as a foreign file
/// holds it once its keys are remapped.
fn expected_shapes<M: Module>(module: &M) -> BTreeMap<String, Vec<usize>> {
    module
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), true)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.to_vec()))
        .collect()
}

/// What keeps a file's `tensors` (as the file names them) from fitting `expected`: tensors of
/// another shape, tensors the module lacks, tensors the file lacks. Only headers are looked
/// at; no tensor data is read.
fn fit_problems(
    tensors: Vec<PackTensor>,
    remapper: &KeyRemapper,
    expected: &BTreeMap<String, Vec<usize>>,
    ignore: &[&str],
    file_name: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let (tensors, names) = remapper.remap(tensors);
    let mut out = Vec::new();
    let mut found = std::collections::BTreeSet::new();
    for (t, (new, original)) in tensors.iter().zip(&names) {
        let shape = t.shape.to_vec();
        match expected.get(new) {
            Some(want) if *want == shape => {
                found.insert(new.clone());
            }
            Some(want) => {
                found.insert(new.clone());
                out.push(format!(
                    "`{original}`: the model expects shape {want:?}, the file has {shape:?}"
                ));
            }
            None if ignore.iter().any(|s| original.ends_with(s)) => {}
            None => out.push(format!(
                "`{original}` (shape {shape:?}): in the file but not in the model"
            )),
        }
    }
    for (name, shape) in expected {
        if !found.contains(name) {
            out.push(format!(
                "`{}` (shape {shape:?}): missing from the file (it would stay at random init)",
                file_name(name)
            ));
        }
    }
    out
}

/// Every value in a PyTorch file that is neither a tensor nor a plain value (number, string,
/// bytes, list, dict), one line each naming where it sits and its Python type. Burn's reader
/// interprets only the calls that rebuild tensors and dictionaries and keeps any other as an
/// opaque name, so listing them imports and runs nothing.
fn python_objects(path: &Path) -> Result<Vec<String>, String> {
    let root =
        PytorchReader::read_pickle_data(path, None).map_err(|e| format!("unreadable: {e}"))?;
    let mut out = Vec::new();
    walk_objects(&root, &mut String::new(), &mut out);
    Ok(out)
}

fn walk_objects(value: &PickleValue, at: &mut String, out: &mut Vec<String>) {
    let len = at.len();
    match value {
        PickleValue::Dict(entries) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            for k in keys {
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
                walk_objects(&entries[k], at, out);
                at.truncate(len);
            }
        }
        PickleValue::List(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push_str(&format!("[{i}]"));
                walk_objects(item, at, out);
                at.truncate(len);
            }
        }
        PickleValue::Unsupported(kind) if kind == "torch.Tensor" => {}
        PickleValue::Unsupported(kind) => out.push(format!(
            "`{}`: a Python object of type `{kind}`, not a tensor; a weights file may hold only \
             tensors and plain values, so it is refused (nothing in it was imported or run; \
             re-save the weights alone with `torch.save(model.state_dict(), path)`)",
            if at.is_empty() { "<root>" } else { at.as_str() }
        )),
        _ => {}
    }
}

/// `Some("state_dict")` / `Some("model")` when a PyTorch file (its `tensors`) may hold its
/// weights under that entry of a checkpoint dictionary (some keys carry the prefix and others
/// do not, e.g. an optimizer's buffers).
fn wrapped_under(tensors: &[PackTensor]) -> Option<&'static str> {
    ["state_dict", "model"].into_iter().find(|top| {
        let prefix = format!("{top}.");
        tensors.iter().any(|t| t.name.starts_with(&prefix))
            && tensors.iter().any(|t| !t.name.starts_with(&prefix))
    })
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
