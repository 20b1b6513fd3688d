//! The stages of a run, each a function of the session so far: clone, boot, kickstarter,
//! build, collect. Every command sent to the guest is built from fixed words and the runner's
//! own paths (quoted); the user's text (kickstart, template, overlay) travels as file
//! contents only.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use img_crd::conditions::reasons;
use img_crd::runner::JobDescription;
use img_crd::{Stage, StageOutcome};

use super::outcome::Failure;
use super::paths::RemoteVm;
use super::session::Session;
use crate::basedisk::BaseDisk;
use crate::command::{CreatorArgs, expand, shell_line};
use crate::joblog::JobLog;
use crate::overlay::Overlay;
use crate::settings::{Settings, Share};
use crate::share::{self, VirtioFs};
use crate::ssh::{self, quote};
use crate::stages::Stages;
use crate::vm::{Vm, VmConfig, free_port};
use crate::{accel, artifacts};

/// The guest's working directory.
pub(crate) const GUEST_DIR: &str = "/var/tmp/img";
/// Where the guest mounts the output share.
pub(crate) const GUEST_SHARE: &str = "/mnt/img-out";
/// The guest's output directory when there is no share.
pub(crate) const GUEST_OUT: &str = "/var/tmp/img/out";
/// Where the guest mounts the package cache.
pub(crate) const GUEST_CACHE: &str = "/var/cache/img-packages";
/// How long SSH may take to accept the runner once the guest says it is ready.
const SSH_TIMEOUT: Duration = Duration::from_secs(30);

/// What the stages share.
pub(crate) struct Context<'a> {
    pub(crate) job: &'a JobDescription,
    pub(crate) settings: &'a Settings,
    pub(crate) base_dir: &'a Path,
    pub(crate) out_dir: &'a Path,
    pub(crate) remote: Option<&'a RemoteVm>,
    pub(crate) log: &'a JobLog,
    pub(crate) stages: &'a mut Stages,
    pub(crate) session: &'a mut Session,
}

fn vm_failed(message: impl Into<String>) -> Failure {
    Failure::new(reasons::VM_FAILED, message)
}

/// Runs one stage: records it, logs it, and fails it with the error.
async fn stage<T, F>(cx: &mut Context<'_>, which: Stage, f: F) -> Result<T, Failure>
where
    F: AsyncFnOnce(&mut Context<'_>) -> Result<T, Failure>,
{
    cx.stages.start(which);
    let started = Instant::now();
    cx.log.line(&format!("==> {}", which.as_str()));
    match f(cx).await {
        Ok(v) => {
            cx.stages.end(StageOutcome::Succeeded, None);
            cx.log.line(&format!(
                "==> {} done in {:.1} s",
                which.as_str(),
                started.elapsed().as_secs_f64()
            ));
            Ok(v)
        }
        Err(failure) => {
            cx.stages.fail_current(&failure.message);
            Err(failure)
        }
    }
}

/// Every stage but cleanup. On success, returns the output files the build made.
pub(crate) async fn run_stages(cx: &mut Context<'_>) -> Result<BTreeSet<String>, Failure> {
    let before = artifacts::files_in(cx.out_dir).map_err(|e| {
        Failure::new(
            reasons::INVALID_JOB,
            format!("{}: {e}", cx.out_dir.display()),
        )
    })?;
    if let Some(remote) = cx.remote {
        cx.stages.skip(
            Stage::Clone,
            "the VM was started by KubeVirt from its own disk",
        );
        stage(cx, Stage::Boot, async |cx| reach(cx, remote).await).await?;
    } else {
        let base = stage(cx, Stage::Clone, clone).await?;
        stage(cx, Stage::Boot, async |cx| boot(cx, &base).await).await?;
    }
    if cx.job.template.is_some() {
        stage(cx, Stage::Kickstarter, kickstarter).await?;
    } else {
        cx.stages.skip(
            Stage::Kickstarter,
            "the job gives a kickstart, not a template",
        );
        upload_kickstart(cx).await?;
    }
    let outdir = stage(cx, Stage::Build, build).await?;
    let made = stage(cx, Stage::Collect, async |cx| {
        collect(cx, &outdir, &before).await
    })
    .await?;
    Ok(made)
}

/// The kickstart's path in the guest (its base name is the image name).
fn guest_ks(job: &JobDescription) -> String {
    format!("{GUEST_DIR}/{}.ks", job.name)
}

async fn clone(cx: &mut Context<'_>) -> Result<BaseDisk, Failure> {
    let base =
        BaseDisk::find(cx.base_dir, &cx.job.base_disk).map_err(|e| vm_failed(e.to_string()))?;
    cx.log.line(&format!(
        "base disk {} ({})",
        base.disk.display(),
        base.description
    ));
    let work = match &cx.settings.work_dir {
        Some(dir) => tempfile::Builder::new().prefix("img-run-").tempdir_in(dir),
        None => tempfile::Builder::new().prefix("img-run-").tempdir(),
    }
    .map_err(|e| vm_failed(format!("work directory: {e}")))?;
    let path = work.path().join(format!("{}.qcow2", cx.job.name));
    cx.session.work = Some(work);
    let started = Instant::now();
    let overlay = Overlay::create(&cx.settings.qemu_img, &base.disk, &path)
        .await
        .map_err(|e| vm_failed(e.to_string()))?;
    cx.log.line(&format!(
        "copy-on-write clone of the base disk in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    ));
    cx.session.overlay = Some(overlay);
    Ok(base)
}

async fn boot(cx: &mut Context<'_>, base: &BaseDisk) -> Result<(), Failure> {
    let accel = accel::choose(cx.settings.accel, &cx.settings.qemu, &base.kernel).await;
    let work = cx
        .session
        .work
        .as_ref()
        .map(|w| w.path().to_owned())
        .ok_or_else(|| vm_failed("no work directory"))?;
    if cx.settings.share != Share::Ssh {
        match VirtioFs::start(&cx.settings.virtiofsd, cx.out_dir, &work).await {
            Ok(share) => cx.session.share = Some(share),
            Err(e) if cx.settings.share == Share::Auto => cx.log.line(&format!(
                "virtio-fs is not available ({e}); artifacts will be copied over SSH"
            )),
            Err(e) => return Err(vm_failed(format!("virtio-fs: {e}"))),
        }
    }
    start_cache_share(cx, &work).await;
    let key = ssh::new_key();
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| vm_failed(format!("SSH key: {e}")))?;
    let port = free_port().map_err(|e| vm_failed(format!("no free port: {e}")))?;
    let disk = cx
        .session
        .overlay
        .as_ref()
        .map(|o| o.path().to_owned())
        .ok_or_else(|| vm_failed("no overlay"))?;
    let config = VmConfig {
        accel,
        memory_mib: cx.job.memory_mib,
        cpus: cx.job.cpus,
        base,
        disk: &disk,
        ssh_port: port,
        ssh_public_key: &public,
        share_socket: cx.session.share.as_ref().map(VirtioFs::socket),
        cache_socket: cx.session.cache_share.as_ref().map(VirtioFs::socket),
    };
    let started = Instant::now();
    let vm = Vm::start(&cx.settings.qemu, &config).map_err(|e| vm_failed(e.to_string()))?;
    let vm = cx.session.vm.insert(vm);
    let host_key = vm
        .wait_ready(cx.settings.boot_timeout())
        .await
        .map_err(|e| vm_failed(e.to_string()))?;
    let guest = ssh::connect(port, &key, &host_key, SSH_TIMEOUT)
        .await
        .map_err(|e| vm_failed(e.to_string()))?;
    cx.log.line(&format!(
        "guest up and reachable over SSH in {:.1} s ({accel}, {} CPUs, {} MiB)",
        started.elapsed().as_secs_f64(),
        cx.job.cpus,
        cx.job.memory_mib
    ));
    let setup = format!("mkdir -p {} {}", quote(GUEST_DIR), quote(GUEST_OUT));
    guest.check(&setup).await.map_err(vm_failed)?;
    let shares = [
        (cx.session.share.is_some(), share::TAG, GUEST_SHARE),
        (
            cx.session.cache_share.is_some(),
            share::CACHE_TAG,
            GUEST_CACHE,
        ),
    ];
    for (_, tag, dir) in shares.into_iter().filter(|(on, _, _)| *on) {
        let mount = format!(
            "mkdir -p {dir} && mount -t virtiofs {tag} {dir}",
            dir = quote(dir)
        );
        guest.check(&mount).await.map_err(vm_failed)?;
    }
    cx.session.guest = Some(guest);
    Ok(())
}

/// Shares the package cache with the guest when there is one and virtio-fs is in use; says
/// in the log why not otherwise (the build then downloads every package).
async fn start_cache_share(cx: &mut Context<'_>, work: &Path) {
    let Some(dir) = &cx.settings.package_cache else {
        return;
    };
    if cx.session.share.is_none() {
        cx.log.line(&format!(
            "package cache {} not used: it is shared with virtio-fs, which this run does not use",
            dir.display()
        ));
        return;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        cx.log
            .line(&format!("package cache {} not used: {e}", dir.display()));
        return;
    }
    let socket = crate::share::socket_in(work, "cache");
    match VirtioFs::start_named(&cx.settings.virtiofsd, dir, &socket, true).await {
        Ok(share) => {
            cx.log.line(&format!(
                "package cache {} shared with the guest",
                dir.display()
            ));
            cx.session.cache_share = Some(share);
        }
        Err(e) => cx
            .log
            .line(&format!("package cache {} not used: {e}", dir.display())),
    }
}

/// Waits for a VM someone else started (KubeVirt) to accept SSH. Its host key cannot be
/// read from a console here, so the first key it offers is trusted; the Service name only
/// reaches this job's VM.
async fn reach(cx: &mut Context<'_>, remote: &RemoteVm) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&remote.key_file)
        .map_err(|e| vm_failed(format!("{}: {e}", remote.key_file.display())))?;
    let key = russh::keys::PrivateKey::from_openssh(&text)
        .map_err(|e| vm_failed(format!("{}: {e}", remote.key_file.display())))?;
    let started = Instant::now();
    let guest = ssh::connect_to(
        &remote.host,
        remote.port,
        &key,
        None,
        cx.settings.boot_timeout(),
    )
    .await
    .map_err(|e| vm_failed(e.to_string()))?;
    cx.log.line(&format!(
        "VM {} reachable over SSH after {:.1} s",
        remote.host,
        started.elapsed().as_secs_f64()
    ));
    if let Some(dir) = &cx.settings.package_cache {
        cx.log.line(&format!(
            "package cache {} not used: a KubeVirt VM has only its own volumes",
            dir.display()
        ));
    }
    let setup = format!(
        "mkdir -p {} && test -d {}",
        quote(GUEST_DIR),
        quote(&cx.out_dir.display().to_string())
    );
    guest.check(&setup).await.map_err(|e| {
        vm_failed(format!(
            "the VM does not see the images volume at {}: {e}",
            cx.out_dir.display()
        ))
    })?;
    cx.session.guest = Some(guest);
    Ok(())
}

/// The guest's output directory when it writes straight into the job's output directory
/// (a virtio-fs share, or a KubeVirt VM with the images volume), else `None`.
fn shared_outdir(cx: &Context<'_>) -> Option<String> {
    if cx.remote.is_some() {
        Some(cx.out_dir.display().to_string())
    } else {
        cx.session.share.as_ref().map(|_| GUEST_SHARE.to_owned())
    }
}

/// Runs `command` in the guest with its output in the log; the exit and a failure message.
async fn logged(cx: &mut Context<'_>, command: &str) -> Result<ssh::Exit, Failure> {
    let guest = cx
        .session
        .guest
        .as_ref()
        .ok_or_else(|| vm_failed("no SSH session"))?;
    let log = cx.log.clone();
    let exit = guest
        // Both streams go to the log, in the order they arrive.
        .run(command, &[], &mut |_, data| log.output(data))
        .await
        .map_err(|e| vm_failed(e.to_string()))?;
    if exit == ssh::Exit::Unknown {
        let qemu = cx.session.vm.as_mut().and_then(Vm::exit_status);
        return Err(vm_failed(match qemu {
            Some(status) => format!("the VM ended during `{command}` (QEMU {status})"),
            None => format!("the connection to the VM was lost during `{command}`"),
        }));
    }
    Ok(exit)
}

async fn upload(cx: &Context<'_>, path: &str, data: &[u8]) -> Result<(), Failure> {
    let guest = cx
        .session
        .guest
        .as_ref()
        .ok_or_else(|| vm_failed("no SSH session"))?;
    guest.upload(path, data).await.map_err(vm_failed)
}

async fn upload_kickstart(cx: &mut Context<'_>) -> Result<(), Failure> {
    let path = guest_ks(cx.job);
    upload(cx, &path, cx.job.kickstart.as_bytes()).await
}

/// Runs kickstarter in the guest on the job's template (the 2010 service's path), and
/// builds what it rendered if it matches the kickstart the operator accepted.
async fn kickstarter(cx: &mut Context<'_>) -> Result<(), Failure> {
    let Some(template) = &cx.job.template else {
        return Ok(());
    };
    let input = format!("{GUEST_DIR}/template.json");
    let json = serde_json::to_vec(template)
        .map_err(|e| Failure::new(reasons::INVALID_JOB, e.to_string()))?;
    upload(cx, &input, &json).await?;
    let ks = guest_ks(cx.job);
    let command = format!(
        "vm-runner guest-kickstarter --input {} --output {}",
        quote(&input),
        quote(&ks)
    );
    let exit = logged(cx, &command).await?;
    if !exit.success() {
        return Err(Failure::new(
            reasons::BUILD_FAILED,
            format!("kickstarter failed in the VM ({exit})"),
        ));
    }
    let guest = cx
        .session
        .guest
        .as_ref()
        .ok_or_else(|| vm_failed("no SSH session"))?;
    let rendered = guest
        .check(&format!("cat {}", quote(&ks)))
        .await
        .map_err(vm_failed)?;
    if rendered.trim_end() == cx.job.kickstart.trim_end() {
        cx.log
            .line("kickstarter in the VM rendered the kickstart the operator accepted");
    } else {
        cx.log.line(
            "warning: kickstarter in the VM rendered a different kickstart than the operator \
             accepted (a version difference?); building the accepted one",
        );
        upload_kickstart(cx).await?;
    }
    Ok(())
}

/// The architecture for the creator: the kickstart's, if it names a plain one.
fn arch(job: &JobDescription) -> String {
    let parsed = kickstarter::ks::parse(
        job.kickstart.as_bytes(),
        "job.ks",
        &kickstarter::ks::NoIncludes,
        &kickstarter::ks::Limits::default(),
    );
    parsed
        .kickstart
        .arch()
        .filter(|a| a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or("x86_64")
        .to_owned()
}

/// Runs the image creator; returns its output directory in the guest.
async fn build(cx: &mut Context<'_>) -> Result<String, Failure> {
    let outdir = shared_outdir(cx).unwrap_or_else(|| GUEST_OUT.to_owned());
    let outdir = outdir.as_str();
    let ks = guest_ks(cx.job);
    let arch = arch(cx.job);
    let words = expand(
        &cx.settings.creator,
        CreatorArgs {
            format: cx.job.image_type.as_str(),
            ks: &ks,
            outdir,
            name: &cx.job.name,
            arch: &arch,
            cachedir: cx.session.cache_share.as_ref().map(|_| GUEST_CACHE),
        },
    );
    let command = shell_line(&words);
    cx.log.line(&format!("$ {command}"));
    let exit = logged(cx, &command).await?;
    if !exit.success() {
        return Err(Failure::new(
            reasons::BUILD_FAILED,
            format!("the image creator failed ({exit}); see the log"),
        ));
    }
    Ok(outdir.to_owned())
}

/// Brings the image out: already there through the share (flushed), or copied over SSH.
async fn collect(
    cx: &mut Context<'_>,
    outdir: &str,
    before: &BTreeSet<String>,
) -> Result<BTreeSet<String>, Failure> {
    let guest = cx
        .session
        .guest
        .as_ref()
        .ok_or_else(|| vm_failed("no SSH session"))?;
    if shared_outdir(cx).is_some() {
        guest.check("sync").await.map_err(vm_failed)?;
    } else {
        let listing = guest
            .check(&format!(
                "find {} -maxdepth 1 -type f -printf '%f\\n'",
                quote(outdir)
            ))
            .await
            .map_err(vm_failed)?;
        for name in listing.lines().filter(|n| !n.is_empty()) {
            if !super::paths::is_plain_name(name) {
                cx.log.line(&format!(
                    "skipping an output file with an odd name: {name:?}"
                ));
                continue;
            }
            let started = Instant::now();
            let size = guest
                .download(&format!("{outdir}/{name}"), &cx.out_dir.join(name))
                .await
                .map_err(vm_failed)?;
            cx.log.line(&format!(
                "copied {name} ({size} bytes) over SSH in {:.1} s",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    let after = artifacts::files_in(cx.out_dir)
        .map_err(|e| vm_failed(format!("{}: {e}", cx.out_dir.display())))?;
    let made: BTreeSet<String> = after.difference(before).cloned().collect();
    if made.is_empty() {
        return Err(Failure::new(
            reasons::BUILD_FAILED,
            "the image creator succeeded but wrote no files",
        ));
    }
    Ok(made)
}
