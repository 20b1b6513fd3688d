//! The commands we know, and the checks for the ones that matter when
//! building an image.
//!
//! Every command pykickstart's latest handler or mic knows is accepted by
//! name; an unknown command is an error. The commands that decide what gets
//! built (repo, part, bootloader, user, rootpw, timezone, lang, keyboard,
//! desktop, xconfig, selinux, services, network) also have their options
//! checked, with the union of pykickstart's options and mic's extensions.

use std::collections::BTreeMap;

use super::command_table::{
    BOOTLOADER, DESKTOP, KEYBOARD, KNOWN_COMMANDS, LANG, NETWORK, PART, REPO, ROOTPW, SELINUX,
    SERVICES, TIMEZONE, USER, XCONFIG,
};
use super::diagnostic::Severity;
use super::model::{Partition, Repo};
use super::options::{OptSpec, ParsedArgs, parse_options};

/// True when `name` is a command we accept.
pub(crate) fn is_known(name: &str) -> bool {
    KNOWN_COMMANDS.contains(&name)
}

/// How many positional arguments a command takes.
#[derive(Debug, Clone, Copy)]
struct Positionals {
    min: usize,
    max: usize,
    /// What the positional argument is, for messages.
    what: &'static str,
}

const NONE: Positionals = Positionals {
    min: 0,
    max: 0,
    what: "",
};

/// Options and positional arity of a checked command.
struct CommandSpec {
    options: &'static [OptSpec],
    positionals: Positionals,
}

fn spec_for(name: &str) -> Option<CommandSpec> {
    let (options, positionals) = match name {
        "repo" => (REPO, NONE),
        "part" | "partition" => (
            PART,
            Positionals {
                min: 1,
                max: 1,
                what: "a mount point",
            },
        ),
        "bootloader" => (BOOTLOADER, NONE),
        "user" => (USER, NONE),
        "rootpw" => (
            ROOTPW,
            Positionals {
                min: 0,
                max: 1,
                what: "a password",
            },
        ),
        "timezone" => (
            TIMEZONE,
            Positionals {
                min: 1,
                max: 1,
                what: "a time zone",
            },
        ),
        "lang" => (
            LANG,
            Positionals {
                min: 1,
                max: 1,
                what: "a language",
            },
        ),
        "keyboard" => (
            KEYBOARD,
            Positionals {
                min: 0,
                max: 1,
                what: "a keyboard layout",
            },
        ),
        "desktop" => (DESKTOP, NONE),
        "xconfig" => (XCONFIG, NONE),
        "selinux" => (SELINUX, NONE),
        "services" => (SERVICES, NONE),
        "network" => (NETWORK, NONE),
        _ => return None,
    };
    Some(CommandSpec {
        options,
        positionals,
    })
}

/// What checking one command produced.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Problems, in order.
    pub(crate) problems: Vec<(Severity, String)>,
    /// The typed repo, for a `repo` line with a name.
    pub(crate) repo: Option<Repo>,
    /// The typed partition, for a `part` line with a mount point.
    pub(crate) partition: Option<Partition>,
}

/// Checks the options of a known command and builds its typed form.
/// `file`/`line` are copied into the typed values.
pub(crate) fn check(name: &str, args: &[String], file: &str, line: u32) -> Checked {
    let mut out = Checked::default();
    let Some(spec) = spec_for(name) else {
        return out;
    };
    let parsed = parse_options(args, spec.options, name, &mut out.problems);
    let pos = spec.positionals;
    if parsed.positionals.len() > pos.max {
        let extra = &parsed.positionals[pos.max..];
        let extra: Vec<String> = extra.iter().map(|w| format!("'{w}'")).collect();
        out.problems.push((
            Severity::Error,
            format!("unexpected argument {} for {name}", extra.join(" ")),
        ));
    } else if parsed.positionals.len() < pos.min {
        out.problems
            .push((Severity::Error, format!("{name} needs {}", pos.what)));
    }
    let problems = &mut out.problems;
    let mut error = |m: String| problems.push((Severity::Error, m));
    match name {
        "repo" => out.repo = repo(&parsed, file, line, &mut error),
        "part" | "partition" => out.partition = partition(&parsed, file, line),
        "user" if parsed.value("name").is_none_or(str::is_empty) => {
            error("user needs --name".into())
        }
        "rootpw" if parsed.positionals.is_empty() && !parsed.has("lock") => {
            error("rootpw needs a password (or --lock)".into());
        }
        "keyboard"
            if parsed.positionals.is_empty()
                && !parsed.has("vckeymap")
                && !parsed.has("xlayouts") =>
        {
            error("keyboard needs a keyboard layout (or --vckeymap/--xlayouts)".into());
        }
        "services" if !parsed.has("enabled") && !parsed.has("disabled") => {
            error("services needs --enabled or --disabled".into());
        }
        _ => {}
    }
    out
}

fn repo(parsed: &ParsedArgs, file: &str, line: u32, error: &mut dyn FnMut(String)) -> Option<Repo> {
    let Some(name) = parsed.value("name") else {
        error("repo needs --name".into());
        return None;
    };
    if name.is_empty() {
        error("repo --name is empty".into());
        return None;
    }
    let baseurl = parsed.value("baseurl").map(String::from);
    let mirrorlist = parsed.value("mirrorlist").map(String::from);
    match (&baseurl, &mirrorlist) {
        (Some(_), Some(_)) => error(format!(
            "repo '{name}' has both --baseurl and --mirrorlist; give only one"
        )),
        (None, None) if !parsed.has("metalink") => {
            error(format!("repo '{name}' needs --baseurl or --mirrorlist"));
        }
        _ => {}
    }
    Some(Repo {
        name: name.to_string(),
        baseurl,
        mirrorlist,
        options: others(parsed, &["name", "baseurl", "mirrorlist"]),
        file: file.to_string(),
        line,
    })
}

fn partition(parsed: &ParsedArgs, file: &str, line: u32) -> Option<Partition> {
    let mountpoint = parsed.positionals.first()?;
    Some(Partition {
        mountpoint: mountpoint.clone(),
        // Already checked to be an integer; negative sizes are not sizes.
        size: parsed.value("size").and_then(|s| s.parse().ok()),
        ondisk: parsed.value("ondisk").map(String::from),
        fstype: parsed.value("fstype").map(String::from),
        label: parsed.value("label").map(String::from),
        options: others(parsed, &["size", "ondisk", "fstype", "label"]),
        file: file.to_string(),
        line,
    })
}

/// The options not in `typed`, last value winning.
fn others(parsed: &ParsedArgs, typed: &[&str]) -> BTreeMap<String, Option<String>> {
    parsed
        .options
        .iter()
        .filter(|(n, _)| !typed.contains(n))
        .map(|(n, v)| ((*n).to_string(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Checked {
        let words = crate::ks::lexer::split_words(line).unwrap().words;
        check(&words[0], &words[1..], "t.ks", 3)
    }

    fn messages(c: &Checked) -> Vec<&str> {
        c.problems.iter().map(|(_, m)| m.as_str()).collect()
    }

    #[test]
    fn known_command_table() {
        for c in [
            "repo",
            "part",
            "desktop",
            "installerfw",
            "btrfs",
            "auth",
            "cmdline",
            "firstboot",
        ] {
            assert!(is_known(c), "{c}");
        }
        assert!(!is_known("foo"));
        assert!(
            !is_known("Repo"),
            "command names are case-sensitive, as in pykickstart"
        );
    }

    #[test]
    fn repo_is_typed_and_checked() {
        let c = run(
            "repo --name=oss --baseurl=http://x/@ARCH@/ --save --debuginfo --gpgkey=file:///k --ssl_verify=no",
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let r = c.repo.unwrap();
        assert_eq!(
            (r.name.as_str(), r.baseurl.as_deref(), r.line),
            ("oss", Some("http://x/@ARCH@/"), 3)
        );
        assert_eq!(
            r.options.get("gpgkey"),
            Some(&Some("file:///k".to_string()))
        );
        assert_eq!(r.options.get("save"), Some(&None));
        assert_eq!(
            messages(&run("repo --baseurl=http://x")),
            ["repo needs --name"]
        );
        assert_eq!(
            messages(&run("repo --name=a")),
            ["repo 'a' needs --baseurl or --mirrorlist"]
        );
        assert_eq!(
            messages(&run("repo --name=a --baseurl=x --mirrorlist=y")),
            ["repo 'a' has both --baseurl and --mirrorlist; give only one"]
        );
        assert_eq!(
            messages(&run("repo --name=a --baseurl=x --bogus")),
            ["unknown option --bogus for repo"]
        );
        assert_eq!(
            messages(&run("repo --name=a --baseurl=x extra")),
            ["unexpected argument 'extra' for repo"]
        );
    }

    #[test]
    fn partition_is_typed_and_checked() {
        let c = run(
            r#"part / --size=2000 --ondisk mmcblk0p --fstype=ext4 --label=rootfs --extoptions="-J size=16" --align 8"#,
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let p = c.partition.unwrap();
        assert_eq!(
            (p.mountpoint.as_str(), p.size, p.ondisk.as_deref()),
            ("/", Some(2000), Some("mmcblk0p"))
        );
        assert_eq!(
            p.options.get("extoptions"),
            Some(&Some("-J size=16".to_string()))
        );
        assert_eq!(
            messages(&run("part --size=10")),
            ["part needs a mount point"]
        );
        assert_eq!(
            messages(&run("part / --size=big")),
            ["option --size of part needs an integer, not 'big'"]
        );
        assert_eq!(
            messages(&run("part / /home")),
            ["unexpected argument '/home' for part"]
        );
    }

    #[test]
    fn other_checked_commands() {
        assert!(
            run("bootloader --timeout=0 --append=\"quiet\" --ptable=gpt --menus=")
                .problems
                .is_empty()
        );
        assert_eq!(
            messages(&run("bootloader --timeout= --append=\"\"")),
            ["option --timeout of bootloader needs an integer, not ''"]
        );
        assert_eq!(
            messages(&run("bootloader extlinux")),
            ["unexpected argument 'extlinux' for bootloader"]
        );
        assert_eq!(messages(&run("user --groups audio")), ["user needs --name"]);
        assert_eq!(
            messages(&run("rootpw")),
            ["rootpw needs a password (or --lock)"]
        );
        assert!(run("rootpw --lock --iscrypted locked").problems.is_empty());
        assert_eq!(
            messages(&run("timezone --utc")),
            ["timezone needs a time zone"]
        );
        assert!(
            run("timezone --isUtc America/Los_Angeles")
                .problems
                .is_empty()
        );
        assert_eq!(
            messages(&run("keyboard")),
            ["keyboard needs a keyboard layout (or --vckeymap/--xlayouts)"]
        );
        assert_eq!(
            messages(&run("services")),
            ["services needs --enabled or --disabled"]
        );
        assert_eq!(
            messages(&run("desktop --autologin=x")),
            [
                "option --autologin of desktop is read as --autologinuser (an abbreviation, as optparse allows); write it in full"
            ]
        );
        assert_eq!(
            messages(&run("network --bootproto=magic")),
            [
                "option --bootproto of network must be one of dhcp, bootp, static, query, ibft, not 'magic'"
            ]
        );
        assert!(run("selinux --enforcing").problems.is_empty());
        assert!(run("lang en_US.UTF-8").problems.is_empty());
        assert!(run("xconfig --startxonboot").problems.is_empty());
        assert!(
            run("firewall --whatever").problems.is_empty(),
            "unchecked commands keep any option"
        );
    }
}
