//! The three steps of a distillation (issue 5), timed with warm-up and medians:
//!
//! - `teacher`: the frozen teacher's forward with every tap (logits, embedding, feature map,
//!   BatchNorm statistics), no gradient;
//! - `generator`: one generator step: G forward → augmentation → frozen teacher with taps →
//!   frozen student → CE + BN + CAM + adversarial KL (L_AED off, as in the presets) → backward → Adam step
//!   (`generation_iteration` with one step: it also re-draws the noisy layers and builds a
//!   fresh Adam, as every iteration does; `--gen-steps N` times iterations of N steps and
//!   reports the time per step, as a run, whose iterations have 30, spreads that work);
//! - `student`: one student step: pool batch → augmentation → teacher → student + projection →
//!   KL + L_ed → backward → AdamW step.
//!
//! Settings: `fashion-mnist` (the session-1–4 preset's LeNet-5 → ResNet-8×0.5; generation at
//! 20 px ×100 and 28 px ×50, student batch 64 at 28 px), `default` (the embedded default of the
//! README's main command: WRN-16-1 → WRN-16-1, `muse` at 20 px ×100 and 28 px ×50 with ngf 64,
//! 384-d label embeddings, flips, SGD student at 28 px ×128), `nayer-wrn` (NAYER's recipe on the
//! same pair: 28 px ×100, no spectral norm, no CAM or embedding diversity, α_adv 1.33) and
//! `cifar` (ResNet-34 → ResNet-18, CIFAR stems, batch 64 at 28 and 32 px); and two resolution
//! sweeps of the generator step, not in `all`:
//! `sweep-fashion` (16/20/24/28 px × 64) and `sweep-imagenet` (torchvision ResNet-34 →
//! ResNet-18, 96/112/128/224 px × 8).
//!
//! ```text
//! cargo bench --bench steps -- [--setting fashion-mnist|cifar|all|sweep-fashion|sweep-imagenet] [--step teacher|generator|student|all]
//!                              [--res N] [--iters 10] [--warmup 3] [--gen-steps 1] [--json]
//! MUSE_BENCH_TRACE=1 cargo bench --bench steps -- …   # also every timed step, in order
//! ```
//! Peak memory is the process's peak resident set (`VmHWM`): run one step per process (as
//! `scripts/bench_compare.sh` does) for a per-step figure.

#![allow(missing_docs)]

use std::time::Instant;

/// The CLI's allocator and its settings, so the steps are timed as a run runs them.
#[path = "../crates/muse-cli/src/alloc.rs"]
mod alloc;

use muse::burn::module::Module;
use muse::burn::nn::{Linear, LinearConfig};
use muse::burn::optim::AdamWConfig;
use muse::burn::tensor::{Device, Distribution, Int, Tensor};
use muse::data::Normalization;
use muse::engine::{
    GenerationContext, GeneratorLossWeights, StudentContext, StudentOptimizer,
    generation_iteration, student_step,
};
use muse::generator::GeneratorConfig;
use muse::losses::{BnMomentum, CamTarget, Radii};
use muse::models::{AnyClassifier, Arch, BnStats, Classifier, ClassifierConfig, materialize};
use rand::SeedableRng;

struct Setting {
    name: &'static str,
    teacher: (Arch, f64),
    student: (Arch, f64),
    channels: usize,
    native: usize,
    /// (resolution, generator batch) of the generator and teacher steps.
    generation: Vec<(usize, usize)>,
    /// (resolution, batch) of the student step.
    student_batch: Vec<(usize, usize)>,
    ngf: usize,
    /// A resolution sweep of the generator step (not part of `--setting all`).
    sweep: bool,
    /// The recipe's switches (see [`Recipe`]).
    recipe: Recipe,
}

/// What differs between the recipes the settings time.
#[derive(Clone, Copy)]
struct Recipe {
    /// NAYER's losses (no CAM, no embedding diversity, α_adv 1.33) and no spectral norm.
    nayer: bool,
    /// Label-embedding width (`None`: the teacher's embedding width, class centres).
    label_dim: Option<usize>,
    /// SGD student (NAYER's) instead of AdamW.
    sgd: bool,
    /// Random flips.
    flip: bool,
}

/// The recipe of the session-1–4 settings: MUSE losses, class centres, AdamW, flips on RGB only.
const OLD: Recipe = Recipe {
    nayer: false,
    label_dim: None,
    sgd: false,
    flip: false,
};

fn settings() -> Vec<Setting> {
    vec![
        Setting {
            name: "fashion-mnist",
            teacher: (Arch::LeNet5, 1.0),
            student: (Arch::ResNet8, 0.5),
            channels: 1,
            native: 28,
            generation: vec![(20, 100), (28, 50)],
            student_batch: vec![(28, 64)],
            ngf: 32,
            sweep: false,
            recipe: OLD,
        },
        Setting {
            name: "default",
            teacher: (Arch::Wrn16x1, 1.0),
            student: (Arch::Wrn16x1, 1.0),
            channels: 1,
            native: 28,
            generation: vec![(20, 100), (28, 50)],
            student_batch: vec![(28, 128)],
            ngf: 64,
            sweep: false,
            recipe: Recipe {
                nayer: false,
                label_dim: Some(384),
                sgd: true,
                flip: true,
            },
        },
        Setting {
            name: "nayer-wrn",
            teacher: (Arch::Wrn16x1, 1.0),
            student: (Arch::Wrn16x1, 1.0),
            channels: 1,
            native: 28,
            generation: vec![(28, 100)],
            student_batch: vec![(28, 128)],
            ngf: 64,
            sweep: false,
            recipe: Recipe {
                nayer: true,
                label_dim: Some(384),
                sgd: true,
                flip: true,
            },
        },
        Setting {
            name: "cifar",
            teacher: (Arch::ResNet34Cifar, 1.0),
            student: (Arch::ResNet18Cifar, 1.0),
            channels: 3,
            native: 32,
            generation: vec![(28, 64), (32, 64)],
            student_batch: vec![(28, 64), (32, 64)],
            ngf: 64,
            sweep: false,
            recipe: Recipe { flip: true, ..OLD },
        },
        // The cost of generation against resolution (issue 5): the fashion-mnist networks at
        // 16–28 px, and an ImageNet-style pair (torchvision ResNet-34 → ResNet-18, the
        // Imagenette preset) at 96–224 px, same batch at every side.
        Setting {
            name: "sweep-fashion",
            teacher: (Arch::LeNet5, 1.0),
            student: (Arch::ResNet8, 0.5),
            channels: 1,
            native: 28,
            generation: vec![(16, 64), (20, 64), (24, 64), (28, 64)],
            student_batch: vec![],
            ngf: 32,
            sweep: true,
            recipe: OLD,
        },
        Setting {
            name: "sweep-imagenet",
            teacher: (Arch::ResNet34, 1.0),
            student: (Arch::ResNet18, 1.0),
            channels: 3,
            native: 224,
            generation: vec![(96, 8), (112, 8), (128, 8), (224, 8)],
            student_batch: vec![],
            ngf: 64,
            sweep: true,
            recipe: Recipe { flip: true, ..OLD },
        },
    ]
}

struct Args {
    setting: String,
    step: String,
    res: Option<usize>,
    iters: usize,
    warmup: usize,
    json: bool,
    /// Generator steps per timed generation iteration; the reported time is per step.
    gen_steps: usize,
}

fn args() -> Args {
    let mut a = Args {
        setting: "all".into(),
        step: "all".into(),
        res: None,
        iters: 10,
        warmup: 3,
        json: false,
        gen_steps: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--setting" => a.setting = value(),
            "--step" => a.step = value(),
            "--res" => a.res = Some(value().parse().expect("--res N")),
            "--iters" => a.iters = value().parse().expect("--iters N"),
            "--warmup" => a.warmup = value().parse().expect("--warmup N"),
            "--json" => a.json = true,
            "--gen-steps" => {
                a.gen_steps = value().parse().expect("--gen-steps N");
                assert!(a.gen_steps > 0, "--gen-steps must be at least 1");
            }
            "--bench" => {} // passed by `cargo bench`
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn net(spec: (Arch, f64), channels: usize, device: &Device) -> AnyClassifier {
    let m = ClassifierConfig::new(spec.0, 10)
        .with_in_channels(channels)
        .with_width_mult(spec.1)
        .init(device)
        .expect("a zoo network");
    materialize(&m);
    m
}

/// Peak resident set size of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Runs `f` `warmup` times untimed, then `iters` times; returns sorted milliseconds. With
/// `MUSE_BENCH_TRACE=1` in the environment, every timed step's milliseconds go to stderr in
/// order (`trace 173.2 171.9 …`), to tell a slow tail from a slow step.
fn time(warmup: usize, iters: usize, mut f: impl FnMut()) -> Vec<f64> {
    for _ in 0..warmup {
        f();
    }
    let mut ms: Vec<f64> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    if std::env::var("MUSE_BENCH_TRACE").is_ok_and(|v| v == "1") {
        let steps: Vec<String> = ms.iter().map(|m| format!("{m:.1}")).collect();
        eprintln!("trace {}", steps.join(" "));
    }
    ms.sort_by(f64::total_cmp);
    ms
}

fn report(a: &Args, setting: &str, step: &str, res: usize, batch: usize, ms: &[f64]) {
    let median = ms[ms.len() / 2];
    let (lo, hi) = (ms[ms.len() / 10], ms[(ms.len() * 9) / 10]);
    let ips = batch as f64 / (median / 1e3);
    let peak = peak_rss_mib();
    let backend = muse_device::backend_name();
    if a.json {
        println!(
            "{{\"impl\":\"burn-{backend}\",\"setting\":\"{setting}\",\"step\":\"{step}\",\"res\":{res},\"batch\":{batch},\"median_ms\":{median:.2},\"p10_ms\":{lo:.2},\"p90_ms\":{hi:.2},\"images_per_s\":{ips:.1},\"peak_rss_mib\":{peak:.0}}}"
        );
    } else {
        println!(
            "{backend:6} {setting:14} {step:10} {res:4}px ×{batch:<4} median {median:9.2} ms (p10 {lo:.2}, p90 {hi:.2})  {ips:9.1} img/s  peak RSS {peak:.0} MiB"
        );
    }
}

fn main() {
    alloc::keep_freed_memory();
    let a = args();
    let device = muse_device::autodiff_device();
    let plain = muse_device::device();
    for s in settings() {
        let wanted = if a.setting == "all" {
            !s.sweep
        } else {
            a.setting == s.name
        };
        if !wanted {
            continue;
        }
        device.seed(0);
        let norm = Normalization::identity(s.channels);
        let keep = |res: usize| a.res.is_none_or(|r| r == res);
        if a.step == "all" || a.step == "teacher" {
            let teacher = net(s.teacher, s.channels, &plain).frozen();
            for &(res, batch) in s.generation.iter().filter(|(r, _)| keep(*r)) {
                let x = Tensor::<4>::random(
                    [batch, s.channels, res, res],
                    Distribution::Default,
                    &plain,
                );
                let ms = time(a.warmup, a.iters, || {
                    let taps = teacher.forward_taps(x.clone(), BnStats::Record);
                    let _ = taps.logits.into_data();
                });
                report(&a, s.name, "teacher", res, batch, &ms);
            }
        }
        let teacher = net(s.teacher, s.channels, &device).frozen();
        let student = net(s.student, s.channels, &device);
        let rc = s.recipe;
        let dim = rc.label_dim.unwrap_or(teacher.embedding_dim());
        let projection: Linear = LinearConfig::new(student.embedding_dim(), dim).init(&device);
        materialize(&projection);
        let f_y = Tensor::<2>::random([10, dim], Distribution::Default, &device);
        let radii = Radii {
            inner: 0.5,
            outer: 1.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        if a.step == "all" || a.step == "generator" {
            let frozen_student = student.clone().freeze();
            let frozen_projection = projection.clone().freeze();
            // The presets' weights: L_AED off for every method (α_aed = 0; docs/method.md).
            let mut weights = GeneratorLossWeights::new().with_aed(0.0);
            if rc.nayer {
                (weights.cam, weights.aed, weights.adv) = (0.0, 0.0, 1.33);
            }
            for &(res, batch) in s.generation.iter().filter(|(r, _)| keep(*r)) {
                let ctx = GenerationContext {
                    teacher: &teacher,
                    student: &frozen_student,
                    projection: (!rc.nayer).then_some(&frozen_projection),
                    label_embeddings: &f_y,
                    normalization: &norm,
                    weights: &weights,
                    cam_target: CamTarget::Full(1.0),
                    radii,
                    adversarial: true,
                    bn_skip_last: 0,
                    crop_padding: (0.125 * res as f64).round() as usize,
                    flip: rc.flip,
                    lr: 4e-3,
                };
                let mut generator = Some(
                    GeneratorConfig::new(dim, 10, res, s.channels, batch)
                        .with_ngf(s.ngf)
                        .with_spectral_norm(!rc.nayer)
                        .init(&device)
                        .expect("a generator"),
                );
                let labels: Vec<usize> = (0..batch).map(|i| i % 10).collect();
                let mut bn = BnMomentum::new(0.9);
                let steps = a.gen_steps;
                let ms = time(a.warmup, a.iters, || {
                    let g = generator.take().expect("generator");
                    let out =
                        generation_iteration(g, &ctx, &labels, steps, &mut bn, &mut rng, &device)
                            .expect("a generator step");
                    generator = Some(out.generator);
                });
                let per_step: Vec<f64> = ms.iter().map(|m| m / steps as f64).collect();
                report(&a, s.name, "generator", res, batch, &per_step);
            }
        }
        if a.step == "all" || a.step == "student" {
            let (mut optim, lr) = if rc.sgd {
                (StudentOptimizer::nayer_sgd(0.1).init(), 0.1)
            } else {
                let adamw = AdamWConfig::new()
                    .with_epsilon(1e-8)
                    .with_weight_decay(1e-4);
                (adamw.init(), 1e-3)
            };
            let ctx = StudentContext {
                teacher: &teacher,
                label_embeddings: &f_y,
                normalization: &norm,
                tau: 20.0,
                alpha_ed: if rc.nayer { 0.0 } else { 10.0 },
                radii,
                crop_padding: 4,
                flip: rc.flip,
            };
            let mut nets = Some((student, projection));
            for &(res, batch) in s.student_batch.iter().filter(|(r, _)| keep(*r)) {
                let images = Tensor::<4>::random(
                    [batch, s.channels, res, res],
                    Distribution::Default,
                    &device,
                );
                let labels = Tensor::<1, Int>::from_data(
                    muse::burn::tensor::TensorData::new(
                        (0..batch as i64).map(|i| i % 10).collect::<Vec<_>>(),
                        [batch],
                    ),
                    &device,
                );
                let ms = time(a.warmup, a.iters, || {
                    let (st, pr) = nets.take().expect("student");
                    let out = student_step(
                        st,
                        pr,
                        &mut optim,
                        lr,
                        &ctx,
                        images.clone(),
                        labels.clone(),
                        &mut rng,
                    )
                    .expect("a student step");
                    nets = Some((out.student, out.projection));
                });
                report(&a, s.name, "student", res, batch, &ms);
            }
        }
        let _ = s.native;
    }
}
