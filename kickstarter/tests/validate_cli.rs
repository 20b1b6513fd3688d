//! `kickstarter --validate [--json] FILE...`: problems as `FILE:LINE: ...`, exit status 1 on
//! any error, and a JSON report per file.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod support;

use std::process::{Command, Output};

use support::kickstarter_bin;

fn validate(args: &[&str], files: &[&std::path::Path]) -> Output {
    Command::new(kickstarter_bin())
        .arg("--validate")
        .args(args)
        .args(files)
        .output()
        .unwrap()
}

const GOOD: &str = "# -*-mic2-options-*- -f livecd --arch=i586 -*-mic2-options-*-\n\
lang en_US.UTF-8\n\
repo --name=core --baseurl=http://repo/core/ --save\n\
part / --size 1900 --ondisk sda --fstype=ext3\n\
%packages\n@Core\nvim\n-nano\n%end\n\
%post --nochroot\necho done\n%end\n";

#[test]
fn a_valid_file_passes_and_reports_its_structure_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ks");
    std::fs::write(&good, GOOD).unwrap();
    let out = validate(&[], &[&good]);
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = validate(&["--json"], &[&good]);
    assert!(out.status.success());
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &reports[0];
    assert_eq!(r["valid"], true);
    assert_eq!(r["image_type"], "livecd");
    assert_eq!(r["arch"], "i586");
    assert_eq!(r["magic_options"][0], "-f");
    assert_eq!(r["repos"][0]["name"], "core");
    assert_eq!(r["repos"][0]["baseurl"], "http://repo/core/");
    assert_eq!(r["packages"], serde_json::json!(["vim"]));
    assert_eq!(r["groups"], serde_json::json!(["Core"]));
    assert_eq!(r["excluded_packages"], serde_json::json!(["nano"]));
    assert_eq!(r["partitions"][0]["mountpoint"], "/");
    assert_eq!(r["scripts"][0]["nochroot"], true);
}

#[test]
fn problems_are_listed_as_file_line_message_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ks");
    std::fs::write(&good, GOOD).unwrap();
    let bad = dir.path().join("bad.ks");
    std::fs::write(
        &bad,
        "lang C\nrepo --baseurl=http://x/\nfrobnicate now\n%packages\nvim\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.ks");
    let out = validate(&[], &[&good, &bad, &missing]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let bad = bad.display();
    let expected = [
        format!("{bad}:2: error: repo needs --name"),
        format!("{bad}:3: error: unknown command 'frobnicate'"),
        format!("{bad}:4: error: section %packages is not closed by %end"),
    ];
    for line in &expected {
        assert!(
            text.lines().any(|l| l.starts_with(line.as_str())),
            "{line:?} not in:\n{text}"
        );
    }
    assert!(
        text.contains(&format!("{}: error:", missing.display())),
        "{text}"
    );
    let json = validate(&["--json"], &[dir.path().join("bad.ks").as_path()]);
    assert_eq!(json.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(reports[0]["valid"], false);
    assert_eq!(reports[0]["diagnostics"][0]["line"], 2);
}

#[test]
fn binary_junk_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.ks");
    let mut bytes = b"lang C\n".to_vec();
    bytes.extend((0u8..=255).cycle().take(4096));
    std::fs::write(&junk, bytes).unwrap();
    let out = validate(&[], &[&junk]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{}:2: error:", junk.display())),
        "{text}"
    );
}
