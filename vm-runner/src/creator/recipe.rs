//! What to build, read out of a parsed kickstart: apt sources, the Debian package selection,
//! partitions, the bootloader, system settings and the `%post` scripts.
//!
//! Everything user-written is checked here, before anything runs, and every problem names
//! the kickstart file and line. Values that end up in files of the image (a language, a
//! time zone, a user name) must match the syntax those files expect; values that reach a
//! program (package names, unit names) can only be read as one argument by it.

use std::fmt;

use kickstarter::ks::{Command, Kickstart, Repo, ScriptKind};

use super::tables;

/// A problem in the kickstart, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The kickstart file (or included file).
    pub file: String,
    /// 1-based line; 0 when the problem is not on one line.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// A filesystem the creator can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsType {
    /// ext2/3/4 (`mkfs.ext4 -d`).
    Ext(u8),
    /// FAT (`mkfs.vfat` + mtools).
    Vfat,
    /// Swap space.
    Swap,
}

impl FsType {
    /// The name in `/etc/fstab`.
    pub fn fstab_name(self) -> &'static str {
        match self {
            FsType::Ext(2) => "ext2",
            FsType::Ext(3) => "ext3",
            FsType::Ext(_) => "ext4",
            FsType::Vfat => "vfat",
            FsType::Swap => "swap",
        }
    }
}

/// One `part` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `/`, `/boot`, `/home`, ... or `swap`.
    pub mountpoint: String,
    /// `--size` in MiB; `None`: sized to fit its files.
    pub size_mib: Option<u64>,
    /// The filesystem.
    pub fstype: FsType,
    /// `--label`.
    pub label: Option<String>,
    /// `--ondisk` (default `sda`).
    pub disk: String,
}

/// The partition table type (`bootloader --ptable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionTable {
    /// MBR (the default).
    Msdos,
    /// GPT with a legacy-BIOS-bootable partition.
    Gpt,
}

/// The `bootloader` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootloader {
    /// Seconds the menu waits.
    pub timeout: u32,
    /// Extra kernel command line.
    pub append: String,
    /// Partition table type.
    pub ptable: PartitionTable,
    /// False for `--location=none`/`--disabled`: no bootloader is installed.
    pub install: bool,
}

/// A password for `rootpw` or `user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// Plain text, hashed by `chpasswd` in the image.
    Plain(String),
    /// Already a crypt(3) hash.
    Crypted(String),
    /// The account is locked.
    Locked,
}

/// A `user` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Supplementary groups.
    pub groups: Vec<String>,
    /// Password, if any.
    pub password: Option<Password>,
    /// Login shell.
    pub shell: Option<String>,
    /// Numeric user id.
    pub uid: Option<u32>,
}

/// A `%post` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// `--nochroot`.
    pub nochroot: bool,
    /// `--interpreter` (default `/bin/sh`).
    pub interpreter: String,
    /// The script text.
    pub body: String,
    /// Where the section starts, for messages.
    pub origin: String,
}

/// Everything the creator needs from the kickstart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// Debian architecture (`amd64`, `i386`, `arm64`, `armhf`).
    pub arch: String,
    /// The suite mmdebstrap reads priorities from (the first repo's).
    pub suite: String,
    /// apt source lines (`deb [...] URL SUITE COMPONENTS`).
    pub sources: Vec<String>,
    /// Debian packages to install.
    pub include: Vec<String>,
    /// Debian packages that must not be installed.
    pub exclude: Vec<String>,
    /// `%packages --excludedocs`.
    pub excludedocs: bool,
    /// Partitions in kickstart order.
    pub parts: Vec<Part>,
    /// The bootloader.
    pub bootloader: Bootloader,
    /// `lang`.
    pub lang: Option<String>,
    /// `keyboard`.
    pub keyboard: Option<String>,
    /// `timezone`.
    pub timezone: Option<String>,
    /// `rootpw`.
    pub rootpw: Option<Password>,
    /// `user` lines.
    pub users: Vec<User>,
    /// `network --hostname`, else `localhost`.
    pub hostname: String,
    /// `services --enabled`.
    pub enable: Vec<String>,
    /// `services --disabled`.
    pub disable: Vec<String>,
    /// `%post` sections in order.
    pub posts: Vec<Post>,
    /// Things the creator does not do, to print as warnings.
    pub warnings: Vec<String>,
}

/// The Debian architecture for a mic `--arch` value.
pub fn debian_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" | "amd64" => "amd64",
        "i386" | "i486" | "i586" | "i686" | "ia32" => "i386",
        "aarch64" | "arm64" => "arm64",
        "armv7l" | "armv7hl" | "armv7nhl" | "armv7tnhl" | "armhf" => "armhf",
        _ => return None,
    })
}

/// Reads the recipe for `arch` (a mic architecture) out of `ks`, or every problem found.
pub fn read(ks: &Kickstart, file: &str, arch: &str) -> Result<Recipe, Vec<Problem>> {
    let mut r = Reader {
        file,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(debian) = debian_arch(arch) else {
        return Err(vec![Problem {
            file: file.to_owned(),
            line: 0,
            message: format!(
                "architecture {arch:?} has no Debian counterpart (known: x86_64, i586/i686/ia32, aarch64, armv7l/armv7hl)"
            ),
        }]);
    };
    let (suite, sources) = r.sources(ks, debian);
    let (include, exclude) = r.packages(ks, debian);
    let recipe = Recipe {
        arch: debian.to_owned(),
        suite,
        sources,
        include,
        exclude,
        excludedocs: ks.packages.has_option("excludedocs"),
        parts: r.parts(ks),
        bootloader: r.bootloader(ks),
        lang: r.single(ks, "lang", is_locale_like),
        keyboard: r.keyboard(ks),
        timezone: r.single(ks, "timezone", is_zone),
        rootpw: r.rootpw(ks),
        users: r.users(ks),
        hostname: r.hostname(ks),
        enable: r.services(ks, "enabled"),
        disable: r.services(ks, "disabled"),
        posts: r.posts(ks),
        warnings: Vec::new(),
    };
    if r.problems.is_empty() {
        Ok(Recipe {
            warnings: r.warnings,
            ..recipe
        })
    } else {
        Err(r.problems)
    }
}

struct Reader<'a> {
    file: &'a str,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

/// A command's words split into `--option[=value]` pairs and positional words.
struct Words {
    options: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

impl Words {
    /// `valued`: options that take the next word when written without `=`.
    fn of(args: &[String], valued: &[&str]) -> Words {
        let mut options = Vec::new();
        let mut positional = Vec::new();
        let mut it = args.iter();
        while let Some(word) = it.next() {
            match word.strip_prefix("--") {
                Some(opt) => match opt.split_once('=') {
                    Some((k, v)) => options.push((k.to_owned(), Some(v.to_owned()))),
                    None if valued.contains(&opt) => {
                        options.push((opt.to_owned(), it.next().cloned()))
                    }
                    None => options.push((opt.to_owned(), None)),
                },
                None => positional.push(word.clone()),
            }
        }
        Words {
            options,
            positional,
        }
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(k, _)| k == name)
    }
}

impl Reader<'_> {
    fn problem(&mut self, file: &str, line: u32, message: String) {
        self.problems.push(Problem {
            file: file.to_owned(),
            line,
            message,
        });
    }

    fn at(&mut self, c: &Command, message: String) {
        self.problem(&c.file.clone(), c.line, message);
    }

    fn sources(&mut self, ks: &Kickstart, arch: &str) -> (String, Vec<String>) {
        let mut suite = None;
        let mut lines = Vec::new();
        for repo in &ks.repos {
            if repo.options.contains_key("disable") {
                continue;
            }
            match source_line(repo, arch) {
                Ok((line, repo_suite)) => {
                    if suite.is_none() {
                        suite = repo_suite;
                    }
                    lines.push(line);
                }
                Err(message) => self.problem(&repo.file, repo.line, message),
            }
        }
        if lines.is_empty() && self.problems.is_empty() {
            self.problem(
                self.file,
                0,
                "no enabled `repo` line: packages need a source, e.g. \
                 repo --name=debian --baseurl=http://deb.debian.org/debian/dists/bookworm/"
                    .to_owned(),
            );
        }
        (suite.unwrap_or_else(|| "stable".to_owned()), lines)
    }

    fn packages(&mut self, ks: &Kickstart, arch: &str) -> (Vec<String>, Vec<String>) {
        let p = &ks.packages;
        let ignoremissing = p.has_option("ignoremissing");
        let mut include: Vec<String> = Vec::new();
        let add = |list: &mut Vec<String>, name: String| {
            if !list.contains(&name) {
                list.push(name);
            }
        };
        for group in &p.groups {
            if p.excluded_groups.iter().any(|g| g == &group.name) {
                continue;
            }
            match tables::map_group(&group.name) {
                Some(packages) => packages
                    .iter()
                    .for_each(|n| add(&mut include, (*n).to_owned())),
                None if ignoremissing => self.warnings.push(format!(
                    "group @{} is not in the creator's group table; skipped (--ignoremissing)",
                    group.name
                )),
                None => self.problem(
                    self.file,
                    0,
                    format!(
                        "%packages: group @{} is not in the creator's group table (known: {}); \
                         list Debian packages instead, or add --ignoremissing to skip it",
                        group.name,
                        tables::GROUPS
                            .iter()
                            .flat_map(|(names, _)| names.iter().copied())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        if let Some(env) = &p.environment {
            self.warnings
                .push(format!("%packages: environment @^{env} is ignored"));
        }
        let mut exclude = Vec::new();
        for name in &p.excluded_packages {
            for debian in self.debian_names(name, arch) {
                add(&mut exclude, debian);
            }
        }
        for name in &p.packages {
            for debian in self.debian_names(name, arch) {
                if !exclude.contains(&debian) {
                    add(&mut include, debian);
                }
            }
        }
        include.retain(|n| !exclude.contains(n));
        (include, exclude)
    }

    fn debian_names(&mut self, name: &str, arch: &str) -> Vec<String> {
        let mapped = tables::map_package(name, arch);
        for n in &mapped {
            if !tables::is_debian_name(n) {
                self.problem(
                    self.file,
                    0,
                    format!(
                        "%packages: {name:?} is not a Debian package name \
                         (lower-case letters, digits and + . - only; no globs, versions or paths)"
                    ),
                );
                return Vec::new();
            }
        }
        mapped
    }

    fn parts(&mut self, ks: &Kickstart) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for p in &ks.partitions {
            let fstype = match p.fstype.as_deref() {
                _ if p.mountpoint == "swap" => FsType::Swap,
                None | Some("ext4") => FsType::Ext(4),
                Some("ext3") => FsType::Ext(3),
                Some("ext2") => FsType::Ext(2),
                Some("vfat" | "msdos" | "efi") => FsType::Vfat,
                Some("swap") => FsType::Swap,
                Some(other) => {
                    self.problem(
                        &p.file,
                        p.line,
                        format!(
                            "part {}: --fstype={other} is not made by this creator \
                             (ext2, ext3, ext4, vfat, swap)",
                            p.mountpoint
                        ),
                    );
                    continue;
                }
            };
            if fstype != FsType::Swap && !is_mountpoint(&p.mountpoint) {
                self.problem(
                    &p.file,
                    p.line,
                    format!(
                        "part {:?}: the mount point must be an absolute path without `..`",
                        p.mountpoint
                    ),
                );
                continue;
            }
            if parts
                .iter()
                .any(|q| q.mountpoint == p.mountpoint && fstype != FsType::Swap)
            {
                self.problem(
                    &p.file,
                    p.line,
                    format!("part {}: the mount point is used twice", p.mountpoint),
                );
                continue;
            }
            let disk = p.ondisk.clone().unwrap_or_else(|| "sda".to_owned());
            if !disk.chars().all(|c| c.is_ascii_alphanumeric()) || disk.is_empty() {
                self.problem(
                    &p.file,
                    p.line,
                    format!(
                        "part {}: --ondisk={disk:?} is not a disk name",
                        p.mountpoint
                    ),
                );
                continue;
            }
            if let Some(label) = &p.label
                && (label.len() > 16
                    || !label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            {
                self.problem(
                    &p.file,
                    p.line,
                    format!(
                        "part {}: --label={label:?} must be up to 16 letters, digits, - or _",
                        p.mountpoint
                    ),
                );
                continue;
            }
            parts.push(Part {
                mountpoint: p.mountpoint.clone(),
                size_mib: p.size.filter(|s| *s > 0),
                fstype,
                label: p.label.clone(),
                disk,
            });
        }
        if let Some(boot) = ks.partitions.iter().find(|p| p.mountpoint == "/boot")
            && parts
                .iter()
                .any(|p| p.mountpoint == "/boot" && p.fstype != FsType::Vfat)
        {
            self.problem(
                &boot.file,
                boot.line,
                "part /boot: this creator boots from a FAT /boot partition (syslinux); \
                 use --fstype=vfat, or leave /boot out and one is added"
                    .to_owned(),
            );
        }
        parts
    }

    fn bootloader(&mut self, ks: &Kickstart) -> Bootloader {
        let mut b = Bootloader {
            timeout: 5,
            append: String::new(),
            ptable: PartitionTable::Msdos,
            install: true,
        };
        let Some(c) = ks.command("bootloader") else {
            return b;
        };
        let w = Words::of(
            &c.args,
            &[
                "append", "timeout", "ptable", "location", "menus", "password", "default",
            ],
        );
        if let Some(t) = w.value("timeout") {
            match t.parse() {
                Ok(t) => b.timeout = t,
                Err(_) => self.at(c, format!("bootloader --timeout={t:?} is not a number")),
            }
        }
        if let Some(a) = w.value("append") {
            b.append = a.trim().to_owned();
        }
        match w.value("ptable") {
            None | Some("msdos") => {}
            Some("gpt") => b.ptable = PartitionTable::Gpt,
            Some(o) => self.at(c, format!("bootloader --ptable={o:?}: use msdos or gpt")),
        }
        if w.value("location") == Some("none") || w.flag("disabled") {
            b.install = false;
        }
        for ignored in ["password", "md5pass", "menus"] {
            if w.flag(ignored) || w.value(ignored).is_some() {
                self.warnings
                    .push(format!("bootloader --{ignored} is ignored by this creator"));
            }
        }
        b
    }

    /// A command with one positional value that must pass `valid`.
    fn single(&mut self, ks: &Kickstart, name: &str, valid: fn(&str) -> bool) -> Option<String> {
        let c = ks.command(name)?;
        let w = Words::of(&c.args, &["ntpservers", "timesource"]);
        let value = w.positional.first()?.clone();
        if valid(&value) {
            Some(value)
        } else {
            self.at(c, format!("{name} {value:?} is not a valid value"));
            None
        }
    }

    fn keyboard(&mut self, ks: &Kickstart) -> Option<String> {
        let c = ks.command("keyboard")?;
        let w = Words::of(&c.args, &["vckeymap", "xlayouts"]);
        let layout = w
            .value("xlayouts")
            .map(|l| l.split(',').next().unwrap_or_default().trim().to_owned())
            .or_else(|| w.value("vckeymap").map(str::to_owned))
            .or_else(|| w.positional.first().cloned())?;
        if is_locale_like(&layout) {
            Some(layout)
        } else {
            self.at(c, format!("keyboard {layout:?} is not a layout name"));
            None
        }
    }

    fn rootpw(&mut self, ks: &Kickstart) -> Option<Password> {
        let c = ks.command("rootpw")?;
        let w = Words::of(&c.args, &[]);
        if w.flag("lock") {
            return Some(Password::Locked);
        }
        let Some(pw) = w.positional.first() else {
            self.at(c, "rootpw needs a password (or --lock)".to_owned());
            return None;
        };
        Some(if w.flag("iscrypted") {
            Password::Crypted(pw.clone())
        } else {
            Password::Plain(pw.clone())
        })
    }

    fn users(&mut self, ks: &Kickstart) -> Vec<User> {
        let mut users = Vec::new();
        for c in ks.commands.iter().filter(|c| c.name == "user") {
            let w = Words::of(
                &c.args,
                &[
                    "name", "groups", "password", "shell", "uid", "homedir", "gecos", "gid",
                ],
            );
            let Some(name) = w.value("name").filter(|n| is_account(n)) else {
                self.at(
                    c,
                    "user: --name must be a login name ([a-z_][a-z0-9_-]*, up to 32)".to_owned(),
                );
                continue;
            };
            let groups: Vec<String> = w
                .value("groups")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect();
            if let Some(bad) = groups.iter().find(|g| !is_account(g)) {
                self.at(c, format!("user {name}: group {bad:?} is not a group name"));
                continue;
            }
            let shell = w.value("shell").map(str::to_owned);
            if shell.as_deref().is_some_and(|s| !is_mountpoint(s)) {
                self.at(c, format!("user {name}: --shell must be an absolute path"));
                continue;
            }
            let uid = match w.value("uid").map(str::parse) {
                None => None,
                Some(Ok(uid)) => Some(uid),
                Some(Err(_)) => {
                    self.at(c, format!("user {name}: --uid is not a number"));
                    continue;
                }
            };
            let password = if w.flag("lock") {
                Some(Password::Locked)
            } else {
                w.value("password").map(|p| {
                    if w.flag("iscrypted") {
                        Password::Crypted(p.to_owned())
                    } else {
                        Password::Plain(p.to_owned())
                    }
                })
            };
            users.push(User {
                name: name.to_owned(),
                groups,
                password,
                shell,
                uid,
            });
        }
        users
    }

    fn hostname(&mut self, ks: &Kickstart) -> String {
        for c in ks.commands.iter().rev().filter(|c| c.name == "network") {
            let w = Words::of(
                &c.args,
                &[
                    "hostname",
                    "bootproto",
                    "device",
                    "ip",
                    "netmask",
                    "gateway",
                    "nameserver",
                ],
            );
            if let Some(h) = w.value("hostname") {
                if is_hostname(h) {
                    return h.to_owned();
                }
                self.at(c, format!("network --hostname={h:?} is not a host name"));
            }
        }
        "localhost".to_owned()
    }

    fn services(&mut self, ks: &Kickstart, which: &str) -> Vec<String> {
        let mut units = Vec::new();
        for c in ks.commands.iter().filter(|c| c.name == "services") {
            let w = Words::of(&c.args, &["enabled", "disabled"]);
            for unit in w.value(which).unwrap_or_default().split(',').map(str::trim) {
                if unit.is_empty() {
                    continue;
                }
                if is_unit(unit) {
                    units.push(unit.to_owned());
                } else {
                    self.at(
                        c,
                        format!("services --{which}: {unit:?} is not a unit name"),
                    );
                }
            }
        }
        units
    }

    fn posts(&mut self, ks: &Kickstart) -> Vec<Post> {
        for s in &ks.scripts {
            if matches!(
                s.kind,
                ScriptKind::Pre | ScriptKind::PreInstall | ScriptKind::Pack
            ) {
                self.warnings.push(format!(
                    "{}:{}: {} is not run by this creator",
                    s.file,
                    s.line,
                    s.kind.header()
                ));
            }
        }
        let mut posts = Vec::new();
        for s in ks.scripts_of(ScriptKind::Post) {
            let interpreter = s
                .interpreter
                .clone()
                .unwrap_or_else(|| "/bin/sh".to_owned());
            if !is_mountpoint(&interpreter) {
                self.problem(
                    &s.file,
                    s.line,
                    format!("%post --interpreter={interpreter:?} must be an absolute path"),
                );
                continue;
            }
            posts.push(Post {
                nochroot: s.nochroot,
                interpreter,
                body: s.body.replace('\r', ""),
                origin: format!("{}:{}", s.file, s.line),
            });
        }
        posts
    }
}

/// The apt source line for a `repo`, and the suite it names (`None` for a flat repository).
///
/// A yum-style `--baseurl` names one directory; so does this creator's: a suite's (or one
/// component's) directory on a Debian mirror — `http://deb.debian.org/debian/dists/bookworm/`
/// (component `main`) or `.../dists/bookworm/contrib/` — or, for any URL without `/dists/`,
/// a flat repository (`Packages` next to the `.deb` files, as `dpkg-scanpackages` writes).
/// Local (`file:`) repositories are trusted without a signature; others must be signed by
/// a key apt knows, or by `--gpgkey=file:///...`.
pub fn source_line(repo: &Repo, arch: &str) -> Result<(String, Option<String>), String> {
    let name = &repo.name;
    let Some(url) = repo.baseurl.as_deref() else {
        return Err(format!(
            "repo {name}: needs --baseurl (mirror lists are not supported by this creator)"
        ));
    };
    let scheme_ok = ["http://", "https://", "file:///"]
        .iter()
        .any(|s| url.starts_with(s));
    if !scheme_ok
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "[]\"'\\#?".contains(c))
    {
        return Err(format!(
            "repo {name}: --baseurl={url:?} must be an http://, https:// or file:/// URL \
             without spaces, quotes, brackets, `#` or `?`"
        ));
    }
    let mut options = vec![format!("arch={arch}")];
    if url.starts_with("file:") {
        options.push("trusted=yes".to_owned());
    }
    if let Some(key) = repo.options.get("gpgkey").and_then(Option::as_deref) {
        match key.strip_prefix("file://") {
            Some(path) if is_mountpoint(path) => options.push(format!("signed-by={path}")),
            _ => {
                return Err(format!(
                    "repo {name}: --gpgkey={key:?} must be a file:///absolute/path URL"
                ));
            }
        }
    }
    let options = options.join(" ");
    let Some((mirror, rest)) = url.split_once("/dists/") else {
        return Ok((format!("deb [{options}] {url} ./"), None));
    };
    let mut words = rest.split('/').filter(|w| !w.is_empty());
    let (suite, component) = (words.next(), words.next().unwrap_or("main"));
    match (suite, words.next()) {
        (Some(suite), None) => Ok((
            format!("deb [{options}] {mirror} {suite} {component}"),
            Some(suite.to_owned()),
        )),
        _ => Err(format!(
            "repo {name}: --baseurl={url:?}: after /dists/ give the suite and at most one \
             component, e.g. http://deb.debian.org/debian/dists/bookworm/main/"
        )),
    }
}

fn is_mountpoint(p: &str) -> bool {
    p.starts_with('/')
        && p.len() < 256
        && !p.split('/').any(|s| s == ".." || s == ".")
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.+".contains(c))
}

fn is_locale_like(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c))
}

fn is_zone(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && !v.starts_with('/')
        && !v.split('/').any(|s| s == ".." || s == "." || s.is_empty())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
}

fn is_account(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && v.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn is_hostname(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn is_unit(v: &str) -> bool {
    v.len() <= 128
        && !v.starts_with('-')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@_.:-".contains(c))
}

#[cfg(test)]
mod tests {
    use kickstarter::ks::{Limits, NoIncludes, parse};

    use super::*;

    fn recipe(text: &str) -> Result<Recipe, Vec<Problem>> {
        let parsed = parse(text.as_bytes(), "t.ks", &NoIncludes, &Limits::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        read(&parsed.kickstart, "t.ks", "x86_64")
    }

    const BASE: &str = "repo --name=d --baseurl=http://deb.debian.org/debian/dists/bookworm/\n\
                        repo --name=c --baseurl=http://deb.debian.org/debian/dists/bookworm/contrib\n";

    #[test]
    fn a_full_kickstart_reads() {
        let r = recipe(&format!(
            "{BASE}lang en_US.UTF-8\nkeyboard us\ntimezone --utc Europe/Helsinki\n\
             rootpw secret\nuser --name meego --groups audio,video --password pw\n\
             part / --size 1024 --ondisk sda --fstype=ext4\n\
             bootloader --timeout=2 --append=\"console=ttyS0 quiet\" --ptable=gpt\n\
             network --hostname=box.example\nservices --enabled=ssh,systemd-networkd\n\
             %packages --excludedocs\n@Core\nkernel\nvim-minimal\n-nano\n%end\n\
             %post\necho hi\r\n%end\n%post --nochroot --interpreter=/bin/bash\ntrue\n%end\n"
        ))
        .expect("recipe");
        assert_eq!(r.arch, "amd64");
        assert_eq!(r.suite, "bookworm");
        assert_eq!(
            r.sources,
            [
                "deb [arch=amd64] http://deb.debian.org/debian bookworm main",
                "deb [arch=amd64] http://deb.debian.org/debian bookworm contrib"
            ]
        );
        assert!(r.include.contains(&"systemd-sysv".to_owned()));
        assert!(r.include.contains(&"linux-image-amd64".to_owned()));
        assert!(r.include.contains(&"vim-tiny".to_owned()));
        assert_eq!(r.exclude, ["nano"]);
        assert!(r.excludedocs);
        assert_eq!(r.parts[0].size_mib, Some(1024));
        assert_eq!(r.bootloader.timeout, 2);
        assert_eq!(r.bootloader.append, "console=ttyS0 quiet");
        assert_eq!(r.bootloader.ptable, PartitionTable::Gpt);
        assert_eq!(r.timezone.as_deref(), Some("Europe/Helsinki"));
        assert_eq!(r.rootpw, Some(Password::Plain("secret".into())));
        assert_eq!(r.users[0].groups, ["audio", "video"]);
        assert_eq!(r.hostname, "box.example");
        assert_eq!(r.enable, ["ssh", "systemd-networkd"]);
        assert_eq!(r.posts.len(), 2);
        assert_eq!(r.posts[0].body, "echo hi\n");
        assert!(r.posts[1].nochroot);
        assert_eq!(r.posts[1].interpreter, "/bin/bash");
    }

    #[test]
    fn flat_and_local_repositories() {
        let r = recipe("repo --name=l --baseurl=file:///srv/debs/\n").expect("recipe");
        assert_eq!(
            r.sources,
            ["deb [arch=amd64 trusted=yes] file:///srv/debs/ ./"]
        );
        assert_eq!(r.suite, "stable");
    }

    #[test]
    fn problems_name_the_line() {
        let errs = recipe(
            "repo --name=y --baseurl=http://example.org/debian/dists/a/b/c\n\
             part /boot --size 64 --fstype=ext4\npart / --fstype=btrfs\n\
             timezone ../../etc/shadow\nuser --name Root\n",
        )
        .expect_err("problems");
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(text[0].starts_with("t.ks:1: repo y:"), "{text:?}");
        assert!(
            text.iter()
                .any(|t| t.starts_with("t.ks:3: part /: --fstype=btrfs"))
        );
        assert!(text.iter().any(|t| t.starts_with("t.ks:2: part /boot")));
        assert!(text.iter().any(|t| t.starts_with("t.ks:4: timezone")));
        assert!(text.iter().any(|t| t.starts_with("t.ks:5: user")));
    }

    #[test]
    fn hostile_package_names_and_groups() {
        let errs = recipe(&format!(
            "{BASE}%packages\n@No Such Group\n--allow-unauthenticated\n%end\n"
        ))
        .expect_err("problems");
        let text = errs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains("group @No Such Group"), "{text}");
        let r = recipe(&format!(
            "{BASE}%packages --ignoremissing\n@No Such Group\n%end\n"
        ))
        .expect("ignoremissing");
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn unknown_architecture() {
        let parsed = parse(BASE.as_bytes(), "t.ks", &NoIncludes, &Limits::default());
        let errs = read(&parsed.kickstart, "t.ks", "mips").expect_err("arch");
        assert!(errs[0].message.contains("\"mips\""));
    }
}
