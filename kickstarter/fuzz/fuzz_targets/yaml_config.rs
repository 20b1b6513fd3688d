//! Any bytes as a configurations file: loading and generating in every dialect must end in a
//! value or an error, never a panic, and never name an output outside the output directory.
#![no_main]

use kickstarter::{Dialect, MemFiles, Options, Template, generate, load_repositories};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = Template::parse(data, "fuzz.yaml") else {
        return;
    };
    let _ = template.platforms();
    let repos = load_repositories(
        b"Repositories: [{Name: core, Url: 'http://r/@ARCH@/@RELEASE@/'}, {Name: adobe, Url: x, Options: --save}]",
        "repos.yaml",
        &Default::default(),
    )
    .expect("fixed repositories load");
    let mut files = MemFiles::new();
    files
        .insert("custom/scripts/a.post", "echo a\n")
        .expect("fixed path");
    files
        .insert("custom/part/p", "part / --size 1\n")
        .expect("fixed path");
    files
        .insert("ext/e.yaml", "Name: e\nPlatform: P\nFileName: e\n")
        .expect("fixed path");
    for dialect in Dialect::ALL {
        let options = Options {
            dialect,
            index: true,
            ..Options::default()
        };
        if let Ok(run) = generate(&template, &repos, &files, &options) {
            for out in &run.outputs {
                assert!(!out.path.starts_with('/') && !out.path.split('/').any(|c| c == ".."));
            }
        }
    }
});
