//! The creator's command lines: Tizen mic's (`mic create <format> <ks> -o DIR`) and MeeGo
//! mic2's (`mic-image-creator --config=<ks> --format=<format> --outdir=DIR`), chosen by the
//! name the program was called by.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A tar archive of the root filesystem.
    Fs,
    /// One filesystem image per partition.
    Loop,
    /// A partitioned, bootable disk image.
    Raw,
    /// `raw`, converted to qcow2.
    Qcow2,
    /// `raw`, converted to VirtualBox's VDI.
    Vdi,
    /// `raw`, converted to VMware's VMDK.
    Vmdk,
    /// A hybrid live ISO.
    Livecd,
    /// The hybrid live ISO, named for writing to a USB stick.
    Liveusb,
}

impl Format {
    /// Every name the creator accepts, with unsupported ones last.
    pub const NAMES: &[&str] = &[
        "fs", "loop", "raw", "qcow2", "qcow", "vdi", "vmdk", "livecd", "liveusb",
    ];

    /// Reads a format name.
    pub fn parse(name: &str) -> Result<Format, String> {
        Ok(match name {
            "fs" => Format::Fs,
            "loop" => Format::Loop,
            "raw" => Format::Raw,
            "qcow2" | "qcow" => Format::Qcow2,
            "vdi" => Format::Vdi,
            "vmdk" => Format::Vmdk,
            "livecd" => Format::Livecd,
            "liveusb" => Format::Liveusb,
            "nand" | "mrstnand" | "jffs2" | "ubi" | "fiasco" => {
                return Err(format!(
                    "image format {name:?} is not supported by this creator: it needs the \
                     flash tools of MeeGo's hardware adaptations; build `raw` or `loop` instead"
                ));
            }
            other => {
                return Err(format!(
                    "unknown image format {other:?} (this creator makes: {})",
                    Format::NAMES.join(", ")
                ));
            }
        })
    }

    /// The format's name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Fs => "fs",
            Format::Loop => "loop",
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vdi => "vdi",
            Format::Vmdk => "vmdk",
            Format::Livecd => "livecd",
            Format::Liveusb => "liveusb",
        }
    }

    /// True for formats that must boot (a kernel and a bootloader go in).
    pub fn boots(self) -> bool {
        !matches!(self, Format::Fs | Format::Loop)
    }

    /// True for the live ISO formats.
    pub fn is_live(self) -> bool {
        matches!(self, Format::Livecd | Format::Liveusb)
    }
}

/// One build, whichever command line asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The format, or `None` for `mic cr auto` (read from the kickstart's magic line).
    pub format: Option<String>,
    /// The kickstart.
    pub ks: PathBuf,
    /// Where the image files go.
    pub outdir: PathBuf,
    /// `--arch`, else the kickstart's magic line, else the machine's.
    pub arch: Option<String>,
    /// `--release`: the build id (`@BUILD_ID@`), and mic's release layout.
    pub release: Option<String>,
    /// `--logfile`: a copy of everything printed.
    pub logfile: Option<PathBuf>,
    /// `--pack-to`: also pack the outputs into this archive (`@NAME@` is the image name).
    pub pack_to: Option<String>,
    /// `--copy-kernel`/`--save-kernel`: put the kernel next to the image.
    pub copy_kernel: bool,
    /// `--tmpdir`: where the image is assembled (default `/var/tmp`).
    pub tmpdir: PathBuf,
    /// `--cachedir`: the package cache.
    pub cachedir: Option<PathBuf>,
    /// Options accepted for compatibility that change nothing here.
    pub ignored: Vec<String>,
}

/// `mic [-d] [-v] create <format> <ks> [options]`.
#[derive(Debug, Parser)]
#[command(
    name = "mic",
    about = "Builds OS images from kickstart files (IMG's mic-compatible creator for Debian-family images)"
)]
struct MicCli {
    /// More output (accepted; the creator always prints every step).
    #[arg(short, long, global = true)]
    debug: bool,
    /// More output (accepted).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Never ask (accepted; the creator never asks).
    #[arg(long, global = true)]
    non_interactive: bool,
    #[command(subcommand)]
    command: MicCommand,
}

#[derive(Debug, Subcommand)]
enum MicCommand {
    /// Create an image: `mic create <format> <ks>`; `mic create auto <ks>` reads the format
    /// from the kickstart's magic first line.
    #[command(alias = "cr")]
    Create(MicCreate),
}

#[derive(Debug, Args)]
struct MicCreate {
    /// fs, loop, raw, qcow2, vdi, vmdk, livecd, liveusb, or auto.
    format: String,
    /// The kickstart file.
    ks: PathBuf,
    #[command(flatten)]
    common: Common,
}

/// Options both command lines share.
#[derive(Debug, Args)]
struct Common {
    /// Output directory.
    #[arg(short = 'o', long)]
    outdir: Option<PathBuf>,
    /// Target architecture (x86_64, i686, aarch64, armv7hl, ...).
    #[arg(short = 'A', long)]
    arch: Option<String>,
    /// Release id: replaces @BUILD_ID@ and uses mic's release layout.
    #[arg(long)]
    release: Option<String>,
    /// Also write everything printed to this file.
    #[arg(long)]
    logfile: Option<PathBuf>,
    /// Pack the outputs into an archive (.tar, .tar.gz, .tar.bz2, .tar.xz); @NAME@ = image name.
    #[arg(long, alias = "taring-to")]
    pack_to: Option<String>,
    /// Copy the kernel next to the image.
    #[arg(long, alias = "save-kernel")]
    copy_kernel: bool,
    /// Where the image is assembled.
    #[arg(long, default_value = "/var/tmp")]
    tmpdir: PathBuf,
    /// Package cache directory: packages are taken from it (checked against the
    /// repositories' signed indexes) and the ones downloaded are added to it.
    #[arg(short = 'k', long, alias = "cache")]
    cachedir: Option<PathBuf>,
    /// mic.conf (accepted; nothing in it applies).
    #[arg(short = 'c', long)]
    config_file: Option<PathBuf>,
    /// Package lists to record (accepted; `<name>.packages` is always written).
    #[arg(long)]
    record_pkgs: Option<String>,
    /// Package manager (accepted; apt is used).
    #[arg(long)]
    pkgmgr: Option<String>,
    /// Runtime (accepted; native).
    #[arg(long)]
    runtime: Option<String>,
    /// Compress the disk image (accepted; images are written sparse).
    #[arg(long, alias = "compress-disk-image")]
    compress_image: Option<String>,
    /// fstab style (accepted; UUIDs are used).
    #[arg(long, alias = "fstab-entry")]
    fstab: Option<String>,
    /// Accepted for compatibility.
    #[arg(long)]
    generate_bmap: bool,
    /// Accepted for compatibility.
    #[arg(long)]
    shrink: bool,
    /// Accepted for compatibility.
    #[arg(long)]
    tmpfs: bool,
}

/// `mic-image-creator --config=<ks> --format=<format> [options]`.
#[derive(Debug, Parser)]
#[command(
    name = "mic-image-creator",
    about = "Builds OS images from kickstart files (IMG's mic2-compatible creator for Debian-family images)"
)]
struct Mic2Cli {
    /// The kickstart file.
    #[arg(long = "config")]
    ks: PathBuf,
    /// fs, loop, raw, qcow2, vdi, vmdk, livecd, liveusb.
    #[arg(short = 'f', long)]
    format: String,
    /// Debug output (accepted).
    #[arg(short, long)]
    debug: bool,
    /// Verbose output (accepted).
    #[arg(short, long)]
    verbose: bool,
    /// Run mode (accepted).
    #[arg(long)]
    run_mode: Option<String>,
    /// Package archive format (use --pack-to).
    #[arg(long)]
    package: Option<String>,
    #[command(flatten)]
    common: Common,
}

impl Common {
    fn into_request(
        self,
        format: Option<String>,
        ks: PathBuf,
        mut ignored: Vec<String>,
    ) -> Request {
        let accepted = [
            ("--config", self.config_file.is_some()),
            ("--record-pkgs", self.record_pkgs.is_some()),
            ("--pkgmgr", self.pkgmgr.is_some()),
            ("--runtime", self.runtime.is_some()),
            ("--compress-image", self.compress_image.is_some()),
            ("--fstab", self.fstab.is_some()),
            ("--generate-bmap", self.generate_bmap),
            ("--shrink", self.shrink),
            ("--tmpfs", self.tmpfs),
        ];
        ignored.extend(
            accepted
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| (*n).to_owned()),
        );
        Request {
            format,
            ks,
            outdir: self.outdir.unwrap_or_else(|| PathBuf::from(".")),
            arch: self.arch,
            release: self.release,
            logfile: self.logfile,
            pack_to: self.pack_to,
            copy_kernel: self.copy_kernel,
            tmpdir: self.tmpdir,
            cachedir: self.cachedir,
            ignored,
        }
    }
}

/// Reads a command line. `argv[0]`'s file name picks the style: `mic-image-creator` reads
/// mic2's flags, anything else (`mic`, `img-creator`) mic's subcommands.
pub fn parse(argv: Vec<String>) -> Result<Request, clap::Error> {
    let program = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
        .unwrap_or_default();
    if program == "mic-image-creator" {
        let cli = Mic2Cli::try_parse_from(argv)?;
        let ignored = [
            ("--run-mode", cli.run_mode.is_some()),
            ("--package", cli.package.is_some()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| (*n).to_owned())
        .collect();
        Ok(cli.common.into_request(Some(cli.format), cli.ks, ignored))
    } else {
        let cli = MicCli::try_parse_from(argv)?;
        let MicCommand::Create(c) = cli.command;
        let format = (c.format != "auto").then_some(c.format);
        Ok(c.common.into_request(format, c.ks, Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &str) -> Vec<String> {
        words.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn mic_style() {
        let r = parse(argv("mic create raw /in/x.ks -o /out -A i686 --release 7")).expect("parse");
        assert_eq!(r.format.as_deref(), Some("raw"));
        assert_eq!(r.ks, PathBuf::from("/in/x.ks"));
        assert_eq!(r.outdir, PathBuf::from("/out"));
        assert_eq!(r.arch.as_deref(), Some("i686"));
        assert_eq!(r.release.as_deref(), Some("7"));
        let r = parse(argv(
            "/usr/local/bin/mic -d cr auto x.ks --pkgmgr=zypp --cachedir=/var/cache/mic",
        ))
        .expect("auto");
        assert_eq!(r.format, None);
        assert_eq!(r.cachedir, Some(PathBuf::from("/var/cache/mic")));
        assert_eq!(r.ignored, ["--pkgmgr"]);
        assert_eq!(r.outdir, PathBuf::from("."));
    }

    #[test]
    fn mic2_style() {
        let r = parse(argv(
            "mic-image-creator --config=a.ks --format=livecd --outdir=/o --arch=ia32 --save-kernel --run-mode=0 --cache=/c",
        ))
        .expect("parse");
        assert_eq!(r.cachedir, Some(PathBuf::from("/c")), "mic2's --cache");
        assert_eq!(r.format.as_deref(), Some("livecd"));
        assert_eq!(r.arch.as_deref(), Some("ia32"));
        assert!(r.copy_kernel);
        assert_eq!(r.ignored, ["--run-mode"]);
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert!(parse(argv("mic create raw")).is_err());
        assert!(parse(argv("mic-image-creator --format=raw")).is_err());
        assert!(parse(argv("mic create raw x.ks --no-such-option")).is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(Format::parse("qcow"), Ok(Format::Qcow2));
        assert!(
            Format::parse("nand")
                .expect_err("nand")
                .contains("not supported")
        );
        assert!(Format::parse("iso").expect_err("iso").contains("unknown"));
        assert!(Format::Raw.boots() && !Format::Fs.boots());
    }
}
