//! `img-operator`: reconciles ImageJobs. Flags and `IMG_*` variables: `img-operator --help`.

use clap::Parser;
use img_operator::process::{init_logging, shutdown_signal};

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
    init_logging(args.log_json, "info");
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
