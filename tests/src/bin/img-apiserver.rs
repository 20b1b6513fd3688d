//! `img-apiserver`: runs the loopback Kubernetes API server until interrupted, after writing
//! a kubeconfig that points at it (to standard output, or to `--kubeconfig FILE`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use img_tests::apiserver::kubelet::KubeletConfig;
use img_tests::apiserver::{ApiServer, Config};

/// A loopback Kubernetes API server for tests.
#[derive(Debug, Parser)]
#[command(name = "img-apiserver", version, about)]
struct Args {
    /// Address to listen on (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", env = "IMG_APISERVER_LISTEN")]
    listen: SocketAddr,
    /// Write the kubeconfig here instead of printing it.
    #[arg(long, env = "IMG_APISERVER_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Changes kept for watches to resume from (older resourceVersions get 410 Gone).
    #[arg(long, default_value_t = 100_000, env = "IMG_APISERVER_HISTORY")]
    history: usize,
    /// Seconds between watch bookmarks, for watches that ask for them.
    #[arg(long, default_value_t = 5, env = "IMG_APISERVER_BOOKMARK_SECONDS")]
    bookmark_seconds: u64,
    /// Kubelet mode: run Pods matching this label selector as local processes.
    #[arg(long, env = "IMG_APISERVER_KUBELET_SELECTOR")]
    kubelet_selector: Option<String>,
    /// Kubelet mode: where Pod volumes, logs and termination messages are kept.
    #[arg(
        long,
        requires = "kubelet_selector",
        env = "IMG_APISERVER_KUBELET_ROOT"
    )]
    kubelet_root: Option<PathBuf>,
    /// Kubelet mode: the node name Pods are bound to.
    #[arg(
        long,
        default_value = "img-loopback-node",
        env = "IMG_APISERVER_NODE_NAME"
    )]
    node_name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "refusing to listen on {}: this test server serves loopback only",
            args.listen
        );
    }
    let server = ApiServer::start(Config {
        history: args.history,
        bookmark_interval: Duration::from_secs(args.bookmark_seconds.max(1)),
        listen: args.listen,
        kubelet: args.kubelet_selector.map(|selector| KubeletConfig {
            selector,
            root: args
                .kubelet_root
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("img-kubelet")),
            node_name: args.node_name.clone(),
        }),
    })
    .await?;
    match &args.kubeconfig {
        Some(path) => std::fs::write(path, server.kubeconfig())
            .with_context(|| format!("writing {}", path.display()))?,
        None => print!("{}", server.kubeconfig()),
    }
    tracing::info!(url = %server.url(), "serving");
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
