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
        // 32 MiB is the largest threshold glibc accepts on 64-bit; larger is refused.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
        // One arena: per-thread arenas map and unmap their own heaps, and with parallel
        // jobs (`--jobs`) that page-table work cost 5× the system time (18 s vs 3.7 s
        // for two TadGAN jobs) for no gain on one job's step.
        libc::mallopt(libc::M_ARENA_MAX, 1);
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
    let cli = cli::Cli::parse();
    let jobs = match &cli.command {
        cli::Command::Sweep(args) => args.jobs,
        cli::Command::Worker(args) => args.jobs,
        _ => 1,
    };
    if let cli::Command::Sweep(_) | cli::Command::Worker(_) = &cli.command {
        // Still single-threaded here: the handlers are in place before any thread.
        anolab::stop::install();
    }
    if jobs > 1 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // Still single-threaded here. See `runner::threads_per_job`.
        let threads = anolab::runner::threads_per_job(jobs);
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
    // candle's CPU matmul asks for its thread count on every call, and with
    // RAYON_NUM_THREADS unset that count is num_cpus' physical cores, read and parsed
    // from /proc/cpuinfo each time: 30,000 reads in a one-epoch TadGAN run, ~4 % of its
    // `perf` samples in the kernel's cpuinfo formatting alone. Setting the variable to the count candle would compute keeps its
    // choice and reads the file once; the pool below keeps every logical core.
    let pool_threads = std::env::var_os("RAYON_NUM_THREADS").is_none().then(|| {
        let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
        let candle = candle_core::utils::get_num_threads();
        // Still single-threaded here.
        std::env::set_var("RAYON_NUM_THREADS", candle.to_string());
        logical
    });
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // candle runs large element-wise ops on a pool of its own whose workers spin
        // between ops; beside rayon's workers they took the cores from the thread with
        // the work (2 cores: 0.175 → 0.145 s a BeatGAN step). All parallel work goes
        // through rayon instead (our kernels, gemm, candle's rayon loops).
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    // Run on a worker of the pool rather than beside it: every parallel kernel (a few
    // thousand per training step) is then a cheap in-pool fork instead of a cross-thread
    // hand-off that parks the main thread. The large stack is for candle's recursive
    // walk of long graphs (TadGAN's LSTMs); only touched pages are committed.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(pool_threads.unwrap_or(0))
        .stack_size(256 << 20)
        .build()
        .expect("the rayon thread pool starts");
    match pool.install(|| cli::execute(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
