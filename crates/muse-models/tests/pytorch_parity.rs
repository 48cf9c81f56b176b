//! PyTorch parity: every fixture of `scripts/pytorch_parity.py` (one per zoo family and
//! container: bare / wrapped / DataParallel state dicts, zip and legacy pickles, safetensors)
//! loads into our model and reproduces PyTorch's eval-mode logits to 1e-4. Then the export:
//! a model written with `export_safetensors` loads back to the same logits, and with
//! `MUSE_EXPORT_DIR=DIR` the exports are kept for `scripts/pytorch_parity.py check-export DIR`.

use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData};
use muse_models::{
    Arch, Classifier, ClassifierConfig, ModelError, export_safetensors, load_pytorch,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch")
}

#[derive(serde::Deserialize, serde::Serialize, Clone)]
struct Fixture {
    name: String,
    arch: String,
    width_mult: f64,
    channels: usize,
    resolution: usize,
    num_classes: usize,
    weights: String,
    container: String,
}

fn manifest() -> Vec<Fixture> {
    serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap()
}

fn config(f: &Fixture) -> ClassifierConfig {
    let arch: Arch = f.arch.parse().unwrap();
    ClassifierConfig::new(arch, f.num_classes)
        .with_in_channels(f.channels)
        .with_width_mult(f.width_mult)
}

/// `(input, logits)` of a fixture, as flat values with the input's shape.
fn io(path: &Path) -> (Vec<f32>, [usize; 4], Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let floats = |name: &str| {
        let v = st.tensor(name).unwrap();
        let vals: Vec<f32> = v
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (vals, v.shape().to_vec())
    };
    let (x, shape) = floats("input");
    let (logits, _) = floats("logits");
    (x, [shape[0], shape[1], shape[2], shape[3]], logits)
}

fn logits(model: &impl Classifier, x: &[f32], shape: [usize; 4]) -> Vec<f32> {
    let device = muse_device::device();
    let x = Tensor::<4>::from_data(TensorData::new(x.to_vec(), shape), &device);
    model.forward(x).into_data().try_into_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn every_fixture_reproduces_pytorch_logits() {
    let device = muse_device::device();
    let all = manifest();
    assert!(all.len() >= 13, "the fixtures cover every family");
    for f in &all {
        let model = load_pytorch(&config(f), &fixtures().join(&f.weights), &device)
            .unwrap_or_else(|e| panic!("{}: {e}", f.name))
            .frozen();
        let (x, shape, want) = io(&fixtures().join(format!("{}.io.safetensors", f.name)));
        let got = logits(&model, &x, shape);
        let err = max_diff(&got, &want);
        assert!(
            err < 1e-4,
            "{} ({}): max |logit diff| {err}",
            f.name,
            f.container
        );
    }
}

#[test]
fn export_then_load_gives_the_same_logits() {
    let device = muse_device::device();
    let keep = std::env::var_os("MUSE_EXPORT_DIR").map(PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let mut exported = Vec::new();
    for f in manifest() {
        let model = load_pytorch(&config(&f), &fixtures().join(&f.weights), &device).unwrap();
        let out = dir.join(format!("{}.safetensors", f.name));
        export_safetensors(&model, config(&f).arch, &out).unwrap();
        let back = load_pytorch(&config(&f), &out, &device).unwrap().frozen();
        let (x, shape, want) = io(&fixtures().join(format!("{}.io.safetensors", f.name)));
        let got = logits(&back, &x, shape);
        assert!(max_diff(&got, &want) < 1e-4, "{} after export", f.name);
        if keep.is_some() {
            std::fs::copy(
                fixtures().join(format!("{}.io.safetensors", f.name)),
                dir.join(format!("{}.io.safetensors", f.name)),
            )
            .unwrap();
        }
        exported.push(Fixture {
            weights: format!("{}.safetensors", f.name),
            ..f
        });
    }
    if keep.is_some() {
        std::fs::write(
            dir.join("manifest.json"),
            serde_json::to_vec(&exported).unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn a_wrong_architecture_names_the_missing_and_unexpected_keys() {
    let device = muse_device::device();
    let f = manifest()
        .into_iter()
        .find(|f| f.name == "resnet18-cifar")
        .unwrap();
    let path = fixtures().join(&f.weights);
    // The same tensors in a ResNet-34 layout: blocks are missing, named as PyTorch names them.
    let c34 = ClassifierConfig::new(Arch::ResNet34Cifar, 10).with_width_mult(f.width_mult);
    let err = load_pytorch(&c34, &path, &device).unwrap_err();
    let ModelError::Weights { problems, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        problems.iter().any(
            |p| p.contains("`layer1.2.conv1.weight` (shape [4, 4, 3, 3])") && p.contains("missing")
        ),
        "{err}"
    );
    // A wider model: every tensor mis-shaped, with both shapes named.
    let wide = config(&f).with_width_mult(f.width_mult * 2.0);
    let err = load_pytorch(&wide, &path, &device).unwrap_err().to_string();
    assert!(
        err.contains("conv1.weight") && err.contains("expects shape"),
        "{err}"
    );
    // The zoo's ResNet-8 file in a ResNet-20: ResNet-20 has more blocks → missing keys.
    let f8 = manifest()
        .into_iter()
        .find(|f| f.name == "resnet8")
        .unwrap();
    let c20 = ClassifierConfig::new(Arch::ResNet20, 10).with_width_mult(f8.width_mult);
    assert!(load_pytorch(&c20, &fixtures().join(&f8.weights), &device).is_err());
}

#[test]
fn extra_tensors_and_damaged_files_are_errors() {
    let device = muse_device::device();
    let f = manifest()
        .into_iter()
        .find(|f| f.name == "resnet34-cifar")
        .unwrap();
    let bytes = std::fs::read(fixtures().join(&f.weights)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // An extra tensor.
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let extra = [0u8; 4];
    let mut views: Vec<_> = st.tensors();
    views.push((
        "head2.weight".to_string(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &extra).unwrap(),
    ));
    let with_extra = dir.path().join("extra.safetensors");
    std::fs::write(&with_extra, safetensors::serialize(views, None).unwrap()).unwrap();
    let err = load_pytorch(&config(&f), &with_extra, &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("head2.weight") && err.contains("not in the model"),
        "{err}"
    );
    // Truncated files, both formats.
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(load_pytorch(&config(&f), &cut, &device).is_err());
    let f18 = manifest()
        .into_iter()
        .find(|f| f.name == "resnet18")
        .unwrap();
    let pth = std::fs::read(fixtures().join(&f18.weights)).unwrap();
    let cut = dir.path().join("cut.pth");
    std::fs::write(&cut, &pth[..pth.len() / 2]).unwrap();
    assert!(load_pytorch(&config(&f18), &cut, &device).is_err());
    assert!(load_pytorch(&config(&f18), Path::new("/nonexistent.pth"), &device).is_err());
}

#[test]
fn mobilenetv2_cifar_is_refused_rather_than_silently_wrong() {
    let device = muse_device::device();
    let f = manifest()
        .into_iter()
        .find(|f| f.name == "mobilenetv2")
        .unwrap();
    let c = ClassifierConfig::new(Arch::MobileNetV2Cifar, 10).with_width_mult(f.width_mult);
    let err = load_pytorch(&c, &fixtures().join(&f.weights), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("mobilenetv2-cifar"), "{err}");
}
