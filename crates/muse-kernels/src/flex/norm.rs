//! Batch normalisation: a Burn backend extension (`FastNormOps`) with the training-mode forward
//! (batch statistics), the affine form (running statistics), each with its activation fused,
//! and the per-channel moments of a tensor, all differentiable, on the kernels of
//! [`crate::norm`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::BatchNorm;
use burn::tensor::Tensor;

use super::{tensor, values};
use crate::norm::{self, NormGeometry};

/// Batch-norm operations supplied by this crate. Inputs are f32 `[batch, channels, …]`
/// (callers check; see [`crate::batch_norm`]).
#[backend_extension(Flex, Autodiff)]
pub trait FastNormOps: Backend {
    /// Training-mode batch norm followed by the activation of negative slope `slope` (1: none):
    /// `(output, statistics)` where the statistics are `[2, channels]` (batch mean, biased
    /// variance) and carry no gradient.
    fn fast_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// `act(x·scale + shift)` per channel (`scale`, `shift`: `[channels]`), differentiable in
    /// all three: a batch norm on running statistics and its activation in one pass.
    fn fast_scale_shift(
        x: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        slope: f64,
    ) -> FloatTensor<Self>;

    /// Per-channel batch mean and biased variance as `[2, channels]`, differentiable in `x`.
    fn fast_moments(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

fn geometry(x: &FlexTensor) -> NormGeometry {
    let shape = x.shape();
    NormGeometry {
        batch: shape[0],
        channels: shape[1],
        spatial: shape.iter().skip(2).product(),
    }
}

fn stats_tensor(mean: Vec<f32>, var: Vec<f32>) -> FlexTensor {
    let c = mean.len();
    tensor([mean, var].concat(), &[2, c])
}

impl FastNormOps for Flex {
    fn fast_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        slope: f64,
    ) -> (FlexTensor, FlexTensor) {
        let g = geometry(&x);
        let xs = values(&x);
        let (mean, var) = norm::moments(&g, &xs);
        let y = norm::normalize(
            &g,
            &xs,
            &values(&gamma),
            &values(&beta),
            &mean,
            &var,
            epsilon,
            slope as f32,
        );
        (tensor(y, x.shape().as_slice()), stats_tensor(mean, var))
    }

    fn fast_scale_shift(
        x: FlexTensor,
        scale: FlexTensor,
        shift: FlexTensor,
        slope: f64,
    ) -> FlexTensor {
        let y = norm::scale_shift(
            &geometry(&x),
            &values(&x),
            &values(&scale),
            &values(&shift),
            slope as f32,
        );
        tensor(y, x.shape().as_slice())
    }

    fn fast_moments(x: FlexTensor) -> FlexTensor {
        let (mean, var) = norm::moments(&geometry(&x), &values(&x));
        stats_tensor(mean, var)
    }
}

/// Backward of the training-mode batch norm: gradients of input, gamma and beta.
#[derive(Debug)]
struct BatchNormTrainBackward;

impl Backward<Flex, 3> for BatchNormTrainBackward {
    /// Input, gamma, beta, statistics, epsilon, slope.
    type State = (FlexTensor, FlexTensor, FlexTensor, FlexTensor, f64, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, gamma, beta, stats, epsilon, slope) = ops.state;
        let g = geometry(&x);
        let stats = values(&stats);
        let (mean, var) = stats.split_at(g.channels);
        let (dx, dgamma, dbeta) = norm::normalize_backward(
            &g,
            &values(&x),
            &values(&dy),
            &values(&gamma),
            &values(&beta),
            mean,
            var,
            epsilon,
            slope as f32,
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, tensor(dx, x.shape().as_slice()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, tensor(dgamma, &[g.channels]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, tensor(dbeta, &[g.channels]));
        }
    }
}

/// Backward of the affine form: gradients of input, scale and shift (the last two only when
/// asked for: a frozen teacher's are not).
#[derive(Debug)]
struct ScaleShiftBackward;

impl Backward<Flex, 3> for ScaleShiftBackward {
    /// Input, scale, shift, slope.
    type State = (FlexTensor, FlexTensor, FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_scale, node_shift] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, scale, shift, slope) = ops.state;
        let g = geometry(&x);
        let (dx, params) = norm::scale_shift_backward(
            &g,
            &values(&x),
            &values(&dy),
            &values(&scale),
            &values(&shift),
            slope as f32,
            node_scale.is_some() || node_shift.is_some(),
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, tensor(dx, x.shape().as_slice()));
        }
        if let Some((dscale, dshift)) = params {
            if let Some(node) = node_scale {
                grads.register::<Flex>(node.id, tensor(dscale, &[g.channels]));
            }
            if let Some(node) = node_shift {
                grads.register::<Flex>(node.id, tensor(dshift, &[g.channels]));
            }
        }
    }
}

/// Backward of the moments: the input gradient from the `[2, channels]` output gradient.
#[derive(Debug)]
struct MomentsBackward;

impl Backward<Flex, 1> for MomentsBackward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dstats = grads.consume::<Flex>(&ops.node);
        let (x, stats) = ops.state;
        if let Some(node) = node_x {
            let g = geometry(&x);
            let (stats, dstats) = (values(&stats), values(&dstats));
            let (dmean, dvar) = dstats.split_at(g.channels);
            let dx = norm::moments_backward(&g, &values(&x), &stats[..g.channels], dmean, dvar);
            grads.register::<Flex>(node.id, tensor(dx, x.shape().as_slice()));
        }
    }
}

impl<C: CheckpointStrategy> FastNormOps for Autodiff<Flex, C> {
    fn fast_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let guards = [x.node(), gamma.node(), beta.node()];
        let (xp, gp, bp) = (
            x.into_primitive(),
            gamma.into_primitive(),
            beta.into_primitive(),
        );
        let (y, stats) = <Flex as FastNormOps>::fast_batch_norm_train(
            xp.clone(),
            gp.clone(),
            bp.clone(),
            epsilon,
            slope,
        );
        let y = match BatchNormTrainBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, gp, bp, stats.clone(), epsilon, slope), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        };
        (y, <FloatTensor<Self>>::new(stats)) // untracked: no gradient through the statistics
    }

    fn fast_scale_shift(
        x: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        slope: f64,
    ) -> FloatTensor<Self> {
        let guards = [x.node(), scale.node(), shift.node()];
        let (xp, sp, tp) = (
            x.into_primitive(),
            scale.into_primitive(),
            shift.into_primitive(),
        );
        let y = <Flex as FastNormOps>::fast_scale_shift(xp.clone(), sp.clone(), tp.clone(), slope);
        match ScaleShiftBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, sp, tp, slope), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fast_moments(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let guards = [x.node()];
        let xp = x.into_primitive();
        let stats = <Flex as FastNormOps>::fast_moments(xp.clone());
        match MomentsBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, stats.clone()), stats),
            OpsKind::UnTracked(prep) => prep.finish(stats),
        }
    }
}

/// `[2, channels]` statistics → (mean, variance), `[channels]` each.
fn split(stats: Tensor<2>) -> (Tensor<1>, Tensor<1>) {
    let c = stats.dims()[1];
    let mean = stats.clone().slice([0..1, 0..c]).reshape([c]);
    (mean, stats.slice([1..2, 0..c]).reshape([c]))
}

/// Training-mode batch norm of `x` with `bn`'s affine parameters: `(output, batch mean, batch
/// variance)`, the statistics detached (the caller updates the running ones).
///
/// # Shapes
/// - `x`: `[batch, channels, …]`
/// - output: like `x`, then `[channels]` twice
pub(crate) fn batch_norm_train<const D: usize>(
    bn: &BatchNorm,
    x: Tensor<D>,
    slope: f64,
) -> (Tensor<D>, Tensor<1>, Tensor<1>) {
    let (y, stats) = <Dispatch as FastNormOps>::fast_batch_norm_train(
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
        slope,
    );
    let (mean, var) = split(Tensor::from_dispatch(stats).detach());
    (Tensor::from_dispatch(y), mean, var)
}

/// `act(x·scale + shift)` per channel, the activation of negative slope `slope` (1: none).
///
/// # Shapes
/// - `x`: `[batch, channels, …]`; `scale`, `shift`: `[channels]`
/// - output: like `x`
pub(crate) fn scale_shift<const D: usize>(
    x: Tensor<D>,
    scale: Tensor<1>,
    shift: Tensor<1>,
    slope: f64,
) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FastNormOps>::fast_scale_shift(
        x.into_dispatch(),
        scale.into_dispatch(),
        shift.into_dispatch(),
        slope,
    ))
}

/// Per-channel batch mean and biased variance, differentiable in `x`.
///
/// # Shapes
/// - `x`: `[batch, channels, …]`
/// - output: `[channels]` twice
pub(crate) fn moments<const D: usize>(x: Tensor<D>) -> (Tensor<1>, Tensor<1>) {
    split(Tensor::from_dispatch(
        <Dispatch as FastNormOps>::fast_moments(x.into_dispatch()),
    ))
}
