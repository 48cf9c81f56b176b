//! Random crop with zero padding and horizontal flip, on tensors, so the same code serves real
//! batches and (differentiably) synthetic ones. Apply it to `[0, 1]` images, before
//! normalisation, as torchvision's `RandomCrop(padding)` + `RandomHorizontalFlip` do.

use burn::tensor::Tensor;
use rand::Rng;

/// Where each sample's crop window starts in the padded image, and whether it is mirrored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropFlip {
    /// Row offset in `0..=2·pad`.
    pub dy: usize,
    /// Column offset in `0..=2·pad`.
    pub dx: usize,
    /// Mirror left-right.
    pub flip: bool,
}

/// Draws one [`CropFlip`] per sample.
pub fn draw_crop_flips(batch: usize, pad: usize, flip: bool, rng: &mut impl Rng) -> Vec<CropFlip> {
    (0..batch)
        .map(|_| CropFlip {
            dy: rng.random_range(0..=2 * pad),
            dx: rng.random_range(0..=2 * pad),
            flip: flip && rng.random_bool(0.5),
        })
        .collect()
}

/// Pads `x` with `pad` zeros on each side and cuts each sample's window at its offsets,
/// mirroring where asked. Gradients flow to `x`.
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - `params`: `batch` entries
/// - output: same as `x`
pub fn crop_flip(x: Tensor<4>, pad: usize, params: &[CropFlip]) -> Tensor<4> {
    let [b, _, h, w] = x.dims();
    assert_eq!(params.len(), b, "one CropFlip per sample");
    if pad == 0 && params.iter().all(|p| !p.flip) {
        return x;
    }
    let padded = if pad > 0 {
        x.pad(
            (pad, pad, pad, pad),
            burn::tensor::ops::PadMode::Constant(0.0),
        )
    } else {
        x
    };
    let samples = params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let s = padded.clone().slice([
                i..i + 1,
                0..padded.dims()[1],
                p.dy..p.dy + h,
                p.dx..p.dx + w,
            ]);
            if p.flip { s.flip([3]) } else { s }
        })
        .collect();
    Tensor::cat(samples, 0)
}

/// [`draw_crop_flips`] then [`crop_flip`].
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - output: same as `x`
pub fn random_crop_flip(x: Tensor<4>, pad: usize, flip: bool, rng: &mut impl Rng) -> Tensor<4> {
    let params = draw_crop_flips(x.dims()[0], pad, flip, rng);
    crop_flip(x, pad, &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use rand::SeedableRng;

    fn image(device: &burn::tensor::Device) -> Tensor<4> {
        // Two 1×2×3 images:  [1 2 3; 4 5 6]  and  [7 8 9; 10 11 12]
        let v: Vec<f32> = (1..=12).map(|i| i as f32).collect();
        Tensor::from_data(TensorData::new(v, [2, 1, 2, 3]), device)
    }

    #[test]
    fn crop_and_flip_by_hand() {
        let device = muse_device::device();
        let params = [
            CropFlip {
                dy: 0,
                dx: 0,
                flip: false,
            },
            CropFlip {
                dy: 1,
                dx: 2,
                flip: true,
            },
        ];
        let out = crop_flip(image(&device), 1, &params);
        let v = out.into_data().try_to_vec::<f32>().unwrap();
        // Sample 0, window at (0,0) of the zero-padded 4×5 image: [0 0 0; 0 1 2].
        // Sample 1, window at (1,2): [8 9 0; 11 12 0], mirrored: [0 9 8; 0 12 11].
        assert_eq!(v, vec![0., 0., 0., 0., 1., 2., 0., 9., 8., 0., 12., 11.]);
    }

    #[test]
    fn no_pad_no_flip_is_the_identity_and_random_draws_stay_in_range() {
        let device = muse_device::device();
        let x = image(&device);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let same = random_crop_flip(x.clone(), 0, false, &mut rng);
        assert_eq!(same.into_data(), x.into_data());
        let draws = draw_crop_flips(500, 2, true, &mut rng);
        assert!(draws.iter().all(|d| d.dy <= 4 && d.dx <= 4));
        assert!(draws.iter().any(|d| d.flip) && draws.iter().any(|d| !d.flip));
        assert!(draws.iter().any(|d| d.dy == 4) && draws.iter().any(|d| d.dx == 0));
    }

    #[test]
    fn gradients_flow_through_the_augmentation() {
        let device = muse_device::autodiff_device();
        let x = image(&device).require_grad();
        let params = [
            CropFlip {
                dy: 1,
                dx: 1,
                flip: true,
            },
            CropFlip {
                dy: 2,
                dx: 0,
                flip: false,
            },
        ];
        let grads = crop_flip(x.clone(), 1, &params).sum().backward();
        let g = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // Sample 0's window is centred and keeps every pixel. Sample 1's window (rows 2..4,
        // columns 0..3 of the padded 4×5 image) holds [0 10 11; 0 0 0]: only 10 and 11.
        assert_eq!(g, vec![1., 1., 1., 1., 1., 1., 0., 0., 0., 1., 1., 0.]);
    }
}
