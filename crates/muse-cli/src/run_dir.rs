//! The run directory: `config.json`, `metrics.jsonl`, `summary.json`, the student's weights
//! and card, the checkpoint, and `pictures/`. Every file is replaced atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use muse::engine::{DistillConfig, EpochMetrics, latest_checkpoint, save_png, write_atomic};
use serde::{Deserialize, Serialize};

/// The end-of-run record.
#[derive(Debug, Serialize, Deserialize)]
pub struct Summary {
    /// Method run.
    pub method: String,
    /// Teacher top-1 on the evaluation set.
    pub teacher_top1: Option<f64>,
    /// Student top-1 after the last epoch.
    pub final_top1: Option<f64>,
    /// Student top-5 after the last epoch.
    pub final_top5: Option<f64>,
    /// Best student top-1 over epochs (selected on the test set, as NAYER reports it).
    pub best_top1: Option<f64>,
    /// Epoch of the best top-1.
    pub best_epoch: Option<usize>,
    /// Epochs run.
    pub epochs: usize,
    /// Sum of the epochs' wall-clock seconds (across resumes).
    pub wall_seconds: f64,
    /// Images in the pool at the end, per resolution.
    pub pool: Vec<usize>,
    /// Evaluation set.
    pub eval_data: Option<String>,
    /// Number of evaluation images.
    pub eval_samples: Option<usize>,
}

/// A run input recorded beside the config (see [`RunDir::record`]).
#[derive(Debug, Clone, Copy)]
pub enum Recorded {
    /// The evaluation data's name or path (`null` for none).
    EvalData,
    /// The input normalisation both networks see.
    Normalization,
}

impl Recorded {
    fn file(self) -> &'static str {
        match self {
            Recorded::EvalData => "eval-data.json",
            Recorded::Normalization => "normalization.json",
        }
    }
}

/// A run directory.
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Opens `root`. A fresh run refuses a directory that holds a checkpoint or a finished run;
    /// one that only holds the start of a run that never reached its first checkpoint (a failed
    /// or killed start) is taken over. `--resume` needs the run's `config.json`.
    ///
    /// Returns the directory and whether this call created it (so that a start that fails
    /// before its first checkpoint can remove it again, see [`discard_if_unstarted`]).
    pub fn open(root: &Path, resume: bool) -> Result<(Self, bool)> {
        let dir = Self {
            root: root.to_path_buf(),
        };
        let has_run = latest_checkpoint(root)?.is_some() || dir.root.join("summary.json").is_file();
        if !resume && has_run {
            bail!(
                "{} already holds a run; pass --resume to continue it, or choose another --out",
                root.display()
            );
        }
        if resume && !dir.config_path().is_file() {
            bail!("{} holds no run to resume (no config.json)", root.display());
        }
        if !resume && dir.config_path().is_file() {
            eprintln!(
                "note: {} holds a run that never reached its first checkpoint; starting it anew",
                root.display()
            );
        }
        let created = !root.exists();
        std::fs::create_dir_all(dir.pictures())
            .with_context(|| format!("creating {}", root.display()))?;
        Ok((dir, created))
    }

    /// Whether a checkpoint exists to resume from.
    pub fn has_checkpoint(&self) -> Result<bool> {
        Ok(latest_checkpoint(&self.root)?.is_some())
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// Where the per-epoch pictures go.
    pub fn pictures(&self) -> PathBuf {
        self.root.join("pictures")
    }

    /// The student's weights.
    pub fn student(&self) -> PathBuf {
        self.root.join("student.bpk")
    }

    /// The student of the best epoch by top-1 on the evaluation set.
    pub fn student_best(&self) -> PathBuf {
        self.root.join("student-best.bpk")
    }

    /// Writes `config.json`.
    pub fn write_config(&self, config: &DistillConfig) -> Result<()> {
        write_atomic(&self.config_path(), &serde_json::to_vec_pretty(config)?)?;
        Ok(())
    }

    /// Reads `config.json` (for `--resume`).
    pub fn read_config(&self) -> Result<DistillConfig> {
        let path = self.config_path();
        let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
        DistillConfig::from_json(&bytes)
            .map_err(|e| anyhow::anyhow!("{} is not a run config: {e}", path.display()))
    }

    /// Records what a run chose at its start beyond its config (`eval-data.json`,
    /// `normalization.json`), so that `--resume` keeps it without being told again.
    pub fn record<T: Serialize>(&self, what: Recorded, value: &T) -> Result<()> {
        write_atomic(
            &self.root.join(what.file()),
            &serde_json::to_vec_pretty(value)?,
        )?;
        Ok(())
    }

    /// What [`record`](Self::record) stored, `None` when nothing was (a run made before it was
    /// recorded).
    pub fn recorded<T: serde::de::DeserializeOwned>(&self, what: Recorded) -> Result<Option<T>> {
        let path = self.root.join(what.file());
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a recorded {}", path.display(), what.file()))?;
        Ok(Some(value))
    }

    /// Rewrites `metrics.jsonl` (one line per epoch) and `pictures/training.png` (top-1 and
    /// losses per epoch).
    pub fn write_metrics(&self, history: &[EpochMetrics], teacher_top1: Option<f64>) -> Result<()> {
        let mut lines = Vec::new();
        for m in history {
            serde_json::to_writer(&mut lines, m)?;
            lines.push(b'\n');
        }
        write_atomic(&self.root.join("metrics.jsonl"), &lines)?;
        match crate::plots::training_plot(history, teacher_top1) {
            Ok(Some(img)) => save_png(&img, &self.pictures().join("training.png"))?,
            Ok(None) => {}
            // A plot that cannot be drawn is not worth a run.
            Err(e) => eprintln!("warning: pictures/training.png not drawn: {e}"),
        }
        Ok(())
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> Result<()> {
        write_atomic(
            &self.root.join("summary.json"),
            &serde_json::to_vec_pretty(summary)?,
        )?;
        Ok(())
    }
}

/// Removes the run directory `root` when it holds no checkpoint yet: what a start that failed
/// left behind.
pub fn discard_if_unstarted(root: &Path) {
    if matches!(latest_checkpoint(root), Ok(None)) {
        let _ = std::fs::remove_dir_all(root);
    }
}

/// The summary of `history`.
pub fn summarize(
    config: &DistillConfig,
    history: &[EpochMetrics],
    teacher_top1: Option<f64>,
    eval: Option<(&str, usize)>,
) -> Summary {
    let last = history.last();
    let best = history
        .iter()
        .filter_map(|m| m.accuracy.map(|a| (a.top1, m.epoch)))
        .fold(None, |b: Option<(f64, usize)>, x| match b {
            Some(b) if b.0 >= x.0 => Some(b),
            _ => Some(x),
        });
    Summary {
        method: serde_json::to_value(config.method)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        teacher_top1,
        final_top1: last.and_then(|m| m.accuracy.map(|a| a.top1)),
        final_top5: last.and_then(|m| m.accuracy.map(|a| a.top5)),
        best_top1: best.map(|b| b.0),
        best_epoch: best.map(|b| b.1),
        epochs: history.len(),
        wall_seconds: history.iter().map(|m| m.seconds).sum(),
        pool: last.map(|m| m.pool.clone()).unwrap_or_default(),
        eval_data: eval.map(|e| e.0.to_string()),
        eval_samples: eval.map(|e| e.1),
    }
}
