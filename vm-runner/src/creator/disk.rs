//! Partitions and disks, made without mounting anything: each filesystem is built from a
//! directory tree into its own file (`mkfs.ext4 -d`, `mkfs.vfat` + mtools, `mkswap`), the
//! boot partition gets syslinux (`syslinux --install` works on an image file), and the disk
//! is assembled from the partition files behind an MBR or GPT written by `sfdisk`.
//!
//! A bootable disk boots from a FAT `/boot` partition: the kickstart's `part /boot
//! --fstype=vfat`, or one the creator adds (256 MiB) in front of the others.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use super::proc::Runner;
use super::recipe::{Bootloader, FsType, Part, PartitionTable};

const MIB: u64 = 1024 * 1024;
/// Size of the boot partition the creator adds when the kickstart has none.
pub const ADDED_BOOT_MIB: u64 = 256;
const SYSLINUX_MBR: &str = "/usr/lib/syslinux/mbr/mbr.bin";
const SYSLINUX_GPTMBR: &str = "/usr/lib/syslinux/mbr/gptmbr.bin";

/// A partition with the identity it gets in fstab and on the kernel command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The kickstart's partition (or the added `/boot`).
    pub part: Part,
    /// ext/swap: a UUID; vfat: the volume id `XXXX-XXXX`.
    pub uuid: String,
}

/// All partitions, grouped by disk, in the order they go on the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `(disk name, partitions)`; the disk holding `/` comes first.
    pub disks: Vec<(String, Vec<Planned>)>,
}

impl Layout {
    /// Plans the partitions. Without any `part /` a root partition sized to fit is used;
    /// `bootable` adds a FAT `/boot` when there is none.
    pub fn plan(parts: &[Part], bootable: bool) -> Layout {
        let mut parts = parts.to_vec();
        if !parts.iter().any(|p| p.mountpoint == "/") {
            parts.insert(
                0,
                Part {
                    mountpoint: "/".into(),
                    size_mib: None,
                    fstype: FsType::Ext(4),
                    label: None,
                    disk: "sda".into(),
                },
            );
        }
        let root_disk = parts
            .iter()
            .find(|p| p.mountpoint == "/")
            .map(|p| p.disk.clone())
            .unwrap_or_else(|| "sda".into());
        if bootable && !parts.iter().any(|p| p.mountpoint == "/boot") {
            parts.insert(
                0,
                Part {
                    mountpoint: "/boot".into(),
                    size_mib: Some(ADDED_BOOT_MIB),
                    fstype: FsType::Vfat,
                    label: Some("BOOT".into()),
                    disk: root_disk.clone(),
                },
            );
        }
        // /boot goes first on its disk: syslinux and the BIOS only care that it is bootable,
        // but people expect it there.
        parts.sort_by_key(|p| p.mountpoint != "/boot");
        let mut disks: Vec<(String, Vec<Planned>)> = Vec::new();
        for part in parts {
            let uuid = match part.fstype {
                FsType::Vfat => {
                    let id = uuid::Uuid::new_v4().as_u128() as u32;
                    format!("{:04X}-{:04X}", id >> 16, id & 0xffff)
                }
                _ => uuid::Uuid::new_v4().to_string(),
            };
            let planned = Planned { part, uuid };
            match disks.iter_mut().find(|(d, _)| *d == planned.part.disk) {
                Some((_, list)) => list.push(planned),
                None => disks.push((planned.part.disk.clone(), vec![planned])),
            }
        }
        disks.sort_by_key(|(d, _)| *d != root_disk);
        Layout { disks }
    }

    /// Every partition.
    pub fn parts(&self) -> impl Iterator<Item = &Planned> {
        self.disks.iter().flat_map(|(_, p)| p.iter())
    }

    /// The partition mounted at `mountpoint`.
    pub fn at(&self, mountpoint: &str) -> Option<&Planned> {
        self.parts().find(|p| p.part.mountpoint == mountpoint)
    }

    /// The image's `/etc/fstab`.
    pub fn fstab(&self) -> String {
        let mut parts: Vec<&Planned> = self.parts().collect();
        parts.sort_by_key(|p| p.part.mountpoint.len());
        let mut out =
            String::from("# Written by the image creator from the kickstart's part lines.\n");
        for p in parts {
            let (dir, opts, pass) = match p.part.fstype {
                FsType::Swap => ("none", "sw", 0),
                FsType::Vfat => (p.part.mountpoint.as_str(), "defaults,umask=0077", 2),
                FsType::Ext(_) if p.part.mountpoint == "/" => ("/", "errors=remount-ro", 1),
                FsType::Ext(_) => (p.part.mountpoint.as_str(), "defaults", 2),
            };
            out.push_str(&format!(
                "UUID={}\t{dir}\t{}\t{opts}\t0\t{pass}\n",
                p.uuid,
                p.part.fstype.fstab_name()
            ));
        }
        out
    }
}

/// Moves each non-root partition's files out of `root` into `trees/<n>`, leaving an empty
/// mount point; returns the tree of every partition, in `layout.parts()` order.
pub fn split_trees(layout: &Layout, root: &Path, trees: &Path) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(trees)?;
    let mut out = Vec::new();
    for (i, p) in layout.parts().enumerate() {
        if p.part.mountpoint == "/" || p.part.fstype == FsType::Swap {
            out.push(root.to_owned());
            continue;
        }
        let inside = root.join(p.part.mountpoint.trim_start_matches('/'));
        let tree = trees.join(i.to_string());
        if inside.is_dir() {
            fs::rename(&inside, &tree)
                .with_context(|| format!("cannot move {} aside", inside.display()))?;
            let mode = fs::metadata(&tree)?.permissions();
            fs::create_dir(&inside)?;
            fs::set_permissions(&inside, mode)?;
        } else {
            fs::create_dir_all(&tree)?;
            fs::create_dir_all(&inside)?;
        }
        out.push(tree);
    }
    Ok(out)
}

/// Bytes the files under `dir` take (4 KiB blocks), not following mount points' contents.
pub fn tree_size(dir: &Path) -> u64 {
    fn walk(dir: &Path, dev: u64, total: &mut u64) {
        use std::os::unix::fs::MetadataExt;
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else {
                continue;
            };
            *total += meta.len().div_ceil(4096) * 4096 + 256;
            if meta.is_dir() && meta.dev() == dev {
                walk(&e.path(), dev, total);
            }
        }
    }
    use std::os::unix::fs::MetadataExt;
    let dev = fs::metadata(dir).map(|m| m.dev()).unwrap_or(0);
    let mut total = 0;
    walk(dir, dev, &mut total);
    total
}

/// The size a partition gets: its `--size`, or its files plus a third and 64 MiB.
pub fn partition_mib(p: &Planned, tree: &Path) -> Result<u64> {
    let need = tree_size(tree).div_ceil(MIB);
    match p.part.size_mib {
        _ if p.part.fstype == FsType::Swap => Ok(p.part.size_mib.unwrap_or(256)),
        Some(size) if need + need / 10 + 8 > size => bail!(
            "part {} --size {size}: its files need about {} MiB; raise --size",
            p.part.mountpoint,
            need + need / 10 + 8
        ),
        Some(size) => Ok(size),
        None => Ok(need + need / 3 + 64),
    }
}

/// Makes the filesystem of `p` from `tree` into the file `out`, `mib` MiB large.
pub async fn make_filesystem(
    run: &Runner,
    p: &Planned,
    tree: &Path,
    out: &Path,
    mib: u64,
) -> Result<()> {
    let label = p.part.label.clone();
    match p.part.fstype {
        FsType::Ext(n) => {
            let mut args = vec!["-F".to_string(), "-q".into(), "-U".into(), p.uuid.clone()];
            if let Some(l) = label {
                args.extend(["-L".into(), l]);
            }
            args.extend([
                "-d".into(),
                tree.display().to_string(),
                out.display().to_string(),
                format!("{mib}M"),
            ]);
            run.run(&format!("mkfs.ext{n}"), &args).await
        }
        FsType::Swap => {
            File::create(out)?.set_len(mib * MIB)?;
            run.run("mkswap", ["-U", &p.uuid, &out.display().to_string()])
                .await
        }
        FsType::Vfat => {
            File::create(out)?.set_len(mib * MIB)?;
            let mut args = vec!["-i".to_string(), p.uuid.replace('-', "")];
            if let Some(l) = label {
                args.extend(["-n".into(), l.to_uppercase()]);
            }
            args.push(out.display().to_string());
            run.run("mkfs.vfat", &args).await?;
            let entries: Vec<PathBuf> = fs::read_dir(tree)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            if entries.is_empty() {
                return Ok(());
            }
            for e in &entries {
                if e.symlink_metadata()?.file_type().is_symlink() {
                    bail!(
                        "{} is a symbolic link, which a FAT partition ({}) cannot hold",
                        e.display(),
                        p.part.mountpoint
                    );
                }
            }
            mcopy(run, out, &entries, "::/").await
        }
    }
}

async fn mcopy(run: &Runner, image: &Path, sources: &[PathBuf], dest: &str) -> Result<()> {
    let mut cmd = Command::new("mcopy");
    cmd.env("MTOOLS_SKIP_CHECK", "1")
        .arg("-s")
        .arg("-o")
        .arg("-i")
        .arg(image)
        .args(sources)
        .arg(dest);
    run.run_command("mcopy", cmd, None).await
}

/// Writes syslinux's configuration into the FAT boot partition `image` and installs it.
pub async fn install_syslinux(
    run: &Runner,
    image: &Path,
    work: &Path,
    kernel_version: &str,
    root_uuid: &str,
    b: &Bootloader,
) -> Result<()> {
    let cfg = work.join("syslinux.cfg");
    fs::write(
        &cfg,
        boot_menu(
            b,
            &format!("/vmlinuz-{kernel_version}"),
            &format!("/initrd.img-{kernel_version}"),
            &format!("root=UUID={root_uuid} ro"),
        ),
    )?;
    mcopy(run, image, &[cfg], "::/syslinux.cfg").await?;
    let mut cmd = Command::new("syslinux");
    cmd.env("MTOOLS_SKIP_CHECK", "1")
        .arg("--install")
        .arg(image);
    run.run_command("syslinux", cmd, None).await
}

/// A syslinux/isolinux configuration booting one kernel.
pub fn boot_menu(b: &Bootloader, kernel: &str, initrd: &str, base_append: &str) -> String {
    let mut out = String::new();
    if let Some(port) = serial_console(&b.append) {
        out.push_str(&format!("SERIAL {port} 115200\n"));
    }
    out.push_str("DEFAULT img\n");
    if b.timeout == 0 {
        out.push_str("PROMPT 0\nTIMEOUT 1\n");
    } else {
        out.push_str(&format!("PROMPT 1\nTIMEOUT {}\n", b.timeout * 10));
    }
    let append = format!("{base_append} {}", b.append);
    out.push_str(&format!(
        "LABEL img\n  LINUX {kernel}\n  INITRD {initrd}\n  APPEND {}\n",
        append.trim()
    ));
    out
}

/// The serial port a `console=ttySN` on the command line names.
fn serial_console(append: &str) -> Option<u8> {
    append.split_whitespace().find_map(|w| {
        w.strip_prefix("console=ttyS")
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
    })
}

/// Assembles one disk from its partition files into `out`.
pub async fn assemble(
    run: &Runner,
    parts: &[(&Planned, PathBuf)],
    table: PartitionTable,
    boot_code: bool,
    out: &Path,
) -> Result<()> {
    let mut offsets = Vec::new();
    let mut next = MIB;
    for (_, file) in parts {
        let len = fs::metadata(file)?.len().div_ceil(MIB) * MIB;
        offsets.push((next, len));
        next += len;
    }
    let total = next + MIB;
    File::create(out)
        .with_context(|| format!("cannot create {}", out.display()))?
        .set_len(total)?;
    let mut script = String::from(match table {
        PartitionTable::Msdos => "label: dos\nunit: sectors\n\n",
        PartitionTable::Gpt => "label: gpt\nunit: sectors\n\n",
    });
    for ((p, _), (offset, len)) in parts.iter().zip(&offsets) {
        let is_boot = p.part.mountpoint == "/boot";
        let kind = match (table, p.part.fstype) {
            (PartitionTable::Msdos, FsType::Vfat) => "c",
            (PartitionTable::Msdos, FsType::Swap) => "82",
            (PartitionTable::Msdos, FsType::Ext(_)) => "83",
            (PartitionTable::Gpt, FsType::Vfat) => "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
            (PartitionTable::Gpt, FsType::Swap) => "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
            (PartitionTable::Gpt, FsType::Ext(_)) => "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        };
        let flag = match (table, is_boot) {
            (PartitionTable::Msdos, true) => ", bootable",
            (PartitionTable::Gpt, true) => ", attrs=\"LegacyBIOSBootable\"",
            _ => "",
        };
        script.push_str(&format!(
            "start={}, size={}, type={kind}{flag}\n",
            offset / 512,
            len / 512
        ));
    }
    let mut cmd = Command::new("sfdisk");
    cmd.args(["--no-reread", "--no-tell-kernel", "-q"]).arg(out);
    run.run_command("sfdisk", cmd, Some(script.as_bytes()))
        .await?;
    for ((_, file), (offset, _)) in parts.iter().zip(&offsets) {
        run.check()?;
        copy_sparse(file, out, *offset)?;
    }
    if boot_code {
        let mbr = fs::read(match table {
            PartitionTable::Msdos => SYSLINUX_MBR,
            PartitionTable::Gpt => SYSLINUX_GPTMBR,
        })
        .context("syslinux's MBR code is missing (install syslinux-common)")?;
        let mut disk = File::options().write(true).open(out)?;
        disk.write_all(&mbr[..mbr.len().min(440)])?;
    }
    Ok(())
}

/// Copies `src` into `dest` at `offset`, skipping all-zero blocks so `dest` stays sparse.
pub fn copy_sparse(src: &Path, dest: &Path, offset: u64) -> Result<()> {
    let mut input = File::open(src)?;
    let mut output = File::options().write(true).open(dest)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = offset;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let n = input.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        let chunk = &buf[..filled];
        for (i, block) in chunk.chunks(4096).enumerate() {
            if block.iter().any(|b| *b != 0) {
                output.seek(SeekFrom::Start(pos + (i * 4096) as u64))?;
                output.write_all(block)?;
            }
        }
        pos += filled as u64;
        if filled < buf.len() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(mp: &str, fstype: FsType, disk: &str) -> Part {
        Part {
            mountpoint: mp.into(),
            size_mib: Some(100),
            fstype,
            label: None,
            disk: disk.into(),
        }
    }

    #[test]
    fn a_bootable_layout_gets_a_boot_partition_first() {
        let l = Layout::plan(&[part("/", FsType::Ext(4), "sda")], true);
        let mps: Vec<&str> = l.parts().map(|p| p.part.mountpoint.as_str()).collect();
        assert_eq!(mps, ["/boot", "/"]);
        assert_eq!(l.at("/boot").map(|p| p.part.fstype), Some(FsType::Vfat));
        let fstab = l.fstab();
        assert!(
            fstab.contains("\t/\text4\terrors=remount-ro\t0\t1\n"),
            "{fstab}"
        );
        assert!(fstab.contains("\t/boot\tvfat\t"), "{fstab}");
        let vfat = &l.at("/boot").expect("boot").uuid;
        assert_eq!(vfat.len(), 9);
    }

    #[test]
    fn no_part_lines_and_several_disks() {
        let l = Layout::plan(&[], false);
        assert_eq!(l.parts().count(), 1);
        assert_eq!(l.at("/").and_then(|p| p.part.size_mib), None);
        let l = Layout::plan(
            &[
                part("/home", FsType::Ext(3), "sdb"),
                part("/", FsType::Ext(4), "sda"),
                part("swap", FsType::Swap, "sda"),
            ],
            false,
        );
        assert_eq!(l.disks[0].0, "sda");
        assert_eq!(l.disks[1].0, "sdb");
        assert!(l.fstab().contains("\tnone\tswap\tsw\t0\t0\n"));
    }

    #[test]
    fn boot_menus() {
        let b = Bootloader {
            timeout: 0,
            append: "console=ttyS0 quiet".into(),
            ptable: PartitionTable::Msdos,
            install: true,
        };
        let m = boot_menu(&b, "/vmlinuz-6", "/initrd.img-6", "root=UUID=x ro");
        assert!(m.starts_with("SERIAL 0 115200\n"), "{m}");
        assert!(m.contains("PROMPT 0\n"));
        assert!(m.contains("APPEND root=UUID=x ro console=ttyS0 quiet\n"));
        let b = Bootloader {
            timeout: 3,
            append: String::new(),
            ..b
        };
        let m = boot_menu(&b, "/k", "/i", "boot=live");
        assert!(!m.contains("SERIAL"));
        assert!(m.contains("TIMEOUT 30\n"));
    }

    #[test]
    fn sparse_copy_keeps_holes_and_data() {
        let dir = tempfile::tempdir().expect("tmp");
        let src = dir.path().join("src");
        let dest = dir.path().join("dest");
        let mut data = vec![0u8; 3 << 20];
        data[5] = 1;
        data[(2 << 20) + 7] = 2;
        fs::write(&src, &data).expect("src");
        File::create(&dest)
            .expect("dest")
            .set_len(8 << 20)
            .expect("len");
        copy_sparse(&src, &dest, 1 << 20).expect("copy");
        let out = fs::read(&dest).expect("read");
        assert_eq!(out[(1 << 20) + 5], 1);
        assert_eq!(out[(3 << 20) + 7], 2);
        use std::os::unix::fs::MetadataExt;
        assert!(fs::metadata(&dest).expect("meta").blocks() * 512 < 1 << 20);
    }

    #[test]
    fn partitions_that_do_not_fit_are_named() {
        let dir = tempfile::tempdir().expect("tmp");
        fs::write(dir.path().join("big"), vec![1u8; 3 << 20]).expect("write");
        let p = Planned {
            part: Part {
                size_mib: Some(2),
                ..part("/", FsType::Ext(4), "sda")
            },
            uuid: "u".into(),
        };
        let e = partition_mib(&p, dir.path()).expect_err("too small");
        assert!(e.to_string().contains("part / --size 2"), "{e}");
    }
}
