//! The typed, nested experiment configuration of a distillation run (serde JSON), validated
//! before any work starts; every error names the field (`generation.batch_sizes`).
//!
//! Defaults follow METHOD.md and the paper's CIFAR row of Table 6 where a data set is not
//! implied; presets for particular data sets come with the distillation loop.

use std::path::PathBuf;

use muse_losses::{CamTarget, Radii, RadiiRule};
use muse_models::{AnyClassifier, Arch, ClassifierConfig};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::generation::GeneratorLossWeights;
use crate::label_embedding::LabelEmbeddingSource;
use crate::schedule::{LrSchedule, StudentOptimizer};

/// Which method runs (all from the same code, METHOD.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Several generation resolutions below the native one, CAM and embedding diversity.
    Muse,
    /// One low generation resolution, CAM and embedding diversity.
    MuseS,
    /// Native resolution, no CAM, no embedding diversity.
    Nayer,
}

/// A network of the zoo, optionally with weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Architecture.
    pub arch: Arch,
    /// Channel multiplier.
    #[serde(default = "one")]
    pub width_mult: f64,
    /// Weights file (required for the teacher).
    #[serde(default)]
    pub weights: Option<PathBuf>,
}

fn one() -> f64 {
    1.0
}

fn default_ngf() -> usize {
    64
}

/// Generator side of Algorithm 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationSettings {
    /// Generation resolutions `E` (multiples of 4).
    pub resolutions: Vec<usize>,
    /// Synthetic batch size per resolution.
    pub batch_sizes: Vec<usize>,
    /// Generation iterations `I` per epoch (per resolution).
    pub iterations: usize,
    /// Generator steps `g` per iteration.
    pub steps: usize,
    /// Generation iterations per resolution in each warm-up epoch (NAYER's `gwp_loops`: the
    /// pool is filled faster while the student waits); `None`: `iterations`.
    #[serde(default)]
    pub warmup_iterations: Option<usize>,
    /// Re-initialise every generator in full every this many epochs, counted from the start
    /// and from the end of the warm-up (NAYER's `g_life`, 10); 0 never does.
    #[serde(default)]
    pub reinit_every: usize,
    /// Generator learning rate.
    pub lr: f64,
    /// Spectral normalisation of the generator's convolutions.
    pub spectral_norm: bool,
    /// Generator width: its convolutions have `2·ngf` and `ngf` channels (METHOD.md: 64).
    #[serde(default = "default_ngf")]
    pub ngf: usize,
    /// NAYER's BN-statistics momentum (0 disables).
    pub bn_momentum: f64,
    /// Leave the teacher's last this many BatchNorm layers out of `L_BN` (0: all, the paper).
    /// Deep layers of a teacher fed small images see 2×2 or 1×1 maps, whose batch statistics
    /// differ from the running ones even on real data (docs/results.md, setting (c)).
    #[serde(default)]
    pub bn_skip_last: usize,
    /// CAM target map.
    pub cam_target: CamTarget,
    /// Loss weights of Eq. 11.
    pub weights: GeneratorLossWeights,
}

/// Student side of Algorithm 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentSettings {
    /// Student steps `S` per epoch.
    pub steps: usize,
    /// Pool batch size.
    pub batch_size: usize,
    /// Optimiser and its peak learning rate.
    pub optimizer: StudentOptimizer,
    /// Learning rate over the student epochs.
    pub schedule: LrSchedule,
    /// KL temperature.
    pub tau: f64,
    /// Weight of `L_ED`.
    pub alpha_ed: f64,
}

/// Augmentation applied before teacher and student see an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentSettings {
    /// Random-crop padding as a fraction of the side (METHOD.md: l/8).
    pub crop_fraction: f64,
    /// Random horizontal flips (off for digit-like data).
    pub flip: bool,
}

/// One distillation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillConfig {
    /// Method.
    pub method: Method,
    /// Teacher network and weights.
    pub teacher: ModelSpec,
    /// Student network.
    pub student: ModelSpec,
    /// Classes of the teacher.
    pub num_classes: usize,
    /// Input channels.
    pub channels: usize,
    /// Native (teacher, test) resolution `l`.
    pub native_resolution: usize,
    /// Size of the (unavailable) training set, for the data-ratio budget.
    pub train_size: usize,
    /// Data ratio `d_r` of paper Sec. 4.2.
    pub data_ratio: f64,
    /// Epochs `E`.
    pub epochs: usize,
    /// Epochs without student training and without the adversarial term.
    pub warmup_epochs: usize,
    /// Generator settings.
    pub generation: GenerationSettings,
    /// Student settings.
    pub student_training: StudentSettings,
    /// Augmentation.
    pub augment: AugmentSettings,
    /// Label embeddings.
    pub label_embedding: LabelEmbeddingSource,
    /// Fixed radii of the embedding-diversity game; when absent, `radii_rule` sets them.
    #[serde(default)]
    pub radii: Option<Radii>,
    /// How the radii are chosen when `radii` is absent (default: the paper's rule).
    #[serde(default)]
    pub radii_rule: RadiiRule,
    /// Seed of every random choice.
    pub seed: u64,
}

impl DistillConfig {
    /// Parses a run config from JSON. Unknown fields are errors naming the field, with the
    /// nearest known one suggested (`unknown field `width_mul` … did you mean `width_mult`?`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| with_suggestion(&e.to_string()))
    }

    /// A freshly initialised teacher of this config's shape (load its weights next).
    pub fn teacher_network(
        &self,
        device: &burn::tensor::Device,
    ) -> Result<AnyClassifier, EngineError> {
        self.network(&self.teacher, device)
    }

    /// A freshly initialised student of this config's shape.
    pub fn student_network(
        &self,
        device: &burn::tensor::Device,
    ) -> Result<AnyClassifier, EngineError> {
        self.network(&self.student, device)
    }

    /// The teacher with its weights (`teacher.weights`: Burnpack, or a PyTorch `.pt`/`.pth`/
    /// safetensors state dict).
    pub fn load_teacher(
        &self,
        device: &burn::tensor::Device,
    ) -> Result<AnyClassifier, EngineError> {
        let path = self.teacher.weights.as_ref().ok_or_else(|| {
            EngineError::InvalidConfigs(vec!["`teacher.weights` names no file".into()])
        })?;
        Ok(muse_models::load_classifier(
            &self.classifier_config(&self.teacher),
            path,
            device,
        )?)
    }

    /// The zoo config a [`ModelSpec`] of this run describes.
    pub fn classifier_config(&self, spec: &ModelSpec) -> ClassifierConfig {
        ClassifierConfig::new(spec.arch, self.num_classes)
            .with_in_channels(self.channels)
            .with_width_mult(spec.width_mult)
    }

    fn network(
        &self,
        spec: &ModelSpec,
        device: &burn::tensor::Device,
    ) -> Result<AnyClassifier, EngineError> {
        Ok(self.classifier_config(spec).init(device)?)
    }

    /// Every problem found, one per field, or `Ok`.
    pub fn validate(&self) -> Result<(), EngineError> {
        let mut problems: Vec<String> = Vec::new();
        let mut bad = |field: &str, reason: String| problems.push(format!("`{field}` {reason}"));
        let g = &self.generation;
        let s = &self.student_training;
        for (field, v) in [
            ("num_classes", self.num_classes),
            ("channels", self.channels),
            ("native_resolution", self.native_resolution),
            ("train_size", self.train_size),
            ("epochs", self.epochs),
            ("generation.iterations", g.iterations),
            ("generation.steps", g.steps),
            ("generation.ngf", g.ngf),
            ("student_training.steps", s.steps),
            ("student_training.batch_size", s.batch_size),
        ] {
            if v == 0 {
                bad(field, "must be at least 1".into());
            }
        }
        /// More epochs than any run could finish; a typo or an overflowed number.
        const MAX_EPOCHS: usize = 1_000_000;
        if self.epochs > MAX_EPOCHS {
            bad(
                "epochs",
                format!("{} is more than {MAX_EPOCHS}", self.epochs),
            );
        }
        if self.num_classes == 1 {
            bad("num_classes", "must be at least 2".into());
        }
        if self.warmup_epochs >= self.epochs.max(1) {
            bad(
                "warmup_epochs",
                format!(
                    "({}) must be below epochs ({})",
                    self.warmup_epochs, self.epochs
                ),
            );
        }
        if !(self.data_ratio.is_finite() && self.data_ratio > 0.0 && self.data_ratio <= 1.0) {
            bad(
                "data_ratio",
                format!("must be in (0, 1], got {}", self.data_ratio),
            );
        }
        if g.resolutions.is_empty() {
            bad(
                "generation.resolutions",
                "needs at least one resolution".into(),
            );
        }
        if g.resolutions.len() != g.batch_sizes.len() {
            bad(
                "generation.batch_sizes",
                format!(
                    "has {} entries for {} resolutions",
                    g.batch_sizes.len(),
                    g.resolutions.len()
                ),
            );
        }
        for &r in &g.resolutions {
            if r < 4 || !r.is_multiple_of(4) || r > self.native_resolution {
                bad(
                    "generation.resolutions",
                    format!(
                        "{r} must be a multiple of 4 between 4 and the native {}",
                        self.native_resolution
                    ),
                );
            }
        }
        if g.batch_sizes.contains(&0) {
            bad(
                "generation.batch_sizes",
                "entries must be at least 1".into(),
            );
        }
        match self.method {
            Method::MuseS if g.resolutions.len() != 1 => bad(
                "generation.resolutions",
                "muse-s uses exactly one resolution".into(),
            ),
            Method::Nayer if g.resolutions != [self.native_resolution] => bad(
                "generation.resolutions",
                format!(
                    "nayer generates at the native resolution [{}]",
                    self.native_resolution
                ),
            ),
            _ => {}
        }
        for (field, reason) in s.optimizer.problems() {
            bad(&format!("student_training.optimizer.{field}"), reason);
        }
        for (field, reason) in s.schedule.problems(s.optimizer.lr()) {
            bad(&format!("student_training.schedule.{field}"), reason);
        }
        if g.warmup_iterations == Some(0) {
            bad(
                "generation.warmup_iterations",
                "must be at least 1 (omit it to use `iterations`)".into(),
            );
        }
        for (field, v) in [("generation.lr", g.lr), ("student_training.tau", s.tau)] {
            if !(v.is_finite() && v > 0.0) {
                bad(field, format!("must be positive and finite, got {v}"));
            }
        }
        for (field, v) in [
            ("student_training.alpha_ed", s.alpha_ed),
            ("generation.weights.ce", g.weights.ce),
            ("generation.weights.adv", g.weights.adv),
            ("generation.weights.bn", g.weights.bn),
            ("generation.weights.cam", g.weights.cam),
            ("generation.weights.aed", g.weights.aed),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                bad(field, format!("must be non-negative and finite, got {v}"));
            }
        }
        if !(0.0..1.0).contains(&g.bn_momentum) {
            bad(
                "generation.bn_momentum",
                format!("must be in [0, 1), got {}", g.bn_momentum),
            );
        }
        if !(0.0..=0.5).contains(&self.augment.crop_fraction) {
            bad(
                "augment.crop_fraction",
                format!("must be in [0, 0.5], got {}", self.augment.crop_fraction),
            );
        }
        if self.teacher.weights.is_none() {
            bad(
                "teacher.weights",
                "is required: distillation needs a trained teacher".into(),
            );
        }
        for (field, m) in [
            ("teacher.width_mult", self.teacher.width_mult),
            ("student.width_mult", self.student.width_mult),
        ] {
            if !(m.is_finite() && m > 0.0) {
                bad(field, format!("must be positive and finite, got {m}"));
            }
        }
        if let Some(r) = self.radii
            && !(r.inner.is_finite() && r.outer.is_finite() && r.inner > 0.0 && r.outer > 0.0)
        {
            bad("radii", format!("must be positive and finite, got {r:?}"));
        }
        if let RadiiRule::StudentQuantile { quantile } = self.radii_rule {
            if !(quantile > 0.0 && quantile < 1.0) {
                bad(
                    "radii_rule.quantile",
                    format!("must be in (0, 1), got {quantile}"),
                );
            }
            if self.radii.is_some() {
                bad(
                    "radii_rule",
                    "a student-quantile rule and fixed `radii` both set: keep one".into(),
                );
            }
        }
        if let LabelEmbeddingSource::Text {
            prompt,
            class_names,
            ..
        } = &self.label_embedding
        {
            if class_names.len() != self.num_classes {
                bad(
                    "label_embedding.class_names",
                    format!(
                        "has {} names for {} classes",
                        class_names.len(),
                        self.num_classes
                    ),
                );
            }
            if !prompt.contains("{}") {
                bad(
                    "label_embedding.prompt",
                    format!("{prompt:?} has no {{}} for the name"),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EngineError::InvalidConfigs(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_nets::tiny_config;

    #[test]
    fn a_good_config_validates_and_round_trips_through_json() {
        let c = tiny_config(Method::Muse, vec![8, 12], vec![6, 6]);
        c.validate().unwrap();
        let json = serde_json::to_string_pretty(&c).unwrap();
        assert!(
            json.contains("\"method\": \"muse\"") && json.contains("\"arch\": \"lenet5\""),
            "{json}"
        );
        let back: DistillConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut c = tiny_config(Method::Muse, vec![8, 12], vec![6, 6]);
        c.data_ratio = 0.0;
        c.generation.batch_sizes = vec![130];
        c.generation.resolutions = vec![20, 30];
        c.student_training.optimizer = StudentOptimizer::Sgd {
            lr: f64::NAN,
            momentum: 1.5,
            weight_decay: 0.0,
            nesterov: false,
        };
        c.teacher.weights = None;
        c.warmup_epochs = 20;
        c.epochs = usize::MAX;
        let err = c.validate().unwrap_err().to_string();
        for field in [
            "`data_ratio`",
            "`generation.batch_sizes`",
            "`generation.resolutions` 30",
            "`student_training.optimizer.lr`",
            "`student_training.optimizer.momentum`",
            "`teacher.weights`",
            "`epochs` 18446744073709551615 is more than 1000000",
        ] {
            assert!(err.contains(field), "{field} missing from: {err}");
        }
        c.epochs = 3;
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("`warmup_epochs` (20) must be below epochs (3)"),
            "{err}"
        );
        let mut c = tiny_config(Method::Muse, vec![8, 12], vec![6, 6]);
        c.method = Method::Nayer;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("native resolution")
        );
        c.method = Method::MuseS;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`" with "; did you mean `a`?" added when a
/// known field is within two edits of `x`.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((unknown, known)) = rest.split_once('`') else {
        return message.to_string();
    };
    let nearest = known
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|k| (edit_distance(unknown, k), k))
        .min();
    match nearest {
        Some((d, k)) if d <= 2 => {
            // serde appends " at line L column C": keep it last.
            match message.rsplit_once(" at line ") {
                Some((head, tail)) => format!("{head}; did you mean `{k}`? (at line {tail})"),
                None => format!("{message}; did you mean `{k}`?"),
            }
        }
        _ => message.to_string(),
    }
}

/// Levenshtein distance between `a` and `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn a_misspelt_field_gets_the_nearest_known_one() {
        let mut json =
            serde_json::to_value(crate::preset("tiny", Method::Muse, 0.1).unwrap()).unwrap();
        let student = json["student"].as_object_mut().unwrap();
        let w = student.remove("width_mult").unwrap();
        student.insert("width_mul".into(), w);
        let err = DistillConfig::from_json(json.to_string().as_bytes()).unwrap_err();
        assert!(
            err.contains("unknown field `width_mul`") && err.contains("did you mean `width_mult`?"),
            "{err}"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        // Nothing near: no suggestion.
        assert_eq!(
            with_suggestion("unknown field `zzzzzz`, expected `arch`"),
            "unknown field `zzzzzz`, expected `arch`"
        );
    }
}
