//! The image creator on this machine (it runs the same way inside the base disk's VM):
//! real mmdebstrap builds from Debian's mirror, each bootable format booted in QEMU until
//! the marker the kickstart's `%post` wrote appears on the serial console, and cleanup
//! after a failing `%post` and after SIGTERM.
//!
//! Needs root, the creator's tools (`scripts/lib.sh vm_tools`) and Debian's mirror; skipped
//! otherwise, unless `IMG_REQUIRE_VM=1` (CI), which turns a skip into a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use img_vm_runner::bootcheck::{BootCheck, boot_check};

/// One build at a time: each uses both cores.
static SERIAL: Mutex<()> = Mutex::new(());

const CREATOR: &str = env!("CARGO_BIN_EXE_img-creator");

/// A kickstart whose image prints `IMG-MARKER-<image name>` on the serial console at boot.
fn bootable_ks(dir: &Path) -> PathBuf {
    let ks = dir.join("marker.ks");
    fs::write(
        &ks,
        r#"# -*-mic2-options-*- -f raw --arch=x86_64 -*-mic2-options-*-
lang en_US.UTF-8
keyboard us
timezone --utc Europe/Helsinki
part / --size 1024 --ondisk sda --fstype=ext4
rootpw img
user --name img --groups audio,video --password img
bootloader --timeout=0 --append="console=ttyS0"
repo --name=debian --baseurl=http://deb.debian.org/debian/dists/bookworm/

%packages
@Core
kernel-virtual
-nano
%end

%post
cat > /etc/systemd/system/img-marker.service <<'UNIT'
[Unit]
Description=Print the IMG marker
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo IMG-MARKER-$(cat /etc/img-build) > /dev/ttyS0'
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable img-marker.service
%end

%post --nochroot
echo "$IMG_NAME" > "$INSTALL_ROOT/etc/img-build"
%end
"#,
    )
    .expect("write ks");
    ks
}

/// A small kickstart without a kernel (for `loop`, `fs` and the failure paths).
fn small_ks(dir: &Path, post: &str) -> PathBuf {
    let ks = dir.join("small.ks");
    fs::write(
        &ks,
        format!(
            "repo --name=debian --baseurl=http://deb.debian.org/debian/dists/bookworm/\n\
             part / --size 600 --fstype=ext4\npart /srv --size 64 --fstype=ext3 --label=srv\n\
             network --hostname=small.example\n\
             %packages --excludedocs\nless\n%end\n\
             %post\n{post}\n%end\n\
             %post --nochroot\necho \"$IMG_NAME\" > \"$INSTALL_ROOT/srv/name\"\n%end\n\
             lang en_US.UTF-8\nkeyboard fi\ntimezone --utc Europe/Helsinki\n\
             rootpw --iscrypted $6$salt$hash\nuser --name builder --groups audio --password pw\n"
        ),
    )
    .expect("write ks");
    ks
}

fn ready() -> bool {
    let root = nix::unistd::geteuid().is_root();
    let tools = [
        "mmdebstrap",
        "syslinux",
        "mcopy",
        "mkfs.vfat",
        "xorriso",
        "mksquashfs",
        "qemu-system-x86_64",
    ]
    .iter()
    .all(|t| which(t));
    let ok = root && tools;
    if !ok {
        assert!(
            std::env::var("IMG_REQUIRE_VM").as_deref() != Ok("1"),
            "IMG_REQUIRE_VM=1 but the creator cannot run here (root: {root}, tools: {tools})"
        );
        eprintln!("skipped: needs root and the creator's tools (scripts/lib.sh vm_tools)");
    }
    ok
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

fn create(args: &[&str], tmp: &Path) -> Output {
    Command::new(CREATOR)
        .args(args)
        .arg("--tmpdir")
        .arg(tmp)
        .output()
        .expect("run img-creator")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn one_with(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = files_in(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one *{suffix} in {}: {found:?}",
        dir.display()
    );
    found[0].clone()
}

fn assert_clean(tmp: &Path) {
    assert!(
        files_in(tmp).is_empty(),
        "left in the tmpdir: {:?}",
        files_in(tmp)
    );
    let mounts = fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        !mounts.contains(&tmp.display().to_string()),
        "mounts left under {}",
        tmp.display()
    );
}

async fn boots(image: &Path, marker: &str) -> f64 {
    let booted = boot_check(&BootCheck {
        image: image.to_owned(),
        expect: marker.to_owned(),
        timeout_seconds: 240,
        memory_mib: 1024,
        qemu: "qemu-system-x86_64".into(),
        accel: "tcg".into(),
        console_log: Some(image.with_extension("console.txt")),
    })
    .await
    .unwrap_or_else(|e| panic!("{} does not boot: {e}", image.display()));
    booted.seconds
}

fn marker_of(image: &Path, ext: &str) -> String {
    let file = image
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let name = file.trim_end_matches(ext).trim_end_matches("-sda");
    format!("IMG-MARKER-{name}")
}

#[test]
fn raw_qcow2_and_live_images_boot_and_show_the_post_marker() {
    if !ready() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let ks = bootable_ks(dir.path());
    for (format, ext) in [
        ("raw", "-sda.raw"),
        ("qcow2", "-sda.qcow2"),
        ("livecd", ".iso"),
    ] {
        let out = dir.path().join(format);
        let started = Instant::now();
        // `auto` for raw: the format comes from the kickstart's magic line.
        let fmt = if format == "raw" { "auto" } else { format };
        let o = create(
            &[
                "create",
                fmt,
                &ks.display().to_string(),
                "-o",
                &out.display().to_string(),
            ],
            &tmp,
        );
        assert!(
            o.status.success(),
            "{format}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let built = started.elapsed().as_secs_f64();
        let image = one_with(&out, ext);
        let packages = fs::read_to_string(one_with(&out, ".packages")).expect("packages");
        assert!(packages.contains("linux-image-cloud-amd64 "), "{packages}");
        assert!(packages.contains("systemd-sysv "));
        assert!(!packages.contains("\nnano "), "nano was excluded");
        if format == "raw" {
            let xml = fs::read_to_string(one_with(&out, ".xml")).expect("xml");
            assert!(xml.contains("-sda.raw' use='system' format='raw'"), "{xml}");
        }
        let seconds = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(boots(&image, &marker_of(&image, ext)));
        eprintln!("{format}: built in {built:.0} s, marker on the console after {seconds:.0} s");
        assert_clean(&tmp);
    }
}

#[test]
fn loop_and_fs_images_hold_the_configured_files() {
    if !ready() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let ks = small_ks(dir.path(), "echo from-post > /etc/img-post");
    let out = dir.path().join("out");
    let ks_arg = ks.display().to_string();
    let out_arg = out.display().to_string();
    // mic2's command line this time.
    let o = Command::new(CREATOR)
        .arg0_as("mic-image-creator")
        .args([
            &format!("--config={ks_arg}"),
            "--format=loop",
            &format!("--outdir={out_arg}"),
            "--tmpdir",
            &tmp.display().to_string(),
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let root_img = files_in(&out)
        .into_iter()
        .find(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".img") && !n.ends_with("-srv.img")
        })
        .expect("root image");
    let srv_img = one_with(&out, "-srv.img");
    let cat = |img: &Path, path: &str| {
        let o = Command::new("debugfs")
            .args(["-R", &format!("cat {path}")])
            .arg(img)
            .stderr(Stdio::null())
            .output()
            .expect("debugfs");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(cat(&root_img, "/etc/img-post"), "from-post\n");
    assert_eq!(cat(&root_img, "/etc/hostname"), "small.example\n");
    let fstab = cat(&root_img, "/etc/fstab");
    assert!(fstab.contains("\t/srv\text3\tdefaults\t0\t2\n"), "{fstab}");
    assert_eq!(cat(&root_img, "/etc/timezone"), "Europe/Helsinki\n");
    assert_eq!(cat(&root_img, "/etc/default/locale"), "LANG=en_US.UTF-8\n");
    assert!(cat(&root_img, "/etc/default/keyboard").contains("XKBLAYOUT=\"fi\""));
    assert!(cat(&root_img, "/etc/shadow").starts_with("root:$6$salt$hash:"));
    assert!(cat(&root_img, "/etc/passwd").contains("\nbuilder:x:"));
    assert!(cat(&root_img, "/etc/group").contains("\naudio:x:29:builder\n"));
    let name = root_img
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        cat(&srv_img, "/name"),
        format!("{name}\n"),
        "the /srv partition holds /srv"
    );
    assert!(
        cat(&root_img, "/srv/name").is_empty(),
        "/srv is only a mount point in /"
    );
    assert!(cat(&root_img, "/usr/share/doc/less/copyright").contains("Copyright"));
    assert!(
        cat(&root_img, "/usr/share/doc/less/NEWS.gz").is_empty(),
        "--excludedocs"
    );
    assert_clean(&tmp);

    let out = dir.path().join("fs");
    let o = create(
        &[
            "cr",
            "fs",
            &ks_arg,
            "-o",
            &out.display().to_string(),
            "--release",
            "7.1",
        ],
        &tmp,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dest = out.join("7.1/images/small");
    let tar = one_with(&dest, "7.1_small.tar.gz");
    let listing = Command::new("tar")
        .args(["-xzOf"])
        .arg(&tar)
        .arg("./etc/img-post")
        .output()
        .expect("tar");
    assert_eq!(String::from_utf8_lossy(&listing.stdout), "from-post\n");
    let sums = fs::read_to_string(dest.join("SHA256SUMS")).expect("sums");
    assert!(sums.contains("  7.1_small.tar.gz\n") && sums.contains("  7.1_small.packages\n"));
    assert!(dest.join("7.1_small.ks").is_file());
    assert_clean(&tmp);
}

#[test]
fn a_failing_post_fails_the_build_and_leaves_nothing() {
    if !ready() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let ks = small_ks(dir.path(), "echo about to fail\nexit 3");
    let out = dir.path().join("out");
    let o = create(
        &[
            "create",
            "loop",
            &ks.display().to_string(),
            "-o",
            &out.display().to_string(),
        ],
        &tmp,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("about to fail"),
        "script output reaches the log"
    );
    assert!(
        stderr.contains("the %post script at ") && stderr.contains("small.ks:8 failed"),
        "{stderr}"
    );
    assert!(
        files_in(&out).is_empty(),
        "no outputs: {:?}",
        files_in(&out)
    );
    assert_clean(&tmp);
}

#[test]
fn sigterm_stops_the_build_and_cleans_up() {
    if !ready() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let ks = small_ks(dir.path(), "true");
    let out = dir.path().join("out");
    let mut child = Command::new(CREATOR)
        .args([
            "create",
            "loop",
            &ks.display().to_string(),
            "-o",
            &out.display().to_string(),
        ])
        .arg("--tmpdir")
        .arg(&tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until mmdebstrap is at work in the scratch directory.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !files_in(&tmp)
        .first()
        .is_some_and(|ws| ws.join("root/var").exists())
    {
        assert!(Instant::now() < deadline, "the bootstrap never started");
        std::thread::sleep(Duration::from_millis(200));
    }
    let ws = files_in(&tmp)[0].clone();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("kill");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(143));
    let ps = Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .expect("ps");
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(
        !ps.lines().any(|l| l.contains(&ws.display().to_string())),
        "processes left working in {}:\n{ps}",
        ws.display()
    );
    assert!(files_in(&out).is_empty());
    assert_clean(&tmp);
}

#[test]
fn unbuildable_requests_name_the_problem() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let ks = small_ks(dir.path(), "true");
    let ks_arg = ks.display().to_string();
    let out = dir.path().join("out").display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &["create", "nand", &ks_arg, "-o", &out],
            "not supported by this creator",
        ),
        (&["create", "raw", &ks_arg, "-o", &out], "has no kernel"),
        (&["create", "auto", &ks_arg, "-o", &out], "magic first line"),
        (
            &["create", "loop", &ks_arg, "-o", &out, "--release", "../x"],
            "--release",
        ),
        (
            &["create", "loop", &ks_arg, "-o", &out, "-A", "mips"],
            "\"mips\"",
        ),
    ];
    for (args, expected) in cases {
        let o = create(args, &tmp);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let bad = dir.path().join("bad.ks");
    fs::write(
        &bad,
        "repo --name=x --baseurl=http://example.org/debian/dists/a/b/c\npart / --fstype=btrfs\n",
    )
    .expect("write");
    let o = create(
        &["create", "loop", &bad.display().to_string(), "-o", &out],
        &tmp,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("bad.ks:1: repo x:"), "{stderr}");
    assert!(
        stderr.contains("bad.ks:2: part /: --fstype=btrfs"),
        "{stderr}"
    );
}

/// `Command::arg0`, named for what it does here.
trait Arg0 {
    fn arg0_as(&mut self, name: &str) -> &mut Self;
}

impl Arg0 for Command {
    fn arg0_as(&mut self, name: &str) -> &mut Self {
        std::os::unix::process::CommandExt::arg0(self, name)
    }
}

#[test]
fn vdi_vmdk_and_liveusb_images_are_what_they_say() {
    if !ready() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let ks = bootable_ks(dir.path());
    for (format, ext, qemu_format) in [
        ("vdi", "-sda.vdi", "vdi"),
        ("vmdk", "-sda.vmdk", "vmdk"),
        ("liveusb", ".usbimg", "raw"),
    ] {
        let out = dir.path().join(format);
        let o = create(
            &[
                "create",
                format,
                &ks.display().to_string(),
                "-o",
                &out.display().to_string(),
            ],
            &tmp,
        );
        assert!(
            o.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let image = one_with(&out, ext);
        let info = Command::new("qemu-img")
            .args(["info", "--output=json"])
            .arg(&image)
            .output()
            .expect("qemu-img");
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("json");
        assert_eq!(info["format"], qemu_format, "{format}");
        if format != "vdi" {
            let seconds = tokio::runtime::Runtime::new()
                .expect("runtime")
                .block_on(boots(&image, &marker_of(&image, ext)));
            eprintln!("{format}: marker on the console after {seconds:.0} s");
        }
        assert_clean(&tmp);
    }
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The `.deb` files of the one repository-set directory in a package cache.
fn cached_debs(cache: &Path) -> Vec<PathBuf> {
    let sets: Vec<PathBuf> = files_in(cache)
        .into_iter()
        .filter(|p| !name_of(p).starts_with('.'))
        .collect();
    assert_eq!(sets.len(), 1, "one repository set: {sets:?}");
    files_in(&sets[0])
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect()
}

#[test]
fn the_package_cache_serves_the_next_build_and_a_tampered_file_is_caught() {
    if !ready() {
        return;
    }
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let tmp = dir.path().join("tmp");
    let cache = dir.path().join("cache");
    let ks = small_ks(dir.path(), "true");
    let build = |out: &str| {
        let o = create(
            &[
                "create",
                "fs",
                &ks.display().to_string(),
                "-o",
                &dir.path().join(out).display().to_string(),
                "--cachedir",
                &cache.display().to_string(),
            ],
            &tmp,
        );
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code(), text)
    };

    let (code, text) = build("out1");
    assert_eq!(code, Some(0), "{text}");
    let debs = cached_debs(&cache);
    assert!(debs.len() > 50, "a minbase system and less: {debs:?}");
    assert!(
        text.contains(&format!(
            "0 packages reused, {} downloaded and added",
            debs.len()
        )),
        "{text}"
    );

    // A time no download carries (apt stamps files with the repository's), to tell which
    // files the next builds fetched again.
    let old = std::time::UNIX_EPOCH + Duration::from_secs(978_307_200);
    for deb in &debs {
        fs::File::options()
            .write(true)
            .open(deb)
            .and_then(|f| f.set_modified(old))
            .expect("set time");
    }
    // Same size, other bytes: apt alone would install it.
    let victim = debs
        .iter()
        .find(|p| name_of(p).starts_with("less_"))
        .expect("less is cached")
        .clone();
    let mut bytes = fs::read(&victim).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&victim, bytes).expect("tamper");

    let (code, text) = build("out2");
    assert_eq!(code, Some(1), "{text}");
    let name = name_of(&victim);
    assert!(
        text.contains("differ from the repository's signed index") && text.contains(&name),
        "{text}"
    );
    assert!(!victim.exists(), "the tampered file left the cache");
    assert!(files_in(&dir.path().join("out2")).is_empty());
    assert_clean(&tmp);

    let (code, text) = build("out3");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "{} packages reused, 1 downloaded and added",
            debs.len() - 1
        )),
        "{text}"
    );
    assert_eq!(cached_debs(&cache), debs, "the same files, nothing stale");
    for deb in &debs {
        let time = fs::metadata(deb).and_then(|m| m.modified()).expect("time");
        assert_eq!(
            time == old,
            *deb != victim,
            "only {name} was fetched again: {}",
            deb.display()
        );
    }
    assert!(
        files_in(&cache.join(".incoming")).is_empty(),
        "no staging directory is left"
    );
    assert_clean(&tmp);
}
