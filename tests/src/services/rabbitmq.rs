//! A private RabbitMQ broker (Debian's `rabbitmq-server`, started by
//! `scripts/rabbitmq-server`) on a loopback port, with its data in a temporary directory that
//! survives [`RabbitMq::restart`] and [`RabbitMq::kill`] + [`RabbitMq::start_again`] (durable
//! queues and persistent messages come back). Dropping it kills the broker and its epmd.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::Signal;

use super::{Process, free_port_run, repo_root, wait_gone};

/// How long the broker may take to listen (about 6 s on an idle machine of this kind).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// The broker's own program, from Debian's package.
pub const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// A running (or stopped, between restarts) broker.
pub struct RabbitMq {
    dir: tempfile::TempDir,
    port: u16,
    process: Option<Process>,
    starts: u32,
}

impl RabbitMq {
    /// Whether Debian's RabbitMQ is installed.
    pub fn available() -> bool {
        Path::new(SERVER).exists()
    }

    /// Starts a broker on a free loopback port (its Erlang distribution and epmd use the two
    /// ports above it).
    pub fn start() -> anyhow::Result<RabbitMq> {
        let dir = tempfile::Builder::new().prefix("img-rabbitmq-").tempdir()?;
        // Three consecutive free ports: AMQP, distribution, epmd.
        let port = free_port_run(3)?;
        let mut broker = RabbitMq {
            dir,
            port,
            process: None,
            starts: 0,
        };
        broker.start_again()?;
        Ok(broker)
    }

    /// Starts the broker again after [`RabbitMq::kill`] or [`RabbitMq::stop`], with its data.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        self.starts += 1;
        let mut command = Command::new(repo_root().join("scripts/rabbitmq-server"));
        command.arg(self.dir.path()).arg(self.port.to_string());
        let log = self.dir.path().join(format!("server-{}.log", self.starts));
        let mut process = Process::spawn("rabbitmq-server", command, &log)?;
        process
            .wait_listening(self.port, START_TIMEOUT)
            .context("starting RabbitMQ")?;
        self.process = Some(process);
        Ok(())
    }

    /// Stops the broker as an administrator would (SIGTERM: it closes connections cleanly).
    pub fn stop(&mut self) {
        self.end(Signal::SIGTERM, Duration::from_secs(30));
    }

    /// Kills the broker outright (SIGKILL: a crash or a pulled plug), and its epmd.
    pub fn kill(&mut self) {
        self.end(Signal::SIGKILL, Duration::ZERO);
    }

    /// Signals the process group, then waits until its processes are gone and its ports closed
    /// (a process that has let go of its memory may still hold its sockets for a moment, and
    /// `start_again` needs the port).
    fn end(&mut self, signal: Signal, grace: Duration) {
        if let Some(mut p) = self.process.take() {
            p.kill(signal, grace);
        }
        wait_gone(self.dir.path(), Duration::from_secs(30));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while (super::listening(self.port) || super::listening(self.port + 2))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops and starts it.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        self.start_again()
    }

    /// The AMQP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URI to connect with (the default `guest` user, allowed on loopback).
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Its directory (data and logs).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for RabbitMq {
    /// Kills the broker's process group (the broker and its epmd, which the script runs in
    /// the group).
    fn drop(&mut self) {
        self.kill();
    }
}
