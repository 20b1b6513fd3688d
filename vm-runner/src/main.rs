//! `vm-runner`: one image build in a throw-away QEMU VM. See `vm-runner --help`.

use std::process::ExitCode;

use clap::Parser;
use img_vm_runner::cli::{Cli, main as run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    run(cli).await
}
