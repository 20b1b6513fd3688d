//! The kickstarter corpus sets, preloaded into memory for the rendering benchmark: each set's
//! files laid out virtually as the conformance test lays them out on disk, so the timing covers
//! loading, merging and rendering, not disk I/O.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use kickstarter::{Dialect, Files, Options, Repository, Template, generate, load_repositories};

/// A file tree in memory, read relative to a working directory (`..` resolved lexically).
#[derive(Default)]
pub(crate) struct TreeFiles {
    files: BTreeMap<PathBuf, Vec<u8>>,
    cwd: PathBuf,
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

impl TreeFiles {
    fn add_tree(&mut self, virtual_dir: &str, real: &Path) {
        for entry in std::fs::read_dir(real).expect("corpus directory") {
            let entry = entry.expect("corpus entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let target = format!("{virtual_dir}/{name}");
            if entry.path().is_dir() {
                self.add_tree(&target, &entry.path());
            } else {
                self.add_file(&target, &entry.path());
            }
        }
    }

    fn add_file(&mut self, virtual_path: &str, real: &Path) {
        let bytes = std::fs::read(real).expect("corpus file");
        self.files.insert(normalize(Path::new(virtual_path)), bytes);
    }

    fn resolve(&self, path: &str) -> PathBuf {
        normalize(&self.cwd.join(path))
    }
}

impl Files for TreeFiles {
    fn read(&self, path: &str) -> kickstarter::Result<Option<Vec<u8>>> {
        Ok(self.files.get(&self.resolve(path)).cloned())
    }

    fn list(&self, dir: &str) -> kickstarter::Result<Option<Vec<String>>> {
        let dir = self.resolve(dir);
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&dir).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        names.dedup();
        Ok((!names.is_empty()).then_some(names))
    }
}

/// One run of the tool: a template, its repositories and files, and the options.
pub(crate) struct RenderJob {
    pub(crate) name: String,
    pub(crate) template: Vec<u8>,
    pub(crate) repos: Vec<Repository>,
    pub(crate) files: TreeFiles,
    pub(crate) options: Options,
}

impl RenderJob {
    /// Parses the template and generates every configuration; returns how many kickstarts.
    pub(crate) fn run(&self) -> usize {
        let template = Template::parse(&self.template, &self.name).expect("corpus template");
        generate(&template, &self.repos, &self.files, &self.options)
            .expect("corpus set renders")
            .outputs
            .len()
    }
}

fn job(
    set: &Path,
    dialect: Dialect,
    cwd: &str,
    configs: &str,
    repos: Option<&str>,
    files: TreeFiles,
    external: &[&str],
) -> RenderJob {
    let mut files = files;
    files.cwd = PathBuf::from(cwd);
    let template = files
        .read(configs)
        .ok()
        .flatten()
        .expect("configurations file");
    let repos = match repos {
        Some(r) => {
            let bytes = files.read(r).ok().flatten().expect("repos file");
            load_repositories(&bytes, r, &Default::default()).expect("corpus repos")
        }
        None => Vec::new(),
    };
    RenderJob {
        name: format!("{}:{configs}", set.display()),
        template,
        repos,
        files,
        options: Options {
            dialect,
            index: !dialect.is_mer(),
            external_dirs: external.iter().map(|s| (*s).to_owned()).collect(),
            ..Options::default()
        },
    }
}

/// Every kickstarter corpus set as in-memory render jobs (the conformance test's command
/// lines).
pub(crate) fn render_jobs(reference: &Path) -> Vec<RenderJob> {
    let corpus = reference.join("kickstarter-corpus");
    let flat = |set: &str| {
        let mut t = TreeFiles::default();
        t.add_tree("", &corpus.join(set).join("input"));
        t
    };
    let g3 = corpus.join("generated/G3-mer-kickstarter-0.20-mer-reference/input");
    let mer = |t: &mut TreeFiles| {
        for f in [
            "00base.yaml",
            "arch-armv7hl.post",
            "arch-armv7tnhl.post",
            "prelink.post",
            "rpm-rebuilddb.post",
        ] {
            t.add_file(&format!("mer/{f}"), &g3.join(f));
        }
    };
    let mut g3_files = TreeFiles::default();
    mer(&mut g3_files);
    for f in ["00reference.yaml", "qmlviewer-session.post"] {
        g3_files.add_file(&format!("ref/{f}"), &g3.join(f));
    }
    let mut g4_files = TreeFiles::default();
    mer(&mut g4_files);
    g4_files.add_tree(
        "input",
        &corpus.join("generated/G4-mer-kickstarter-0.20-nemo-configs/input"),
    );
    let p = |s: &str| corpus.join(s);
    vec![
        job(
            &p("pairs/P1"),
            Dialect::Meego07,
            "",
            "configurations.yaml",
            Some("repos.yaml"),
            flat("pairs/P1-meego-platform-style-2011-03"),
            &[],
        ),
        job(
            &p("pairs/P2"),
            Dialect::Meego08,
            "",
            "configurations.yaml",
            Some("repos.yaml"),
            flat("pairs/P2-meego-externalconfigs-2011-04"),
            &[],
        ),
        job(
            &p("pairs/P3"),
            Dialect::Sages2011,
            "",
            "configs/MeeGo/configurations.yaml",
            Some("configs/MeeGo/repos.yaml"),
            flat("pairs/P3-mixed-platform-and-inherit-2011-11"),
            &[],
        ),
        job(
            &p("pairs/P3"),
            Dialect::Sages2011,
            "",
            "configs/Nemo/configurations.yaml",
            Some("configs/Nemo/repos.yaml"),
            flat("pairs/P3-mixed-platform-and-inherit-2011-11"),
            &[],
        ),
        job(
            &p("pairs/P4"),
            Dialect::Sages2012,
            "",
            "configs/Nemo/configurations.yaml",
            Some("configs/Nemo/repos.yaml"),
            flat("pairs/P4-nemo-inherit-repositoryoptions-2012-03"),
            &[],
        ),
        job(
            &p("pairs/P5"),
            Dialect::Meego012,
            "",
            "moui-config.yaml",
            Some("repos.yaml"),
            flat("pairs/P5-moui-user-config-kickstarter-0.12-2011-07"),
            &[],
        ),
        job(
            &p("generated/G2"),
            Dialect::Tizen015,
            "",
            "configurations.yaml",
            Some("repos.yaml"),
            flat("generated/G2-tizen-kickstarter-0.15-tizen_2.0-configs"),
            &[],
        ),
        job(
            &p("generated/G3"),
            Dialect::Mer020,
            "ref",
            "00reference.yaml",
            None,
            g3_files,
            &["../mer"],
        ),
        job(
            &p("generated/G4"),
            Dialect::Mer020,
            "input",
            "repos.yaml",
            None,
            g4_files,
            &["../mer"],
        ),
        {
            // G1 names an empty `ex` directory as ExternalConfigs; it has no files, so give it
            // the run without external configurations by listing nothing in it.
            let mut files = flat("generated/G1-meego-kickstarter-0.12-demo");
            files.files.insert(PathBuf::from("ex/.keep"), Vec::new());
            job(
                &p("generated/G1"),
                Dialect::Meego012,
                "",
                "configurations.yaml",
                Some("repos.yaml"),
                files,
                &[],
            )
        },
    ]
}
