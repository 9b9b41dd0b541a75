//! The `anolab` binary: a thin layer over the library (see `cli.rs`).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`anolab runs | head`) instead of panicking on a broken pipe.
    // SAFETY: restoring the default action of a signal before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // TadGAN's gradient penalty differentiates a gradient; candle keeps gradients
    // differentiable only if this is set before the first backward pass on a thread
    // (../shared/specs/candle-notes.md). Set before any thread starts.
    std::env::set_var(anolab::nn::gp::DO_NOT_DETACH_ENV, "1");
    match cli::execute(cli::Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
