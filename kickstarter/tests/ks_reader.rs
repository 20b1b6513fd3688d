//! Reads the real kickstart corpus (every file must parse, spot checks of
//! concrete values) and a table of malformed inputs with exact diagnostics.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use kickstarter::ks::{
    DirIncludes, GroupMode, IncludeResolver, Limits, MagicKind, MemoryIncludes, NoIncludes, Parsed,
    ScriptKind, parse,
};
use support::{Staged, kickstarter_outputs, reference_dir};

fn parse_path(path: &Path) -> Parsed {
    let limits = Limits::default();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(
        &bytes,
        &path.to_string_lossy(),
        &DirIncludes::new(&limits),
        &limits,
    )
}

/// The only errors real files may have: (corpus file, staged file the error
/// is reported in, line, message, why it is right to report it).
const EXPECTED_CORPUS_ERRORS: &[(&str, &str, u32, &str, &str)] = &[
    (
        "fedora/spin-kickstarts-2015-fedora-arm-base.ks",
        "fedora-2015/spin-kickstarts-2015-fedora-arm-base.ks",
        8,
        "unexpected argument 'extlinux' for bootloader",
        "`bootloader extlinux` meant `--extlinux`; old pykickstart silently dropped the word, current pykickstart rejects it too",
    ),
    (
        "fedora/spin-kickstarts-2015-fedora-arm-base.ks",
        "fedora-2015/spin-kickstarts-2015-fedora-arm-base.ks",
        19,
        "%include fedora-repo.ks: cannot read <stage>/fedora-2015/fedora-repo.ks: No such file or directory (os error 2)",
        "fedora-repo.ks is not part of the corpus",
    ),
    (
        "fedora/spin-kickstarts-2015-fedora-cloud-base.ks",
        "fedora-2015/spin-kickstarts-2015-fedora-cloud-base.ks",
        35,
        "%include fedora-repo.ks: cannot read <stage>/fedora-2015/fedora-repo.ks: No such file or directory (os error 2)",
        "fedora-repo.ks is not part of the corpus",
    ),
    (
        "fedora/spin-kickstarts-2015-fedora-live-base.ks",
        "fedora-2015/spin-kickstarts-2015-fedora-live-base.ks",
        20,
        "%include fedora-repo.ks: cannot read <stage>/fedora-2015/fedora-repo.ks: No such file or directory (os error 2)",
        "fedora-repo.ks is not part of the corpus",
    ),
    (
        "fedora/spin-kickstarts-2015-fedora-livecd-xfce.ks",
        "fedora-2015/fedora-live-base.ks",
        20,
        "%include fedora-repo.ks: cannot read <stage>/fedora-2015/fedora-repo.ks: No such file or directory (os error 2)",
        "reached through the included live-base; fedora-repo.ks is not part of the corpus",
    ),
    (
        "fedora/spin-kickstarts-2015-fedora-livecd-xfce.ks",
        "fedora-2015/spin-kickstarts-2015-fedora-livecd-xfce.ks",
        14,
        "%include fedora-xfce-packages.ks: cannot read <stage>/fedora-2015/fedora-xfce-packages.ks: No such file or directory (os error 2)",
        "fedora-xfce-packages.ks is not part of the corpus",
    ),
];

#[test]
fn every_real_kickstart_parses_with_only_the_justified_errors() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let staged = Staged::new(&reference);
    assert_eq!(staged.files.len(), 33, "the corpus should hold 33 files");
    let mut report = Vec::new();
    for (rel, path) in &staged.files {
        let parsed = parse_path(path);
        let got: Vec<String> = parsed
            .errors()
            .map(|d| staged.redact(&d.to_string()))
            .collect();
        let want: Vec<String> = EXPECTED_CORPUS_ERRORS
            .iter()
            .filter(|e| e.0 == rel)
            .map(|e| format!("<stage>/{}:{}: error: {}", e.1, e.2, e.3))
            .collect();
        if got != want {
            report.push(format!("{rel}:\n  got  {got:#?}\n  want {want:#?}"));
        }
    }
    assert!(
        report.is_empty(),
        "unexpected errors:\n{}",
        report.join("\n")
    );
}

#[test]
fn every_kickstarter_output_parses_and_its_magic_line_is_read() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let files = kickstarter_outputs(&reference);
    assert_eq!(files.len(), 71);
    // Real defects of the G1 demo configuration, which mic's optparse rejects as well.
    let justified: &[(&str, &str)] = &[
        (
            "G1-meego-kickstarter-0.12-demo/output/1.1.80/handset-armv7l-n900-devel.ks",
            ":22: error: option --timeout of bootloader needs an integer, not ''",
        ),
        (
            "G1-meego-kickstarter-0.12-demo/output/1.1.80/handset-armv7l-n900.ks",
            ":22: error: option --timeout of bootloader needs an integer, not ''",
        ),
        (
            "G1-meego-kickstarter-0.12-demo/output/1.1.80/ivi-ia32.ks",
            ":14: error: unknown option --test for bootloader",
        ),
    ];
    let mut report = Vec::new();
    for path in &files {
        let name = path.to_string_lossy();
        let parsed = parse_path(path);
        let got: Vec<String> = parsed
            .errors()
            .map(|d| d.to_string().replacen(&*name, "", 1))
            .collect();
        let want: Vec<String> = justified
            .iter()
            .filter(|(f, _)| name.ends_with(f))
            .map(|(_, m)| (*m).to_string())
            .collect();
        if got != want {
            report.push(format!("{name}: got {got:?}, want {want:?}"));
        }
        // The magic line, checked against a naive reading of line 1.
        let text = std::fs::read_to_string(path).expect("utf-8");
        let first = text.lines().next().unwrap_or_default();
        let inner = first
            .strip_prefix("# -*-mic2-options-*- ")
            .and_then(|r| r.split(" -*-mic2-options-*-").next())
            .unwrap_or_else(|| panic!("{name}: no magic line"));
        let words: Vec<&str> = inner.split_whitespace().collect();
        let magic = parsed
            .kickstart
            .magic
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: magic line not read"));
        assert_eq!(magic.kind, MagicKind::Mic2, "{name}");
        assert_eq!(magic.options, words, "{name}");
        let format = words.iter().position(|w| *w == "-f").map(|i| words[i + 1]);
        assert_eq!(magic.image_type.as_deref(), format, "{name}");
        let arch = words.iter().rev().find_map(|w| w.strip_prefix("--arch="));
        assert_eq!(magic.arch.as_deref(), arch, "{name}");
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn spot_checks_of_real_files() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let staged = Staged::new(&reference);
    let ks = |rel: &str| {
        let parsed = parse_path(staged.path(rel));
        assert!(!parsed.has_errors(), "{rel}: {:?}", parsed.diagnostics);
        (parsed.kickstart, parsed.diagnostics)
    };

    // mic2 magic line and a repo with mic's options and an unsubstituted token.
    let (k, _) = ks("meego/meego-1.2-core-ia32-base.ks");
    let magic = k.magic.as_ref().expect("magic");
    assert_eq!(
        (magic.kind, k.image_type(), k.arch()),
        (MagicKind::Mic2, Some("loop"), None)
    );
    assert_eq!(magic.options, ["-f", "loop", "--save-kernel"]);
    let oss = k.repo("1.2-oss").expect("repo 1.2-oss");
    assert_eq!(
        oss.baseurl.as_deref(),
        Some("http://repo.meego.com/MeeGo/builds/1.1.99/@BUILD_ID@/repos/oss/ia32/packages/")
    );
    assert_eq!(oss.line, 18);
    let keys: Vec<&str> = oss.options.keys().map(String::as_str).collect();
    assert_eq!(keys, ["debuginfo", "gpgkey", "save", "source"]);
    assert_eq!(k.partitions[0].size, Some(1700));
    assert_eq!(
        k.command("desktop").expect("desktop").args,
        [
            "--autologinuser=meego",
            "--defaultdesktop=DUI",
            "--session=/usr/bin/mcompositor"
        ]
    );

    // Tizen sunxi: TAB-indented packages, `#~` comments, three %post sections.
    let (k, _) = ks("tizen/tizen-common-wayland-arm-sunxi.ks");
    assert_eq!(k.image_type(), Some("raw"));
    assert_eq!(k.scripts_of(ScriptKind::Post).count(), 3);
    assert_eq!(
        k.scripts_of(ScriptKind::Post)
            .filter(|s| s.nochroot)
            .count(),
        2
    );
    let lines: Vec<u32> = k.scripts_of(ScriptKind::Post).map(|s| s.line).collect();
    assert_eq!(lines, [468, 816, 827]);
    assert!(k.packages.has_option("ignoremissing"));
    assert!(k.packages.packages.iter().any(|p| p == "bluetooth-share"));
    assert!(
        k.packages.groups.is_empty(),
        "every group line is a `#~` comment"
    );
    let boot = &k.partitions[0];
    assert_eq!(
        (
            boot.mountpoint.as_str(),
            boot.fstype.as_deref(),
            boot.label.as_deref(),
            boot.size
        ),
        ("/boot", Some("vfat"), Some("boot"), Some(32))
    );
    assert_eq!(boot.options.get("start"), Some(&Some("8".to_string())));
    assert_eq!(boot.options.get("active"), Some(&None));

    // CRLF file: same structure as LF, no `\r` anywhere.
    let (k, _) = ks("meego/mic-tests-mic_cases-base-test.ks");
    assert_eq!(k.image_type(), Some("livecd"));
    let groups: Vec<&str> = k.packages.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        groups,
        [
            "MeeGo Base Development",
            "Base Double Byte IME Support",
            "MeeGo Compliance",
            "MeeGo Core",
            "MeeGo X Window System",
            "X for Netbooks",
            "MeeGo Netbook",
            "MeeGo Netbook Desktop",
            "Printing",
            "Games"
        ]
    );
    assert_eq!(k.packages.packages, ["kernel-adaptation-pinetrail"]);
    assert_eq!(k.repos.len(), 4);
    let post = k.scripts_of(ScriptKind::Post).next().expect("%post");
    assert_eq!(post.line, 40);
    assert!(
        post.body
            .starts_with("# save a little bit of space at least...\nrm -f /boot/initrd*\n")
    );
    assert!(!serde_json::to_string(&k).expect("json").contains("\\r"));

    // Sailfish: metadata comments instead of a magic line, %attachment, %pack.
    let (k, _) = ks("sailfish/droid-config-hammerhead-Jolla-@RELEASE@-hammerhead-@ARCH@.ks");
    assert_eq!(k.magic, None);
    assert_eq!((k.image_type(), k.arch()), (Some("fs"), Some("armv7hl")));
    assert_eq!(
        k.metadata.get("KickstartType").map(String::as_str),
        Some("release")
    );
    assert_eq!(
        k.metadata.get("DisplayName").map(String::as_str),
        Some("Jolla hammerhead/@ARCH@ (release) 1")
    );
    assert_eq!(
        k.attachments,
        [
            "/boot/hybris-boot.img",
            "/boot/hybris-updater-script",
            "/boot/hybris-updater-unpack.sh",
            "/boot/update-binary"
        ]
    );
    assert_eq!(k.scripts_of(ScriptKind::Pack).count(), 1);
    assert_eq!(k.packages.groups[0].name, "Jolla Configuration hammerhead");
    assert_eq!(
        k.repo("apps-@RELEASE@").and_then(|r| r.baseurl.as_deref()),
        Some("https://releases.jolla.com/jolla-apps/@RELEASE@/@ARCH@/")
    );

    // --erroronfail on %pre and %post, also with --nochroot.
    let (k, _) = ks("sailfish/platform-sdk-target.ks");
    let flags: Vec<(ScriptKind, bool, bool)> = k
        .scripts
        .iter()
        .map(|s| (s.kind, s.nochroot, s.erroronfail))
        .collect();
    assert_eq!(
        flags,
        [
            (ScriptKind::Pre, false, true),
            (ScriptKind::Post, false, true),
            (ScriptKind::Post, true, true)
        ]
    );

    // Two spaces before --excludedocs; --instLangs; an environment.
    assert!(
        ks("meego/imager-meego-core-ia32-mint.ks")
            .0
            .packages
            .has_option("excludedocs")
    );
    let (k, _) = ks("fedora/spin-kickstarts-2015-fedora-live-minimization.ks");
    assert_eq!(k.packages.excluded_packages.len(), 12);
    assert_eq!(k.packages.excluded_packages[0], "mpage");
    // (cloud-base's only error is its missing fedora-repo.ks include.)
    let cloud = parse_path(staged.path("fedora/spin-kickstarts-2015-fedora-cloud-base.ks"));
    assert_eq!(cloud.errors().count(), 1);
    assert_eq!(
        cloud.kickstart.packages.option_value("instLangs"),
        Some("en")
    );
    assert_eq!(
        cloud.kickstart.packages.environment.as_deref(),
        Some("cloud-server-environment")
    );
    assert_eq!(
        cloud.kickstart.command("rootpw").expect("rootpw").args,
        ["--lock", "--iscrypted", "locked"]
    );

    // `keyboard us# Root password` is `keyboard us`, with a warning.
    let (k, diags) = ks("mer/imager-testdata-generic.ks");
    assert_eq!(k.command("keyboard").expect("keyboard").args, ["us"]);
    assert!(
        diags
            .iter()
            .any(|d| d.line == 4 && d.message.contains("'#' in column 12 starts a comment"))
    );
    assert_eq!(k.repos[0].name, "oss");

    // Two repo lines glued together: optparse keeps the last --name.
    let (k, diags) = ks("meego/meego-1.2-core-ia32-generic.ks");
    let names: Vec<&str> = k.repos.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["1.2-oss", "berndhs", "berndhs-deploy"]);
    assert!(
        diags
            .iter()
            .any(|d| d.line == 17 && d.message.contains("--name of repo is given more than once"))
    );

    // The magic line's last --arch wins.
    let (k, _) = ks("mer/ce-mer-handset-ia32-ce-testing.ks");
    assert_eq!((k.image_type(), k.arch()), (Some("livecd"), Some("i586")));

    // Includes: the Fedora 15 xfce spin pulls in base and minimization.
    let (k, _) = ks("fedora/fedora-15-era-livecd-xfce.ks");
    let rawhide = k.repo("rawhide").expect("repo from the included base");
    assert_eq!(
        (staged.redact(&rawhide.file), rawhide.line),
        ("<stage>/fedora-15-era/fedora-live-base.ks".to_string(), 20)
    );
    assert!(
        k.packages
            .excluded_packages
            .iter()
            .any(|p| p == "samba-client"),
        "from the minimization include"
    );
    assert!(
        k.packages.excluded_packages.iter().any(|p| p == "aspell-*"),
        "from the file itself"
    );
    assert!(
        k.packages.groups.iter().any(|g| g.name == "xfce-desktop"),
        "from the file itself"
    );
    assert_eq!(k.scripts_of(ScriptKind::Post).count(), 3);

    // The EXCERPT is a kickstart with elisions; its magic line is on line 8,
    // where mic does not look, so it has none (and a warning says so).
    let (k, diags) = ks("tizen/EXCERPT-tizen4-mobile-headless-tm1-generated.ks.txt");
    assert_eq!(k.magic, None);
    assert!(
        diags
            .iter()
            .any(|d| d.line == 8 && d.message.starts_with("magic line ignored"))
    );
    assert_eq!(
        k.partitions[0].options.get("extoptions"),
        Some(&Some("-J size=16".to_string()))
    );
}

fn errors(text: &[u8], includes: &dyn IncludeResolver, limits: &Limits) -> Vec<String> {
    parse(text, "t.ks", includes, limits)
        .errors()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn malformed_inputs_give_exact_errors() {
    let d = Limits::default();
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "missing %end",
            b"lang C\n%post\necho hi\n%packages\nvim\n%end\n",
            "t.ks:2: error: section %post is not closed by %end before %packages on line 4",
        ),
        (
            "missing %end at EOF",
            b"lang C\n\n%packages\nvim\n",
            "t.ks:3: error: section %packages is not closed by %end",
        ),
        (
            "unknown command",
            b"lang C\nfrobnicate --now\n",
            "t.ks:2: error: unknown command 'frobnicate'",
        ),
        (
            "unknown option",
            b"part / --size=100 --bogus\n",
            "t.ks:1: error: unknown option --bogus for part",
        ),
        (
            "unknown option in a header",
            b"%post --chroot\n%end\n",
            "t.ks:1: error: unknown option --chroot for %post",
        ),
        (
            "repo without name",
            b"repo --baseurl=http://x/\n",
            "t.ks:1: error: repo needs --name",
        ),
        (
            "repo without url",
            b"\nrepo --name=oss\n",
            "t.ks:2: error: repo 'oss' needs --baseurl or --mirrorlist",
        ),
        (
            "duplicate repo",
            b"repo --name=a --baseurl=x\nrepo --name=a --baseurl=y\n",
            "t.ks:2: error: repo name 'a' is already used at t.ks:1",
        ),
        (
            "part without mount point",
            b"part --size=1 --fstype=ext4\n",
            "t.ks:1: error: part needs a mount point",
        ),
        (
            "option without value",
            b"part / --label\n",
            "t.ks:1: error: option --label of part needs a value",
        ),
        (
            "unclosed quote",
            b"lang C\ndesktop --session=\"/usr/bin/x\n",
            "t.ks:2: error: unclosed \" quote (opened in column 19)",
        ),
        (
            "magic without closing marker",
            b"# -*-mic2-options-*- -f raw --arch=armv7l\nlang C\n",
            "t.ks:1: error: malformed magic line: it opens with -*-mic2-options-*- but has no closing -*-mic2-options-*-",
        ),
        (
            "magic -f without value",
            b"# -*-mic2-options-*- --arch=x86 -f -*-mic2-options-*-\n",
            "t.ks:1: error: malformed magic line: option -f needs a value",
        ),
        (
            "magic unknown type",
            b"# -*-mic-options-*- floppy -*-mic-options-*-\n",
            "t.ks:1: error: malformed magic line: unknown image type 'floppy' (known: livecd, liveusb, loop, raw, nand, mrstnand, vdi, vmdk, qcow2, qcow, fs)",
        ),
        (
            "magic auto",
            b"# -*-mic-options-*- auto -*-mic-options-*-\n",
            "t.ks:1: error: malformed magic line: 'auto' is not an image type (`mic create auto` reads this line to find one)",
        ),
        (
            "NUL byte",
            b"lang C\nkeyboard u\0s\n",
            "t.ks:2: error: NUL byte in column 11; kickstart files must be plain text",
        ),
        (
            "control character",
            b"\n\nlang C\x1b[0m\n",
            "t.ks:3: error: control character U+001B in column 7; kickstart files must be plain text",
        ),
        (
            "invalid UTF-8",
            b"lang C\n\n# caf\xe9\n",
            "t.ks:3: error: invalid UTF-8 in column 6; kickstart files must be UTF-8 text",
        ),
        (
            "unclosed quote in a header",
            b"%post --log=\"/tmp/x\necho hi\n%end\n",
            "t.ks:1: error: unclosed \" quote (opened in column 13)",
        ),
        (
            "unknown section",
            b"%foo --x\nbar\n%end\nlang C\n",
            "t.ks:1: error: unknown section %foo",
        ),
        (
            "%end outside a section",
            b"lang C\n%end\n",
            "t.ks:2: error: %end without an open section",
        ),
        (
            "%ksappend",
            b"%ksappend http://x/y.ks\n",
            "t.ks:1: error: %ksappend is not supported (it fetches a URL when the installer starts); use %include",
        ),
        (
            "two packages on a line",
            b"%packages\nvim emacs\n%end\n",
            "t.ks:2: error: 'vim emacs' is not one package name; write one package per line",
        ),
        (
            "include not allowed",
            b"lang C\n%include other.ks\n",
            "t.ks:2: error: %include other.ks: includes are not allowed here",
        ),
        (
            "CRLF keeps line numbers",
            b"lang C\r\n\r\nbogus\r\n",
            "t.ks:3: error: unknown command 'bogus'",
        ),
    ];
    for (what, input, want) in cases {
        assert_eq!(errors(input, &NoIncludes, &d), [*want], "case: {what}");
    }
}

#[test]
fn include_cycles_depth_and_locations() {
    let d = Limits::default();
    let files = MemoryIncludes::new()
        .with("a.ks", "lang C\n%include b.ks\n")
        .with("b.ks", "%include a.ks\n")
        .with("c.ks", "\n\nbogus\n")
        .with("d1.ks", "%include d2.ks\n")
        .with("d2.ks", "%include d3.ks\n")
        .with("d3.ks", "lang C\n");
    assert_eq!(
        errors(b"%include a.ks\n", &files, &d),
        ["b.ks:1: error: %include a.ks: include cycle: t.ks -> a.ks -> b.ks -> a.ks"]
    );
    assert_eq!(
        errors(b"lang C\n%include c.ks\n", &files, &d),
        ["c.ks:3: error: unknown command 'bogus'"]
    );
    assert_eq!(
        errors(b"%include missing.ks\n", &files, &d),
        ["t.ks:1: error: %include missing.ks: no such file: missing.ks"]
    );
    let shallow = Limits {
        max_include_depth: 2,
        ..Limits::default()
    };
    assert_eq!(
        errors(b"%include d1.ks\n", &files, &shallow),
        ["d2.ks:1: error: %include d3.ks: includes are nested deeper than 2 levels"]
    );
    assert!(errors(b"%include d1.ks\n", &files, &d).is_empty());
}

#[test]
fn hostile_inputs_stay_bounded() {
    let d = Limits::default();
    // A huge line.
    let mut text = b"lang C\n".to_vec();
    text.extend(vec![b'x'; 10_000]);
    text.push(b'\n');
    assert_eq!(
        errors(&text, &NoIncludes, &d),
        ["t.ks:2: error: line is 10000 bytes long; the limit is 8192 bytes"]
    );

    // ~100 MB is refused by its size, before any other work.
    let big = vec![b'a'; 100 * 1024 * 1024];
    let start = Instant::now();
    let parsed = parse(&big, "big.ks", &NoIncludes, &d);
    let elapsed = start.elapsed();
    let got: Vec<String> = parsed.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        ["big.ks: error: input is 104857600 bytes; the limit is 1048576 bytes"]
    );
    assert!(elapsed < Duration::from_millis(200), "took {elapsed:?}");

    // One error per line is capped.
    let many = "nonsense\n".repeat(500);
    let parsed = parse(many.as_bytes(), "t.ks", &NoIncludes, &d);
    assert_eq!(parsed.diagnostics.len(), 101);
    assert_eq!(
        parsed.diagnostics[100].to_string(),
        "t.ks:100: error: too many problems; stopped reading after 100 of them"
    );

    // Too many lines.
    let lines = "\n".repeat(60_000);
    assert_eq!(
        errors(lines.as_bytes(), &NoIncludes, &d),
        ["t.ks: error: too many lines: reading this file would exceed the limit of 50000 lines"]
    );

    // A very long %packages stays linear: 24 000 packages, then all excluded.
    let mut text = String::from("%packages\n");
    for i in 0..24_000 {
        text.push_str(&format!("pkg{i}\n"));
    }
    for i in 0..24_000 {
        text.push_str(&format!("-pkg{i}\n"));
    }
    text.push_str("%end\n");
    let start = Instant::now();
    let parsed = parse(text.as_bytes(), "t.ks", &NoIncludes, &d);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert!(parsed.diagnostics.is_empty());
    assert!(parsed.kickstart.packages.packages.is_empty());
    assert_eq!(parsed.kickstart.packages.excluded_packages.len(), 24_000);
    assert_eq!(parsed.kickstart.packages.excluded_packages[1], "pkg1");

    // Deep nesting of sections is impossible (no recursion), and a section
    // header storm is linear: 20_000 unclosed %post headers.
    let storm = "%post\n".repeat(20_000);
    let start = Instant::now();
    let parsed = parse(storm.as_bytes(), "t.ks", &NoIncludes, &d);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(parsed.diagnostics.len(), 101);
}

#[test]
fn groups_modes_and_scripts_from_text() {
    let text = b"%packages --instLangs=en --excludedocs\n@^minimal-environment\n@Core --nodefaults\n@ Spaced  Name \n-@Printing\n\tvim # editor\n-emacs\n%end\n\n%post --nochroot --interpreter=/usr/bin/python3 --log=/tmp/post.log\nprint('%end is not alone here')\n  %end\n";
    let parsed = parse(text, "t.ks", &NoIncludes, &Limits::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let p = &parsed.kickstart.packages;
    assert_eq!(p.option_value("instLangs"), Some("en"));
    assert_eq!(p.environment.as_deref(), Some("minimal-environment"));
    let groups: Vec<(&str, GroupMode)> =
        p.groups.iter().map(|g| (g.name.as_str(), g.mode)).collect();
    assert_eq!(
        groups,
        [
            ("Core", GroupMode::NoDefaults),
            ("Spaced Name", GroupMode::Default)
        ]
    );
    assert_eq!(
        (
            p.packages.as_slice(),
            p.excluded_packages.as_slice(),
            p.excluded_groups.as_slice()
        ),
        (
            &["vim".to_string()][..],
            &["emacs".to_string()][..],
            &["Printing".to_string()][..]
        )
    );
    let s = &parsed.kickstart.scripts[0];
    assert_eq!(
        (
            s.kind,
            s.nochroot,
            s.interpreter.as_deref(),
            s.log.as_deref(),
            s.line
        ),
        (
            ScriptKind::Post,
            true,
            Some("/usr/bin/python3"),
            Some("/tmp/post.log"),
            10
        )
    );
    assert_eq!(s.body, "print('%end is not alone here')\n");
}

#[test]
fn header_comments_and_warnings() {
    let text = "\u{FEFF}# -*-mic-options-*- liveusb -A i686 -*-mic-options-*-\n# DisplayName: Demo image\n\n# SuggestedImageType: raw\nlang C\n# Later: not metadata\n# -*-mic2-options-*- -f raw -*-mic2-options-*-\n%packages --excludedocs\n%end\n%packages\n%end\n";
    let parsed = parse(text.as_bytes(), "t.ks", &NoIncludes, &Limits::default());
    let k = &parsed.kickstart;
    assert_eq!(
        (k.image_type(), k.arch()),
        (Some("liveusb"), Some("i686")),
        "the magic line wins over metadata"
    );
    let keys: Vec<&str> = k.metadata.keys().map(String::as_str).collect();
    assert_eq!(keys, ["DisplayName", "SuggestedImageType"]);
    let got: Vec<String> = parsed.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "t.ks:7: warning: magic line ignored: mic only reads the -*-mic2-options-*- line on line 1 of the kickstart",
            "t.ks:10: warning: %packages options differ from the %packages at t.ks:8; pykickstart and mic only use the last header's options",
        ]
    );
    let not_magic = parse(
        b"# see -*-mic2-options-*- -f raw -*-mic2-options-*-\n",
        "t.ks",
        &NoIncludes,
        &Limits::default(),
    );
    assert_eq!(not_magic.kickstart.magic, None);
    assert_eq!(
        not_magic.diagnostics[0].to_string(),
        "t.ks:1: warning: not a magic line: the -*-mic2-options-*- or -*-mic-options-*- marker must come right after the leading '#'"
    );
}
