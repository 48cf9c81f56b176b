//! The label-conditioned generator of MUSE (paper Table 5) on NAYER's `NLGenerator`
//! (METHOD.md §2): BatchNorm1d over the label embeddings, noisy layers re-initialised every
//! generation iteration, a linear map to `128·(h/4)·(w/4)`, two nearest-upsample + conv blocks
//! and a final conv with Sigmoid, so images come out in `[0, 1]`.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};
use muse_kernels::{Activation, batch_norm, batch_norm_act, upsample_nearest2};

use crate::error::GeneratorError;
use crate::spectral::SnConv2d;

/// Configuration of one [`Generator`] (one output resolution).
#[derive(Config, Debug)]
pub struct GeneratorConfig {
    /// Size of the label embeddings `f_y`.
    pub embedding_dim: usize,
    /// Number of classes: each noisy layer serves one chunk of this many samples.
    pub num_classes: usize,
    /// Output side in pixels (a multiple of 4).
    pub resolution: usize,
    /// Output channels.
    pub channels: usize,
    /// Samples per generated batch (fixes the number of noisy layers).
    pub batch_size: usize,
    /// Output size of the noisy layer.
    #[config(default = 1000)]
    pub noise_dim: usize,
    /// Base width: the first blocks have `2·ngf` channels, the last `ngf`.
    #[config(default = 64)]
    pub ngf: usize,
    /// Spectral normalisation of the three convolutions (paper Table 5).
    #[config(default = true)]
    pub spectral_norm: bool,
    /// A BatchNorm2d after the Sigmoid, as the paper's table lists (breaks the `[0, 1]` range).
    #[config(default = false)]
    pub output_bn: bool,
}

impl GeneratorConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), GeneratorError> {
        let bad = |field, reason: String| Err(GeneratorError::InvalidConfig { field, reason });
        for (field, v) in [
            ("embedding_dim", self.embedding_dim),
            ("num_classes", self.num_classes),
            ("channels", self.channels),
            ("batch_size", self.batch_size),
            ("noise_dim", self.noise_dim),
            ("ngf", self.ngf),
        ] {
            if v == 0 {
                return bad(field, "must be at least 1".into());
            }
        }
        if self.resolution < 4 || !self.resolution.is_multiple_of(4) {
            return bad(
                "resolution",
                format!("must be a positive multiple of 4, got {}", self.resolution),
            );
        }
        Ok(())
    }

    /// Builds the generator.
    pub fn init(&self, device: &Device) -> Result<Generator, GeneratorError> {
        self.validate()?;
        let s = self.resolution / 4;
        let wide = 2 * self.ngf;
        let sn = self.spectral_norm;
        Ok(Generator {
            label_bn: BatchNormConfig::new(self.embedding_dim).init(device),
            noisy: noisy_layers(self, device),
            fc: LinearConfig::new(self.noise_dim, wide * s * s).init(device),
            bn0: BatchNormConfig::new(wide).init(device),
            conv1: SnConv2d::new([wide, wide], 3, sn, device),
            bn1: BatchNormConfig::new(wide).init(device),
            conv2: SnConv2d::new([wide, self.ngf], 3, sn, device),
            bn2: BatchNormConfig::new(self.ngf).init(device),
            conv3: SnConv2d::new([self.ngf, self.channels], 3, sn, device),
            out_bn: self
                .output_bn
                .then(|| BatchNormConfig::new(self.channels).init(device)),
            num_classes: self.num_classes,
            resolution: self.resolution,
            wide,
        })
    }
}

/// `ceil(batch / classes)` noisy layers, weights N(0, 1), bias 0 (NAYER's re-initialisation).
fn noisy_layers(config: &GeneratorConfig, device: &Device) -> Vec<Linear> {
    (0..config.batch_size.div_ceil(config.num_classes))
        .map(|_| {
            let mut l = LinearConfig::new(config.embedding_dim, config.noise_dim).init(device);
            l.weight = Param::from_tensor(Tensor::random(
                [config.embedding_dim, config.noise_dim],
                Distribution::Normal(0.0, 1.0),
                device,
            ));
            l.bias = l.bias.map(|b| Param::from_tensor(b.val().zeros_like()));
            l
        })
        .collect()
}

/// MUSE's generator for one resolution.
#[derive(Module, Debug)]
pub struct Generator {
    /// BatchNorm1d over the label embeddings.
    pub label_bn: BatchNorm,
    /// The noisy layers `Z`, one per chunk of `num_classes` samples.
    pub noisy: Vec<Linear>,
    /// Linear map to the first feature map.
    pub fc: Linear,
    /// BatchNorm of the first feature map.
    pub bn0: BatchNorm,
    /// First 3×3 convolution (after ×2 upsampling).
    pub conv1: SnConv2d,
    /// Its BatchNorm.
    pub bn1: BatchNorm,
    /// Second 3×3 convolution (after ×2 upsampling).
    pub conv2: SnConv2d,
    /// Its BatchNorm.
    pub bn2: BatchNorm,
    /// Output convolution.
    pub conv3: SnConv2d,
    /// Optional BatchNorm2d after the Sigmoid.
    pub out_bn: Option<BatchNorm>,
    num_classes: usize,
    resolution: usize,
    wide: usize,
}

impl Generator {
    /// Output side in pixels.
    pub fn resolution(&self) -> usize {
        self.resolution
    }

    /// The largest batch the noisy layers cover.
    pub fn max_batch(&self) -> usize {
        self.noisy.len() * self.num_classes
    }

    /// Replaces the noisy layers with fresh ones (N(0, 1) weights, zero bias), as at the start
    /// of every generation iteration. The new parameters have new ids: build a new optimizer.
    pub fn reinit_noise(mut self, device: &Device) -> Self {
        let [dim, noise] = self.noisy[0].weight.val().dims();
        let config =
            GeneratorConfig::new(dim, self.num_classes, self.resolution, 1, self.max_batch())
                .with_noise_dim(noise);
        self.noisy = noisy_layers(&config, device);
        self
    }

    /// Images for the given label embeddings (one row per sample).
    ///
    /// # Shapes
    /// - `label_embeddings`: `[batch, embedding_dim]`, `batch ≤ max_batch()`
    /// - output: `[batch, channels, resolution, resolution]`, values in `[0, 1]`
    pub fn forward(&self, label_embeddings: Tensor<2>) -> Result<Tensor<4>, GeneratorError> {
        let [b, d] = label_embeddings.dims();
        let [dim, _] = self.noisy[0].weight.val().dims();
        if d != dim || b == 0 || b > self.max_batch() {
            return Err(GeneratorError::BadInput {
                dims: vec![b, d],
                reason: format!("expected 1..={} rows of {dim} values", self.max_batch()),
            });
        }
        let e = batch_norm(&self.label_bn, label_embeddings);
        let chunks: Vec<Tensor<2>> = (0..b.div_ceil(self.num_classes))
            .map(|i| {
                let rows = i * self.num_classes..((i + 1) * self.num_classes).min(b);
                self.noisy[i].forward(e.clone().slice([rows, 0..d]))
            })
            .collect();
        let z = Tensor::cat(chunks, 0); // [b, noise_dim]
        let s = self.resolution / 4;
        let x = self.fc.forward(z).reshape([b, self.wide, s, s]); // [b, 128, h/4, w/4]
        let x = batch_norm(&self.bn0, x);
        let lrelu = Activation::LeakyRelu(0.2);
        let x = batch_norm_act(&self.bn1, self.conv1.forward(upsample_nearest2(x)), lrelu); // [b, 128, h/2, w/2]
        let x = batch_norm_act(&self.bn2, self.conv2.forward(upsample_nearest2(x)), lrelu); // [b, 64, h, w]
        let x = sigmoid(self.conv3.forward(x)); // [b, c, h, w]
        Ok(match &self.out_bn {
            Some(bn) => batch_norm(bn, x),
            None => x,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::ModuleVisitor;
    use burn::tensor::TensorData;

    fn config(res: usize) -> GeneratorConfig {
        GeneratorConfig::new(8, 3, res, 1, 7)
            .with_ngf(4)
            .with_noise_dim(16)
    }

    #[test]
    fn output_shape_range_and_noisy_layer_count() {
        let device = muse_device::autodiff_device();
        for res in [8, 12, 20] {
            let g = config(res).init(&device).unwrap();
            assert_eq!(g.noisy.len(), 3); // ceil(7 / 3)
            let emb = Tensor::<2>::random([7, 8], Distribution::Default, &device);
            let x = g.forward(emb).unwrap();
            assert_eq!(x.dims(), [7, 1, res, res]);
            let v = x.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
            assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }

    #[test]
    fn upsampling_repeats_each_pixel_twice_in_both_directions() {
        let device = muse_device::device();
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]),
            &device,
        );
        let y = upsample_nearest2(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(
            y,
            vec![
                1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.
            ]
        );
    }

    #[test]
    fn every_parameter_trains_and_reinit_replaces_only_the_noise() {
        struct Ids(Vec<burn::module::ParamId>);
        impl ModuleVisitor for Ids {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                self.0.push(p.id);
            }
        }
        let device = muse_device::autodiff_device();
        let g = config(8).init(&device).unwrap();
        let emb = Tensor::<2>::random([5, 8], Distribution::Default, &device);
        let grads = g.forward(emb).unwrap().sum().backward();
        assert!(g.fc.weight.val().grad(&grads).is_some());
        assert!(g.noisy[0].weight.val().grad(&grads).is_some());
        assert!(g.conv1.weight.val().grad(&grads).is_some());
        assert!(g.label_bn.gamma.val().grad(&grads).is_some());
        // The third noisy layer serves rows 6..9, absent from a batch of 5.
        assert!(g.noisy[2].weight.val().grad(&grads).is_none());

        let mut before = Ids(Vec::new());
        g.visit(&mut before);
        let fc_before = g.fc.weight.id;
        let g = g.reinit_noise(&device);
        let mut after = Ids(Vec::new());
        g.visit(&mut after);
        assert_eq!(g.fc.weight.id, fc_before);
        let changed = before
            .0
            .iter()
            .zip(&after.0)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 6, "three noisy layers, weight and bias each");
        let bias = g.noisy[0].bias.as_ref().unwrap().val();
        assert_eq!(bias.abs().sum().into_scalar::<f32>(), 0.0);
    }

    #[test]
    fn bad_configs_and_inputs_are_named() {
        let device = muse_device::device();
        let err = config(10).init(&device).unwrap_err().to_string();
        assert!(err.contains("resolution"), "{err}");
        let err = GeneratorConfig::new(8, 0, 8, 1, 4)
            .init(&device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("num_classes"), "{err}");
        let g = config(8).init(&device).unwrap();
        assert!(g.forward(Tensor::zeros([10, 8], &device)).is_err());
        assert!(g.forward(Tensor::zeros([2, 5], &device)).is_err());
    }
}
