//! The corpus of hostile inputs in `tests/hostile/` (made by `scripts/make_hostile_corpus.py`,
//! listed in its `cases.json`): weights files that declare gigabytes, hide code or are cut
//! short, data sets that overflow or inflate without bound, label files that lie about their
//! size. Each goes through the `muse` binary and through the library entry point it reaches.
//!
//! Every case must end in a typed error that names the file and the problem: exit status 1
//! (not a panic, not a signal), peak memory under the case's bound for the bombs, no run
//! directory left behind, nothing run, and the files already in the working directory
//! unchanged.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use muse::data::{Split, load};
use muse::engine::LabelEmbeddings;
use muse::models::{Arch, ClassifierConfig, load_classifier};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    what: String,
    kind: String,
    file: String,
    args: Vec<String>,
    expect: Vec<String>,
    max_rss_mib: Option<u64>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

fn cases() -> Vec<Case> {
    let bytes = std::fs::read(corpus().join("cases.json")).expect("tests/hostile/cases.json");
    serde_json::from_slice(&bytes).expect("cases.json parses")
}

/// Runs `program args` as a child of a Python process and returns its output and the child's
/// peak resident set size in MiB (`getrusage(RUSAGE_CHILDREN).ru_maxrss`), without unsafe code.
fn run_measured(program: &Path, args: &[String], cwd: &Path) -> (std::process::Output, u64) {
    const WRAPPER: &str = "import resource, subprocess, sys\n\
        r = subprocess.run(sys.argv[1:], capture_output=True)\n\
        sys.stdout.buffer.write(r.stdout)\n\
        sys.stderr.buffer.write(r.stderr)\n\
        kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n\
        sys.stderr.write('\\npeak-rss-kib %d\\n' % kib)\n\
        sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(WRAPPER)
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("python3 runs (the peak-memory wrapper)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: u64 = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("peak-rss-kib "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the wrapper printed the peak memory");
    (out, kib / 1024)
}

#[test]
fn every_hostile_input_gets_a_typed_error_naming_it_with_bounded_memory() {
    let work = tempfile::tempdir().unwrap();
    let teacher = common::tiny_teacher(work.path());
    let keep = work.path().join("keep.txt");
    std::fs::write(&keep, "written before the hostile runs").unwrap();
    let corpus = corpus();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 15, "the corpus lost cases");
    for case in &cases {
        let out_dir = work.path().join(format!("run-{}", case.name));
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                a.replace("{corpus}", corpus.to_str().unwrap())
                    .replace("{teacher}", &teacher)
                    .replace("{out}", out_dir.to_str().unwrap())
            })
            .collect();
        let (out, rss) = run_measured(Path::new(env!("CARGO_BIN_EXE_muse")), &args, work.path());
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let mut problems = Vec::new();
        if out.status.code() != Some(1) {
            problems.push(format!("exit status {:?}, not 1", out.status.code()));
        }
        if stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        if !stderr.contains("error: ") {
            problems.push("no `error: ` line".into());
        }
        for e in &case.expect {
            if !stderr.contains(e.as_str()) {
                problems.push(format!("the error does not mention `{e}`"));
            }
        }
        if let Some(max) = case.max_rss_mib
            && rss > max
        {
            problems.push(format!("peak memory {rss} MiB > {max} MiB"));
        }
        if out_dir.exists() {
            problems.push(format!("left {} behind", out_dir.display()));
        }
        if work.path().join("hostile-was-run").exists() {
            problems.push("code in the file was run".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({}): {}\n--- stderr:\n{}",
                case.name,
                case.what,
                problems.join("; "),
                stderr.trim()
            ));
        }
    }
    assert_eq!(
        std::fs::read_to_string(&keep).unwrap(),
        "written before the hostile runs"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_hostile_file_is_an_error_of_the_library_entry_point_naming_it() {
    let device = muse_device::device();
    let lenet = ClassifierConfig::new(Arch::LeNet5, 3).with_in_channels(1);
    let mut failures = Vec::new();
    for case in cases() {
        let path = corpus().join(&case.file);
        let message = match case.kind.as_str() {
            "weights" => load_classifier(&lenet, &path, &device)
                .err()
                .map(|e| e.to_string()),
            "data" => load(path.to_str().unwrap(), Split::Test, 28)
                .err()
                .map(|e| e.to_string()),
            "labels" => LabelEmbeddings::load(&path, 3).err().map(|e| e.to_string()),
            other => panic!("unknown kind {other}"),
        };
        // The error names the file (for a data folder: the folder, or a file in it).
        let name = Path::new(&case.file).file_name().unwrap().to_string_lossy();
        match message {
            None => failures.push(format!("{}: accepted", case.name)),
            Some(m) if !m.contains(name.as_ref()) => {
                failures.push(format!(
                    "{}: the error does not name the file: {m}",
                    case.name
                ));
            }
            Some(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
