//! The flex glue: Burn backend extensions whose flex implementations run this crate's slice
//! kernels and whose autodiff implementations register their gradients. Burn 0.22 routes a
//! call on a flex tensor to `impl … for Flex` and on a flex autodiff tensor to
//! `impl … for Autodiff<Flex, C>`.

pub(crate) mod conv;
pub(crate) mod norm;
pub(crate) mod upsample;

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::tensor::TensorData;

/// The contiguous `f32` values of a flex tensor (a copy only when it is a strided view).
pub(crate) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .expect("a contiguous f32 tensor has a slice")
                .to_vec(),
        ),
    }
}

/// A contiguous flex tensor of `shape` holding `values`.
pub(crate) fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}
