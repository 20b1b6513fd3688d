//! Jobs on this machine: `vm-runner build` makes a job description from a kickstart or a
//! kickstarter template (the same checks the operator makes), and `guest-kickstarter` renders
//! a template job's kickstart inside the VM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use img_crd::ImageType;
use img_crd::runner::{JOB_DESCRIPTION_VERSION, JobDescription, TemplateInput};
use kickstarter::Dialect;
use kickstarter::ks::{Limits, NoIncludes, parse};
use kickstarter::platform::{PlatformRequest, TemplateText, render_platform};

use crate::run::{RunPaths, is_plain_name};

/// Largest template companion file read, and most files.
const MAX_FILE: u64 = 4 << 20;
const MAX_FILES: usize = 1000;

/// What to build here.
#[derive(Debug, Clone, Args)]
pub struct LocalJob {
    /// The kickstart to build.
    #[arg(long, conflicts_with_all = ["example", "configs"])]
    pub kickstart: Option<PathBuf>,

    /// Build from the example template compiled into kickstarter.
    #[arg(long, conflicts_with = "configs", requires = "platform")]
    pub example: bool,

    /// A kickstarter configurations file (companion files under `custom/` beside it).
    #[arg(long, requires_all = ["repos", "platform"])]
    pub configs: Option<PathBuf>,

    /// The repositories file of `--configs`.
    #[arg(long)]
    pub repos: Option<PathBuf>,

    /// The template's platform section to build.
    #[arg(long)]
    pub platform: Option<String>,

    /// An IMG overlay: packages, @groups and -removals, comma-separated.
    #[arg(long, default_value = "")]
    pub overlay: String,

    /// The configuration to render (FileName or Name), when the platform has several.
    #[arg(long)]
    pub configuration: Option<String>,

    /// The kickstarter dialect of the template (default meego-0.12).
    #[arg(long)]
    pub dialect: Option<String>,

    /// Repositories appended to the overlaid platform (repeatable).
    #[arg(long = "add-repo")]
    pub add_repo: Vec<String>,

    /// The image type (default: the kickstart's magic line).
    #[arg(long = "type")]
    pub image_type: Option<String>,

    /// The image name (default: the kickstart's or configuration's file name).
    #[arg(long)]
    pub name: Option<String>,

    /// Where the image, its log and result go.
    #[arg(long, default_value = "img-out")]
    pub out: PathBuf,

    /// The directory with the base disk (`vm-runner/base-disk/build` makes one).
    #[arg(long, env = "IMG_BASE_DIR")]
    pub base_dir: PathBuf,

    /// The base disk's file name.
    #[arg(long, default_value = "base.qcow2")]
    pub base_disk: String,

    /// The build's time limit in seconds.
    #[arg(long, default_value_t = 7200)]
    pub timeout_seconds: u64,

    /// Virtual CPUs.
    #[arg(long, default_value_t = 2)]
    pub cpus: u32,

    /// Memory of the VM in MiB.
    #[arg(long, default_value_t = 2048)]
    pub memory_mib: u32,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Companion files under `dir/custom`, by path relative to `dir`.
fn companion_files(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.join("custom")];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                if files.len() == MAX_FILES {
                    return Err(format!("more than {MAX_FILES} files under {}", d.display()));
                }
                if entry.metadata().map(|m| m.len()).unwrap_or(0) > MAX_FILE {
                    return Err(format!(
                        "{} is larger than {MAX_FILE} bytes",
                        path.display()
                    ));
                }
                if let (Ok(rel), Ok(text)) =
                    (path.strip_prefix(dir), std::fs::read_to_string(&path))
                {
                    files.insert(rel.to_string_lossy().into_owned(), text);
                }
            }
        }
    }
    Ok(files)
}

/// The kickstart's problems as one message, or its image type from the magic line.
fn check_kickstart(text: &str, file: &str) -> Result<Option<String>, String> {
    let parsed = parse(text.as_bytes(), file, &NoIncludes, &Limits::default());
    if parsed.has_errors() {
        let errors: Vec<String> = parsed.errors().take(5).map(ToString::to_string).collect();
        return Err(errors.join("; "));
    }
    Ok(parsed.kickstart.image_type().map(str::to_owned))
}

/// The job description and paths for a local build.
pub fn local_job(job: &LocalJob) -> Result<(JobDescription, RunPaths), String> {
    let (kickstart, default_name, template) = match (&job.kickstart, job.example, &job.configs) {
        (Some(path), _, _) => {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (read(path)?, name, None)
        }
        (None, true, _) | (None, false, Some(_)) => {
            let input = template_input(job)?;
            let dialect: Dialect = input.dialect.parse().map_err(|e| format!("{e}"))?;
            let rendered = render_platform(
                TemplateText {
                    configurations: &input.configurations,
                    repositories: &input.repositories,
                    files: &input.files,
                },
                PlatformRequest {
                    platform: &input.platform,
                    overlay: input.overlay.as_deref().unwrap_or_default(),
                    configuration: job.configuration.as_deref(),
                    dialect,
                    overlay_repos: &input.overlay_repos,
                },
            )
            .map_err(|e| format!("template: {e}"))?;
            for w in &rendered.warnings {
                eprintln!("{w}");
            }
            let input = TemplateInput {
                configuration: rendered.configuration.clone(),
                ..input
            };
            (rendered.kickstart, rendered.configuration, Some(input))
        }
        (None, false, None) => {
            return Err("give --kickstart FILE, --example or --configs/--repos".to_owned());
        }
    };
    let magic_type = check_kickstart(&kickstart, &default_name)?;
    let type_name = job
        .image_type
        .clone()
        .or(magic_type)
        .ok_or("no --type given and the kickstart's magic line names no format")?;
    let image_type: ImageType = type_name.parse().map_err(|e| format!("{e}"))?;
    let name = job.name.clone().unwrap_or(default_name);
    if !is_plain_name(&name) {
        return Err(format!(
            "image name {name:?}: use letters, digits, '-', '_' and '.' (give --name)"
        ));
    }
    std::fs::create_dir_all(&job.out).map_err(|e| format!("{}: {e}", job.out.display()))?;
    let description = JobDescription {
        version: JOB_DESCRIPTION_VERSION,
        namespace: "local".to_owned(),
        name: name.clone(),
        uid: format!("local-{}", std::process::id()),
        legacy_id: name,
        image_type,
        kickstart,
        template,
        base_disk: job.base_disk.clone(),
        output_dir: ".".to_owned(),
        timeout_seconds: job.timeout_seconds,
        cpus: job.cpus,
        memory_mib: job.memory_mib,
    };
    let paths = RunPaths {
        images: job.out.clone(),
        base: job.base_dir.clone(),
        termination_log: None,
        remote: None,
    };
    Ok((description, paths))
}

fn template_input(job: &LocalJob) -> Result<TemplateInput, String> {
    let platform = job
        .platform
        .clone()
        .ok_or("--platform is required for a template")?;
    let (configurations, repositories, files, default_dialect) = if job.example {
        (
            kickstarter::example::CONFIGURATIONS.to_owned(),
            kickstarter::example::REPOS.to_owned(),
            kickstarter::example::FILES
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
            kickstarter::example::DIALECT,
        )
    } else {
        let configs = job.configs.as_deref().ok_or("--configs is required")?;
        let repos = job.repos.as_deref().ok_or("--repos is required")?;
        let dir = configs.parent().unwrap_or(Path::new("."));
        (
            read(configs)?,
            read(repos)?,
            companion_files(dir)?,
            Dialect::default(),
        )
    };
    let dialect = match &job.dialect {
        Some(d) => d.parse::<Dialect>().map_err(|e| e.to_string())?,
        None => default_dialect,
    };
    Ok(TemplateInput {
        configurations,
        repositories,
        files,
        platform,
        overlay: (!job.overlay.is_empty()).then(|| job.overlay.clone()),
        configuration: job.configuration.clone().unwrap_or_default(),
        dialect: dialect.name().to_owned(),
        overlay_repos: job.add_repo.clone(),
    })
}

/// Renders the template job in `input` (JSON) into `output`; the warnings, or the error.
pub fn guest_kickstarter(input: &Path, output: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let job: TemplateInput =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", input.display()))?;
    let dialect: Dialect = job.dialect.parse().map_err(|e| format!("{e}"))?;
    let rendered = render_platform(
        TemplateText {
            configurations: &job.configurations,
            repositories: &job.repositories,
            files: &job.files,
        },
        PlatformRequest {
            platform: &job.platform,
            overlay: job.overlay.as_deref().unwrap_or_default(),
            configuration: (!job.configuration.is_empty()).then_some(job.configuration.as_str()),
            dialect,
            overlay_repos: &job.overlay_repos,
        },
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(output, &rendered.kickstart)
        .map_err(|e| format!("{}: {e}", output.display()))?;
    let mut lines = rendered.warnings;
    lines.push(format!(
        "kickstarter rendered {} ({} bytes)",
        rendered.configuration,
        rendered.kickstart.len()
    ));
    Ok(lines)
}
