//! The tables behind [`super::commands`]: which commands exist and which
//! options the checked ones take.
//!
//! Options are the union of pykickstart's (latest syntax plus the older
//! FC3/FC4/F8 ones that mic's bundled pykickstart still had) and mic's own
//! extensions, marked below. Names are written without dashes.

use super::options::{Arity, OptSpec, opt, opt_alias};

use Arity::{Flag, Int, Value};

/// Every command name accepted outside sections (pykickstart's handlers up
/// to the latest Fedora/RHEL syntax, mic's `desktop`, `installerfw` and
/// `installerfw_plugins`, and the old `authconfig`/`langsupport`/`mouse`
/// spellings that MeeGo-era files still use).
#[rustfmt::skip]
pub(crate) const KNOWN_COMMANDS: &[&str] = &[
    "auth", "authconfig", "authselect", "autopart", "autostep", "bootloader", "btrfs",
    "cdrom", "clearpart", "cmdline", "deviceprobe", "desktop", "device", "dmraid", "driverdisk",
    "eula", "fcoe", "firewall", "firstboot", "graphical", "group", "halt", "harddrive", "hmc",
    "ignoredisk", "install", "installerfw", "installerfw_plugins", "interactive", "iscsi",
    "iscsiname", "keyboard", "lang", "langsupport", "liveimg", "logging", "logvol", "mediacheck",
    "method", "module", "monitor", "mouse", "multipath", "network", "nfs", "nvdimm",
    "ostreecontainer", "ostreesetup", "part", "partition", "poweroff", "raid", "realm", "reboot",
    "repo", "reqpart", "rescue", "rhsm", "rootpw", "selinux", "services", "shutdown", "skipx",
    "snapshot", "sshkey", "sshpw", "syspurpose", "text", "timesource", "timezone", "updates",
    "upgrade", "url", "user", "vnc", "volgroup", "xconfig", "zerombr", "zfcp", "zipl",
];

/// `repo`: pykickstart's options, then mic's.
#[rustfmt::skip]
pub(crate) const REPO: &[OptSpec] = &[
    opt("name", Value), opt("baseurl", Value), opt("mirrorlist", Value), opt("metalink", Value),
    opt("cost", Int), opt("includepkgs", Value), opt("excludepkgs", Value), opt("ignoregroups", Value),
    opt("proxy", Value), opt("noverifyssl", Flag), opt("install", Flag), opt("sslcacert", Value),
    opt("sslclientcert", Value), opt("sslclientkey", Value),
    // mic's Mic_Repo / Moblin_Repo extensions.
    opt("save", Flag), opt("debuginfo", Flag), opt("source", Flag), opt("gpgkey", Value),
    opt("disable", Flag), opt("ssl_verify", Value), opt("priority", Int), opt("nocache", Flag),
    opt("proxyuser", Value), opt("proxypasswd", Value), opt("user", Value), opt("passwd", Value),
];

/// `part`/`partition`: pykickstart's (FC3 to latest), then mic's.
#[rustfmt::skip]
pub(crate) const PART: &[OptSpec] = &[
    opt("size", Int), opt("grow", Flag), opt("maxsize", Int), opt("noformat", Flag),
    opt_alias("onpart", &["usepart"], Value), opt_alias("ondisk", &["ondrive"], Value),
    opt("asprimary", Flag), opt("fstype", Value), opt("fsoptions", Value), opt("label", Value),
    opt("start", Int), opt("end", Int), opt("bytes-per-inode", Int), opt("recommended", Flag),
    opt("onbiosdisk", Value), opt("active", Flag), opt("encrypted", Flag), opt("passphrase", Value),
    opt("fsprofile", Value), opt("escrowcert", Value), opt("backuppassphrase", Flag), opt("resize", Flag),
    opt("hibernation", Flag), opt("cipher", Value), opt("mkfsoptions", Value), opt("luks-version", Value),
    opt("pbkdf", Value), opt("pbkdf-memory", Int), opt("pbkdf-time", Int), opt("pbkdf-iterations", Int),
    // mic's Mic_Partition extensions (--align is in KiB).
    opt("align", Int), opt("extoptions", Value), opt("part-type", Value), opt("uuid", Value),
];

/// `bootloader`: pykickstart's (FC3 to latest), then mic's.
#[rustfmt::skip]
pub(crate) const BOOTLOADER: &[OptSpec] = &[
    opt("append", Value), opt("boot-drive", Value), opt("driveorder", Value),
    opt("location", Arity::Choice(&["mbr", "partition", "none", "boot"])), opt("password", Value),
    opt("md5pass", Value), opt("iscrypted", Flag), opt("upgrade", Flag), opt("timeout", Int),
    opt("default", Value), opt("extlinux", Flag), opt("leavebootorder", Flag), opt("disabled", Flag),
    opt("nombr", Flag), opt("lba32", Flag), opt("linear", Flag), opt("nolinear", Flag),
    // mic's Mic_Bootloader extensions.
    opt("menus", Value), opt("ptable", Arity::Choice(&["msdos", "gpt"])),
];

/// `user`.
#[rustfmt::skip]
pub(crate) const USER: &[OptSpec] = &[
    opt("name", Value), opt("groups", Value), opt("homedir", Value), opt("iscrypted", Flag),
    opt("plaintext", Flag), opt("password", Value), opt("lock", Flag), opt("shell", Value), opt("uid", Int),
    opt("gid", Int), opt("gecos", Value),
];

/// `rootpw` (the password is positional).
#[rustfmt::skip]
pub(crate) const ROOTPW: &[OptSpec] = &[
    opt("iscrypted", Flag), opt("plaintext", Flag), opt("lock", Flag), opt("allow-ssh", Flag),
];

/// `timezone` (the zone is positional; `--isUtc` is the old spelling).
#[rustfmt::skip]
pub(crate) const TIMEZONE: &[OptSpec] = &[
    opt_alias("utc", &["isUtc"], Flag), opt("nontp", Flag), opt("ntpservers", Value),
];

/// `lang` (the language is positional).
#[rustfmt::skip]
pub(crate) const LANG: &[OptSpec] = &[
    opt("addsupport", Value),
];

/// `keyboard` (the layout is positional or `--vckeymap`/`--xlayouts`).
#[rustfmt::skip]
pub(crate) const KEYBOARD: &[OptSpec] = &[
    opt("vckeymap", Value), opt("xlayouts", Value), opt("switch", Value),
];

/// `desktop`, mic's command (Moblin_Desktop).
#[rustfmt::skip]
pub(crate) const DESKTOP: &[OptSpec] = &[
    opt("defaultdesktop", Value), opt("autologinuser", Value), opt("defaultdm", Value), opt("session", Value),
];

/// `xconfig`.
#[rustfmt::skip]
pub(crate) const XCONFIG: &[OptSpec] = &[
    opt("startxonboot", Flag), opt("defaultdesktop", Value), opt("resolution", Value),
    opt("depth", Int), opt("driver", Value), opt("videoram", Value), opt("card", Value),
    opt("monitor", Value), opt("hsync", Value), opt("vsync", Value), opt("noprobe", Flag),
    opt("server", Value),
];

/// `selinux`.
#[rustfmt::skip]
pub(crate) const SELINUX: &[OptSpec] = &[
    opt("enforcing", Flag), opt("permissive", Flag), opt("disabled", Flag),
];

/// `services`.
#[rustfmt::skip]
pub(crate) const SERVICES: &[OptSpec] = &[
    opt("enabled", Value), opt("disabled", Value),
];

/// `network`.
#[rustfmt::skip]
pub(crate) const NETWORK: &[OptSpec] = &[
    opt("bootproto", Arity::Choice(&["dhcp", "bootp", "static", "query", "ibft"])),
    opt("dhcpclass", Value), opt("device", Value), opt("essid", Value), opt("ethtool", Value),
    opt("gateway", Value), opt("hostname", Value), opt("ip", Value), opt("ipv6", Value),
    opt("ipv6gateway", Value), opt("mtu", Value), opt("nameserver", Value), opt("netmask", Value),
    opt("nodns", Flag), opt("noipv4", Flag), opt("noipv6", Flag), opt("onboot", Value), opt("activate", Flag),
    opt("no-activate", Flag), opt("nodefroute", Flag), opt("wepkey", Value), opt("wpakey", Value),
    opt("vlanid", Value), opt("interfacename", Value), opt("bondslaves", Value), opt("bondopts", Value),
    opt("teamslaves", Value), opt("teamconfig", Value), opt("bridgeslaves", Value), opt("bridgeopts", Value),
    opt("ipv4-dns-search", Value), opt("ipv6-dns-search", Value), opt("ipv4-ignore-auto-dns", Flag),
    opt("ipv6-ignore-auto-dns", Flag), opt("bindto", Value), opt("notksdevice", Flag),
];
