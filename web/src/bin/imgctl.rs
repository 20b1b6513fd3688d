//! `imgctl`: the command-line client of the IMG web frontend (see `img_web::imgctl`).

use std::process::ExitCode;

use clap::Parser as _;
use img_web::imgctl::{Cli, run};

fn main() -> ExitCode {
    // Usage errors exit 2 here (clap), as `imgctl`'s own bad-input errors do.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("imgctl: cannot start the async runtime: {e}");
            return ExitCode::from(5);
        }
    };
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let code = runtime.block_on(run(cli, &mut out, &mut err));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
