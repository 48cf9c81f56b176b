//! Algorithm 1 of the MUSE paper, one epoch at a time (METHOD.md §5): per resolution, `I`
//! generation iterations that fill the pool until its budget is used; after the warm-up, `S`
//! student steps on pool batches; then evaluation on real data at native resolution.
//!
//! Every random choice of an epoch is drawn from generators seeded by `(seed, epoch)`, so an
//! epoch's result depends only on the state at its start. Checkpoints and `--resume` build on
//! this (not written yet).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor};
use muse_data::{ImageDataset, Normalization};
use muse_generator::{GeneratorConfig, GeneratorSet, GeneratorSetConfig};
use muse_losses::{BnMomentum, Radii, RadiiRule};
use muse_models::{BnStats, Classifier, materialize, sync_running_stats};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::config::DistillConfig;
use crate::error::EngineError;
use crate::evaluate::{Accuracy, evaluate};
use crate::generation::{GenerationContext, GeneratorLosses, check_bn_skip, generation_iteration};
use crate::label_embedding::{LabelEmbeddingSource, LabelEmbeddings};
use crate::observer::Observer;
use crate::pool::{SyntheticPool, pool_capacities};
use crate::student::{StudentContext, StudentLosses, student_step};

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Mean losses of the kept batches, per resolution (empty once the pool is full).
    pub generator: Vec<GeneratorLosses>,
    /// Mean student losses (zero during warm-up).
    pub student: StudentLosses,
    /// Student learning rate used.
    pub lr: f64,
    /// Images in the pool, per resolution.
    pub pool: Vec<usize>,
    /// Accuracy on the evaluation set, when one was given.
    pub accuracy: Option<Accuracy>,
    /// Wall-clock seconds of the epoch (generation, student steps and evaluation).
    pub seconds: f64,
    /// Radii of the embedding-diversity game this epoch's generation and student steps used
    /// (absent in runs before they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radii: Option<Radii>,
}

/// `batch` labels with every class equally often, in class order, the remainder drawn without
/// repetition: each noisy layer (one per `num_classes` samples) sees every class once.
pub fn balanced_labels(batch: usize, num_classes: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut labels: Vec<usize> = (0..batch - batch % num_classes)
        .map(|i| i % num_classes)
        .collect();
    let mut rest: Vec<usize> = (0..num_classes).collect();
    rest.shuffle(rng);
    labels.extend(rest.into_iter().take(batch % num_classes));
    labels
}

/// The state of a distillation run.
pub struct Distiller<T: Classifier, S: Classifier> {
    pub(crate) config: DistillConfig,
    pub(crate) teacher: T,
    pub(crate) student: S,
    pub(crate) projection: Linear,
    pub(crate) generators: GeneratorSet,
    pub(crate) pool: SyntheticPool,
    pub(crate) label_embeddings: Option<LabelEmbeddings>,
    pub(crate) radii: Option<Radii>,
    pub(crate) bn_momentum: Vec<BnMomentum>,
    pub(crate) optim: ModuleOptimizer,
    pub(crate) normalization: Normalization,
    pub(crate) epoch: usize,
    pub(crate) history: Vec<EpochMetrics>,
    pub(crate) device: Device,
}

impl<T: Classifier, S: Classifier> Distiller<T, S> {
    /// Validates the config against the networks and builds generators, pool and optimizer.
    /// `device` must be an autodiff device; `teacher` is frozen here.
    pub fn new(
        config: DistillConfig,
        teacher: T,
        student: S,
        normalization: Normalization,
        device: &Device,
    ) -> Result<Self, EngineError> {
        config.validate()?;
        normalization.validate()?;
        let k = config.num_classes;
        for (who, m) in [
            ("teacher", teacher.num_classes()),
            ("student", student.num_classes()),
        ] {
            if m != k {
                return Err(EngineError::Mismatch(format!(
                    "the {who} has {m} classes, the config {k}"
                )));
            }
        }
        teacher.check_input([
            1,
            config.channels,
            config.native_resolution,
            config.native_resolution,
        ])?;
        if config.generation.bn_skip_last > 0 {
            // Count the teacher's BatchNorms on a probe batch before any work (a frozen clone:
            // the teacher's running statistics must not see the probe).
            let (c, l) = (config.channels, config.native_resolution);
            let probe = Tensor::<4>::zeros([2, c, l, l], device);
            let layers = teacher
                .clone()
                .frozen()
                .forward_taps(probe, BnStats::Record)
                .bn
                .len();
            check_bn_skip(config.generation.bn_skip_last, layers)?;
        }
        let label_embeddings = match &config.label_embedding {
            LabelEmbeddingSource::File(path) => Some(LabelEmbeddings::load(path, k)?),
            LabelEmbeddingSource::ClassCenter => None,
            LabelEmbeddingSource::Text {
                model_dir,
                prompt,
                class_names,
            } => Some(LabelEmbeddings::from_text(
                model_dir.as_deref(),
                prompt,
                class_names,
                k,
                device,
            )?),
        };
        // Generators and projection head start from the run's seed.
        device.seed(config.seed);
        let dim = label_embeddings
            .as_ref()
            .map_or(teacher.embedding_dim(), LabelEmbeddings::dim);
        let g = &config.generation;
        let generators = generator_set(&config, dim, device)?;
        let capacities = pool_capacities(
            config.data_ratio,
            config.train_size,
            config.native_resolution,
            &g.resolutions,
        );
        let pool = SyntheticPool::new(config.channels, &g.resolutions, &capacities);
        let radii = match (config.radii, &label_embeddings) {
            (Some(r), _) => Some(r),
            (None, Some(e)) => Some(Radii::from_embeddings(e.rows())?),
            (None, None) => None,
        };
        let projection = LinearConfig::new(student.embedding_dim(), dim).init(device);
        let optim = config.student_training.optimizer.init();
        // Generation freezes clones of the student and projection head; with Burn's lazy
        // initialisation that would freeze the originals too (see `muse_models::materialize`).
        materialize(&student);
        materialize(&projection);
        Ok(Self {
            bn_momentum: g
                .resolutions
                .iter()
                .map(|_| BnMomentum::new(g.bn_momentum))
                .collect(),
            config,
            teacher: teacher.frozen(),
            student,
            projection,
            generators,
            pool,
            label_embeddings,
            radii,
            optim,
            normalization,
            epoch: 0,
            history: Vec::new(),
            device: device.clone(),
        })
    }

    /// The student as trained so far.
    pub fn student(&self) -> &S {
        &self.student
    }

    /// The pool.
    pub fn pool(&self) -> &SyntheticPool {
        &self.pool
    }

    /// The next epoch to run.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The metrics of every epoch run so far (restored by [`resume`](Self::resume)).
    pub fn history(&self) -> &[EpochMetrics] {
        &self.history
    }

    /// The run's config.
    pub fn config(&self) -> &DistillConfig {
        &self.config
    }

    /// The projection head of `L_ED` (student embedding → label-embedding space).
    pub fn projection(&self) -> &Linear {
        &self.projection
    }

    /// The generators, one per resolution.
    pub fn generators(&self) -> &GeneratorSet {
        &self.generators
    }

    /// The frozen teacher.
    pub fn teacher(&self) -> &T {
        &self.teacher
    }

    /// The normalisation applied before teacher and student.
    pub fn normalization(&self) -> &Normalization {
        &self.normalization
    }

    /// The (autodiff) device the run trains on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The label embeddings, once known (class centres are computed in the first epoch).
    pub fn label_embeddings(&self) -> Option<&LabelEmbeddings> {
        self.label_embeddings.as_ref()
    }

    /// Class centres of the teacher's embeddings on one batch generated from random label
    /// embeddings (paper Sec. 3.3); classes absent from the batch keep their random vector.
    fn class_centres(&mut self, rng: &mut StdRng) -> Result<LabelEmbeddings, EngineError> {
        let k = self.config.num_classes;
        let dim = self.teacher.embedding_dim();
        let seed_rows: Vec<Vec<f32>> = (0..k)
            .map(|_| (0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect())
            .collect();
        let seed = LabelEmbeddings::new(seed_rows.clone(), k, "random start")?;
        let batch = self.config.generation.batch_sizes[0];
        let labels = balanced_labels(batch.min(self.generators.generators[0].max_batch()), k, rng);
        let f_y = seed.to_tensor(&self.device);
        let y = Tensor::<1, burn::tensor::Int>::from_data(
            burn::tensor::TensorData::new(
                labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
                [labels.len()],
            ),
            &self.device,
        );
        let x = self.generators.generators[0]
            .forward(f_y.select(0, y))?
            .detach();
        let emb = self
            .teacher
            .forward_taps(self.normalization.apply(x)?, BnStats::Skip)
            .embedding
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| EngineError::Mismatch(format!("embeddings: {e:?}")))?;
        let mut sums = vec![vec![0f64; dim]; k];
        let mut counts = vec![0usize; k];
        for (i, &l) in labels.iter().enumerate() {
            counts[l] += 1;
            for d in 0..dim {
                sums[l][d] += emb[i * dim + d] as f64;
            }
        }
        let rows = (0..k)
            .map(|c| match counts[c] {
                0 => seed_rows[c].clone(),
                n => sums[c].iter().map(|s| (s / n as f64) as f32).collect(),
            })
            .collect();
        LabelEmbeddings::new(rows, k, "class centres")
    }

    /// Runs the next epoch; evaluates on `eval` (real data at native resolution) when given.
    pub fn run_epoch(
        &mut self,
        eval: Option<(&ImageDataset, &Normalization)>,
        observer: &mut dyn Observer,
    ) -> Result<EpochMetrics, EngineError> {
        let started = std::time::Instant::now();
        let epoch = self.epoch;
        if epoch >= self.config.epochs {
            return Err(EngineError::InvalidConfig {
                field: "epochs",
                reason: format!("all {} epochs have run", self.config.epochs),
            });
        }
        let cfg = self.config.clone();
        let seed = cfg.seed ^ ((epoch as u64 + 1) << 32);
        self.device.seed(seed);
        let mut rng = StdRng::seed_from_u64(seed);
        if self.label_embeddings.is_none() {
            let e = self.class_centres(&mut rng)?;
            self.radii = Some(
                cfg.radii
                    .map_or_else(|| Radii::from_embeddings(e.rows()), Ok)?,
            );
            self.label_embeddings = Some(e);
        }
        let f_y = self
            .label_embeddings
            .as_ref()
            .expect("set above")
            .to_tensor(&self.device);
        let radii = self.radii.expect("set with the embeddings");
        if !self.pool.is_full() && reinit_due(epoch, cfg.warmup_epochs, cfg.generation.reinit_every)
        {
            self.generators = generator_set(&cfg, f_y.dims()[1], &self.device)?;
        }
        let (use_cam, use_ed) = match cfg.method {
            crate::config::Method::Nayer => (false, false),
            _ => (true, true),
        };
        let mut weights = cfg.generation.weights.clone();
        if !use_cam {
            weights.cam = 0.0;
        }
        if !use_ed {
            weights.aed = 0.0;
        }
        let alpha_ed = if use_ed {
            cfg.student_training.alpha_ed
        } else {
            0.0
        };

        // Generation, per resolution, until the pool is full.
        let mut gen_means = Vec::new();
        if !self.pool.is_full() {
            sync_running_stats(&self.student);
            let student = self.student.clone().freeze();
            let projection = self.projection.clone().freeze();
            let generators = std::mem::take(&mut self.generators.generators);
            let mut trained = Vec::with_capacity(generators.len());
            for (r, mut generator) in generators.into_iter().enumerate() {
                let res = cfg.generation.resolutions[r];
                let ctx = GenerationContext {
                    teacher: &self.teacher,
                    student: &student,
                    projection: Some(&projection),
                    label_embeddings: &f_y,
                    normalization: &self.normalization,
                    weights: &weights,
                    cam_target: cfg.generation.cam_target,
                    radii,
                    adversarial: epoch >= cfg.warmup_epochs,
                    bn_skip_last: cfg.generation.bn_skip_last,
                    crop_padding: (cfg.augment.crop_fraction * res as f64).round() as usize,
                    flip: cfg.augment.flip,
                    lr: cfg.generation.lr,
                };
                let mut sum = GeneratorLosses::default();
                let mut n = 0;
                let iterations = match cfg.generation.warmup_iterations {
                    Some(n) if epoch < cfg.warmup_epochs => n,
                    _ => cfg.generation.iterations,
                };
                observer.phase_started(&format!("gen {res}px"), iterations);
                for _ in 0..iterations {
                    if self.pool.shards()[r].is_full() {
                        break;
                    }
                    let labels =
                        balanced_labels(cfg.generation.batch_sizes[r], cfg.num_classes, &mut rng);
                    let out = generation_iteration(
                        generator,
                        &ctx,
                        &labels,
                        cfg.generation.steps,
                        &mut self.bn_momentum[r],
                        &mut rng,
                        &self.device,
                    )
                    .map_err(|e| located(e, epoch, None))?;
                    generator = out.generator;
                    self.pool.add(r, out.images, &labels)?;
                    let l = out.losses;
                    for (acc, v) in [
                        (&mut sum.ce, l.ce),
                        (&mut sum.adv, l.adv),
                        (&mut sum.bn, l.bn),
                        (&mut sum.cam, l.cam),
                        (&mut sum.aed, l.aed),
                        (&mut sum.total, l.total),
                    ] {
                        *acc += v;
                    }
                    n += 1;
                    observer.step(Some(l.total));
                }
                observer.phase_finished();
                trained.push(generator);
                if n > 0 {
                    let d = n as f32;
                    gen_means.push(GeneratorLosses {
                        ce: sum.ce / d,
                        adv: sum.adv / d,
                        bn: sum.bn / d,
                        cam: sum.cam / d,
                        aed: sum.aed / d,
                        total: sum.total / d,
                    });
                }
            }
            self.generators.generators = trained;
        }

        // Student training after the warm-up.
        let mut student_mean = StudentLosses::default();
        let lr = if epoch >= cfg.warmup_epochs {
            cfg.student_training.schedule.lr(
                cfg.student_training.optimizer.lr(),
                epoch - cfg.warmup_epochs,
                cfg.epochs - cfg.warmup_epochs,
            )
        } else {
            0.0
        };
        let mut distances = Vec::new();
        if epoch >= cfg.warmup_epochs && !self.pool.is_empty() {
            let steps = cfg.student_training.steps;
            observer.phase_started("student", steps);
            for step in 0..steps {
                let (shard, images, labels) =
                    self.pool
                        .sample(cfg.student_training.batch_size, &mut rng, &self.device)?;
                let res = self.pool.shards()[shard].resolution;
                let ctx = StudentContext {
                    teacher: &self.teacher,
                    label_embeddings: &f_y,
                    normalization: &self.normalization,
                    tau: cfg.student_training.tau,
                    alpha_ed,
                    radii,
                    crop_padding: (cfg.augment.crop_fraction * res as f64).round() as usize,
                    flip: cfg.augment.flip,
                };
                let student = self.student.clone();
                let projection = self.projection.clone();
                let out = student_step(
                    student,
                    projection,
                    &mut self.optim,
                    lr,
                    &ctx,
                    images,
                    labels,
                    &mut rng,
                )
                .map_err(|e| located(e, epoch, Some(step)))?;
                self.student = out.student;
                self.projection = out.projection;
                distances.extend(out.distances);
                let l = out.losses;
                student_mean.kl += l.kl / steps as f32;
                student_mean.ed += l.ed / steps as f32;
                student_mean.total += l.total / steps as f32;
                observer.step(Some(l.total));
            }
            observer.phase_finished();
            if let RadiiRule::StudentQuantile { quantile } = cfg.radii_rule
                && cfg.radii.is_none()
                && !distances.is_empty()
            {
                self.radii = Some(
                    Radii::from_student_distances(&distances, quantile)
                        .map_err(|e| located(e.into(), epoch, None))?,
                );
            }
        }

        let accuracy = match eval {
            Some((data, norm)) => Some(evaluate(
                &self.student,
                data,
                norm,
                500,
                &self.device,
                observer,
            )?),
            None => None,
        };
        let metrics = EpochMetrics {
            epoch,
            generator: gen_means,
            student: student_mean,
            lr,
            pool: self.pool.shards().iter().map(|s| s.len()).collect(),
            accuracy,
            seconds: started.elapsed().as_secs_f64(),
            radii: Some(radii),
        };
        self.epoch += 1;
        self.history.push(metrics.clone());
        Ok(metrics)
    }
}

/// One freshly initialised generator per resolution of `config` (materialised: see
/// [`materialize`]), conditioned on label embeddings of size `dim`.
fn generator_set(
    config: &DistillConfig,
    dim: usize,
    device: &Device,
) -> Result<GeneratorSet, EngineError> {
    let g = &config.generation;
    let base = GeneratorConfig::new(
        dim,
        config.num_classes,
        g.resolutions[0],
        config.channels,
        g.batch_sizes[0],
    )
    .with_spectral_norm(g.spectral_norm)
    .with_ngf(g.ngf);
    let set =
        GeneratorSetConfig::new(g.resolutions.clone(), g.batch_sizes.clone(), base).init(device)?;
    for g in &set.generators {
        materialize(g);
    }
    Ok(set)
}

/// Whether NAYER's full generator re-initialisation happens at the start of `epoch`: every
/// `every` epochs counted from the start and from the end of the warm-up (`g_life`), never
/// at epoch 0 (the generators are new then).
pub(crate) fn reinit_due(epoch: usize, warmup: usize, every: usize) -> bool {
    every > 0
        && epoch > 0
        && (epoch.is_multiple_of(every)
            || (epoch >= warmup && (epoch - warmup).is_multiple_of(every)))
}

/// Puts the epoch (and the step, when the caller knows it better) into a non-finite-loss error.
fn located(e: EngineError, epoch: usize, step: Option<usize>) -> EngineError {
    match e {
        EngineError::NonFinite {
            loss,
            value,
            step: inner,
            ..
        } => EngineError::NonFinite {
            loss,
            value,
            epoch,
            step: step.unwrap_or(inner),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Method;
    use crate::observer::Silent;
    use crate::test_nets::{tiny_config, tiny_student, tiny_teacher};

    /// (trainable, all) float parameters; BatchNorm running statistics count as untrainable.
    fn trainable<M: Module>(m: &M) -> (usize, usize) {
        struct Count(usize, usize);
        impl burn::module::ModuleVisitor for Count {
            fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<D>>) {
                self.0 += usize::from(p.val().is_require_grad());
                self.1 += 1;
            }
        }
        let mut c = Count(0, 0);
        m.visit(&mut c);
        (c.0, c.1)
    }

    #[test]
    fn balanced_labels_cover_each_class_equally() {
        let mut rng = StdRng::seed_from_u64(0);
        let l = balanced_labels(7, 3, &mut rng);
        assert_eq!(&l[..6], &[0, 1, 2, 0, 1, 2]);
        assert!(l[6] < 3);
        let l = balanced_labels(5, 3, &mut rng);
        assert_ne!(l[3], l[4], "the remainder repeats no class");
    }

    type TinyDistiller = Distiller<muse_models::AnyClassifier, muse_models::AnyClassifier>;

    fn tiny_distiller(
        method: Method,
        resolutions: Vec<usize>,
        batches: Vec<usize>,
    ) -> TinyDistiller {
        distiller_from(tiny_config(method, resolutions, batches))
    }

    /// The tiny teacher and student on the autodiff device, distilled with `config`.
    fn distiller_from(config: DistillConfig) -> TinyDistiller {
        let device = muse_device::autodiff_device();
        let (teacher, student) = (tiny_teacher(&device), tiny_student(&device));
        Distiller::new(
            config,
            teacher,
            student,
            Normalization::identity(1),
            &device,
        )
        .unwrap()
    }

    #[test]
    fn muse_epochs_fill_the_pool_within_budget_and_train_the_student() {
        let mut d = tiny_distiller(Method::Muse, vec![8, 12], vec![6, 6]);
        let before = d.student().head().weight.val().into_data();
        let warm = d.run_epoch(None, &mut Silent).unwrap();
        assert_eq!(warm.generator.len(), 2);
        assert_eq!(
            warm.student,
            StudentLosses::default(),
            "no student training in warm-up"
        );
        // Budget: 0.1 · 300 / 2 = 15 native images per resolution -> 8 px: ⌊15·(12/8)²⌋ = 33, 12 px: 15.
        assert_eq!(warm.pool, vec![12, 12]);
        let e1 = d.run_epoch(None, &mut Silent).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = d.write_pictures(dir.path(), "e1-").unwrap();
        assert_eq!(files.len(), 4, "images and CAMs at 8 and 12 px");
        assert!(files.iter().all(|f| image::open(f).is_ok()));
        assert_eq!(e1.pool, vec![24, 15]);
        assert!(e1.student.kl.is_finite() && e1.student.kl > 0.0 && e1.lr > 0.0);
        assert!(
            e1.generator
                .iter()
                .all(|g| g.total.is_finite() && g.cam >= 0.0)
        );
        assert_ne!(d.student().head().weight.val().into_data(), before);
        // Generation freezes clones of the student; the student itself must stay trainable.
        let fresh = tiny_student(&muse_device::autodiff_device());
        materialize(&fresh);
        assert_eq!(trainable(d.student()), trainable(&fresh));
        assert_eq!(trainable(d.projection()).0, 2);
        assert_eq!(
            d.label_embeddings().unwrap().dim(),
            120,
            "class centres of the LeNet teacher"
        );
    }

    #[test]
    fn warmup_epochs_run_their_own_iteration_count() {
        let mut config = tiny_config(Method::Muse, vec![8, 12], vec![6, 6]);
        config.generation.warmup_iterations = Some(3);
        let mut d = distiller_from(config);
        // 3 batches of 6 at 8 px (capacity 33); 12 px stops at its capacity of 15.
        assert_eq!(d.run_epoch(None, &mut Silent).unwrap().pool, vec![18, 15]);
        // After the warm-up, `iterations` = 2 again: 18 + 12 at 8 px.
        assert_eq!(d.run_epoch(None, &mut Silent).unwrap().pool, vec![30, 15]);
    }

    #[test]
    fn reinit_follows_nayers_g_life_by_hand() {
        // g_life 10, warm-up 2: NAYER's `(ep - warmup) % g_life == 0 or ep % g_life == 0`
        // gives epochs 2 (the first student epoch), 10, 12, 20, 22, ... (0 is the first init).
        let due: Vec<usize> = (0..25).filter(|&e| reinit_due(e, 2, 10)).collect();
        assert_eq!(due, vec![2, 10, 12, 20, 22]);
        assert!(!(0..50).any(|e| reinit_due(e, 2, 0)), "0 turns it off");
        let due: Vec<usize> = (0..8).filter(|&e| reinit_due(e, 0, 3)).collect();
        assert_eq!(due, vec![3, 6]);
    }

    #[test]
    fn leaving_out_every_teacher_batchnorm_is_refused_before_any_work() {
        let device = muse_device::autodiff_device();
        let mut config = tiny_config(Method::Muse, vec![12], vec![6]);
        config.generation.bn_skip_last = 3; // the tiny teacher has three
        let (teacher, student) = (tiny_teacher(&device), tiny_student(&device));
        let norm = Normalization::identity(1);
        match Distiller::new(config.clone(), teacher, student, norm.clone(), &device) {
            Err(EngineError::InvalidConfig { field, reason }) => {
                assert_eq!(field, "generation.bn_skip_last");
                assert!(reason.contains("3 of the teacher's 3"), "{reason}");
            }
            Err(e) => panic!("expected a config error, got {e}"),
            Ok(_) => panic!("expected a config error, got a distiller"),
        }
        config.generation.bn_skip_last = 2;
        let (teacher, student) = (tiny_teacher(&device), tiny_student(&device));
        let running = |t: &muse_models::AnyClassifier| -> Vec<Vec<f32>> {
            let x = Tensor::<4>::ones([2, 1, 12, 12], &device);
            let taps = t.clone().frozen().forward_taps(x, BnStats::Record).bn;
            taps.into_iter()
                .map(|tap| tap.running_mean.into_data().try_to_vec::<f32>().unwrap())
                .collect()
        };
        let before = running(&teacher);
        let d = Distiller::new(config, teacher, student, norm, &device).unwrap();
        assert_eq!(
            running(d.teacher()),
            before,
            "the probe left the statistics alone"
        );
    }

    #[test]
    fn nayer_turns_cam_and_embedding_diversity_off() {
        let mut d = tiny_distiller(Method::Nayer, vec![12], vec![6]);
        d.run_epoch(None, &mut Silent).unwrap();
        let e = d.run_epoch(None, &mut Silent).unwrap();
        assert_eq!(
            (e.generator[0].cam, e.generator[0].aed, e.student.ed),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn student_quantile_radii_follow_the_student_and_start_the_game() {
        let mut config = tiny_config(Method::Muse, vec![12], vec![6]);
        config.radii_rule = RadiiRule::StudentQuantile { quantile: 0.5 };
        // The presets leave L_AED off; the game needs its weight (the paper's 5).
        assert_eq!(config.generation.weights.aed, 0.0);
        config.generation.weights.aed = 5.0;
        let mut d = distiller_from(config);
        let warm = d.run_epoch(None, &mut Silent).unwrap();
        let paper = Radii::from_embeddings(d.label_embeddings().unwrap().rows()).unwrap();
        assert_eq!(
            warm.radii,
            Some(paper),
            "the paper's rule until a student epoch ran"
        );
        let e1 = d.run_epoch(None, &mut Silent).unwrap();
        assert_eq!(
            e1.radii,
            Some(paper),
            "epoch 1 generated and trained with them"
        );
        let e2 = d.run_epoch(None, &mut Silent).unwrap();
        let r = e2.radii.unwrap();
        assert_ne!(r, paper, "set from epoch 1's student distances");
        assert_eq!(r.inner, r.outer / 2.0);
        assert!(e2.pool[0] > e1.pool[0], "epoch 2 still generated");
        assert!(
            e2.generator[0].aed > 0.0,
            "some fresh samples lie inside the student's median distance: {:?}",
            e2.generator[0]
        );
    }
}
