//! A loopback Kubernetes API server for tests: the subset of kube-apiserver that the
//! operator, kubectl and kube-rs depend on, served over plain HTTP on 127.0.0.1.
//!
//! It is test infrastructure, not product. What it does not do (admission and defaulting,
//! validation of custom resources against their schema beyond pruning, real scheduling,
//! authentication) is listed in `tests/README.md`.

pub mod cluster;
pub mod controllers;
pub mod crd;
pub mod error;
pub mod http;
pub mod kubelet;
pub mod meta;
pub mod patch;
pub mod query;
pub mod registry;
pub mod resource;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cluster::Cluster;
pub use http::access::{Access, RequestInfo};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Changes kept for watches to resume from; older resourceVersions get 410 Gone.
    pub history: usize,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Run selected Pods as local processes (off by default).
    pub kubelet: Option<kubelet::KubeletConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            history: 100_000,
            bookmark_interval: Duration::from_secs(5),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            kubelet: None,
        }
    }
}

/// A running server. Dropping it stops it.
pub struct ApiServer {
    addr: SocketAddr,
    cluster: Arc<Cluster>,
    shutdown: watch::Sender<bool>,
    cut_watches: watch::Sender<u64>,
    kubelet_root: Option<PathBuf>,
    access: Arc<http::access::AccessLog>,
    task: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Starts a server.
    pub async fn start(config: Config) -> anyhow::Result<ApiServer> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let cluster = Cluster::new(config.history);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (cut_watches, cut_rx) = watch::channel(0u64);
        let kubelet_root = config.kubelet.as_ref().map(|k| k.root.clone());
        let access = Arc::new(http::access::AccessLog::default());
        let state = Arc::new(http::AppState {
            cluster: cluster.clone(),
            address: addr.to_string(),
            bookmark_interval: config.bookmark_interval,
            shutdown: shutdown_rx.clone(),
            cut_watches: cut_rx,
            kubelet_root: kubelet_root.clone(),
            access: access.clone(),
        });
        let app = http::router(state);
        let controllers = controllers::spawn(cluster.clone(), shutdown_rx.clone());
        let kubelet = match config.kubelet.clone() {
            Some(k) => Some(kubelet::spawn(cluster.clone(), k, shutdown_rx.clone())?),
            None => None,
        };
        let mut stop = shutdown_rx;
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "apiserver stopped");
            }
            controllers.abort();
            // The kubelet kills its processes when it sees the shutdown.
            if let Some(k) = kubelet {
                let _ = k.await;
            }
        });
        Ok(ApiServer {
            addr,
            cluster,
            shutdown,
            cut_watches,
            kubelet_root,
            access,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The cluster behind the server (for tests that look inside).
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Cuts every open watch connection (clients see the stream end and must resume).
    pub fn cut_watches(&self) {
        self.cut_watches.send_modify(|n| *n += 1);
    }

    /// The local directory behind PersistentVolumeClaim `claim` in `namespace` in kubelet
    /// mode (`<kubelet root>/pvc/<namespace>/<claim>`): every Pod that mounts the claim shares
    /// it, and it outlives those Pods and the claim. It is made when a Pod first mounts the
    /// claim, so it may not exist yet. `None` when kubelet mode is off, or for names no object
    /// can have.
    pub fn pvc_dir(&self, namespace: &str, claim: &str) -> Option<PathBuf> {
        kubelet::claim_dir(self.kubelet_root.as_ref()?, namespace, claim)
    }

    /// A kubeconfig that points kubectl or kube-rs at this server.
    pub fn kubeconfig(&self) -> String {
        kubeconfig(&self.url())
    }

    /// A kubeconfig whose requests present `user` as their bearer token, so that the server
    /// records them under that name ([`ApiServer::access_log`]). Nothing is authorized: the
    /// requests are served as any other.
    pub fn kubeconfig_for(&self, user: &str) -> String {
        kubeconfig_document(&self.url(), &format!("{{token: {user:?}}}"))
    }

    /// The requests made with a bearer token so far, with their authorization attributes
    /// (verb, API group, resource, subresource, namespace, name) and status.
    pub fn access_log(&self) -> Vec<Access> {
        self.access.entries()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// A kubeconfig for a server at `url`, context `img-loopback`, namespace `default`.
pub fn kubeconfig(url: &str) -> String {
    kubeconfig_document(url, "{}")
}

/// The kubeconfig document, with `user` (flow-style YAML) as the user's credentials.
fn kubeconfig_document(url: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: img-loopback\n  cluster:\n    server: {url}\ncontexts:\n- name: img-loopback\n  context:\n    cluster: img-loopback\n    user: img-loopback\n    namespace: default\ncurrent-context: img-loopback\nusers:\n- name: img-loopback\n  user: {user}\npreferences: {{}}\n"
    )
}
