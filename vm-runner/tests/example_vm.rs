//! The product's main job, for real: the example template (platform MINIMAL with an
//! overlay) rendered by kickstarter inside the VM, built by the base disk's image creator
//! from Debian's mirror, collected, and the raw image booted in QEMU until it prints the
//! `BUILD: <name>` line its kickstart's scripts set up. Needs a base disk (`IMG_BASE_DIR`)
//! and Debian's mirror; skipped without a base disk unless `IMG_REQUIRE_VM=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;
use std::process::Command;

use img_crd::runner::{Outcome, RunResult};
use img_vm_runner::bootcheck::{BootCheck, boot_check};

const RUNNER: &str = env!("CARGO_BIN_EXE_vm-runner");

#[tokio::test(flavor = "multi_thread")]
async fn the_example_job_builds_an_image_that_boots() {
    let Some(base) = std::env::var_os("IMG_BASE_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("base.qcow2").is_file())
    else {
        assert!(
            std::env::var_os("IMG_REQUIRE_VM").is_none(),
            "IMG_REQUIRE_VM is set but IMG_BASE_DIR has no base disk"
        );
        eprintln!("skipped: no base disk (set IMG_BASE_DIR; scripts/test builds one)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = Command::new(RUNNER)
        .args([
            "build",
            "--example",
            "--platform",
            "MINIMAL",
            "--overlay",
            "less,-nano",
        ])
        .args(["--type", "raw", "--name", "example"])
        .arg("--out")
        .arg(&out)
        .arg("--base-dir")
        .arg(&base)
        .env("IMG_WORK_DIR", dir.path())
        .output()
        .unwrap();
    let result: RunResult =
        serde_json::from_slice(&std::fs::read(out.join("result.json")).unwrap()).unwrap();
    let log = std::fs::read_to_string(out.join("example.log")).unwrap_or_default();
    assert_eq!(
        result.outcome,
        Outcome::Succeeded,
        "{:?}\n{}\n{log}",
        result.message,
        String::from_utf8_lossy(&o.stderr)
    );
    let stages: Vec<String> = result
        .stages
        .iter()
        .map(|s| format!("{:?} {:?}", s.name, s.outcome))
        .collect();
    eprintln!("stages: {stages:?}");
    assert!(
        log.contains("Info: running %post"),
        "the creator's output is in the log"
    );
    let raw = result
        .artifacts
        .iter()
        .find(|a| a.name.ends_with("-sda.raw"))
        .unwrap_or_else(|| panic!("no raw disk in {:?}", result.artifacts));
    let packages = result
        .artifacts
        .iter()
        .find(|a| a.name.ends_with(".packages"))
        .expect("package list");
    let list = std::fs::read_to_string(out.join(&packages.name)).unwrap();
    assert!(list.contains("\nless "), "the overlay's package is in");
    assert!(!list.contains("\nnano "), "the overlay's removal is out");
    let name = raw.name.trim_end_matches("-sda.raw").to_owned();
    let booted = boot_check(&BootCheck {
        image: out.join(&raw.name),
        expect: format!("BUILD: {name}"),
        timeout_seconds: 240,
        memory_mib: 1024,
        qemu: "qemu-system-x86_64".into(),
        accel: "tcg".into(),
        console_log: Some(dir.path().join("console.txt")),
    })
    .await
    .unwrap_or_else(|e| {
        let console = std::fs::read_to_string(dir.path().join("console.txt")).unwrap_or_default();
        panic!("the example image does not boot: {e}\n{console}")
    });
    eprintln!("booted in {:.0} s: {}", booted.seconds, booted.line);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out" && n != "console.txt")
        .collect();
    assert!(
        left.is_empty(),
        "the run left {left:?} in its work directory"
    );
}
