//! The quirks of QUIRKS.md that the corpus outputs do not pin byte for byte, each checked on
//! a minimal template against what the original template printed.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod support;

use kickstarter::{Dialect, MemFiles, Options, Template, generate, load_repositories};
use support::reference_dir;

const DEFAULT: &str = "Default:\n    Active: True\n    Language: C\n    Keyboard: us\n    Timezone: UTC\n    RootPass: r\n    DefaultUser: u\n    DefaultUserPass: p\n    PartSize: 10\n    FileSystem: ext4\n    SaveRepos: False\n";

/// Renders `platform` (a YAML mapping body) as the only configuration in `dialect`.
fn render(dialect: Dialect, platform: &str) -> String {
    let doc = format!(
        "{DEFAULT}P:\n{platform}\nConfigurations:\n    - {{Name: c, FileName: c, Platform: P}}\n"
    );
    let template = Template::parse(doc.as_bytes(), "q.yaml").unwrap();
    let repos = load_repositories(b"Repositories: []", "r.yaml", &Default::default()).unwrap();
    let options = Options {
        dialect,
        ..Options::default()
    };
    let run = generate(&template, &repos, &MemFiles::new(), &options).unwrap();
    run.outputs[0].contents.clone()
}

#[test]
fn start_x_false_still_starts_x() {
    assert!(render(Dialect::Meego012, "    StartX: False").contains("\nxconfig --startxonboot\n"));
    assert!(!render(Dialect::Meego012, "    Kernel: k").contains("xconfig"));
}

#[test]
fn desktop_null_prints_an_empty_default_desktop_and_the_string_none_prints_none() {
    let ks = render(Dialect::Meego012, "    Desktop:");
    assert!(
        ks.contains("\ndesktop --autologinuser=u  --defaultdesktop= \n"),
        "{ks}"
    );
    let ks = render(Dialect::Meego012, "    Desktop: None");
    assert!(ks.contains("\ndesktop --autologinuser=u  \n"), "{ks}");
}

#[test]
fn null_lists_and_null_scalars_follow_the_key_existence_rules() {
    // `NoChrootScripts:` at the end of a section (tizen3 RD-PQ.yaml): an empty list.
    let ks = render(Dialect::Tizen015, "    NoChrootScripts:");
    assert!(ks.ends_with("%post --nochroot\n\n%end\n"), "{ks}");
    // `PackageArgs:` exists with no value: `%packages --`.
    assert!(render(Dialect::Meego012, "    PackageArgs:").contains("\n%packages --\n"));
    // Null bootloader pieces print empty values.
    let ks = render(
        Dialect::Meego012,
        "    BootloaderTimeout:\n    BootloaderAppend:",
    );
    assert!(
        ks.contains("\nbootloader  --timeout=  --append=\"\" \n"),
        "{ks}"
    );
}

#[test]
fn yaml_11_types_print_as_python_printed_them() {
    // `yes` is a boolean and `010` an octal integer in PyYAML's YAML 1.1.
    let ks = render(
        Dialect::Meego012,
        "    Kernel: yes\n    ExtraPackages: [010, 1.50, off]",
    );
    assert!(ks.contains("\nTrue\n\n8\n1.5\nFalse\n%end"), "{ks}");
}

#[test]
fn the_later_tizen_inputs_load_and_list_their_platforms() {
    // configs/tizen3-* were written for a newer kickstarter whose source is lost; they must
    // at least load (duplicate keys, `NoChrootScripts:` at EOF) and offer their platforms.
    let Some(reference) = reference_dir() else {
        return;
    };
    let configs = reference.join("kickstarter-corpus/configs");
    for (file, platforms) in [
        ("tizen3-meta-ivi/ivi.yaml", 2),
        ("tizen3-meta-mobile/mobile.yaml", 1),
    ] {
        let bytes = std::fs::read(configs.join(file)).unwrap();
        let t = Template::parse(&bytes, file).unwrap();
        assert!(
            t.platforms().len() >= platforms,
            "{file}: {:?}",
            t.platforms()
        );
    }
    for entry in std::fs::read_dir(configs.join("tizen3-meta-mobile/ks")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        kickstarter::yaml::load(&bytes, &path.display().to_string(), &Default::default()).unwrap();
    }
}
