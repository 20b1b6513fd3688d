//! The package-name and group tables that turn a MeeGo/Tizen `%packages` selection into
//! Debian package names.
//!
//! MeeGo kickstarts name RPM packages (`kernel`, `vim-minimal`) and comps groups
//! (`@MeeGo Core`); this creator installs Debian packages. A name in [`PACKAGES`] is
//! replaced, every other name is passed to apt as written (so a kickstart may simply use
//! Debian names). A group must be in [`GROUPS`]: groups have no Debian counterpart to fall
//! back on. The README's "The image creator" section prints both tables.

/// RPM-world package names and their Debian replacements. `{kernel}` is the kernel
/// flavour of the target architecture (`amd64`, `686`, `arm64`, `armmp`).
pub const PACKAGES: &[(&str, &[&str])] = &[
    ("kernel", &["linux-image-{kernel}"]),
    ("kernel-virtual", &["linux-image-cloud-{kernel}"]),
    ("kernel-cloud", &["linux-image-cloud-{kernel}"]),
    ("kernel-headers", &["linux-headers-{kernel}"]),
    ("kernel-devel", &["linux-headers-{kernel}"]),
    ("vim-minimal", &["vim-tiny"]),
    ("vim-enhanced", &["vim"]),
    ("openssh-clients", &["openssh-client"]),
    ("gcc-c++", &["g++"]),
    ("shadow-utils", &["passwd"]),
    ("python", &["python3"]),
    ("NetworkManager", &["network-manager"]),
    ("xorg-x11-server-Xorg", &["xserver-xorg-core"]),
    ("xorg-x11-xinit", &["xinit"]),
    ("util-linux-ng", &["util-linux"]),
    ("procps-ng", &["procps"]),
    ("iputils", &["iputils-ping"]),
    ("bind-utils", &["bind9-dnsutils"]),
    ("man", &["man-db"]),
    ("rpm", &[]),
    ("yum", &[]),
    ("zypper", &[]),
];

/// Groups (every name matched case-insensitively, inner spaces collapsed) and the Debian
/// packages they install.
pub const GROUPS: &[(&[&str], &[&str])] = &[
    (
        &["core", "meego core"],
        &[
            "systemd-sysv",
            "udev",
            "kmod",
            "iproute2",
            "netbase",
            "procps",
        ],
    ),
    (&["minimal"], &["systemd-sysv", "udev", "kmod"]),
    (
        &["base"],
        &[
            "systemd-sysv",
            "udev",
            "kmod",
            "iproute2",
            "netbase",
            "procps",
            "less",
            "nano",
            "ca-certificates",
        ],
    ),
    (&["ssh server"], &["openssh-server"]),
    (
        &["development tools"],
        &[
            "build-essential",
            "gdb",
            "git",
            "autoconf",
            "automake",
            "libtool",
            "pkg-config",
        ],
    ),
    (
        &["meego base development"],
        &["build-essential", "pkg-config", "git"],
    ),
    (
        &["x window system", "meego x window system"],
        &["xserver-xorg-core", "xserver-xorg-input-libinput", "xinit"],
    ),
    (
        &["meego netbook desktop"],
        &["xfce4", "lightdm", "xserver-xorg"],
    ),
    (&["meego ivi desktop"], &["weston"]),
    (&["fonts"], &["fonts-dejavu-core"]),
];

/// The Debian kernel flavour for a Debian architecture.
pub fn kernel_flavour(debian_arch: &str) -> &'static str {
    match debian_arch {
        "i386" => "686",
        "arm64" => "arm64",
        "armhf" => "armmp",
        _ => "amd64",
    }
}

/// The Debian names for one `%packages` name.
pub fn map_package(name: &str, debian_arch: &str) -> Vec<String> {
    let flavour = kernel_flavour(debian_arch);
    match PACKAGES.iter().find(|(from, _)| *from == name) {
        Some((_, to)) => to.iter().map(|p| p.replace("{kernel}", flavour)).collect(),
        None => vec![name.to_owned()],
    }
}

/// The packages of a group, or `None` when the table does not know it.
pub fn map_group(name: &str) -> Option<&'static [&'static str]> {
    let key = normalise_group(name);
    GROUPS
        .iter()
        .find(|(names, _)| names.contains(&key.as_str()))
        .map(|(_, packages)| *packages)
}

fn normalise_group(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// True for a name apt can only read as one package: Debian's package-name syntax. Rejects
/// anything apt would read as an option, a pattern, a path or a version pin.
pub fn is_debian_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() >= 2
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_follows_the_architecture() {
        assert_eq!(map_package("kernel", "amd64"), ["linux-image-amd64"]);
        assert_eq!(map_package("kernel", "i386"), ["linux-image-686"]);
        assert_eq!(
            map_package("kernel-virtual", "amd64"),
            ["linux-image-cloud-amd64"]
        );
        assert_eq!(map_package("vim", "amd64"), ["vim"]);
        assert!(map_package("rpm", "amd64").is_empty());
    }

    #[test]
    fn groups_match_loosely() {
        assert!(map_group("MeeGo  Core").is_some());
        assert!(map_group("Development Tools").is_some());
        assert!(map_group("No Such Group").is_none());
    }

    #[test]
    fn every_table_entry_is_a_debian_name() {
        let lists = PACKAGES
            .iter()
            .map(|(_, to)| to)
            .chain(GROUPS.iter().map(|(_, to)| to));
        for to in lists {
            for p in *to {
                let p = p.replace("{kernel}", "amd64");
                assert!(is_debian_name(&p), "{p}");
            }
        }
    }

    #[test]
    fn names_apt_could_misread_are_refused() {
        for bad in [
            "-o", "--allow", "foo bar", "?name(x)", "./x.deb", "a=1", "a/b", "Foo", "x",
        ] {
            assert!(!is_debian_name(bad), "{bad}");
        }
        assert!(is_debian_name("libstdc++6"));
        assert!(is_debian_name("g++"));
    }
}
