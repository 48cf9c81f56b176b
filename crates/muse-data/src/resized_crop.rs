//! Random resized crops, the scale augmentation ImageNet teachers are trained with
//! (torchvision's `RandomResizedCrop`): a window of random area and aspect ratio, resized back
//! to the input's side, so objects appear at many scales.

use burn::tensor::Tensor;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use rand::Rng;

/// One sample's window: rows `top..top + height`, columns `left..left + width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropWindow {
    /// First row.
    pub top: usize,
    /// First column.
    pub left: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// Draws a window as torchvision does: up to 10 tries of an area fraction uniform in
/// `[min_scale, 1]` and an aspect ratio log-uniform in [3/4, 4/3], kept when it fits; else the
/// whole image.
pub fn draw_crop_window(
    height: usize,
    width: usize,
    min_scale: f64,
    rng: &mut impl Rng,
) -> CropWindow {
    let area = (height * width) as f64;
    let (lo, hi) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
    for _ in 0..10 {
        let target = area * rng.random_range(min_scale..=1.0);
        let ratio = rng.random_range(lo..=hi).exp();
        let w = (target * ratio).sqrt().round() as usize;
        let h = (target / ratio).sqrt().round() as usize;
        if (1..=width).contains(&w) && (1..=height).contains(&h) {
            return CropWindow {
                top: rng.random_range(0..=height - h),
                left: rng.random_range(0..=width - w),
                height: h,
                width: w,
            };
        }
    }
    CropWindow {
        top: 0,
        left: 0,
        height,
        width,
    }
}

/// Cuts each sample's window and resizes it (bilinear) back to the input's side.
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - `windows`: `batch` entries
/// - output: same as `x`
pub fn resized_crop(x: Tensor<4>, windows: &[CropWindow]) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    assert_eq!(windows.len(), b, "one CropWindow per sample");
    let samples = windows
        .iter()
        .enumerate()
        .map(|(i, win)| {
            let s = x.clone().slice([
                i..i + 1,
                0..c,
                win.top..win.top + win.height,
                win.left..win.left + win.width,
            ]);
            if (win.height, win.width) == (h, w) {
                return s;
            }
            interpolate(
                s,
                InterpolateOptions::new(InterpolateMode::Bilinear)
                    .with_align_corners(false)
                    .with_output_size([h, w]),
            )
        })
        .collect();
    Tensor::cat(samples, 0)
}

/// [`draw_crop_window`] per sample, then [`resized_crop`].
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - output: same as `x`
pub fn random_resized_crop(x: Tensor<4>, min_scale: f64, rng: &mut impl Rng) -> Tensor<4> {
    let [b, _, h, w] = x.dims();
    let windows: Vec<CropWindow> = (0..b)
        .map(|_| draw_crop_window(h, w, min_scale, rng))
        .collect();
    resized_crop(x, &windows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use rand::SeedableRng;

    #[test]
    fn windows_fit_span_the_scale_range_and_keep_the_aspect_bounds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let windows: Vec<CropWindow> = (0..2000)
            .map(|_| draw_crop_window(64, 64, 0.25, &mut rng))
            .collect();
        for w in &windows {
            assert!(w.top + w.height <= 64 && w.left + w.width <= 64);
            // Area fraction in [0.25, 1] and ratio in [3/4, 4/3], up to rounding of the sides.
            let area = (w.height * w.width) as f64 / 4096.0;
            assert!((0.22..=1.0).contains(&area), "{w:?}");
            let ratio = w.width as f64 / w.height as f64;
            assert!((0.70..=1.43).contains(&ratio), "{w:?}");
        }
        let small = windows.iter().filter(|w| w.height * w.width < 1400).count();
        let large = windows.iter().filter(|w| w.height * w.width > 3600).count();
        assert!(small > 100 && large > 100, "{small} small, {large} large");
    }

    #[test]
    fn a_window_is_cut_and_resized_by_hand() {
        let device = muse_device::device();
        // One 4×4 image 0..16; window rows 1..3, columns 2..4 = [6 7; 10 11], resized to 4×4.
        let v: Vec<f32> = (0..16).map(|i| i as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(v, [1, 1, 4, 4]), &device);
        let win = CropWindow {
            top: 1,
            left: 2,
            height: 2,
            width: 2,
        };
        let out = resized_crop(x, &[win])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // Bilinear ×2 without corner alignment: the source coordinate of output column j is
        // (j + 0.5) / 2 − 0.5, clamped: 0, 0.25, 0.75, 1 → row [6, 6.25, 6.75, 7].
        let row = |a: f32, b: f32| [a, a + 0.25 * (b - a), a + 0.75 * (b - a), b];
        let r0 = row(6.0, 7.0);
        let r3 = row(10.0, 11.0);
        let mix = |t: f32| -> Vec<f32> { (0..4).map(|j| r0[j] + t * (r3[j] - r0[j])).collect() };
        let want: Vec<f32> = [0.0, 0.25, 0.75, 1.0]
            .iter()
            .flat_map(|&t| mix(t))
            .collect();
        for (o, w) in out.iter().zip(&want) {
            assert!((o - w).abs() < 1e-5, "{out:?} vs {want:?}");
        }
    }
}
