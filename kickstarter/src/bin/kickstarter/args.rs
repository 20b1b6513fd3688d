//! Command-line arguments.

use std::path::PathBuf;

use clap::Parser;
use kickstarter::Dialect;

/// Kickstarter YAML templates to kickstart files, IMG overlays, and kickstart validation.
#[derive(Debug, Parser)]
#[command(name = "kickstarter", version, about, long_about = None)]
pub(crate) struct Args {
    /// The configurations file (Default, platform sections, Configurations, ExternalConfigs).
    #[arg(
        short = 'c',
        long = "configs",
        value_name = "FILE",
        env = "IMG_KICKSTARTER_CONFIGS"
    )]
    pub(crate) configs: Option<PathBuf>,

    /// The repositories file (`Repositories:`); mer-0.20 keeps them in the configurations file.
    #[arg(
        short = 'r',
        long = "repos",
        value_name = "FILE",
        env = "IMG_KICKSTARTER_REPOS"
    )]
    pub(crate) repos: Option<PathBuf>,

    /// Where to write the kickstart files.
    #[arg(short = 'o', long = "outdir", value_name = "DIR", default_value = ".")]
    pub(crate) outdir: PathBuf,

    /// Also write the image-configs.xml index to FILE (MeeGo/Tizen/sages dialects).
    #[arg(short = 'i', long = "index", value_name = "FILE")]
    pub(crate) index: Option<PathBuf>,

    /// Write only the configuration whose FileName is NAME, even if it is inactive.
    #[arg(short = 'C', long = "config", value_name = "NAME")]
    pub(crate) only: Option<String>,

    /// Which original kickstarter to reproduce: meego-0.7, meego-0.8, meego-0.12, tizen-0.15,
    /// sages-2011, sages-2012 or mer-0.20.
    #[arg(
        short = 'd',
        long,
        value_name = "NAME",
        default_value_t = Dialect::default(),
        env = "IMG_KICKSTARTER_DIALECT"
    )]
    pub(crate) dialect: Dialect,

    /// Extra directory of external configurations (mer-kickstarter's -e); repeatable.
    #[arg(short = 'e', long = "external-config-path", value_name = "DIR")]
    pub(crate) external: Vec<String>,

    /// URL variables KEY:VALUE,KEY:VALUE replaced in repository URLs (mer-kickstarter's -r).
    #[arg(long = "repo-url-variables", value_name = "K:V,...")]
    pub(crate) repo_url_variables: Option<String>,

    /// The platform section an overlay is applied to.
    #[arg(long, value_name = "NAME", requires = "overlay")]
    pub(crate) platform: Option<String>,

    /// An IMG overlay: packages, @groups and -removals, comma-separated.
    #[arg(long, value_name = "TEXT", requires = "platform")]
    pub(crate) overlay: Option<String>,

    /// A repository to add to the overlaid platform's Repos (a deployment's own mirror);
    /// repeatable.
    #[arg(long = "add-repo", value_name = "NAME", requires = "platform")]
    pub(crate) add_repo: Vec<String>,

    /// Use the example template compiled into kickstarter instead of -c/-r (its dialect is
    /// meego-0.12).
    #[arg(long, conflicts_with_all = ["configs", "repos", "dialect"])]
    pub(crate) example: bool,

    /// Print the platform sections of the template, one per line, and exit.
    #[arg(long)]
    pub(crate) list_platforms: bool,

    /// Print the kickstarts on standard output instead of writing files.
    #[arg(long)]
    pub(crate) stdout: bool,

    /// Validate kickstart FILEs instead of generating: print `FILE:LINE: error: message` for
    /// each problem; exit 1 if any file has an error.
    #[arg(long, conflicts_with_all = ["configs", "example"])]
    pub(crate) validate: bool,

    /// With --validate: print a JSON report per file (image type, magic options, arch,
    /// repos, packages, groups, exclusions, partitions, scripts, diagnostics).
    #[arg(long, requires = "validate")]
    pub(crate) json: bool,

    /// Kickstart files to validate.
    #[arg(value_name = "FILE", requires = "validate")]
    pub(crate) files: Vec<std::path::PathBuf>,

    /// Quiet: no progress messages.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}
