//! Cross entropy of the teacher's prediction on a synthetic batch against its pseudo labels
//! (the generator's `L_CE`, paper Eq. 11; mean over the batch, no label smoothing).
//!
//! `L_CE = −(1/B) · Σ_b log softmax(t_b)[ŷ_b]`

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use crate::error::{LossError, same_shape};

/// Mean cross entropy.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `targets`: `[batch]`, class indices
/// - output: `[1]`
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Result<Tensor<1>, LossError> {
    let [b, _] = logits.dims();
    same_shape("cross_entropy", "targets", &[b], &targets.dims())?;
    let picked = log_softmax(logits, 1).gather(1, targets.reshape([b, 1])); // [b, 1]
    Ok(picked.mean().neg())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{close, labels, t2, value};

    #[test]
    fn matches_hand_values() {
        let d = muse_device::device();
        // −ln(0.75) for logits [ln 3, 0] and class 0.
        let l = t2(&d, vec![3f32.ln(), 0.0], [1, 2]);
        close(
            value(cross_entropy(l, labels(&d, vec![0])).unwrap()),
            0.287_682_1,
        );
        // (−log sm([1,−1,.5])[2] − log sm([0,2,0])[0]) / 2 = 1.6472508429319377 (Python)
        let l = t2(&d, vec![1.0, -1.0, 0.5, 0.0, 2.0, 0.0], [2, 3]);
        close(
            value(cross_entropy(l, labels(&d, vec![2, 0])).unwrap()),
            1.647_250_8,
        );
    }

    #[test]
    fn gradient_flows_and_shapes_are_checked() {
        let d = muse_device::autodiff_device();
        let l = t2(&d, vec![1.0, -1.0, 0.5], [1, 3]).require_grad();
        let g = cross_entropy(l.clone(), labels(&d, vec![1]))
            .unwrap()
            .backward();
        // d/dz = softmax − onehot: the target's entry is negative.
        let grad = crate::test_util::values(l.grad(&g).unwrap());
        assert!(grad[1] < 0.0 && grad[0] > 0.0);
        assert!(cross_entropy(l, labels(&d, vec![1, 2])).is_err());
    }
}
