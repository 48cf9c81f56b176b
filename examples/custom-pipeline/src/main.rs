//! Embedding the engine in your own code: a teacher network of your own (any Burn module that
//! implements [`Classifier`]), a distillation config written by hand, and an observer of your
//! own that turns the engine's progress events into JSON lines on stdout.
//!
//! ```text
//! cargo run --release -p example-custom-pipeline
//! ```
//! Uses scikit-learn's digits (8×8, about a minute) when present (`$MUSE_DATA_DIR/digits.csv.gz`,
//! or a scikit-learn installation), otherwise Fashion-MNIST (about 7 minutes).

use anyhow::Result;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use muse::data::{Split, load};
use muse::engine::{
    Distiller, Method, Observer, SupervisedConfig, evaluate, preset, train_supervised,
};
use muse::models::{Classifier, TapRecorder, bn_forward};

/// Your teacher: two 3×3 conv-BN-ReLU layers and a linear head after global pooling. Implement
/// `features` (recording BatchNorm taps with `bn_forward`), `head` and `in_channels`; the
/// trait derives logits, embedding, feature map and classifier weight for the engine.
#[derive(Module, Debug)]
struct MyNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    fc: Linear,
}

impl MyNet {
    fn new(classes: usize, device: &Device) -> Self {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            conv1: conv(1, 16),
            bn1: BatchNormConfig::new(16).init(device),
            conv2: conv(16, 32),
            bn2: BatchNormConfig::new(32).init(device),
            fc: LinearConfig::new(32, classes).init(device),
        }
    }
}

impl Classifier for MyNet {
    fn features(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let x = relu(bn_forward(&self.bn1, self.conv1.forward(x), rec));
        relu(bn_forward(&self.bn2, self.conv2.forward(x), rec))
    }
    fn head(&self) -> &Linear {
        &self.fc
    }
    fn in_channels(&self) -> usize {
        1
    }
}

/// Your observer: every event as one JSON line.
struct JsonLines {
    phase: String,
    losses: Vec<f32>,
}

impl Observer for JsonLines {
    fn phase_started(&mut self, name: &str, _steps: usize) {
        self.phase = name.to_string();
        self.losses.clear();
    }
    fn step(&mut self, loss: Option<f32>) {
        self.losses.extend(loss);
    }
    fn phase_finished(&mut self) {
        let mean = self.losses.iter().sum::<f32>() / self.losses.len().max(1) as f32;
        println!(
            "{{\"phase\": \"{}\", \"steps\": {}, \"mean_loss\": {mean:.5}}}",
            self.phase,
            self.losses.len()
        );
    }
}

fn main() -> Result<()> {
    let (name, train) = match load("digits", Split::Train, 8) {
        Ok(d) => ("digits", d),
        Err(_) => ("fashion-mnist", load("fashion-mnist", Split::Train, 28)?),
    };
    let test = load(name, Split::Test, 8)?;
    let norm = train.normalization.clone();
    let [_, side, _] = train.data.shape();
    let device = muse_device::autodiff_device();
    let mut observer = JsonLines {
        phase: String::new(),
        losses: Vec::new(),
    };

    let cfg = SupervisedConfig::new().with_epochs(if name == "digits" { 30 } else { 1 });
    let (teacher, _) = train_supervised(
        MyNet::new(10, &device),
        &train.data,
        &norm,
        &cfg,
        &device,
        &mut observer,
    )?;
    let t = evaluate(&teacher, &test.data, &norm, 500, &device, &mut observer)?;

    // A config by hand, starting from a preset of the right shape and changing what we like.
    let mut config = preset(
        if name == "digits" {
            "digits"
        } else {
            "fashion-mnist"
        },
        Method::Nayer,
        0.3,
    )?;
    config.teacher.weights = Some("in memory".into());
    config.native_resolution = side;
    config.generation.resolutions = vec![side];
    config.epochs = if name == "digits" { 30 } else { 5 };
    config.student_training.steps = 50;
    config.validate()?;
    let student = config.student_network(&device)?;
    let mut distiller = Distiller::new(config, teacher, student, norm.clone(), &device)?;
    for _ in 0..distiller.config().epochs {
        let m = distiller.run_epoch(Some((&test.data, &norm)), &mut observer)?;
        println!("{}", serde_json::to_string(&m)?);
    }
    let s = evaluate(
        distiller.student(),
        &test.data,
        &norm,
        500,
        &device,
        &mut observer,
    )?;
    println!(
        "{{\"data\": \"{name}\", \"teacher_top1\": {:.4}, \"student_top1\": {:.4}}}",
        t.top1, s.top1
    );
    Ok(())
}
