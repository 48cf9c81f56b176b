//! Trains a classifier of the zoo on a real data set and reports its test accuracy.
//!
//! ```text
//! cargo run --release -p example-train-teacher -- [--data fashion-mnist|digits|PATH]
//!     [--arch resnet8] [--epochs 2] [--width 1.0] [--out teacher.bpk]
//! ```

mod progress;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use muse::data::{Split, load};
use muse::engine::{SupervisedConfig, evaluate, train_supervised};
use muse::models::{Arch, ClassifierConfig, save_model};

struct Args {
    data: String,
    arch: Arch,
    epochs: usize,
    width: f64,
    out: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        data: "fashion-mnist".into(),
        arch: Arch::ResNet8,
        epochs: 2,
        width: 1.0,
        out: PathBuf::from("teacher.bpk"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => args.data = value()?,
            "--arch" => args.arch = value()?.parse()?,
            "--epochs" => args.epochs = value()?.parse().context("--epochs")?,
            "--width" => args.width = value()?.parse().context("--width")?,
            "--out" => args.out = value()?.into(),
            "-h" | "--help" => {
                println!(
                    "usage: example-train-teacher [--data fashion-mnist|digits|PATH] \
                     [--arch NAME] [--epochs N] [--width MULT] [--out FILE]\narchitectures: {}",
                    Arch::ALL.map(Arch::name).join(", ")
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}` (see --help)"),
        }
    }
    Ok(args)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let train = load(&args.data, Split::Train, 32)?;
    let test = load(&args.data, Split::Test, 32)?;
    let [c, h, w] = train.data.shape();
    println!(
        "{}: {} training and {} test images of {c}x{h}x{w}, {} classes; backend {}",
        args.data,
        train.data.len(),
        test.data.len(),
        train.data.num_classes(),
        muse_device::backend_name()
    );
    let device = muse_device::autodiff_device();
    let model = ClassifierConfig::new(args.arch, train.data.num_classes())
        .with_in_channels(c)
        .with_width_mult(args.width)
        .init(&device)?;
    let config = SupervisedConfig::new().with_epochs(args.epochs);
    let mut bars = progress::Bars::default();
    let (model, losses) = train_supervised(
        model,
        &train.data,
        &train.normalization,
        &config,
        &device,
        &mut bars,
    )?;
    let acc = evaluate(
        &model,
        &test.data,
        &test.normalization,
        500,
        &device,
        &mut bars,
    )?;
    save_model(&model, &args.out)?;
    println!(
        "{}: epoch losses {:?}; test top-1 {:.2}%, top-5 {:.2}% on {} images; saved to {}",
        args.arch,
        losses,
        100.0 * acc.top1,
        100.0 * acc.top5,
        acc.samples,
        args.out.display()
    );
    Ok(())
}
