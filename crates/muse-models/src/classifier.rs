//! The one trait every model of the zoo implements.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;

use crate::error::ModelError;
use crate::taps::{BnStats, TapRecorder, Taps};

/// An image classifier that ends in global average pooling followed by one linear layer, and
/// exposes the taps a distillation engine needs (METHOD.md §3).
///
/// Implementors provide [`features`](Classifier::features) and [`head`](Classifier::head); the
/// trait derives the rest, so every model produces logits, embedding, feature map, classifier
/// weight and BatchNorm statistics in one forward.
pub trait Classifier: Module {
    /// The last feature map before global pooling, recording BatchNorm taps into `rec`.
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, height, width]`
    /// - output: `[batch, embedding_dim, h', w']`
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4>;

    /// The final linear layer (Burn layout: weight `[embedding_dim, num_classes]`).
    fn head(&self) -> &Linear;

    /// Number of input channels the first convolution expects.
    fn in_channels(&self) -> usize;

    /// The smallest input side (in pixels) the network accepts.
    fn min_resolution(&self) -> usize {
        1
    }

    /// Number of classes.
    fn num_classes(&self) -> usize {
        self.head().weight.val().dims()[1]
    }

    /// Size of the penultimate embedding.
    fn embedding_dim(&self) -> usize {
        self.head().weight.val().dims()[0]
    }

    /// The classifier weight in PyTorch orientation. `[num_classes, embedding_dim]`
    fn classifier_weight(&self) -> Tensor<2> {
        self.head().weight.val().transpose()
    }

    /// Checks that an input of shape `dims` fits this network, without running it.
    fn check_input(&self, dims: [usize; 4]) -> Result<(), ModelError> {
        let [batch, channels, height, width] = dims;
        let bad = |reason: String| ModelError::BadInput {
            dims: dims.to_vec(),
            reason,
        };
        if batch == 0 {
            return Err(bad("the batch is empty".into()));
        }
        if channels != self.in_channels() {
            return Err(bad(format!(
                "the model takes {} input channels, the batch has {channels}",
                self.in_channels()
            )));
        }
        let min = self.min_resolution();
        if height < min || width < min {
            return Err(bad(format!(
                "the model needs at least {min}x{min} pixels, the batch is {height}x{width}"
            )));
        }
        Ok(())
    }

    /// Logits only; BatchNorm statistics are not computed.
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, height, width]`
    /// - output: `[batch, num_classes]`
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_taps(x, BnStats::Skip).logits
    }

    /// One forward pass returning every tap.
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, height, width]`
    /// - see [`Taps`] for the outputs
    fn forward_taps(&self, x: Tensor<4>, bn: BnStats) -> Taps {
        let mut rec = TapRecorder::new(bn);
        let feature_map = self.features(x, &mut rec);
        let [b, d, h, w] = feature_map.dims();
        let embedding = feature_map
            .clone()
            .reshape([b, d, h * w])
            .mean_dim(2)
            .reshape([b, d]);
        let logits = self.head().forward(embedding.clone());
        Taps {
            logits,
            embedding,
            feature_map,
            classifier_weight: self.classifier_weight(),
            bn: rec.into_bn(),
        }
    }

    /// The teacher's mode: BatchNorm normalises with its running statistics and never updates
    /// them, parameters get no gradients, yet gradients still flow to the input. Parameters are
    /// materialised first, so clones of the model made earlier stay trainable.
    fn frozen(self) -> Self
    where
        Self: Sized,
    {
        crate::materialize(&self);
        self.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arch, ClassifierConfig};
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::Distribution;
    use burn::tensor::Gradients;

    /// Every float tensor of a module (parameters and running statistics), as raw values.
    #[derive(Default)]
    struct Snapshot(Vec<Vec<f32>>);
    impl ModuleVisitor for Snapshot {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let v = param.val().inner().into_data().try_to_vec::<f32>().unwrap();
            self.0.push(v);
        }
    }

    /// Counts the float tensors of a module that received a gradient.
    struct GradCount<'a> {
        grads: &'a Gradients,
        with_grad: usize,
        total: usize,
    }
    impl ModuleVisitor for GradCount<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.total += 1;
            if param.val().grad(self.grads).is_some() {
                self.with_grad += 1;
            }
        }
    }

    fn snapshot<M: Module>(m: &M) -> Vec<Vec<f32>> {
        let mut s = Snapshot::default();
        m.visit(&mut s);
        s.0
    }

    #[test]
    fn frozen_teacher_passes_gradients_to_the_input_only_and_keeps_its_statistics() {
        let device = muse_device::autodiff_device();
        let teacher = ClassifierConfig::new(Arch::ResNet8, 10)
            .init(&device)
            .unwrap()
            .frozen();
        let before = snapshot(&teacher);
        let x = Tensor::<4>::random([4, 3, 16, 16], Distribution::Default, &device).require_grad();
        let taps = teacher.forward_taps(x.clone(), BnStats::Record);
        assert_eq!(taps.bn.len(), 9);
        // A BN-statistics-like loss plus the logits: every tap takes part.
        let mut loss = taps.logits.clone().sum();
        for tap in &taps.bn {
            loss = loss
                + (tap.batch_mean.clone() - tap.running_mean.clone())
                    .powi_scalar(2)
                    .sum()
                + (tap.batch_var.clone() - tap.running_var.clone())
                    .powi_scalar(2)
                    .sum();
        }
        let grads = loss.backward();
        let gx = x.grad(&grads).expect("the input must receive a gradient");
        let gx_abs: f32 = gx.abs().sum().into_scalar();
        assert!(gx_abs > 0.0, "input gradient is zero");
        let mut count = GradCount {
            grads: &grads,
            with_grad: 0,
            total: 0,
        };
        teacher.visit(&mut count);
        assert!(count.total > 20);
        assert_eq!(
            count.with_grad, 0,
            "a frozen teacher's parameter got a gradient"
        );
        assert_eq!(snapshot(&teacher), before, "running statistics changed");
    }

    #[test]
    fn unfrozen_model_on_autodiff_trains_and_updates_running_statistics() {
        // The counterpart of the test above, so that it cannot pass by accident.
        let device = muse_device::autodiff_device();
        let model = ClassifierConfig::new(Arch::LeNet5, 10)
            .with_in_channels(1)
            .init(&device)
            .unwrap();
        let before = snapshot(&model);
        let x = Tensor::<4>::random([4, 1, 12, 12], Distribution::Default, &device);
        let grads = model.forward(x).sum().backward();
        let mut count = GradCount {
            grads: &grads,
            with_grad: 0,
            total: 0,
        };
        model.visit(&mut count);
        assert!(count.with_grad > 0);
        assert_ne!(snapshot(&model.valid()), before);
    }

    #[test]
    fn first_bn_tap_matches_a_hand_computation_on_the_stem_output() {
        let device = muse_device::device();
        let model = ClassifierConfig::new(Arch::LeNet5, 3)
            .with_in_channels(1)
            .init(&device)
            .unwrap();
        let crate::AnyClassifier::LeNet5(lenet) = &model else {
            unreachable!()
        };
        let x = Tensor::<4>::random([3, 1, 8, 8], Distribution::Default, &device);
        let stem = lenet.conv1.conv.forward(x.clone());
        let [n, c, h, w] = stem.dims();
        let v = stem.into_data().try_to_vec::<f32>().unwrap();
        let taps = model.forward_taps(x, BnStats::Record);
        assert_eq!(taps.bn.len(), 3);
        let mean = taps.bn[0]
            .batch_mean
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let var = taps.bn[0]
            .batch_var
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for ch in 0..c {
            let xs: Vec<f64> = (0..n)
                .flat_map(|b| (0..h * w).map(move |p| (b, p)))
                .map(|(b, p)| v[((b * c + ch) * h * w) + p] as f64)
                .collect();
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            let var_hand = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64;
            assert!((mean[ch] as f64 - m).abs() < 1e-5, "mean of channel {ch}");
            assert!(
                (var[ch] as f64 - var_hand).abs() < 1e-5,
                "var of channel {ch}"
            );
        }
    }

    #[test]
    fn embedding_is_the_pooled_feature_map_and_logits_follow_the_head() {
        let device = muse_device::device();
        let model = ClassifierConfig::new(Arch::ResNet8, 4)
            .init(&device)
            .unwrap();
        let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Default, &device);
        let taps = model.forward_taps(x, BnStats::Skip);
        let fm = taps.feature_map.into_data().try_to_vec::<f32>().unwrap();
        let emb = taps
            .embedding
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let [b, d, h, w] = [2, 64, 2, 2];
        for i in 0..b * d {
            let m: f32 = fm[i * h * w..(i + 1) * h * w].iter().sum::<f32>() / (h * w) as f32;
            assert!((emb[i] - m).abs() < 1e-5);
        }
        // logits = emb · Wᵀ + bias, with W the [classes, dim] classifier weight.
        let wt = taps
            .classifier_weight
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let bias = model
            .head()
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let logits = taps.logits.into_data().try_to_vec::<f32>().unwrap();
        for s in 0..b {
            for k in 0..4 {
                let z: f32 = (0..d).map(|j| emb[s * d + j] * wt[k * d + j]).sum::<f32>() + bias[k];
                assert!((logits[s * 4 + k] - z).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn check_input_names_the_problem() {
        let device = muse_device::device();
        let model = ClassifierConfig::new(Arch::LeNet5, 10)
            .with_in_channels(1)
            .init(&device)
            .unwrap();
        assert!(model.check_input([2, 1, 28, 28]).is_ok());
        let err = model.check_input([2, 3, 28, 28]).unwrap_err().to_string();
        assert!(err.contains("1 input channels"), "{err}");
        let err = model.check_input([2, 1, 2, 2]).unwrap_err().to_string();
        assert!(err.contains("at least 4x4"), "{err}");
        assert!(model.check_input([0, 1, 28, 28]).is_err());
    }
}
