//! `vm-runner boot-check`: boots a built image in QEMU (read-only, `snapshot=on`) and waits
//! until a given text appears on its serial console — the proof that an image boots and
//! that its kickstart's `%post` ran. QEMU is killed on every path.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// `boot-check` arguments.
#[derive(Debug, Clone, Args)]
pub struct BootCheck {
    /// The image: `.raw`/`.img` (raw disk), `.qcow2`, `.vdi`, `.vmdk`, `.iso` (CD-ROM) or
    /// `.usbimg` (the hybrid ISO as a disk).
    #[arg(long)]
    pub image: PathBuf,
    /// The text to wait for on the serial console.
    #[arg(long)]
    pub expect: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
    /// Guest memory.
    #[arg(long, default_value_t = 1024)]
    pub memory_mib: u32,
    /// The QEMU system emulator.
    #[arg(long, env = "IMG_QEMU", default_value = "qemu-system-x86_64")]
    pub qemu: PathBuf,
    /// `tcg` (works everywhere) or `kvm`.
    #[arg(long, default_value = "tcg")]
    pub accel: String,
    /// Copy the console to this file.
    #[arg(long)]
    pub console_log: Option<PathBuf>,
}

/// What a boot check saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Booted {
    /// Seconds from QEMU start to the expected text.
    pub seconds: f64,
    /// The console line that had it.
    pub line: String,
}

/// How QEMU attaches an image, by its file name.
pub fn drive_args(image: &Path) -> Result<Vec<String>, String> {
    let ext = image
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = image.display().to_string();
    if path.contains(',') {
        return Err(format!("{path}: QEMU cannot take a path with a comma"));
    }
    let disk = |format: &str| {
        vec![
            "-drive".to_owned(),
            format!("file={path},format={format},if=virtio,snapshot=on"),
        ]
    };
    Ok(match ext.as_str() {
        "raw" | "img" | "usbimg" => disk("raw"),
        "qcow2" => disk("qcow2"),
        "vdi" => disk("vdi"),
        "vmdk" => disk("vmdk"),
        "iso" => vec![
            "-drive".to_owned(),
            format!("file={path},format=raw,media=cdrom,readonly=on"),
            "-boot".to_owned(),
            "d".to_owned(),
        ],
        other => return Err(format!("{path}: unknown image type {other:?}")),
    })
}

/// Boots the image until `expect` appears, or fails with what went wrong.
pub async fn boot_check(args: &BootCheck) -> Result<Booted, String> {
    let drive = drive_args(&args.image)?;
    let started = Instant::now();
    let mut child = Command::new(&args.qemu)
        .args(["-accel", &args.accel, "-nodefaults", "-display", "none"])
        .args([
            "-monitor",
            "none",
            "-serial",
            "stdio",
            "-no-reboot",
            "-nic",
            "none",
        ])
        .args(["-m", &args.memory_mib.to_string(), "-vga", "none"])
        .args(&drive)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", args.qemu.display()))?;
    let stdout = child.stdout.take().ok_or("QEMU has no output")?;
    let mut log = match &args.console_log {
        Some(p) => Some(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let mut reader = BufReader::new(stdout);
    let watch = async {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => return Err("QEMU exited before the text appeared".to_owned()),
                Ok(_) => {}
            }
            if let Some(f) = log.as_mut() {
                use std::io::Write;
                let _ = f.write_all(&buf);
            }
            let line = String::from_utf8_lossy(&buf);
            if line.contains(&args.expect) {
                return Ok(line.trim_end().to_owned());
            }
        }
    };
    let result = tokio::time::timeout(Duration::from_secs(args.timeout_seconds), watch).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    match result {
        Ok(Ok(line)) => Ok(Booted {
            seconds: started.elapsed().as_secs_f64(),
            line,
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "{:?} did not appear on the console within {} s",
            args.expect, args.timeout_seconds
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_attach_by_type() {
        let a = drive_args(Path::new("/o/x-sda.raw")).expect("raw");
        assert_eq!(a[1], "file=/o/x-sda.raw,format=raw,if=virtio,snapshot=on");
        let a = drive_args(Path::new("/o/x.iso")).expect("iso");
        assert!(a[1].contains("media=cdrom") && a[3] == "d");
        assert!(drive_args(Path::new("/o/x.tar.gz")).is_err());
        assert!(drive_args(Path::new("/o/a,b.raw")).is_err());
    }
}
