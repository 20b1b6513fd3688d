//! `cargo bench -p img-vm-runner --bench runner` (needs `IMG_BASE_DIR`, made by
//! `scripts/test` or `vm-runner/base-disk/build`; the example job also needs `IMG_EXAMPLE=1`,
//! minutes under TCG). Prints, from one run:
//!
//! - clone time of a 1 GiB and an 8 GiB base disk: the copy-on-write overlay against a full
//!   copy (targets: constant, under 50 ms, at least 100× faster than copying 8 GiB);
//! - boot to SSH, median of 3 (target: under 8 s with TCG and the small init);
//! - artifact transfer out of the guest over virtio-fs and over SSH, against this host's own
//!   disk write speed (target: virtio-fs at least 50 % of it);
//! - with `IMG_EXAMPLE=1`: the wall time of the README example job and each stage's share.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use img_vm_runner::basedisk::BaseDisk;
use img_vm_runner::overlay::Overlay;
use img_vm_runner::share::VirtioFs;
use img_vm_runner::ssh;
use img_vm_runner::vm::{Vm, VmConfig, free_port};

const MIB: u64 = 1 << 20;

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("command");
    assert!(status.success(), "{cmd:?}");
}

/// A qcow2 base disk of `gib` GiB, all allocated with non-zero data (so a copy is a copy).
fn make_base(dir: &Path, gib: u64) -> PathBuf {
    let raw = dir.join(format!("base-{gib}g.raw"));
    let qcow = dir.join(format!("base-{gib}g.qcow2"));
    run(Command::new("dd")
        .args(["if=/dev/urandom", "bs=1M", "count=256", "status=none"])
        .arg(format!("of={}", dir.join("chunk").display())));
    let chunk = std::fs::read(dir.join("chunk")).expect("chunk");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&raw).expect("raw");
        for _ in 0..gib * 4 {
            f.write_all(&chunk).expect("write");
        }
        f.sync_all().expect("sync");
    }
    run(Command::new("qemu-img")
        .args(["convert", "-O", "qcow2"])
        .arg(&raw)
        .arg(&qcow));
    std::fs::remove_file(&raw).expect("rm");
    qcow
}

async fn clone_times(dir: &Path) {
    for gib in [1u64, 8] {
        let base = make_base(dir, gib);
        let mut overlays = Vec::new();
        for i in 0..5 {
            let path = dir.join(format!("ov-{gib}-{i}.qcow2"));
            let t = Instant::now();
            let o = Overlay::create(Path::new("qemu-img"), &base, &path)
                .await
                .expect("overlay");
            overlays.push(t.elapsed());
            drop(o);
        }
        overlays.sort();
        let overlay = overlays[2];
        // Drop the page cache's copy of the base first, so the copy reads the disk.
        let copy = dir.join("copy.qcow2");
        let t = Instant::now();
        run(Command::new("cp")
            .arg("--reflink=never")
            .arg(&base)
            .arg(&copy));
        run(&mut Command::new("sync"));
        let full = t.elapsed();
        std::fs::remove_file(&copy).expect("rm");
        std::fs::remove_file(&base).expect("rm");
        println!(
            "clone {gib} GiB base: overlay {:.1} ms (median of 5), full copy {:.0} ms, {:.0}× faster",
            overlay.as_secs_f64() * 1000.0,
            full.as_secs_f64() * 1000.0,
            full.as_secs_f64() / overlay.as_secs_f64()
        );
    }
}

struct Booted {
    vm: Vm,
    guest: ssh::Guest,
    _overlay: Overlay,
    share: Option<VirtioFs>,
}

async fn boot(base: &BaseDisk, work: &Path, share_dir: Option<&Path>) -> (Booted, Duration) {
    let overlay = Overlay::create(Path::new("qemu-img"), &base.disk, &work.join("b.qcow2"))
        .await
        .expect("overlay");
    let share = match share_dir {
        Some(d) => Some(
            VirtioFs::start(Path::new("/usr/lib/qemu/virtiofsd"), d, work)
                .await
                .expect("virtiofsd"),
        ),
        None => None,
    };
    let key = ssh::new_key();
    let public = key.public_key().to_openssh().expect("key");
    let port = free_port().expect("port");
    let config = VmConfig {
        accel: "tcg",
        memory_mib: 1024,
        cpus: 2,
        base,
        disk: overlay.path(),
        ssh_port: port,
        ssh_public_key: &public,
        share_socket: share.as_ref().map(VirtioFs::socket),
        cache_socket: None,
    };
    let t = Instant::now();
    let mut vm = Vm::start(Path::new("qemu-system-x86_64"), &config).expect("qemu");
    let host = vm
        .wait_ready(Duration::from_secs(120))
        .await
        .expect("ready");
    let guest = ssh::connect(port, &key, &host, Duration::from_secs(30))
        .await
        .expect("ssh");
    guest.check("true").await.expect("ssh true");
    let took = t.elapsed();
    (
        Booted {
            vm,
            guest,
            _overlay: overlay,
            share,
        },
        took,
    )
}

async fn shut(b: Booted) {
    let mut ignore = |_: ssh::Stream, _: &[u8]| {};
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        b.guest
            .run("echo o > /proc/sysrq-trigger", &[], &mut ignore),
    )
    .await;
    b.vm.stop(Duration::from_secs(10)).await;
    if let Some(s) = b.share {
        s.stop().await;
    }
}

/// MB/s of writing a `mib` MiB file of random data to this host's disk (`dd bs=1M
/// conv=fsync` from the page cache), the median of 3.
fn host_write_speed(dir: &Path, mib: u64) -> f64 {
    let src = dir.join("host-src");
    run(Command::new("dd")
        .args(["if=/dev/urandom", "bs=1M", "status=none"])
        .arg(format!("count={mib}"))
        .arg(format!("of={}", src.display())));
    let mut speeds = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        run(Command::new("dd")
            .args(["bs=1M", "conv=fsync", "status=none"])
            .arg(format!("if={}", src.display()))
            .arg(format!("of={}", dir.join("host-write").display())));
        speeds.push(mib as f64 / t.elapsed().as_secs_f64());
        std::fs::remove_file(dir.join("host-write")).expect("rm");
    }
    std::fs::remove_file(src).expect("rm");
    speeds.sort_by(f64::total_cmp);
    speeds[1]
}

async fn boot_and_transfer(base: &BaseDisk, dir: &Path) {
    let mut boots = Vec::new();
    for i in 0..3 {
        let work = dir.join(format!("boot-{i}"));
        std::fs::create_dir_all(&work).expect("work");
        let (b, took) = boot(base, &work, None).await;
        boots.push(took);
        shut(b).await;
    }
    boots.sort();
    println!(
        "boot to SSH (TCG, small init): median {:.2} s (runs: {})",
        boots[1].as_secs_f64(),
        boots
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let size = 512u64;
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).expect("shared");
    let work = dir.join("transfer");
    std::fs::create_dir_all(&work).expect("work");
    let (b, _) = boot(base, &work, Some(&shared)).await;
    b.guest
        .check(&format!(
            "head -c {} /dev/urandom > /var/tmp/blob && sync && mkdir -p /mnt/out && mount -t virtiofs imgout /mnt/out",
            size * MIB
        ))
        .await
        .expect("blob");
    // The same method as on the host: dd of the same size, 1 MiB blocks, fsync; median of 3.
    let mut speeds = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        b.guest
            .check("dd if=/var/tmp/blob of=/mnt/out/blob bs=1M conv=fsync status=none && rm /mnt/out/blob")
            .await
            .expect("copy");
        speeds.push(size as f64 / t.elapsed().as_secs_f64());
    }
    speeds.sort_by(f64::total_cmp);
    let virtiofs = speeds[1];
    let t = Instant::now();
    b.guest
        .download("/var/tmp/blob", &dir.join("blob-ssh"))
        .await
        .expect("download");
    let over_ssh = size as f64 / t.elapsed().as_secs_f64();
    shut(b).await;
    // Measured right after, so both see the same disk in the same state.
    let host = host_write_speed(dir, size);
    println!(
        "artifact transfer of {size} MiB: virtio-fs {virtiofs:.0} MB/s ({:.0} % of the host's {host:.0} MB/s disk writes), SSH {over_ssh:.0} MB/s ({:.0} %)",
        100.0 * virtiofs / host,
        100.0 * over_ssh / host
    );
}

fn example_job(base_dir: &Path, dir: &Path) {
    let out = dir.join("example");
    let t = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_vm-runner"))
        .args([
            "build",
            "--example",
            "--platform",
            "MINIMAL",
            "--overlay",
            "less,-nano",
            "--type",
            "raw",
            "--out",
        ])
        .arg(&out)
        .arg("--base-dir")
        .arg(base_dir)
        .args(["--accel", "tcg"])
        .status()
        .expect("vm-runner");
    let total = t.elapsed().as_secs_f64();
    let result: img_crd::runner::RunResult =
        serde_json::from_slice(&std::fs::read(out.join("result.json")).expect("result.json"))
            .expect("result");
    println!(
        "README example job (raw, TCG): {:.0} s, {:?}",
        total, result.outcome
    );
    for s in &result.stages {
        if let (Some(a), Some(b)) = (&s.started_at, &s.finished_at) {
            let secs = b.0.duration_since(a.0).as_secs_f64();
            println!(
                "  {:?}: {secs:.0} s ({:.0} %)",
                s.name,
                100.0 * secs / total
            );
        }
    }
    assert!(status.success());
}

#[tokio::main]
async fn main() {
    let Some(base_dir) = std::env::var_os("IMG_BASE_DIR").map(PathBuf::from) else {
        eprintln!("set IMG_BASE_DIR to a base disk directory (scripts/test builds one)");
        return;
    };
    let base = BaseDisk::find(&base_dir, "base.qcow2").expect("base disk");
    let dir = tempfile::tempdir_in(
        std::env::var_os("IMG_BENCH_DIR").unwrap_or_else(|| "/var/tmp".into()),
    )
    .expect("tempdir");
    clone_times(dir.path()).await;
    boot_and_transfer(&base, dir.path()).await;
    if std::env::var_os("IMG_EXAMPLE").is_some() {
        example_job(&base_dir, dir.path());
    }
}
