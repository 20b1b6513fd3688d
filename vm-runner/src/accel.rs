//! Choosing KVM or TCG. `/dev/kvm` can exist, open, and still not run a guest (nested
//! virtualisation without the CPU features, as on the machines this project is built on), so
//! `auto` boots the base kernel under KVM once, without a disk, and uses KVM only if the
//! kernel boots to its end (a panic for want of a root disk) within seconds.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::OnceCell;

use crate::settings::Accel;

/// How long the probe waits for the kernel to finish booting under KVM (about a second where
/// KVM works).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Console text that only a kernel which booted to the end prints.
const BOOT_END: &[&str] = &["VFS: Unable to mount root", "Kernel panic", "Run /init"];

static PROBED: OnceCell<bool> = OnceCell::const_new();

/// The accelerator to use: `kvm` or `tcg`.
pub async fn choose(setting: Accel, qemu: &Path, kernel: &Path) -> &'static str {
    match setting {
        Accel::Kvm => "kvm",
        Accel::Tcg => "tcg",
        Accel::Auto => {
            let works = *PROBED.get_or_init(|| kvm_works(qemu, kernel)).await;
            if works { "kvm" } else { "tcg" }
        }
    }
}

/// Whether a kernel boots under KVM here.
async fn kvm_works(qemu: &Path, kernel: &Path) -> bool {
    let openable = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if !openable {
        tracing::info!("no usable /dev/kvm: using TCG");
        return false;
    }
    let mut child = match Command::new(qemu)
        .args([
            "-accel",
            "kvm",
            "-nodefaults",
            "-display",
            "none",
            "-monitor",
            "none",
        ])
        .args(["-serial", "stdio", "-no-reboot", "-m", "128", "-kernel"])
        .arg(kernel)
        .args(["-append", "console=ttyS0 earlyprintk=serial panic=-1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(_) => return false,
    };
    let Some(mut out) = child.stdout.take() else {
        return false;
    };
    // The real-mode setup code prints (`Probing EDD`) even where the kernel proper then
    // hangs, so only the end of the kernel's boot counts: with no disk it panics mounting
    // the root filesystem.
    let reached_the_end = async {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match out.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&seen);
            if BOOT_END.iter().any(|m| text.contains(m)) {
                return true;
            }
        }
    };
    let works = matches!(
        tokio::time::timeout(PROBE_TIMEOUT, reached_the_end).await,
        Ok(true)
    );
    let _ = child.kill().await;
    tracing::info!(kvm = works, "probed KVM");
    works
}
