//! `muse train-teacher`: supervised training on real data, saving weights and their card.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use muse::engine::{ModelCard, SupervisedConfig, evaluate, train_supervised};
use muse::models::{Arch, ClassifierConfig, save_model};

use crate::eval::{test_data, train_data};
use crate::progress::Bars;

/// Arguments of `muse train-teacher`.
#[derive(Parser)]
pub struct Args {
    /// Data set: fashion-mnist, mnist, digits, or a path (IDX, CIFAR, ImageFolder, CSV).
    #[arg(long, default_value = "fashion-mnist")]
    data: String,
    /// Architecture (see `muse-models`: lenet5, resnet8, resnet18, wrn16-2, ...).
    #[arg(long, default_value = "lenet5", value_parser = crate::values::arch())]
    arch: Arch,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Channel multiplier.
    #[arg(long, default_value_t = 1.0)]
    width: f64,
    /// Resize every image to this side first (e.g. 64 for the high-resolution stand-in).
    #[arg(long)]
    image_size: Option<usize>,
    /// Samples per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Peak learning rate (AdamW, cosine decay).
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Multi-scale training: half the batches are resampled to a random side between this and
    /// the image size and fed at that side, so the teacher also works on the low-resolution
    /// images MUSE generates (e.g. `--min-side 32` with `--image-size 64`).
    #[arg(long)]
    min_side: Option<usize>,
    /// ImageNet-style scale augmentation: random resized crops covering this fraction of the
    /// image up to all of it (torchvision's `RandomResizedCrop(scale=(S, 1))`), resized back to
    /// the image size, instead of padded crops. ImageNet teachers use 0.08.
    #[arg(long, value_name = "S")]
    resized_crop: Option<f64>,
    /// Random horizontal flips (for data whose classes are left-right symmetric, such as
    /// Fashion-MNIST or CIFAR; not for digits).
    #[arg(long)]
    flip: bool,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the weights; the card goes beside them (`.json`).
    #[arg(long, default_value = "teacher.bpk")]
    out: PathBuf,
    /// Replace an existing teacher (weights or card) at --out.
    #[arg(long)]
    force: bool,
}

/// Refuses to overwrite a teacher without `force`, and finds an unwritable `out` before any
/// training: a file is created and removed in its directory.
fn check_out(out: &std::path::Path, force: bool) -> Result<()> {
    let card = ModelCard::path_for(out);
    for existing in [out, card.as_path()] {
        if existing.exists() && !force {
            bail!(
                "{} already exists; pass --force to replace it, or choose another --out",
                existing.display()
            );
        }
    }
    let dir = match out.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("{} is not writable", dir.display()))?;
    Ok(())
}

/// Runs `muse train-teacher`.
pub fn run(args: Args) -> Result<()> {
    check_out(&args.out, args.force)?;
    let train = train_data(&args.data, args.image_size)?;
    let test = test_data(&args.data, args.image_size)?;
    let [c, h, w] = train.data.shape();
    eprintln!(
        "{}: {} training and {} test images of {c}x{h}x{w}, {} classes; backend {}",
        args.data,
        train.data.len(),
        test.data.len(),
        train.data.num_classes(),
        muse_device::backend_name()
    );
    if let Some(m) = args.min_side
        && !(4..h).contains(&m)
    {
        bail!("--min-side {m} must be at least 4 and below the image side {h}");
    }
    let device = muse_device::autodiff_device();
    device.seed(args.seed);
    let model = ClassifierConfig::new(args.arch, train.data.num_classes())
        .with_in_channels(c)
        .with_width_mult(args.width)
        .init(&device)?;
    let config = SupervisedConfig::new()
        .with_epochs(args.epochs)
        .with_batch_size(args.batch_size)
        .with_lr(args.lr)
        .with_crop_padding((h / 14).max(1))
        .with_min_side(args.min_side)
        .with_resized_crop_min_scale(args.resized_crop)
        .with_flip(args.flip)
        .with_seed(args.seed);
    let mut bars = Bars::default();
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
        &train.normalization,
        500,
        &device,
        &mut bars,
    )?;
    save_model(&model, &args.out)?;
    ModelCard {
        arch: args.arch,
        width_mult: args.width,
        num_classes: train.data.num_classes(),
        channels: c,
        resolution: h,
        normalization: train.normalization.clone(),
        data: args.data.clone(),
        top1: Some(acc.top1),
        weights_crc32: None,
        selection: None,
    }
    .save_for(&args.out)?;
    println!(
        "{} on {}: epoch losses {:?}; test top-1 {:.2}%, top-5 {:.2}% on {} images; saved {} and {}",
        args.arch,
        args.data,
        losses,
        100.0 * acc.top1,
        100.0 * acc.top5,
        acc.samples,
        args.out.display(),
        ModelCard::path_for(&args.out).display()
    );
    Ok(())
}
