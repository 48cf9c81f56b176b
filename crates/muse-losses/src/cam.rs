//! Class activation maps and MUSE's CAM loss (paper Eq. 5-6).
//!
//! `M_b = Σ_k w_k^{ŷ_b} A_k(x̂_b)` on the teacher's last feature map `A` (before pooling), raw:
//! no normalisation, no interpolation (METHOD.md §4). The loss pushes every location's
//! activation up to a target map:
//! `L_CAM = (1/(B·h·w)) · Σ_{b,i,j} max(0, M_target(i,j) − M_b(i,j))`.

use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{LossError, same_shape};

/// The target activation map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum CamTarget {
    /// The same value everywhere (paper Table 13: `Full(1)` works best).
    Full(f32),
    /// A centred Gaussian bump `peak · exp(−r² / (2σ²))`, with `σ` given as a fraction of the
    /// map side (`r` is measured in map cells).
    Gaussian {
        /// Value at the centre.
        peak: f32,
        /// Standard deviation as a fraction of the map side.
        sigma: f32,
    },
}

impl Default for CamTarget {
    fn default() -> Self {
        Self::Full(1.0)
    }
}

impl CamTarget {
    /// The target as an `[h, w]` map.
    pub fn map(&self, h: usize, w: usize, device: &burn::tensor::Device) -> Tensor<2> {
        match *self {
            Self::Full(v) => Tensor::full([h, w], v, device),
            Self::Gaussian { peak, sigma } => {
                let s = (sigma * h.max(w) as f32).max(1e-6);
                let (ci, cj) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
                let v: Vec<f32> = (0..h * w)
                    .map(|p| {
                        let (i, j) = ((p / w) as f32, (p % w) as f32);
                        let r2 = (i - ci).powi(2) + (j - cj).powi(2);
                        peak * (-r2 / (2.0 * s * s)).exp()
                    })
                    .collect();
                Tensor::from_data(TensorData::new(v, [h, w]), device)
            }
        }
    }
}

/// The class activation map of each sample for its own label.
///
/// # Shapes
/// - `feature_map`: `[batch, dim, h, w]`
/// - `classifier_weight`: `[classes, dim]` (PyTorch orientation)
/// - `labels`: `[batch]`
/// - output: `[batch, h, w]`
pub fn class_activation_map(
    feature_map: Tensor<4>,
    classifier_weight: Tensor<2>,
    labels: Tensor<1, Int>,
) -> Result<Tensor<3>, LossError> {
    let [b, d, h, w] = feature_map.dims();
    let [_, wd] = classifier_weight.dims();
    same_shape("cam", "classifier weight dim", &[d], &[wd])?;
    same_shape("cam", "labels", &[b], &labels.dims())?;
    let weights = classifier_weight.select(0, labels).reshape([b, 1, d]); // [b, 1, d]
    let maps = weights.matmul(feature_map.reshape([b, d, h * w])); // [b, 1, h·w]
    Ok(maps.reshape([b, h, w]))
}

/// The CAM loss of Eq. 6 against `target`.
///
/// # Shapes
/// - `cam`: `[batch, h, w]`
/// - output: `[1]`
pub fn cam_loss(cam: Tensor<3>, target: CamTarget) -> Tensor<1> {
    let [_, h, w] = cam.dims();
    let goal = target.map(h, w, &cam.device()).unsqueeze::<3>(); // [1, h, w]
    (goal - cam).clamp_min(0.0).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{close, labels, t2, t4, value, values};

    fn fixture(d: &burn::tensor::Device) -> (Tensor<4>, Tensor<2>) {
        // One sample, two channels of 1×2: A_0 = [1, 2], A_1 = [3, 4].
        // Class 0 weights [1, 0]; class 1 weights [0.5, −1].
        let a = t4(d, vec![1.0, 2.0, 3.0, 4.0], [1, 2, 1, 2]);
        let w = t2(d, vec![1.0, 0.0, 0.5, -1.0], [2, 2]);
        (a, w)
    }

    #[test]
    fn cam_and_loss_by_hand() {
        let d = muse_device::device();
        let (a, w) = fixture(&d);
        // Class 1: 0.5·[1, 2] − [3, 4] = [−2.5, −3].
        let m = class_activation_map(a.clone(), w.clone(), labels(&d, vec![1])).unwrap();
        assert_eq!(values(m.clone()), vec![-2.5, -3.0]);
        // max(0, 1 − M) = [3.5, 4], mean 3.75.
        close(value(cam_loss(m, CamTarget::Full(1.0))), 3.75);
        // Class 0: M = [1, 2]; target 1.5 -> [0.5, 0] -> 0.25.
        let m = class_activation_map(a, w, labels(&d, vec![0])).unwrap();
        close(value(cam_loss(m, CamTarget::Full(1.5))), 0.25);
    }

    #[test]
    fn gaussian_target_peaks_at_the_centre() {
        let d = muse_device::device();
        let g = values(
            CamTarget::Gaussian {
                peak: 2.0,
                sigma: 1.0 / 3.0,
            }
            .map(3, 3, &d),
        );
        // σ = 1 cell: centre 2, edge-adjacent 2·e^{−1/2}, corners 2·e^{−1}.
        close(g[4], 2.0);
        close(g[1], 2.0 * (-0.5f32).exp());
        close(g[0], 2.0 * (-1.0f32).exp());
    }

    #[test]
    fn gradient_reaches_the_feature_map_but_not_through_satisfied_cells() {
        let d = muse_device::autodiff_device();
        let (a, w) = fixture(&d);
        let a = a.require_grad();
        let m = class_activation_map(a.clone(), w, labels(&d, vec![0])).unwrap();
        let g = cam_loss(m, CamTarget::Full(1.5)).backward();
        // Only cell 0 (M = 1 < 1.5) is active: dL/dA_0(0) = −w_0^0 / 2 = −0.5; channel 1 has
        // weight 0.
        assert_eq!(values(a.grad(&g).unwrap()), vec![-0.5, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let d = muse_device::device();
        let (a, _) = fixture(&d);
        let w3 = t2(&d, vec![0.0; 6], [2, 3]);
        assert!(class_activation_map(a.clone(), w3, labels(&d, vec![0])).is_err());
        let w = t2(&d, vec![0.0; 4], [2, 2]);
        assert!(class_activation_map(a, w, labels(&d, vec![0, 1])).is_err());
    }
}
