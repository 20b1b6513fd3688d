//! Any text as an overlay: it either is refused, or every item ends up as exactly one
//! `%packages` line of the rendered kickstart and nothing else changes: no overlay can add a
//! section, a command or a second line.
#![no_main]

use kickstarter::overlay::Overlay;
use kickstarter::{MemFiles, Options, Template, generate, load_repositories};
use libfuzzer_sys::fuzz_target;

const TEMPLATE: &str = "Default: {Active: True, Language: C, Keyboard: us, Timezone: UTC, RootPass: r, DefaultUser: u, DefaultUserPass: p, PartSize: 1, FileSystem: ext4, SaveRepos: False}\nP: {Groups: [Base]}\nConfigurations:\n  - {Name: c, FileName: c, Platform: P}\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(overlay) = Overlay::parse(text) else {
        return;
    };
    let mut template = Template::parse(TEMPLATE.as_bytes(), "t.yaml").expect("fixed template");
    overlay.apply(&mut template, "P", &[]).expect("P exists");
    let repos = load_repositories(b"Repositories: []", "r.yaml", &Default::default())
        .expect("fixed repositories");
    let run = generate(&template, &repos, &MemFiles::new(), &Options::default())
        .expect("an accepted overlay always renders");
    let ks = &run.outputs[0].contents;
    let baseline = {
        let t = Template::parse(TEMPLATE.as_bytes(), "t.yaml").expect("fixed template");
        generate(&t, &repos, &MemFiles::new(), &Options::default())
            .expect("renders")
            .outputs[0]
            .contents
            .clone()
    };
    let added = ks.lines().count() - baseline.lines().count();
    // `Base` is already listed by the platform, so it is not added twice.
    let new_groups = overlay.groups.iter().filter(|g| *g != "Base").count();
    assert_eq!(added, new_groups + overlay.packages.len());
    for g in &overlay.groups {
        assert!(ks.lines().any(|l| l == format!("@{g}")));
    }
    for p in &overlay.packages {
        assert!(ks.lines().any(|l| l == p));
        assert!(!p.starts_with('%') && !p.contains('\n'));
    }
});
