//! How the runner runs VMs: programs, acceleration, timeouts, the image creator's command.
//! Every flag also reads an `IMG_*` environment variable, so a runner Pod is configured
//! through its environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// How QEMU executes the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Accel {
    /// KVM when `/dev/kvm` works (probed once), TCG otherwise.
    Auto,
    /// Hardware virtualisation; fails where it does not work.
    Kvm,
    /// Software emulation (works everywhere, 9-12× slower inside the guest).
    Tcg,
}

/// How the image leaves the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Share {
    /// virtio-fs when `virtiofsd` can run here, streaming over SSH otherwise.
    Auto,
    /// virtio-fs only.
    Virtiofs,
    /// Streamed over SSH (`cat`), file by file.
    Ssh,
}

/// Runner settings.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// The QEMU system emulator.
    #[arg(long, env = "IMG_QEMU", default_value = "qemu-system-x86_64")]
    pub qemu: PathBuf,

    /// qemu-img, for the copy-on-write clone of the base disk.
    #[arg(long, env = "IMG_QEMU_IMG", default_value = "qemu-img")]
    pub qemu_img: PathBuf,

    /// virtiofsd (QEMU 7.2 ships it as /usr/lib/qemu/virtiofsd).
    #[arg(long, env = "IMG_VIRTIOFSD", default_value = "/usr/lib/qemu/virtiofsd")]
    pub virtiofsd: PathBuf,

    /// auto (KVM if it works), kvm or tcg.
    #[arg(long, env = "IMG_ACCEL", value_enum, default_value_t = Accel::Auto)]
    pub accel: Accel,

    /// How artifacts leave the guest: auto, virtiofs or ssh.
    #[arg(long, env = "IMG_SHARE", value_enum, default_value_t = Share::Auto)]
    pub share: Share,

    /// Seconds from QEMU start until the guest must accept SSH.
    #[arg(long, env = "IMG_BOOT_TIMEOUT_SECONDS", default_value_t = 120)]
    pub boot_timeout_seconds: u64,

    /// The image creator's command in the guest, as words separated by spaces; `{format}`,
    /// `{ks}`, `{outdir}`, `{name}`, `{arch}` and `{cachedir}` are replaced (a word with
    /// `{cachedir}` is left out when there is no package cache). Examples: mic2
    /// `mic-image-creator --config={ks} --format={format} --outdir={outdir} --cache={cachedir}`,
    /// Tizen mic `mic create {format} {ks} -o {outdir} --cachedir={cachedir}` (the default;
    /// the base disk's creator speaks both).
    #[arg(
        long,
        env = "IMG_CREATOR",
        default_value = "mic create {format} {ks} -o {outdir} --cachedir={cachedir}"
    )]
    pub creator: String,

    /// A directory kept between builds for the creator's package cache, shared into the
    /// guest with virtio-fs (not used when artifacts go over SSH, or in a KubeVirt VM).
    #[arg(long, env = "IMG_PACKAGE_CACHE")]
    pub package_cache: Option<PathBuf>,

    /// Where clones, sockets and temporary files go (default: the system's temp directory).
    #[arg(long, env = "IMG_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
}

impl Settings {
    /// The boot timeout.
    pub fn boot_timeout(&self) -> Duration {
        Duration::from_secs(self.boot_timeout_seconds)
    }
}
