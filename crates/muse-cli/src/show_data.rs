//! `muse show-data`: a grid picture of a data set's first images, to see what a teacher is
//! trained and evaluated on (e.g. `fashion-mnist-scenes` at 64 and at 32 px).

use std::path::PathBuf;

use anyhow::{Result, bail};
use muse::engine::{Images, grid, save_png};

use crate::eval::{test_data, train_data};

/// Arguments of `muse show-data`.
#[derive(clap::Args)]
pub struct Args {
    /// Data set: a built-in name or a path (as `train-teacher --data`).
    #[arg(long, default_value = "fashion-mnist")]
    data: String,
    /// Draw the training split instead of the test split.
    #[arg(long)]
    train: bool,
    /// Resize the images to this side first (e.g. 32 for half of a 64 px data set).
    #[arg(long)]
    image_size: Option<usize>,
    /// How many images, from the first.
    #[arg(long, default_value_t = 40)]
    count: usize,
    /// Images per row.
    #[arg(long, default_value_t = 10)]
    cols: usize,
    /// Where to write the PNG.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `muse show-data`.
pub fn run(args: Args) -> Result<()> {
    if args.count == 0 || args.cols == 0 {
        bail!("--count and --cols must be at least 1");
    }
    let loaded = if args.train {
        train_data(&args.data, args.image_size)?
    } else {
        test_data(&args.data, args.image_size)?
    };
    let data = loaded.data;
    let [c, h, w] = data.shape();
    if h != w || !(c == 1 || c == 3) {
        bail!("can draw square grey or RGB images only; these are {c}x{h}x{w}");
    }
    let n = args.count.min(data.len());
    let mut pixels = Vec::with_capacity(n * c * h * w);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let (image, label) = data.get(i).expect("index below len");
        pixels.extend_from_slice(image);
        labels.push(data.class_names()[label].clone());
    }
    let images = Images {
        pixels: &pixels,
        channels: c,
        side: h,
    };
    save_png(&grid(images, args.cols, 128, None), &args.out)?;
    println!(
        "wrote {} ({n} {}x{h}x{w} images of `{}`, {} split; by row: {})",
        args.out.display(),
        c,
        args.data,
        if args.train { "training" } else { "test" },
        labels.join(", ")
    );
    Ok(())
}
