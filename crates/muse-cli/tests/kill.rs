//! `kill -9` at random moments, before the first checkpoint included: whatever is left, a
//! `--resume` (or, without a checkpoint, a fresh start into the same directory) completes the
//! run, and it ends where an uninterrupted run ends: the same metrics and the same student
//! tensors (compared as tensors: a `.bpk` header holds random parameter ids).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{metrics, muse, succeeded, tiny_distill, tiny_teacher};
use muse::burn::store::ModuleSnapshot;
use muse::engine::ModelCard;
use muse::models::load_classifier;

/// Every tensor of the student in `run`, by path, as raw bytes.
fn student_tensors(run: &Path) -> Vec<(String, Vec<u8>)> {
    let weights = run.join("student.bpk");
    let card = ModelCard::load_for(&weights).unwrap().unwrap();
    let model =
        load_classifier(&card.classifier_config(), &weights, &muse_device::device()).unwrap();
    model
        .collect(None, None, false)
        .into_iter()
        .map(|t| (t.name.clone(), t.to_bytes().unwrap().to_vec()))
        .collect()
}

/// Epochs a run directory has finished (its `metrics.jsonl` lines; 0 before the first).
fn epochs_done(run: &Path) -> usize {
    std::fs::read_to_string(run.join("metrics.jsonl")).map_or(0, |m| m.lines().count())
}

/// A small deterministic generator (the test must fail the same way twice).
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn a_run_killed_at_random_moments_ends_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = tiny_teacher(dir.path());
    let common = tiny_distill(&teacher, &["--seed", "3", "--epochs", "8"]);
    let straight = dir.path().join("straight");
    let t0 = Instant::now();
    succeeded(&muse(
        &[&common[..], &["--out", straight.to_str().unwrap()]].concat(),
    ));
    let full = t0.elapsed();

    let killed = dir.path().join("killed");
    let out = killed.to_str().unwrap();
    let mut rng = Lcg(2026);
    let mut kills = 0;
    let mut kills_before_checkpoint = 0;
    let mut fresh_starts = 0;
    for attempt in 0..40 {
        if killed.join("summary.json").is_file() {
            break;
        }
        // Without a checkpoint, alternate between a fresh start and --resume: both must work.
        let has_checkpoint = killed.join("latest").is_file();
        let mut args: Vec<&str> = if !has_checkpoint && attempt % 2 == 0 {
            fresh_starts += 1;
            [&common[..], &["--out", out]].concat()
        } else if killed.join("config.json").is_file() {
            vec!["distill", "--out", out, "--resume"]
        } else {
            fresh_starts += 1;
            [&common[..], &["--out", out]].concat()
        };
        args.push("--no-pictures");
        let mut child = Command::new(env!("CARGO_BIN_EXE_muse"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The first kills come early (before any checkpoint, timed from the uninterrupted
        // run); later ones at a random epoch still to come, found by watching the run's
        // metrics, plus a random part of an epoch, so that they land whatever the machine's
        // speed; after ten kills the run is left to finish.
        if kills < 10 {
            if kills < 3 {
                std::thread::sleep(full.mul_f64(0.2 * rng.unit()));
            } else {
                let done = epochs_done(&killed).min(7);
                let target = done + ((8 - done) as f64 * rng.unit()) as usize;
                while epochs_done(&killed) < target && child.try_wait().unwrap().is_none() {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                std::thread::sleep(full.mul_f64(rng.unit() / 16.0));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
                kills_before_checkpoint += usize::from(!killed.join("latest").is_file());
            }
        }
        let status = child.wait().unwrap();
        assert!(
            status.success() || status.code().is_none(),
            "attempt {attempt} ({args:?}) failed with {status}"
        );
    }
    eprintln!(
        "uninterrupted run {full:?}; {kills} kills ({kills_before_checkpoint} before the first \
         checkpoint), {fresh_starts} fresh starts"
    );
    assert!(kills >= 6, "only {kills} kills landed");
    assert!(kills_before_checkpoint >= 1 && kills_before_checkpoint < kills);
    assert!(fresh_starts >= 2);
    assert!(
        killed.join("summary.json").is_file(),
        "the killed run never finished"
    );
    assert_eq!(metrics(&killed), metrics(&straight));
    assert_eq!(student_tensors(&killed), student_tensors(&straight));
}
