//! Helpers shared by the `muse` binary's integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use muse::data::Normalization;
use muse::engine::{ModelCard, preset};
use muse::models::save_model;

/// `muse distill --preset tiny --teacher TEACHER`, then `extra`.
pub fn tiny_distill<'a>(teacher: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [
        &["distill", "--preset", "tiny", "--teacher", teacher][..],
        extra,
    ]
    .concat()
}

/// Runs the `muse` binary built for these tests.
pub fn muse(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_muse"))
        .args(args)
        .output()
        .expect("the muse binary runs")
}

/// Fails the test with the command's stderr unless it succeeded.
pub fn succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fails the test unless the command failed with an error mentioning every one of `needles`.
pub fn failed_with(out: &std::process::Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && needles.iter().all(|n| err.contains(n)),
        "expected a failure mentioning {needles:?}, got: {err}"
    );
}

/// A JSON file of a run directory.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A random 3-class grey 12 px LeNet-5 with its card (the `tiny` preset's teacher).
pub fn tiny_teacher(dir: &Path) -> String {
    let c = preset("tiny", muse::engine::Method::Muse, 0.1).unwrap();
    let card = ModelCard {
        arch: c.teacher.arch,
        width_mult: 1.0,
        num_classes: c.num_classes,
        channels: c.channels,
        resolution: c.native_resolution,
        normalization: Normalization::identity(1),
        data: "none".into(),
        top1: None,
        weights_crc32: None,
        selection: None,
    };
    let device = muse_device::device();
    device.seed(1);
    let path = dir.join("teacher.bpk");
    save_model(&card.init(&device).unwrap(), &path).unwrap();
    card.save_for(&path).unwrap();
    path.to_string_lossy().into_owned()
}

/// metrics.jsonl without the wall-clock seconds.
pub fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("seconds");
            v
        })
        .collect()
}
