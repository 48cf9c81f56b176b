//! Cross-crate check on real data: a zoo model trained by the engine on a slice of
//! Fashion-MNIST (Debian package `dataset-fashion-mnist`, installed by `.ci/run`) learns far
//! above chance, and its saved weights reproduce the same test accuracy.

use muse::data::{Split, load};
use muse::engine::{Silent, SupervisedConfig, evaluate, train_supervised};
use muse::models::{Arch, ClassifierConfig, load_model, save_model};

#[test]
fn lenet_learns_fashion_mnist_and_round_trips_through_a_file() {
    let Ok(train) = load("fashion-mnist", Split::Train, 28) else {
        eprintln!("dataset-fashion-mnist is not installed; skipping");
        return;
    };
    let test = load("fashion-mnist", Split::Test, 28).unwrap();
    let train_slice = train.data.subset(&(0..3000).collect::<Vec<_>>()).unwrap();
    let test_slice = test.data.subset(&(0..1000).collect::<Vec<_>>()).unwrap();

    let device = muse_device::autodiff_device();
    let model = ClassifierConfig::new(Arch::LeNet5, 10)
        .with_in_channels(1)
        .init(&device)
        .unwrap();
    let config = SupervisedConfig::new().with_epochs(2).with_batch_size(64);
    let (model, losses) = train_supervised(
        model,
        &train_slice,
        &train.normalization,
        &config,
        &device,
        &mut Silent,
    )
    .unwrap();
    assert!(losses[1] < losses[0], "{losses:?}");
    let acc = evaluate(
        &model,
        &test_slice,
        &test.normalization,
        250,
        &device,
        &mut Silent,
    )
    .unwrap();
    // Chance is 10%; two epochs on 3,000 images reach well over 60%.
    assert!(acc.top1 > 0.6, "top-1 {}", acc.top1);
    assert!(acc.top5 > acc.top1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lenet.bpk");
    save_model(&model, &path).unwrap();
    let plain = muse_device::device();
    let fresh = ClassifierConfig::new(Arch::LeNet5, 10)
        .with_in_channels(1)
        .init(&plain)
        .unwrap();
    let loaded = load_model(fresh, &path).unwrap();
    let again = evaluate(
        &loaded,
        &test_slice,
        &test.normalization,
        250,
        &plain,
        &mut Silent,
    )
    .unwrap();
    assert_eq!(acc, again);
}
