//! The ImageFolder layout (`root/<class>/<image>`, as Imagenette, Imagewoof and ImageNet's
//! validation set are usually arranged): classes are the sub-folders in sorted order; images
//! are resized so their shorter side is `resize`, then centre-cropped to `crop`×`crop`, RGB.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use crate::dataset::ImageDataset;
use crate::error::{DataError, io};

const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// Reads an ImageFolder tree. `resize` ≥ `crop` > 0 (e.g. 256 and 224 for ImageNet).
pub fn load_image_folder(root: &Path, resize: u32, crop: u32) -> Result<ImageDataset, DataError> {
    if crop == 0 || resize < crop {
        return Err(DataError::InvalidArgument(format!(
            "need resize >= crop > 0, got resize {resize}, crop {crop}"
        )));
    }
    if !root.is_dir() {
        return Err(DataError::MissingFolder {
            path: root.to_path_buf(),
            what: "one sub-folder of images per class".into(),
        });
    }
    let classes = sorted_entries(root, |p| p.is_dir())?;
    if classes.is_empty() {
        return Err(DataError::NoImages {
            path: root.to_path_buf(),
            what: "no class sub-folders; an image folder holds one sub-folder of .png/.jpg/.bmp \
                   images per class, an IDX folder `train-images-idx3-ubyte`, a CIFAR folder \
                   `data_batch_1.bin` or `train.bin`"
                .into(),
        });
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (label, dir) in classes.iter().enumerate() {
        let files = sorted_entries(dir, |p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })?;
        for file in files {
            pixels.extend(load_resized(&file, resize, crop)?);
            labels.push(label);
        }
    }
    let names = classes
        .iter()
        .map(|c| {
            c.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    if labels.is_empty() {
        return Err(DataError::NoImages {
            path: root.to_path_buf(),
            what: format!(
                "its class sub-folders ({}) hold no .png, .jpg, .jpeg or .bmp files",
                classes.len()
            ),
        });
    }
    let c = crop as usize;
    ImageDataset::new(pixels, labels, [3, c, c], names, root.to_path_buf())
}

/// The entries of `dir` that satisfy `keep`, sorted by path.
fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, DataError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    entries.sort();
    Ok(entries)
}

/// Decodes one image, resizes its shorter side to `resize`, centre-crops `crop`, and returns
/// planar RGB bytes (`[3, crop, crop]`).
fn load_resized(path: &Path, resize: u32, crop: u32) -> Result<Vec<u8>, DataError> {
    let img = image::ImageReader::open(path)
        .map_err(io(path))?
        .with_guessed_format()
        .map_err(io(path))?
        .decode()
        .map_err(|source| DataError::Image {
            path: path.to_path_buf(),
            source,
        })?
        .to_rgb8();
    let (w, h) = img.dimensions();
    let scale = resize as f64 / w.min(h) as f64;
    let (nw, nh) = (
        ((w as f64 * scale).round() as u32).max(crop),
        ((h as f64 * scale).round() as u32).max(crop),
    );
    let resized = image::imageops::resize(&img, nw, nh, FilterType::Triangle);
    let (x0, y0) = ((nw - crop) / 2, (nh - crop) / 2);
    let cropped = image::imageops::crop_imm(&resized, x0, y0, crop, crop).to_image();
    let n = (crop * crop) as usize;
    let mut planar = vec![0u8; 3 * n];
    for (i, px) in cropped.pixels().enumerate() {
        for ch in 0..3 {
            planar[ch * n + i] = px[ch];
        }
    }
    Ok(planar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::fixture;

    #[test]
    fn reads_classes_in_order_with_resize_and_centre_crop() {
        let d = load_image_folder(&fixture("folder/train"), 4, 4).unwrap();
        assert_eq!(d.class_names(), &["cat".to_string(), "dog".to_string()]);
        assert_eq!(
            (d.len(), d.shape(), d.labels()),
            (2, [3, 4, 4], &[0usize, 1][..])
        );
        // cat: 6×4, shorter side already 4, centre crop keeps columns 1..=4, all red (200,0,0).
        let (cat, _) = d.get(0).unwrap();
        assert!(cat[..16].iter().all(|&r| r == 200), "{cat:?}");
        assert!(cat[16..].iter().all(|&v| v == 0));
        // dog: uniform blue 8×8 shrunk to 4×4 stays blue.
        let (dog, _) = d.get(1).unwrap();
        assert!(dog[32..].iter().all(|&b| b == 255) && dog[..32].iter().all(|&v| v == 0));
    }

    #[test]
    fn missing_empty_and_unreadable_are_named_errors() {
        let e = load_image_folder(&fixture("no-such-folder"), 4, 4)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no-such-folder") && e.contains("not found"),
            "{e}"
        );
        let e = load_image_folder(&fixture("folder-bad"), 4, 4)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("broken.png") && e.contains("unreadable image"),
            "{e}"
        );
        let e = load_image_folder(&fixture("folder-empty"), 4, 4)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("folder-empty") && e.contains("holds no images"),
            "{e}"
        );
        assert!(load_image_folder(&fixture("folder/train"), 2, 4).is_err());
    }
}
