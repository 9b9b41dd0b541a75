//! Command-line interface: argument parsing, calls into the library and printing only;
//! planning, training, storing and reporting happen in the library modules.

use anolab::config::{self, SweepSpec};
use anolab::data;
use anolab::kinds::RunStatus;
use anolab::plan::{self, RunSpec};
use anolab::report;
use anolab::runner::{self, DeviceSpec, SweepOptions};
use anolab::store::{Cell, Location, QueryResult, Store, DEFAULT_DB};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "anolab",
    version,
    about = "Anomaly detection with generative models: YAML sweeps, candle training, SQLite results, figures",
    long_about = "anolab expands a YAML sweep file into runs (every list value is an axis; seeds and folds too), \
trains each detector with candle, scores the test data, stores metrics, per-epoch losses and scores in SQLite \
(default results/anolab.sqlite) and renders comparison figures. Interrupted sweeps resume; finished runs are never \
retrained; a failing run never stops the sweep."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Expand a sweep file into runs, train every run not done yet, store and report results.
    Sweep(SweepArgs),
    /// Train exactly one run (the file and overrides must not contain lists).
    Run(SweepArgs),
    /// Take queued runs from the store and train them, one claim at a time under a lease
    /// it renews: start any number, on any machines that reach the store (`anolab sweep
    /// FILE --enqueue --db postgres://…` queues the runs; see README "Many machines").
    Worker(WorkerArgs),
    /// Queue a sweep and write a Slurm job array whose tasks run `anolab worker` on the
    /// shared store (`--submit` submits it with sbatch).
    Slurm(SlurmArgs),
    /// Queue a sweep and write a Kubernetes Indexed Job whose pods run `anolab worker`
    /// on the shared store (apply it with `kubectl apply -f`).
    K8s(K8sArgs),
    /// Where a sweep stands: runs per status, each running run with its worker (host:pid,
    /// device, epoch, last heartbeat), throughput over the last 10 minutes and an ETA.
    Status(StatusArgs),
    /// Run SQL against the store (read-only unless --write). Tables: sweeps, runs, sweep_runs,
    /// run_dependencies, params, metrics, epochs, scores, artifacts; views: run_summary,
    /// sweep_summary.
    Query(QueryArgs),
    /// List stored runs.
    Runs(RunsArgs),
    /// Show one run: config, metrics, losses per epoch, artifacts.
    Show(ShowArgs),
    /// Print a sweep's results table and render its figures, report.md and results.csv from
    /// the store (no training).
    Report(ReportArgs),
    /// Recompute the metrics of stored runs from their stored scores (no training), so that
    /// metrics added since a sweep ran appear for its runs. Idempotent.
    Rescore(RescoreArgs),
    /// Time the work a sweep repeats (training steps and epochs, scoring, metrics, beat
    /// extraction, store writes) and print median and spread.
    Bench(BenchArgs),
    /// List datasets: window shape, and the split each would make with its class counts.
    /// Without a file: the data shipped in data/ (mitdb-mini, digits).
    Datasets(DatasetsArgs),
}

#[derive(Args)]
pub struct RescoreArgs {
    /// The sweep (default: every sweep in the store).
    #[arg(long)]
    pub sweep: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Measurements of each item (after one warm-up).
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// MIT-BIH folder for the beat-extraction timing (all 44 BeatGAN records).
    #[arg(long, default_value = "../shared/data/mitdb")]
    pub mitdb: PathBuf,
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// f32 or tf32: the GPU's f32 matrix products (`train.precision`; tf32 needs CUDA).
    #[arg(long, default_value = "f32")]
    pub precision: String,
    /// Run only these (repeatable): step, epochs, baselines, scoring, metrics, extraction,
    /// store, queue.
    #[arg(long)]
    pub only: Vec<String>,
    /// A PostgreSQL store for the queue benchmark (32 workers), e.g.
    /// postgres://anolab@127.0.0.1:5433/postgres; without it only SQLite's (8 workers).
    #[arg(long)]
    pub postgres: Option<Location>,
}

#[derive(Args)]
pub struct DatasetsArgs {
    /// A sweep file whose datasets to list (each distinct dataset and fold once).
    pub file: Option<PathBuf>,
    /// Overrides `key=value` for the sweep file, e.g. `dataset.abnormal_class=0,1,2`.
    pub overrides: Vec<String>,
}

#[derive(Args)]
pub struct SweepArgs {
    /// The sweep file (YAML), e.g. experiments/quickstart.yaml.
    pub file: PathBuf,
    /// Overrides `key=value`; `key=a,b,c` makes (or replaces) a sweep axis,
    /// e.g. `model.nz=16,32 train.epochs=5 seeds=0,1`.
    pub overrides: Vec<String>,
    /// Runs trained at the same time, as threads of this process, each on cores/N
    /// threads. Big CPU sweeps scale better as processes: start one
    /// `RAYON_NUM_THREADS=1 anolab sweep FILE &` per core on the same --db (the store
    /// gives each run to one of them); see README "Speed".
    #[arg(long, short, default_value_t = 1)]
    pub jobs: usize,
    /// cpu, cuda:0, or cuda:0,1 (runs go round-robin; needs --features cuda).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Print the expanded runs (and their stored status) without training.
    #[arg(long)]
    pub dry_run: bool,
    /// Plan the runs into the store's queue and train nothing: `anolab worker`s (on this
    /// or other machines) take them.
    #[arg(long)]
    pub enqueue: bool,
    /// Retry runs that failed before.
    #[arg(long)]
    pub rerun_failed: bool,
    /// Retrain every run, done ones included.
    #[arg(long)]
    pub force: bool,
    /// Refuse a sweep that expands to more runs than this (a typo such as 2,000 values
    /// × 2,000 seeds is refused before it is expanded).
    #[arg(long, default_value_t = anolab::config::sweep::DEFAULT_MAX_RUNS)]
    pub max_runs: usize,
    /// How progress is written to stderr: `auto` draws bars on a terminal and writes a
    /// plain line per run and per epoch (losses, validation AUC, elapsed, ETA) otherwise
    /// (nohup, CI, cluster logs); `json` writes one JSON object per event and line.
    #[arg(long, value_enum, default_value = "auto")]
    pub log_format: runner::LogFormat,
    /// Write nothing while training but failures (same as --log-format quiet).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// Only runs of this sweep (default: any queued run).
    #[arg(long)]
    pub sweep: Option<String>,
    /// Stop after claiming this many runs.
    #[arg(long)]
    pub max_runs: Option<usize>,
    /// Stop when no run can be claimed, instead of waiting for new ones (a job array's
    /// tasks end when the sweep is done).
    #[arg(long)]
    pub exit_when_idle: bool,
    /// cpu, cuda:0, or cuda:0,1 (jobs go round-robin; needs --features cuda).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Runs trained at the same time, as threads of this worker, each on cores/N threads.
    #[arg(long, short, default_value_t = 1)]
    pub jobs: usize,
    /// Seconds a claim holds without renewal (renewed every quarter of it while the run
    /// trains); a run whose worker died goes back to the queue this long after.
    #[arg(long, default_value_t = anolab::store::DEFAULT_LEASE.as_secs())]
    pub lease_seconds: u64,
    /// Leases that may expire on one run before it is failed (a run that kills its
    /// worker every time does not loop forever).
    #[arg(long, default_value_t = runner::DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,
    #[command(flatten)]
    pub db: DbArg,
    /// How progress is written to stderr (as for `anolab sweep`).
    #[arg(long, value_enum, default_value = "auto")]
    pub log_format: runner::LogFormat,
}

#[derive(Args)]
pub struct LaunchArgs {
    /// The sweep file (YAML).
    pub file: PathBuf,
    /// Overrides `key=value`, as for `anolab sweep`.
    pub overrides: Vec<String>,
    /// Workers (array tasks, pods) started at once.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    #[arg(long, default_value_t = 4)]
    pub cpus_per_worker: usize,
    /// GPUs per worker (its jobs go round-robin over cuda:0..G-1).
    #[arg(long, default_value_t = 0)]
    pub gpus_per_worker: usize,
    /// Runs each worker trains at once (`anolab worker --jobs`).
    #[arg(long, default_value_t = 1)]
    pub jobs_per_worker: usize,
    /// The workers' lease (see `anolab worker --lease-seconds`).
    #[arg(long, default_value_t = anolab::store::DEFAULT_LEASE.as_secs())]
    pub lease_seconds: u64,
    /// The folder workers start in, where the sweep's relative data paths hold
    /// (default: the current folder).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Where to write the job file (default: <artifacts>/<sweep>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = anolab::config::sweep::DEFAULT_MAX_RUNS)]
    pub max_runs: usize,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// Wall-time limit of each task, e.g. 04:00:00.
    #[arg(long)]
    pub time: Option<String>,
    #[arg(long)]
    pub partition: Option<String>,
    /// Memory per task, e.g. 16G.
    #[arg(long)]
    pub mem: Option<String>,
    /// The anolab binary the tasks run (default: this one; it must be reachable from
    /// the compute nodes).
    #[arg(long)]
    pub anolab: Option<PathBuf>,
    /// Submit the array with sbatch after writing it.
    #[arg(long)]
    pub submit: bool,
}

#[derive(Args)]
pub struct K8sArgs {
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// The container image (anolab on its PATH, the sweep's data under --workdir).
    #[arg(long)]
    pub image: String,
    /// The Secret that holds the store's URL under key `url`.
    #[arg(long, default_value = "anolab-store")]
    pub db_secret: String,
    /// The PersistentVolumeClaim mounted as the artifacts folder in every pod.
    #[arg(long, default_value = "anolab-artifacts")]
    pub artifacts_claim: String,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The sweep (default: every run in the store).
    #[arg(long)]
    pub sweep: Option<String>,
    /// Print again every 10 seconds until nothing is queued or running.
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args)]
pub struct DbArg {
    /// The store: a SQLite file (checkpoints and figures go beside it), or a
    /// postgres://USER@HOST:PORT/DATABASE URL that many machines share.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: Location,
    /// Where checkpoints and figures go: default beside a SQLite store, `results` for
    /// PostgreSQL. Workers on many machines need one folder they all mount.
    #[arg(long)]
    pub artifacts: Option<PathBuf>,
}

impl DbArg {
    fn results_dir(&self) -> PathBuf {
        if let Some(dir) = &self.artifacts {
            return dir.clone();
        }
        match &self.db {
            Location::Sqlite(path) => path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            Location::Postgres(_) => PathBuf::from("results"),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args)]
pub struct QueryArgs {
    /// One SQL statement, e.g. "SELECT model_nz, model_w_adv, n, auc_roc_mean, auc_roc_std
    /// FROM sweep_summary WHERE sweep = 'quickstart'".
    pub sql: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Allow statements that change the store.
    #[arg(long)]
    pub write: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args)]
pub struct RunsArgs {
    /// Only runs of this sweep.
    #[arg(long)]
    pub sweep: Option<String>,
    /// Only runs with this status: queued, running, done or failed.
    #[arg(long)]
    pub status: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Run key (a unique prefix is enough) or id.
    pub run: String,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args)]
pub struct ReportArgs {
    /// The sweep (default: every sweep in the store).
    #[arg(long)]
    pub sweep: Option<String>,
    /// Figure folder (default: <db folder>/<sweep>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A run for the per-run figures (key, unique key prefix or id); repeat for several.
    /// Default: the best run of each model by the report metric.
    #[arg(long)]
    pub run: Vec<String>,
    /// Leave out the input-vs-reconstruction figures (they load data and checkpoints).
    #[arg(long)]
    pub no_overlays: bool,
    #[command(flatten)]
    pub db: DbArg,
}

/// Runs the command; `Ok(false)` means it finished but some runs failed.
pub fn execute(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Sweep(args) => sweep(args, false),
        Command::Run(args) => sweep(args, true),
        Command::Worker(args) => worker(args),
        Command::Status(args) => status(args).map(|_| true),
        Command::Slurm(args) => slurm(args).map(|_| true),
        Command::K8s(args) => k8s(args).map(|_| true),
        Command::Query(args) => query(args).map(|_| true),
        Command::Runs(args) => runs(args).map(|_| true),
        Command::Show(args) => show(args).map(|_| true),
        Command::Report(args) => report_cmd(args).map(|_| true),
        Command::Rescore(args) => rescore(args),
        Command::Bench(args) => bench(args).map(|_| true),
        Command::Datasets(args) => datasets(args).map(|_| true),
    }
}

fn sweep(args: SweepArgs, exactly_one: bool) -> Result<bool> {
    let overrides = args
        .overrides
        .iter()
        .map(|o| config::parse_override(o))
        .collect::<Result<Vec<_>, _>>()?;
    let (spec, runs) = plan::load(&args.file, &overrides, args.max_runs)?;
    if exactly_one && spec.len() != 1 {
        let axes: Vec<&str> = spec.axes.iter().map(|a| a.key.as_str()).collect();
        bail!(
            "`anolab run` trains exactly one run, but {} expands to {} (axes: {}); use `anolab sweep`",
            args.file.display(),
            spec.len(),
            axes.join(", ")
        );
    }
    let devices: DeviceSpec = args.device.parse()?;
    if args.dry_run {
        print_dry_run(&spec, &runs, &args.db.db)?;
        // The data checks a sweep makes before queueing anything.
        runner::load_data(&runs)?;
        return Ok(true);
    }

    let store = Store::open(&args.db.db)?;
    let results = args.db.results_dir();
    // Where the checkpoints and the report will go, checked before hours of training.
    anolab::paths::dir_under(&results, Path::new("runs"))?;
    let report_dir = anolab::paths::dir_under(&results, Path::new(&spec.name))?;
    let opts = SweepOptions {
        jobs: args.jobs,
        devices,
        force: args.force,
        rerun_failed: args.rerun_failed,
        results_dir: results.clone(),
        source_file: args.file.display().to_string(),
        log: if args.quiet {
            runner::LogFormat::Quiet
        } else {
            args.log_format
        },
    };
    if args.enqueue {
        enqueue(&store, &spec, &runs, &opts)?;
        println!(
            "start workers with\n  anolab worker --db {} --sweep {} --exit-when-idle",
            args.db.db, spec.name
        );
        return Ok(true);
    }
    opts.log.emit(
        &format!(
            "sweep `{}`: {} runs over {}",
            spec.name,
            runs.len(),
            spec.describe_grid()
        ),
        serde_json::json!({"event": "sweep_start", "sweep": spec.name, "runs": runs.len(),
                           "grid": spec.describe_grid()}),
    );
    let outcome = runner::run_sweep(&store, &spec, &runs, &opts)?;
    let summary =
        if outcome.trained == 0 && outcome.failed.is_empty() && outcome.taken_elsewhere == 0 {
            format!(
                "all {} runs already done; nothing to train (--force retrains them)",
                outcome.total
            )
        } else {
            format!(
                "trained {}, already done {}, failed {}, held by another process {}",
                outcome.trained,
                outcome.already_done,
                outcome.failed.len(),
                outcome.taken_elsewhere
            )
        };
    opts.log.emit(
        &summary,
        serde_json::json!({"event": "sweep_done", "sweep": spec.name, "trained": outcome.trained,
                           "already_done": outcome.already_done, "failed": outcome.failed.len(),
                           "held_elsewhere": outcome.taken_elsewhere}),
    );
    print_sweep_report(
        &store,
        &spec.name,
        &report_dir,
        &report::ReportOptions {
            artifacts: results.clone(),
            ..Default::default()
        },
    )?;
    if outcome.failed.is_empty() {
        return Ok(true);
    }
    eprintln!("\n{} runs failed:", outcome.failed.len());
    for (key, label, error) in &outcome.failed {
        eprintln!("  {key}  {label}: {error}");
    }
    eprintln!("(`anolab sweep ... --rerun-failed` retries them)");
    Ok(false)
}

/// Plans a sweep into the queue (its data checked first) and says what is queued.
fn enqueue(store: &Store, spec: &SweepSpec, runs: &[RunSpec], opts: &SweepOptions) -> Result<()> {
    runner::load_data(runs)?;
    let total = runner::enqueue(store, spec, runs, opts)?;
    let pending = store.pending(Some(&spec.name))?;
    println!(
        "sweep `{}`: {total} runs planned, {} queued ({} can start now)",
        spec.name, pending.queued, pending.claimable
    );
    Ok(())
}

/// Queues the launcher's sweep and returns what every task runs.
fn launch_plan(args: &LaunchArgs, anolab_binary: PathBuf) -> Result<anolab::launch::Launch> {
    let overrides = args
        .overrides
        .iter()
        .map(|o| config::parse_override(o))
        .collect::<Result<Vec<_>, _>>()?;
    let (spec, runs) = plan::load(&args.file, &overrides, args.max_runs)?;
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    let store = Store::open(&args.db.db)?;
    let cwd = std::env::current_dir().context("the current folder")?;
    let absolute = |p: PathBuf| if p.is_absolute() { p } else { cwd.join(p) };
    let artifacts = absolute(args.db.results_dir());
    anolab::paths::dir_under(&artifacts, Path::new(&spec.name))?;
    let opts = SweepOptions {
        jobs: 1,
        devices: DeviceSpec::Cpu,
        force: false,
        rerun_failed: false,
        results_dir: artifacts.clone(),
        source_file: args.file.display().to_string(),
        log: runner::LogFormat::Quiet,
    };
    enqueue(&store, &spec, &runs, &opts)?;
    let db = match &args.db.db {
        Location::Sqlite(path) => Location::Sqlite(absolute(path.clone())),
        url => url.clone(),
    };
    Ok(anolab::launch::Launch {
        sweep: spec.name.clone(),
        workers: args.workers,
        db,
        artifacts,
        workdir: absolute(args.workdir.clone().unwrap_or_else(|| cwd.clone())),
        anolab: absolute(anolab_binary),
        cpus_per_worker: args.cpus_per_worker,
        gpus_per_worker: args.gpus_per_worker,
        jobs_per_worker: args.jobs_per_worker,
        lease_seconds: args.lease_seconds,
    })
}

fn slurm(args: SlurmArgs) -> Result<()> {
    let binary = match &args.anolab {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("finding the anolab binary")?,
    };
    let launch = launch_plan(&args.launch, binary)?;
    if matches!(launch.db, Location::Sqlite(_)) && launch.workers > 1 {
        eprintln!(
            "warning: a SQLite store is safe for workers on one node only (its file on a local disk); \
             for tasks on several nodes give --db postgres://…"
        );
    }
    let script = anolab::launch::slurm_script(
        &launch,
        &anolab::launch::SlurmOptions {
            time: args.time.clone(),
            partition: args.partition.clone(),
            mem: args.mem.clone(),
        },
    );
    let out = args
        .launch
        .out
        .clone()
        .unwrap_or_else(|| launch.artifacts.join(&launch.sweep).join("slurm.sbatch"));
    std::fs::write(&out, script).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} array tasks)", out.display(), launch.workers);
    if args.submit {
        let submitted = std::process::Command::new("sbatch")
            .arg("--parsable")
            .arg(&out)
            .output()
            .context("running sbatch (is Slurm installed here?)")?;
        if !submitted.status.success() {
            bail!(
                "sbatch {} failed: {}",
                out.display(),
                String::from_utf8_lossy(&submitted.stderr).trim()
            );
        }
        let job = String::from_utf8_lossy(&submitted.stdout)
            .trim()
            .to_string();
        println!(
            "submitted job {job}; follow it with `anolab status --db {} --sweep {} --watch`",
            launch.db, launch.sweep
        );
    } else {
        println!("submit it with: sbatch {}", out.display());
    }
    Ok(())
}

fn k8s(args: K8sArgs) -> Result<()> {
    let Location::Postgres(_) = &args.launch.db.db else {
        bail!("pods on many nodes need a store they all reach: give --db postgres://…");
    };
    let launch = launch_plan(&args.launch, PathBuf::from("anolab"))?;
    let job = anolab::launch::kubernetes_job(
        &launch,
        &anolab::launch::KubernetesOptions {
            image: args.image.clone(),
            db_secret: args.db_secret.clone(),
            artifacts_claim: args.artifacts_claim.clone(),
        },
    );
    let out = args
        .launch
        .out
        .clone()
        .unwrap_or_else(|| launch.artifacts.join(&launch.sweep).join("k8s-job.json"));
    std::fs::write(&out, serde_json::to_string_pretty(&job)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} (an Indexed Job of {} pods); then:\n  kubectl create secret generic {} --from-literal=url='<the --db URL, {}>'\n  kubectl apply -f {}",
        out.display(),
        launch.workers,
        args.db_secret,
        args.launch.db.db,
        out.display()
    );
    Ok(())
}

fn worker(args: WorkerArgs) -> Result<bool> {
    let store = Store::open(&args.db.db)?;
    let results = args.db.results_dir();
    anolab::paths::dir_under(&results, Path::new("runs"))?;
    let opts = runner::WorkOptions {
        jobs: args.jobs,
        devices: args.device.parse()?,
        results_dir: results,
        log: args.log_format,
        sweep: args.sweep.clone(),
        max_runs: args.max_runs,
        exit_when_idle: args.exit_when_idle,
        lease: std::time::Duration::from_secs(args.lease_seconds.max(4)),
        max_attempts: args.max_attempts.max(1),
    };
    if let Some(sweep) = &args.sweep {
        if !store.sweeps()?.contains(sweep) {
            bail!(
                "no sweep `{sweep}` in the store {} (queue it with `anolab sweep FILE --enqueue`)",
                args.db.db
            );
        }
    }
    let outcome = runner::work(&store, &opts, runner::Known::default())?;
    opts.log.emit(
        &format!(
            "worker done: claimed {}, trained {}, failed {}, lost their lease {}, stopped and put back {}",
            outcome.claimed, outcome.trained, outcome.failed, outcome.lost, outcome.released
        ),
        serde_json::json!({"event": "worker_done", "claimed": outcome.claimed,
                           "trained": outcome.trained, "failed": outcome.failed,
                           "lost": outcome.lost, "released": outcome.released}),
    );
    Ok(outcome.failed == 0)
}

fn status(args: StatusArgs) -> Result<()> {
    let store = Store::open_read_only(&args.db.db)?;
    if let Some(sweep) = &args.sweep {
        if !store.sweeps()?.contains(sweep) {
            bail!("no sweep `{sweep}` in the store {}", args.db.db);
        }
    }
    loop {
        let s = store.queue_status(args.sweep.as_deref())?;
        let count = |status: RunStatus| {
            s.counts
                .iter()
                .find(|(st, _)| *st == status)
                .map_or(0, |(_, n)| *n)
        };
        let counts: Vec<String> = s
            .counts
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        let queued = count(RunStatus::Queued);
        println!(
            "{}: {} ({} of the queued can start now)",
            args.sweep.as_deref().unwrap_or("all sweeps"),
            counts.join(", "),
            s.claimable
        );
        let per_hour = s.finished_recently as f64 * 3600.0 / anolab::store::RECENT_S as f64;
        if s.finished_recently > 0 {
            let left = queued + s.running.len() as i64;
            println!(
                "throughput: {per_hour:.1} runs/hour (last {} min); ETA for {left} runs: {}",
                anolab::store::RECENT_S / 60,
                runner::format_duration(left as f64 / per_hour * 3600.0)
            );
        } else {
            println!(
                "throughput: no run finished in the last {} min",
                anolab::store::RECENT_S / 60
            );
        }
        if !s.running.is_empty() {
            let header: Vec<String> = [
                "run",
                "model",
                "worker",
                "device",
                "attempt",
                "epoch",
                "running",
                "heartbeat",
            ]
            .map(String::from)
            .to_vec();
            let rows: Vec<Vec<String>> = s
                .running
                .iter()
                .map(|r| {
                    vec![
                        r.key.clone(),
                        r.model.clone(),
                        r.owner.clone(),
                        r.device.clone(),
                        r.attempt.to_string(),
                        r.epoch.map_or("-".into(), |e| (e + 1).to_string()),
                        runner::format_duration(r.running_s),
                        format!("{} ago", runner::format_duration(r.heartbeat_age_s)),
                    ]
                })
                .collect();
            println!("{}", report::text_table(&header, &rows));
        }
        if !args.watch || queued + s.running.len() as i64 == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(10));
        println!();
    }
}

fn print_dry_run(spec: &SweepSpec, runs: &[RunSpec], db: &Location) -> Result<()> {
    let exists = match db {
        Location::Sqlite(path) => path.is_file(),
        Location::Postgres(_) => true,
    };
    let stored: HashMap<String, RunStatus> = if exists {
        Store::open_read_only(db)?
            .runs(None, None)?
            .into_iter()
            .map(|r| (r.key, r.status))
            .collect()
    } else {
        HashMap::new()
    };
    let mut header = vec!["key".to_string()];
    header.extend(spec.axes.iter().map(|a| a.key.clone()));
    header.push("status".into());
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            let mut row = vec![run.key.clone()];
            row.extend(spec.axes.iter().map(|a| a.value_of(&run.config)));
            row.push(stored.get(&run.key).map_or("new", |s| s.as_str()).into());
            row
        })
        .collect();
    println!("{}", report::text_table(&header, &rows));
    let listed: std::collections::HashSet<&str> = runs.iter().map(|r| r.key.as_str()).collect();
    let mut needed: Vec<(&str, &str)> = runs
        .iter()
        .flat_map(|r| &r.dependencies)
        .filter(|(_, d)| !listed.contains(d.key.as_str()))
        .map(|(role, d)| (role.as_str(), d.key.as_str()))
        .collect();
    needed.sort_unstable();
    needed.dedup();
    println!(
        "sweep `{}`: {} runs over {}{} (dry run: nothing trained)",
        spec.name,
        runs.len(),
        spec.describe_grid(),
        if needed.is_empty() {
            String::new()
        } else {
            format!(
                ", plus {} runs they depend on ({}), trained first",
                needed.len(),
                needed
                    .iter()
                    .map(|(role, _)| *role)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    if let Some(first) = runs.first() {
        println!("first run's resolved config: {}", first.canonical);
    }
    Ok(())
}

/// Prints the results table and renders the full report of a sweep into `out_dir`.
fn print_sweep_report(
    store: &Store,
    sweep: &str,
    out_dir: &Path,
    opts: &report::ReportOptions,
) -> Result<()> {
    let start = std::time::Instant::now();
    let Some(r) = report::render(store, sweep, out_dir, opts)? else {
        println!("no finished runs in sweep `{sweep}` yet");
        return Ok(());
    };
    println!("\n{}", report::format_table(&r.summary));
    for note in &r.notes {
        println!("not drawn: {note}");
    }
    println!(
        "report: {} ({} figures as PNG and SVG, results.csv; {:.1} s)",
        r.markdown.display(),
        r.figures.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn query(args: QueryArgs) -> Result<()> {
    let store = if args.write {
        Store::open(&args.db.db)?
    } else {
        Store::open_read_only(&args.db.db)?
    };
    let result = store.query(&args.sql)?;
    match args.format {
        Format::Table => {
            let rows: Vec<Vec<String>> = result
                .rows
                .iter()
                .map(|r| r.iter().map(report::cell_text).collect())
                .collect();
            println!("{}", report::text_table(&result.columns, &rows));
            println!("({} rows)", rows.len());
        }
        Format::Csv => print!("{}", report::to_csv(&result)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&to_json(&result))?),
    }
    Ok(())
}

fn to_json(result: &QueryResult) -> serde_json::Value {
    let rows = result
        .rows
        .iter()
        .map(|row| {
            let object = result
                .columns
                .iter()
                .zip(row)
                .map(|(c, cell)| {
                    let v = match cell {
                        Cell::Null => serde_json::Value::Null,
                        Cell::Int(i) => (*i).into(),
                        Cell::Real(f) => serde_json::Number::from_f64(*f)
                            .map_or(serde_json::Value::Null, serde_json::Value::Number),
                        Cell::Text(s) => s.clone().into(),
                        Cell::Blob(n) => format!("<blob {n} bytes>").into(),
                    };
                    (c.clone(), v)
                })
                .collect();
            serde_json::Value::Object(object)
        })
        .collect();
    serde_json::Value::Array(rows)
}

fn runs(args: RunsArgs) -> Result<()> {
    let status = args
        .status
        .as_deref()
        .map(str::parse::<RunStatus>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let store = Store::open_read_only(&args.db.db)?;
    let rows: Vec<Vec<String>> = store
        .runs(args.sweep.as_deref(), status)?
        .into_iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.key,
                r.sweep,
                r.model,
                r.seed.to_string(),
                r.fold.to_string(),
                r.status.to_string(),
                r.auc_roc.map_or("-".into(), |a| format!("{a:.4}")),
                r.duration_s.map_or("-".into(), |d| format!("{d:.1}")),
                r.error.unwrap_or_default(),
            ]
        })
        .collect();
    let header: Vec<String> = [
        "id",
        "key",
        "sweep",
        "model",
        "seed",
        "fold",
        "status",
        "test auc_roc",
        "seconds",
        "error",
    ]
    .map(String::from)
    .to_vec();
    println!("{}", report::text_table(&header, &rows));
    Ok(())
}

fn show(args: ShowArgs) -> Result<()> {
    let store = Store::open_read_only(&args.db.db)?;
    let d = store.run_detail(&args.run)?;
    let r = &d.row;
    println!(
        "run {} (id {}) of sweep `{}`: {}",
        r.key, r.id, r.sweep, r.status
    );
    if let Some(e) = &r.error {
        println!("error: {e}");
    }
    println!("\nparams:");
    for (k, v) in &d.params {
        println!("  {k} = {v}");
    }
    if !d.metrics.is_empty() {
        println!("\nmetrics:");
        for m in &d.metrics {
            println!("  {:>5} {:<16} {:.6}", m.split, m.name, m.value);
        }
    }
    let epochs = store.epochs(&[r.id])?;
    if !epochs.is_empty() {
        let mut names: Vec<&str> = epochs.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut by_epoch: std::collections::BTreeMap<i64, HashMap<&str, f64>> = Default::default();
        for e in &epochs {
            by_epoch
                .entry(e.epoch)
                .or_default()
                .insert(e.name.as_str(), e.value);
        }
        let mut header = vec!["epoch".to_string()];
        header.extend(names.iter().map(|n| n.to_string()));
        let rows: Vec<Vec<String>> = by_epoch
            .iter()
            .map(|(e, values)| {
                let mut row = vec![e.to_string()];
                row.extend(
                    names
                        .iter()
                        .map(|n| values.get(n).map_or("-".into(), |v| format!("{v:.5}"))),
                );
                row
            })
            .collect();
        println!("\nepochs:\n{}", report::text_table(&header, &rows));
    }
    for (kind, path) in &d.artifacts {
        println!("{kind}: {path}");
    }
    println!("\nconfig: {}", d.config_json);
    Ok(())
}

fn report_cmd(args: ReportArgs) -> Result<()> {
    let store = Store::open_read_only(&args.db.db)?;
    let sweeps = match args.sweep {
        Some(s) => vec![s],
        None => store.sweeps()?,
    };
    if sweeps.is_empty() {
        bail!("the store {} holds no sweeps", args.db.db);
    }
    if !args.run.is_empty() && sweeps.len() > 1 {
        bail!("--run names runs of one sweep: add --sweep NAME");
    }
    let opts = report::ReportOptions {
        runs: args.run.clone(),
        skip_overlays: args.no_overlays,
        artifacts: args.db.results_dir(),
    };
    for name in sweeps {
        println!("== sweep `{name}`");
        let out = match &args.out {
            Some(out) => out.clone(),
            None => {
                // A name stored by an older version may not be safe as a folder name.
                config::sweep::check_name(&name)
                    .map_err(|e| anyhow::anyhow!("{e}; give --out DIR"))?;
                anolab::paths::dir_under(&args.db.results_dir(), Path::new(&name))?
            }
        };
        print_sweep_report(&store, &name, &out, &opts)
            .with_context(|| format!("reporting sweep `{name}`"))?;
    }
    Ok(())
}

/// `Ok(false)` when some runs could not be rescored (listed).
fn rescore(args: RescoreArgs) -> Result<bool> {
    let store = Store::open(&args.db.db)?;
    let outcomes = anolab::rescore::rescore(&store, args.sweep.as_deref(), |run, outcome| {
        if let anolab::rescore::Rescored::Skipped(why) = outcome {
            eprintln!("skipped {}: {why}", run.row.key);
        }
    })?;
    let done: usize = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, anolab::rescore::Rescored::Done(_)))
        .count();
    println!(
        "rescored {done} of {} runs from their stored scores",
        outcomes.len()
    );
    Ok(done == outcomes.len())
}

fn bench(args: BenchArgs) -> Result<()> {
    let devices: DeviceSpec = args.device.parse()?;
    let (device_name, device) = devices.pick(0)?;
    let precision: anolab::models::Precision = args.precision.parse()?;
    let _precision = anolab::runner::hold_precision(precision, &device)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let opts = anolab::bench::BenchOptions {
        repeats: args.repeats.max(1),
        only: args.only,
        mitdb: Some(&args.mitdb),
        device: &device,
        postgres: args.postgres,
    };
    let timings = anolab::bench::run(&opts, |name| eprintln!("timing {name} ..."))?;
    let header: Vec<String> = ["benchmark", "unit", "median", "min", "max", "n"]
        .map(String::from)
        .to_vec();
    let rows: Vec<Vec<String>> = timings
        .iter()
        .map(|t| {
            let (median, min, max) = t.summary();
            let fmt = |v: f64| {
                if v >= 100.0 {
                    format!("{v:.0}")
                } else if v >= 0.1 {
                    format!("{v:.4}")
                } else {
                    // GPU steps take milliseconds: microsecond resolution.
                    format!("{v:.6}")
                }
            };
            vec![
                t.name.clone(),
                t.unit.into(),
                fmt(median),
                fmt(min),
                fmt(max),
                t.samples.len().to_string(),
            ]
        })
        .collect();
    println!("{}", report::text_table(&header, &rows));
    println!(
        "(device {device_name}, {threads} CPU threads, {})",
        precision.name()
    );
    Ok(())
}

fn datasets(args: DatasetsArgs) -> Result<()> {
    let configs: Vec<(config::DatasetConfig, usize)> = match &args.file {
        None => {
            if !args.overrides.is_empty() {
                bail!("overrides need a sweep file: anolab datasets FILE.yaml key=value ...");
            }
            vec![
                (
                    serde_json::from_value(serde_json::json!({"name": "mitdb"}))?,
                    0,
                ),
                (
                    serde_json::from_value(serde_json::json!({"name": "digits"}))?,
                    0,
                ),
            ]
        }
        Some(file) => {
            let overrides = args
                .overrides
                .iter()
                .map(|o| config::parse_override(o))
                .collect::<Result<Vec<_>, _>>()?;
            let spec = config::load_sweep(file, &overrides)?;
            let mut seen = Vec::new();
            for run in spec.runs() {
                let entry = (run.dataset, run.fold);
                if !seen.contains(&entry) {
                    seen.push(entry);
                }
            }
            seen
        }
    };
    for (dataset, fold) in &configs {
        print!("{}", data::describe(dataset, *fold)?);
    }
    Ok(())
}
