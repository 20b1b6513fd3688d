//! The `imgctl` binary as a process: its help lists the exit codes, and the codes a script
//! sees for a bad id (2) and a server that is not there (5).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::{Command, Output};

fn imgctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgctl"))
        .args(args)
        .env_remove("IMG_SERVER")
        .env_remove("IMG_USER")
        .output()
        .unwrap()
}

#[test]
fn help_lists_the_exit_codes_and_environment() {
    let out = imgctl(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Exit codes:",
        "  0  success",
        "  1  the job Failed",
        "  2  usage error or bad input",
        "  3  the job was Cancelled",
        "  4  not found",
        "  5  server or network error",
        "  6  unauthorized or forbidden",
        "  7  wait --timeout expired",
        "  8  download size or sha256 mismatch",
        "IMG_SERVER",
        "IMG_USER",
    ] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
    for command in [
        "submit", "list", "status", "logs", "wait", "download", "cancel", "retry", "delete",
        "clear",
    ] {
        assert!(
            help.contains(&format!("  {command}")),
            "{command} missing from:\n{help}"
        );
    }
}

#[test]
fn a_server_that_is_not_there_exits_5() {
    let out = imgctl(&["status", "x/y", "--server", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("imgctl: cannot connect to http://127.0.0.1:1"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_id_exits_2_without_asking() {
    let out = imgctl(&["status", "../x", "--server", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("is not a job id"), "{err}");
    // Clap's own usage errors use the same code.
    assert_eq!(imgctl(&["status"]).status.code(), Some(2));
    assert_eq!(imgctl(&["frobnicate"]).status.code(), Some(2));
}
