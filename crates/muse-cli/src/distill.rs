//! `muse distill`: builds the run config (preset or file, then flags), checks it before any
//! work, and runs Algorithm 1 epoch by epoch, writing metrics, pictures and a checkpoint after
//! each; `--resume` continues from the last checkpoint.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use muse::data::{Loaded, Normalization};
use muse::engine::{
    DistillConfig, Distiller, EngineError, LabelEmbeddingSource, Method, ModelCard, ModelSpec,
    default_method, default_ratio, evaluate, preset,
};
use muse::models::{Arch, save_model};

use crate::card::card_unless_overridden;
use crate::embedded;
use crate::eval::test_data;
use crate::progress::Bars;
use crate::run_dir::{Recorded, RunDir, discard_if_unstarted, summarize};
use crate::values::{self, LabelsArg, NormalizationArg};

/// Arguments of `muse distill`.
#[derive(Parser)]
pub struct Args {
    /// A named config (`muse presets` lists them); the default without --config.
    #[arg(long, conflicts_with = "config", value_parser = values::preset())]
    preset: Option<String>,
    /// A run config in JSON (as written to a run's `config.json`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Teacher weights: `.bpk` (with its card `.json` beside it), or a PyTorch state dict
    /// (`.pth`, `.pt`, `.bin`, `.safetensors`; then pass --arch and --normalization). Default:
    /// the embedded Fashion-MNIST WRN-16-1.
    #[arg(long)]
    teacher: Option<PathBuf>,
    /// Teacher architecture (when the weights have no card).
    #[arg(long, value_parser = values::arch())]
    arch: Option<Arch>,
    /// Teacher channel multiplier (when the weights have no card).
    #[arg(long)]
    teacher_width: Option<f64>,
    /// Student architecture.
    #[arg(long, value_parser = values::arch())]
    student_arch: Option<Arch>,
    /// Student channel multiplier.
    #[arg(long)]
    student_width: Option<f64>,
    /// muse (several low resolutions), muse-s (one), nayer (native, no CAM, no ED). Default: the
    /// preset's (fashion-mnist: nayer, measured best at 28 px; others: muse), or the --config's.
    #[arg(long, value_parser = values::method())]
    method: Option<Method>,
    /// Data ratio d_r: the pool holds d_r·N native-image equivalents (0.05 = 5%). Default: the
    /// preset's (fashion-mnist 0.02, others 0.05), or the --config's.
    #[arg(long)]
    ratio: Option<f64>,
    /// Generation resolutions, comma-separated (e.g. 20,28).
    #[arg(long, value_delimiter = ',')]
    resolutions: Option<Vec<usize>>,
    /// Synthetic batch size per resolution, comma-separated.
    #[arg(long, value_delimiter = ',')]
    batch_sizes: Option<Vec<usize>>,
    /// Epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Student steps per epoch.
    #[arg(long)]
    student_steps: Option<usize>,
    /// Seed of every random choice.
    #[arg(long)]
    seed: Option<u64>,
    /// Turn the CAM loss off (ablation).
    #[arg(long)]
    no_cam: bool,
    /// Turn embedding diversity (L_ed and L_aed) off (ablation).
    #[arg(long)]
    no_ed: bool,
    /// Input normalisation the teacher was trained with (for weights without a card, e.g. a
    /// PyTorch `.pth`): cifar10, cifar100, imagenet, fashion-mnist, mnist, digits, none; or
    /// `MEAN,STD` for every channel (timm's `0.5,0.5`), or the C means then the C standard
    /// deviations. Default: the card's, else the evaluation data's.
    #[arg(long, value_parser = values::normalization())]
    normalization: Option<NormalizationArg>,
    /// Label embeddings: `text` (class names through all-MiniLM-L6-v2), `class-center`, or a
    /// matrix file (.safetensors, .npy, .json). Default: `text` when the text model is installed
    /// and the class names are known, else `class-center`.
    #[arg(long, value_parser = values::labels())]
    labels: Option<LabelsArg>,
    /// Class names, one per line, for `--labels text` (default: the teacher's data set's).
    #[arg(long)]
    class_names: Option<PathBuf>,
    /// Prompt for class-name embeddings; `{}` stands for the name.
    #[arg(long)]
    prompt: Option<String>,
    /// Evaluation data: fashion-mnist, mnist, digits, fashion-mnist-1k (embedded), or a path.
    #[arg(long)]
    eval_data: Option<String>,
    /// Run directory. Default: runs/<preset>-<method>-<ratio>-seed<seed>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint (its config.json is used).
    #[arg(long)]
    resume: bool,
    /// Skip the per-epoch image grids and CAM heatmaps.
    #[arg(long)]
    no_pictures: bool,
    /// Stop after this many epochs in this invocation (checkpointed; continue with --resume),
    /// e.g. to fit a long run into time-limited jobs.
    #[arg(long)]
    stop_after: Option<usize>,
}

/// The teacher, as the run will load it.
struct TeacherSpec {
    weights: PathBuf,
    card: Option<ModelCard>,
}

/// Builds the config of a new run from preset/file and flags.
fn build_config(args: &Args, teacher: &TeacherSpec) -> Result<(DistillConfig, String)> {
    let (mut c, name) = match &args.config {
        Some(path) => {
            let c = read_config_file(path)?;
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            (c, stem)
        }
        None => {
            let name = args
                .preset
                .clone()
                .unwrap_or_else(|| "fashion-mnist".into());
            let ratio = args.ratio.unwrap_or_else(|| default_ratio(&name));
            let method = args.method.unwrap_or_else(|| default_method(&name));
            (preset(&name, method, ratio)?, name)
        }
    };
    if args.config.is_some() {
        if let Some(m) = args.method {
            c.method = m;
        }
        if let Some(r) = args.ratio {
            c.data_ratio = r;
        }
    }
    if let Some(card) = &teacher.card {
        c.teacher = ModelSpec {
            arch: card.arch,
            width_mult: card.width_mult,
            weights: None,
        };
        c.num_classes = card.num_classes;
        c.channels = card.channels;
        if c.native_resolution != card.resolution {
            bail!(
                "the teacher was trained at {} px, the config is for {} px; pick a preset of that resolution or a --config",
                card.resolution,
                c.native_resolution
            );
        }
    }
    if let Some(a) = args.arch {
        c.teacher.arch = a;
    }
    if let Some(w) = args.teacher_width {
        c.teacher.width_mult = w;
    }
    c.teacher.weights = Some(teacher.weights.clone());
    if let Some(a) = args.student_arch {
        c.student.arch = a;
    }
    if let Some(w) = args.student_width {
        c.student.width_mult = w;
    }
    if let Some(r) = &args.resolutions {
        c.generation.resolutions = r.clone();
        if args.batch_sizes.is_none() && c.generation.batch_sizes.len() != r.len() {
            // Keep the preset's per-pixel budget: batch ∝ 1/e².
            let (b0, e0) = (c.generation.batch_sizes[0], c.generation.resolutions[0]);
            c.generation.batch_sizes = r
                .iter()
                .map(|&e| ((b0 * e0 * e0) as f64 / (e * e) as f64).round().max(1.0) as usize)
                .collect();
        }
    }
    if let Some(b) = &args.batch_sizes {
        c.generation.batch_sizes = b.clone();
    }
    if let Some(e) = args.epochs {
        c.epochs = e;
        // The preset's warm-up, shortened when it would leave no student epoch.
        c.warmup_epochs = c.warmup_epochs.min(e.saturating_sub(1));
    }
    if let Some(s) = args.student_steps {
        c.student_training.steps = s;
    }
    if let Some(s) = args.seed {
        c.seed = s;
    }
    if args.no_cam {
        c.generation.weights.cam = 0.0;
    }
    if args.no_ed {
        c.generation.weights.aed = 0.0;
        c.student_training.alpha_ed = 0.0;
    }
    if let Some(source) = label_source(args, teacher, &name, c.num_classes)? {
        c.label_embedding = source;
    }
    c.validate()?;
    Ok((c, name))
}

/// Reads a run config file.
fn read_config_file(path: &Path) -> Result<DistillConfig> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    DistillConfig::from_json(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not a run config: {e}", path.display()))
}

/// The label embeddings the flags ask for; `None` keeps the config's. Without `--labels` a new
/// run from a preset uses class-name embeddings when the text model is installed and the class
/// names are known: from `--class-names`, else the teacher card's data set, else (for a teacher
/// without a card, such as a PyTorch file) the evaluation data's or the preset's data set when
/// its class count is the run's.
fn label_source(
    args: &Args,
    teacher: &TeacherSpec,
    preset: &str,
    num_classes: usize,
) -> Result<Option<LabelEmbeddingSource>> {
    let names = class_names_for(args, teacher, preset, num_classes)?;
    let prompt = args
        .prompt
        .clone()
        .unwrap_or_else(|| muse::text::DEFAULT_PROMPT.into());
    let text_flags = args.class_names.is_some() || args.prompt.is_some();
    let text = |names: Option<Vec<String>>| -> Result<LabelEmbeddingSource> {
        muse::text::find_model_dir()?;
        Ok(LabelEmbeddingSource::Text {
            model_dir: None,
            prompt: prompt.clone(),
            class_names: names.context(
                "class-name embeddings need the class names: pass --class-names FILE (one per line)",
            )?,
        })
    };
    Ok(match &args.labels {
        Some(other) if *other != LabelsArg::Text && text_flags => {
            bail!("--class-names and --prompt only apply to --labels text (not {other:?})")
        }
        Some(LabelsArg::ClassCenter) => Some(LabelEmbeddingSource::ClassCenter),
        Some(LabelsArg::Text) => Some(text(names)?),
        Some(LabelsArg::File(path)) => Some(LabelEmbeddingSource::File(path.clone())),
        // --class-names / --prompt ask for class-name embeddings.
        None if text_flags => Some(text(names)?),
        None if args.config.is_none() => {
            names.and_then(|n| LabelEmbeddingSource::text_if_available(&n))
        }
        None => None,
    })
}

/// The class names of a run, where known (see [`label_source`]).
fn class_names_for(
    args: &Args,
    teacher: &TeacherSpec,
    preset: &str,
    num_classes: usize,
) -> Result<Option<Vec<String>>> {
    let known = |data: &str| muse::data::class_names(data).filter(|n| n.len() == num_classes);
    Ok(match &args.class_names {
        Some(path) => Some(crate::embed_labels::read_names(path)?),
        None => match teacher.card.as_ref() {
            Some(card) => muse::data::class_names(&card.data),
            None => args
                .eval_data
                .as_deref()
                .and_then(known)
                .or_else(|| known(preset)),
        },
    })
}

fn method_name(m: Method) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The flags that shape a run's config: with --resume they would silently not apply (the run
/// continues as it was configured), so they are refused by name.
fn config_flags(args: &Args) -> Vec<&'static str> {
    [
        ("--preset", args.preset.is_some()),
        ("--config", args.config.is_some()),
        ("--teacher", args.teacher.is_some()),
        ("--arch", args.arch.is_some()),
        ("--teacher-width", args.teacher_width.is_some()),
        ("--student-arch", args.student_arch.is_some()),
        ("--student-width", args.student_width.is_some()),
        ("--method", args.method.is_some()),
        ("--ratio", args.ratio.is_some()),
        ("--resolutions", args.resolutions.is_some()),
        ("--batch-sizes", args.batch_sizes.is_some()),
        ("--epochs", args.epochs.is_some()),
        ("--student-steps", args.student_steps.is_some()),
        ("--seed", args.seed.is_some()),
        ("--no-cam", args.no_cam),
        ("--no-ed", args.no_ed),
        ("--normalization", args.normalization.is_some()),
        ("--labels", args.labels.is_some()),
        ("--class-names", args.class_names.is_some()),
        ("--prompt", args.prompt.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, given)| given.then_some(flag))
    .collect()
}

/// Runs `muse distill`. A new run whose start fails (a teacher, data or label file refused)
/// leaves no directory behind.
pub fn run(args: Args) -> Result<()> {
    let mut created = None;
    let result = run_in(args, &mut created);
    if result.is_err()
        && let Some(run) = created
    {
        discard_if_unstarted(&run);
    }
    result
}

/// [`run`]; `created` receives the run directory when this invocation created it.
fn run_in(args: Args, created: &mut Option<PathBuf>) -> Result<()> {
    let started = std::time::Instant::now();
    if args.stop_after == Some(0) {
        bail!("--stop-after must be at least 1 (it counts the epochs this invocation runs)");
    }
    if args.resume {
        // More epochs is the one change a resumed run can take (see `Distiller::resume`).
        let given: Vec<_> = config_flags(&args)
            .into_iter()
            .filter(|f| *f != "--epochs")
            .collect();
        if !given.is_empty() {
            bail!(
                "--resume continues the run exactly as its config.json says; {} would change it and cannot apply (start a new run with --out elsewhere; only --epochs, to run more, may be given)",
                given.join(", ")
            );
        }
    }
    // Where the run lives, and its config.
    let (run, config, eval_name, card) = if args.resume {
        let out = args.out.clone().context("--resume needs --out DIR")?;
        let (run, _) = RunDir::open(&out, true)?;
        let mut config = run.read_config()?;
        if let Some(epochs) = args.epochs {
            if epochs < config.epochs {
                bail!(
                    "--epochs {epochs} with --resume: the run is configured for {} epochs and can only be extended",
                    config.epochs
                );
            }
            config.epochs = epochs;
        }
        config.validate()?;
        if args.epochs.is_some() {
            run.write_config(&config)?;
        }
        // The evaluation data: --eval-data, else what the run recorded at its start.
        let eval = match &args.eval_data {
            Some(name) => Some(name.clone()),
            None => run
                .recorded::<Option<String>>(Recorded::EvalData)?
                .flatten(),
        };
        // The card only serves a run that recorded no normalisation (made before it was
        // recorded); one that no longer reads is not needed.
        let card = config
            .teacher
            .weights
            .as_deref()
            .and_then(|w| ModelCard::load_for(w).ok().flatten());
        (run, config, eval, card)
    } else {
        // The teacher: --teacher, else the one a --config names, else the embedded one.
        let teacher_path = match (&args.teacher, &args.config) {
            (Some(path), _) => Some(path.clone()),
            (None, Some(config)) => read_config_file(config)?.teacher.weights,
            (None, None) => None,
        };
        let teacher = match &teacher_path {
            Some(path) => TeacherSpec {
                weights: path.clone(),
                card: card_unless_overridden(path, args.arch, args.teacher_width)?,
            },
            None => TeacherSpec {
                weights: PathBuf::from("teacher.bpk"), // placed in the run directory below
                card: Some(embedded::teacher_card()?),
            },
        };
        let (mut config, name) = build_config(&args, &teacher)?;
        let out = args.out.clone().unwrap_or_else(|| {
            PathBuf::from("runs").join(format!(
                "{name}-{}-{}-seed{}",
                method_name(config.method),
                config.data_ratio,
                config.seed
            ))
        });
        let (run, fresh) = RunDir::open(&out, false)?;
        if fresh {
            *created = Some(out.clone());
        }
        if teacher_path.is_none() {
            config.teacher.weights = Some(embedded::write_teacher(run.root())?);
            // Without the text model, the embedded teacher's class-name embeddings (as tuned)
            // rather than the class-centre fallback.
            let fallback = args.labels.is_none()
                && args.config.is_none()
                && config.label_embedding == LabelEmbeddingSource::ClassCenter;
            if fallback {
                config.label_embedding =
                    LabelEmbeddingSource::File(embedded::write_label_embeddings(run.root())?);
            }
        }
        run.write_config(&config)?;
        let eval = args
            .eval_data
            .clone()
            .or_else(|| match (&teacher_path, &teacher.card) {
                (None, _) => Some(embedded::TEST_SLICE.to_string()),
                (Some(_), Some(card)) => Some(card.data.clone()),
                (Some(_), None) => None,
            });
        run.record(Recorded::EvalData, &eval)?;
        (run, config, eval, teacher.card)
    };

    // Evaluation data and the normalisation both networks see.
    // Data named by --eval-data must load; data implied by the teacher's card may be absent
    // here (the run then goes on without evaluation).
    let (eval, eval_name): (Option<Loaded>, Option<String>) = match eval_name {
        Some(name) => match test_data(&name, Some(config.native_resolution)) {
            Ok(loaded) => (Some(loaded), Some(name)),
            Err(e) if args.eval_data.is_none() => {
                eprintln!("warning: no evaluation ({e:#}); pass --eval-data to evaluate");
                (None, None)
            }
            Err(e) => return Err(e),
        },
        None => (None, None),
    };
    // The normalisation both networks see: --normalization, else the one this run recorded
    // (a resumed run keeps it), else the teacher card's, else the evaluation data's.
    let recorded = match args.resume {
        true => run.recorded::<Normalization>(Recorded::Normalization)?,
        false => None,
    };
    let normalization = match (&args.normalization, recorded, &card, &eval) {
        (Some(spec), ..) => spec.resolve(config.channels)?,
        (None, Some(kept), ..) => kept,
        (None, None, Some(c), _) => c.normalization.clone(),
        (None, None, None, Some(e)) => e.normalization.clone(),
        (None, None, None, None) => {
            eprintln!("warning: no teacher card and no --eval-data; inputs are not normalised");
            Normalization::identity(config.channels)
        }
    };
    run.record(Recorded::Normalization, &normalization)?;

    let device = muse_device::autodiff_device();
    let teacher = config.load_teacher(&device)?;
    device.seed(config.seed);
    let student = config.student_network(&device)?;
    let mut bars = Bars::default();
    let teacher_top1 = match &eval {
        Some(e) => {
            let a = evaluate(&teacher, &e.data, &normalization, 500, &device, &mut bars)?;
            eprintln!(
                "teacher {} on {} ({} images): top-1 {:.2}%",
                config.teacher.arch.name(),
                eval_name.as_deref().unwrap_or(""),
                a.samples,
                100.0 * a.top1
            );
            Some(a.top1)
        }
        None => None,
    };
    let mut distiller = if args.resume && run.has_checkpoint()? {
        let d = Distiller::resume(
            config.clone(),
            teacher,
            student,
            normalization.clone(),
            &device,
            run.root(),
        )?;
        eprintln!("resuming {} at epoch {}", run.root().display(), d.epoch());
        d
    } else {
        if args.resume {
            eprintln!(
                "{} has no checkpoint yet: its run starts from the first epoch, as configured",
                run.root().display()
            );
        }
        Distiller::new(
            config.clone(),
            teacher,
            student,
            normalization.clone(),
            &device,
        )?
    };
    eprintln!(
        "{} run in {}: {} → {}, generation at {:?} px, {} epochs, label embeddings: {}; backend {}",
        method_name(config.method),
        run.root().display(),
        config.teacher.arch.name(),
        config.student.arch.name(),
        config.generation.resolutions,
        config.epochs,
        match &config.label_embedding {
            LabelEmbeddingSource::Text { .. } => "class names (all-MiniLM-L6-v2)".to_string(),
            LabelEmbeddingSource::ClassCenter => "teacher class centres".to_string(),
            LabelEmbeddingSource::File(p)
                if *p == run.root().join(embedded::LABEL_EMBEDDINGS_FILE) =>
            {
                "class names (all-MiniLM-L6-v2, embedded with the teacher)".to_string()
            }
            LabelEmbeddingSource::File(p) => p.display().to_string(),
        },
        muse_device::backend_name()
    );

    let stop_at = args.stop_after.map_or(config.epochs, |n| {
        (distiller.epoch() + n).min(config.epochs)
    });
    while distiller.epoch() < stop_at {
        let eval_ref = eval.as_ref().map(|e| (&e.data, &normalization));
        let m = match distiller.run_epoch(eval_ref, &mut bars) {
            Ok(m) => m,
            Err(e @ EngineError::NonFinite { .. }) if run.has_checkpoint()? => {
                bail!(
                    "{e}; the run stopped. The last good checkpoint in {} is kept (resume from it with --resume after changing nothing, or start a new run with other settings)",
                    run.root().display()
                )
            }
            Err(e @ EngineError::NonFinite { .. }) => {
                bail!(
                    "{e}; the run stopped in its first epoch, before any checkpoint (start a new run with other settings)"
                )
            }
            Err(e) => return Err(e.into()),
        };
        let epoch = m.epoch;
        if !args.no_pictures {
            distiller.write_pictures(&run.pictures(), &format!("epoch-{epoch:03}-"))?;
        }
        save_model(distiller.student(), &run.student())?;
        // The card carries the weights' checksum: rewritten with them, before the checkpoint.
        write_student_card(
            &config,
            &normalization,
            eval_name.as_deref(),
            distiller.history(),
            &run.student(),
            None,
        )?;
        if best_epoch(distiller.history()) == Some(epoch) {
            save_model(distiller.student(), &run.student_best())?;
            write_student_card(
                &config,
                &normalization,
                eval_name.as_deref(),
                distiller.history(),
                &run.student_best(),
                Some(epoch),
            )?;
        }
        distiller.save_checkpoint(run.root())?;
        run.write_metrics(distiller.history(), teacher_top1)?;
        let acc = m.accuracy.map_or(String::new(), |a| {
            format!(
                ", top-1 {:.2}% top-5 {:.2}%",
                100.0 * a.top1,
                100.0 * a.top5
            )
        });
        let generator = m
            .generator
            .iter()
            .map(|g| format!("{:.3}", g.total))
            .collect::<Vec<_>>()
            .join("/");
        eprintln!(
            "epoch {:>3}/{}: pool {:?}, generator loss {}, student KL {:.4} ED {:.4}{acc} ({:.0} s)",
            epoch + 1,
            config.epochs,
            m.pool,
            if generator.is_empty() {
                "-".into()
            } else {
                generator
            },
            m.student.kl,
            m.student.ed,
            m.seconds
        );
    }
    // A run killed between its last checkpoint and the metrics it writes after it.
    run.write_metrics(distiller.history(), teacher_top1)?;
    if distiller.epoch() < config.epochs {
        println!(
            "stopped after epoch {} of {} as asked; continue with: muse distill --out {} --resume",
            distiller.epoch(),
            config.epochs,
            run.root().display()
        );
        return Ok(());
    }
    let summary = summarize(
        &config,
        distiller.history(),
        teacher_top1,
        eval.as_ref()
            .map(|e| (eval_name.as_deref().unwrap_or(""), e.data.len())),
    );
    run.write_summary(&summary)?;
    let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.2}%", 100.0 * v));
    println!(
        "teacher top-1 {} | student top-1 {} (top-5 {}, best {}) on {} | {} epochs, {:.0} s | {}",
        pct(teacher_top1),
        pct(summary.final_top1),
        pct(summary.final_top5),
        pct(summary.best_top1),
        eval_name.as_deref().unwrap_or("no evaluation data"),
        summary.epochs,
        started.elapsed().as_secs_f64(),
        run.root().display()
    );
    Ok(())
}

/// The card of the student, so `muse eval --model run/student.bpk` needs no other flags. With
/// `best`, the card of `student-best.bpk`: the epoch of highest top-1 so far, said to be
/// selected on the evaluation set.
fn write_student_card(
    config: &DistillConfig,
    normalization: &Normalization,
    eval: Option<&str>,
    history: &[muse::engine::EpochMetrics],
    weights: &Path,
    best: Option<usize>,
) -> Result<()> {
    let top1 = |e: usize| history.get(e).and_then(|m| m.accuracy.map(|a| a.top1));
    ModelCard {
        arch: config.student.arch,
        width_mult: config.student.width_mult,
        num_classes: config.num_classes,
        channels: config.channels,
        resolution: config.native_resolution,
        normalization: normalization.clone(),
        data: eval.unwrap_or("fashion-mnist").to_string(),
        top1: top1(best.unwrap_or(history.len().saturating_sub(1))),
        weights_crc32: None,
        selection: best.map(|e| {
            format!(
                "epoch {}, the run's best top-1 on {} (replaced whenever a later epoch does \
                 better): selected on the evaluation set, so its accuracy there is an optimistic \
                 estimate (student.bpk is the last epoch)",
                e + 1,
                eval.unwrap_or("the evaluation set")
            )
        }),
    }
    .save_for(weights)?;
    Ok(())
}

/// The epoch of highest top-1 in `history` (the earliest of equals), if any was evaluated.
fn best_epoch(history: &[muse::engine::EpochMetrics]) -> Option<usize> {
    history
        .iter()
        .enumerate()
        .filter_map(|(e, m)| m.accuracy.map(|a| (e, a.top1)))
        .fold(None, |best: Option<(usize, f64)>, (e, t)| match best {
            Some((_, b)) if b >= t => best,
            _ => Some((e, t)),
        })
        .map(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["distill", "--teacher", "t.pth", "--arch", "wrn16-1"];
        argv.extend(extra);
        Args::try_parse_from(argv).expect("valid flags")
    }

    #[test]
    fn a_teacher_without_a_card_takes_class_names_from_the_evaluation_data_or_the_preset() {
        let foreign = TeacherSpec {
            weights: "t.pth".into(),
            card: None,
        };
        let fashion = muse::data::class_names("fashion-mnist");
        assert!(fashion.is_some());
        let names =
            |a: &Args, preset: &str, k: usize| class_names_for(a, &foreign, preset, k).unwrap();
        assert_eq!(
            names(&args(&[]), "fashion-mnist", 10),
            fashion,
            "the preset's data set"
        );
        let eval = args(&["--eval-data", "fashion-mnist-1k"]);
        assert_eq!(
            names(&eval, "digits", 10),
            fashion,
            "the evaluation data first"
        );
        assert_eq!(
            names(&args(&[]), "digits", 10),
            None,
            "digits has no class names"
        );
        assert_eq!(
            names(&args(&[]), "fashion-mnist", 100),
            None,
            "a 100-class teacher: not these"
        );
    }

    #[test]
    fn the_method_defaults_to_the_presets_measured_choice_and_a_flag_overrides_it() {
        let foreign = TeacherSpec {
            weights: "t.pth".into(),
            card: None,
        };
        let method = |extra: &[&str]| build_config(&args(extra), &foreign).unwrap().0.method;
        assert_eq!(method(&[]), Method::Nayer, "fashion-mnist: nayer");
        assert_eq!(method(&["--method", "muse"]), Method::Muse);
        let wide = ["--preset", "fashion-mnist-64"];
        assert_eq!(method(&wide), Method::MuseS, "fashion-mnist-64: muse-s");
        assert_eq!(
            method(&["--preset", "digits"]),
            Method::Muse,
            "other presets: muse"
        );
        let (c, _) = build_config(&args(&[]), &foreign).unwrap();
        assert_eq!(
            c.generation.resolutions,
            vec![28],
            "nayer generates at the native side"
        );
    }
}
