//! otprig's command line: parses arguments, sets up logging and the runtime, runs the app and
//! turns its result into the exit code. A panic is caught here, reported, and exits 2.

use std::process::ExitCode;

use clap::Parser;
use otprig::app::{self, EXIT_BAD_INPUT, EXIT_RIG_ERROR};
use otprig::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    app::init_tracing(cli.verbose);
    let result = std::panic::catch_unwind(|| run(cli));
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            eprintln!(
                "otprig: internal error: {what}; relays were released on the way out; the journal holds the run so far"
            );
            ExitCode::from(EXIT_RIG_ERROR as u8)
        }
    }
}

/// The runtime starts on paused time so that every instant is an exact millisecond offset
/// from its start (simulated runs are then repeatable); `app` resumes real time for lab rigs.
#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn run(cli: Cli) -> i32 {
    app::run(cli).await
}
