//! Running the tools the creator drives (mmdebstrap, mkfs, xorriso, ...): every child gets
//! its own process group, its output is forwarded line by line to the console (and the
//! `--logfile`), and SIGTERM/SIGINT to the creator kills the running child's whole group
//! before the creator cleans up and exits.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;

/// The error a cancelled build ends with.
#[derive(Debug, thiserror::Error)]
#[error("cancelled by a signal")]
pub struct Cancelled;

/// Where messages go: standard output, and a copy in the log file if there is one.
pub struct Console {
    log: Option<Mutex<File>>,
}

impl Console {
    /// A console that also appends to `logfile`.
    pub fn new(logfile: Option<&Path>) -> Result<Console> {
        let log = match logfile {
            Some(path) => Some(Mutex::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open the log file {}", path.display()))?,
            )),
            None => None,
        };
        Ok(Console { log })
    }

    /// Prints one line.
    pub fn line(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (the runner went away) must not stop the build's cleanup.
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
        if let Some(log) = &self.log
            && let Ok(mut f) = log.lock()
        {
            let _ = writeln!(f, "{text}");
        }
    }

    /// `Info: ...`, as mic prints it.
    pub fn info(&self, text: &str) {
        self.line(&format!("Info: {text}"));
    }

    /// `Warning: ...`.
    pub fn warn(&self, text: &str) {
        self.line(&format!("Warning: {text}"));
    }
}

/// Runs child processes for one build.
#[derive(Clone)]
pub struct Runner {
    console: Arc<Console>,
    cancel: watch::Receiver<bool>,
}

impl Runner {
    /// A runner that stops children when `cancel` turns true.
    pub fn new(console: Arc<Console>, cancel: watch::Receiver<bool>) -> Runner {
        Runner { console, cancel }
    }

    /// The console.
    pub fn console(&self) -> &Console {
        &self.console
    }

    /// Fails with [`Cancelled`] once a signal arrived.
    pub fn check(&self) -> Result<()> {
        if *self.cancel.borrow() {
            Err(Cancelled.into())
        } else {
            Ok(())
        }
    }

    /// Runs `program args...`, forwarding its output; fails unless it exits 0.
    pub async fn run<I, S>(&self, program: &str, args: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(program);
        cmd.args(args);
        self.run_command(program, cmd, None).await.map(drop)
    }

    /// Runs a prepared command (environment, working directory), with `stdin` as its input.
    pub async fn run_command(
        &self,
        what: &str,
        mut cmd: Command,
        stdin: Option<&[u8]>,
    ) -> Result<()> {
        self.exec(what, &mut cmd, stdin, false).await.map(drop)
    }

    /// Runs `program args...` and returns its standard output (its errors are forwarded).
    pub async fn output<I, S>(&self, program: &str, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(program);
        cmd.args(args);
        let out = self.exec(program, &mut cmd, None, true).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    async fn exec(
        &self,
        what: &str,
        cmd: &mut Command,
        stdin: Option<&[u8]>,
        capture: bool,
    ) -> Result<Vec<u8>> {
        self.check()?;
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let pgid = child.id().map(|id| Pid::from_raw(id as i32));
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .await
                .with_context(|| format!("cannot write to {what}"))?;
        }
        let stdout = child.stdout.take().map(BufReader::new);
        let stderr = child.stderr.take().map(BufReader::new);
        let console = self.console.clone();
        let out_task = tokio::spawn(async move {
            match stdout {
                Some(r) if capture => read_all(r).await,
                Some(r) => forward(r, &console).await.map(|()| Vec::new()),
                None => Ok(Vec::new()),
            }
        });
        let console = self.console.clone();
        let err_task = tokio::spawn(async move {
            match stderr {
                Some(r) => forward(r, &console).await,
                None => Ok(()),
            }
        });
        let mut cancel = self.cancel.clone();
        let status = tokio::select! {
            status = child.wait() => status.with_context(|| format!("waiting for {what}"))?,
            _ = cancel.wait_for(|c| *c) => {
                if let Some(pgid) = pgid {
                    let _ = killpg(pgid, Signal::SIGKILL);
                }
                let _ = child.wait().await;
                return Err(Cancelled.into());
            }
        };
        // Whatever the child left running in its group goes with it.
        if let Some(pgid) = pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
        let out = out_task.await??;
        err_task.await??;
        if status.success() {
            Ok(out)
        } else {
            Err(anyhow!("{what} failed ({status})"))
        }
    }
}

async fn forward(reader: impl AsyncRead + Unpin, console: &Console) -> std::io::Result<()> {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        console.line(text.trim_end_matches(['\n', '\r']));
    }
}

async fn read_all(mut reader: impl AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut out).await?;
    Ok(out)
}
