//! Live images: the root filesystem as squashfs, booted by Debian's live-boot from a hybrid
//! ISO (isolinux), which boots from a CD and, written to a USB stick, from the stick.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::disk::boot_menu;
use super::proc::Runner;
use super::recipe::Bootloader;

const ISOLINUX_BIN: &str = "/usr/lib/ISOLINUX/isolinux.bin";
const ISOHYBRID_MBR: &str = "/usr/lib/ISOLINUX/isohdpfx.bin";
const LDLINUX_C32: &str = "/usr/lib/syslinux/modules/bios/ldlinux.c32";

/// What goes on a live ISO.
pub struct Iso<'a> {
    /// The root filesystem.
    pub root: &'a Path,
    /// The kernel to boot.
    pub kernel: &'a Path,
    /// Its initrd (with live-boot in it).
    pub initrd: &'a Path,
    /// The ISO volume id ([`volume_id`]).
    pub volume: &'a str,
    /// Timeout and kernel command line.
    pub bootloader: &'a Bootloader,
}

/// Builds the hybrid ISO `out`, staging its files in `work`.
pub async fn build_iso(run: &Runner, iso: &Iso<'_>, work: &Path, out: &Path) -> Result<()> {
    let Iso {
        root,
        kernel,
        initrd,
        volume,
        bootloader,
    } = *iso;
    let stage = work.join("iso");
    fs::create_dir_all(stage.join("live"))?;
    fs::create_dir_all(stage.join("isolinux"))?;
    fs::copy(kernel, stage.join("live/vmlinuz"))?;
    fs::copy(initrd, stage.join("live/initrd.img"))?;
    for (from, to) in [(ISOLINUX_BIN, "isolinux.bin"), (LDLINUX_C32, "ldlinux.c32")] {
        fs::copy(from, stage.join("isolinux").join(to))
            .with_context(|| format!("{from} is missing (install isolinux and syslinux-common)"))?;
    }
    fs::write(
        stage.join("isolinux/isolinux.cfg"),
        boot_menu(
            bootloader,
            "/live/vmlinuz",
            "/live/initrd.img",
            "boot=live components",
        ),
    )?;
    run.console()
        .info("compressing the root filesystem (squashfs)");
    let squash = stage.join("live/filesystem.squashfs");
    run.run(
        "mksquashfs",
        [
            root.as_os_str(),
            squash.as_os_str(),
            "-noappend".as_ref(),
            "-comp".as_ref(),
            "zstd".as_ref(),
            "-no-progress".as_ref(),
            "-wildcards".as_ref(),
            "-e".as_ref(),
            "proc/*".as_ref(),
            "sys/*".as_ref(),
            "dev/*".as_ref(),
        ],
    )
    .await?;
    run.console().info("writing the hybrid ISO");
    run.run(
        "xorriso",
        [
            "-as".as_ref(),
            "mkisofs".as_ref(),
            "-quiet".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            "-isohybrid-mbr".as_ref(),
            ISOHYBRID_MBR.as_ref(),
            "-c".as_ref(),
            "isolinux/boot.cat".as_ref(),
            "-b".as_ref(),
            "isolinux/isolinux.bin".as_ref(),
            "-no-emul-boot".as_ref(),
            "-boot-load-size".as_ref(),
            "4".as_ref(),
            "-boot-info-table".as_ref(),
            "-V".as_ref(),
            volume.as_ref(),
            "-R".as_ref(),
            stage.as_os_str(),
        ],
    )
    .await
}

/// An ISO volume id from an image name: upper case, at most 32 of `A-Z0-9_`.
pub fn volume_id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .take(32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_ids_are_iso_safe() {
        assert_eq!(
            volume_id("img-example-202611251200"),
            "IMG_EXAMPLE_202611251200"
        );
        assert_eq!(volume_id(&"x".repeat(40)).len(), 32);
    }
}
