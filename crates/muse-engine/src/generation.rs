//! One generation iteration of Algorithm 1 for one resolution (METHOD.md §5): fresh noisy
//! layers and a fresh Adam, `g` steps minimising the generator loss of paper Eq. 11,
//! `α_ce·CE + α_adv·Adv + α_bn·BN + α_cam·CAM + α_aed·AED`, keeping the batch with the lowest
//! loss.

use burn::config::Config;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use muse_data::{Normalization, random_crop_flip};
use muse_generator::Generator;
use muse_losses::{
    BnMomentum, CamTarget, Radii, adversarial_kl, aed_loss, cam_loss, class_activation_map,
    cross_entropy, embedding_distance,
};
use muse_models::{BnStats, BnTap, Classifier};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::readback::read_values;

/// The generator loss weights of Eq. 11 (defaults: paper Sec. 4.1).
#[derive(Config, Debug, PartialEq)]
pub struct GeneratorLossWeights {
    /// Cross entropy of the teacher on the pseudo labels.
    #[config(default = 0.5)]
    pub ce: f64,
    /// Masked adversarial KL (off during warm-up regardless).
    #[config(default = 1.3)]
    pub adv: f64,
    /// BatchNorm statistics.
    #[config(default = 10.0)]
    pub bn: f64,
    /// Class activation maps (0 for NAYER).
    #[config(default = 0.1)]
    pub cam: f64,
    /// Adversarial embedding diversity (0 for NAYER).
    #[config(default = 5.0)]
    pub aed: f64,
}

/// The generator losses of one step (unweighted) and their weighted total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneratorLosses {
    /// Cross entropy.
    pub ce: f32,
    /// Adversarial KL (negative).
    pub adv: f32,
    /// BatchNorm statistics.
    pub bn: f32,
    /// CAM.
    pub cam: f32,
    /// Adversarial embedding diversity.
    pub aed: f32,
    /// Weighted total.
    pub total: f32,
}

/// Everything a generation iteration reads but does not train.
pub struct GenerationContext<'a, T: Classifier, S: Classifier> {
    /// The teacher, frozen ([`Classifier::frozen`]), on the autodiff device.
    pub teacher: &'a T,
    /// The student, frozen (eval mode) for this phase.
    pub student: &'a S,
    /// The student's projection head into the label-embedding space, frozen; `None` turns
    /// `L_AED` off.
    pub projection: Option<&'a Linear>,
    /// Label embeddings `f_y`. `[num_classes, dim]`
    pub label_embeddings: &'a Tensor<2>,
    /// Normalisation applied before teacher and student see the images.
    pub normalization: &'a Normalization,
    /// Loss weights.
    pub weights: &'a GeneratorLossWeights,
    /// CAM target map.
    pub cam_target: CamTarget,
    /// Radii of the embedding-diversity game.
    pub radii: Radii,
    /// Whether the adversarial term is on (it is off during warm-up).
    pub adversarial: bool,
    /// The teacher's last BatchNorm layers left out of `L_BN` (0: none).
    pub bn_skip_last: usize,
    /// Random-crop padding of the synthesis-time augmentation.
    pub crop_padding: usize,
    /// Random horizontal flips of the synthesis-time augmentation.
    pub flip: bool,
    /// Generator learning rate (paper: 4e-3, Adam betas (0.5, 0.999)).
    pub lr: f64,
}

/// What a generation iteration returns.
pub struct Generated {
    /// The generator after its `g` steps.
    pub generator: Generator,
    /// The lowest-loss batch, detached, in `[0, 1]`. `[batch, channels, e, e]`
    pub images: Tensor<4>,
    /// The losses of that batch.
    pub losses: GeneratorLosses,
}

/// Checks that leaving the last `skip` of a teacher's `layers` BatchNorms out of `L_BN` keeps
/// at least one in.
pub(crate) fn check_bn_skip(skip: usize, layers: usize) -> Result<(), EngineError> {
    if skip >= layers {
        return Err(EngineError::InvalidConfig {
            field: "generation.bn_skip_last",
            reason: format!(
                "leaves out {skip} of the teacher's {layers} BatchNorm layers; at least one must stay in L_BN"
            ),
        });
    }
    Ok(())
}

/// Runs one generation iteration: re-initialises the noisy layers, builds a new Adam, takes
/// `steps` steps on the pseudo labels `labels`, updates the BN-statistics momentum with the
/// last step's statistics, and returns the lowest-loss batch.
pub fn generation_iteration<T: Classifier, S: Classifier>(
    generator: Generator,
    ctx: &GenerationContext<'_, T, S>,
    labels: &[usize],
    steps: usize,
    bn_momentum: &mut BnMomentum,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<Generated, EngineError> {
    if steps == 0 || labels.is_empty() {
        return Err(EngineError::InvalidConfig {
            field: "generator_steps",
            reason: "a generation iteration needs at least one step and one label".into(),
        });
    }
    let mut generator = generator.reinit_noise(device);
    let mut optim = AdamConfig::new()
        .with_beta_1(0.5)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init();
    let b = labels.len();
    let y = Tensor::<1, Int>::from_data(
        TensorData::new(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [b]),
        device,
    );
    let f_y = ctx.label_embeddings.clone().detach().select(0, y.clone()); // [b, dim]
    let w = ctx.weights;
    let mut best: Option<(Tensor<4>, GeneratorLosses)> = None;
    let mut last_taps: Vec<BnTap> = Vec::new();
    for step in 0..steps {
        let x = generator.forward(f_y.clone())?; // [b, c, e, e]
        let aug = random_crop_flip(x.clone(), ctx.crop_padding, ctx.flip, rng);
        let xn = ctx.normalization.apply(aug)?;
        let t = ctx.teacher.forward_taps(xn.clone(), BnStats::Record);
        let ce = cross_entropy(t.logits.clone(), y.clone())?;
        let mut taps = t.bn;
        let layers = taps.len();
        check_bn_skip(ctx.bn_skip_last, layers)?;
        taps.truncate(layers - ctx.bn_skip_last);
        let bn = bn_momentum.loss(&taps)?;
        let mut total = ce.clone() * w.ce + bn.clone() * w.bn;
        let zero = Tensor::<1>::zeros([1], device);
        let (mut cam_t, mut adv_t, mut aed_t) = (zero.clone(), zero.clone(), zero);
        if w.cam > 0.0 {
            let m = class_activation_map(
                t.feature_map.clone(),
                t.classifier_weight.clone(),
                y.clone(),
            )?;
            cam_t = cam_loss(m, ctx.cam_target);
            total = total + cam_t.clone() * w.cam;
        }
        let want_adv = ctx.adversarial && w.adv > 0.0;
        let want_aed = w.aed > 0.0 && ctx.projection.is_some();
        if want_adv || want_aed {
            let s = ctx.student.forward_taps(xn, BnStats::Skip);
            if want_adv {
                adv_t = adversarial_kl(s.logits, t.logits.clone())?;
                total = total + adv_t.clone() * w.adv;
            }
            if let (true, Some(p)) = (want_aed, ctx.projection) {
                let d = embedding_distance(p.forward(s.embedding), f_y.clone())?;
                aed_t = aed_loss(d, ctx.radii.outer);
                total = total + aed_t.clone() * w.aed;
            }
        }
        // One read from the device for all six values.
        let v = read_values(
            vec![ce, adv_t, bn, cam_t, aed_t, total.clone()],
            "generator losses",
        )?;
        let losses = GeneratorLosses {
            ce: v[0],
            adv: v[1],
            bn: v[2],
            cam: v[3],
            aed: v[4],
            total: v[5],
        };
        if !losses.total.is_finite() {
            return Err(EngineError::NonFinite {
                loss: "generator",
                value: losses.total,
                epoch: 0,
                step,
            });
        }
        if best.as_ref().is_none_or(|(_, l)| losses.total < l.total) {
            best = Some((x.detach(), losses));
        }
        last_taps = taps;
        let grads = GradientsParams::from_grads(total.backward(), &generator);
        generator = optim.step(ctx.lr, generator, grads);
    }
    bn_momentum.update(&last_taps);
    let (images, losses) = best.expect("at least one step ran");
    Ok(Generated {
        generator,
        images,
        losses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_nets::{tiny_student, tiny_teacher};
    use burn::module::Module;
    use burn::nn::LinearConfig;
    use burn::tensor::Distribution;
    use muse_generator::GeneratorConfig;
    use rand::SeedableRng;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.inner()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap()
    }

    /// A generator of 6 images of 8 px for 8-dim label embeddings.
    fn tiny_generator(device: &Device) -> Generator {
        GeneratorConfig::new(8, 3, 8, 1, 6)
            .with_ngf(4)
            .with_noise_dim(16)
            .init(device)
            .unwrap()
    }

    /// The tests' context: radii (0.05, 0.1), a `Full(1)` CAM target, adversarial on, every
    /// BatchNorm in L_BN, 1 px crops, no flips.
    fn context<'a, T: Classifier, S: Classifier>(
        teacher: &'a T,
        student: &'a S,
        projection: Option<&'a Linear>,
        label_embeddings: &'a Tensor<2>,
        normalization: &'a Normalization,
        weights: &'a GeneratorLossWeights,
    ) -> GenerationContext<'a, T, S> {
        GenerationContext {
            teacher,
            student,
            projection,
            label_embeddings,
            normalization,
            weights,
            cam_target: CamTarget::Full(1.0),
            radii: Radii {
                inner: 0.05,
                outer: 0.1,
            },
            adversarial: true,
            bn_skip_last: 0,
            crop_padding: 1,
            flip: false,
            lr: 4e-3,
        }
    }

    #[test]
    fn an_iteration_trains_the_generator_only_and_keeps_the_best_batch() {
        let device = muse_device::autodiff_device();
        let teacher = tiny_teacher(&device).frozen();
        let student = tiny_student(&device).frozen();
        let projection = LinearConfig::new(student.embedding_dim(), 8)
            .init(&device)
            .freeze();
        let f_y = Tensor::<2>::random([3, 8], Distribution::Default, &device);
        let generator = tiny_generator(&device);
        let fc_before = values(generator.fc.weight.val());
        let teacher_before = values(teacher.head().weight.val());
        let norm = Normalization::identity(1);
        let weights = GeneratorLossWeights::new();
        let ctx = context(&teacher, &student, Some(&projection), &f_y, &norm, &weights);
        let mut mmt = BnMomentum::new(0.9);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let out = generation_iteration(
            generator,
            &ctx,
            &[0, 1, 2, 0, 1, 2],
            3,
            &mut mmt,
            &mut rng,
            &device,
        )
        .unwrap();
        assert_eq!(out.images.dims(), [6, 1, 8, 8]);
        assert!(values(out.images).iter().all(|v| (0.0..=1.0).contains(v)));
        let l = out.losses;
        assert!(l.total.is_finite() && l.ce > 0.0 && l.bn > 0.0 && l.cam >= 0.0 && l.aed >= 0.0);
        assert_ne!(
            values(out.generator.fc.weight.val()),
            fc_before,
            "generator did not move"
        );
        assert_eq!(values(teacher.head().weight.val()), teacher_before);
        assert_eq!(
            mmt.average().unwrap().len(),
            3,
            "one average per teacher BatchNorm"
        );
    }

    #[test]
    fn bn_skip_last_leaves_the_deepest_layers_out_of_l_bn_and_refuses_skipping_all() {
        let device = muse_device::autodiff_device();
        let teacher = tiny_teacher(&device).frozen();
        let student = tiny_student(&device).frozen();
        let f_y = Tensor::<2>::random([3, 8], Distribution::Default, &device);
        let generator = tiny_generator(&device);
        let norm = Normalization::identity(1);
        let weights = GeneratorLossWeights::new().with_aed(0.0);
        let run = |skip: usize| {
            let ctx = GenerationContext {
                adversarial: false,
                bn_skip_last: skip,
                crop_padding: 0,
                ..context(&teacher, &student, None, &f_y, &norm, &weights)
            };
            let mut mmt = BnMomentum::new(0.9);
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            device.seed(7); // the noisy layers' re-draw
            let out = generation_iteration(
                generator.clone(),
                &ctx,
                &[0, 1, 2],
                1,
                &mut mmt,
                &mut rng,
                &device,
            );
            out.map(|o| (o.images, o.losses, mmt.average().map(|a| a.len())))
        };
        // Each run's L_BN against the teacher's own L_BN on *that run's* images over the kept
        // layers: the images need not agree between runs (the noisy layers draw from the
        // device's RNG, which tests running beside this one also draw from — comparing the two
        // runs' images made this test fail now and then under `cargo test`).
        let (images, all, n_all) = run(0).unwrap();
        let (images_1, first_two, n_two) = run(1).unwrap();
        assert_eq!((n_all, n_two), (Some(3), Some(2)), "the average follows");
        let want = |images: Tensor<4>, k: usize| {
            let taps = teacher.forward_taps(images, BnStats::Record).bn;
            values(muse_losses::bn_statistics(&taps[..k]).unwrap())[0]
        };
        let (all_3, two_2, two_3) = (
            want(images, 3),
            want(images_1.clone(), 2),
            want(images_1, 3),
        );
        assert!(
            (all.bn - all_3).abs() <= 1e-4 * all_3,
            "{} vs {all_3}",
            all.bn
        );
        assert!(
            (first_two.bn - two_2).abs() <= 1e-4 * two_2,
            "{} vs {two_2}",
            first_two.bn
        );
        // ... and not the loss over all three layers: the deepest one was left out.
        assert!(two_2 < two_3 && (first_two.bn - two_3).abs() > 1e-3 * two_3);
        match run(3) {
            Err(EngineError::InvalidConfig { field, reason }) => {
                assert_eq!(field, "generation.bn_skip_last");
                assert!(reason.contains("3 of the teacher's 3"), "{reason}");
            }
            other => panic!("expected a config error, got {:?}", other.map(|o| o.1)),
        }
    }
}
