//! Checkpoints of a distillation run and `--resume`.
//!
//! A checkpoint is a directory `checkpoint-NNNN` (NNNN = the next epoch to run) holding
//! everything an epoch's result depends on: the student and its projection head, every
//! generator (with its spectral-norm vectors), the student's optimiser state (SGD momentum or AdamW moments), the pool, NAYER's BN
//! momentum averages, the label embeddings and radii, and the metrics so far. Generator
//! optimisers are rebuilt every generation iteration and the learning rate and every random
//! choice are functions of `(seed, epoch)`, so nothing else is needed: a resumed run ends where
//! an uninterrupted one would.
//!
//! Writing never endangers the previous checkpoint: the new directory is filled first, then the
//! one-line file `latest` is replaced atomically to name it, and only then is the old directory
//! removed. A crash at any point leaves `latest` naming a complete checkpoint.
//!
//! Its last file, `MANIFEST`, holds the CRC-32 of every other file and of the teacher's weights;
//! `--resume` checks them all before it reads anything, so a flipped bit in `student.bpk` or
//! `optimizer.bpk`, or a teacher replaced since, is an error naming the file rather than a
//! silently different run.

use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData};
use muse_data::Normalization;
use muse_losses::{BnMomentum, Radii};
use muse_models::{Classifier, load_model, save_model};
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::card::file_crc32;
use crate::config::DistillConfig;
use crate::distill::{Distiller, EpochMetrics};
use crate::error::EngineError;
use crate::label_embedding::LabelEmbeddings;
use crate::pool::SyntheticPool;

/// 2: the student optimiser became a typed choice (SGD or AdamW) with its schedule.
/// 3: a `MANIFEST` of checksums covers every file of the checkpoint and the teacher's weights.
const FORMAT: u32 = 3;
const LATEST: &str = "latest";
const MANIFEST: &str = "MANIFEST";

/// One layer's averaged `(mean, variance)`.
type BnAverage = (Vec<f32>, Vec<f32>);

/// The part of a checkpoint that is not tensors of a module.
#[derive(Serialize, Deserialize)]
struct State {
    format: u32,
    /// The next epoch to run.
    epoch: usize,
    config: DistillConfig,
    label_embeddings: Option<Vec<Vec<f32>>>,
    radii: Option<Radii>,
    /// Per resolution, per BN layer.
    bn_averages: Vec<Option<Vec<BnAverage>>>,
    history: Vec<EpochMetrics>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}

/// The directory `latest` in `run_dir` names, if there is one.
pub fn latest_checkpoint(run_dir: &Path) -> Result<Option<PathBuf>, EngineError> {
    let pointer = run_dir.join(LATEST);
    if !pointer.is_file() {
        return Ok(None);
    }
    let name = std::fs::read_to_string(&pointer).map_err(io(&pointer))?;
    let dir = run_dir.join(name.trim());
    if name.trim().is_empty() || !dir.join("state.json").is_file() {
        return Err(EngineError::Corrupt {
            path: pointer,
            what: format!(
                "names `{}`, which is not a complete checkpoint",
                name.trim()
            ),
        });
    }
    Ok(Some(dir))
}

/// The manifest line of the teacher's weights (they live outside the checkpoint).
const TEACHER_ENTRY: &str = "<teacher>";

/// Writes `dir/MANIFEST`: `crc32 name` for every file in `dir`, then for the teacher's weights.
fn write_manifest(dir: &Path, teacher: Option<&Path>) -> Result<(), EngineError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != MANIFEST)
        .collect();
    names.sort();
    let mut text = String::new();
    for name in names {
        text.push_str(&format!("{:08x} {name}\n", file_crc32(&dir.join(&name))?));
    }
    if let Some(t) = teacher.filter(|t| t.is_file()) {
        text.push_str(&format!("{:08x} {TEACHER_ENTRY}\n", file_crc32(t)?));
    }
    write_atomic(&dir.join(MANIFEST), text.as_bytes())
}

/// Checks every checksum of `dir/MANIFEST`; the first file that differs is an error naming it.
fn check_manifest(dir: &Path, teacher: Option<&Path>) -> Result<(), EngineError> {
    let path = dir.join(MANIFEST);
    if !path.is_file() {
        return Err(EngineError::Corrupt {
            path,
            what: format!(
                "missing: the checkpoint was written before format {FORMAT} (by an older \
                 muse-rs) and cannot be checked; start the run anew"
            ),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let corrupt = |what: String| EngineError::Corrupt {
        path: path.clone(),
        what,
    };
    for line in text.lines() {
        let (crc, name) = line
            .split_once(' ')
            .ok_or_else(|| corrupt(format!("malformed line `{line}`")))?;
        let want = u32::from_str_radix(crc, 16)
            .map_err(|_| corrupt(format!("malformed checksum in `{line}`")))?;
        let file = match name {
            TEACHER_ENTRY => match teacher {
                Some(t) => t.to_path_buf(),
                None => continue,
            },
            _ if name.contains(['/', '\\']) || name == ".." => {
                return Err(corrupt(format!(
                    "names a file outside the checkpoint: `{name}`"
                )));
            }
            _ => dir.join(name),
        };
        let found = file_crc32(&file)?;
        if found != want {
            return Err(EngineError::Corrupt {
                path: file,
                what: format!(
                    "checksum {found:08x} differs from the {want:08x} {} recorded when the \
                     checkpoint was written ({}); the run cannot be resumed from it unchanged",
                    MANIFEST,
                    if name == TEACHER_ENTRY {
                        "the teacher's weights changed since"
                    } else {
                        "the file was damaged"
                    }
                ),
            });
        }
    }
    Ok(())
}

impl<T: Classifier, S: Classifier> Distiller<T, S> {
    /// Writes a checkpoint of the current state into `run_dir` (see the module docs); returns
    /// its directory.
    pub fn save_checkpoint(&self, run_dir: &Path) -> Result<PathBuf, EngineError> {
        std::fs::create_dir_all(run_dir).map_err(io(run_dir))?;
        let name = format!("checkpoint-{:04}", self.epoch);
        let dir = run_dir.join(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        save_model(&self.student, &dir.join("student.bpk"))?;
        save_model(&self.projection, &dir.join("projection.bpk"))?;
        for (r, g) in self.generators.generators.iter().enumerate() {
            save_model(g, &dir.join(format!("generator-{r}.bpk")))?;
        }
        let optim_path = dir.join("optimizer.bpk");
        self.optim
            .save(&optim_path)
            .map_err(|e| EngineError::Corrupt {
                path: optim_path.clone(),
                what: format!("cannot write the optimizer state: {e}"),
            })?;
        self.pool.save(&dir.join("pool.musepool"))?;
        let state = State {
            format: FORMAT,
            epoch: self.epoch,
            config: self.config.clone(),
            label_embeddings: self.label_embeddings.as_ref().map(|e| e.rows().to_vec()),
            radii: self.radii,
            bn_averages: self
                .bn_momentum
                .iter()
                .map(|m| {
                    m.average().map(|layers| {
                        layers
                            .iter()
                            .map(|(mean, var)| (values(mean.clone()), values(var.clone())))
                            .collect()
                    })
                })
                .collect(),
            history: self.history.clone(),
        };
        let json = serde_json::to_vec_pretty(&state).map_err(|e| EngineError::Corrupt {
            path: dir.join("state.json"),
            what: e.to_string(),
        })?;
        write_atomic(&dir.join("state.json"), &json)?;
        write_manifest(&dir, self.config.teacher.weights.as_deref())?;
        write_atomic(&run_dir.join(LATEST), name.as_bytes())?;
        // The new checkpoint is in place; older ones can go.
        for entry in std::fs::read_dir(run_dir).map_err(io(run_dir))?.flatten() {
            let n = entry.file_name().to_string_lossy().to_string();
            if n.starts_with("checkpoint-") && n != name {
                std::fs::remove_dir_all(entry.path()).map_err(io(&entry.path()))?;
            }
        }
        Ok(dir)
    }

    /// Builds a distiller like [`new`](Self::new) and restores the checkpoint `latest` names in
    /// `run_dir`. The config must equal the checkpointed one (a changed config would not end
    /// where the original run would), except for more epochs: the run then goes on to the new
    /// total, its schedule spanning it from the resumed epoch. A missing, truncated, damaged
    /// (checksum) or foreign file is an error naming it.
    pub fn resume(
        config: DistillConfig,
        teacher: T,
        student: S,
        normalization: Normalization,
        device: &burn::tensor::Device,
        run_dir: &Path,
    ) -> Result<Self, EngineError> {
        let dir = latest_checkpoint(run_dir)?.ok_or_else(|| EngineError::Io {
            path: run_dir.join(LATEST),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint to resume"),
        })?;
        check_manifest(&dir, config.teacher.weights.as_deref())?;
        let state_path = dir.join("state.json");
        let bytes = std::fs::read(&state_path).map_err(io(&state_path))?;
        let state: State = serde_json::from_slice(&bytes).map_err(|e| EngineError::Corrupt {
            path: state_path.clone(),
            what: e.to_string(),
        })?;
        if state.format != FORMAT {
            return Err(EngineError::Corrupt {
                path: state_path,
                what: format!("unsupported checkpoint format {}", state.format),
            });
        }
        // The one change a resumed run takes: more epochs. The learning-rate schedule then
        // spans the new total from the resumed epoch on.
        let extended = DistillConfig {
            epochs: config.epochs,
            ..state.config.clone()
        };
        if extended != config || config.epochs < state.config.epochs {
            return Err(EngineError::Mismatch(format!(
                "the config differs from the one {} was written with (only more epochs may be \
                 asked of a resumed run); resume with the run's own config.json",
                dir.display()
            )));
        }
        let mut d = Self::new(config, teacher, student, normalization, device)?;
        d.student = load_model(d.student, &dir.join("student.bpk"))?;
        d.projection = load_model(d.projection, &dir.join("projection.bpk"))?;
        let generators = std::mem::take(&mut d.generators.generators);
        d.generators.generators = generators
            .into_iter()
            .enumerate()
            .map(|(r, g)| load_model(g, &dir.join(format!("generator-{r}.bpk"))))
            .collect::<Result<_, _>>()?;
        let optim_path = dir.join("optimizer.bpk");
        d.optim = d
            .config
            .student_training
            .optimizer
            .init()
            .load(&optim_path)
            .map_err(|e| EngineError::Corrupt {
                path: optim_path,
                what: format!("cannot read the optimizer state: {e}"),
            })?;
        let pool = SyntheticPool::load(&dir.join("pool.musepool"))?;
        let fits = pool.shards().len() == d.pool.shards().len()
            && pool
                .shards()
                .iter()
                .zip(d.pool.shards())
                .all(|(a, b)| (a.resolution, a.capacity) == (b.resolution, b.capacity));
        if !fits {
            return Err(EngineError::Corrupt {
                path: dir.join("pool.musepool"),
                what: "its resolutions or budgets differ from the config's".into(),
            });
        }
        d.pool = pool;
        let k = d.config.num_classes;
        d.label_embeddings = state
            .label_embeddings
            .map(|rows| LabelEmbeddings::new(rows, k, "checkpoint"))
            .transpose()?;
        d.radii = state.radii;
        if state.bn_averages.len() != d.bn_momentum.len() {
            return Err(EngineError::Corrupt {
                path: state_path,
                what: "BN momentum averages for a different number of resolutions".into(),
            });
        }
        let device = d.device.clone();
        let tensor = |v: Vec<f32>| {
            let n = v.len();
            Tensor::<1>::from_data(TensorData::new(v, [n]), &device)
        };
        d.bn_momentum = state
            .bn_averages
            .into_iter()
            .zip(&d.bn_momentum)
            .map(|(avg, m)| {
                BnMomentum::new(m.rate()).with_average(avg.map(|layers| {
                    layers
                        .into_iter()
                        .map(|(mean, var)| (tensor(mean), tensor(var)))
                        .collect()
                }))
            })
            .collect();
        d.epoch = state.epoch;
        d.history = state.history;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Method;
    use crate::observer::Silent;
    use crate::test_nets::{tiny_config, tiny_student, tiny_teacher};

    #[test]
    fn resume_refuses_a_changed_config_and_a_broken_checkpoint() {
        let device = muse_device::autodiff_device();
        let config = tiny_config(Method::MuseS, vec![8], vec![6]);
        let norm = Normalization::identity(1);
        let dir = tempfile::tempdir().unwrap();
        let mut d = Distiller::new(
            config.clone(),
            tiny_teacher(&device),
            tiny_student(&device),
            norm.clone(),
            &device,
        )
        .unwrap();
        d.run_epoch(None, &mut Silent).unwrap();
        let ckpt = d.save_checkpoint(dir.path()).unwrap();
        let resume = |c: DistillConfig| {
            Distiller::resume(
                c,
                tiny_teacher(&device),
                tiny_student(&device),
                norm.clone(),
                &device,
                dir.path(),
            )
        };
        let mut changed = config.clone();
        changed.seed += 1;
        assert!(matches!(resume(changed), Err(EngineError::Mismatch(_))));
        // One flipped bit in the student's or the optimiser's state: named, not resumed.
        for name in ["student.bpk", "optimizer.bpk"] {
            let file = ckpt.join(name);
            let good = std::fs::read(&file).unwrap();
            let mut bad = good.clone();
            let i = bad.len() - 9;
            bad[i] ^= 0x10;
            std::fs::write(&file, &bad).unwrap();
            let err = resume(config.clone()).err().unwrap().to_string();
            assert!(err.contains(name) && err.contains("checksum"), "{err}");
            std::fs::write(&file, &good).unwrap();
        }
        assert!(resume(config.clone()).is_ok());
        // Truncate the pool: the error names the file.
        let pool = ckpt.join("pool.musepool");
        let bytes = std::fs::read(&pool).unwrap();
        std::fs::write(&pool, &bytes[..bytes.len() / 2]).unwrap();
        let err = resume(config.clone()).err().unwrap().to_string();
        assert!(err.contains("pool.musepool"), "{err}");
        // A pointer to nothing.
        std::fs::write(dir.path().join("latest"), "checkpoint-0042").unwrap();
        assert!(matches!(resume(config), Err(EngineError::Corrupt { .. })));
    }
}
