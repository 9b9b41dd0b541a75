//! The run queue on SQLite and (when a server is given) PostgreSQL: leases and the
//! fencing of attempts, the attempt limit, dependencies across workers, concurrent
//! claims, and `anolab worker` processes sharing one store (killed ones included).

use crate::common;

use anolab::kinds::RunStatus;
use anolab::store::{Claimant, LeaseLost, Location, RunResult, Store, SweepRecord};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn record(spec: &anolab::config::SweepSpec) -> SweepRecord<'_> {
    SweepRecord {
        name: &spec.name,
        description: None,
        spec: &spec.document,
        source_file: "sweep.yaml",
        git_commit: None,
        git_dirty: None,
        host: "testhost",
    }
}

fn empty_result() -> RunResult {
    RunResult {
        n_params: 1,
        best_epoch: 0,
        protocol: "clean".into(),
        duration_s: 0.1,
        metrics: Vec::new(),
        scores: Vec::new(),
        artifacts: Vec::new(),
    }
}

fn who(owner: &str) -> Claimant<'_> {
    Claimant {
        owner,
        device: "cpu",
        lease: Duration::from_secs(60),
    }
}

/// Makes every running run's lease a thing of the past.
fn expire_leases(store: &Store) {
    store
        .query("UPDATE runs SET lease_until = '2000-01-01T00:00:00.000Z' WHERE status = 'running'")
        .unwrap();
}

#[test]
fn a_worker_that_lost_its_lease_cannot_overwrite_the_newer_attempt() {
    let dir = tempfile::tempdir().unwrap();
    for location in common::stores(dir.path()) {
        let (spec, runs) = common::sweep(dir.path(), common::TINY, &["seeds=0"]);
        let store = Store::open(&location).unwrap();
        store.plan(&record(&spec), &runs).unwrap();
        let first = store
            .claim_next(Some("tiny"), &who("elsewhere:1"))
            .unwrap()
            .unwrap();
        assert_eq!(first.attempt.number, 1);
        assert!(store.renew(&first.attempt).unwrap());
        assert!(store
            .claim_next(None, &who("elsewhere:2"))
            .unwrap()
            .is_none());

        // The worker on `elsewhere` stops renewing; another host sees the lease expired.
        expire_leases(&store);
        let notes = store.reclaim_abandoned("testhost", 3).unwrap();
        assert_eq!(
            notes,
            [format!(
                "run {}: the lease of attempt 1 expired; queued it again",
                first.key
            )]
        );
        let second = store
            .claim_next(Some("tiny"), &who("testhost:2"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (second.key.as_str(), second.attempt.number),
            (first.key.as_str(), 2)
        );

        // The first worker wakes up: every write it tries is refused.
        assert!(!store.renew(&first.attempt).unwrap());
        for refused in [
            store.record_epoch(&first.attempt, 0, &[("err_g".into(), 9.0)]),
            store.finish(&first.attempt, &empty_result()),
        ] {
            let e = refused.unwrap_err();
            assert!(e.downcast_ref::<LeaseLost>().is_some(), "{e:#}");
        }
        store.fail(&first.attempt, "late failure", 1.0).unwrap();
        store
            .record_epoch(&second.attempt, 0, &[("err_g".into(), 0.5)])
            .unwrap();
        store.finish(&second.attempt, &empty_result()).unwrap();

        let rows = store.runs(Some("tiny"), None).unwrap();
        assert_eq!(rows[0].status, RunStatus::Done);
        assert_eq!(rows[0].error, None);
        assert_eq!(
            common::count(&store, "SELECT count(*) FROM epochs WHERE value = 9.0"),
            0
        );
        let attempts = store
            .query("SELECT attempt, owner, outcome FROM attempts ORDER BY attempt")
            .unwrap();
        let text: Vec<String> = attempts.rows.iter().map(|r| format!("{:?}", r)).collect();
        assert_eq!(attempts.rows.len(), 2, "{text:?}");
        assert_eq!(
            attempts.rows[0][2],
            anolab::store::Cell::Text("expired".into())
        );
        assert_eq!(
            attempts.rows[1][2],
            anolab::store::Cell::Text("done".into())
        );
    }
}

#[test]
fn a_run_whose_lease_keeps_expiring_fails_after_the_attempt_limit() {
    let dir = tempfile::tempdir().unwrap();
    for location in common::stores(dir.path()) {
        let (spec, runs) = common::sweep(dir.path(), common::TINY, &["seeds=0"]);
        let store = Store::open(&location).unwrap();
        store.plan(&record(&spec), &runs).unwrap();
        for attempt in 1..=3 {
            let c = store
                .claim_next(None, &who("elsewhere:1"))
                .unwrap()
                .unwrap_or_else(|| panic!("attempt {attempt} could not claim"));
            assert_eq!(c.attempt.number, attempt);
            expire_leases(&store);
            store.reclaim_abandoned("testhost", 3).unwrap();
        }
        assert!(store
            .claim_next(None, &who("elsewhere:1"))
            .unwrap()
            .is_none());
        let failed = store.runs(None, Some(RunStatus::Failed)).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(
            failed[0].error.as_deref(),
            Some("gave up after 3 attempts whose lease expired (the worker died or hung each time; see table attempts)")
        );
        // An interrupted process on this host does not count against the limit.
        assert_eq!(
            store
                .requeue(&[failed[0].id], anolab::store::Requeue::Failed)
                .unwrap(),
            1
        );
        store
            .claim_next(None, &who("testhost:4194304"))
            .unwrap()
            .unwrap();
        store.reclaim_abandoned("testhost", 3).unwrap();
        assert_eq!(store.pending(None).unwrap().claimable, 1);
    }
}

const KD: &str = "
name: kd
dataset: { name: mitdb, path: DATA, records: ['208'], max_train: 64 }
model:
  name: beatgan_kd
  teacher: { nz: 4, ndf: 4, ngf: 4 }
  student_ndf: 4
  student_ngf: 4
  alpha: [0.0, 0.9]
train: { epochs: 1, batch_size: 32, lr: 1.0e-3 }
seeds: [0]
";

#[test]
fn a_student_waits_for_its_teacher_and_fails_with_it() {
    let dir = tempfile::tempdir().unwrap();
    for location in common::stores(dir.path()) {
        let (spec, runs) = common::sweep(dir.path(), KD, &[]);
        let store = Store::open(&location).unwrap();
        let runs = anolab::plan::with_dependencies(&runs);
        store.plan(&record(&spec), &runs).unwrap();
        let pending = store.pending(Some("kd")).unwrap();
        assert_eq!((pending.queued, pending.claimable), (3, 1));
        let teacher = store.claim_next(None, &who("w:1")).unwrap().unwrap();
        assert_eq!(teacher.key, runs[0].key);
        assert!(
            store.claim_next(None, &who("w:2")).unwrap().is_none(),
            "students wait while their teacher trains"
        );
        store
            .fail(&teacher.attempt, "training diverged: err_g = NaN", 1.0)
            .unwrap();
        assert_eq!(store.fail_orphans().unwrap(), 2);
        for student in store.runs(None, Some(RunStatus::Failed)).unwrap() {
            if student.key != teacher.key {
                assert_eq!(
                    student.error.as_deref().unwrap(),
                    format!(
                        "its teacher {} failed: training diverged: err_g = NaN",
                        teacher.key
                    )
                );
            }
        }
        assert_eq!(store.pending(None).unwrap().queued, 0);
    }
}

#[test]
fn concurrent_claimants_take_each_run_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = format!(
        "seeds={}",
        (0..40).map(|s| s.to_string()).collect::<Vec<_>>().join(",")
    );
    for location in common::stores(dir.path()) {
        let (spec, runs) = common::sweep(dir.path(), common::TINY, &[&seeds]);
        Store::open(&location)
            .unwrap()
            .plan(&record(&spec), &runs)
            .unwrap();
        let claimed: Vec<Vec<String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|w| {
                    let location = &location;
                    s.spawn(move || {
                        let store = Store::open(location).unwrap();
                        let owner = format!("testhost:{w}");
                        let mut mine = Vec::new();
                        while let Some(c) = store.claim_next(Some("tiny"), &who(&owner)).unwrap() {
                            store.finish(&c.attempt, &empty_result()).unwrap();
                            mine.push(c.key);
                        }
                        mine
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<&String> = claimed.iter().flatten().collect();
        all.sort();
        let n = all.len();
        all.dedup();
        assert_eq!((n, all.len()), (40, 40), "{location}: every run once");
        let store = Store::open(&location).unwrap();
        assert_eq!(
            common::count(&store, "SELECT count(*) FROM attempts"),
            40,
            "{location}"
        );
    }
}

fn anolab(args: &[&str], dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anolab"));
    c.args(args)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null());
    c
}

/// A worker process on `db`; its stderr goes to `log`.
fn start_worker(dir: &Path, db: &str, log: &Path) -> Child {
    anolab(
        &[
            "worker",
            "--db",
            db,
            "--artifacts",
            "art",
            "--exit-when-idle",
            "--log-format",
            "plain",
            "--lease-seconds",
            "8",
        ],
        dir,
    )
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(log).unwrap())
    .spawn()
    .unwrap()
}

/// A cheap 40-run sweep (a classical baseline, 40 seeds on one record).
const FORTY: &str = "
name: forty
dataset: { name: mitdb, path: DATA, records: ['208'], max_train: 256 }
model: { name: pca }
seeds: [SEEDS]
";

/// Workers that are killed (SIGKILL, SIGTERM) while others start: every run ends
/// done exactly once, no result row is duplicated or left on an unfinished run, and no
/// worker saw the store locked or a migration fail.
#[test]
fn killed_and_restarted_workers_finish_a_sweep_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = (0..40)
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let yaml = FORTY
        .replace("DATA", &common::mini_data())
        .replace("SEEDS", &seeds);
    std::fs::write(dir.path().join("forty.yaml"), yaml).unwrap();
    for (location, workers) in common::stores(dir.path()).into_iter().zip([4usize, 8]) {
        let db = match &location {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => url.clone(),
        };
        let out = anolab(
            &["sweep", "forty.yaml", "--enqueue", "--db", &db],
            dir.path(),
        )
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let start = Instant::now();
        let mut logs = Vec::new();
        let mut live: Vec<Child> = Vec::new();
        let mut spawn = |live: &mut Vec<Child>| {
            let log = dir.path().join(format!("worker{}.log", logs.len()));
            live.push(start_worker(dir.path(), &db, &log));
            logs.push(log);
        };
        for _ in 0..workers {
            spawn(&mut live);
        }
        let (mut kills, mut rng) = (0, anolab::rng::SplitMix64::new(7));
        // Kill a random worker every 300 ms for the first few seconds, starting another.
        while kills < 6 && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(300));
            let i = (rng.next_u64() % live.len() as u64) as usize;
            let signal = if kills % 2 == 0 {
                libc::SIGKILL
            } else {
                libc::SIGTERM
            };
            // SAFETY: signalling a child process we started.
            unsafe { libc::kill(live[i].id() as i32, signal) };
            live.remove(i).wait().unwrap();
            kills += 1;
            spawn(&mut live);
        }
        for mut w in live {
            w.wait().unwrap();
        }
        // Every kill was followed by a new worker, which first takes back the runs of
        // the dead (same host, pid gone): nothing is left for a lease to expire.
        let store = Store::open(&location).unwrap();
        let done = store.runs(Some("forty"), Some(RunStatus::Done)).unwrap();
        assert_eq!(done.len(), 40, "{location}");
        for (table, per_run) in [("scores", 2), ("attempts", 1)] {
            let rows = common::count(
                &store,
                &format!(
                    "SELECT count(*) FROM {table} t JOIN runs r ON r.id = t.run_id
                     WHERE r.status = 'done'{}",
                    if table == "attempts" {
                        " AND t.outcome = 'done'"
                    } else {
                        ""
                    }
                ),
            );
            assert_eq!(rows, 40 * per_run, "{location}: {table}");
        }
        assert_eq!(
            common::count(
                &store,
                "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.status <> 'done'"
            ),
            0
        );
        let attempts = common::count(&store, "SELECT count(*) FROM attempts");
        for log in &logs {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            assert!(
                !text.contains("database is locked") && !text.contains("migrat"),
                "{}: {text}",
                log.display()
            );
        }
        eprintln!(
            "{location}: 40 runs, {workers} workers, {kills} kills, {attempts} attempts, {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
}

/// A worker told to exit when idle waits while a run is held elsewhere: when that
/// worker's lease expires, it takes the run back and trains it, and only then exits.
#[test]
fn an_idle_worker_waits_for_runs_held_elsewhere_and_takes_them_when_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), common::TINY, &["seeds=0"]);
    let db = dir.path().join("store.sqlite");
    let store = Store::open(&db).unwrap();
    store.plan(&record(&spec), &runs).unwrap();
    let held = Claimant {
        owner: "elsewhere:1",
        device: "cpu",
        lease: Duration::from_secs(2),
    };
    store.claim_next(None, &held).unwrap().unwrap();
    let log = dir.path().join("worker.log");
    let status = start_worker(dir.path(), &db.display().to_string(), &log)
        .wait()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{text}");
    assert!(
        text.contains("the lease of attempt 1 expired; queued it again"),
        "{text}"
    );
    let done = store.runs(None, Some(RunStatus::Done)).unwrap();
    assert_eq!(done.len(), 1, "{text}");
    assert_eq!(
        store
            .query("SELECT outcome FROM attempts ORDER BY attempt")
            .unwrap()
            .rows,
        [
            vec![anolab::store::Cell::Text("expired".into())],
            vec![anolab::store::Cell::Text("done".into())]
        ]
    );
}
