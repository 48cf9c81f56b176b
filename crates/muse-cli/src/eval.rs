//! `muse eval`, and the test-data loading shared by every command.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use muse::burn::tensor::Tensor;
use muse::data::{Loaded, Split, load};
use muse::engine::{ModelCard, bn_distance, evaluate};
use muse::models::{Arch, Classifier, ClassifierConfig, TapRecorder, load_classifier};

use crate::embedded;
use crate::progress::Bars;

/// Arguments of `muse eval`.
#[derive(Parser)]
pub struct Args {
    /// Weights: `.bpk` (the card beside it, `.json`, supplies architecture and input format), or a
    /// PyTorch `.pt`/`.pth`/`.safetensors` state dict (then pass --arch, and --width if narrow).
    #[arg(long)]
    model: PathBuf,
    /// Architecture (needed when the weights have no card).
    #[arg(long, value_parser = crate::values::arch())]
    arch: Option<Arch>,
    /// Channel multiplier (when the weights have no card).
    #[arg(long, default_value_t = 1.0)]
    width: f64,
    /// Data set: a built-in name (fashion-mnist, mnist, digits, fashion-mnist-1k), or a path.
    #[arg(long)]
    data: Option<String>,
    /// Resize the test images to this side (default: the card's resolution).
    #[arg(long)]
    image_size: Option<usize>,
    /// Input normalisation: cifar10, cifar100, imagenet, fashion-mnist, mnist, digits, none; or
    /// `MEAN,STD` for every channel, or the C means then the C standard deviations. Default: the
    /// card's, else the data set's.
    #[arg(long, value_parser = crate::values::normalization())]
    normalization: Option<crate::values::NormalizationArg>,
    /// Also report how far the real images are from the model's BatchNorm running statistics
    /// (the generator's L_BN on real batches, per layer): at a lower --image-size, the part of
    /// L_BN no image can remove.
    #[arg(long)]
    bn_stats: bool,
    /// Batch size of the --bn-stats batches (batch statistics depend on it; use the synthetic
    /// batch size of the run it should inform).
    #[arg(long, default_value_t = 64)]
    bn_batch: usize,
}

/// The test split of `data` (a built-in name, the embedded `fashion-mnist-1k`, or a path),
/// resized to `side` when given and different.
pub fn test_data(data: &str, side: Option<usize>) -> Result<Loaded> {
    let mut loaded = if data == embedded::TEST_SLICE {
        embedded::test_slice()?
    } else {
        load(data, Split::Test, side.unwrap_or(224) as u32)
            .with_context(|| format!("loading the test split of `{data}`"))?
    };
    if let Some(side) = side {
        loaded.data = loaded.data.resized(side)?;
    }
    Ok(loaded)
}

/// The training split of `data` (a built-in name or a path), resized to `side` when given and
/// different.
pub fn train_data(data: &str, side: Option<usize>) -> Result<Loaded> {
    let mut loaded = load(data, Split::Train, side.unwrap_or(224) as u32)
        .with_context(|| format!("loading the training split of `{data}`"))?;
    if let Some(side) = side {
        loaded.data = loaded.data.resized(side)?;
    }
    Ok(loaded)
}

/// Runs `muse eval`.
pub fn run(args: Args) -> Result<()> {
    let card =
        crate::card::card_unless_overridden(&args.model, args.arch, args.arch.map(|_| args.width))?;
    let device = muse_device::device();
    let (config, data_name, side, norm) = match (&card, args.arch) {
        (_, Some(arch)) => {
            let data = args.data.clone().unwrap_or_else(|| "fashion-mnist".into());
            let loaded = test_data(&data, args.image_size)?;
            let [c, ..] = loaded.data.shape();
            let config = ClassifierConfig::new(arch, loaded.data.num_classes())
                .with_in_channels(c)
                .with_width_mult(args.width);
            (config, data, args.image_size, Some(loaded))
        }
        (Some(card), None) => (
            card.classifier_config(),
            args.data.clone().unwrap_or_else(|| card.data.clone()),
            Some(args.image_size.unwrap_or(card.resolution)),
            None,
        ),
        (None, None) => bail!(
            "{} has no card ({}); pass --arch",
            args.model.display(),
            ModelCard::path_for(&args.model).display()
        ),
    };
    let loaded = match norm {
        Some(l) => l,
        None => test_data(&data_name, side)?,
    };
    let normalization = match (&args.normalization, &card) {
        (Some(spec), _) => spec.resolve(loaded.data.shape()[0])?,
        (None, Some(card)) => card.normalization.clone(),
        (None, None) => loaded.normalization.clone(),
    };
    let model = load_classifier(&config, &args.model, &device)?;
    let acc = evaluate(
        &model,
        &loaded.data,
        &normalization,
        500,
        &device,
        &mut Bars::default(),
    )?;
    println!(
        "{} ({}) on {} test: top-1 {:.2}%, top-5 {:.2}% of {} images",
        args.model.display(),
        card.as_ref()
            .map_or(args.arch.map_or("?", Arch::name), |c| c.arch.name()),
        data_name,
        100.0 * acc.top1,
        100.0 * acc.top5,
        acc.samples
    );
    // What a class activation map can shape at this side: the last feature map's size.
    let [c, h, w] = loaded.data.shape();
    let probe = Tensor::<4>::zeros([1, c, h, w], &device);
    let [_, channels, mh, mw] = model.features(probe, &mut TapRecorder::default()).dims();
    println!("at {h}x{w} px the last feature map (the CAM) is {channels} x {mh}x{mw}");
    if args.bn_stats {
        let per_layer = bn_distance(
            &model,
            &loaded.data,
            &normalization,
            args.bn_batch,
            &device,
            &mut Bars::default(),
        )?;
        let total: f64 = per_layer.iter().sum();
        let layers: Vec<String> = per_layer.iter().map(|v| format!("{v:.2}")).collect();
        println!(
            "BatchNorm-statistics distance of real batches of {} (L_BN, sum over {} layers): {total:.2}\n  per layer: {}",
            args.bn_batch,
            per_layer.len(),
            layers.join(" ")
        );
    }
    Ok(())
}
