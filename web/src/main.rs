//! `img-web`: serves the IMG pages and JSON API for the ImageJobs of the cluster.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use axum::http::HeaderName;
use clap::Parser;
use img_web::app::{AppState, router};
use img_web::auth::AuthMode;
use img_web::settings::{DEFAULT_MAX_UPLOAD, Settings};
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
    /// Trust this header, set by an authenticating proxy, to name the user (e.g.
    /// X-Forwarded-User). Without it authentication is off: a single-user laptop.
    #[arg(long, env = "IMG_AUTH_PROXY_HEADER")]
    auth_proxy_header: Option<HeaderName>,
    /// Users who may cancel, delete and clear anybody's jobs (with --auth-proxy-header).
    #[arg(long = "admin", env = "IMG_ADMINS", value_delimiter = ',')]
    admins: Vec<String>,
    /// The kickstarter template ConfigMap the form offers platforms of (default: the example
    /// template built into IMG).
    #[arg(long, env = "IMG_TEMPLATE_CONFIGMAP")]
    template_configmap: Option<String>,
    /// Repositories the operator appends to overlaid platforms (give the operator's list, so
    /// previews match).
    #[arg(
        long = "overlay-repo",
        env = "IMG_OVERLAY_REPOS",
        value_delimiter = ','
    )]
    overlay_repos: Vec<String>,
    /// The largest request body (uploads) in bytes.
    #[arg(long, env = "IMG_MAX_UPLOAD", default_value_t = DEFAULT_MAX_UPLOAD)]
    max_upload: usize,
    /// Log as JSON lines (for log collectors) instead of text.
    #[arg(long, env = "IMG_LOG_JSON")]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "img_web=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let client = Client::try_default()
        .await
        .context("no Kubernetes configuration")?;
    let (reader, watch) = img_web::store::watch_jobs(client.clone());
    let watch = tokio::spawn(watch);
    let auth = match cli.auth_proxy_header {
        Some(header) => AuthMode::Proxy {
            header,
            admins: cli.admins.into_iter().collect::<BTreeSet<_>>(),
        },
        None => AuthMode::Off,
    };
    let settings = Settings {
        public_url: cli.public_url,
        namespace: cli.namespace,
        auth,
        template_config_map: cli.template_configmap,
        overlay_repos: cli.overlay_repos,
        max_upload: cli.max_upload,
    };
    let state = AppState::new(cli.images, reader, client, settings);
    let stopping = state.stopping.clone();
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    tracing::info!(listen = %cli.listen, "serving");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            stopping.send_replace(true);
        })
        .await?;
    watch.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Returns on SIGTERM (what Kubernetes sends) or Ctrl-C.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch for SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
