//! The image's root filesystem: bootstrapped by mmdebstrap from the kickstart's repositories
//! and package selection, then configured (host name, locale, keyboard, time zone, fstab,
//! passwords, users, services) and finished by the `%post` scripts.
//!
//! User values reach programs only as single arguments or on standard input (`chpasswd`),
//! and scripts are files run by their interpreter — nothing is handed to a shell as text.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use super::cache::PackageCache;
use super::proc::Runner;
use super::recipe::{Password, Recipe};
use super::workspace::ChrootMounts;

/// Runs mmdebstrap into `root` (which must not exist yet), with `cache` when given.
pub async fn bootstrap(
    run: &Runner,
    recipe: &Recipe,
    root: &Path,
    cache: Option<&PackageCache>,
) -> Result<()> {
    let mut args: Vec<String> = vec![
        "--mode=root".into(),
        "--variant=minbase".into(),
        "--format=directory".into(),
        format!("--arch={}", recipe.arch),
    ];
    let selection: Vec<String> = recipe
        .include
        .iter()
        .cloned()
        // apt's `pkg-` removes (and so keeps out) an excluded package.
        .chain(recipe.exclude.iter().map(|p| format!("{p}-")))
        .collect();
    if !selection.is_empty() {
        args.push(format!("--include={}", selection.join(",")));
    }
    if recipe.excludedocs {
        args.push("--dpkgopt=path-exclude=/usr/share/doc/*".into());
        args.push("--dpkgopt=path-include=/usr/share/doc/*/copyright".into());
        args.push("--dpkgopt=path-exclude=/usr/share/man/*".into());
    }
    if let Some(cache) = cache {
        let creator = std::env::current_exe().context("cannot find this program's path")?;
        args.extend(cache.mmdebstrap_args(&creator));
    }
    args.push("--".into());
    args.push(recipe.suite.clone());
    args.push(root.display().to_string());
    args.extend(recipe.sources.iter().cloned());
    run.console().info(&format!(
        "installing {} packages (and their dependencies) from {} repositories",
        recipe.include.len(),
        recipe.sources.len()
    ));
    run.run("mmdebstrap", &args)
        .await
        .context("installing the packages failed (see the apt output above)")
}

/// A chroot prepared for running programs: mounts, name resolution, and a `policy-rc.d`
/// that keeps package scripts from starting services.
pub struct Chroot<'a> {
    root: &'a Path,
    run: &'a Runner,
    _mounts: ChrootMounts,
    added: Vec<PathBuf>,
}

impl<'a> Chroot<'a> {
    /// Prepares `root`.
    pub fn open(run: &'a Runner, root: &'a Path) -> Result<Chroot<'a>> {
        let mounts = ChrootMounts::mount(root)?;
        let mut added = Vec::new();
        let policy = root.join("usr/sbin/policy-rc.d");
        if !policy.exists() {
            write_mode(&policy, "#!/bin/sh\nexit 101\n", 0o755)?;
            added.push(policy);
        }
        let resolv = root.join("etc/resolv.conf");
        if fs::symlink_metadata(&resolv).is_err()
            && let Ok(host) = fs::read("/etc/resolv.conf")
        {
            fs::write(&resolv, host)?;
            added.push(resolv);
        }
        Ok(Chroot {
            root,
            run,
            _mounts: mounts,
            added,
        })
    }

    /// Runs `program args...` inside the chroot.
    pub async fn run(&self, program: &str, args: &[&str], stdin: Option<&[u8]>) -> Result<()> {
        let mut cmd = Command::new("chroot");
        cmd.arg(self.root).arg(program).args(args);
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/root")
            .env("LC_ALL", "C.UTF-8")
            .env("DEBIAN_FRONTEND", "noninteractive");
        self.run.run_command(program, cmd, stdin).await
    }

    /// True when `path` (absolute, in the image) exists.
    pub fn has(&self, path: &str) -> bool {
        self.root.join(path.trim_start_matches('/')).exists()
    }
}

impl Drop for Chroot<'_> {
    fn drop(&mut self) {
        for f in &self.added {
            let _ = fs::remove_file(f);
        }
    }
}

/// Writes the settings of the recipe into the image.
pub async fn configure(ch: &Chroot<'_>, recipe: &Recipe, fstab: Option<&str>) -> Result<()> {
    let root = ch.root;
    let console = ch.run.console();
    fs::write(root.join("etc/hostname"), format!("{}\n", recipe.hostname))?;
    fs::write(
        root.join("etc/hosts"),
        format!(
            "127.0.0.1\tlocalhost\n127.0.1.1\t{}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
            recipe.hostname
        ),
    )?;
    if let Some(fstab) = fstab {
        fs::write(root.join("etc/fstab"), fstab)?;
    }
    if let Some(lang) = &recipe.lang {
        fs::write(root.join("etc/default/locale"), format!("LANG={lang}\n"))?;
        if let Some((_, charset)) = lang.split_once('.')
            && ch.has("/usr/sbin/locale-gen")
        {
            let gen_path = root.join("etc/locale.gen");
            let mut text = fs::read_to_string(&gen_path).unwrap_or_default();
            text.push_str(&format!("{lang} {charset}\n"));
            fs::write(&gen_path, text)?;
            ch.run("/usr/sbin/locale-gen", &[], None).await?;
        }
    }
    if let Some(layout) = &recipe.keyboard {
        fs::write(
            root.join("etc/default/keyboard"),
            format!(
                "XKBMODEL=\"pc105\"\nXKBLAYOUT=\"{layout}\"\nXKBVARIANT=\"\"\nXKBOPTIONS=\"\"\nBACKSPACE=\"guess\"\n"
            ),
        )?;
    }
    if let Some(zone) = &recipe.timezone {
        fs::write(root.join("etc/timezone"), format!("{zone}\n"))?;
        if ch.has(&format!("/usr/share/zoneinfo/{zone}")) {
            let localtime = root.join("etc/localtime");
            let _ = fs::remove_file(&localtime);
            symlink(format!("/usr/share/zoneinfo/{zone}"), &localtime)?;
        } else {
            console.warn(&format!(
                "time zone {zone}: tzdata is not in the image (or has no such zone); only /etc/timezone was written"
            ));
        }
    }
    if let Some(pw) = &recipe.rootpw {
        set_password(ch, "root", pw).await?;
    }
    for user in &recipe.users {
        let mut args: Vec<String> = vec!["-m".into()];
        args.push("-s".into());
        args.push(user.shell.clone().unwrap_or_else(|| "/bin/bash".into()));
        if let Some(uid) = user.uid {
            args.push("-u".into());
            args.push(uid.to_string());
        }
        let (known, unknown): (Vec<&String>, Vec<&String>) =
            user.groups.iter().partition(|g| group_exists(root, g));
        if !unknown.is_empty() {
            console.warn(&format!(
                "user {}: groups {unknown:?} do not exist in the image; left out",
                user.name
            ));
        }
        if !known.is_empty() {
            args.push("-G".into());
            args.push(
                known
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        args.push("--".into());
        args.push(user.name.clone());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ch.run("/usr/sbin/useradd", &refs, None).await?;
        if let Some(pw) = &user.password {
            set_password(ch, &user.name, pw).await?;
        }
    }
    let systemctl = ch.has("/usr/bin/systemctl") || ch.has("/bin/systemctl");
    if ch.has("/lib/systemd/system/systemd-networkd.service")
        && fs::read_dir(root.join("etc/systemd/network"))
            .map(|mut d| d.next().is_none())
            .unwrap_or(true)
    {
        // Without this, a booted image has no network at all.
        fs::create_dir_all(root.join("etc/systemd/network"))?;
        fs::write(
            root.join("etc/systemd/network/80-img-dhcp.network"),
            "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n",
        )?;
        ch.run("systemctl", &["enable", "systemd-networkd"], None)
            .await?;
    }
    for (units, verb) in [(&recipe.enable, "enable"), (&recipe.disable, "disable")] {
        for unit in units {
            if !systemctl {
                bail!(
                    "services --{verb}d={unit}: the image has no systemd (add @Core or systemd-sysv)"
                );
            }
            ch.run("systemctl", &[verb, "--", unit], None).await?;
        }
    }
    Ok(())
}

async fn set_password(ch: &Chroot<'_>, user: &str, pw: &Password) -> Result<()> {
    match pw {
        Password::Locked => ch.run("/usr/bin/passwd", &["-l", "--", user], None).await,
        Password::Plain(p) => {
            let line = format!("{user}:{p}\n");
            ch.run("/usr/sbin/chpasswd", &[], Some(line.as_bytes()))
                .await
        }
        Password::Crypted(p) => {
            let line = format!("{user}:{p}\n");
            ch.run("/usr/sbin/chpasswd", &["-e"], Some(line.as_bytes()))
                .await
        }
    }
}

fn group_exists(root: &Path, group: &str) -> bool {
    fs::read_to_string(root.join("etc/group"))
        .map(|g| g.lines().any(|l| l.split(':').next() == Some(group)))
        .unwrap_or(false)
}

/// Runs the `%post` scripts in order: in the chroot, or (`--nochroot`) outside it with
/// `INSTALL_ROOT` and `IMG_NAME` set as mic2 sets them. A failing script fails the build.
pub async fn run_posts(
    ch: &Chroot<'_>,
    recipe: &Recipe,
    work: &Path,
    image_name: &str,
) -> Result<()> {
    for (i, post) in recipe.posts.iter().enumerate() {
        ch.run.check()?;
        ch.run.console().info(&format!(
            "running %post{} ({}) with {}",
            if post.nochroot { " --nochroot" } else { "" },
            post.origin,
            post.interpreter
        ));
        let result = if post.nochroot {
            let script = work.join(format!("post-{i}"));
            write_mode(&script, &post.body, 0o700)?;
            let mut cmd = Command::new(&post.interpreter);
            cmd.arg(&script)
                .current_dir(work)
                .env("INSTALL_ROOT", ch.root)
                .env("IMG_NAME", image_name);
            let r = ch.run.run_command(&post.interpreter, cmd, None).await;
            let _ = fs::remove_file(&script);
            r
        } else {
            let name = format!("tmp/img-post-{i}");
            let script = ch.root.join(&name);
            write_mode(&script, &post.body, 0o700)?;
            let inside = format!("/{name}");
            let r = ch.run(&post.interpreter, &[&inside], None).await;
            let _ = fs::remove_file(&script);
            r
        };
        result.with_context(|| format!("the %post script at {} failed", post.origin))?;
    }
    Ok(())
}

/// `<package> <version> <arch>` for every installed package, sorted.
pub async fn package_list(run: &Runner, root: &Path) -> Result<String> {
    let admindir = format!("--admindir={}", root.join("var/lib/dpkg").display());
    let out = run
        .output(
            "dpkg-query",
            [
                admindir.as_str(),
                "-W",
                "-f=${Package} ${Version} ${Architecture}\\n",
            ],
        )
        .await?;
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_unstable();
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

/// The newest kernel in the image's `/boot`: (version, kernel file, initrd file).
pub fn kernel(root: &Path) -> Result<(String, PathBuf, PathBuf)> {
    let boot = root.join("boot");
    let mut versions: Vec<String> = fs::read_dir(&boot)
        .with_context(|| format!("cannot read {}", boot.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("vmlinuz-"))
                .map(str::to_owned)
        })
        .collect();
    versions.sort();
    let Some(version) = versions.pop() else {
        bail!(
            "the image has no kernel in /boot: add `kernel` (or a linux-image-* package) to %packages"
        );
    };
    let initrd = boot.join(format!("initrd.img-{version}"));
    if !initrd.exists() {
        bail!("the image's kernel {version} has no initrd (is initramfs-tools installed?)");
    }
    Ok((
        version.clone(),
        boot.join(format!("vmlinuz-{version}")),
        initrd,
    ))
}

fn write_mode(path: &Path, text: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}
