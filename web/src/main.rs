//! `img-web`: serves the IMG pages and JSON API for the ImageJobs of the cluster.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use img_web::app::{AppState, router};
use kube::Client;

/// The IMG web frontend.
#[derive(Debug, Parser)]
#[command(name = "img-web", version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "IMG_WEB_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The images volume (the operator's `--images` claim, mounted).
    #[arg(long, env = "IMG_IMAGES_DIR", default_value = "/images")]
    images: PathBuf,
    /// This frontend's public base URL.
    #[arg(long, env = "IMG_PUBLIC_URL")]
    public_url: Option<String>,
    /// The namespace new jobs go to.
    #[arg(long, env = "IMG_NAMESPACE", default_value = "default")]
    namespace: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "img_web=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let client = Client::try_default()
        .await
        .context("no Kubernetes configuration")?;
    let (reader, watch) = img_web::store::watch_jobs(client.clone());
    tokio::spawn(watch);
    let state = AppState {
        images: cli.images,
        jobs: reader,
        public_url: cli.public_url.map(Into::into),
        client,
        namespace: cli.namespace.into(),
    };
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    tracing::info!(listen = %cli.listen, "serving");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
