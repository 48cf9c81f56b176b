//! Helpers for the tests of this crate.

use burn::tensor::{Device, Int, Tensor, TensorData};

pub(crate) fn t1(d: &Device, v: Vec<f32>) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), d)
}

pub(crate) fn t2(d: &Device, v: Vec<f32>, shape: [usize; 2]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), d)
}

pub(crate) fn t4(d: &Device, v: Vec<f32>, shape: [usize; 4]) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, shape), d)
}

pub(crate) fn labels(d: &Device, v: Vec<i64>) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), d)
}

pub(crate) fn value<const D: usize>(t: Tensor<D>) -> f32 {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()[0]
}

pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

pub(crate) fn close(got: f32, want: f32) {
    assert!(
        (got - want).abs() <= 1e-5 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}
