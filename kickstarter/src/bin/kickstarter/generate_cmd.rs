//! Generation mode: `-c configurations.yaml -r repos.yaml [-o outdir]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use kickstarter::overlay::Overlay;
use kickstarter::{
    DirFiles, Files, Note, Options, Repository, Template, example, generate, load_repositories,
};

use crate::args::Args;

fn read(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if meta.len() > kickstarter::files::MAX_FILE_BYTES {
        bail!(
            "{}: file is {} bytes, more than the limit of {}",
            path.display(),
            meta.len(),
            kickstarter::files::MAX_FILE_BYTES
        );
    }
    std::fs::read(path).with_context(|| format!("{}", path.display()))
}

fn parse_url_variables(text: &str) -> Result<Vec<(String, String)>> {
    text.split(',')
        .filter(|v| !v.is_empty())
        .map(|pair| match pair.split_once(':') {
            Some((k, v)) if !v.contains(':') => Ok((k.to_owned(), v.to_owned())),
            _ => bail!("invalid repo URL variable '{pair}' (expected KEY:VALUE)"),
        })
        .collect()
}

/// Refuses options that the chosen dialect would silently ignore.
fn check_dialect_options(args: &Args) -> Result<()> {
    if args.dialect.is_mer() {
        if args.repos.is_some() {
            bail!(
                "mer-0.20 keeps its repositories in the configurations file, so -r/--repos is not \
                 used (mer-kickstarter's own -r is --repo-url-variables here)"
            );
        }
        if args.index.is_some() {
            bail!("mer-0.20 writes no image-configs.xml index (-i)");
        }
    } else if !args.external.is_empty() || args.repo_url_variables.is_some() {
        bail!(
            "-e/--external-config-path and --repo-url-variables are mer-kickstarter options; \
             use --dialect mer-0.20"
        );
    }
    Ok(())
}

/// The template, its repositories and its companion files, as the arguments select them.
fn inputs(args: &Args) -> Result<(Template, Vec<Repository>, Box<dyn Files>)> {
    check_dialect_options(args)?;
    if args.example {
        return Ok((
            example::template()?,
            example::repositories()?,
            Box::new(example::files()?),
        ));
    }
    let Some(configs) = &args.configs else {
        bail!("you need to provide meta files with --configs and --repos (or use --example)");
    };
    let template = Template::parse(&read(configs)?, &configs.display().to_string())?;
    let repos = if args.dialect.is_mer() || args.list_platforms {
        Vec::new()
    } else {
        let Some(repos) = &args.repos else {
            bail!("you need to provide meta files with --configs and --repos");
        };
        load_repositories(
            &read(repos)?,
            &repos.display().to_string(),
            &Default::default(),
        )?
    };
    // Tizen's kickstarter resolved custom/ and ExternalConfigs against the configurations
    // file's directory; the others against the working directory.
    let base: PathBuf = if args.dialect.paths_relative_to_config() {
        configs
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        PathBuf::from(".")
    };
    Ok((template, repos, Box::new(DirFiles::new(base))))
}

/// Runs generation (or `--list-platforms`).
pub(crate) fn run(args: &Args) -> Result<ExitCode> {
    let (mut template, repos, files) = inputs(args)?;
    if args.list_platforms {
        for p in template.platforms() {
            println!("{p}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let (Some(platform), Some(text)) = (&args.platform, &args.overlay) {
        let overlay = Overlay::parse(text)?;
        overlay.apply(&mut template, platform, &args.add_repo)?;
    }
    let options = Options {
        dialect: if args.example {
            example::DIALECT
        } else {
            args.dialect
        },
        only: args.only.clone(),
        index: args.index.is_some(),
        external_dirs: args.external.clone(),
        repo_url_variables: match &args.repo_url_variables {
            Some(text) => parse_url_variables(text)?,
            None => Vec::new(),
        },
        limits: Default::default(),
    };
    let run = generate(&template, &repos, files.as_ref(), &options)?;
    for note in &run.notes {
        match note {
            // With --stdout the kickstarts own standard output.
            Note::Warning(_) => eprintln!("{note}"),
            _ if args.quiet => {}
            _ if args.stdout => eprintln!("{note}"),
            _ => println!("{note}"),
        }
    }
    for out in &run.outputs {
        if args.stdout {
            print!("{}", out.contents);
            continue;
        }
        let path = args.outdir.join(&out.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
        std::fs::write(&path, &out.contents).with_context(|| format!("{}", path.display()))?;
    }
    if let (Some(index_path), Some(index)) = (&args.index, &run.index) {
        std::fs::write(index_path, index).with_context(|| format!("{}", index_path.display()))?;
    }
    if args.only.is_some() && run.outputs.is_empty() {
        bail!(
            "no configuration has FileName '{}'",
            args.only.as_deref().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
