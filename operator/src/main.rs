//! `img-operator`: reconciles ImageJobs. Flags and `IMG_*` variables: `img-operator --help`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// The IMG operator.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Log as JSON lines (for log collectors) instead of text.
    #[arg(long, env = "IMG_LOG_JSON")]
    log_json: bool,

    #[command(flatten)]
    config: img_operator::config::Config,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let client = kube::Client::try_default().await?;
    let mut operator = img_operator::run::Operator::start(client, args.config).await?;
    tracing::info!(admin = %operator.admin_addr, "img-operator started");
    tokio::select! {
        outcome = operator.wait() => outcome,
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            operator.shutdown().await
        }
    }
}

/// SIGTERM (what Kubernetes sends) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
