//! The whole system on loopback: the loopback API server in kubelet mode (runner Pods become
//! local `vm-runner run` processes booting real QEMU VMs), the CRD applied with the real
//! `kubectl`, the claims (images, base disk — holding this checkout's base disk —, package
//! cache), a private RabbitMQ broker, an aiosmtpd mail server, and the `img-operator` and
//! `img-web` programs as processes of their own, so the operator can be killed like a crashed
//! Pod and started again.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context as _, bail};
use img_crd::ImageJob;
use img_tests::apiserver::Config;
use img_tests::apiserver::kubelet::KubeletConfig;
use img_tests::kubectl::Kubectl;
use img_tests::package_cache::SharedPackages;
use img_tests::services::python::{self, Taken};
use img_tests::services::rabbitmq::RabbitMq;
use img_tests::services::smtp::{self, SmtpOptions, SmtpServer};
use img_tests::services::{Process, free_port, metric, repo_root};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::Client;
use kube::api::{Api, PostParams};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// The namespace every job of the run goes to.
pub(crate) const NS: &str = "default";

/// The claims the operator's runner Pods mount.
const CLAIMS: [&str; 3] = ["img-images", "img-base-disk", "img-package-cache"];

/// The programs under test, from the same target directory as this test.
pub(crate) struct Programs {
    pub(crate) operator: PathBuf,
    pub(crate) web: PathBuf,
    pub(crate) runner: PathBuf,
    pub(crate) imgctl: PathBuf,
}

impl Programs {
    /// The workspace's binaries next to this test binary (`cargo test --workspace` builds
    /// them; `scripts/e2e` builds them before running this test alone).
    pub(crate) fn find() -> anyhow::Result<Programs> {
        let exe = std::env::current_exe()?;
        // <target>/<profile>/deps/e2e-<hash> → <target>/<profile>/
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .context("the test binary has no profile directory")?;
        let at = |name: &str| -> anyhow::Result<PathBuf> {
            let path = dir.join(name);
            if !path.is_file() {
                bail!(
                    "{} is missing: build it first (cargo build -p img-operator -p img-web -p img-vm-runner; scripts/e2e does)",
                    path.display()
                );
            }
            Ok(path)
        };
        Ok(Programs {
            operator: at("img-operator")?,
            web: at("img-web")?,
            runner: at("vm-runner")?,
            imgctl: at("imgctl")?,
        })
    }
}

/// A running site.
pub(crate) struct Site {
    pub(crate) kubectl: Kubectl,
    pub(crate) client: Client,
    pub(crate) broker: RabbitMq,
    pub(crate) smtp: SmtpServer,
    /// The frontend's base URL, `http://127.0.0.1:PORT`.
    pub(crate) web_url: String,
    /// The operator's admin address (metrics, health).
    pub(crate) admin: SocketAddr,
    pub(crate) programs: Programs,
    /// The run's directory: kubelet root, logs, kubeconfig, downloads.
    pub(crate) dir: tempfile::TempDir,
    operator: Mutex<Option<Process>>,
    operator_starts: AtomicU32,
    web: Process,
    /// Messages taken from the result queues so far, per queue (taking consumes them, so
    /// every scenario looks here).
    taken: Mutex<BTreeMap<String, Vec<Taken>>>,
    /// The package-cache claim, filled from `IMG_E2E_PACKAGE_CACHE`, which it gives back to.
    package_cache: Option<SharedPackages>,
}

impl Site {
    /// Starts everything; `base_dir` holds the runner's base disk.
    pub(crate) async fn start(base_dir: &Path) -> anyhow::Result<Site> {
        let programs = Programs::find()?;
        let dir = tempfile::Builder::new()
            .prefix("img-e2e-")
            .tempdir_in(std::env::var_os("IMG_E2E_DIR").unwrap_or_else(|| "/var/tmp".into()))?;
        let kubectl = Kubectl::start_with(Config {
            kubelet: Some(KubeletConfig {
                selector: "app.kubernetes.io/managed-by=img-operator".into(),
                root: dir.path().join("kubelet"),
                node_name: "e2e".into(),
            }),
            ..Config::default()
        })
        .await;
        std::fs::write(dir.path().join("kubeconfig"), kubectl.server().kubeconfig())?;
        let client = kube::Client::try_from(
            kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::from_yaml(&kubectl.server().kubeconfig())?,
                &kube::config::KubeConfigOptions::default(),
            )
            .await?,
        )?;

        // The CRD as users install it: the committed manifest, through kubectl.
        let crd = repo_root().join("manifests/crd/imagejobs.yaml");
        run_kubectl(&kubectl, &["apply", "-f", &crd.display().to_string()]).await?;
        run_kubectl(
            &kubectl,
            &[
                "wait",
                "--for=condition=Established",
                "crd/imagejobs.img.meego.com",
                "--timeout=30s",
            ],
        )
        .await?;
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), NS);
        for name in CLAIMS {
            let mut c = PersistentVolumeClaim::default();
            c.metadata.name = Some(name.into());
            claims.create(&PostParams::default(), &c).await?;
        }
        let base = kubectl
            .server()
            .pvc_dir(NS, "img-base-disk")
            .context("kubelet mode is on")?;
        place_base_disk(base_dir, &base)?;
        let package_cache = match std::env::var_os("IMG_E2E_PACKAGE_CACHE") {
            Some(cache) => {
                let claim = kubectl
                    .server()
                    .pvc_dir(NS, "img-package-cache")
                    .context("kubelet mode is on")?;
                let shared = SharedPackages::fill(cache.into(), claim)?;
                eprintln!(
                    "e2e: the package cache starts with {} packages from {}",
                    shared.given(),
                    shared.cache().display()
                );
                Some(shared)
            }
            None => None,
        };

        let (broker, smtp) = tokio::task::spawn_blocking(|| {
            // Mail as production sends it: STARTTLS to a server whose CA the operator is given.
            let smtp = SmtpServer::start(SmtpOptions {
                starttls: true,
                ..SmtpOptions::default()
            })?;
            anyhow::Ok((RabbitMq::start()?, smtp))
        })
        .await??;

        let web_port = free_port()?;
        let web_url = format!("http://127.0.0.1:{web_port}");
        let images = kubectl
            .server()
            .pvc_dir(NS, "img-images")
            .context("kubelet mode is on")?;
        std::fs::create_dir_all(&images)?;
        let mut web = Command::new(&programs.web);
        web.args(["--listen", &format!("127.0.0.1:{web_port}")])
            .arg("--images")
            .arg(&images)
            .args(["--public-url", &web_url, "--namespace", NS])
            .env("KUBECONFIG", dir.path().join("kubeconfig"))
            .env("RUST_LOG", "info");
        let mut web = Process::spawn("img-web", web, &dir.path().join("web.log"))?;
        web.wait_listening(web_port, Duration::from_secs(30))?;

        let admin = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let site = Site {
            kubectl,
            client,
            broker,
            smtp,
            web_url,
            admin,
            programs,
            dir,
            operator: Mutex::new(None),
            operator_starts: AtomicU32::new(0),
            web,
            taken: Default::default(),
            package_cache,
        };
        site.start_operator().await?;
        Ok(site)
    }

    /// Starts the operator (again): leader once the Lease is free, bridged to the broker,
    /// mailing through the mail server, at most two builds at once.
    pub(crate) async fn start_operator(&self) -> anyhow::Result<()> {
        let n = self.operator_starts.fetch_add(1, Ordering::SeqCst) + 1;
        let log = self.dir.path().join(format!("operator-{n}.log"));
        let mut cmd = Command::new(&self.programs.operator);
        cmd.arg("--runner-command")
            .arg(&self.programs.runner)
            .args(["--admin-addr", &self.admin.to_string()])
            .args(["--public-url", &self.web_url])
            .args(["--max-running", "2"])
            .args(["--package-cache-claim", "img-package-cache"])
            .args(["--lease-namespace", NS, "--lease-duration-seconds", "5"])
            .args(["--amqp-url", &self.broker.url()])
            .args(["--amqp-ingress-namespace", NS])
            .args(["--smtp-host", "127.0.0.1"])
            .args(["--smtp-port", &self.smtp.port().to_string()])
            .args([
                "--mail-from",
                "IMG <img@img.test>",
                "--smtp-tls",
                "starttls",
            ])
            .arg("--smtp-ca-file")
            .arg(self.smtp.ca_certificate())
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("RUST_LOG", "img_operator=debug,info");
        let mut operator = Process::spawn("img-operator", cmd, &log)?;
        operator.wait_listening(self.admin.port(), Duration::from_secs(30))?;
        *lock(&self.operator) = Some(operator);
        // Leading, and the 2010 queues declared, before anyone publishes.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let text = self.metrics().await.unwrap_or_default();
            if metric(&text, "img_amqp_connected ") == 1.0 && metric(&text, "img_leader ") == 1.0 {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the operator did not lead and connect within 90 s; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The site's own long-lived processes that name its directory (the frontend, the
    /// operator): what the leak check leaves out.
    pub(crate) fn own_processes(&self) -> Vec<Pid> {
        let operator = lock(&self.operator).as_ref().and_then(Process::id);
        let ids = self.web.id().into_iter().chain(operator);
        ids.filter_map(|id| i32::try_from(id).ok().map(Pid::from_raw))
            .collect()
    }

    /// Kills the operator as a node loses a Pod: SIGKILL, no goodbye, Lease left held.
    pub(crate) fn kill_operator(&self) {
        if let Some(mut p) = lock(&self.operator).take() {
            p.kill(Signal::SIGKILL, Duration::ZERO);
        }
    }

    /// The operator's metrics text.
    pub(crate) async fn metrics(&self) -> anyhow::Result<String> {
        let (status, body) =
            crate::http::get_text(&format!("http://{}/metrics", self.admin)).await?;
        if status != 200 {
            bail!("/metrics answered {status}");
        }
        Ok(body)
    }

    /// The ImageJobs API of the namespace.
    pub(crate) fn jobs(&self) -> Api<ImageJob> {
        Api::namespaced(self.client.clone(), NS)
    }

    /// The messages on `queue` so far whose `id` is `id`, waiting up to `secs` for at least
    /// one.
    pub(crate) async fn messages_for(
        &self,
        queue: &str,
        id: &serde_json::Value,
        secs: u64,
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let (url, q) = (self.broker.url(), queue.to_owned());
            let new =
                tokio::task::spawn_blocking(move || python::take(&url, &q, 100, 1.0)).await??;
            let found: Vec<serde_json::Value> = {
                let mut taken = lock(&self.taken);
                let all = taken.entry(queue.to_owned()).or_default();
                all.extend(new);
                all.iter()
                    .map(Taken::json)
                    .filter(|m| &m["id"] == id)
                    .collect()
            };
            if !found.is_empty() || tokio::time::Instant::now() > deadline {
                return Ok(found);
            }
        }
    }

    /// The mails delivered to `address` so far, their bodies decoded.
    pub(crate) fn mails_to(&self, address: &str) -> Vec<String> {
        self.smtp
            .messages()
            .iter()
            .map(|m| smtp::decoded(m))
            .filter(|m| {
                m.lines()
                    .any(|l| l.starts_with("To:") && l.contains(address))
            })
            .collect()
    }

    /// Waits up to `secs` for a mail to `address`.
    pub(crate) async fn wait_mail(&self, address: &str, secs: u64) -> anyhow::Result<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(m) = self.mails_to(address).pop() {
                return Ok(m);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("no mail to {address} within {secs} s");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The kubelet's root (Pods' directories, claims).
    pub(crate) fn kubelet_root(&self) -> PathBuf {
        self.dir.path().join("kubelet")
    }

    /// The images claim's directory.
    pub(crate) fn images(&self) -> PathBuf {
        self.kubelet_root().join("pvc").join(NS).join("img-images")
    }

    /// Stops the frontend and the operator the way Kubernetes does (SIGTERM, then SIGKILL
    /// after a grace period); the API server then stops every Pod's processes. The run's
    /// directory (logs, kubelet root) is removed unless `keep` (a failed run, to look at).
    pub(crate) fn stop(mut self, keep: bool) {
        if let Some(mut p) = lock(&self.operator).take() {
            p.kill(Signal::SIGTERM, Duration::from_secs(20));
        }
        self.web.kill(Signal::SIGTERM, Duration::from_secs(20));
        if let Some(shared) = &self.package_cache {
            let cache = shared.cache().display();
            match shared.give_back() {
                Ok((dropped, kept)) => eprintln!(
                    "e2e: {kept} new packages kept in {cache}, {dropped} the builds dropped forgotten"
                ),
                Err(e) => eprintln!("e2e: keeping the packages in {cache}: {e:#}"),
            }
        }
        if keep {
            let dir = self.dir.keep();
            eprintln!(
                "e2e: the run's logs and files are kept in {}",
                dir.display()
            );
        }
    }
}

/// `m`, locked (a panic elsewhere does not make its contents wrong).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The base disk's files, hard-linked (or copied) into the base-disk claim. The runner only
/// reads them: each VM writes to its own copy-on-write overlay.
fn place_base_disk(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let target = to.join(entry.file_name());
        if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Runs kubectl with `args`; fails with its output unless it succeeds.
pub(crate) async fn run_kubectl(kubectl: &Kubectl, args: &[&str]) -> anyhow::Result<String> {
    let out = kubectl
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .await?;
    if !out.status.success() {
        bail!(
            "kubectl {}: {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
