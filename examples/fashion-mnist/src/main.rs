//! Fashion-MNIST end to end with the library (what `muse train-teacher` + `muse distill` do,
//! in forty lines): train a LeNet-5 teacher on the real training set, forget the data, distil
//! it into a half-width ResNet-8 with MUSE (generation at 20 and 28 px), evaluate the student
//! on the real test set.
//!
//! ```text
//! cargo run --release -p example-fashion-mnist [-- TEACHER_EPOCHS DISTILL_EPOCHS]
//! ```
//! Needs Fashion-MNIST (Debian: `apt-get install dataset-fashion-mnist`).

use anyhow::Result;
use muse::data::{Split, load};
use muse::engine::{
    Distiller, Method, Observer, SupervisedConfig, default_ratio, evaluate, preset,
    train_supervised,
};
use muse::models::{Arch, ClassifierConfig};

/// Prints one line per finished phase.
struct Lines;

impl Observer for Lines {
    fn phase_started(&mut self, name: &str, steps: usize) {
        eprint!("{name} ({steps} steps)… ");
    }
    fn phase_finished(&mut self) {
        eprintln!("done");
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let teacher_epochs = args.next().transpose()?.unwrap_or(2);
    let distill_epochs = args.next().transpose()?.unwrap_or(6);
    let train = load("fashion-mnist", Split::Train, 28)?;
    let test = load("fashion-mnist", Split::Test, 28)?;
    let norm = train.normalization.clone();
    let device = muse_device::autodiff_device();

    // 1. A teacher, as the user would already have it.
    let teacher = ClassifierConfig::new(Arch::LeNet5, 10)
        .with_in_channels(1)
        .init(&device)?;
    let cfg = SupervisedConfig::new().with_epochs(teacher_epochs);
    let (teacher, _) = train_supervised(teacher, &train.data, &norm, &cfg, &device, &mut Lines)?;
    let t = evaluate(&teacher, &test.data, &norm, 500, &device, &mut Lines)?;
    println!("teacher top-1 {:.2}%", 100.0 * t.top1);
    drop(train); // from here on, no training data

    // 2. Data-free distillation: the preset at its own data ratio, shortened.
    let mut config = preset(
        "fashion-mnist",
        Method::Muse,
        default_ratio("fashion-mnist"),
    )?;
    config.teacher.weights = Some("in memory".into());
    config.epochs = distill_epochs;
    config.warmup_epochs = 1;
    let student = config.student_network(&device)?;
    let mut distiller = Distiller::new(config, teacher, student, norm.clone(), &device)?;
    while distiller.epoch() < distiller.config().epochs {
        let m = distiller.run_epoch(Some((&test.data, &norm)), &mut Lines)?;
        let a = m.accuracy.expect("evaluated");
        println!(
            "epoch {}: pool {:?}, student top-1 {:.2}%",
            m.epoch + 1,
            m.pool,
            100.0 * a.top1
        );
    }

    // 3. The student on the real test set.
    let s = evaluate(
        distiller.student(),
        &test.data,
        &norm,
        500,
        &device,
        &mut Lines,
    )?;
    println!(
        "teacher {:.2}% → student {:.2}% (top-5 {:.2}%)",
        100.0 * t.top1,
        100.0 * s.top1,
        100.0 * s.top5
    );
    Ok(())
}
