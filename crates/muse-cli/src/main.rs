//! `muse`: train a teacher, distil it data-free (MUSE, MUSE-S or NAYER), evaluate a model.
//!
//! ```text
//! muse train-teacher --data fashion-mnist --arch lenet5 --epochs 5 --out teacher.bpk
//! muse distill                                   # the embedded Fashion-MNIST default
//! muse distill --preset fashion-mnist --teacher teacher.bpk --method nayer --out runs/x
//! muse distill --out runs/x --resume             # continue a killed run
//! muse embed-labels --names classes.txt --out emb.safetensors
//! muse export --model runs/x/student.bpk --format safetensors
//! muse eval --model runs/x/student.bpk --data fashion-mnist
//! muse plot runs/x                               # pictures/training.png from metrics.jsonl
//! muse compare runs/a runs/b --out ab.png        # top-1 against wall time, and a table
//! muse show-data --data fashion-mnist-scenes --out scenes.png
//! ```

mod alloc;
mod card;
mod compare;
mod distill;
mod embed_labels;
mod embedded;
mod eval;
mod export;
mod plots;
mod progress;
mod run_dir;
mod show_data;
mod train_teacher;
mod values;

use clap::{Parser, Subcommand};

/// Data-free knowledge distillation with MUSE.
#[derive(Parser)]
#[command(name = "muse", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a classifier of the zoo on real data (the teacher you would already have).
    TrainTeacher(train_teacher::Args),
    /// Distil a teacher into a student without its training data.
    Distill(Box<distill::Args>),
    /// Embed class names with the all-MiniLM-L6-v2 text encoder (label embeddings for distill).
    EmbedLabels(embed_labels::Args),
    /// Top-1 / top-5 accuracy of saved weights on a data set's test split.
    Eval(eval::Args),
    /// Write a trained model as safetensors under its PyTorch architecture's names.
    Export(export::Args),
    /// Draw a run's `pictures/training.png` again from its `metrics.jsonl` (e.g. a run made
    /// before the plot existed).
    Plot(plots::Args),
    /// Compare runs: top-1 against wall-clock time in one picture, and a table of final, best
    /// and equal-wall-time top-1.
    Compare(compare::Args),
    /// Draw a data set's first images as a grid (PNG).
    ShowData(show_data::Args),
    /// List the presets.
    Presets,
}

fn main() {
    alloc::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::TrainTeacher(args) => train_teacher::run(args),
        Command::Distill(args) => distill::run(*args),
        Command::EmbedLabels(args) => embed_labels::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => export::run(args),
        Command::Plot(args) => plots::run(args),
        Command::Compare(args) => compare::run(args),
        Command::ShowData(args) => show_data::run(args),
        Command::Presets => {
            for (name, what) in muse::engine::PRESETS {
                println!("{name:18} {what}");
            }
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {}", message(&e));
        std::process::exit(1);
    }
}

/// The error and its causes, each once: an error whose text already holds its cause's (`path:
/// cause` over `cause`) is not followed by that cause again.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
