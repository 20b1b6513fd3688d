//! The runner with a real VM (QEMU under TCG here) and a stand-in creator command, so these
//! tests are about the runner: stages, the log, the result, and a teardown that leaves no
//! QEMU, virtiofsd, clone or work directory behind on success, failure, a boot that never
//! completes, a killed QEMU, SIGTERM, and the time limit. They need a base disk
//! (`$IMG_BASE_DIR`, made by `scripts/test`); without one they say so and pass, unless
//! `IMG_REQUIRE_VM=1` (set by `scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use img_crd::runner::{Outcome, RunResult};

/// One VM at a time: two cores, software emulation.
static VM: Mutex<()> = Mutex::new(());

const RUNNER: &str = env!("CARGO_BIN_EXE_vm-runner");

fn base_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("IMG_BASE_DIR").map(PathBuf::from);
    match dir.filter(|d| d.join("base.qcow2").is_file()) {
        Some(d) => Some(d),
        None => {
            assert!(
                std::env::var_os("IMG_REQUIRE_VM").is_none(),
                "IMG_REQUIRE_VM is set but IMG_BASE_DIR has no base disk"
            );
            eprintln!("skipped: no base disk (set IMG_BASE_DIR; scripts/test builds one)");
            None
        }
    }
}

struct World {
    dir: tempfile::TempDir,
    base: PathBuf,
}

impl World {
    fn new(base: PathBuf) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        std::fs::write(
            dir.path().join("job.ks"),
            "# -*-mic2-options-*- -f raw --arch=x86_64 -*-mic2-options-*-\nlang C\n%packages\n%end\n",
        )
        .unwrap();
        World { dir, base }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn command(&self, creator: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(RUNNER);
        cmd.args(["build", "--kickstart"])
            .arg(self.dir.path().join("job.ks"))
            .arg("--out")
            .arg(self.out())
            .arg("--base-dir")
            .arg(&self.base)
            .args(["--accel", "tcg", "--creator", creator])
            .args(extra)
            .env("IMG_WORK_DIR", self.work())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn build(&self, creator: &str, extra: &[&str]) -> (Output, RunResult) {
        let out = self.command(creator, extra).output().unwrap();
        (out, self.result())
    }

    fn result(&self) -> RunResult {
        serde_json::from_slice(&std::fs::read(self.out().join("result.json")).unwrap()).unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.out().join("job.log")).unwrap()
    }

    /// Anything the run left: files in the work directory, processes mentioning it.
    fn leftovers(&self) -> Vec<String> {
        let work = self.work();
        let mut left: Vec<String> = std::fs::read_dir(&work)
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .collect();
        let needle = work.display().to_string();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(&needle) && !text.contains(RUNNER) {
                left.push(format!(
                    "process {}: {text}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
        left
    }

    /// Waits (bounded) until the log contains `text`.
    fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !std::fs::read_to_string(self.out().join("job.log"))
            .unwrap_or_default()
            .contains(text)
        {
            assert!(Instant::now() < deadline, "log never showed {text:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of this world's QEMU.
    fn qemu_pid(&self) -> i32 {
        let needle = self.work().display().to_string();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let text = String::from_utf8_lossy(&cmdline);
            if text.contains("qemu-system") && text.contains(&needle) {
                return entry.file_name().to_string_lossy().parse().unwrap();
            }
        }
        panic!("no QEMU running");
    }
}

fn vm() -> Option<(std::sync::MutexGuard<'static, ()>, World)> {
    let base = base_dir()?;
    let guard = VM.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Some((guard, World::new(base)))
}

#[test]
fn a_build_collects_its_artifact_and_leaves_nothing_behind() {
    let Some((_vm, w)) = vm() else { return };
    let (out, result) = w.build("cp {ks} {outdir}/{name}.raw", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(result.outcome, Outcome::Succeeded);
    let artifact = &result.artifacts[0];
    assert_eq!(artifact.name, "job.raw");
    let copied = std::fs::read(w.out().join("job.raw")).unwrap();
    assert_eq!(copied, std::fs::read(w.dir.path().join("job.ks")).unwrap());
    let names: Vec<_> = result
        .stages
        .iter()
        .map(|s| format!("{:?}", s.name))
        .collect();
    assert_eq!(
        names,
        [
            "Clone",
            "Boot",
            "Kickstarter",
            "Build",
            "Collect",
            "Cleanup"
        ]
    );
    let log = w.log();
    assert!(log.contains("guest up and reachable over SSH"), "{log}");
    assert!(
        log.contains("$ cp /var/tmp/img/job.ks /mnt/img-out/job.raw"),
        "{log}"
    );
    assert_eq!(w.leftovers(), Vec::<String>::new());
}

#[test]
fn a_failing_creator_fails_the_build_with_the_2010_line() {
    let Some((_vm, w)) = vm() else { return };
    let (out, result) = w.build("ls {ks} /no/such/file", &["--share", "ssh"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(result.reason.as_deref(), Some("BuildFailed"));
    let log = w.log();
    assert!(
        log.contains("/no/such/file"),
        "the creator's output is in the log: {log}"
    );
    assert!(
        log.trim_end().ends_with(&format!(
            "IMG FAILED MISERABLY IN CREATING THE IMAGE!\n{}",
            result.message.unwrap()
        )),
        "{log}"
    );
    assert_eq!(w.leftovers(), Vec::<String>::new());
}

#[test]
fn a_guest_that_never_answers_fails_the_boot_in_time() {
    let Some((_vm, w)) = vm() else { return };
    // A base disk whose init never starts sshd.
    let base = w.dir.path().join("mute-base");
    std::fs::create_dir(&base).unwrap();
    for f in ["base.qcow2", "base.vmlinuz", "base.initrd"] {
        std::os::unix::fs::symlink(w.base.join(f), base.join(f)).unwrap();
    }
    std::fs::write(
        base.join("base.json"),
        r#"{"kernel":"base.vmlinuz","initrd":"base.initrd","append":"root=/dev/vda ro console=ttyS0 init=/bin/sleep -- 600"}"#,
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(RUNNER)
        .args(["build", "--kickstart"])
        .arg(w.dir.path().join("job.ks"))
        .arg("--out")
        .arg(w.out())
        .arg("--base-dir")
        .arg(&base)
        .args([
            "--accel",
            "tcg",
            "--boot-timeout-seconds",
            "10",
            "--creator",
            "true {ks}",
        ])
        .env("IMG_WORK_DIR", w.work())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(40));
    let result = w.result();
    assert_eq!(result.reason.as_deref(), Some("VmFailed"));
    let message = result.message.unwrap();
    assert!(
        message.contains("did not become ready within 10s"),
        "{message}"
    );
    assert_eq!(w.leftovers(), Vec::<String>::new());
}

#[test]
fn a_killed_qemu_fails_the_build_and_is_cleaned_up() {
    let Some((_vm, w)) = vm() else { return };
    let child = w.command("tail -f {ks}", &[]).spawn().unwrap();
    w.wait_for_log("$ tail -f");
    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(w.qemu_pid()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let result = w.result();
    assert_eq!(result.reason.as_deref(), Some("VmFailed"), "{result:?}");
    let message = result.message.unwrap();
    assert!(
        message.contains("killed by signal 9") || message.contains("lost"),
        "{message}"
    );
    assert_eq!(w.leftovers(), Vec::<String>::new());
}

#[test]
fn sigterm_stops_the_build_and_tears_the_vm_down() {
    let Some((_vm, w)) = vm() else { return };
    let child = w.command("tail -f {ks}", &[]).spawn().unwrap();
    w.wait_for_log("$ tail -f");
    let started = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let result = w.result();
    assert_eq!(result.reason.as_deref(), Some("Cancelled"));
    assert_eq!(w.leftovers(), Vec::<String>::new());
}

#[test]
fn a_build_past_its_time_limit_times_out() {
    let Some((_vm, w)) = vm() else { return };
    let (out, result) = w.build("tail -f {ks}", &["--timeout-seconds", "20"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(result.reason.as_deref(), Some("Timeout"));
    let build = result
        .stages
        .iter()
        .find(|s| s.name == img_crd::Stage::Build)
        .unwrap();
    assert_eq!(build.outcome, Some(img_crd::StageOutcome::Failed));
    assert_eq!(w.leftovers(), Vec::<String>::new());
}

#[test]
fn run_reports_an_unreadable_job_in_its_termination_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.json"), b"{\"version\": 1}").unwrap();
    let out = Command::new(RUNNER)
        .args(["run", "--job"])
        .arg(dir.path().join("job.json"))
        .arg("--images")
        .arg(dir.path())
        .arg("--base")
        .arg(dir.path())
        .arg("--termination-log")
        .arg(dir.path().join("termination-log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let result = RunResult::from_termination_message(
        &std::fs::read_to_string(dir.path().join("termination-log")).unwrap(),
    )
    .unwrap();
    assert_eq!(result.reason.as_deref(), Some("InvalidJob"));
    assert!(result.message.unwrap().contains("missing field"));
}

#[test]
fn clean_removes_a_job_directory_and_accepts_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("team/nb");
    std::fs::create_dir_all(&job).unwrap();
    std::fs::write(job.join("nb.raw"), b"x").unwrap();
    let clean = |p: &Path| {
        Command::new(RUNNER)
            .args(["clean", "--dir"])
            .arg(p)
            .output()
            .unwrap()
    };
    assert!(clean(&job).status.success());
    assert!(!job.exists());
    assert!(clean(&job).status.success());
}

/// `vm-runner drive` against a VM it did not start (as in a KubeVirt driver Pod): this test
/// plays KubeVirt — boots the base disk with the images directory shared at the same path —
/// and the runner reaches it over SSH with the key it is given, builds, and powers it off.
#[test]
fn drive_builds_in_a_vm_it_did_not_start() {
    let Some((_vm, w)) = vm() else { return };
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(drive_against_our_own_vm(&w));
}

async fn drive_against_our_own_vm(w: &World) {
    use img_vm_runner::basedisk::BaseDisk;
    use img_vm_runner::overlay::Overlay;
    use img_vm_runner::share::{TAG, VirtioFs};
    use img_vm_runner::vm::{Vm, VmConfig, free_port};
    use img_vm_runner::{ssh, ssh::quote};

    let images = w.dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    let base = BaseDisk::find(&w.base, "base.qcow2").unwrap();
    let overlay = Overlay::create(
        Path::new("qemu-img"),
        &base.disk,
        &w.work().join("vm.qcow2"),
    )
    .await
    .unwrap();
    let share = VirtioFs::start(Path::new("/usr/lib/qemu/virtiofsd"), &images, &w.work())
        .await
        .unwrap();
    let key = ssh::new_key();
    let key_file = w.dir.path().join("id_ed25519");
    std::fs::write(
        &key_file,
        key.to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let public = key.public_key().to_openssh().unwrap();
    let port = free_port().unwrap();
    let mut kubevirt = Vm::start(
        Path::new("qemu-system-x86_64"),
        &VmConfig {
            accel: "tcg",
            memory_mib: 1024,
            cpus: 2,
            base: &base,
            disk: overlay.path(),
            ssh_port: port,
            ssh_public_key: &public,
            share_socket: Some(share.socket()),
            cache_socket: None,
        },
    )
    .unwrap();
    let host_key = kubevirt.wait_ready(Duration::from_secs(120)).await.unwrap();
    // KubeVirt's cloud-init mounts the images volume at the driver's path.
    let guest = ssh::connect(port, &key, &host_key, Duration::from_secs(30))
        .await
        .unwrap();
    let dir = quote(&images.display().to_string());
    guest
        .check(&format!("mkdir -p {dir} && mount -t virtiofs {TAG} {dir}"))
        .await
        .unwrap();
    guest.close().await;

    let job = serde_json::json!({
        "version": 1, "namespace": "ns", "name": "drv", "uid": "u-1", "legacyId": "42",
        "imageType": "raw", "kickstart": "lang C\n%packages\n%end\n", "baseDisk": "base.qcow2",
        "outputDir": "ns/drv", "timeoutSeconds": 600, "cpus": 2, "memoryMib": 1024
    });
    let job_file = w.dir.path().join("job.json");
    std::fs::write(&job_file, job.to_string()).unwrap();
    let termination = w.dir.path().join("termination-log");
    let out = Command::new(RUNNER)
        .args(["drive", "--job"])
        .arg(&job_file)
        .args(["--ssh-host", "127.0.0.1", "--ssh-port", &port.to_string()])
        .arg("--ssh-key")
        .arg(&key_file)
        .arg("--images")
        .arg(&images)
        .arg("--termination-log")
        .arg(&termination)
        .args(["--creator", "cp {ks} {outdir}/{name}.raw"])
        .output()
        .unwrap();
    let result: RunResult = serde_json::from_slice(&std::fs::read(&termination).unwrap()).unwrap();
    assert_eq!(
        result.outcome,
        Outcome::Succeeded,
        "{:?} {}",
        result.message,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
    assert_eq!(
        result.stages[0].outcome,
        Some(img_crd::StageOutcome::Skipped)
    );
    assert_eq!(result.artifacts[0].name, "drv.raw");
    let copied = std::fs::read_to_string(images.join("ns/drv/drv.raw")).unwrap();
    assert_eq!(copied, "lang C\n%packages\n%end\n");
    // The driver powered the VM off when it was done.
    let deadline = Instant::now() + Duration::from_secs(30);
    while kubevirt.exit_status().is_none() {
        assert!(Instant::now() < deadline, "the VM is still running");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    kubevirt.stop(Duration::from_secs(1)).await;
    share.stop().await;
    drop(overlay);
}

#[test]
fn a_package_cache_is_shared_into_the_guest_for_the_creator() {
    let Some((_vm, w)) = vm() else { return };
    let cache = w.dir.path().join("packages");
    let creator = "touch --reference={ks} {cachedir}/from-the-guest {outdir}/{name}.raw";
    let (out, result) = w.build(creator, &["--package-cache", &cache.display().to_string()]);
    let log = w.log();
    assert!(out.status.success(), "{log}");
    assert_eq!(result.outcome, Outcome::Succeeded);
    assert!(
        log.contains(&format!(
            "package cache {} shared with the guest",
            cache.display()
        )),
        "{log}"
    );
    assert!(
        log.contains(
            "$ touch '--reference=/var/tmp/img/job.ks' /var/cache/img-packages/from-the-guest /mnt/img-out/job.raw"
        ),
        "{log}"
    );
    assert!(
        cache.join("from-the-guest").is_file(),
        "the guest wrote into the host's cache directory"
    );
    assert_eq!(w.leftovers(), Vec::<String>::new(), "both virtiofsd gone");

    // Without a cache the creator is not told of one.
    std::fs::remove_dir_all(w.out()).unwrap();
    let (out, _) = w.build(creator, &[]);
    let log = w.log();
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("$ touch '--reference=/var/tmp/img/job.ks' /mnt/img-out/job.raw"),
        "{log}"
    );
}
