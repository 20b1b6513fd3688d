//! A stand-in for `vm-runner` in the operator's tests (the real runner is its own crate).
//! It speaks the runner contract of `img_crd::runner` — the same arguments, the job
//! description, files in the output directory, the `RunResult` termination message — and
//! behaves as a line of the job's kickstart tells it:
//!
//! ```text
//! # fake-runner: succeed [SECONDS] [wait-for=FILE]   build a small "image" (default)
//! # fake-runner: fail                                 report BuildFailed, exit 1
//! # fake-runner: hang                                 never finish (until killed)
//! # fake-runner: crash                                print to stderr and abort (no report)
//! ```
//!
//! `drive` (the KubeVirt driver's subcommand) checks its key file and builds the same way.
//! `--default` gives the words for kickstarts without such a line (template jobs, whose
//! kickstart is rendered). While it waits it appends a line to the job's log for every
//! word done, so a live log tail has something to show.
//!
//! Every start, end and clean is appended to the `--record` file, so tests can check how
//! many runners ran, how many at once, and in which order.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};
use img_crd::runner::{JobDescription, Outcome, RunResult};
use img_crd::{Artifact, Stage, StageOutcome, StageRecord};
use sha2::{Digest, Sha256};

#[derive(Parser)]
struct Args {
    /// The file that records what ran.
    #[arg(long)]
    record: PathBuf,
    /// The words used when the kickstart has no `# fake-runner:` line.
    #[arg(long, default_value = "succeed")]
    default: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a job.
    Run {
        #[arg(long)]
        job: PathBuf,
        #[arg(long)]
        images: PathBuf,
        #[arg(long)]
        base: PathBuf,
        #[arg(long = "termination-log")]
        termination_log: PathBuf,
    },
    /// Build a job in a KubeVirt VM reached over SSH (here: as `run` does, without a VM).
    Drive {
        #[arg(long)]
        job: PathBuf,
        #[arg(long = "ssh-host")]
        ssh_host: String,
        #[arg(long = "ssh-key")]
        ssh_key: PathBuf,
        #[arg(long)]
        images: PathBuf,
        #[arg(long = "termination-log")]
        termination_log: PathBuf,
    },
    /// Remove a job's directory.
    Clean {
        #[arg(long)]
        dir: PathBuf,
    },
}

fn record(path: &Path, line: &str) -> std::io::Result<()> {
    // One write per line with O_APPEND: lines from concurrent runners do not interleave.
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(format!("{line}\n").as_bytes())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match &args.command {
        Command::Clean { dir } => {
            match std::fs::remove_dir_all(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            record(&args.record, &format!("clean {}", dir.display()))?;
            Ok(())
        }
        Command::Run {
            job,
            images,
            base: _,
            termination_log,
        } => run(&args, job, images, termination_log),
        Command::Drive {
            job,
            ssh_host,
            ssh_key,
            images,
            termination_log,
        } => {
            // The key the operator made must be readable and the host named.
            std::fs::read(ssh_key)?;
            record(&args.record, &format!("drive {ssh_host}"))?;
            run(&args, job, images, termination_log)
        }
    }
}

/// The `# fake-runner:` words of the kickstart (or `default`).
fn mode(kickstart: &str, default: &str) -> Vec<String> {
    kickstart
        .lines()
        .find_map(|l| l.strip_prefix("# fake-runner:"))
        .unwrap_or(default)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn run(args: &Args, job: &Path, images: &Path, termination_log: &Path) -> anyhow::Result<()> {
    let record_file = args.record.as_path();
    let job: JobDescription = serde_json::from_slice(&std::fs::read(job)?)?;
    let id = format!("{}/{}", job.namespace, job.name);
    record(record_file, &format!("start {id}"))?;
    let out = images.join(&job.output_dir);
    std::fs::create_dir_all(&out)?;
    let log_name = img_crd::urls::log_file(&job.name);
    std::fs::write(out.join(&log_name), format!("building {id}\n"))?;
    std::fs::write(out.join(format!("{}.ks", job.name)), &job.kickstart)?;
    let words = mode(&job.kickstart, &args.default);
    let now = || k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now());
    let started = now();
    match words.first().map(String::as_str) {
        Some("hang") => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        Some("crash") => {
            eprintln!("fake runner: simulated crash of {id}");
            std::process::abort();
        }
        Some("fail") => {
            let result = RunResult {
                outcome: Outcome::Failed,
                reason: Some("BuildFailed".into()),
                message: Some("mic2 exited with status 1: no package 'nonexistent'".into()),
                stages: vec![stage(Stage::Build, started, now(), StageOutcome::Failed)],
                artifacts: Vec::new(),
                log: Some(log_name),
                omitted_artifacts: 0,
            };
            std::fs::write(termination_log, result.to_termination_message())?;
            record(record_file, &format!("end {id} failed"))?;
            std::process::exit(1);
        }
        _ => {
            for word in words.iter().skip(1) {
                if let Some(file) = word.strip_prefix("wait-for=") {
                    while !Path::new(file).exists() {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                } else if let Ok(seconds) = word.parse::<f64>() {
                    std::thread::sleep(Duration::from_secs_f64(seconds));
                }
                record(&out.join(&log_name), &format!("done: {word}"))?;
            }
            let name = format!("{}.{}", job.name, job.image_type);
            let contents = format!("image of {id}\n").repeat(1000);
            std::fs::write(out.join(&name), &contents)?;
            let result = RunResult {
                outcome: Outcome::Succeeded,
                reason: None,
                message: None,
                stages: vec![stage(Stage::Build, started, now(), StageOutcome::Succeeded)],
                artifacts: vec![Artifact {
                    name,
                    size: contents.len() as u64,
                    sha256: hex::encode(Sha256::digest(contents.as_bytes())),
                    url: None,
                }],
                log: Some(log_name),
                omitted_artifacts: 0,
            };
            std::fs::write(termination_log, result.to_termination_message())?;
            record(record_file, &format!("end {id} succeeded"))?;
            Ok(())
        }
    }
}

fn stage(
    name: Stage,
    started: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    finished: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    outcome: StageOutcome,
) -> StageRecord {
    StageRecord {
        name,
        started_at: Some(started),
        finished_at: Some(finished),
        outcome: Some(outcome),
        message: None,
    }
}
