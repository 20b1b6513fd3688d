//! IMG overlays against the 2010 design: its NETBOOK template (which has `PostScripts` twice)
//! with `gcc,@MeeGo Netbook Desktop,-google-chrome` must give the design's result. Both YAML
//! blocks are read from the design text at test time.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod support;

use std::process::Command;

use kickstarter::overlay::{Overlay, OverlayError};
use kickstarter::yaml::{Value, py_eq};
use kickstarter::{MemFiles, Options, Template, generate, load_repositories};
use support::{kickstarter_bin, reference_dir};

const OVERLAY: &str = "gcc,@MeeGo Netbook Desktop,-google-chrome";

/// The YAML block that follows `marker` in the design text (up to the next unindented,
/// non-YAML line).
fn design_block(design: &str, marker: &str) -> String {
    let start = design.find(marker).unwrap() + marker.len();
    let mut block = String::new();
    let mut started = false;
    for line in design[start..].lines() {
        if line.starts_with("NETBOOK:") {
            started = true;
        } else if started && !line.is_empty() && !line.starts_with(' ') {
            break;
        }
        if started {
            block.push_str(line);
            block.push('\n');
        }
    }
    block
}

fn seed() -> Option<(Template, Template)> {
    let reference = reference_dir()?;
    let design = std::fs::read_to_string(reference.join("img-design-2010.txt")).unwrap();
    let template = design_block(
        &design,
        "When applying the overlay to a template like this:",
    );
    let result = design_block(&design, "It becomes:");
    assert!(template.lines().count() > 20 && result.lines().count() > 20);
    Some((
        Template::parse(template.as_bytes(), "design:template").unwrap(),
        Template::parse(result.as_bytes(), "design:result").unwrap(),
    ))
}

fn netbook(t: &Template) -> Value {
    Value::Map(t.section("NETBOOK").unwrap().clone())
}

#[test]
fn the_design_example_gives_the_design_result() {
    let Some((mut template, result)) = seed() else {
        return;
    };
    // Both have PostScripts twice; PyYAML (and this loader) keep the last list.
    for t in [&template, &result] {
        let ps = t.section("NETBOOK").unwrap().get("PostScripts").unwrap();
        assert_eq!(ps.as_seq().unwrap().len(), 1);
        assert_eq!(ps.as_seq().unwrap()[0].as_str(), Some("prelink"));
    }
    let overlay = Overlay::parse(OVERLAY).unwrap();
    // The design's result also lists an `internal` repository the overlay text does not
    // mention: a deployment's own repository, added with `--add-repo internal`.
    overlay
        .apply(&mut template, "NETBOOK", &["internal".to_owned()])
        .unwrap();
    assert!(
        py_eq(&netbook(&template), &netbook(&result)),
        "overlaid:\n{:#?}\nexpected:\n{:#?}",
        netbook(&template),
        netbook(&result)
    );
}

#[test]
fn without_the_site_repository_only_repos_differ() {
    let Some((mut template, result)) = seed() else {
        return;
    };
    Overlay::parse(OVERLAY)
        .unwrap()
        .apply(&mut template, "NETBOOK", &[])
        .unwrap();
    let got = template.section("NETBOOK").unwrap();
    let want = result.section("NETBOOK").unwrap();
    for (key, value) in want.iter() {
        let key = key.as_str().unwrap();
        let same = py_eq(&got.get(key).unwrap().value, &value.value);
        assert_eq!(same, key != "Repos", "{key}");
    }
    let groups: Vec<_> = got
        .get("Groups")
        .unwrap()
        .as_seq()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(groups.last(), Some(&"MeeGo Netbook Desktop"));
}

#[test]
fn overlaid_packages_reach_the_kickstart() {
    if seed().is_none() {
        return;
    }
    // Give the design's platform section a Default and a configuration so it renders.
    let mut doc = String::from(
        "Default: {Active: True, Language: en_US.UTF-8, Keyboard: us, Timezone: UTC, \
         RootPass: meego, DefaultUser: meego, DefaultUserPass: meego, FileSystem: ext3, \
         SaveRepos: False}\nConfigurations:\n  - {Name: Netbook, FileName: netbook, Platform: NETBOOK}\n",
    );
    let reference = reference_dir().unwrap();
    let design = std::fs::read_to_string(reference.join("img-design-2010.txt")).unwrap();
    doc.push_str(&design_block(
        &design,
        "When applying the overlay to a template like this:",
    ));
    let mut template = Template::parse(doc.as_bytes(), "netbook.yaml").unwrap();
    Overlay::parse(OVERLAY)
        .unwrap()
        .apply(&mut template, "NETBOOK", &[])
        .unwrap();
    let repos = load_repositories(
        b"Repositories: [{Name: meego-core-1.0, Url: 'http://repo/core/'}]",
        "repos.yaml",
        &Default::default(),
    )
    .unwrap();
    let run = generate(&template, &repos, &MemFiles::new(), &Options::default()).unwrap();
    let ks = &run.outputs[0].contents;
    let packages = ks
        .split("%packages")
        .nth(1)
        .unwrap()
        .split("%end")
        .next()
        .unwrap();
    for line in [
        "@MeeGo Netbook Desktop\n",
        "\ngcc\n",
        "\n-google-chrome\n",
        "\ngdb\n",
    ] {
        assert!(packages.contains(line), "{line:?} not in:\n{packages}");
    }
    assert!(ks.contains("repo --name=meego-core-1.0 --baseurl=http://repo/core/ \n"));
}

/// Runs the CLI in `cwd` on the 2010 template in `dir` with `args` after `-c`/`-r`.
fn run_2010(cwd: &std::path::Path, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(kickstarter_bin())
        .current_dir(cwd)
        .arg("-c")
        .arg(dir.join("configurations.yaml"))
        .arg("-r")
        .arg(dir.join("repos.yaml"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_applies_an_overlay_and_lists_platforms() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let dir = reference.join("kickstarter-corpus/configs/meego-kickstarter-2010-initial");
    let scratch = tempfile::tempdir().unwrap();
    let scripts = scratch.path().join("custom/scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    for name in ["rpm", "cleanup", "flash", "prelink"] {
        std::fs::write(scripts.join(format!("{name}.post")), format!("# {name}\n")).unwrap();
    }
    let out = Command::new(kickstarter_bin())
        .current_dir(scratch.path())
        .arg("-c")
        .arg(dir.join("configurations.yaml"))
        .arg("--list-platforms")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "CORE\nNETBOOK\n");

    // The 2010 template predates `FileSystem`: the 0.7 template (fixed ext3) renders it.
    let out = run_2010(
        scratch.path(),
        &dir,
        &[
            "--dialect",
            "meego-0.7",
            "--platform",
            "NETBOOK",
            "--overlay",
            OVERLAY,
            "-C",
            "netbook",
            "--add-repo",
            "meego-core-1.0",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Unquoted `Baseline: 1.0` is the float 1.0; the output directory is named after str().
    let ks = std::fs::read_to_string(scratch.path().join("1.0/netbook.ks")).unwrap();
    assert!(ks.contains("\n@MeeGo Netbook Desktop\n"));
    assert!(ks.contains("\ngcc\n-google-chrome\n%end\n"), "{ks}");
    // The first PostScripts list of NETBOOK (cleanup, flash) was lost to the second, as in
    // PyYAML; the 0.7 template separates script bodies with a blank line.
    assert!(
        ks.contains("%post\n# rpm\n\n\n# prelink\n\n\n\n%end"),
        "{ks}"
    );

    // A hostile overlay is refused before anything is written, naming the item.
    let out = run_2010(
        scratch.path(),
        &dir,
        &[
            "--platform",
            "NETBOOK",
            "--overlay",
            "gcc,vim;reboot",
            "-o",
            "hostile",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("overlay item 2 \"vim;reboot\": contains the shell metacharacter ';'"),
        "{stderr}"
    );
    assert!(!scratch.path().join("hostile").exists());
}

#[test]
fn an_unknown_platform_is_named_with_the_alternatives() {
    let mut t = Template::parse(b"Default: {}\nCORE: {}\nNETBOOK: {}\n", "c.yaml").unwrap();
    let e = Overlay::parse("gcc")
        .unwrap()
        .apply(&mut t, "IVI", &[])
        .unwrap_err();
    assert!(matches!(e, OverlayError::UnknownPlatform { .. }));
    assert_eq!(
        e.to_string(),
        "platform \"IVI\" is not a section of the template (available: CORE, NETBOOK)"
    );
    let mut t = Template::parse(b"NETBOOK: {Groups: Games}\n", "c.yaml").unwrap();
    let e = Overlay::parse("@X")
        .unwrap()
        .apply(&mut t, "NETBOOK", &[])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "platform \"NETBOOK\": Groups is a string, so the overlay cannot be appended to it"
    );
}
