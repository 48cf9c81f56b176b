//! Convolution: a Burn backend extension (`FastConvOps`) whose flex implementation runs the
//! kernels of [`crate::conv`], and whose autodiff implementation registers their gradients.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, DType, Flex, TensorMetadata, backend_extension};
use burn::tensor::ops::ConvOptions;

use super::{tensor, values};
use crate::conv::{self, ConvGeometry};

/// A bias-free 2-D convolution supplied by this crate (the bias is added outside, with
/// ordinary differentiable tensor operations).
#[backend_extension(Flex, Autodiff)]
pub trait FastConvOps: Backend {
    /// `conv2d(x, weight)` with `options`.
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, height, width]`
    /// - `weight`: `[out_channels, in_channels / groups, kh, kw]`
    /// - output: `[batch, out_channels, oh, ow]`
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

/// The geometry when the kernels handle this call (f32, groups 1, consistent shapes).
fn geometry(x: &FlexTensor, w: &FlexTensor, o: &ConvOptions<2>) -> Option<ConvGeometry> {
    if x.dtype() != DType::F32 || w.dtype() != DType::F32 || o.groups != 1 {
        return None;
    }
    let (xs, ws) = (x.shape(), w.shape());
    let empty = xs.iter().chain(ws.iter()).any(|&d| d == 0);
    if xs.num_dims() != 4 || ws.num_dims() != 4 || xs[1] != ws[1] || empty {
        return None;
    }
    let g = ConvGeometry {
        batch: xs[0],
        in_channels: xs[1],
        height: xs[2],
        width: xs[3],
        out_channels: ws[0],
        kernel: [ws[2], ws[3]],
        stride: o.stride,
        padding: o.padding,
        dilation: o.dilation,
    };
    g.output_size().map(|_| g)
}

impl FastConvOps for Flex {
    fn fast_conv2d(x: FlexTensor, w: FlexTensor, o: ConvOptions<2>) -> FlexTensor {
        let Some(g) = geometry(&x, &w, &o) else {
            return <Flex as ModuleOps<Flex>>::conv2d(x, w, None, o);
        };
        crate::KERNEL_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let [oh, ow] = g.output_size().expect("checked by geometry");
        let y = conv::forward(&g, &values(&x), &values(&w));
        tensor(y, &[g.batch, g.out_channels, oh, ow])
    }
}

/// Backward of [`FastConvOps::fast_conv2d`]: the input and weight gradients of
/// [`crate::conv`], each only when its parent is tracked.
#[derive(Debug)]
struct FastConv2dBackward;

impl Backward<Flex, 2> for FastConv2dBackward {
    type State = (FlexTensor, FlexTensor, ConvGeometry);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, w, g) = ops.state;
        let dy = values(&dy);
        if let Some(node) = node_w {
            let dw = conv::grad_weight(&g, &values(&x), &dy);
            let [kh, kw] = g.kernel;
            grads.register::<Flex>(
                node.id,
                tensor(dw, &[g.out_channels, g.in_channels, kh, kw]),
            );
        }
        if let Some(node) = node_x {
            let dx = conv::grad_input(&g, &values(&w), &dy);
            let shape = [g.batch, g.in_channels, g.height, g.width];
            grads.register::<Flex>(node.id, tensor(dx, &shape));
        }
    }
}

impl<C: CheckpointStrategy> FastConvOps for Autodiff<Flex, C> {
    fn fast_conv2d(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        o: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let g = geometry(x.primitive(), w.primitive(), &o);
        let Some(g) = g else {
            return <Self as ModuleOps<Self>>::conv2d(x, w, None, o);
        };
        let guards = [x.node(), w.node()];
        let (xp, wp) = (x.into_primitive(), w.into_primitive());
        match FastConv2dBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = <Flex as FastConvOps>::fast_conv2d(xp.clone(), wp.clone(), o);
                prep.finish((xp, wp, g), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(<Flex as FastConvOps>::fast_conv2d(xp, wp, o)),
        }
    }
}

/// `conv2d(x, weight)` on flex tensors through [`FastConvOps`] (no bias).
///
/// # Shapes
/// - `x`: `[batch, in_channels, height, width]`; `weight`: `[out, in / groups, kh, kw]`
/// - output: `[batch, out, oh, ow]`
pub(crate) fn conv2d(
    x: burn::tensor::Tensor<4>,
    weight: burn::tensor::Tensor<4>,
    options: ConvOptions<2>,
) -> burn::tensor::Tensor<4> {
    burn::tensor::Tensor::from_dispatch(<burn::backend::Dispatch as FastConvOps>::fast_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        options,
    ))
}
