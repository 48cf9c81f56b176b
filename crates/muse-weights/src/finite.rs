//! Refusing weights that hold NaN or infinite values: such a network answers NaN to every
//! input, and everything downstream (label embeddings from class centres, losses, accuracy)
//! would report a problem far from its cause.

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::DType;

/// The paths of `module`'s float tensors holding a NaN or an infinite value, in module order.
pub fn non_finite_tensors<M: Module>(module: &M) -> Vec<String> {
    module
        .collect(None, None, false)
        .into_iter()
        .filter(|t| {
            let width = match t.dtype {
                DType::F32 => 4,
                DType::F64 => 8,
                _ => return false,
            };
            let Ok(bytes) = t.to_bytes() else {
                return false;
            };
            bytes.chunks_exact(width).any(|c| match width {
                4 => !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite(),
                _ => !f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                    .is_finite(),
            })
        })
        .map(|t| t.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Tensor, TensorData};

    #[test]
    fn a_nan_weight_is_named_and_a_fresh_module_has_none() {
        let device = muse_device::device();
        let mut fc: Linear = LinearConfig::new(4, 3).init(&device);
        assert!(non_finite_tensors(&fc).is_empty());
        let w = fc.weight.val();
        let mut values = w.to_data().try_to_vec::<f32>().unwrap();
        values[3] = f32::NAN;
        let shape = w.shape();
        fc.weight = Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), &device));
        assert_eq!(non_finite_tensors(&fc), vec!["weight".to_string()]);
        values_infinite(&mut fc, &device);
    }

    fn values_infinite(fc: &mut Linear, device: &burn::tensor::Device) {
        let b = fc.bias.as_ref().unwrap().val();
        let mut values = b.to_data().try_to_vec::<f32>().unwrap();
        values[0] = f32::INFINITY;
        let shape = b.shape();
        fc.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(values, shape),
            device,
        )));
        assert_eq!(
            non_finite_tensors(fc),
            vec!["weight".to_string(), "bias".to_string()]
        );
    }
}
