//! One student step of Algorithm 1 (METHOD.md §5): a pool batch, augmented (random crop +
//! flip), labelled by the frozen teacher, trains the student and its projection head on
//! `KL + α_ed·L_ED` (paper Eq. 8).

use burn::nn::Linear;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor};
use muse_data::{Normalization, random_crop_flip};
use muse_losses::{Radii, ed_loss, embedding_distance, kl_divergence};
use muse_models::{BnStats, Classifier};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::readback::read_values;

/// The student losses of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StudentLosses {
    /// KL divergence to the teacher (with `τ²`).
    pub kl: f32,
    /// Embedding diversity `L_ED`.
    pub ed: f32,
    /// `kl + α_ed·ed`.
    pub total: f32,
}

/// What a student step reads but does not train.
pub struct StudentContext<'a, T: Classifier> {
    /// The teacher, frozen.
    pub teacher: &'a T,
    /// Label embeddings `f_y`. `[num_classes, dim]`
    pub label_embeddings: &'a Tensor<2>,
    /// Normalisation applied before both networks.
    pub normalization: &'a Normalization,
    /// KL temperature (NAYER/Fast: 20).
    pub tau: f64,
    /// Weight of `L_ED` (0 for NAYER).
    pub alpha_ed: f64,
    /// Radii of the embedding-diversity game.
    pub radii: Radii,
    /// Random-crop padding.
    pub crop_padding: usize,
    /// Random horizontal flips.
    pub flip: bool,
}

/// What one student step returns.
pub struct StudentStep<S> {
    /// The student after the step.
    pub student: S,
    /// The projection head after the step.
    pub projection: Linear,
    /// The step's losses.
    pub losses: StudentLosses,
    /// Each sample's projected distance `d_b` (Eq. 9) before the step; empty when
    /// `α_ed` = 0.
    pub distances: Vec<f32>,
}

/// One optimisation step of the student and its projection head (one optimizer serves both;
/// its state is keyed by parameter). Losses and distances are read from the device at once.
///
/// # Shapes
/// - `images`: `[batch, channels, e, e]` in `[0, 1]`, any resolution the student accepts
/// - `labels`: `[batch]`, the pseudo labels the images were generated for
#[allow(clippy::too_many_arguments)]
pub fn student_step<T: Classifier, S: Classifier>(
    student: S,
    projection: Linear,
    optim: &mut ModuleOptimizer,
    lr: f64,
    ctx: &StudentContext<'_, T>,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    rng: &mut impl Rng,
) -> Result<StudentStep<S>, EngineError> {
    let aug = random_crop_flip(images, ctx.crop_padding, ctx.flip, rng);
    let xn = ctx.normalization.apply(aug)?;
    let teacher_logits = ctx.teacher.forward(xn.clone()).detach();
    let s = student.forward_taps(xn, BnStats::Skip);
    let kl = kl_divergence(s.logits, teacher_logits, ctx.tau)?;
    let ed_terms = if ctx.alpha_ed > 0.0 {
        let f_y = ctx.label_embeddings.clone().detach().select(0, labels);
        let d = embedding_distance(projection.forward(s.embedding), f_y)?;
        Some((ed_loss(d.clone(), ctx.radii.inner), d))
    } else {
        None
    };
    let total = match &ed_terms {
        Some((ed, _)) => kl.clone() + ed.clone() * ctx.alpha_ed,
        None => kl.clone(),
    };
    // One read from the device: kl, total, then ed and the distances when ED is on.
    let mut read = vec![kl, total.clone()];
    read.extend(ed_terms.into_iter().flat_map(|(ed, d)| [ed, d]));
    let v = read_values(read, "student losses")?;
    let losses = StudentLosses {
        kl: v[0],
        total: v[1],
        ed: v.get(2).copied().unwrap_or(0.0),
    };
    if !losses.total.is_finite() {
        return Err(EngineError::NonFinite {
            loss: "student",
            value: losses.total,
            epoch: 0,
            step: 0,
        });
    }
    let distances = v.get(3..).map(<[f32]>::to_vec).unwrap_or_default();
    let mut grads = total.backward();
    let gs = GradientsParams::from_module(&mut grads, &student);
    let gp = GradientsParams::from_module(&mut grads, &projection);
    let student = optim.step(lr, student, gs);
    let projection = optim.step(lr, projection, gp);
    Ok(StudentStep {
        student,
        projection,
        losses,
        distances,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_nets::{tiny_student, tiny_teacher};
    use burn::nn::LinearConfig;
    use burn::optim::AdamWConfig;
    use burn::tensor::{Distribution, TensorData};
    use rand::SeedableRng;

    #[test]
    fn repeated_steps_on_one_batch_bring_the_student_to_the_teacher() {
        let device = muse_device::autodiff_device();
        let teacher = tiny_teacher(&device).frozen();
        let mut student = tiny_student(&device);
        let mut projection = LinearConfig::new(student.embedding_dim(), 4).init(&device);
        let f_y = Tensor::<2>::random([3, 4], Distribution::Default, &device);
        let norm = Normalization::identity(1);
        let ctx = StudentContext {
            teacher: &teacher,
            label_embeddings: &f_y,
            normalization: &norm,
            tau: 4.0,
            alpha_ed: 10.0,
            radii: Radii {
                inner: 0.01,
                outer: 0.02,
            },
            crop_padding: 0,
            flip: false,
        };
        let images = Tensor::<4>::random([8, 1, 8, 8], Distribution::Default, &device);
        let labels = Tensor::<1, Int>::from_data(
            TensorData::new(vec![0i64, 1, 2, 0, 1, 2, 0, 1], [8]),
            &device,
        );
        let mut optim = AdamWConfig::new().with_epsilon(1e-8).init();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut history = Vec::new();
        for _ in 0..25 {
            let out = student_step(
                student,
                projection,
                &mut optim,
                3e-3,
                &ctx,
                images.clone(),
                labels.clone(),
                &mut rng,
            )
            .unwrap();
            // L_ED is the hinge of the returned (pre-step) distances at r_i = 0.01.
            assert_eq!(out.distances.len(), 8);
            let ed = out
                .distances
                .iter()
                .map(|d| (d - 0.01).max(0.0))
                .sum::<f32>()
                / 8.0;
            assert!(
                (ed - out.losses.ed).abs() < 1e-6,
                "{ed} vs {}",
                out.losses.ed
            );
            let total = out.losses.kl + 10.0 * out.losses.ed;
            assert!((total - out.losses.total).abs() < 1e-4 * total.max(1.0));
            student = out.student;
            projection = out.projection;
            history.push(out.losses);
        }
        let (first, last) = (history[0], history[24]);
        assert!(last.kl < first.kl * 0.5, "KL {} -> {}", first.kl, last.kl);
        assert!(last.ed < first.ed, "ED {} -> {}", first.ed, last.ed);
    }
}
