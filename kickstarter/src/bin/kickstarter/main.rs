//! `kickstarter`: turns kickstarter YAML templates into kickstart files, byte for byte as the
//! original tool did (`kickstarter -c configurations.yaml -r repos.yaml -o outdir`), applies IMG
//! overlays, lists a template's platforms, and validates kickstart files.

mod args;
mod generate_cmd;
mod validate_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    let result = if args.validate {
        validate_cmd::run(&args.files, args.json)
    } else {
        generate_cmd::run(&args)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kickstarter: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
