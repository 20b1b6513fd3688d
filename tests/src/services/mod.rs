//! Real servers the notification tests talk to, each started from this repository's scripts on
//! loopback ports in a directory of its own, and killed with everything it started when dropped
//! (on every path, panics included): [`rabbitmq`] (Debian's RabbitMQ) and [`smtp`] (aiosmtpd).
//! [`python`] runs the independent clients in `tests/python/` (pika). Also the process and
//! port helpers these and the browser harness share.

pub mod python;
pub mod rabbitmq;
pub mod smtp;

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The repository's root (where `scripts/` and `tests/python/` are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// The first of `count` consecutive free loopback ports, below the kernel's ephemeral range,
/// for a server that listens on several ports of its own (RabbitMQ: AMQP, Erlang distribution,
/// epmd). A port from `bind(0)` is ephemeral, and its neighbours can be taken at any moment by
/// another test's listener or outgoing connection; ports below the range are only ever taken
/// by an explicit choice like this one.
pub fn free_port_run(count: u16) -> anyhow::Result<u16> {
    use std::hash::{BuildHasher as _, Hasher as _};
    const LOWEST: u16 = 10_000;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let span = ephemeral_low.saturating_sub(LOWEST + count);
    anyhow::ensure!(
        span > 0,
        "no ports below the ephemeral range ({ephemeral_low})"
    );
    for _ in 0..1_000 {
        // A random start (std's hasher keys are random), so concurrent tests rarely meet.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let first = LOWEST + (random % u64::from(span)) as u16;
        let bound: Vec<TcpListener> = (first..first + count)
            .map_while(|port| TcpListener::bind((Ipv4Addr::LOCALHOST, port)).ok())
            .collect();
        if bound.len() == usize::from(count) {
            return Ok(first);
        }
    }
    anyhow::bail!("found no {count} consecutive free ports below {ephemeral_low}")
}

/// The processes (other than this one) whose command line contains `path`: a server's
/// processes name its directory (a browser's `--user-data-dir`, RabbitMQ's data directory).
/// Public for tests that check nothing is left.
pub fn processes_naming(path: &Path) -> Vec<Pid> {
    other_processes().filter(|pid| names(*pid, path)).collect()
}

/// The processes (other than this one) that name `path` on their command line or work in
/// it or below it: a VM runner's helpers (virtiofsd, QEMU) run in its scratch directory and
/// may name their files relative to it.
pub fn processes_in(path: &Path) -> Vec<Pid> {
    let mut found: Vec<Pid> = other_processes()
        .filter(|pid| {
            names(*pid, path)
                || std::fs::read_link(format!("/proc/{pid}/cwd"))
                    .is_ok_and(|cwd| cwd.starts_with(path))
        })
        .collect();
    found.sort();
    found
}

/// Whether `pid`'s command line contains `path` (never for an empty path).
fn names(pid: Pid, path: &Path) -> bool {
    let needle = path.as_os_str().as_bytes();
    !needle.is_empty()
        && std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
}

/// The command line of `pid`, its arguments joined by spaces; empty once it has gone.
pub fn command_line(pid: Pid) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&cmdline)
        .replace('\0', " ")
        .trim_end()
        .to_owned()
}

/// `roots` and every process descended from them, as they are now.
pub fn with_descendants(roots: &[Pid]) -> Vec<Pid> {
    let parents: Vec<(Pid, Pid)> = other_processes()
        .filter_map(|pid| {
            let ppid = stat_after_comm(pid)?.split(' ').nth(1)?.parse().ok()?;
            Some((pid, Pid::from_raw(ppid)))
        })
        .collect();
    let mut tree = roots.to_vec();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        for &(child, of) in &parents {
            if of == parent && !tree.contains(&child) {
                tree.push(child);
            }
        }
        i += 1;
    }
    tree
}

/// Whether `pid` still runs (a zombie waiting to be reaped has ended).
pub fn running(pid: Pid) -> bool {
    stat_after_comm(pid).is_some_and(|rest| !rest.starts_with('Z'))
}

/// The command name of `pid` (`/proc/<pid>/comm`: at most 15 bytes); empty once it has gone.
pub fn command_name(pid: Pid) -> String {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    comm.trim_end().to_owned()
}

/// Every process but this one, as `/proc` lists them now.
fn other_processes() -> impl Iterator<Item = Pid> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(move |pid| *pid != me)
        .filter_map(|pid| i32::try_from(pid).ok().map(Pid::from_raw))
}

/// `/proc/<pid>/stat` from the state on (`pid (comm) state ppid …`; the command name may hold
/// spaces and parentheses, so it is cut at the last `) `).
fn stat_after_comm(pid: Pid) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ").map(|(_, rest)| rest.to_owned())
}

/// The value of the line of a Prometheus text exposition that starts with `prefix` (a
/// metric's name and labels and a space); 0 when there is none.
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Whether something accepts connections on the loopback `port`.
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Whether a test that needs the real servers must run rather than skip (in CI, or with
/// `IMG_REQUIRE_SERVICES=1`).
pub fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("IMG_REQUIRE_SERVICES").is_some()
}

/// A server process in its own process group, with its output in a log file. Dropping it
/// kills the group.
pub struct Process {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    /// Starts `command` (its output to `log`) in a new process group.
    pub fn spawn(name: &'static str, mut command: Command, log: &Path) -> anyhow::Result<Process> {
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Process {
            name,
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    /// The process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits until `port` accepts connections; fails with the log's end if the process
    /// exits or `timeout` passes.
    pub fn wait_listening(&mut self, port: u16, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if listening(port) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                self.kill(Signal::SIGKILL, Duration::ZERO);
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(anyhow!(
                    "{} did not listen on 127.0.0.1:{port} ({}); {}:\n{}",
                    self.name,
                    match exited {
                        Some(status) => format!("it exited, {status}"),
                        None => format!("not within {timeout:?}"),
                    },
                    self.log.display(),
                    tail.join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends `signal` to the process group, waits up to `grace` for the leader to exit, then
    /// kills the group and reaps the leader.
    pub fn kill(&mut self, signal: Signal, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = i32::try_from(child.id()).map(Pid::from_raw).ok();
        let send = |s: Signal| {
            if let Some(group) = group {
                match killpg(group, s) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(e) => eprintln!("signalling the process group of {}: {e}", self.name),
                }
            }
        };
        send(signal);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        send(Signal::SIGKILL);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill(Signal::SIGKILL, Duration::ZERO);
    }
}

/// Waits until no process names `path` on its command line (a server's helpers that outlive
/// their group leader for a moment), for at most `timeout`.
fn wait_gone(path: &Path, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !processes_naming(path).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_tree_is_found_by_its_directory_and_ends() {
        let dir = tempfile::tempdir().unwrap();
        // A shell working in `dir` whose child names nothing of it: found by its parent.
        let mut sh = Command::new("sh")
            .args(["-c", "cd / && sleep 30 & wait"])
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        let shell = Pid::from_raw(i32::try_from(sh.id()).unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        let tree = loop {
            let tree = with_descendants(&processes_in(dir.path()));
            if tree.len() >= 2 || Instant::now() > deadline {
                break tree;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(
            processes_in(dir.path()),
            vec![shell],
            "only the shell works there"
        );
        assert_eq!(tree.len(), 2, "the shell and its sleep: {tree:?}");
        assert!(tree.iter().all(|pid| running(*pid)));
        for pid in &tree {
            nix::sys::signal::kill(*pid, Signal::SIGKILL).unwrap();
        }
        // The shell is this process's child: a zombie until reaped, and not running already.
        let deadline = Instant::now() + Duration::from_secs(10);
        while running(shell) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !running(shell),
            "a killed child that is not reaped yet has ended"
        );
        sh.wait().unwrap();
        assert!(!running(shell));
    }
}
