//! Runs sweeps: plans them into the store's queue, and works the queue as a worker
//! (`anolab worker`; `anolab sweep` is a plan plus one local worker): claims runs whose
//! dependencies are done, trains them (several at once with `--jobs`) while renewing
//! their lease, hands each its finished dependencies, isolates failures, shows
//! progress, and hands every result to the store. It decides nothing about a run's
//! identity (that is `plan`'s) and writes no SQL (that is the store's).

mod device;
mod progress;
mod resume;
mod train;

pub use device::{hold_precision, DeviceSpec, PrecisionHold};
pub use progress::{duration as format_duration, LogFormat};

use crate::config::{RunConfig, SweepSpec};
use crate::data::Split;
use crate::kinds::{RunStatus, SplitName};
use crate::models::Finished;
use crate::plan::{self, RunSpec};
use crate::stop;
use crate::store::{Claimant, Claimed, LeaseLost, Requeue, Store, SweepRecord, DEFAULT_LEASE};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use progress::Progress;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

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

/// Plans `runs` in the store and trains every one that is not done, as a local worker
/// on this sweep ([`work`]) that stops when nothing of the sweep is left it could
/// claim. Every dataset is opened first ([`load_data`]): bad data refuses the sweep
/// before anything is stored.
pub fn run_sweep(
    store: &Store,
    sweep: &SweepSpec,
    runs: &[RunSpec],
    opts: &SweepOptions,
) -> Result<SweepOutcome> {
    let labels = run_labels(sweep, runs);
    let runs = plan::with_dependencies(runs);
    let splits = load_data(&runs)?;
    let planned = plan_in_store(store, sweep, &runs, opts)?;
    let before = store.runs(Some(&sweep.name), None)?;
    let already_done = before
        .iter()
        .filter(|r| r.status == RunStatus::Done)
        .count();
    let known: HashMap<String, RunSpec> = runs.into_iter().map(|r| (r.key.clone(), r)).collect();
    let work_opts = WorkOptions {
        jobs: opts.jobs,
        devices: opts.devices.clone(),
        results_dir: opts.results_dir.clone(),
        log: opts.log,
        sweep: Some(sweep.name.clone()),
        max_runs: None,
        exit_when_idle: true,
        lease: DEFAULT_LEASE,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
    };
    let worked = work(
        store,
        &work_opts,
        Known {
            specs: known,
            labels: labels.clone(),
            splits,
        },
    )?;

    let mut outcome = SweepOutcome {
        total: planned,
        already_done,
        trained: worked.trained,
        ..Default::default()
    };
    for run in store.runs(Some(&sweep.name), None)? {
        match run.status {
            RunStatus::Done => {}
            RunStatus::Failed => outcome.failed.push((
                run.key.clone(),
                labels.get(&run.key).cloned().unwrap_or_default(),
                run.error.unwrap_or_default(),
            )),
            RunStatus::Queued | RunStatus::Running => outcome.taken_elsewhere += 1,
        }
    }
    Ok(outcome)
}

/// Plans a sweep's runs (dependencies included) in the store, trains nothing, and
/// returns how many runs the sweep has: `anolab sweep --enqueue`, for workers to take.
/// Runs left `running` by processes that are gone go back to the queue; `--force` and
/// `--rerun-failed` queue done or failed runs again. The caller checks the data first
/// ([`load_data`]).
pub fn enqueue(
    store: &Store,
    sweep: &SweepSpec,
    runs: &[RunSpec],
    opts: &SweepOptions,
) -> Result<usize> {
    plan_in_store(store, sweep, &plan::with_dependencies(runs), opts)
}

/// [`enqueue`] of runs already in dependency order.
fn plan_in_store(
    store: &Store,
    sweep: &SweepSpec,
    runs: &[RunSpec],
    opts: &SweepOptions,
) -> Result<usize> {
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
    let planned = store.plan(&record, runs)?;
    for note in store.reclaim_abandoned(&host, DEFAULT_MAX_ATTEMPTS)? {
        eprintln!("{note}");
    }
    let ids: Vec<i64> = planned.iter().map(|p| p.id).collect();
    if opts.force {
        store.requeue(&ids, Requeue::All)?;
    } else if opts.rerun_failed {
        store.requeue(&ids, Requeue::Failed)?;
    }
    Ok(planned.len())
}

/// A worker's attempts before it gives a run up whose lease keeps expiring.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// How a worker takes runs from the queue (`anolab worker`, and `anolab sweep`'s own).
#[derive(Debug, Clone)]
pub struct WorkOptions {
    /// Runs trained at once, as threads of this process.
    pub jobs: usize,
    pub devices: DeviceSpec,
    /// Checkpoints go to `<results_dir>/runs/<key>/`.
    pub results_dir: PathBuf,
    pub log: LogFormat,
    /// Only runs of this sweep (default: any).
    pub sweep: Option<String>,
    /// Stop after claiming this many runs.
    pub max_runs: Option<usize>,
    /// Stop when nothing can be claimed (instead of waiting for new runs).
    pub exit_when_idle: bool,
    pub lease: Duration,
    pub max_attempts: u32,
}

/// What a worker knows before it starts: runs already keyed (`anolab sweep` keyed them
/// while planning), their labels, and splits already loaded. A worker starts with none
/// and keys, labels and loads what it claims.
#[derive(Default)]
pub struct Known {
    pub specs: HashMap<String, RunSpec>,
    pub labels: HashMap<String, String>,
    pub splits: Splits,
}

/// What a worker did.
#[derive(Debug, Default)]
pub struct WorkOutcome {
    pub claimed: usize,
    pub trained: usize,
    pub failed: usize,
    /// Attempts whose lease was lost while they trained: their results were dropped.
    pub lost: usize,
    /// Runs put back in the queue because a stop was asked for (a signal).
    pub released: usize,
}

/// How long an idle worker waits before it looks at the queue again.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How long a worker waits for its sibling jobs to finish runs that may unblock others.
const SIBLING_POLL: Duration = Duration::from_millis(200);

/// Claims runs from the queue and trains them until the queue is empty
/// (`exit_when_idle`) or `max_runs` are claimed, `jobs` at a time.
///
/// candle's CPU kernels parallelise on the current rayon pool. With one job the run
/// goes on the global pool (all cores, or `RAYON_NUM_THREADS`). With N jobs, each job
/// thread trains inside its own pool of cores/N threads: in one shared pool, a job
/// waiting inside a kernel would steal and run another whole run, and on 16 cores 16
/// jobs then finished nothing for minutes.
pub fn work(store: &Store, opts: &WorkOptions, known: Known) -> Result<WorkOutcome> {
    let host = hostname();
    let pending = store.pending(opts.sweep.as_deref())?;
    let expected = match opts.max_runs {
        Some(n) => n.min(pending.queued as usize),
        None => pending.queued as usize,
    };
    let progress = Progress::new(opts.log, expected);
    let jobs = opts.jobs.max(1);
    let ctx = Worker {
        store,
        opts,
        progress: &progress,
        owner: format!("{host}:{}", std::process::id()),
        host,
        known: Mutex::new(known),
        fingerprints: Mutex::new(HashMap::new()),
        claimed: AtomicUsize::new(0),
        active: AtomicUsize::new(0),
        outcome: Mutex::new(WorkOutcome::default()),
    };
    let threads_per_job = threads_per_job(jobs);
    if jobs == 1 {
        // On the calling thread: `main` runs on a worker of the rayon pool, where every
        // parallel kernel is a cheap in-pool fork; from a thread beside the pool each
        // one is a hand-off that parks the caller (the quick start spent 12.8 s in the
        // kernel that way, 5.3 s on the pool's worker).
        ctx.job_loop(0)?;
    } else {
        std::thread::scope(|s| -> Result<()> {
            let handles: Vec<_> = (0..jobs)
                .map(|job| {
                    let ctx = &ctx;
                    s.spawn(move || -> Result<()> {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads_per_job)
                            .build()?;
                        pool.install(|| ctx.job_loop(job))
                    })
                })
                .collect();
            for h in handles {
                h.join().expect("a job thread panicked")?;
            }
            Ok(())
        })?;
    }
    progress.finish();
    Ok(ctx.outcome.into_inner().expect("outcome lock"))
}

/// What every job of a worker shares.
struct Worker<'a> {
    store: &'a Store,
    opts: &'a WorkOptions,
    progress: &'a Progress,
    host: String,
    owner: String,
    known: Mutex<Known>,
    /// Dataset fingerprints by dataset settings, for keying claimed runs.
    fingerprints: Mutex<HashMap<String, String>>,
    claimed: AtomicUsize,
    /// Runs this worker's jobs are training now.
    active: AtomicUsize,
    outcome: Mutex<WorkOutcome>,
}

impl Worker<'_> {
    /// One job: claim, train, repeat, until nothing is left or the budget is spent.
    fn job_loop(&self, job: usize) -> Result<()> {
        let (device_name, device) = self.opts.devices.pick(job)?;
        let who = Claimant {
            owner: &self.owner,
            device: &device_name,
            lease: self.opts.lease,
        };
        let sweep = self.opts.sweep.as_deref();
        let mut store_errors = 0;
        loop {
            if stop::requested() {
                return Ok(());
            }
            // A slot of `--max-runs` is taken before the claim, so that jobs claiming
            // at once cannot overshoot it; given back if nothing was claimed.
            let slot = self.claimed.fetch_add(1, Ordering::SeqCst);
            if self.opts.max_runs.is_some_and(|n| slot >= n) {
                self.claimed.fetch_sub(1, Ordering::SeqCst);
                return Ok(());
            }
            // Counted active before the claim, so that a sibling never sees an empty
            // queue and no run in flight between this claim and its training.
            self.active.fetch_add(1, Ordering::SeqCst);
            let claimed = self.claim(sweep, &who);
            let claimed = match claimed {
                Ok(Some(c)) => {
                    store_errors = 0;
                    c
                }
                other => {
                    self.active.fetch_sub(1, Ordering::SeqCst);
                    self.claimed.fetch_sub(1, Ordering::SeqCst);
                    let idle = other.and_then(|_| self.idle(sweep));
                    match idle {
                        Ok(Idle::Exit) => return Ok(()),
                        Ok(Idle::Again) => store_errors = 0,
                        // A store that restarts or stays busy for a while must not end a
                        // long-lived worker; one that stays away does.
                        Err(e) if store_errors < MAX_STORE_ERRORS => {
                            store_errors += 1;
                            self.progress.note(&format!(
                                "the store failed ({e:#}); trying again in {} s ({store_errors}/{MAX_STORE_ERRORS})",
                                IDLE_POLL.as_secs()
                            ));
                            std::thread::sleep(IDLE_POLL);
                        }
                        Err(e) => return Err(e),
                    }
                    continue;
                }
            };
            let result = self.train_claimed(&claimed, &device);
            self.active.fetch_sub(1, Ordering::SeqCst);
            self.progress.run_ended();
            let mut outcome = self.outcome.lock().expect("outcome lock");
            outcome.claimed += 1;
            match result {
                Trained::Done => outcome.trained += 1,
                Trained::Failed => outcome.failed += 1,
                Trained::Lost => outcome.lost += 1,
                Trained::Released => outcome.released += 1,
            }
        }
    }

    /// Puts abandoned runs back in the queue, then claims the next claimable run.
    fn claim(&self, sweep: Option<&str>, who: &Claimant) -> Result<Option<Claimed>> {
        for note in self
            .store
            .reclaim_abandoned(&self.host, self.opts.max_attempts)?
        {
            self.progress.note(&note);
        }
        self.store.claim_next(sweep, who)
    }

    /// Nothing could be claimed: whether to look again (after a pause) or stop. A
    /// worker waits while its sibling jobs train (they may unblock dependents) and
    /// while runs are held elsewhere (they unblock dependents when done, or come back
    /// to the queue when their worker dies, and someone must be there to take them).
    fn idle(&self, sweep: Option<&str>) -> Result<Idle> {
        if self.store.fail_orphans()? > 0 {
            return Ok(Idle::Again);
        }
        if self.active.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(SIBLING_POLL);
            return Ok(Idle::Again);
        }
        let pending = self.store.pending(sweep)?;
        if pending.claimable > 0 {
            return Ok(Idle::Again);
        }
        if self.opts.exit_when_idle && pending.running == 0 {
            return Ok(Idle::Exit);
        }
        std::thread::sleep(IDLE_POLL);
        Ok(Idle::Again)
    }

    /// Trains one claimed run and stores what came of it.
    fn train_claimed(&self, claimed: &Claimed, device: &Device) -> Trained {
        let attempt = &claimed.attempt;
        let run = match self.spec(claimed) {
            Ok(run) => run,
            Err(e) => return self.failed(claimed, &claimed.key, &format!("{e:#}"), 0.0),
        };
        let label = self.label(&run);
        let mut dependencies = Vec::new();
        for (role, dependency) in &run.dependencies {
            let stored = match self.store.dependency(&dependency.key) {
                Ok(stored) => stored,
                Err(e) => return self.failed(claimed, &label, &format!("{e:#}"), 0.0),
            };
            let Some(checkpoint) = stored.checkpoint else {
                let error = format!("its {role} {} has no checkpoint", dependency.key);
                return self.failed(claimed, &label, &error, 0.0);
            };
            dependencies.push(Finished {
                role: role.clone(),
                checkpoint: crate::paths::artifact(&self.opts.results_dir, &checkpoint),
                auc_roc: stored.auc_roc,
            });
        }
        let shown = self.progress.run(&run.key, &label);
        let lost = AtomicBool::new(false);
        let (stop, stopped) = mpsc::channel::<()>();
        let result = std::thread::scope(|s| {
            // The lease is renewed beside the training, so that a long batch, the test
            // scoring or a slow data read never lets it lapse.
            let (store, lost) = (self.store, &lost);
            s.spawn(move || loop {
                match stopped.recv_timeout(attempt.lease / 4) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Ok(false) = store.renew(attempt) {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                    _ => return,
                }
            });
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let split = self.split(&run)?;
                let job = train::Job {
                    run: &run,
                    attempt,
                    split: &split,
                    device,
                    dependencies: &dependencies,
                };
                train::train_and_evaluate(job, self.store, &shown, &self.opts.results_dir)
            }));
            drop(stop);
            result
        });
        let seconds = shown.seconds();
        let error = match result {
            Ok(Ok(result)) => match self.store.finish(attempt, &result) {
                Ok(()) => {
                    train::clear_checkpoint(&self.opts.results_dir, &run.key);
                    let auc = result
                        .metrics
                        .iter()
                        .find(|m| m.split == SplitName::Test && m.name == "auc_roc")
                        .map_or(f64::NAN, |m| m.value);
                    shown.done(auc);
                    return Trained::Done;
                }
                Err(e) => e,
            },
            Ok(Err(e)) => e,
            Err(panic) => anyhow::anyhow!("panicked: {}", panic_message(&panic)),
        };
        drop(shown);
        if error.downcast_ref::<stop::Stopped>().is_some() {
            return match self.store.release(attempt) {
                Ok(()) => {
                    self.progress.note(&format!(
                        "run {}: stopped on request; back in the queue",
                        run.key
                    ));
                    Trained::Released
                }
                Err(e) => self.failed(claimed, &label, &format!("{e:#}"), seconds),
            };
        }
        if lost.load(Ordering::SeqCst) || error.downcast_ref::<LeaseLost>().is_some() {
            self.progress.note(&format!("run {}: {error:#}", run.key));
            return Trained::Lost;
        }
        // Only while this attempt still holds the run: a lease that lapsed unnoticed may
        // have passed it, checkpoint and all, to another worker.
        if self.store.still_holds(attempt).is_ok() {
            train::clear_checkpoint(&self.opts.results_dir, &run.key);
        }
        self.failed(claimed, &label, &format!("{error:#}"), seconds)
    }

    fn failed(&self, claimed: &Claimed, label: &str, error: &str, seconds: f64) -> Trained {
        self.progress
            .run_failed(&claimed.key, label, error, seconds);
        if let Err(e) = self.store.fail(&claimed.attempt, error, seconds) {
            self.progress
                .note(&format!("(and recording the failure failed: {e:#})"));
        }
        Trained::Failed
    }

    /// The claimed run, keyed: known from planning, or rebuilt from its stored config.
    /// A key that differs from the stored one means the data changed since planning.
    fn spec(&self, claimed: &Claimed) -> Result<RunSpec> {
        if let Some(run) = self.known.lock().expect("known").specs.get(&claimed.key) {
            return Ok(run.clone());
        }
        let config: RunConfig = serde_json::from_str(&claimed.config_json).with_context(|| {
            format!(
                "the stored config of run {} does not read in this anolab ({})",
                claimed.key,
                env!("CARGO_PKG_VERSION")
            )
        })?;
        let dataset = serde_json::to_string(&config.dataset)?;
        let fingerprint = {
            let mut cache = self.fingerprints.lock().expect("fingerprints");
            match cache.get(&dataset) {
                Some(f) => f.clone(),
                None => {
                    let f = config.dataset.fingerprint()?;
                    cache.insert(dataset, f.clone());
                    f
                }
            }
        };
        let run = RunSpec::new(config, &fingerprint);
        if run.key != claimed.key {
            bail!(
                "the files of dataset `{}` are not those the run was planned with (key {} now, {} planned): plan the sweep again on this data",
                run.config.dataset.name(),
                run.key,
                claimed.key
            );
        }
        Ok(run)
    }

    fn label(&self, run: &RunSpec) -> String {
        let known = self.known.lock().expect("known");
        known.labels.get(&run.key).cloned().unwrap_or_else(|| {
            let c = &run.config;
            format!(
                "{} on {} seed={} fold={}",
                c.model.name(),
                c.dataset.name(),
                c.seed,
                c.fold
            )
        })
    }

    fn split(&self, run: &RunSpec) -> Result<Arc<Split>> {
        let key = split_key(run);
        // Holding the lock while loading makes parallel jobs wait for one read instead of
        // all reading the same files at once.
        let mut known = self.known.lock().expect("known");
        if let Some(split) = known.splits.get(&key) {
            return Ok(split.clone());
        }
        let split = Arc::new(run.config.dataset.load(run.config.fold)?);
        known.splits.insert(key, split.clone());
        Ok(split)
    }
}

/// What a worker with nothing to claim does next.
enum Idle {
    Again,
    Exit,
}

/// Store errors in a row a worker rides out (about 20 s) before it gives up.
const MAX_STORE_ERRORS: usize = 10;

/// How one claimed run ended.
enum Trained {
    Done,
    Failed,
    Lost,
    /// Stopped on request and put back in the queue.
    Released,
}

/// How progress lines name each run: a run of the sweep by its values on the sweep's
/// axes (`nz=16 seed=1`), a run it depends on by its role (`teacher beatgan seed=0 fold=0`).
fn run_labels(sweep: &SweepSpec, runs: &[RunSpec]) -> HashMap<String, String> {
    fn dependencies(run: &RunSpec, labels: &mut HashMap<String, String>) {
        for (role, d) in &run.dependencies {
            let c = &d.config;
            labels.entry(d.key.clone()).or_insert_with(|| {
                format!("{role} {} seed={} fold={}", c.model.name(), c.seed, c.fold)
            });
            dependencies(d, labels);
        }
    }
    let mut labels = HashMap::new();
    for run in runs {
        let parts: Vec<String> = sweep
            .axes
            .iter()
            .map(|axis| {
                let short = axis.key.rsplit('.').next().unwrap_or(&axis.key);
                format!("{short}={}", axis.value_of(&run.config))
            })
            .collect();
        let label = if parts.is_empty() {
            run.config.model.name().to_string()
        } else {
            parts.join(" ")
        };
        labels.insert(run.key.clone(), label);
    }
    for run in runs {
        dependencies(run, &mut labels);
    }
    labels
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
