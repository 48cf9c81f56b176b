//! `--resume` ends where an uninterrupted run ends.
//!
//! Its own test binary on purpose: Burn's device RNG is process-wide, so a test running
//! concurrently in the same process would draw from it and make two runs differ.

use muse_data::Normalization;
use muse_engine::{DistillConfig, Distiller, EpochMetrics, Method, Silent, preset};
use muse_models::{AnyClassifier, Classifier};

type D = Distiller<AnyClassifier, AnyClassifier>;

fn config() -> DistillConfig {
    let mut c = preset("tiny", Method::Muse, 0.1).unwrap();
    c.teacher.weights = Some("unused".into());
    c
}

fn new(device: &burn::tensor::Device, resume_from: Option<&std::path::Path>) -> D {
    let c = config();
    device.seed(3);
    let (teacher, student) = (
        c.teacher_network(device).unwrap(),
        c.student_network(device).unwrap(),
    );
    let norm = Normalization::identity(1);
    match resume_from {
        None => Distiller::new(c, teacher, student, norm, device).unwrap(),
        Some(dir) => Distiller::resume(c, teacher, student, norm, device, dir).unwrap(),
    }
}

fn head(d: &D) -> Vec<f32> {
    d.student()
        .head()
        .weight
        .val()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
}

fn losses(h: &[EpochMetrics]) -> Vec<(f32, Vec<f32>)> {
    h.iter()
        .map(|m| (m.student.kl, m.generator.iter().map(|g| g.total).collect()))
        .collect()
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let device = muse_device::autodiff_device();
    let epochs = config().epochs;
    let mut straight = new(&device, None);
    for _ in 0..epochs {
        straight.run_epoch(None, &mut Silent).unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let mut first = new(&device, None);
    for _ in 0..epochs - 1 {
        first.run_epoch(None, &mut Silent).unwrap();
        first.save_checkpoint(dir.path()).unwrap();
    }
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("checkpoint-"))
        .collect();
    assert_eq!(kept, vec![format!("checkpoint-{:04}", epochs - 1)]);
    drop(first); // killed

    let mut resumed = new(&device, Some(dir.path()));
    assert_eq!(resumed.epoch(), epochs - 1);
    assert_eq!(
        losses(resumed.history()),
        losses(&straight.history()[..epochs - 1])
    );
    resumed.run_epoch(None, &mut Silent).unwrap();

    assert!(resumed.pool() == straight.pool(), "pools differ");
    assert_eq!(head(&resumed), head(&straight));
    assert_eq!(losses(resumed.history()), losses(straight.history()));
}
