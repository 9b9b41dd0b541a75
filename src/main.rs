//! The `anolab` binary: a thin layer over the library (see `cli.rs`).

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// Training allocates and frees the same megabyte-sized tensors every step. glibc serves
/// those with fresh mmaps, so every step paid for page faults and page clearing (a quarter
/// of the BeatGAN step in `perf`). Keeping them on the heap and never trimming it made the
/// single-threaded step 0.85 → 0.64 s.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`anolab runs | head`) instead of panicking on a broken pipe.
    // SAFETY: restoring the default action of a signal before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    keep_freed_memory();
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
