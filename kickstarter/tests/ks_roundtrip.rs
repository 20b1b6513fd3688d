//! Property test: a random but valid kickstart structure, written out with
//! `Kickstart::to_kickstart_text`, reads back as the same structure (apart
//! from source locations) with no diagnostics, and writing it again gives
//! the same text.

use std::collections::BTreeMap;

use kickstarter::ks::{
    Group, GroupMode, Kickstart, Limits, MagicKind, MagicLine, NoIncludes, Packages, Partition,
    Repo, Script, ScriptKind, SectionOption, parse,
};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;

/// Printable text without control characters (values may need quoting).
const PRINTABLE: &str = "[ -~]{1,16}";

fn magic() -> impl Strategy<Value = Option<MagicLine>> {
    let kind = prop_oneof![Just(MagicKind::Mic2), Just(MagicKind::Mic)];
    let image = prop::sample::select(kickstarter::ks::IMAGE_TYPES);
    let arch = option::of(prop::sample::select(
        &["armv7l", "i586", "armv7hl", "x86_64"][..],
    ));
    let extras = vec(
        prop::sample::select(
            &[
                "--save-kernel",
                "--record-pkgs=name",
                "--pack-to=@NAME@.tar.gz",
            ][..],
        ),
        0..3,
    );
    option::of(
        (kind, image, arch, extras).prop_map(|(kind, image, arch, extras)| {
            let mut options = match kind {
                MagicKind::Mic2 => vec!["-f".to_string(), image.to_string()],
                MagicKind::Mic => vec![image.to_string()],
            };
            options.extend(arch.map(|a| format!("--arch={a}")));
            options.extend(extras.into_iter().map(String::from));
            MagicLine::from_options(kind, options).expect("generated magic options are valid")
        }),
    )
}

fn metadata() -> impl Strategy<Value = BTreeMap<String, String>> {
    let key = prop::sample::select(
        &[
            "DisplayName",
            "KickstartType",
            "SuggestedImageType",
            "SuggestedArchitecture",
        ][..],
    );
    btree_map(
        key.prop_map(String::from),
        "[A-Za-z0-9@/()._-][A-Za-z0-9@/() ._-]{0,20}[A-Za-z0-9)]",
        0..3,
    )
}

/// Commands other than repo/part, with arguments valid for their command.
fn plain_command() -> impl Strategy<Value = (String, Vec<String>)> {
    let word = "[A-Za-z0-9_][A-Za-z0-9_./,-]{0,11}";
    let secret = PRINTABLE.prop_filter("not an option", |s| !s.starts_with('-'));
    prop_oneof![
        prop::sample::select(&["en_US.UTF-8", "C", "fi_FI.UTF-8"][..])
            .prop_map(|l| ("lang".into(), vec![l.into()])),
        Just(("keyboard".into(), vec!["us".into()])),
        word.prop_map(|tz| ("timezone".into(), vec!["--utc".into(), tz])),
        secret.clone().prop_map(|pw| ("rootpw".into(), vec![pw])),
        (word, secret).prop_map(|(n, pw)| (
            "user".into(),
            vec![
                "--name".into(),
                n,
                "--groups".into(),
                "audio,video".into(),
                "--password".into(),
                pw
            ]
        )),
        (0u32..100, PRINTABLE).prop_map(|(t, a)| (
            "bootloader".into(),
            vec![format!("--timeout={t}"), format!("--append={a}")]
        )),
        word.prop_map(|u| (
            "desktop".into(),
            vec![
                format!("--autologinuser={u}"),
                "--session=/usr/bin/x session".into()
            ]
        )),
        Just(("xconfig".into(), vec!["--startxonboot".into()])),
        Just((
            "services".into(),
            vec![
                "--enabled=sshd,NetworkManager".into(),
                "--disabled=network".into()
            ]
        )),
        Just((
            "firewall".into(),
            vec!["--enabled".into(), "--service=mdns".into()]
        )),
    ]
}

fn repo(name: String) -> impl Strategy<Value = Repo> {
    let url = "https?://[a-z]{1,8}\\.org/[A-Za-z0-9@/_.:-]{0,24}";
    let flags = btree_set(
        prop::sample::select(&["save", "debuginfo", "source", "disable", "nocache"][..]),
        0..4,
    );
    let valued = (
        option::of(url),
        option::of(prop::sample::select(&["yes", "no"][..])),
        option::of(0i32..100),
    );
    (url, any::<bool>(), flags, valued).prop_map(
        move |(url, mirror, flags, (gpgkey, ssl, priority))| {
            let mut options: BTreeMap<String, Option<String>> =
                flags.into_iter().map(|f| (f.to_string(), None)).collect();
            options.extend(gpgkey.map(|k| ("gpgkey".to_string(), Some(k))));
            options.extend(ssl.map(|s| ("ssl_verify".to_string(), Some(s.to_string()))));
            options.extend(priority.map(|p| ("priority".to_string(), Some(p.to_string()))));
            let (baseurl, mirrorlist) = if mirror {
                (None, Some(url))
            } else {
                (Some(url), None)
            };
            Repo {
                name: name.clone(),
                baseurl,
                mirrorlist,
                options,
                file: String::new(),
                line: 0,
            }
        },
    )
}

fn partition() -> impl Strategy<Value = Partition> {
    let mount = prop::sample::select(&["/", "/boot", "/home", "swap", "/opt/usr"][..]);
    let extra = (
        any::<bool>(),
        option::of(1i32..64),
        option::of(Just("-J size=16")),
    );
    (
        mount,
        option::of(1u64..100_000),
        option::of("sda|mmcblk0p"),
        option::of("ext[234]|vfat|btrfs"),
        option::of("[a-z]{1,6}( [a-z]{1,6})?"),
        extra,
    )
        .prop_map(|(m, size, ondisk, fstype, label, (active, align, ext))| {
            let mut options = BTreeMap::new();
            if active {
                options.insert("active".to_string(), None);
            }
            options.extend(align.map(|a| ("align".to_string(), Some(a.to_string()))));
            options.extend(ext.map(|e| ("extoptions".to_string(), Some(e.to_string()))));
            Partition {
                mountpoint: m.into(),
                size,
                ondisk,
                fstype,
                label,
                options,
                file: String::new(),
                line: 0,
            }
        })
}

fn packages() -> impl Strategy<Value = Packages> {
    let name = prop_oneof![
        "[a-z][a-z0-9+._-]{0,12}",
        "[a-z][a-z0-9-]{0,8}\\*",
        "[a-z]{1,8}-@ARCH@",
        "@ARCH@-[a-z]{1,8}",
    ];
    let group = (
        "[A-Z][a-z0-9-]{0,8}( [A-Z][a-z0-9]{0,8}){0,2}",
        prop_oneof![
            Just(GroupMode::Default),
            Just(GroupMode::NoDefaults),
            Just(GroupMode::Optional)
        ],
    );
    let options = (
        any::<bool>(),
        any::<bool>(),
        option::of("[a-z]{2}(_[A-Z]{2})?"),
    );
    (
        any::<bool>(),
        options,
        btree_set(name.clone(), 0..8),
        btree_set(name, 0..4),
        btree_map(group.0, group.1, 0..4),
        btree_set("[A-Z][a-z]{1,8}", 0..3),
        option::of("[a-z][a-z-]{0,15}"),
    )
        .prop_map(
            |(
                present,
                (docs, missing, langs),
                pkgs,
                excluded,
                groups,
                excluded_groups,
                environment,
            )| {
                let mut options = Vec::new();
                if docs {
                    options.push(SectionOption {
                        name: "excludedocs".into(),
                        value: None,
                    });
                }
                if missing {
                    options.push(SectionOption {
                        name: "ignoremissing".into(),
                        value: None,
                    });
                }
                options.extend(langs.map(|l| SectionOption {
                    name: "instLangs".into(),
                    value: Some(l),
                }));
                let groups: Vec<Group> = groups
                    .into_iter()
                    .map(|(name, mode)| Group { name, mode })
                    .collect();
                let mut p = Packages {
                    present,
                    options,
                    excluded_packages: excluded.difference(&pkgs).cloned().collect(),
                    packages: pkgs.into_iter().collect(),
                    excluded_groups: excluded_groups
                        .into_iter()
                        .filter(|g| !groups.iter().any(|x| &x.name == g))
                        .collect(),
                    groups,
                    environment,
                };
                p.present = p.present || !p.is_empty() || !p.options.is_empty();
                p
            },
        )
}

fn script() -> impl Strategy<Value = Script> {
    // %anaconda and %certificate bodies are not free text, so they are not generated here.
    let kinds: Vec<ScriptKind> = ScriptKind::ALL
        .into_iter()
        .filter(|k| !matches!(k, ScriptKind::Anaconda | ScriptKind::Certificate))
        .collect();
    let kind = prop::sample::select(kinds);
    // Any printable line, TABs included, that is not a section directive.
    let line =
        "[\t -~]{0,30}".prop_filter("directive", |l: &String| !l.trim_start().starts_with('%'));
    let flags = (
        any::<bool>(),
        option::of("/bin/(ba)?sh|/usr/bin/python3"),
        any::<bool>(),
        option::of("/tmp/[a-z]{1,8}\\.log"),
    );
    (kind, flags, vec(line, 0..6)).prop_map(
        |(kind, (nochroot, interpreter, erroronfail, log), lines)| {
            let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let program = kind.is_program();
            Script {
                kind,
                nochroot: nochroot && kind == ScriptKind::Post,
                interpreter: interpreter.filter(|_| program),
                erroronfail: erroronfail && program,
                log: log.filter(|_| program),
                args: if program {
                    vec![]
                } else {
                    vec!["com_example_addon".into(), "--enable".into()]
                },
                body,
                file: String::new(),
                line: 0,
            }
        },
    )
}

/// What goes outside sections, in order.
#[derive(Debug, Clone)]
enum Item {
    Plain(String, Vec<String>),
    Repo(Repo),
    Part(Partition),
}

fn kickstart() -> impl Strategy<Value = Kickstart> {
    let repo_names = btree_set("[a-z][a-z0-9._-]{0,10}", 0..5);
    let repos = repo_names.prop_flat_map(|names| names.into_iter().map(repo).collect::<Vec<_>>());
    let items = (vec(plain_command(), 0..8), repos, vec(partition(), 0..4)).prop_flat_map(
        |(plain, repos, parts)| {
            let mut items: Vec<Item> = plain.into_iter().map(|(n, a)| Item::Plain(n, a)).collect();
            items.extend(repos.into_iter().map(Item::Repo));
            items.extend(parts.into_iter().map(Item::Part));
            Just(items).prop_shuffle()
        },
    );
    let lists = (
        btree_set("[a-z][a-z0-9-]{0,10}", 0..4),
        btree_set("/boot/[a-z*.-]{1,12}", 0..4),
    );
    (
        magic(),
        metadata(),
        items,
        packages(),
        lists,
        vec(script(), 0..5),
    )
        .prop_map(
            |(magic, metadata, items, packages, (prepackages, attachments), scripts)| {
                let mut ks = Kickstart {
                    magic,
                    metadata,
                    packages,
                    scripts,
                    ..Kickstart::default()
                };
                ks.prepackages = prepackages.into_iter().collect();
                ks.attachments = attachments.into_iter().collect();
                for item in items {
                    match item {
                        Item::Plain(name, args) => ks.add_command(&name, args),
                        Item::Repo(r) => ks.add_repo(r),
                        Item::Part(p) => ks.add_partition(p),
                    }
                }
                ks
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn written_kickstarts_read_back_identically(ks in kickstart()) {
        let text = ks.to_kickstart_text();
        let parsed = parse(text.as_bytes(), "gen.ks", &NoIncludes, &Limits::default());
        prop_assert!(parsed.diagnostics.is_empty(), "diagnostics {:?} for\n{}", parsed.diagnostics, text);
        prop_assert_eq!(parsed.kickstart.without_locations(), ks.without_locations(), "text:\n{}", text);
        prop_assert_eq!(&parsed.kickstart.to_kickstart_text(), &text);
        // Locations point into the written text.
        let lines: Vec<&str> = text.lines().collect();
        for c in &parsed.kickstart.commands {
            prop_assert!(lines[c.line as usize - 1].starts_with(&c.name));
        }
        for s in &parsed.kickstart.scripts {
            prop_assert!(lines[s.line as usize - 1].starts_with(s.kind.header()));
        }
    }
}

#[test]
fn a_fixed_kickstart_writes_as_expected() {
    let mut ks = Kickstart {
        magic: Some(
            MagicLine::from_options(
                MagicKind::Mic2,
                vec!["-f".into(), "raw".into(), "--arch=armv7l".into()],
            )
            .expect("valid"),
        ),
        ..Kickstart::default()
    };
    ks.add_command("rootpw", vec!["it's secret".into()]);
    ks.add_repo(Repo {
        name: "oss".into(),
        baseurl: Some("http://x/@ARCH@/".into()),
        mirrorlist: None,
        options: BTreeMap::from([("save".to_string(), None)]),
        file: String::new(),
        line: 0,
    });
    ks.packages = Packages {
        present: true,
        packages: vec!["vim".into()],
        groups: vec![Group {
            name: "MeeGo Core".into(),
            mode: GroupMode::Default,
        }],
        ..Packages::default()
    };
    ks.scripts.push(Script {
        kind: ScriptKind::Post,
        nochroot: true,
        interpreter: None,
        erroronfail: false,
        log: None,
        args: vec![],
        body: "echo hi\n".into(),
        file: String::new(),
        line: 0,
    });
    let want = "# -*-mic2-options-*- -f raw --arch=armv7l -*-mic2-options-*-\n\nrootpw 'it'\"'\"'s secret'\nrepo --name=oss --baseurl=http://x/@ARCH@/ --save\n\n%packages\n@MeeGo Core\nvim\n%end\n\n%post --nochroot\necho hi\n%end\n";
    assert_eq!(ks.to_kickstart_text(), want);
}

/// Lines built from the pieces kickstarts are made of, so random input
/// reaches deep into the parser instead of failing on the first byte.
fn kickstartish_line() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(
        &[
            "%packages",
            "%post",
            "%pre",
            "%end",
            "%include",
            "%pack",
            "%attachment",
            "%addon",
            "%foo",
            "repo",
            "part",
            "--name=a",
            "--baseurl=x",
            "--size",
            "10",
            "@",
            "@^",
            "-@",
            "-",
            "\"",
            "'",
            "#",
            "\\",
            "\t",
            " ",
            "# -*-mic2-options-*-",
            "-*-mic2-options-*-",
            "-f",
            "raw",
            "lang",
            "C",
            "bootloader",
            "--timeout=",
            "@ARCH@",
            "\r",
            "\u{0}",
            "é",
        ][..],
    );
    vec(piece, 0..8).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_input_is_read_without_panicking(
        lines in vec(kickstartish_line(), 0..40),
        noise in vec(any::<u8>(), 0..64),
    ) {
        let mut text = lines.join("\n").into_bytes();
        text.extend(noise);
        let limits = Limits { max_diagnostics: 20, ..Limits::default() };
        let includes = kickstarter::ks::MemoryIncludes::new().with("%include", "%include %include\n");
        let parsed = parse(&text, "fuzz.ks", &includes, &limits);
        prop_assert!(parsed.diagnostics.len() <= 21);
        // Whatever was read without errors is written so that it reads back
        // the same, without errors: normalising never changes meaning.
        if !parsed.has_errors() {
            let written = parsed.kickstart.to_kickstart_text();
            let again = parse(written.as_bytes(), "w.ks", &NoIncludes, &Limits::default());
            prop_assert!(!again.has_errors(), "{:?}\n{}", again.diagnostics, written);
            prop_assert_eq!(again.kickstart.without_locations(), parsed.kickstart.without_locations());
        }
    }
}
