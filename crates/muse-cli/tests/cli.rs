//! The `muse` binary end to end on a tiny random teacher (seconds): a run writes everything it
//! promises, its losses are finite, the student changes, an interrupted run resumes to the
//! same metrics as an uninterrupted one, and bad input is refused with a message.

mod common;

use std::path::Path;

use std::process::Command;

use common::{failed_with, metrics, muse, read_json, succeeded, tiny_distill, tiny_teacher};
use muse::engine::ModelCard;

#[test]
fn a_tiny_run_writes_its_outputs_and_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let straight = dir.path().join("straight");
    let common = [
        "distill",
        "--preset",
        "tiny",
        "--teacher",
        &teacher,
        "--seed",
        "5",
    ];
    let out = muse(&[&common[..], &["--out", straight.to_str().unwrap()]].concat());
    succeeded(&out);
    // stderr is a pipe here, as in a log file: the hidden bars become one line per phase.
    let err = String::from_utf8_lossy(&out.stderr);
    for phase in [
        "gen 8px: 3 steps, mean loss ",
        "student: 3 steps, mean loss ",
    ] {
        assert!(
            err.lines().any(|l| l.starts_with(phase)),
            "{phase} in {err}"
        );
    }
    assert!(!err.contains(": 0 steps"), "{err}");
    for f in [
        "config.json",
        "normalization.json",
        "metrics.jsonl",
        "summary.json",
        "student.bpk",
        "student.json",
        "latest",
        "checkpoint-0003/optimizer.bpk",
        "pictures/epoch-002-images-8px.png",
        "pictures/epoch-002-cam-12px.png",
    ] {
        assert!(straight.join(f).is_file(), "{f} missing");
    }
    let m = metrics(&straight);
    assert_eq!(m.len(), 3);
    let kl = m[2]["student"]["kl"].as_f64().unwrap();
    assert!(kl.is_finite() && kl > 0.0, "student KL {kl}");
    for g in m[1]["generator"].as_array().unwrap() {
        assert!(g["total"].as_f64().unwrap().is_finite());
    }

    // Interrupted after two epochs, then resumed.
    let split = dir.path().join("split");
    let out = muse(
        &[
            &common[..],
            &["--out", split.to_str().unwrap(), "--stop-after", "2"],
        ]
        .concat(),
    );
    succeeded(&out);
    assert_eq!(metrics(&split).len(), 2);
    assert!(!split.join("summary.json").exists());
    let out = muse(&["distill", "--out", split.to_str().unwrap(), "--resume"]);
    succeeded(&out);
    assert_eq!(
        metrics(&split),
        m,
        "resumed run differs from the uninterrupted one"
    );

    // The student trained: its weights differ from a fresh run's first checkpoint... and from
    // the teacher's card it inherits nothing but the input format.
    let card = ModelCard::load_for(&split.join("student.bpk"))
        .unwrap()
        .unwrap();
    assert_eq!(card.arch.name(), "resnet8");

    // More epochs for a finished run: it goes on from its last checkpoint, its first epochs
    // untouched; fewer are refused.
    let resume_for = |epochs: &str| {
        muse(&[
            "distill",
            "--out",
            split.to_str().unwrap(),
            "--resume",
            "--epochs",
            epochs,
        ])
    };
    failed_with(&resume_for("2"), &["can only be extended"]);
    let out = resume_for("4");
    succeeded(&out);
    let longer = metrics(&split);
    assert_eq!(longer.len(), 4);
    assert_eq!(&longer[..3], &m[..]);
    assert_eq!(read_json(&split.join("summary.json"))["epochs"], 4);

    // A second fresh run into the same directory is refused; nothing is overwritten.
    let before = std::fs::read(straight.join("metrics.jsonl")).unwrap();
    let out = muse(&[&common[..], &["--out", straight.to_str().unwrap()]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a run"));
    assert_eq!(
        std::fs::read(straight.join("metrics.jsonl")).unwrap(),
        before
    );
}

#[test]
fn bad_flags_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let run = dir.path().join("r");
    let out = muse(&[
        "distill",
        "--preset",
        "tiny",
        "--teacher",
        &teacher,
        "--ratio",
        "0",
        "--resolutions",
        "8,30",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`data_ratio`") && err.contains("30"), "{err}");
    assert!(
        !run.join("config.json").exists(),
        "nothing written for a bad config"
    );
    // Text-embedding flags with another label source are refused, not ignored.
    let out = muse(&[
        "distill",
        "--preset",
        "tiny",
        "--teacher",
        &teacher,
        "--labels",
        "class-center",
        "--prompt",
        "a {}",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("only apply to --labels text"));
    // An unknown preset is refused by the argument parser, with the list of presets.
    let out = muse(&["distill", "--preset", "nope", "--teacher", &teacher]);
    failed_with(&out, &["'nope'", "possible values", "fashion-mnist"]);
    // --resume refuses flags that would change the run, by name; --stop-after 0 is refused;
    // an absurd epoch count is a config error.
    let r = run.to_str().unwrap();
    let out = muse(&[
        "distill", "--out", r, "--resume", "--seed", "3", "--ratio", "0.5",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--ratio, --seed"),
        "{err}"
    );
    let out = muse(&["distill", "--out", r, "--stop-after", "0"]);
    failed_with(&out, &["--stop-after"]);
    let huge = tiny_distill(&teacher, &["--epochs", "18446744073709551615", "--out", r]);
    failed_with(&muse(&huge), &["`epochs`"]);
    let out = muse(&[
        "eval",
        "--model",
        "/nonexistent/student.bpk",
        "--arch",
        "lenet5",
        "--data",
        "fashion-mnist-1k",
    ]);
    assert!(!out.status.success());
}

/// Whether the all-MiniLM-L6-v2 tests are switched off (`MUSE_SKIP_TEXT_MODEL=1`); without the
/// switch a missing model fails the test with the fetch instruction.
fn text_model_skipped() -> bool {
    let skip = std::env::var_os("MUSE_SKIP_TEXT_MODEL").is_some();
    if skip {
        eprintln!("MUSE_SKIP_TEXT_MODEL is set: skipping a class-name embedding test");
    }
    skip
}

#[test]
fn embed_labels_writes_the_reference_embeddings() {
    if text_model_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("emb.safetensors");
    let out = muse(&[
        "embed-labels",
        "--names",
        "fashion-mnist",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    succeeded(&out);
    let emb = muse::engine::LabelEmbeddings::load(&out_path, 10).unwrap();
    // MUSE_TEXT_MODEL wins over every other place: a wrong one is an error, not skipped.
    let out = Command::new(env!("CARGO_BIN_EXE_muse"))
        .args([
            "embed-labels",
            "--names",
            "fashion-mnist",
            "--out",
            out_path.to_str().unwrap(),
        ])
        .env("MUSE_TEXT_MODEL", "/nonexistent")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("MUSE_TEXT_MODEL"));
    assert_eq!(emb.dim(), 384);
    // Reference (issue 4): "a photo of a Trouser" starts −0.038226, 0.035155, −0.009156.
    for (got, want) in emb.rows()[1]
        .iter()
        .zip([-0.038226f32, 0.035155, -0.009156])
    {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}

#[test]
fn a_run_with_class_name_embeddings_uses_them() {
    if text_model_skipped() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let names = dir.path().join("names.txt");
    std::fs::write(&names, "cat\ndog\nbird\n").unwrap();
    let run = dir.path().join("run");
    let out = muse(&tiny_distill(
        &teacher,
        &[
            "--epochs",
            "2",
            "--labels",
            "text",
            "--class-names",
            names.to_str().unwrap(),
            "--no-pictures",
            "--out",
            run.to_str().unwrap(),
        ],
    ));
    succeeded(&out);
    let config = read_json(&run.join("config.json"));
    let text = &config["label_embedding"]["Text"];
    assert_eq!(
        text["class_names"],
        serde_json::json!(["cat", "dog", "bird"])
    );
    assert_eq!(text["prompt"], "a photo of a {}");
    for m in metrics(&run) {
        assert!(m["student"]["ed"].as_f64().unwrap().is_finite());
    }
    // Two names for three classes: refused before the run directory is used.
    std::fs::write(&names, "cat\ndog\n").unwrap();
    let bad = dir.path().join("bad");
    let out = muse(&[
        "distill",
        "--preset",
        "tiny",
        "--teacher",
        &teacher,
        "--labels",
        "text",
        "--class-names",
        names.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has 2 names for 3 classes"));
    assert!(
        !bad.join("config.json").exists(),
        "nothing written for a bad config"
    );
}

#[test]
fn a_config_file_brings_its_own_teacher() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let first = dir.path().join("first");
    let args = [
        "distill",
        "--preset",
        "tiny",
        "--teacher",
        &teacher,
        "--epochs",
        "1",
    ];
    let out = muse(
        &[
            &args[..],
            &["--no-pictures", "--out", first.to_str().unwrap()],
        ]
        .concat(),
    );
    succeeded(&out);
    let second = dir.path().join("second");
    let config = first.join("config.json");
    let out = muse(&[
        "distill",
        "--config",
        config.to_str().unwrap(),
        "--no-pictures",
        "--out",
        second.to_str().unwrap(),
    ]);
    succeeded(&out);
    let c = read_json(&second.join("config.json"));
    assert_eq!(c["teacher"]["weights"], teacher.as_str());
}

#[test]
fn export_writes_pytorch_names_and_eval_reads_pytorch_files() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let out_path = dir.path().join("teacher.safetensors");
    let out = muse(&[
        "export",
        "--model",
        &teacher,
        "--out",
        out_path.to_str().unwrap(),
    ]);
    succeeded(&out);
    // LeNet-5's PyTorch names (scripts/pytorch_parity.py), counters included.
    let bytes = std::fs::read(&out_path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    for key in [
        "conv1.weight",
        "bn1.weight",
        "bn1.running_var",
        "bn3.num_batches_tracked",
        "fc.weight",
    ] {
        assert!(names.contains(&key), "{key} not in {names:?}");
    }
    assert_eq!(
        st.tensor("fc.weight").unwrap().shape(),
        [3, 120],
        "Linear is [out, in]"
    );
    // A PyTorch state dict (muse-models' parity fixture: a LeNet-5 with random weights)
    // evaluates with --arch; the wrong --arch is refused with the keys named.
    let pth = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../muse-models/tests/fixtures/pytorch/lenet5.pth");
    let pth = pth.to_str().unwrap();
    let eval = |arch: &str| {
        muse(&[
            "eval",
            "--model",
            pth,
            "--arch",
            arch,
            "--data",
            "fashion-mnist-1k",
            "--normalization",
            "none",
        ])
    };
    let ok = eval("lenet5");
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success() && text.contains("top-1"),
        "{text}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let wrong = eval("resnet8");
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success() && err.contains("missing from the file"),
        "{err}"
    );
    let bad = muse(&["export", "--model", &teacher, "--format", "onnx"]);
    failed_with(&bad, &["'onnx'", "safetensors"]);
}

/// A resumed run keeps evaluating on the data its first invocation chose (here the embedded
/// default's 1,000 test images, implied rather than named), so its summary has an accuracy.
#[test]
fn a_resumed_run_evaluates_on_the_data_it_started_with() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("default");
    let run = run.to_str().unwrap();
    let quick = [
        "distill",
        "--epochs",
        "2",
        "--batch-sizes",
        "10", // the default method (nayer on fashion-mnist) generates at one side
        "--student-steps",
        "2",
        "--no-pictures",
        "--labels",
        "class-center",
        "--out",
        run,
    ];
    succeeded(&muse(&[&quick[..], &["--stop-after", "1"]].concat()));
    succeeded(&muse(&["distill", "--out", run, "--resume"]));
    let summary = read_json(&Path::new(run).join("summary.json"));
    assert_eq!(summary["eval_data"], "fashion-mnist-1k");
    assert!(summary["final_top1"].as_f64().is_some(), "{summary}");
    assert!(summary["teacher_top1"].as_f64().unwrap() > 0.5);
    let m = metrics(Path::new(run));
    assert!(m[1]["accuracy"]["top1"].as_f64().is_some(), "{:?}", m[1]);
    // The best epoch's student is kept beside the last, its card saying how it was chosen.
    let best = read_json(&Path::new(run).join("student-best.json"));
    assert!(
        best["selection"]
            .as_str()
            .is_some_and(|s| s.contains("selected on the evaluation set")),
        "{best}"
    );
    assert_eq!(best["top1"], summary["best_top1"]);
    assert!(Path::new(run).join("student-best.bpk").is_file());
}

#[test]
fn train_teacher_refuses_to_overwrite_and_checks_out_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let before = std::fs::read(&teacher).unwrap();
    // An existing teacher is refused before any data is read (the data set does not exist).
    let out = muse(&["train-teacher", "--data", "no-such-data", "--out", &teacher]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&teacher).unwrap(),
        before,
        "nothing was touched"
    );
    // With --force the check passes and the (missing) data is what fails.
    let out = muse(&[
        "train-teacher",
        "--data",
        "no-such-data",
        "--out",
        &teacher,
        "--force",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no-such-data"),
        "{err}"
    );
    // A directory that cannot be created (a file stands in the way) is found first too.
    let blocked = dir.path().join("teacher.json").join("t.bpk");
    let out = muse(&[
        "train-teacher",
        "--data",
        "no-such-data",
        "--out",
        &blocked.to_string_lossy(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("creating"), "{err}");
}

#[test]
fn explicit_flags_win_over_a_card_and_damaged_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let card_dir = dir.path().join("carded");
    std::fs::create_dir_all(&card_dir).unwrap();
    let teacher = tiny_teacher(&card_dir);
    // The same weights beside a same-stem JSON that is not a card.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let bare = other.join("teacher.bpk");
    std::fs::copy(&teacher, &bare).unwrap();
    std::fs::write(other.join("teacher.json"), r#"{"experiment": "notes"}"#).unwrap();
    let run = |teacher: &str, extra: &[&str], out: &str| {
        let args = [
            &tiny_distill(
                teacher,
                &["--stop-after", "1", "--no-pictures", "--out", out],
            )[..],
            extra,
        ]
        .concat();
        muse(&args)
    };
    let out_dir = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let bare = bare.to_str().unwrap();
    // Without --arch the JSON is read as the card: an error that says how to ignore it.
    failed_with(
        &run(bare, &[], &out_dir("a")),
        &["not a model card", "--arch"],
    );
    // With --arch it is ignored, with a warning naming it.
    let out = run(
        bare,
        &["--arch", "lenet5", "--normalization", "none"],
        &out_dir("b"),
    );
    succeeded(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: ignoring") && err.contains("teacher.json"),
        "{err}"
    );
    // A card that disagrees with --arch: a warning naming both; --arch is what is built.
    let out = run(&teacher, &["--arch", "resnet8"], &out_dir("c"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--arch resnet8") && err.contains("describes a lenet5"),
        "{err}"
    );
    assert!(
        !out.status.success(),
        "lenet5 weights loaded into a resnet8"
    );
    assert!(
        !dir.path().join("c").exists(),
        "a failed start left its directory"
    );
    // One flipped bit in weights whose card records their checksum.
    let mut bytes = std::fs::read(&teacher).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 4;
    std::fs::write(&teacher, &bytes).unwrap();
    failed_with(
        &run(&teacher, &[], &out_dir("d")),
        &["checksum", "teacher.bpk"],
    );
}

#[test]
fn a_directory_without_a_checkpoint_is_restartable_and_messages_say_things_once() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let run = dir.path().join("run");
    let r = run.to_str().unwrap();
    let start = tiny_distill(&teacher, &["--stop-after", "1", "--out", r]);
    // What a start killed before its first checkpoint leaves: a config and nothing else.
    succeeded(&muse(&start));
    let config = std::fs::read(run.join("config.json")).unwrap();
    std::fs::remove_dir_all(&run).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("config.json"), &config).unwrap();
    // --resume starts it from the first epoch...
    let out = muse(&["distill", "--out", r, "--resume", "--stop-after", "1"]);
    succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no checkpoint yet"));
    assert!(run.join("latest").is_file());
    // ... and so does a fresh start into such a directory.
    std::fs::remove_dir_all(&run).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("config.json"), &config).unwrap();
    let out = muse(&start);
    succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("never reached its first checkpoint"));
    // A missing teacher: the message names the file once, says why once, and no directory is
    // left behind.
    let gone = dir.path().join("gone");
    let out = muse(&tiny_distill(
        "/nonexistent/t.pth",
        &["--arch", "lenet5", "--out", gone.to_str().unwrap()],
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("/nonexistent/t.pth").count(), 1, "{err}");
    assert_eq!(err.matches("no such file").count(), 1, "{err}");
    assert!(!gone.exists());
}

#[test]
fn show_data_draws_a_grid_of_the_first_images() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("grid.png");
    let out_s = out.to_string_lossy().to_string();
    // The embedded 1,000-image test slice: 7 images of 28 px, 4 per row, each scaled ×4 to
    // 112 px with 2-pixel borders: 4·114 + 2 wide, 2·114 + 2 high.
    let args = [
        "show-data",
        "--data",
        "fashion-mnist-1k",
        "--count",
        "7",
        "--cols",
        "4",
    ];
    let run = muse(&[&args[..], &["--out", &out_s]].concat());
    succeeded(&run);
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (458, 230));
    // Resized to 14 px first: ×9 to 126 px cells.
    let run = muse(&[&args[..], &["--image-size", "14", "--out", &out_s]].concat());
    succeeded(&run);
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (4 * 128 + 2, 2 * 128 + 2));
    failed_with(
        &muse(&[
            "show-data",
            "--data",
            "fashion-mnist-1k",
            "--count",
            "0",
            "--out",
            &out_s,
        ]),
        &["--count"],
    );
}

#[test]
fn eval_names_the_cam_size_at_the_side_it_evaluates() {
    let teacher = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/teacher-wrn16-1-fashion-mnist.bpk"
    );
    // WRN-16-1: stride 1, 2, 2 → 28 px gives 7×7 maps, 14 px gives 4×4 (7 → 4 with padding).
    for (side, map) in [("28", "64 x 7x7"), ("14", "64 x 4x4")] {
        let out = muse(&[
            "eval",
            "--model",
            teacher,
            "--data",
            "fashion-mnist-1k",
            "--image-size",
            side,
        ]);
        succeeded(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        let want = format!("at {side}x{side} px the last feature map (the CAM) is {map}");
        assert!(text.contains(&want), "{text}");
    }
}
