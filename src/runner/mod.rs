//! Runs a planned sweep: claims queued runs, trains them in dependency phases (in
//! parallel with `--jobs`), hands each run its finished dependencies, isolates failures,
//! shows progress, and hands every result to the store. It decides nothing about a run's
//! identity (that is `plan`'s) and writes no SQL (that is the store's).

mod device;
mod progress;
mod train;

pub use device::DeviceSpec;
pub use progress::LogFormat;

use crate::config::SweepSpec;
use crate::data::Split;
use crate::kinds::{RunStatus, SplitName};
use crate::models::Finished;
use crate::plan::{self, RunSpec};
use crate::store::{Requeue, Store, SweepRecord};
use anyhow::Result;
use progress::Progress;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// CPU threads for each of `jobs` runs trained at once: the cores shared out evenly.
/// `main` also exports it as `RAYON_NUM_THREADS` before any thread starts, because
/// candle sizes its own CPU pools from that variable; left at every core, 16 jobs
/// queued on those shared pools and finished nothing for minutes.
pub fn threads_per_job(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

/// How to run a sweep (the `anolab sweep` flags).
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub jobs: usize,
    pub devices: DeviceSpec,
    /// Retrain runs that are already done.
    pub force: bool,
    /// Retry runs that failed before.
    pub rerun_failed: bool,
    /// Checkpoints go to `<results_dir>/runs/<key>/`.
    pub results_dir: PathBuf,
    /// The sweep file as given on the command line, recorded with the sweep.
    pub source_file: String,
    /// How progress is shown (bars, plain lines, JSON, quiet).
    pub log: LogFormat,
}

/// What a sweep invocation did.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    pub total: usize,
    /// Done before this invocation and not retrained.
    pub already_done: usize,
    pub trained: usize,
    /// Runs another process held or claimed first.
    pub taken_elsewhere: usize,
    /// `(key, label, error)` of the runs that failed now or before (without --rerun-failed).
    pub failed: Vec<(String, String, String)>,
}

/// The splits loaded for a sweep, by dataset settings and fold.
pub type Splits = HashMap<String, Arc<Split>>;

/// Which split a run trains on: its dataset settings and fold.
fn split_key(run: &RunSpec) -> String {
    let dataset = serde_json::to_string(&run.config.dataset).expect("a dataset config serialises");
    format!("{dataset}#{}", run.config.fold)
}

/// Opens every distinct dataset and fold of `runs` (their dependencies included), so
/// that bad data is one error per dataset, naming the file and the problem, before any
/// run is queued, instead of a failed run per setting. The splits are kept for the
/// runs (each is read once per process).
pub fn load_data(runs: &[RunSpec]) -> Result<Splits> {
    let mut splits = Splits::new();
    let mut errors = Vec::new();
    let mut pending: Vec<&RunSpec> = runs.iter().collect();
    while let Some(run) = pending.pop() {
        pending.extend(run.dependencies.iter().map(|(_, d)| d));
        let key = split_key(run);
        if splits.contains_key(&key) || errors.iter().any(|(k, _)| *k == key) {
            continue;
        }
        match run.config.dataset.load(run.config.fold) {
            Ok(split) => {
                splits.insert(key, Arc::new(split));
            }
            Err(e) => errors.push((
                key,
                format!(
                    "dataset `{}` (fold {}): {e}",
                    run.config.dataset.name(),
                    run.config.fold
                ),
            )),
        }
    }
    if errors.is_empty() {
        return Ok(splits);
    }
    let mut messages: Vec<String> = errors.into_iter().map(|(_, m)| m).collect();
    messages.sort();
    anyhow::bail!(
        "{} of the sweep's datasets cannot be read, so nothing was queued:\n  {}",
        messages.len(),
        messages.join("\n  ")
    )
}

/// Plans `runs` in the store and trains every one that is not done. Every dataset is
/// opened first ([`load_data`]): bad data refuses the sweep before anything is stored.
pub fn run_sweep(
    store: &Store,
    sweep: &SweepSpec,
    runs: &[RunSpec],
    opts: &SweepOptions,
) -> Result<SweepOutcome> {
    let host = hostname();
    let (git_commit, git_dirty) = git_state();
    let record = SweepRecord {
        name: &sweep.name,
        description: sweep.description.as_deref(),
        spec: &sweep.document,
        source_file: &opts.source_file,
        git_commit,
        git_dirty,
        host: &host,
    };
    let runs = plan::with_dependencies(runs);
    let splits = load_data(&runs)?;
    let planned = store.plan(&record, &runs)?;
    for key in store.reclaim_abandoned(&host)? {
        eprintln!("run {key} was left running by a process that is gone; queued it again");
    }
    let ids: Vec<i64> = planned.iter().map(|p| p.id).collect();
    if opts.force {
        store.requeue(&ids, Requeue::All)?;
    } else if opts.rerun_failed {
        store.requeue(&ids, Requeue::Failed)?;
    }
    let status: HashMap<String, RunStatus> = store
        .runs(Some(&sweep.name), None)?
        .into_iter()
        .map(|r| (r.key, r.status))
        .collect();

    let labels: HashMap<&str, String> = runs
        .iter()
        .map(|r| (r.key.as_str(), run_label(sweep, &runs, r)))
        .collect();
    let mut outcome = SweepOutcome {
        total: runs.len(),
        ..Default::default()
    };
    let mut todo = Vec::new();
    for (run, plan) in runs.iter().zip(&planned) {
        match status.get(&run.key) {
            Some(RunStatus::Queued) => todo.push((run, plan.id)),
            Some(RunStatus::Done) => outcome.already_done += 1,
            Some(RunStatus::Failed) => {
                let error = store
                    .runs(None, Some(RunStatus::Failed))?
                    .into_iter()
                    .find(|r| r.id == plan.id)
                    .and_then(|r| r.error)
                    .unwrap_or_default();
                outcome
                    .failed
                    .push((run.key.clone(), labels[run.key.as_str()].clone(), error));
            }
            _ => outcome.taken_elsewhere += 1,
        }
    }
    if todo.is_empty() {
        return Ok(outcome);
    }

    let progress = Progress::new(opts.log, todo.len());
    let ctx = Shared {
        store,
        progress: &progress,
        devices: &opts.devices,
        next_device: AtomicUsize::new(0),
        owner: format!("{host}:{}", std::process::id()),
        splits: Mutex::new(splits),
        results_dir: &opts.results_dir,
    };
    let one = |(run, id): &(&RunSpec, i64)| {
        let result = ctx.run_one(run, *id, &labels[run.key.as_str()]);
        progress.run_ended();
        (run.key.clone(), result)
    };
    let results = in_phases(todo, opts.jobs.max(1), one)?;
    progress.finish();
    for (key, result) in results {
        match result {
            Ok(true) => outcome.trained += 1,
            Ok(false) => outcome.taken_elsewhere += 1,
            Err(e) => outcome
                .failed
                .push((key.clone(), labels[key.as_str()].clone(), e)),
        }
    }
    Ok(outcome)
}

/// What training one run gave: `(key, Ok(trained) | Err(reason))`.
type RunResultLine = (String, Result<bool, String>);

/// Trains `todo` with `jobs` runs at once, in phases by the depth of their dependencies,
/// so that every dependency is done (or failed) before the runs that need it start.
///
/// candle's CPU kernels parallelise on the current rayon pool. With one job the runs go
/// one after another on the pool `main` runs in (all cores). With N jobs, N worker threads
/// take runs from a queue, each inside its own pool of cores/N threads: in one shared
/// pool, a job waiting inside a kernel would steal and run another whole run, and on
/// 16 cores 16 jobs then finished nothing for minutes.
fn in_phases<'a>(
    todo: Vec<(&'a RunSpec, i64)>,
    jobs: usize,
    one: impl Fn(&(&'a RunSpec, i64)) -> RunResultLine + Sync,
) -> Result<Vec<RunResultLine>> {
    let depth = todo.iter().map(|(r, _)| r.depth()).max().unwrap_or(0);
    let mut phases: Vec<Vec<(&RunSpec, i64)>> = vec![Vec::new(); depth + 1];
    for item in todo {
        phases[item.0.depth()].push(item);
    }
    let threads_per_job = threads_per_job(jobs);
    let mut results: Vec<RunResultLine> = Vec::new();
    for phase in phases {
        if jobs == 1 {
            results.extend(phase.iter().map(&one));
            continue;
        }
        let queue = std::sync::Mutex::new(phase.iter());
        let worker = || -> Result<Vec<RunResultLine>> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads_per_job)
                .build()?;
            let mut done = Vec::new();
            loop {
                let next = queue.lock().expect("run queue").next();
                let Some(item) = next else {
                    return Ok(done);
                };
                done.push(pool.install(|| one(item)));
            }
        };
        std::thread::scope(|s| -> Result<()> {
            let handles: Vec<_> = (0..jobs).map(|_| s.spawn(worker)).collect();
            for h in handles {
                results.extend(h.join().expect("a job thread panicked")?);
            }
            Ok(())
        })?;
    }
    Ok(results)
}

/// What every job of a sweep shares.
struct Shared<'a> {
    store: &'a Store,
    progress: &'a Progress,
    devices: &'a DeviceSpec,
    next_device: AtomicUsize,
    owner: String,
    /// Splits loaded so far, by dataset settings and fold: each is read once per process.
    splits: Mutex<Splits>,
    results_dir: &'a PathBuf,
}

impl Shared<'_> {
    /// Claims, trains and stores one run. Ok(false): another process claimed it first.
    /// Err: the run failed, and is stored as failed with this reason.
    fn run_one(&self, run: &RunSpec, id: i64, label: &str) -> Result<bool, String> {
        let mut dependencies = Vec::new();
        for (role, dependency) in &run.dependencies {
            let stored = match self.store.dependency(&dependency.key) {
                Ok(stored) => stored,
                Err(e) => return Err(self.record_failure(run, id, label, &format!("{e:#}"), 0.0)),
            };
            match stored.status {
                RunStatus::Done => {}
                RunStatus::Failed => {
                    let why = stored.error.unwrap_or_default();
                    let error = format!("its {role} {} failed: {why}", dependency.key);
                    return Err(self.record_failure(run, id, label, &error, 0.0));
                }
                // Held by another process: this run waits for a later sweep.
                RunStatus::Queued | RunStatus::Running => return Ok(false),
            }
            let Some(checkpoint) = stored.checkpoint else {
                let error = format!("its {role} {} has no checkpoint", dependency.key);
                return Err(self.record_failure(run, id, label, &error, 0.0));
            };
            dependencies.push(Finished {
                role: role.clone(),
                checkpoint: checkpoint.into(),
                auc_roc: stored.auc_roc,
            });
        }
        let device_index = self.next_device.fetch_add(1, Ordering::Relaxed);
        let (device_name, device) = match self.devices.pick(device_index) {
            Ok(d) => d,
            Err(e) => return Err(self.record_failure(run, id, label, &format!("{e:#}"), 0.0)),
        };
        match self.store.claim(id, &device_name, &self.owner) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => return Err(format!("{e:#}")),
        }
        let shown = self.progress.run(&run.key, label);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let split = self.split(run)?;
            let job = train::Job {
                run,
                id,
                split: &split,
                device: &device,
                dependencies: &dependencies,
            };
            train::train_and_evaluate(job, self.store, &shown, self.results_dir)
        }));
        let seconds = shown.seconds();
        let error = match result {
            Ok(Ok(result)) => match self.store.finish(id, &result) {
                Ok(()) => {
                    let auc = result
                        .metrics
                        .iter()
                        .find(|m| m.split == SplitName::Test && m.name == "auc_roc")
                        .map_or(f64::NAN, |m| m.value);
                    shown.done(auc);
                    return Ok(true);
                }
                Err(e) => format!("storing the results failed: {e:#}"),
            },
            Ok(Err(e)) => format!("{e:#}"),
            Err(panic) => format!("panicked: {}", panic_message(&panic)),
        };
        drop(shown);
        Err(self.record_failure(run, id, label, &error, seconds))
    }

    fn record_failure(
        &self,
        run: &RunSpec,
        id: i64,
        label: &str,
        error: &str,
        seconds: f64,
    ) -> String {
        self.progress.run_failed(&run.key, label, error, seconds);
        if let Err(e) = self.store.fail(id, error, seconds) {
            self.progress
                .note(&format!("(and recording the failure failed: {e:#})"));
        }
        error.to_string()
    }

    fn split(&self, run: &RunSpec) -> Result<Arc<Split>> {
        let key = split_key(run);
        // Holding the lock while loading makes parallel jobs wait for one read instead of
        // all reading the same files at once.
        let mut cache = self.splits.lock().expect("split cache lock");
        if let Some(split) = cache.get(&key) {
            return Ok(split.clone());
        }
        let split = Arc::new(run.config.dataset.load(run.config.fold)?);
        cache.insert(key, split.clone());
        Ok(split)
    }
}

/// The swept values of a run, e.g. `nz=16 w_adv=0.1 seed=1`; a run the sweep does not
/// list itself is named by its role for the runs that need it (`teacher beatgan seed=0`).
fn run_label(sweep: &SweepSpec, runs: &[RunSpec], run: &RunSpec) -> String {
    let c = &run.config;
    if !sweep.runs.contains(c) {
        let role = runs
            .iter()
            .flat_map(|r| &r.dependencies)
            .find(|(_, d)| d.key == run.key)
            .map_or("dependency", |(role, _)| role.as_str());
        return format!("{role} {} seed={} fold={}", c.model.name(), c.seed, c.fold);
    }
    let parts: Vec<String> = sweep
        .axes
        .iter()
        .map(|axis| {
            let short = axis.key.rsplit('.').next().unwrap_or(&axis.key);
            format!("{short}={}", axis.value_of(&run.config))
        })
        .collect();
    if parts.is_empty() {
        run.config.model.name().to_string()
    } else {
        parts.join(" ")
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// This machine's name, to tell whether a `running` run's process still exists.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// The commit and dirty flag of the git checkout in the working directory, if any.
fn git_state() -> (Option<String>, Option<bool>) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty =
                git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
            (Some(commit), dirty)
        }
        None => (None, None),
    }
}
