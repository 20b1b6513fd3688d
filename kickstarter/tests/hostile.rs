//! Hostile and broken templates: every one must end in a clear error that names the file,
//! the line and what is wrong, within bounded memory, and without writing anything.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod support;

use std::path::Path;
use std::process::{Command, Output};

use kickstarter::{DirFiles, MemFiles, Options, Template, generate, load_repositories};
use support::kickstarter_bin;

const REPOS: &str = "Repositories:\n  - {Name: core, Url: 'http://repo/@ARCH@/'}\n";
const DEFAULT: &str = "Default:\n  Active: True\n  Language: C\n  Keyboard: us\n  Timezone: UTC\n  RootPass: x\n  DefaultUser: u\n  DefaultUserPass: p\n  PartSize: 100\n  FileSystem: ext3\n  SaveRepos: False\n";

/// Runs the CLI in `dir` under a 512 MiB address-space limit (fixed shell text; the
/// arguments are passed as positional parameters, never interpolated).
fn run_limited(dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" \"$@\"")
        .arg(kickstarter_bin())
        .args(args)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, contents: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// Runs `kickstarter -c configurations.yaml -r repos.yaml -o out` on `config` and returns
/// its standard error, asserting that it failed and wrote nothing.
fn cli_error(config: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "configurations.yaml", config);
    write(dir.path(), "repos.yaml", REPOS.as_bytes());
    let out = run_limited(
        dir.path(),
        &["-c", "configurations.yaml", "-r", "repos.yaml", "-o", "out"],
    );
    assert!(!out.status.success(), "should have failed");
    assert!(
        !dir.path().join("out").exists(),
        "wrote output despite the error"
    );
    String::from_utf8(out.stderr).unwrap()
}

fn library_error(config: &str) -> String {
    let template = match Template::parse(config.as_bytes(), "c.yaml") {
        Ok(t) => t,
        Err(e) => return e.to_string(),
    };
    let repos = load_repositories(REPOS.as_bytes(), "repos.yaml", &Default::default()).unwrap();
    generate(&template, &repos, &MemFiles::new(), &Options::default())
        .map(|_| String::new())
        .unwrap_or_else(|e| e.to_string())
}

#[test]
fn a_billion_laughs_fails_fast_in_bounded_memory() {
    let mut doc = String::from(DEFAULT);
    doc.push_str("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        doc.push_str(&format!(
            "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
        ));
    }
    doc.push_str("P:\n  Groups: *l9\nConfigurations:\n  - {Name: a, FileName: a, Platform: P}\n");
    let err = cli_error(doc.as_bytes());
    assert!(
        err.contains("configurations.yaml:17:") && err.contains("alias expansion bomb"),
        "{err}"
    );
}

#[test]
fn deep_nesting_fails_with_its_line() {
    let mut doc = String::new();
    for depth in 0..10_000 {
        doc.push_str(&" ".repeat(depth % 1000));
        doc.push_str("k:\n");
        if depth % 1000 == 999 {
            break;
        }
    }
    let err = cli_error(doc.as_bytes());
    assert!(
        err.contains("configurations.yaml:65:") && err.contains("nesting deeper than 64 levels"),
        "{err}"
    );
    let err = cli_error("[".repeat(100_000).as_bytes());
    assert!(err.contains("configurations.yaml:1:"), "{err}");
}

#[test]
fn huge_files_are_refused_before_parsing() {
    let mut doc = DEFAULT.as_bytes().to_vec();
    doc.extend(std::iter::repeat_n(b'#', 5 * 1024 * 1024));
    let err = cli_error(&doc);
    assert!(err.contains("more than the limit of 4194304"), "{err}");
}

#[test]
fn binary_junk_and_non_utf8_are_named() {
    let err = cli_error(b"Default:\n  Language: C\n\x7fELF\x02\x01\x01\x00\x00\n");
    assert!(
        err.contains("configurations.yaml:3:1: unacceptable character U+007F"),
        "{err}"
    );
    let err = cli_error(b"Default:\n  Language: caf\xe9\n");
    assert!(
        err.contains("configurations.yaml:2:16: not valid UTF-8 (byte 0xE9)"),
        "{err}"
    );
    let err = cli_error(b"Default: [\n  unclosed\n");
    assert!(err.contains("configurations.yaml:"), "{err}");
}

#[test]
fn semantic_errors_name_the_file_line_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            "P: {}\nConfigurations:\n  - {Name: a, FileName: a, Platform: P}\n",
            "c.yaml: there is no Default section",
        ),
        (
            "Default: {}\nConfigurations:\n  - Name: a\n    Platform: NOPE\n",
            "c.yaml:4:15: Platform 'NOPE' is not a section of c.yaml",
        ),
        (
            "Default: {}\nConfigurations:\n  - Name: a\n    FileName: a\n",
            "c.yaml:3:5: configuration 'a' has no Platform key",
        ),
        (
            "Default: {Groups: MeeGo Core}\nP: {}\nConfigurations:\n  - {Name: a, Platform: P}\n",
            "c.yaml:1:19: Groups must be a list, not a string",
        ),
        (
            "Default: {}\nP: {Groups: [[nested]]}\nConfigurations:\n  - {Name: a, Platform: P}\n",
            "c.yaml:2:14: Groups entries must be names, not a list",
        ),
        (
            "Default: {Active: True}\nP: {}\nConfigurations:\n  - {Name: a, Platform: P}\n",
            "has no FileName, so there is nowhere to write it",
        ),
        (
            "Default: {Active: True}\nP: {}\nConfigurations:\n  - {Name: a, FileName: ../../etc/x, Platform: P}\n",
            "FileName would write '../../etc/x.ks' outside the output directory",
        ),
        (
            "Default: {Active: True}\nP: {Part: n900}\nConfigurations:\n  - {Name: a, FileName: a, Platform: P}\n",
            "c.yaml:2:11: Part 'n900': the partition file custom/part/n900 does not exist",
        ),
        (
            "Default: {Active: True, Language: C}\nP: {}\nConfigurations:\n  - {Name: a, FileName: a, Platform: P}\n",
            "c.yaml:4:5: configuration 'a' has no Keyboard",
        ),
        (
            "Configurations: 3\n",
            "c.yaml:1:17: Configurations must be a list, not a integer",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "c.yaml:2:1: expected a single document",
        ),
        (
            "Default: !!binary aGVsbG8=\n",
            "could not determine a constructor",
        ),
    ];
    for (config, expected) in cases {
        let err = library_error(config);
        assert!(
            err.contains(expected),
            "config:\n{config}\nerror: {err}\nexpected: {expected}"
        );
    }
}

#[test]
fn a_float_baseline_is_refused_as_the_original_crashed_on_it() {
    let doc = format!(
        "{DEFAULT}P: {{Architecture: ia32}}\nConfigurations:\n  - Name: a\n    FileName: a\n    Platform: P\n    Baseline: 1.2\n    Repos: [core]\n"
    );
    let err = library_error(&doc);
    assert!(
        err.contains("c.yaml:17:15: Baseline must be a string (quote it: \"1.2\")"),
        "{err}"
    );
}

#[test]
fn confined_templates_cannot_read_outside_their_directory() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.post", b"secret\n");
    let dir = outside.path().join("template");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = format!(
        "{DEFAULT}P: {{PostScripts: [../../secret]}}\nConfigurations:\n  - {{Name: a, FileName: a, Platform: P}}\n"
    );
    let template = Template::parse(doc.as_bytes(), "c.yaml").unwrap();
    let repos = load_repositories(REPOS.as_bytes(), "repos.yaml", &Default::default()).unwrap();
    let err = generate(
        &template,
        &repos,
        &DirFiles::confined(&dir),
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("leaves the template directory"),
        "{err}"
    );
    // In memory, too.
    let err = generate(&template, &repos, &MemFiles::new(), &Options::default()).unwrap_err();
    assert!(
        err.to_string().contains("leaves the template directory"),
        "{err}"
    );
}

#[test]
fn many_keys_and_long_lists_stay_linear() {
    // 150k distinct keys and a 150k-entry list fit the 4 MiB limit; with linear lookups this
    // would take minutes (the kind of slow request that ties up a service), with hashing it is
    // immediate. Nothing is timed: the test would simply not finish in reasonable time.
    let n = 150_000;
    let mut doc = String::with_capacity(4 << 20);
    doc.push_str(DEFAULT);
    doc.push_str("P:\n");
    for i in 0..n {
        doc.push_str(&format!("  k{i}: {i}\n"));
    }
    doc.push_str("  Groups:\n");
    for i in 0..n {
        doc.push_str(&format!("  - g{}\n", i % (n / 2)));
    }
    doc.push_str("Configurations:\n  - {Name: a, FileName: a, Platform: P}\n");
    assert!(doc.len() < 4 << 20, "{}", doc.len());
    let mut template = Template::parse(doc.as_bytes(), "c.yaml").unwrap();
    kickstarter::overlay::Overlay::parse("@g1,@new,pkg")
        .unwrap()
        .apply(&mut template, "P", &[])
        .unwrap();
    let repos = load_repositories(REPOS.as_bytes(), "repos.yaml", &Default::default()).unwrap();
    let run = generate(&template, &repos, &MemFiles::new(), &Options::default()).unwrap();
    let groups = run.outputs[0]
        .contents
        .lines()
        .filter(|l| l.starts_with('@'))
        .count();
    // Half the entries repeat; the overlay adds one new group.
    assert_eq!(groups, n / 2 + 1);
}

#[test]
fn an_unknown_dialect_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_limited(dir.path(), &["-d", "meego-2.0", "-c", "x.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown kickstarter dialect 'meego-2.0'")
    );
}

#[test]
fn options_the_dialect_would_ignore_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["-d", "mer-0.20", "-c", "c.yaml", "-r", "r.yaml"],
            "mer-0.20 keeps its repositories in the configurations file",
        ),
        (
            &["-d", "mer-0.20", "-c", "c.yaml", "-i", "x.xml"],
            "no image-configs.xml",
        ),
        (
            &["-c", "c.yaml", "-r", "r.yaml", "-e", "ext"],
            "are mer-kickstarter options",
        ),
    ];
    for (args, message) in cases {
        let out = run_limited(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}
