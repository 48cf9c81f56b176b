//! Nearest ×2 upsampling: a Burn backend extension (`FastUpsampleOps`) on the kernels of
//! [`crate::upsample`], differentiable.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::Tensor;

use super::{tensor, values};
use crate::upsample;

/// Nearest-neighbour upsampling supplied by this crate.
#[backend_extension(Flex, Autodiff)]
pub trait FastUpsampleOps: Backend {
    /// Each pixel repeated in a 2×2 block.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - output: `[batch, channels, 2·height, 2·width]`
    fn fast_upsample2(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

fn doubled(shape: &[usize]) -> [usize; 4] {
    [shape[0], shape[1], 2 * shape[2], 2 * shape[3]]
}

impl FastUpsampleOps for Flex {
    fn fast_upsample2(x: FlexTensor) -> FlexTensor {
        let shape = x.shape();
        let y = upsample::upsample2(&values(&x), shape[3]);
        tensor(y, &doubled(shape.as_slice()))
    }
}

/// Backward of the upsampling: the 2×2 block sums of the output gradient.
#[derive(Debug)]
struct Upsample2Backward;

impl Backward<Flex, 1> for Upsample2Backward {
    /// The input's shape.
    type State = [usize; 4];

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        if let Some(node) = node_x {
            let shape = ops.state;
            let dx = upsample::upsample2_backward(&values(&dy), shape[3]);
            grads.register::<Flex>(node.id, tensor(dx, &shape));
        }
    }
}

impl<C: CheckpointStrategy> FastUpsampleOps for Autodiff<Flex, C> {
    fn fast_upsample2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let shape = x.primitive().shape();
        let state = [shape[0], shape[1], shape[2], shape[3]];
        let guards = [x.node()];
        let y = <Flex as FastUpsampleOps>::fast_upsample2(x.into_primitive());
        match Upsample2Backward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(state, y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

/// Nearest ×2 upsampling of flex tensors through [`FastUpsampleOps`].
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - output: `[batch, channels, 2·height, 2·width]`
pub(crate) fn upsample2(x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FastUpsampleOps>::fast_upsample2(
        x.into_dispatch(),
    ))
}
