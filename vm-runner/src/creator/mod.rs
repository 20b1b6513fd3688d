//! The image creator IMG's base disk carries as `mic`, `mic-image-creator` and
//! `img-creator`: mic's and mic2's command lines and output layout, building Debian-family
//! images from a kickstart.
//!
//! The steps: read the kickstart ([`recipe`]: repos as apt sources, `%packages` through the
//! [`tables`], parts, bootloader, settings, `%post`), bootstrap the root filesystem with
//! mmdebstrap, configure it and run `%post` in a chroot ([`rootfs`]), then write the format
//! asked for: filesystem images and partitioned disks without mounting anything ([`disk`]),
//! qcow2/vdi/vmdk by `qemu-img convert`, a hybrid live ISO ([`live`]), or a tar archive.
//! Every mount, child process and scratch file is undone on every path, including
//! SIGTERM/SIGINT; a failed build leaves no output files ([`output`]).
//!
//! It must run as root (mmdebstrap's root mode, chroot, device nodes in the image).

pub mod args;
pub mod cache;
pub mod disk;
pub mod live;
pub mod output;
pub mod proc;
pub mod recipe;
pub mod rootfs;
pub mod tables;
pub mod workspace;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use kickstarter::ks::{DirIncludes, Kickstart, Limits, parse};

use args::{Format, Request};
use disk::Layout;
use output::{Naming, Outputs};
use proc::{Cancelled, Console, Runner};
use recipe::Recipe;
use workspace::Workspace;

/// Exit status after SIGTERM/SIGINT (128 + 15, as a shell reports a terminated child).
pub const EXIT_CANCELLED: u8 = 143;

/// The program's entry point: reads the command line, builds, prints `Error: ...` and exits
/// non-zero on failure.
pub fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if argv.get(1).map(String::as_str) == Some(cache::VERIFY_COMMAND) {
        return cache::verify_main(&argv[2..]);
    }
    let request = match args::parse(argv) {
        Ok(r) => r,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(create(request)) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.is::<Cancelled>() => {
            eprintln!("Error: {e}");
            ExitCode::from(EXIT_CANCELLED)
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the image a request asks for; returns the files written.
pub async fn create(req: Request) -> Result<Vec<PathBuf>> {
    let console = Arc::new(Console::new(req.logfile.as_deref())?);
    let cancel = crate::signals::cancel_on_signals();
    let run = Runner::new(console.clone(), cancel);
    for o in &req.ignored {
        console.warn(&format!(
            "{o} is accepted for compatibility and has no effect here"
        ));
    }
    if !nix::unistd::geteuid().is_root() {
        bail!("the image creator must run as root (mmdebstrap, chroot and mkfs need it)");
    }
    if let Some(id) = &req.release {
        output::check_release(id).map_err(anyhow::Error::msg)?;
    }
    let (ks, format, arch) = load(&req)?;
    let mut recipe =
        recipe::read(&ks, &req.ks.display().to_string(), &arch).map_err(|problems| {
            anyhow::anyhow!(
                "the kickstart cannot be built:\n  {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  ")
            )
        })?;
    for w in &recipe.warnings {
        console.warn(w);
    }
    prepare_selection(&mut recipe, format)?;
    let stamp = jiff::Zoned::now().strftime("%Y%m%d%H%M").to_string();
    let naming = output::naming(&req.ks, &req.outdir, req.release.as_deref(), &stamp);
    fs::create_dir_all(&naming.destdir)
        .with_context(|| format!("cannot create {}", naming.destdir.display()))?;
    console.info(&format!(
        "building {} image {} ({}) into {}",
        format.name(),
        naming.name,
        recipe.arch,
        naming.destdir.display()
    ));
    let ws = Workspace::new(&req.tmpdir)?;
    let files = build(&run, &req, &recipe, format, &naming, ws.path()).await?;
    drop(ws);
    console.info(&format!("finished: {} files", files.len()));
    Ok(files)
}

/// Reads the kickstart (with `@BUILD_ID@` and `@ARCH@` replaced, as mic does) and decides
/// the format and architecture: the command line's, else the kickstart's magic line's.
fn load(req: &Request) -> Result<(Kickstart, Format, String)> {
    let limits = Limits::default();
    let file = req.ks.display().to_string();
    let meta = fs::metadata(&req.ks).with_context(|| format!("cannot read {file}"))?;
    if !meta.is_file() || meta.len() > limits.max_bytes as u64 {
        bail!(
            "{file}: not a kickstart file of at most {} bytes",
            limits.max_bytes
        );
    }
    let text = fs::read(&req.ks).with_context(|| format!("cannot read {file}"))?;
    let first = parse(&text, &file, &DirIncludes::new(&limits), &limits);
    let format_name = match (&req.format, first.kickstart.image_type()) {
        (Some(f), _) => f.clone(),
        (None, Some(f)) => f.to_owned(),
        (None, None) => bail!(
            "{file}: `auto` reads the format from the kickstart's magic first line \
             (# -*-mic2-options-*- -f FORMAT -*-mic2-options-*-), and it has none"
        ),
    };
    let format = Format::parse(&format_name).map_err(anyhow::Error::msg)?;
    let arch = req
        .arch
        .clone()
        .or_else(|| first.kickstart.arch().map(str::to_owned))
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let mic_arch = if matches!(arch.as_str(), "i386" | "i486" | "i586" | "i686") {
        "ia32"
    } else {
        arch.as_str()
    };
    let build_id = req.release.as_deref().unwrap_or("latest");
    let replaced = String::from_utf8_lossy(&text)
        .replace("@BUILD_ID@", build_id)
        .replace("@ARCH@", mic_arch);
    let parsed = parse(
        replaced.as_bytes(),
        &file,
        &DirIncludes::new(&limits),
        &limits,
    );
    if parsed.has_errors() {
        bail!(
            "the kickstart has errors:\n  {}",
            parsed
                .errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    Ok((parsed.kickstart, format, arch))
}

/// Adds what the format needs to the package selection and checks it can boot.
fn prepare_selection(recipe: &mut Recipe, format: Format) -> Result<()> {
    if !format.boots() {
        return Ok(());
    }
    if !matches!(recipe.arch.as_str(), "amd64" | "i386") {
        bail!(
            "{} images for {} need a bootloader this creator does not install (syslinux is \
             for PCs); build `loop` or `fs` for it",
            format.name(),
            recipe.arch
        );
    }
    if !recipe.include.iter().any(|p| p.starts_with("linux-image-")) {
        bail!(
            "a {} image must boot, but %packages has no kernel: add `kernel` (or \
             `kernel-virtual`, or a linux-image-* package)",
            format.name()
        );
    }
    if format.is_live() && !recipe.include.iter().any(|p| p == "live-boot") {
        recipe.include.push("live-boot".into());
    }
    Ok(())
}

async fn build(
    run: &Runner,
    req: &Request,
    recipe: &Recipe,
    format: Format,
    naming: &Naming,
    work: &Path,
) -> Result<Vec<PathBuf>> {
    let console = run.console();
    let root = work.join("root");
    let layout = Layout::plan(&recipe.parts, format.boots() && recipe.bootloader.install);
    let cache = match &req.cachedir {
        Some(dir) => Some(cache::PackageCache::open(dir, recipe)?),
        None => None,
    };
    rootfs::bootstrap(run, recipe, &root, cache.as_ref()).await?;
    if let Some(cache) = &cache {
        let kept = cache.keep()?;
        console.info(&format!(
            "package cache {}: {} packages reused, {} downloaded and added",
            cache.dir().display(),
            kept.reused,
            kept.downloaded
        ));
    }
    drop(cache);
    {
        let chroot = rootfs::Chroot::open(run, &root)?;
        console.info("configuring the image");
        let fstab = (!format.is_live()).then(|| layout.fstab());
        rootfs::configure(&chroot, recipe, fstab.as_deref()).await?;
        rootfs::run_posts(&chroot, recipe, work, &naming.name).await?;
    }
    run.check()?;
    let mut out = Outputs::new();
    let dest = &naming.destdir;
    let name = &naming.name;
    let packages = rootfs::package_list(run, &root).await?;
    fs::write(out.add(dest.join(format!("{name}.packages"))), packages)?;
    let kernel = if format.boots() {
        Some(rootfs::kernel(&root)?)
    } else {
        None
    };
    if let (true, Some((version, vmlinuz, _))) = (req.copy_kernel, &kernel) {
        fs::copy(
            vmlinuz,
            out.add(dest.join(format!("{name}-vmlinuz-{version}"))),
        )?;
    }
    match format {
        Format::Fs => {
            console.info("packing the root filesystem");
            let tar = out.add(dest.join(format!("{name}.tar.gz")));
            run.run(
                "tar",
                [
                    "--numeric-owner".as_ref(),
                    "--xattrs".as_ref(),
                    "-czf".as_ref(),
                    tar.as_os_str(),
                    "-C".as_ref(),
                    root.as_os_str(),
                    ".".as_ref(),
                ],
            )
            .await?;
        }
        Format::Livecd | Format::Liveusb => {
            let Some((_, vmlinuz, initrd)) = &kernel else {
                unreachable!("live formats boot")
            };
            let ext = if format == Format::Livecd && req.release.is_none() {
                "iso"
            } else if req.release.is_some() {
                "img"
            } else {
                "usbimg"
            };
            let iso = out.add(dest.join(format!("{name}.{ext}")));
            let volume = live::volume_id(name);
            let spec = live::Iso {
                root: &root,
                kernel: vmlinuz,
                initrd,
                volume: &volume,
                bootloader: &recipe.bootloader,
            };
            live::build_iso(run, &spec, work, &iso).await?;
        }
        Format::Loop | Format::Raw | Format::Qcow2 | Format::Vdi | Format::Vmdk => {
            let job = DiskJob {
                run,
                recipe,
                format,
                naming,
                work,
                root: &root,
                layout: &layout,
                kernel: kernel.as_ref(),
            };
            disks(&job, &mut out).await?;
        }
    }
    if let Some(pack) = &req.pack_to {
        pack_to(run, pack, naming, &mut out).await?;
    }
    if req.release.is_some() {
        fs::copy(&req.ks, out.add(dest.join(format!("{name}.ks"))))?;
        let mut sums = String::new();
        for f in out.files().to_vec() {
            let file = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sums.push_str(&format!("{}  {file}\n", output::sha256(&f)?));
        }
        fs::write(out.add(dest.join("SHA256SUMS")), sums)?;
    }
    Ok(out.keep())
}

/// What the disk formats (`loop`, `raw` and its conversions) are made from.
struct DiskJob<'a> {
    run: &'a Runner,
    recipe: &'a Recipe,
    format: Format,
    naming: &'a Naming,
    work: &'a Path,
    root: &'a Path,
    layout: &'a Layout,
    /// (version, vmlinuz, initrd) for bootable formats.
    kernel: Option<&'a (String, PathBuf, PathBuf)>,
}

async fn disks(job: &DiskJob<'_>, out: &mut Outputs) -> Result<()> {
    let DiskJob {
        run,
        recipe,
        format,
        naming,
        work,
        root,
        layout,
        kernel,
    } = *job;
    let console = run.console();
    let dest = &naming.destdir;
    let name = &naming.name;
    let trees = disk::split_trees(layout, root, &work.join("trees"))?;
    let mut images = Vec::new();
    for (i, (p, tree)) in layout.parts().zip(&trees).enumerate() {
        run.check()?;
        let mib = disk::partition_mib(p, tree)?;
        let file = if format == Format::Loop {
            let stem = match p.part.mountpoint.as_str() {
                "/" => name.clone(),
                mp => format!(
                    "{name}-{}",
                    p.part
                        .label
                        .clone()
                        .unwrap_or_else(|| mp.trim_matches('/').replace('/', "-"))
                ),
            };
            out.add(dest.join(format!("{stem}.img")))
        } else {
            work.join(format!("part-{i}.img"))
        };
        console.info(&format!(
            "making {} ({}, {mib} MiB)",
            p.part.mountpoint,
            p.part.fstype.fstab_name()
        ));
        disk::make_filesystem(run, p, tree, &file, mib).await?;
        images.push((p, file));
    }
    if format == Format::Loop {
        return Ok(());
    }
    let install = recipe.bootloader.install;
    if install {
        let (Some(boot), Some(root_part), Some((version, _, _))) =
            (layout.at("/boot"), layout.at("/"), kernel)
        else {
            bail!("a bootable disk needs a /boot and a / partition and a kernel");
        };
        let boot_image = images
            .iter()
            .find(|(p, _)| std::ptr::eq(*p, boot))
            .map(|(_, f)| f.clone())
            .context("the boot partition was not made")?;
        console.info("installing the bootloader (syslinux)");
        disk::install_syslinux(
            run,
            &boot_image,
            work,
            version,
            &root_part.uuid,
            &recipe.bootloader,
        )
        .await?;
    }
    let mut raw_names = Vec::new();
    for (disk_name, parts) in &layout.disks {
        let files: Vec<(&disk::Planned, PathBuf)> = images
            .iter()
            .filter(|(p, _)| parts.iter().any(|q| std::ptr::eq(q, *p)))
            .map(|(p, f)| (*p, f.clone()))
            .collect();
        let raw_name = format!("{name}-{disk_name}.raw");
        let raw = if format == Format::Raw {
            out.add(dest.join(&raw_name))
        } else {
            work.join(&raw_name)
        };
        let boots_here = files.iter().any(|(p, _)| p.part.mountpoint == "/boot");
        console.info(&format!("assembling disk {disk_name}"));
        disk::assemble(
            run,
            &files,
            recipe.bootloader.ptable,
            install && boots_here,
            &raw,
        )
        .await?;
        for (_, f) in &files {
            let _ = fs::remove_file(f);
        }
        if let Some(target) = match format {
            Format::Qcow2 => Some("qcow2"),
            Format::Vdi => Some("vdi"),
            Format::Vmdk => Some("vmdk"),
            _ => None,
        } {
            let converted = out.add(dest.join(format!("{name}-{disk_name}.{target}")));
            console.info(&format!("converting {disk_name} to {target}"));
            run.run(
                "qemu-img",
                [
                    "convert".as_ref(),
                    "-q".as_ref(),
                    "-f".as_ref(),
                    "raw".as_ref(),
                    "-O".as_ref(),
                    target.as_ref(),
                    raw.as_os_str(),
                    converted.as_os_str(),
                ],
            )
            .await?;
            fs::remove_file(&raw)?;
        }
        raw_names.push(raw_name);
    }
    if format == Format::Raw {
        let xml = out.add(dest.join(format!("{name}.xml")));
        let arch = if recipe.arch == "amd64" {
            "x86_64"
        } else {
            "i686"
        };
        fs::write(xml, output::virt_image_xml(name, arch, &raw_names))?;
    }
    Ok(())
}

/// `--pack-to NAME.tar[.gz|.bz2|.xz]`: the outputs in one archive (`@NAME@` = image name).
async fn pack_to(run: &Runner, pack: &str, naming: &Naming, out: &mut Outputs) -> Result<()> {
    let file = pack.replace("@NAME@", &naming.name);
    if file.contains('/') || file.starts_with('.') || file.starts_with('-') {
        bail!("--pack-to {pack:?}: give a file name, not a path");
    }
    let flag = if file.ends_with(".tar.gz") || file.ends_with(".tgz") {
        "-czf"
    } else if file.ends_with(".tar.bz2") {
        "-cjf"
    } else if file.ends_with(".tar.xz") {
        "-cJf"
    } else if file.ends_with(".tar") {
        "-cf"
    } else {
        bail!("--pack-to {pack:?}: use .tar, .tar.gz, .tar.bz2 or .tar.xz");
    };
    let members: Vec<String> = out
        .files()
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let archive = out.add(naming.destdir.join(&file));
    let mut args: Vec<std::ffi::OsString> = vec![
        "--sparse".into(),
        flag.into(),
        archive.into_os_string(),
        "-C".into(),
        naming.destdir.clone().into_os_string(),
        "--".into(),
    ];
    args.extend(members.into_iter().map(Into::into));
    run.run("tar", args).await
}
