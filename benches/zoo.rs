//! Forward passes of zoo models with every tap, `<backend>/<what>` named so backends compare.
//!
//! `cargo bench --bench zoo` (add `--features wgpu` for the wgpu backend).

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{Criterion, criterion_group, criterion_main};
use muse::burn::tensor::{Device, Distribution, Tensor};
use muse::models::{Arch, BnStats, Classifier, ClassifierConfig};

fn forward_taps(c: &mut Criterion) {
    let device = muse_device::device();
    let backend = muse_device::backend_name();
    for (arch, channels, res) in [(Arch::LeNet5, 1, 28), (Arch::ResNet8, 3, 32)] {
        let model = ClassifierConfig::new(arch, 10)
            .with_in_channels(channels)
            .init(&device)
            .unwrap()
            .frozen();
        let x = burn_input(&device, [64, channels, res, res]);
        c.bench_function(&format!("{backend}/forward_taps/{arch}/64x{res}px"), |b| {
            b.iter(|| {
                let taps = model.forward_taps(x.clone(), BnStats::Record);
                taps.logits.into_data()
            })
        });
    }
}

fn burn_input(device: &Device, dims: [usize; 4]) -> Tensor<4> {
    Tensor::random(dims, Distribution::Default, device)
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = forward_taps
}
criterion_main!(benches);
