//! The example template compiled into the crate (`kickstarter/templates/example`): the default
//! template of the web form and of `kickstarter --example`, so a fresh installation can build
//! an image without any template of its own.

use crate::config::{Repository, Template, load_repositories};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::files::MemFiles;

/// The dialect the example template is written for.
pub const DIALECT: Dialect = Dialect::Meego012;

/// `configurations.yaml` of the example.
pub const CONFIGURATIONS: &str = include_str!("../templates/example/configurations.yaml");
/// `repos.yaml` of the example.
pub const REPOS: &str = include_str!("../templates/example/repos.yaml");
/// The companion files of the example, by relative path.
pub const FILES: &[(&str, &str)] = &[
    (
        "custom/scripts/cleanup.post",
        include_str!("../templates/example/custom/scripts/cleanup.post"),
    ),
    (
        "custom/scripts/announce.post",
        include_str!("../templates/example/custom/scripts/announce.post"),
    ),
    (
        "custom/scripts/buildname.nochroot",
        include_str!("../templates/example/custom/scripts/buildname.nochroot"),
    ),
];

/// The example's configurations file.
pub fn template() -> Result<Template> {
    Template::parse(CONFIGURATIONS.as_bytes(), "example/configurations.yaml")
}

/// The example's repositories.
pub fn repositories() -> Result<Vec<Repository>> {
    load_repositories(REPOS.as_bytes(), "example/repos.yaml", &Default::default())
}

/// The example's companion files.
pub fn files() -> Result<MemFiles> {
    let mut files = MemFiles::new();
    for (path, contents) in FILES {
        files.insert(path, *contents)?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Options, generate};

    #[test]
    fn the_example_renders_every_configuration() {
        let template = template().unwrap();
        assert_eq!(template.platforms(), ["MINIMAL", "DEVELOPER"]);
        let run = generate(
            &template,
            &repositories().unwrap(),
            &files().unwrap(),
            &Options::default(),
        )
        .unwrap();
        let paths: Vec<_> = run.outputs.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(
            paths,
            ["1.0/img-example-minimal.ks", "1.0/img-example-developer.ks"]
        );
        let ks = &run.outputs[0].contents;
        assert!(ks.starts_with("# -*-mic2-options-*- -f raw --arch=x86_64 -*-mic2-options-*-\n"));
        assert!(ks.contains(
            "repo --name=base --baseurl=http://deb.debian.org/debian/dists/bookworm/ \n"
        ));
        assert!(ks.contains("%post\n# Keep the image small"));
        assert!(ks.contains("systemctl enable img-announce.service\n"));
        assert!(ks.contains("\nkernel-virtual\n"));
        assert!(
            run.notes
                .iter()
                .all(|n| !matches!(n, crate::Note::Warning(_)))
        );
    }
}
