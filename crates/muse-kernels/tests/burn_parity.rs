//! The kernels against Burn's own conv2d on flex autodiff: outputs and the gradients of input,
//! weight and bias agree, for the layer shapes MUSE-rs uses, tracked and untracked inputs, and
//! the cases that fall back (groups > 1).

use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};

fn max_rel(a: Tensor<4>, b: Tensor<4>) -> f32 {
    let scale: f32 = b.clone().abs().max().into_scalar();
    let diff: f32 = (a - b).abs().max().into_scalar();
    diff / scale.max(1e-6)
}

struct Case {
    x: [usize; 4],
    w: [usize; 4],
    options: ConvOptions<2>,
}

fn cases() -> Vec<Case> {
    let o = |s, p: usize, d, g| ConvOptions::new([s, s], [p, p], [d, d], g);
    let case = |x, w, options| Case { x, w, options };
    vec![
        case([4, 3, 12, 12], [8, 3, 3, 3], o(1, 1, 1, 1)),
        case([3, 8, 9, 9], [16, 8, 3, 3], o(2, 1, 1, 1)),
        case([2, 8, 6, 6], [4, 8, 1, 1], o(1, 0, 1, 1)),
        case([2, 8, 8, 8], [4, 8, 1, 1], o(2, 0, 1, 1)),
        case([2, 1, 16, 16], [4, 1, 7, 7], o(2, 3, 1, 1)),
        case([2, 1, 12, 12], [6, 1, 5, 5], o(1, 0, 1, 1)),
        case(
            [2, 3, 10, 10],
            [4, 3, 3, 3],
            ConvOptions::new_with_padding([1, 1], [(2, 0), (1, 2)], [2, 1], 1),
        ),
        case([2, 4, 6, 6], [4, 2, 3, 3], o(1, 1, 1, 2)), // groups: fallback
    ]
}

#[test]
fn outputs_and_all_three_gradients_match_burns_conv2d() {
    let device: Device = muse_device::autodiff_device();
    device.seed(7);
    for (i, case) in cases().into_iter().enumerate() {
        let x0 = Tensor::<4>::random(case.x, Distribution::Normal(0.0, 1.0), &device);
        let w0 = Tensor::<4>::random(case.w, Distribution::Normal(0.0, 0.5), &device);
        let b0 = Tensor::<1>::random([case.w[0]], Distribution::Normal(0.0, 0.5), &device);
        let run = |ours: bool| {
            let (x, w, b) = (
                x0.clone().detach().require_grad(),
                w0.clone().detach().require_grad(),
                b0.clone().detach().require_grad(),
            );
            let y = if ours {
                muse_kernels::conv2d(x.clone(), w.clone(), Some(b.clone()), case.options.clone())
            } else {
                burn_conv2d(x.clone(), w.clone(), Some(b.clone()), case.options.clone())
            };
            // A loss that weights every output element differently.
            let r = Tensor::<4>::ones(y.dims(), &device).cumsum(3) * 0.1;
            let grads = (y.clone() * r).sum().backward();
            let g4 = |t: &Tensor<4>| t.grad(&grads).unwrap();
            let gb = b.grad(&grads).unwrap();
            (y.inner(), g4(&x), g4(&w), gb)
        };
        let before = muse_kernels::kernel_calls();
        let (y1, dx1, dw1, db1) = run(true);
        // (Other tests may run convolutions at the same time, so only "taken" is checkable.)
        if case.options.groups == 1 {
            assert!(
                muse_kernels::kernel_calls() > before,
                "case {i}: kernel not taken"
            );
        }
        let (y2, dx2, dw2, db2) = run(false);
        assert!(max_rel(y1, y2) < 1e-4, "case {i}: output");
        assert!(max_rel(dx1, dx2) < 1e-4, "case {i}: input gradient");
        assert!(max_rel(dw1, dw2) < 1e-4, "case {i}: weight gradient");
        let db: f32 = (db1 - db2).abs().max().into_scalar();
        assert!(db < 1e-3, "case {i}: bias gradient {db}");
    }
}

#[test]
fn an_untracked_input_gets_only_the_weight_gradient_and_a_frozen_weight_only_the_input_gradient() {
    let device: Device = muse_device::autodiff_device();
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<4>::random([4, 3, 3, 3], Distribution::Normal(0.0, 1.0), &device);
    let o = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let wt = w.clone().require_grad();
    let grads = muse_kernels::conv2d(x.clone(), wt.clone(), None, o.clone())
        .sum()
        .backward();
    assert!(wt.grad(&grads).is_some() && x.grad(&grads).is_none());
    let xt = x.require_grad();
    let grads = muse_kernels::conv2d(xt.clone(), w.clone(), None, o)
        .sum()
        .backward();
    assert!(xt.grad(&grads).is_some() && w.grad(&grads).is_none());
}

#[test]
fn plain_flex_tensors_take_the_kernels_and_match_too() {
    let device: Device = muse_device::device();
    assert!(muse_kernels::accelerated(&device));
    let x = Tensor::<4>::random([3, 4, 10, 10], Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<4>::random([5, 4, 3, 3], Distribution::Normal(0.0, 1.0), &device);
    let o = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
    let ours = muse_kernels::conv2d(x.clone(), w.clone(), None, o.clone());
    let theirs = burn_conv2d(x, w, None, o);
    assert!(max_rel(ours, theirs) < 1e-4);
}

fn bn_layer(c: usize, device: &Device) -> burn::nn::BatchNorm {
    let mut bn = burn::nn::BatchNormConfig::new(c)
        .with_momentum(0.3)
        .init(device);
    bn.gamma = burn::module::Param::from_tensor(Tensor::random(
        [c],
        Distribution::Normal(1.0, 0.3),
        device,
    ));
    bn.beta = burn::module::Param::from_tensor(Tensor::random(
        [c],
        Distribution::Normal(0.0, 0.3),
        device,
    ));
    bn
}

fn max_rel1(a: Tensor<1>, b: Tensor<1>) -> f32 {
    let (a, b) = (a.unsqueeze::<4>(), b.unsqueeze::<4>());
    max_rel(a, b)
}

#[test]
fn training_batch_norm_matches_burns_output_gradients_and_running_statistics() {
    let device: Device = muse_device::autodiff_device();
    device.seed(11);
    let ours = bn_layer(5, &device);
    // Same parameters, its own running statistics (a clone would share them).
    let mut theirs = burn::nn::BatchNormConfig::new(5)
        .with_momentum(0.3)
        .init(&device);
    theirs.gamma = burn::module::Param::from_tensor(ours.gamma.val().detach());
    theirs.beta = burn::module::Param::from_tensor(ours.beta.val().detach());
    let x0 = Tensor::<4>::random([4, 5, 6, 7], Distribution::Normal(2.0, 3.0), &device);
    let r = Tensor::<4>::random([4, 5, 6, 7], Distribution::Normal(0.0, 1.0), &device);
    let run = |bn: &burn::nn::BatchNorm, fast: bool| {
        let x = x0.clone().detach().require_grad();
        let y = if fast {
            muse_kernels::batch_norm(bn, x.clone())
        } else {
            bn.forward(x.clone())
        };
        let grads = (y.clone() * r.clone()).sum().backward();
        let gx = x.grad(&grads).unwrap();
        let gg = bn.gamma.val().grad(&grads).unwrap();
        let gb = bn.beta.val().grad(&grads).unwrap();
        (y.inner(), gx, gg, gb)
    };
    let (y1, gx1, gg1, gb1) = run(&ours, true);
    let (y2, gx2, gg2, gb2) = run(&theirs, false);
    assert!(max_rel(y1, y2) < 1e-4, "output");
    assert!(max_rel(gx1, gx2) < 1e-3, "input gradient");
    assert!(max_rel1(gg1, gg2) < 1e-3, "gamma gradient");
    assert!(max_rel1(gb1, gb2) < 1e-3, "beta gradient");
    // Both moved away from the initial (0, 1) by the same update.
    let moved: f32 = ours.running_mean.value_sync().abs().sum().into_scalar();
    assert!(moved > 0.1, "running mean not updated");
    assert!(
        max_rel1(
            ours.running_mean.value_sync().inner(),
            theirs.running_mean.value_sync().inner()
        ) < 1e-5
    );
    assert!(
        max_rel1(
            ours.running_var.value_sync().inner(),
            theirs.running_var.value_sync().inner()
        ) < 1e-5
    );
}

#[test]
fn inference_batch_norm_and_channel_moments_match_burn() {
    let device: Device = muse_device::autodiff_device();
    device.seed(12);
    let bn = bn_layer(3, &device);
    let x = Tensor::<4>::random([2, 3, 4, 4], Distribution::Normal(1.0, 2.0), &device);
    // Give the running statistics non-trivial values with one training pass, then freeze.
    let _ = bn.forward(x.clone());
    let bn = burn::module::Module::freeze(bn);
    let xt = x.clone().require_grad();
    let g1 = (muse_kernels::batch_norm(&bn, xt.clone()) * 3.0)
        .sum()
        .backward();
    let xt2 = x.clone().require_grad();
    let g2 = (bn.forward(xt2.clone()) * 3.0).sum().backward();
    assert!(
        max_rel(
            muse_kernels::batch_norm(&bn, x.clone()).inner(),
            bn.forward(x.clone()).inner()
        ) < 1e-5
    );
    assert!(max_rel(xt.grad(&g1).unwrap(), xt2.grad(&g2).unwrap()) < 1e-5);

    // Moments and their gradient against the reference composition.
    let w = Tensor::<1>::from_floats([0.5, -1.0, 2.0], &device);
    let xm = x.clone().require_grad();
    let (mean, var) = muse_kernels::channel_moments(xm.clone());
    let gm =
        ((mean.clone() * w.clone()).sum() + (var.clone() * w.clone() * w.clone()).sum()).backward();
    let xr = x.require_grad();
    let flat = xr.clone().swap_dims(0, 1).reshape([3, 32]);
    let (rvar, rmean) = flat.var_mean_bias(1);
    let (rmean, rvar) = (rmean.reshape([3]), rvar.reshape([3]));
    assert!(max_rel1(mean.inner(), rmean.clone().inner()) < 1e-5);
    assert!(max_rel1(var.inner(), rvar.clone().inner()) < 1e-5);
    let gr = ((rmean * w.clone()).sum() + (rvar * w.clone() * w).sum()).backward();
    assert!(max_rel(xm.grad(&gm).unwrap(), xr.grad(&gr).unwrap()) < 1e-4);
}

/// `batch_norm_act` with ReLU and LeakyReLU(0.2), in training mode and on running statistics
/// (with trainable gamma and beta), against Burn's batch norm followed by Burn's activation:
/// outputs and the gradients of input, gamma and beta.
#[test]
fn fused_activations_match_burns_batch_norm_then_activation() {
    use burn::tensor::activation::leaky_relu;
    use muse_kernels::Activation;
    let device: Device = muse_device::autodiff_device();
    device.seed(13);
    let x0 = Tensor::<4>::random([4, 5, 6, 7], Distribution::Normal(0.5, 2.0), &device);
    let r = Tensor::<4>::random([4, 5, 6, 7], Distribution::Normal(0.0, 1.0), &device);
    for (act, slope) in [(Activation::Relu, 0.0), (Activation::LeakyRelu(0.2), 0.2)] {
        for training in [true, false] {
            let mut bn = bn_layer(5, &device);
            if !training {
                let _ = bn.forward(x0.clone()); // non-trivial running statistics
                bn.training = burn::module::Param::from_bool(false);
            }
            let run = |fast: bool| {
                let x = x0.clone().detach().require_grad();
                let y = if fast {
                    muse_kernels::batch_norm_act(&bn, x.clone(), act)
                } else {
                    leaky_relu(bn.forward(x.clone()), slope)
                };
                let grads = (y.clone() * r.clone()).sum().backward();
                let gx = x.grad(&grads).unwrap();
                let gg = bn.gamma.val().grad(&grads).unwrap();
                let gb = bn.beta.val().grad(&grads).unwrap();
                (y.inner(), gx, gg, gb)
            };
            let (y1, gx1, gg1, gb1) = run(true);
            let (y2, gx2, gg2, gb2) = run(false);
            let case = format!("{act:?}, training {training}");
            let negative = y2.clone().lower_elem(0.0).int().sum().into_scalar::<i64>();
            assert!(
                negative > 0 || slope == 0.0,
                "{case}: no negative side tested"
            );
            assert!(max_rel(y1, y2) < 1e-4, "{case}: output");
            assert!(max_rel(gx1, gx2) < 1e-3, "{case}: input gradient");
            assert!(max_rel1(gg1, gg2) < 1e-3, "{case}: gamma gradient");
            assert!(max_rel1(gb1, gb2) < 1e-3, "{case}: beta gradient");
        }
    }
}

/// The ×2 nearest upsampling against Burn's reshape → expand → reshape composition: output and
/// input gradient (odd sides, several planes).
#[test]
fn nearest_upsampling_matches_burns_composition() {
    let device: Device = muse_device::autodiff_device();
    device.seed(14);
    let x0 = Tensor::<4>::random([3, 5, 7, 9], Distribution::Normal(0.0, 1.0), &device);
    let r = Tensor::<4>::random([3, 5, 14, 18], Distribution::Normal(0.0, 1.0), &device);
    let x = x0.clone().require_grad();
    let ours = muse_kernels::upsample_nearest2(x.clone());
    let g1 = (ours.clone() * r.clone()).sum().backward();
    let xb = x0.require_grad();
    let theirs = xb
        .clone()
        .reshape([3, 5, 7, 1, 9, 1])
        .expand([3, 5, 7, 2, 9, 2])
        .reshape([3, 5, 14, 18]);
    let g2 = (theirs.clone() * r).sum().backward();
    assert_eq!(ours.dims(), [3, 5, 14, 18]);
    assert!(max_rel(ours.inner(), theirs.inner()) == 0.0, "output");
    assert!(
        max_rel(x.grad(&g1).unwrap(), xb.grad(&g2).unwrap()) < 1e-5,
        "gradient"
    );
}
