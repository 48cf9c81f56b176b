//! # muse-device
//!
//! The one place where a cargo feature chooses Burn's backend. Library crates of MUSE-rs take a
//! `&Device` and enable no backend; binaries, examples and tests depend on this crate and pick
//! one with a feature: `flex` (default, Burn's pure-Rust CPU backend), `ndarray` (deprecated in
//! Burn 0.22, kept for users who know it), `wgpu` (Vulkan/Metal/DX12, or the CPU through Mesa's
//! lavapipe) or `cuda`. With several enabled, the order is cuda, wgpu, flex, ndarray; the
//! `BURN_DEVICE` environment variable (`flex`, `wgpu`, `cuda`, `ndarray`) overrides it.

use burn::tensor::Device;

/// The device for plain computation (evaluation, data preparation).
pub fn device() -> Device {
    Device::default()
}

/// The same device with autodiff on, for training.
pub fn autodiff_device() -> Device {
    device().autodiff()
}

/// A short name of the backend in use, for logs and benchmark labels.
pub fn backend_name() -> String {
    if let Ok(name) = std::env::var("BURN_DEVICE") {
        return name.to_lowercase();
    }
    let compiled = if cfg!(feature = "cuda") {
        "cuda"
    } else if cfg!(feature = "wgpu") {
        "wgpu"
    } else if cfg!(feature = "flex") {
        "flex"
    } else {
        "ndarray"
    };
    compiled.to_string()
}
