//! The `vm-runner` command line: `run` (a runner Pod's job), `drive` (a KubeVirt driver
//! Pod's job), `build` (one image on this
//! machine), `clean`, `guest-kickstarter` (inside the VM), `boot-check` (boot a built
//! image). `main.rs` parses and calls [`main`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use img_crd::conditions::reasons;
use img_crd::runner::{JobDescription, Outcome, RunResult};

use crate::local::{LocalJob, local_job};
use crate::run::{RemoteVm, RunPaths, publish, run_job};
use crate::settings::Settings;

/// Runs image builds in throw-away QEMU virtual machines.
#[derive(Debug, Parser)]
#[command(name = "vm-runner", version, about)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, env = "IMG_LOG_JSON", global = true)]
    pub log_json: bool,

    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: Command,
}

/// What to do.
// Parsed once per process: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the job a runner Pod was given (its description from the operator).
    Run {
        /// The job description (JSON).
        #[arg(long)]
        job: PathBuf,
        /// The images directory; the job's output goes to its `outputDir` inside.
        #[arg(long)]
        images: PathBuf,
        /// The directory with the base disk.
        #[arg(long)]
        base: PathBuf,
        /// Where Kubernetes reads the result.
        #[arg(long = "termination-log")]
        termination_log: Option<PathBuf>,
        #[command(flatten)]
        #[allow(missing_docs)]
        settings: Settings,
    },
    /// Build the job of a KubeVirt driver Pod in the VM KubeVirt started, over SSH.
    Drive {
        /// The job description (JSON).
        #[arg(long)]
        job: PathBuf,
        /// The VM's SSH host (its Service name).
        #[arg(long = "ssh-host")]
        ssh_host: String,
        /// The VM's SSH port.
        #[arg(long = "ssh-port", default_value_t = 22)]
        ssh_port: u16,
        /// The private key the VM's root accepts.
        #[arg(long = "ssh-key")]
        ssh_key: PathBuf,
        /// The images directory, mounted at the same path in the VM.
        #[arg(long)]
        images: PathBuf,
        /// Where Kubernetes reads the result.
        #[arg(long = "termination-log")]
        termination_log: Option<PathBuf>,
        #[command(flatten)]
        #[allow(missing_docs)]
        settings: Settings,
    },
    /// Build one image on this machine: from a kickstart, or a kickstarter template.
    Build {
        #[command(flatten)]
        #[allow(missing_docs)]
        job: LocalJob,
        #[command(flatten)]
        #[allow(missing_docs)]
        settings: Settings,
    },
    /// Remove a job's output directory (a deleted job's files).
    Clean {
        /// The directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Inside the VM: render a template job's kickstart with kickstarter.
    GuestKickstarter(GuestKickstarter),
    /// Boot a built image in QEMU and wait for a text on its serial console.
    BootCheck(crate::bootcheck::BootCheck),
}

/// `guest-kickstarter` arguments.
#[derive(Debug, Args)]
pub struct GuestKickstarter {
    /// The template input (JSON, as in the job description).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the kickstart.
    #[arg(long)]
    pub output: PathBuf,
}

fn exit_for(result: &RunResult) -> ExitCode {
    match result.outcome {
        Outcome::Succeeded => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::FAILURE,
    }
}

/// Runs the command line.
pub async fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run {
            job,
            images,
            base,
            termination_log,
            settings,
        } => {
            let paths = RunPaths {
                images,
                base,
                termination_log,
                remote: None,
            };
            run_described(&job, &paths, &settings).await
        }
        Command::Drive {
            job,
            ssh_host,
            ssh_port,
            ssh_key,
            images,
            termination_log,
            settings,
        } => {
            let paths = RunPaths {
                base: images.clone(),
                images,
                termination_log,
                remote: Some(RemoteVm {
                    host: ssh_host,
                    port: ssh_port,
                    key_file: ssh_key,
                }),
            };
            run_described(&job, &paths, &settings).await
        }
        Command::Build { job, settings } => {
            if let Err(e) = crate::command::check_template(&settings.creator) {
                eprintln!("vm-runner: {e}");
                return ExitCode::from(2);
            }
            let (description, paths) = match local_job(&job) {
                Ok(v) => v,
                Err(message) => {
                    eprintln!("vm-runner: {message}");
                    return ExitCode::from(2);
                }
            };
            eprintln!(
                "vm-runner: building {} image {} into {}",
                description.image_type,
                description.name,
                paths.images.display()
            );
            let result = run_job(
                &description,
                &paths,
                &settings,
                crate::signals::cancel_on_signals(),
            )
            .await;
            print_summary(&result, &paths);
            exit_for(&result)
        }
        Command::Clean { dir } => match crate::run::clean(&dir) {
            Ok(removed) => {
                println!(
                    "{} {}",
                    if removed { "removed" } else { "nothing at" },
                    dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vm-runner: removing {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        },
        Command::BootCheck(args) => match crate::bootcheck::boot_check(&args).await {
            Ok(booted) => {
                println!(
                    "booted {} in {:.1} s: {}",
                    args.image.display(),
                    booted.seconds,
                    booted.line
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vm-runner: boot check of {}: {e}", args.image.display());
                ExitCode::FAILURE
            }
        },
        Command::GuestKickstarter(args) => {
            match crate::local::guest_kickstarter(&args.input, &args.output) {
                Ok(warnings) => {
                    for w in warnings {
                        println!("{w}");
                    }
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("kickstarter: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `run` and `drive`: the job description from the operator, then the run; a description
/// that cannot be read is reported like a failed run.
async fn run_described(job: &std::path::Path, paths: &RunPaths, settings: &Settings) -> ExitCode {
    let description = match read_job(job) {
        Ok(d) => d,
        Err(message) => {
            let result = RunResult {
                outcome: Outcome::Failed,
                reason: Some(reasons::INVALID_JOB.to_owned()),
                message: Some(message),
                stages: Vec::new(),
                artifacts: Vec::new(),
                log: None,
                omitted_artifacts: 0,
            };
            eprintln!(
                "vm-runner: {}",
                result.message.as_deref().unwrap_or_default()
            );
            publish(&result, None, None, paths.termination_log.as_deref());
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = crate::command::check_template(&settings.creator) {
        eprintln!("vm-runner: {e}");
        return ExitCode::from(2);
    }
    let result = run_job(
        &description,
        paths,
        settings,
        crate::signals::cancel_on_signals(),
    )
    .await;
    exit_for(&result)
}

fn read_job(path: &std::path::Path) -> Result<JobDescription, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let job: JobDescription =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if job.version != img_crd::runner::JOB_DESCRIPTION_VERSION {
        return Err(format!(
            "{}: job description version {} (this runner reads version {})",
            path.display(),
            job.version,
            img_crd::runner::JOB_DESCRIPTION_VERSION
        ));
    }
    Ok(job)
}

fn print_summary(result: &RunResult, paths: &RunPaths) {
    let dir = paths.images.display();
    match result.outcome {
        Outcome::Succeeded => {
            for a in &result.artifacts {
                println!("{dir}/{} {} bytes sha256 {}", a.name, a.size, a.sha256);
            }
        }
        Outcome::Failed => eprintln!(
            "vm-runner: failed ({}): {}",
            result.reason.as_deref().unwrap_or_default(),
            result.message.as_deref().unwrap_or_default()
        ),
    }
    if let Some(log) = &result.log {
        eprintln!("vm-runner: log {dir}/{log}");
    }
}
