//! # muse-data
//!
//! Real image data for MUSE-rs, read from local files only: IDX (MNIST, Fashion-MNIST), CIFAR
//! binary batches, ImageFolder trees and scikit-learn's digits CSV, into one in-memory
//! [`ImageDataset`] of `u8` pixels. Batches become `[0, 1]` tensors ([`ImageDataset::batch`]),
//! are augmented on the tensor ([`random_crop_flip`], differentiable, so synthetic images use the
//! same code) and normalised with a preset ([`Normalization`]). Malformed files give a
//! [`DataError`] that names the file and the problem.

mod augment;
mod batch;
mod builtin;
mod bytes;
mod cifar;
mod dataset;
mod digits;
mod error;
mod folder;
mod idx;
mod normalize;
mod resize;
mod resized_crop;
mod scenes;

pub use augment::{CropFlip, crop_flip, draw_crop_flips, random_crop_flip};
pub use batch::{batch_indices, shuffled_indices};
pub use builtin::{
    BUILTIN, DIGITS_TRAIN, FASHION_MNIST_CLASSES, Loaded, Split, class_names, fashion_mnist_scenes,
    load,
};
pub use cifar::{CIFAR10_CLASSES, CifarKind, load_cifar};
pub use dataset::ImageDataset;
pub use digits::load_digits;
pub use error::DataError;
pub use folder::load_image_folder;
pub use idx::{idx_dataset, load_idx, read_idx_images, read_idx_labels};
pub use normalize::Normalization;
pub use resized_crop::{CropWindow, draw_crop_window, random_resized_crop, resized_crop};
pub use scenes::{Placement, SceneConfig};
