//! Choosing KVM or TCG. `/dev/kvm` can exist, open, and still not run a guest (nested
//! virtualisation without the CPU features, as on the machines this project is built on), so
//! `auto` boots the base kernel under KVM once, without a disk, and uses KVM only if the
//! kernel writes to the serial console within a few seconds.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::OnceCell;

use crate::settings::Accel;

/// How long the probe waits for the kernel's first console output under KVM (it takes well
/// under a second where KVM works).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

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
    let mut byte = [0u8; 1];
    let works = matches!(
        tokio::time::timeout(PROBE_TIMEOUT, out.read(&mut byte)).await,
        Ok(Ok(1))
    );
    let _ = child.kill().await;
    tracing::info!(kvm = works, "probed KVM");
    works
}
