//! Knowledge-distillation KL divergence with temperature (paper Eq. 2; Hinton et al. 2015).
//!
//! `L_KL = τ² · (1/B) · Σ_b Σ_k p_t,bk · (log p_t,bk − log p_s,bk)`,
//! `p_t = softmax(t/τ)`, `p_s = softmax(s/τ)` ("batchmean", as NAYER and Fast).

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

use crate::error::{LossError, same_shape};

/// Per-sample `Σ_k p_t (log p_t − log p_s)` at temperature `tau`.
///
/// # Shapes
/// - `student`, `teacher`: `[batch, classes]`
/// - output: `[batch]`
pub fn kl_per_sample(
    student: Tensor<2>,
    teacher: Tensor<2>,
    tau: f64,
) -> Result<Tensor<1>, LossError> {
    same_shape("kl", "teacher logits", &student.dims(), &teacher.dims())?;
    if !(tau.is_finite() && tau > 0.0) {
        return Err(LossError::Parameter {
            loss: "kl",
            what: format!("temperature must be positive and finite, got {tau}"),
        });
    }
    let [b, _] = student.dims();
    let log_ps = log_softmax(student / tau, 1);
    let log_pt = log_softmax(teacher / tau, 1);
    let pt = log_pt.clone().exp();
    Ok((pt * (log_pt - log_ps)).sum_dim(1).reshape([b]))
}

/// `τ² · mean_b KL(p_t ‖ p_s)`: the student's distillation loss.
///
/// # Shapes
/// - `student`, `teacher`: `[batch, classes]`
/// - output: `[1]`
pub fn kl_divergence(
    student: Tensor<2>,
    teacher: Tensor<2>,
    tau: f64,
) -> Result<Tensor<1>, LossError> {
    Ok(kl_per_sample(student, teacher, tau)?.mean() * (tau * tau))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{close, t2, value};

    #[test]
    fn matches_hand_values() {
        let d = muse_device::device();
        // p_t = [0.75, 0.25], p_s = [0.5, 0.5]: 0.75 ln 1.5 + 0.25 ln 0.5 = 0.130812036
        let s = t2(&d, vec![0.0, 0.0], [1, 2]);
        let t = t2(&d, vec![3f32.ln(), 0.0], [1, 2]);
        close(value(kl_divergence(s, t, 1.0).unwrap()), 0.130_812_04);
        // Reference (Python, math module only):
        //   def sm(v): e=[exp(x) for x in v]; return [x/sum(e) for x in e]
        //   def kl(s,t,tau): pt=sm([x/tau for x in t]); ps=sm([x/tau for x in s])
        //                    return sum(a*log(a/b) for a,b in zip(pt,ps))*tau*tau
        //   (kl([1,-1,.5],[.2,.3,2],2) + kl([0,0,0],[3,0,-3],2)) / 2 = 1.2124290381959413
        let s = t2(&d, vec![1.0, -1.0, 0.5, 0.0, 0.0, 0.0], [2, 3]);
        let t = t2(&d, vec![0.2, 0.3, 2.0, 3.0, 0.0, -3.0], [2, 3]);
        close(value(kl_divergence(s, t, 2.0).unwrap()), 1.212_429);
    }

    #[test]
    fn gradient_reaches_the_student_and_vanishes_at_equality() {
        let d = muse_device::autodiff_device();
        let s = t2(&d, vec![1.0, -1.0, 0.5], [1, 3]).require_grad();
        let t = t2(&d, vec![0.2, 0.3, 2.0], [1, 3]);
        let grads = kl_divergence(s.clone(), t, 4.0).unwrap().backward();
        assert!(value(s.grad(&grads).unwrap().abs().sum()) > 1e-4);
        let same = kl_divergence(s.clone(), s.detach(), 4.0).unwrap();
        close(value(same), 0.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let d = muse_device::device();
        let a = t2(&d, vec![0.0; 6], [2, 3]);
        let b = t2(&d, vec![0.0; 4], [2, 2]);
        assert!(kl_divergence(a.clone(), b, 1.0).is_err());
        assert!(kl_divergence(a.clone(), a, 0.0).is_err());
    }
}
