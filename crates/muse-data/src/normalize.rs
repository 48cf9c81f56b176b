//! Per-channel mean/std normalisation and the presets of the usual data sets.

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::dataset::ImageDataset;
use crate::error::DataError;

/// Per-channel `(x − mean) / std` for images in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Channel means.
    pub mean: Vec<f32>,
    /// Channel standard deviations.
    pub std: Vec<f32>,
}

impl Normalization {
    /// Fashion-MNIST training set statistics.
    pub fn fashion_mnist() -> Self {
        Self::new(vec![0.2860], vec![0.3530])
    }

    /// `fashion-mnist-scenes` training set statistics. The mean is Fashion-MNIST's times the
    /// mean area an item covers (E[side²] / 64² = 0.472 for sides uniform in 20–64).
    pub fn fashion_mnist_scenes() -> Self {
        Self::new(vec![0.1355], vec![0.2734])
    }

    /// MNIST training set statistics.
    pub fn mnist() -> Self {
        Self::new(vec![0.1307], vec![0.3081])
    }

    /// scikit-learn digits (all 1797 images, pixels rescaled to `0..=255`).
    pub fn digits() -> Self {
        Self::new(vec![0.3053], vec![0.3759])
    }

    /// CIFAR-10, as in the DFKD code bases (Fast, NAYER).
    pub fn cifar10() -> Self {
        Self::new(vec![0.4914, 0.4822, 0.4465], vec![0.2023, 0.1994, 0.2010])
    }

    /// CIFAR-100, as in the DFKD code bases.
    pub fn cifar100() -> Self {
        Self::new(vec![0.5071, 0.4867, 0.4408], vec![0.2675, 0.2565, 0.2761])
    }

    /// ImageNet (and its subsets Imagenette, Imagewoof).
    pub fn imagenet() -> Self {
        Self::new(vec![0.485, 0.456, 0.406], vec![0.229, 0.224, 0.225])
    }

    /// The names [`Normalization::named`] accepts.
    pub const NAMES: [&'static str; 8] = [
        "cifar10",
        "cifar100",
        "imagenet",
        "fashion-mnist",
        "fashion-mnist-scenes",
        "mnist",
        "digits",
        "none",
    ];

    /// A preset by name (`none`: the identity on `channels` channels).
    pub fn named(name: &str, channels: usize) -> Option<Self> {
        Some(match name {
            "cifar10" => Self::cifar10(),
            "cifar100" => Self::cifar100(),
            "imagenet" => Self::imagenet(),
            "fashion-mnist" => Self::fashion_mnist(),
            "fashion-mnist-scenes" => Self::fashion_mnist_scenes(),
            "mnist" => Self::mnist(),
            "digits" => Self::digits(),
            "none" => Self::identity(channels),
            _ => return None,
        })
    }

    /// A preset name ([`NAMES`](Self::NAMES)) or explicit statistics for `channels` channels,
    /// comma-separated (see [`from_values`](Self::from_values)).
    pub fn parse(spec: &str, channels: usize) -> Result<Self, DataError> {
        if let Some(named) = Self::named(spec, channels) {
            return Ok(named);
        }
        let values: Vec<f32> = spec
            .split(',')
            .map(|v| v.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                DataError::InvalidArgument(format!(
                    "normalisation `{spec}`: not a known name ({}), nor a list of numbers",
                    Self::NAMES.join(", ")
                ))
            })?;
        Self::from_values(&values, channels)
    }

    /// Explicit statistics for `channels` channels: `[mean, std]` (the same for every channel,
    /// e.g. timm's `0.5, 0.5`) or `2·channels` numbers, the means then the standard deviations.
    pub fn from_values(values: &[f32], channels: usize) -> Result<Self, DataError> {
        let bad = |why: String| {
            DataError::InvalidArgument(format!(
                "normalisation statistics {values:?}: {why}; give MEAN,STD or {channels} means \
                 then {channels} standard deviations"
            ))
        };
        let (mean, std) = match values.len() {
            2 => (vec![values[0]; channels], vec![values[1]; channels]),
            n if n == 2 * channels => (values[..channels].to_vec(), values[channels..].to_vec()),
            n => return Err(bad(format!("{n} numbers for {channels} channel(s)"))),
        };
        if mean.iter().any(|m| !m.is_finite()) || std.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return Err(bad(
                "means must be finite and standard deviations positive".into()
            ));
        }
        Ok(Self::new(mean, std))
    }

    /// Mean 0, std 1: leaves images in `[0, 1]`.
    pub fn identity(channels: usize) -> Self {
        Self::new(vec![0.0; channels], vec![1.0; channels])
    }

    fn new(mean: Vec<f32>, std: Vec<f32>) -> Self {
        Self { mean, std }
    }

    /// Measures the statistics of a data set.
    pub fn measure(data: &ImageDataset) -> Self {
        let [c, h, w] = data.shape();
        let mut sum = vec![0f64; c];
        let mut sq = vec![0f64; c];
        for i in 0..data.len() {
            let (px, _) = data.get(i).expect("index below len");
            for ch in 0..c {
                for &p in &px[ch * h * w..(ch + 1) * h * w] {
                    let v = p as f64 / 255.0;
                    sum[ch] += v;
                    sq[ch] += v * v;
                }
            }
        }
        let n = (data.len() * h * w) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| ((s / n - m * m).max(0.0)).sqrt() as f32)
            .collect();
        Self::new(mean.into_iter().map(|m| m as f32).collect(), std)
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Checks that means and stds agree in length and every std is positive and finite.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.mean.is_empty() || self.mean.len() != self.std.len() {
            return Err(DataError::InvalidArgument(format!(
                "normalisation has {} means and {} stds",
                self.mean.len(),
                self.std.len()
            )));
        }
        if self.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
            || self.mean.iter().any(|m| !m.is_finite())
        {
            return Err(DataError::InvalidArgument(format!(
                "normalisation needs finite means and positive stds, got {self:?}"
            )));
        }
        Ok(())
    }

    /// `(x − mean) / std`, per channel.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - output: same
    pub fn apply(&self, x: Tensor<4>) -> Result<Tensor<4>, DataError> {
        let (mean, std) = self.broadcast(&x)?;
        Ok((x - mean) / std)
    }

    /// The inverse, `x · std + mean`, back to `[0, 1]` images.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - output: same
    pub fn invert(&self, x: Tensor<4>) -> Result<Tensor<4>, DataError> {
        let (mean, std) = self.broadcast(&x)?;
        Ok(x * std + mean)
    }

    fn broadcast(&self, x: &Tensor<4>) -> Result<(Tensor<4>, Tensor<4>), DataError> {
        self.validate()?;
        let c = x.dims()[1];
        if c != self.channels() {
            return Err(DataError::InvalidArgument(format!(
                "normalisation is for {} channels, the batch has {c}",
                self.channels()
            )));
        }
        let device = x.device();
        let t = |v: &[f32]| {
            Tensor::<1>::from_data(TensorData::new(v.to_vec(), [c]), &device).reshape([1, c, 1, 1])
        };
        Ok((t(&self.mean), t(&self.std)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parse_takes_names_and_explicit_statistics() {
        assert_eq!(
            Normalization::parse("imagenet", 3).unwrap(),
            Normalization::imagenet()
        );
        assert_eq!(
            Normalization::parse("0.5,0.5", 3).unwrap(),
            Normalization::new(vec![0.5; 3], vec![0.5; 3])
        );
        assert_eq!(
            Normalization::parse("0.1, 0.2, 0.3, 1, 2, 4", 3).unwrap(),
            Normalization::new(vec![0.1, 0.2, 0.3], vec![1.0, 2.0, 4.0])
        );
        for bad in ["0.5", "0.5,0", "0.5,-1", "1,2,3", "cifar", "0.5,nan"] {
            let e = Normalization::parse(bad, 3).unwrap_err().to_string();
            assert!(e.contains("normalisation"), "{bad}: {e}");
        }
        let e = Normalization::parse("1,2,3", 3).unwrap_err().to_string();
        assert!(e.contains("3 numbers for 3 channel(s)"), "{e}");
    }

    use super::*;

    #[test]
    fn apply_and_invert_by_hand() {
        let device = muse_device::device();
        let norm = Normalization::new(vec![0.5, 0.25], vec![0.5, 0.25]);
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.5, 1.0], [1, 2, 1, 2]),
            &device,
        );
        let y = norm.apply(x.clone()).unwrap();
        // channel 0: (1-.5)/.5 = 1, (0-.5)/.5 = -1; channel 1: (.5-.25)/.25 = 1, (1-.25)/.25 = 3
        assert_eq!(
            y.clone().into_data().try_to_vec::<f32>().unwrap(),
            vec![1.0, -1.0, 1.0, 3.0]
        );
        let back = norm
            .invert(y)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(back, vec![1.0, 0.0, 0.5, 1.0]);
    }

    #[test]
    fn mismatches_are_errors() {
        let device = muse_device::device();
        let x = Tensor::<4>::zeros([1, 3, 2, 2], &device);
        assert!(Normalization::fashion_mnist().apply(x).is_err());
        assert!(Normalization::new(vec![0.0], vec![0.0]).validate().is_err());
        assert!(
            Normalization::new(vec![0.0, 1.0], vec![1.0])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn measure_matches_hand_values() {
        // Pixels 0 and 255: mean 0.5, std 0.5.
        let d = ImageDataset::new(
            vec![0, 255],
            vec![0],
            [1, 1, 2],
            vec!["a".into()],
            "x".into(),
        )
        .unwrap();
        assert_eq!(
            Normalization::measure(&d),
            Normalization::new(vec![0.5], vec![0.5])
        );
    }
}
