//! Cross-checks the reader against pykickstart, an independent parser.
//!
//! `tests/support/pyks_dump.py` runs pykickstart (latest syntax from
//! `makeVersion()`, then F16 and F14 when the latest rejects a file) over
//! every corpus kickstart and every kickstarter output, and prints its
//! verdict, every error (parsing again with errors made non-fatal), and the
//! package selection. The files are passed to Python as paths in argv;
//! nothing goes through a shell.
//!
//! Every pykickstart error must either be reported by us on the same line
//! too, or be explained by a row of [`PYKICKSTART_ONLY`] whose check passes
//! (typically: the words pykickstart refuses are exactly mic's extensions).
//! Every error of ours must be reported by pykickstart on the same line or
//! be explained in [`OURS_ONLY`]. So a verdict can only differ for reasons
//! listed here, and any new, unexplained difference fails the test. The
//! package, group and exclusion sets must be equal, or the difference must
//! be listed in [`PACKAGE_DIFFERENCES`].
//!
//! pykickstart must be importable by `$IMG_TEST_PYTHON` (default `python3`);
//! the test fails, not skips, when it is not.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use kickstarter::ks::{DirIncludes, Limits, Parsed, parse};
use serde::Deserialize;
use support::{Staged, kickstarter_outputs, reference_dir};

#[derive(Debug, Deserialize)]
struct PyError {
    line: Option<u32>,
    message: String,
}

#[derive(Debug, Deserialize)]
struct PyEntry {
    path: String,
    verdict: String,
    error: Option<PyError>,
    accepted_by: Option<String>,
    lenient_errors: Vec<PyError>,
    lenient_complete: bool,
    packages: Vec<String>,
    groups: Vec<String>,
    excluded_packages: Vec<String>,
    excluded_groups: Vec<String>,
    environment: Option<String>,
}

/// How to confirm that a pykickstart-only error is the known difference.
enum Check {
    /// "unrecognized arguments: ..." where the words are exactly those of
    /// our command on that line that are mic extensions: (name, takes value).
    MicOptions(&'static str, &'static [(&'static str, bool)]),
    /// "Unexpected arguments to X command: [...]" listing only these options
    /// (and their values) of our command on that line.
    ListedOptions(&'static str, &'static [(&'static str, bool)]),
    /// We read this command on that line without any error.
    AcceptedCommand(&'static str),
    /// We read a `%packages --` header on that line without any error.
    PackagesDoubleDash,
    /// A mic section pykickstart does not know, which we read without error.
    MicSection,
}

/// Errors only pykickstart reports: (file substring, message prefix, check, reason).
const PYKICKSTART_ONLY: &[(&str, &str, Check, &str)] = &[
    (
        "",
        "unrecognized arguments: ",
        Check::MicOptions("repo", MIC_REPO),
        "mic's repo options (Mic_Repo/Moblin_Repo: --save --debuginfo --source --gpgkey --ssl_verify ...) are not pykickstart's",
    ),
    (
        "",
        "unrecognized arguments: ",
        Check::MicOptions("bootloader", MIC_BOOTLOADER),
        "mic's bootloader --menus/--ptable (Mic_Bootloader); `--menu` is optparse's abbreviation of --menus, which mic accepts",
    ),
    (
        "",
        "Unknown command: desktop",
        Check::AcceptedCommand("desktop"),
        "desktop is mic's command (Moblin_Desktop); pykickstart has none",
    ),
    (
        "",
        "auth has been removed.",
        Check::AcceptedCommand("auth"),
        "auth/authconfig left pykickstart's latest syntax; mic and the Fedora 15-era tools accept it (F16 syntax accepts the file)",
    ),
    (
        "",
        "Unexpected arguments to partition command: ",
        Check::ListedOptions("part", MIC_PART),
        "mic's part is FC4-based (--active, --start) plus --align/--extoptions/--part-type; current pykickstart dropped the FC4 options",
    ),
    (
        "sailfish/sfos-builder-sbj-btrfs.ks",
        "Unexpected arguments to btrfs command: ",
        Check::AcceptedCommand("btrfs"),
        "Sailfish mic ships its own btrfs command (--quota, --snapshot, --base)",
    ),
    (
        "",
        "unrecognized arguments: --level=info",
        Check::AcceptedCommand("logging"),
        "logging --level was removed in pykickstart F40; older syntax (and mic's) accepts it",
    ),
    (
        "",
        "unrecognized arguments: --",
        Check::PackagesDoubleDash,
        "optparse (mic) ends options at `--`, which kickstarter writes for an empty PackageArgs; argparse-based pykickstart rejects it",
    ),
    (
        "",
        "Unknown kickstart section: ",
        Check::MicSection,
        "%attachment, %prepackages (mic) and %pack (Sailfish mic) are mic's sections",
    ),
];

const MIC_REPO: &[(&str, bool)] = &[
    ("save", false),
    ("debuginfo", false),
    ("source", false),
    ("disable", false),
    ("nocache", false),
    ("gpgkey", true),
    ("ssl_verify", true),
    ("priority", true),
    ("proxyuser", true),
    ("proxypasswd", true),
    ("user", true),
    ("passwd", true),
];
const MIC_BOOTLOADER: &[(&str, bool)] = &[("menus", true), ("ptable", true)];
const MIC_PART: &[(&str, bool)] = &[
    ("active", false),
    ("start", true),
    ("align", true),
    ("extoptions", true),
    ("part-type", true),
    ("uuid", true),
];

/// Errors only we report: (file substring, message prefix, reason). The
/// include rows are further checked: the file must really be missing (which
/// pykickstart's default `missingIncludeIsFatal=True` rejects too) and
/// pykickstart must have rejected the kickstart.
const OURS_ONLY: &[(&str, &str, &str)] = &[(
    "fedora/",
    "%include ",
    "a missing include; pykickstart reports it on line 0, without the including line",
)];

/// Package selections that may differ: (file substring, reason).
const PACKAGE_DIFFERENCES: &[(&str, &str)] = &[];

fn python() -> String {
    std::env::var("IMG_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_pykickstart(paths: &[PathBuf]) -> Vec<PyEntry> {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pyks_dump.py");
    let python = python();
    let hint = "install pykickstart with `python3 -m venv /tmp/pyks && /tmp/pyks/bin/pip install pykickstart`, then run the tests with IMG_TEST_PYTHON=/tmp/pyks/bin/python";
    let out = Command::new(&python)
        .arg(&helper)
        .args(paths)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}; {hint}"));
    assert!(
        out.status.success(),
        "{python} {} failed ({}): {}\n{hint}",
        helper.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<PyEntry> = serde_json::from_slice(&out.stdout).expect("helper prints JSON");
    assert_eq!(entries.len(), paths.len());
    entries
}

/// Our command on `line` (top file first, else any included file).
fn command_at<'k>(ours: &'k Parsed, top: &str, line: u32) -> Option<&'k kickstarter::ks::Command> {
    let cmds = &ours.kickstart.commands;
    cmds.iter()
        .find(|c| c.line == line && c.file == top)
        .or_else(|| cmds.iter().find(|c| c.line == line))
}

fn our_error_at(ours: &Parsed, line: u32) -> bool {
    ours.errors().any(|d| d.line == line)
}

/// The words of `args` that are options from `allowed` (with their values).
fn mic_words(args: &[String], allowed: &[(&str, bool)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let word = &args[i];
        let name = word
            .trim_start_matches('-')
            .split('=')
            .next()
            .unwrap_or_default();
        let exact = allowed.iter().find(|(n, _)| *n == name);
        let prefixed: Vec<_> = allowed
            .iter()
            .filter(|(n, _)| !name.is_empty() && n.starts_with(name))
            .collect();
        let hit = exact
            .or((prefixed.len() == 1).then(|| prefixed[0]))
            .filter(|_| word.starts_with("--"));
        if let Some(&(_, takes_value)) = hit {
            out.push(word.clone());
            if takes_value && !word.contains('=') && i + 1 < args.len() {
                i += 1;
                out.push(args[i].clone());
            }
        }
        i += 1;
    }
    out
}

fn check_passes(check: &Check, e: &PyError, ours: &Parsed, top: &str) -> bool {
    let line = e.line.unwrap_or(0);
    let clean = |cmd: &str| {
        command_at(ours, top, line).is_some_and(|c| c.name == cmd) && !our_error_at(ours, line)
    };
    match check {
        Check::MicOptions(cmd, allowed) => {
            let Some(tail) = e.message.strip_prefix("unrecognized arguments: ") else {
                return false;
            };
            clean(cmd)
                && command_at(ours, top, line)
                    .is_some_and(|c| mic_words(&c.args, allowed).join(" ") == tail)
        }
        Check::ListedOptions(cmd, allowed) => {
            let Some((_, list)) = e.message.split_once(": [") else {
                return false;
            };
            let items: Vec<String> = list
                .trim_end_matches(']')
                .split("', '")
                .map(|s| s.trim_matches('\'').to_string())
                .collect();
            let names_ok = mic_words(&items, allowed) == items;
            let our_cmd = command_at(ours, top, line).map(|c| c.name.as_str());
            names_ok
                && (our_cmd == Some(cmd) || (*cmd == "part" && our_cmd == Some("partition")))
                && !our_error_at(ours, line)
        }
        Check::AcceptedCommand(cmd) => clean(cmd),
        Check::PackagesDoubleDash => {
            let text = std::fs::read_to_string(top).unwrap_or_default();
            text.lines()
                .nth(line as usize - 1)
                .is_some_and(|l| l.split_whitespace().eq(["%packages", "--"]))
                && !our_error_at(ours, line)
        }
        Check::MicSection => {
            let Some(section) = e.message.strip_prefix("Unknown kickstart section: ") else {
                return false;
            };
            let text = std::fs::read_to_string(top).unwrap_or_default();
            ["%attachment", "%prepackages", "%pack"].contains(&section)
                && text
                    .lines()
                    .nth(line as usize - 1)
                    .is_some_and(|l| l.split_whitespace().next() == Some(section))
                && !our_error_at(ours, line)
        }
    }
}

/// True when an include error of ours names a file that really is missing.
fn missing_include(message: &str) -> bool {
    let path = message
        .split(": cannot read ")
        .nth(1)
        .and_then(|r| r.split(": ").next());
    path.is_some_and(|p| !Path::new(p).exists())
}

/// Every configuration of the example template, and the minimal one with an overlay.
fn render_example() -> Vec<(String, String)> {
    use kickstarter::{Options, example, generate, overlay::Overlay};
    let repos = example::repositories().expect("example repositories");
    let files = example::files().expect("example files");
    let mut out = Vec::new();
    let plain = generate(
        &example::template().expect("example"),
        &repos,
        &files,
        &Options::default(),
    )
    .expect("example renders");
    for o in plain.outputs {
        out.push((o.path.replace('/', "_"), o.contents));
    }
    let mut template = example::template().expect("example");
    Overlay::parse("gcc,@Development Tools,-vim-minimal")
        .expect("overlay")
        .apply(&mut template, "MINIMAL", &[])
        .expect("MINIMAL exists");
    let overlaid = generate(&template, &repos, &files, &Options::default()).expect("renders");
    out.push((
        "overlaid-minimal.ks".to_owned(),
        overlaid.outputs[0].contents.clone(),
    ));
    out
}

fn sorted(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

#[test]
fn pykickstart_agrees_or_the_difference_is_explained() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let staged = Staged::new(&reference);
    let mut paths: Vec<(String, PathBuf)> = staged
        .files
        .iter()
        .map(|(rel, p)| (format!("kickstart-files/{rel}"), p.clone()))
        .collect();
    for p in kickstarter_outputs(&reference) {
        let rel = p
            .strip_prefix(&reference)
            .expect("under reference")
            .to_string_lossy()
            .into_owned();
        paths.push((rel, p));
    }
    // Kickstarts this crate renders that are not in the corpus: the example template, as
    // written and with an overlay (the corpus outputs are covered above, and the
    // conformance test proves ours are byte-identical to them).
    let rendered = tempfile::tempdir().expect("scratch directory");
    for (name, ks) in render_example() {
        let path = rendered.path().join(&name);
        std::fs::write(&path, ks).expect("write rendered kickstart");
        paths.push((format!("rendered/{name}"), path));
    }
    let entries = run_pykickstart(&paths.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>());
    let limits = Limits::default();
    let mut failures = Vec::new();
    let mut used_rows = std::collections::BTreeMap::<usize, usize>::new();
    let mut verdicts = Vec::new();
    for ((rel, path), py) in paths.iter().zip(&entries) {
        assert_eq!(Path::new(&py.path), path.as_path());
        let top = path.to_string_lossy().into_owned();
        let bytes = std::fs::read(path).expect("readable");
        let ours = parse(&bytes, &top, &DirIncludes::new(&limits), &limits);

        // Every pykickstart error: also ours on that line, or explained.
        let py_errors = py.lenient_errors.iter().chain(py.error.as_ref());
        for e in py_errors {
            let line = e.line.unwrap_or(0);
            if line > 0 && our_error_at(&ours, line) {
                continue;
            }
            let row = PYKICKSTART_ONLY
                .iter()
                .position(|(file, prefix, check, _)| {
                    rel.contains(file)
                        && e.message.starts_with(prefix)
                        && check_passes(check, e, &ours, &top)
                });
            match row {
                Some(r) => *used_rows.entry(r).or_default() += 1,
                None => failures.push(format!(
                    "{rel}:{line}: unexplained pykickstart error: {}",
                    e.message
                )),
            }
        }
        // Every error of ours: also pykickstart's on that line, or explained.
        for d in ours.errors() {
            let py_has = py
                .lenient_errors
                .iter()
                .chain(py.error.as_ref())
                .any(|e| e.line == Some(d.line));
            let explained = OURS_ONLY
                .iter()
                .any(|(file, prefix, _)| rel.contains(file) && d.message.starts_with(prefix))
                && missing_include(&d.message)
                && py.verdict == "rejected";
            if !py_has && !explained {
                failures.push(format!("{rel}: unexplained error of ours: {d}"));
            }
        }
        // Package selections.
        let k = &ours.kickstart.packages;
        let ours_sets = (
            sorted(&k.packages),
            k.groups
                .iter()
                .map(|g| g.name.clone())
                .collect::<BTreeSet<_>>(),
            sorted(&k.excluded_packages),
            sorted(&k.excluded_groups),
            k.environment.clone(),
        );
        let py_sets = (
            sorted(&py.packages),
            sorted(&py.groups),
            sorted(&py.excluded_packages),
            sorted(&py.excluded_groups),
            py.environment.clone(),
        );
        if ours_sets != py_sets
            && !PACKAGE_DIFFERENCES
                .iter()
                .any(|(file, _)| rel.contains(file))
        {
            failures.push(format!("{rel}: package selection differs (pykickstart complete: {}):\n  ours {ours_sets:?}\n  pyks {py_sets:?}", py.lenient_complete));
        }
        let our_verdict = if ours.has_errors() {
            "rejected"
        } else {
            "accepted"
        };
        let accepted_by = py
            .accepted_by
            .as_deref()
            .map(|v| format!(" (accepted by {v})"))
            .unwrap_or_default();
        verdicts.push(format!(
            "{rel}: ours {our_verdict}, pykickstart {}{accepted_by}",
            py.verdict
        ));
    }
    eprintln!("verdicts:\n{}", verdicts.join("\n"));
    for (row, count) in &used_rows {
        eprintln!(
            "explained {count:>3} pykickstart errors: {}",
            PYKICKSTART_ONLY[*row].3
        );
    }
    let unused: Vec<&str> = PYKICKSTART_ONLY
        .iter()
        .enumerate()
        .filter(|(i, _)| !used_rows.contains_key(i))
        .map(|(_, r)| r.3)
        .collect();
    assert!(
        failures.is_empty(),
        "{} unexplained differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        unused.is_empty(),
        "explanations that no longer match anything (remove them): {unused:?}"
    );
}
