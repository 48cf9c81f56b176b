//! `muse export`: a trained model (`.bpk` with its card) as a PyTorch-loadable safetensors file
//! under the names of the matching PyTorch architecture (torchvision or the DFKD CIFAR zoo).
//! The projection head used by L_ed is not part of the classifier and is not exported.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use muse::engine::ModelCard;
use muse::models::{export_safetensors, load_classifier, naming};

/// Arguments of `muse export`.
#[derive(Parser)]
pub struct Args {
    /// Weights to export (`.bpk`, with its `.json` card beside it).
    #[arg(long)]
    model: PathBuf,
    /// Output format; only `safetensors` (PyTorch cannot be written from Rust).
    #[arg(long, default_value = "safetensors", value_parser = crate::values::export_format())]
    format: String,
    /// Output file (default: the model's path with extension `.safetensors`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    // --format has one possible value (checked by the argument parser).
    let card = ModelCard::load_for(&args.model)?.with_context(|| {
        format!(
            "{} has no card ({}): it says which architecture the weights are",
            args.model.display(),
            ModelCard::path_for(&args.model).display()
        )
    })?;
    let naming = naming(card.arch)?;
    let device = muse_device::device();
    let model = load_classifier(&card.classifier_config(), &args.model, &device)?;
    let out = args
        .out
        .unwrap_or_else(|| args.model.with_extension("safetensors"));
    export_safetensors(&model, card.arch, &out)?;
    println!(
        "{} ({} ×{}, {} classes, {:?} names) → {}",
        args.model.display(),
        card.arch.name(),
        card.width_mult,
        card.num_classes,
        naming,
        out.display()
    );
    println!(
        "PyTorch: model.load_state_dict(safetensors.torch.load_file({:?})); inputs normalised with mean {:?}, std {:?}",
        out.display().to_string(),
        card.normalization.mean,
        card.normalization.std
    );
    Ok(())
}
