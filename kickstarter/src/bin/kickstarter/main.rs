//! `kickstarter`: turns kickstarter YAML templates into kickstart files, byte for byte as the
//! original tool did (`kickstarter -c configurations.yaml -r repos.yaml -o outdir`), applies IMG
//! overlays, lists a template's platforms, and validates kickstart files.

mod args;
mod generate_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    match generate_cmd::run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kickstarter: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
