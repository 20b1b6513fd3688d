//! Driving the guest over SSH (russh): a fresh ed25519 key per run (its public half reaches
//! the guest on the kernel command line), the guest's host key checked against the one it
//! printed on the serial console, commands with their output streamed as it comes, and files
//! moved over a command's stdin and stdout.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore as _;
use russh::client::{self, Handle};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use tokio::io::AsyncWriteExt;

/// Which stream output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// An SSH failure.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The protocol or the connection failed.
    #[error("SSH: {0}")]
    Ssh(#[from] russh::Error),
    /// A key could not be read or written.
    #[error("SSH key: {0}")]
    Key(#[from] russh::keys::ssh_key::Error),
    /// The guest refused the key.
    #[error("the guest refused the runner's SSH key")]
    Refused,
    /// A local file could not be written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The guest never accepted a connection.
    #[error("no SSH connection to the guest within {0:?}: {1}")]
    Unreachable(Duration, String),
}

/// A fresh ed25519 key for one run.
pub fn new_key() -> PrivateKey {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    PrivateKey::from(Ed25519Keypair::from_seed(&seed))
}

struct Verifier {
    /// `None`: accept the first key offered (a KubeVirt VM, whose console the driver cannot
    /// read).
    expected: Option<PublicKey>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(match (server_public_key, &self.expected) {
            (PublicKeyOrCertificate::PublicKey { key, .. }, Some(expected)) => {
                key.key_data() == expected.key_data()
            }
            (PublicKeyOrCertificate::PublicKey { .. }, None) => true,
            (PublicKeyOrCertificate::Certificate(_), _) => false,
        })
    }
}

/// A session with the guest.
pub struct Guest {
    handle: Handle<Verifier>,
}

/// Connects to the guest at `127.0.0.1:port` as root, trusting only `host_key` (an OpenSSH
/// public key line); retries refused connections until `timeout`.
pub async fn connect(
    port: u16,
    key: &PrivateKey,
    host_key: &str,
    timeout: Duration,
) -> Result<Guest, SshError> {
    let expected = PublicKey::from_openssh(host_key)?;
    connect_to("127.0.0.1", port, key, Some(expected), timeout).await
}

/// Connects to `host:port` as root, trusting `expected` (or, when `None`, the first key the
/// host offers); retries until `timeout`.
pub async fn connect_to(
    host: &str,
    port: u16,
    key: &PrivateKey,
    expected: Option<PublicKey>,
    timeout: Duration,
) -> Result<Guest, SshError> {
    let config = Arc::new(client::Config {
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 8,
        nodelay: true,
        ..Default::default()
    });
    let deadline = tokio::time::Instant::now() + timeout;
    let mut handle = loop {
        let verifier = Verifier {
            expected: expected.clone(),
        };
        match tokio::time::timeout_at(
            deadline,
            client::connect(config.clone(), (host, port), verifier),
        )
        .await
        {
            Ok(Ok(handle)) => break handle,
            Ok(Err(e)) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "SSH not yet");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(e)) => return Err(SshError::Unreachable(timeout, e.to_string())),
            Err(_) => return Err(SshError::Unreachable(timeout, "timed out".into())),
        }
    };
    let auth = handle
        .authenticate_publickey(
            "root",
            PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None),
        )
        .await?;
    if !auth.success() {
        return Err(SshError::Refused);
    }
    Ok(Guest { handle })
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// With a status.
    Status(u32),
    /// Killed by a signal.
    Signal(String),
    /// The channel closed without saying (the guest went away).
    Unknown,
}

impl Exit {
    /// Whether it succeeded.
    pub fn success(&self) -> bool {
        *self == Exit::Status(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Status(s) => write!(f, "exit status {s}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::Unknown => f.write_str("no exit status (connection lost)"),
        }
    }
}

impl Guest {
    /// Runs `command` (a line for the guest's shell, built by the runner from fixed words),
    /// feeding it `stdin` and handing its output to `sink` as it arrives.
    pub async fn run(
        &self,
        command: &str,
        stdin: &[u8],
        sink: &mut (dyn FnMut(Stream, &[u8]) + Send),
    ) -> Result<Exit, SshError> {
        let mut channel = self.handle.channel_open_session().await?;
        channel.exec(true, command).await?;
        if !stdin.is_empty() {
            channel.data(stdin).await?;
        }
        channel.eof().await?;
        let mut exit = Exit::Unknown;
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => sink(Stream::Stdout, &data),
                ChannelMsg::ExtendedData { data, ext: 1 } => sink(Stream::Stderr, &data),
                ChannelMsg::ExitStatus { exit_status } => exit = Exit::Status(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    exit = Exit::Signal(format!("{signal_name:?}"));
                }
                _ => {}
            }
        }
        Ok(exit)
    }

    /// Runs `command` and collects its output; fails unless it exits 0.
    pub async fn check(&self, command: &str) -> Result<String, String> {
        let mut out = Vec::new();
        let exit = self
            .run(command, &[], &mut |_, data| out.extend_from_slice(data))
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out).trim().to_owned();
        if exit.success() {
            Ok(text)
        } else {
            Err(format!("`{command}`: {exit}: {text}"))
        }
    }

    /// Writes `data` to `path` in the guest (`path` is the runner's own, quoted here).
    pub async fn upload(&self, path: &str, data: &[u8]) -> Result<(), String> {
        let command = format!("cat > {}", quote(path));
        let mut err = Vec::new();
        let exit = self
            .run(&command, data, &mut |_, d| err.extend_from_slice(d))
            .await
            .map_err(|e| e.to_string())?;
        if exit.success() {
            Ok(())
        } else {
            Err(format!(
                "writing {path} in the guest: {exit}: {}",
                String::from_utf8_lossy(&err).trim()
            ))
        }
    }

    /// Copies `path` from the guest to `to`; returns the bytes copied.
    pub async fn download(&self, path: &str, to: &Path) -> Result<u64, String> {
        let command = format!("cat {}", quote(path));
        let file = tokio::fs::File::create(to)
            .await
            .map_err(|e| format!("{}: {e}", to.display()))?;
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .exec(true, command.as_str())
            .await
            .map_err(|e| e.to_string())?;
        channel.eof().await.map_err(|e| e.to_string())?;
        let mut writer = tokio::io::BufWriter::new(file);
        let mut copied = 0u64;
        let mut exit = Exit::Unknown;
        let mut err = Vec::new();
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    writer
                        .write_all(&data)
                        .await
                        .map_err(|e| format!("{}: {e}", to.display()))?;
                    copied += data.len() as u64;
                }
                ChannelMsg::ExtendedData { data, .. } => err.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => exit = Exit::Status(exit_status),
                _ => {}
            }
        }
        writer
            .flush()
            .await
            .map_err(|e| format!("{}: {e}", to.display()))?;
        if exit.success() {
            Ok(copied)
        } else {
            Err(format!(
                "copying {path} from the guest: {exit}: {}",
                String::from_utf8_lossy(&err).trim()
            ))
        }
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// `s` quoted for the guest's shell.
pub fn quote(s: &str) -> String {
    shlex::try_quote(s).map_or_else(|_| "''".to_owned(), |q| q.into_owned())
}
