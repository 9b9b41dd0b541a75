//! The SQLite store (sqlx): the only place SQL lives besides the user's own `query`.
//! Rows are read by column name into structs; statuses and splits are typed
//! (`kinds`). It knows runs by key, never how they are trained.
//!
//! Runs move `queued → running → done | failed`. Everything a finished run produces
//! (metrics, scores, artifacts, status `done`) is written in one transaction, so an
//! interrupted process never leaves a half-written run marked done.

mod query;
mod views;

pub use query::{Cell, QueryResult};

use crate::kinds::{RunStatus, SplitName};
use crate::plan::RunSpec;
use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::Row;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default location of the store, relative to the working directory.
pub const DEFAULT_DB: &str = "results/anolab.sqlite";

/// A `running` run whose heartbeat is older than this is taken to be abandoned.
const STALE_AFTER: &str = "-10 minutes";

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

pub struct Store {
    pool: SqlitePool,
    rt: tokio::runtime::Runtime,
    path: PathBuf,
}

/// What a sweep's row records besides its runs.
pub struct SweepRecord<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub spec: &'a Value,
    pub source_file: &'a str,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub host: &'a str,
}

/// A run as planned: its id, key and status at planning time.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    pub id: i64,
    pub key: String,
    pub status: RunStatus,
}

/// Which stored runs to put back in the queue before a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// `failed` runs (`--rerun-failed`).
    Failed,
    /// every run, `done` included (`--force`).
    All,
}

/// One metric row.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub split: SplitName,
    pub name: String,
    pub value: f64,
}

/// Labels and scores of one split, kept for ROC/PR curves and histograms.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSet {
    pub split: SplitName,
    pub labels: Vec<bool>,
    pub scores: Vec<f64>,
    pub classes: Vec<String>,
}

/// Everything a finished run stores, written at once by [`Store::finish`].
#[derive(Debug, Clone)]
pub struct RunResult {
    pub n_params: usize,
    pub best_epoch: usize,
    pub protocol: String,
    pub duration_s: f64,
    pub metrics: Vec<Metric>,
    pub scores: Vec<ScoreSet>,
    pub artifacts: Vec<(String, String)>,
}

/// What a dependent run needs to know of the run it depends on (a student's teacher).
#[derive(Debug, Clone)]
pub struct Dependency {
    pub status: RunStatus,
    pub error: Option<String>,
    pub checkpoint: Option<String>,
    pub auc_roc: Option<f64>,
}

/// A row of `anolab runs`.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: i64,
    pub key: String,
    pub sweep: String,
    pub model: String,
    pub seed: i64,
    pub fold: i64,
    pub status: RunStatus,
    pub auc_roc: Option<f64>,
    pub duration_s: Option<f64>,
    pub error: Option<String>,
    /// The epoch whose weights the run kept (model selection), once done.
    pub best_epoch: Option<i64>,
}

/// A run with its parameters, metrics and artifacts, for reports and `anolab show`.
#[derive(Debug, Clone)]
pub struct RunDetail {
    pub row: RunRow,
    pub config_json: String,
    pub params: Vec<(String, Value)>,
    pub metrics: Vec<Metric>,
    pub artifacts: Vec<(String, String)>,
    /// `(role, key)` of each run this one depends on.
    pub dependencies: Vec<(String, String)>,
}

/// One value of one epoch of one run (table `epochs`).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochValue {
    pub run_id: i64,
    pub epoch: i64,
    pub name: String,
    pub value: f64,
}

/// The columns of a [`RunRow`], named as its fields, over `runs r JOIN sweeps s`.
const RUN_ROW_COLUMNS: &str = "r.id, r.key, s.name AS sweep, r.model, r.seed, r.fold, r.status,
    (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'auc_roc')
        AS auc_roc,
    r.duration_s, r.error, r.best_epoch";

fn run_row(row: &SqliteRow) -> Result<RunRow> {
    Ok(RunRow {
        id: row.try_get("id")?,
        key: row.try_get("key")?,
        sweep: row.try_get("sweep")?,
        model: row.try_get("model")?,
        seed: row.try_get("seed")?,
        fold: row.try_get("fold")?,
        status: status(row)?,
        auc_roc: row.try_get("auc_roc")?,
        duration_s: row.try_get("duration_s")?,
        error: row.try_get("error")?,
        best_epoch: row.try_get("best_epoch")?,
    })
}

/// The `status` column of a row, typed.
fn status(row: &SqliteRow) -> Result<RunStatus> {
    let text: String = row.try_get("status")?;
    text.parse().map_err(|e: String| anyhow!("the store: {e}"))
}

/// The `split` column of a row, typed.
fn split(row: &SqliteRow) -> Result<SplitName> {
    let text: String = row.try_get("split")?;
    text.parse().map_err(|e: String| anyhow!("the store: {e}"))
}

/// The runs [`Store::details`] loads: one run by id (?1), or the done runs of a sweep (?2).
const CHOSEN: &str = "WITH chosen AS (
    SELECT r.id FROM runs r
    WHERE (?1 IS NULL OR r.id = ?1)
      AND (?2 IS NULL OR (r.status = 'done' AND r.id IN (
            SELECT sr.run_id FROM sweep_runs sr JOIN sweeps s ON s.id = sr.sweep_id
            WHERE s.name = ?2))))";

/// A parameter as the config had it: numbers in their written form, text as text.
fn param_value(num: Option<f64>, text: Option<String>) -> Value {
    match (num, text) {
        (Some(_), Some(t)) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
        (Some(n), None) => Value::from(n),
        (None, Some(t)) => Value::String(t),
        (None, None) => Value::Null,
    }
}

/// The index in `runs` (`(id, key)` pairs) of the run that `wanted` names: a full key,
/// a numeric id, or a unique key prefix, in that order of preference. The one resolver
/// behind `anolab show RUN` and `anolab report --run RUN`.
pub fn find_run(wanted: &str, runs: &[(i64, String)]) -> Result<usize, String> {
    if let Some(i) = runs
        .iter()
        .position(|(id, key)| key == wanted || id.to_string() == wanted)
    {
        return Ok(i);
    }
    let hits: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].1.starts_with(wanted))
        .collect();
    match hits[..] {
        [i] => Ok(i),
        [] => Err(format!("no run with key or id `{wanted}`")),
        _ => Err(format!(
            "`{wanted}` matches {} run keys; give more of the key",
            hits.len()
        )),
    }
}

impl Store {
    /// Opens (creating it and its folder if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the folder of the store {}", path.display()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        // Switching a new store to WAL and migrating it are not atomic across
        // connections (sqlx's SQLite driver takes no lock, and the journal-mode switch
        // answers "database is locked" without waiting), so processes opening one new
        // store at once take turns under an exclusive lock on a file beside it.
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock"); // anolab.sqlite → anolab.sqlite.lock
        let lock_path = std::path::PathBuf::from(lock_path);
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("creating the migration lock {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("taking the migration lock {}", lock_path.display()))?;
        let store = Store::connect(path, options)?;
        store
            .rt
            .block_on(sqlx::migrate!("./migrations").run(&store.pool))
            .with_context(|| format!("migrating the store {}", path.display()))?;
        store
            .rt
            .block_on(async {
                let mut tx = store.pool.begin().await?;
                views::refresh(&mut tx).await?;
                tx.commit().await
            })
            .with_context(|| format!("creating the summary views of {}", path.display()))?;
        drop(lock);
        Ok(store)
    }

    /// Opens an existing store without the right to change it (`anolab query`).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(anyhow!(
                "no store at {} (run a sweep first, or pass --db PATH)",
                path.display()
            ));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(Duration::from_secs(30));
        Store::connect(path, options)
    }

    fn connect(path: &Path, options: SqliteConnectOptions) -> Result<Store> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the store's I/O runtime")?;
        let pool = rt
            .block_on(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options),
            )
            .with_context(|| format!("opening the store {}", path.display()))?;
        Ok(Store {
            pool,
            rt,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the sweep and inserts its runs that the store does not know yet as
    /// `queued`; known runs keep their status and results. One transaction.
    pub fn plan(&self, sweep: &SweepRecord, runs: &[RunSpec]) -> Result<Vec<PlannedRun>> {
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            let spec = serde_json::to_string(sweep.spec)?;
            let sweep_id: i64 = sqlx::query_scalar(&format!(
                "INSERT INTO sweeps (name, description, spec_json, source_file, created_at, updated_at,
                                     git_commit, git_dirty, host, anolab_version)
                 VALUES (?, ?, ?, ?, {NOW}, {NOW}, ?, ?, ?, ?)
                 ON CONFLICT(name) DO UPDATE SET description = excluded.description,
                     spec_json = excluded.spec_json, source_file = excluded.source_file,
                     updated_at = excluded.updated_at, git_commit = excluded.git_commit,
                     git_dirty = excluded.git_dirty, host = excluded.host,
                     anolab_version = excluded.anolab_version
                 RETURNING id"
            ))
            .bind(sweep.name)
            .bind(sweep.description)
            .bind(spec)
            .bind(sweep.source_file)
            .bind(&sweep.git_commit)
            .bind(sweep.git_dirty)
            .bind(sweep.host)
            .bind(env!("CARGO_PKG_VERSION"))
            .fetch_one(&mut *tx)
            .await?;

            let mut planned = Vec::with_capacity(runs.len());
            for run in runs {
                let c = &run.config;
                let inserted = sqlx::query(&format!(
                    "INSERT INTO runs (key, sweep_id, model, dataset, seed, fold, protocol,
                                       config_json, status, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', {NOW})
                     ON CONFLICT(key) DO NOTHING"
                ))
                .bind(&run.key)
                .bind(sweep_id)
                .bind(c.model.name())
                .bind(c.dataset.name())
                .bind(c.seed as i64)
                .bind(c.fold as i64)
                .bind(c.eval.protocol.as_str())
                .bind(&run.canonical)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                let row = sqlx::query("SELECT id, status FROM runs WHERE key = ?")
                    .bind(&run.key)
                    .fetch_one(&mut *tx)
                    .await?;
                let id: i64 = row.try_get("id")?;
                if inserted {
                    for (role, dependency) in &run.dependencies {
                        sqlx::query(
                            "INSERT INTO run_dependencies (run_id, role, key) VALUES (?, ?, ?)",
                        )
                        .bind(id)
                        .bind(role)
                        .bind(&dependency.key)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for (name, value) in run.params() {
                        let (num, text) = match &value {
                            // The text keeps the number's own form (`8`, not `8.0`).
                            Value::Number(n) => (n.as_f64(), Some(n.to_string())),
                            Value::Bool(b) => (Some(f64::from(u8::from(*b))), None),
                            Value::String(s) => (None, Some(s.clone())),
                            Value::Null => (None, None),
                            other => (None, Some(other.to_string())),
                        };
                        sqlx::query("INSERT INTO params (run_id, name, value_num, value_text) VALUES (?, ?, ?, ?)")
                            .bind(id)
                            .bind(name)
                            .bind(num)
                            .bind(text)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query("INSERT OR IGNORE INTO sweep_runs (sweep_id, run_id) VALUES (?, ?)")
                    .bind(sweep_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                planned.push(PlannedRun {
                    id,
                    key: run.key.clone(),
                    status: status(&row)?,
                });
            }
            // A sweep is what its file says now: runs planned by an earlier version of it
            // stay in the store (and are reused if planned again) but leave the sweep.
            let ids: Vec<i64> = planned.iter().map(|p| p.id).collect();
            sqlx::query(
                "DELETE FROM sweep_runs WHERE sweep_id = ?1
                 AND run_id NOT IN (SELECT value FROM json_each(?2))",
            )
            .bind(sweep_id)
            .bind(serde_json::to_string(&ids)?)
            .execute(&mut *tx)
            .await?;
            // New parameter names become new columns of the summary views.
            views::refresh(&mut tx).await?;
            tx.commit().await?;
            Ok(planned)
        })
    }

    /// Puts runs back in the queue: `failed` ones, or all of them. Returns how many.
    pub fn requeue(&self, ids: &[i64], which: Requeue) -> Result<u64> {
        let condition = match which {
            Requeue::Failed => "status = 'failed'",
            Requeue::All => "status IN ('failed', 'done')",
        };
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            let mut n = 0;
            for id in ids {
                n += sqlx::query(&format!(
                    "UPDATE runs SET status = 'queued', error = NULL WHERE id = ? AND {condition}"
                ))
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Re-queues `running` runs whose process is gone: same host and the pid no longer
    /// exists (Ctrl-C, kill), or a heartbeat older than ten minutes. Returns their keys.
    pub fn reclaim_abandoned(&self, host: &str) -> Result<Vec<String>> {
        self.rt.block_on(async {
            let rows = sqlx::query(&format!(
                "SELECT id, key, owner,
                        heartbeat_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '{STALE_AFTER}') AS stale
                 FROM runs WHERE status = 'running'"
            ))
            .fetch_all(&self.pool)
            .await?;
            let mut reclaimed = Vec::new();
            for row in rows {
                let owner: Option<String> = row.try_get("owner")?;
                let stale: Option<bool> = row.try_get("stale")?;
                let dead = owner
                    .as_deref()
                    .and_then(|o| o.rsplit_once(':'))
                    .is_some_and(|(h, pid)| h == host && !Path::new("/proc").join(pid).exists());
                if dead || stale.unwrap_or(true) {
                    sqlx::query("UPDATE runs SET status = 'queued', owner = NULL WHERE id = ? AND status = 'running'")
                        .bind(row.try_get::<i64, _>("id")?)
                        .execute(&self.pool)
                        .await?;
                    reclaimed.push(row.try_get("key")?);
                }
            }
            Ok(reclaimed)
        })
    }

    /// Takes a queued run for this process and clears anything an earlier attempt
    /// stored. Returns false if another process took it first.
    pub fn claim(&self, id: i64, device: &str, owner: &str) -> Result<bool> {
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            let taken = sqlx::query(&format!(
                "UPDATE runs SET status = 'running', device = ?, owner = ?, error = NULL,
                     started_at = {NOW}, heartbeat_at = {NOW}, finished_at = NULL,
                     duration_s = NULL, best_epoch = NULL
                 WHERE id = ? AND status = 'queued'"
            ))
            .bind(device)
            .bind(owner)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if taken {
                for table in ["metrics", "epochs", "scores", "artifacts"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE run_id = ?"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(taken)
        })
    }

    pub fn heartbeat(&self, id: i64) -> Result<()> {
        self.rt.block_on(async {
            sqlx::query(&format!(
                "UPDATE runs SET heartbeat_at = {NOW} WHERE id = ?"
            ))
            .bind(id)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    /// Stores one epoch's losses and validation values (and beats the heartbeat).
    pub fn record_epoch(&self, id: i64, epoch: usize, values: &[(String, f64)]) -> Result<()> {
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            for (name, value) in values {
                sqlx::query("INSERT OR REPLACE INTO epochs (run_id, epoch, name, value) VALUES (?, ?, ?, ?)")
                    .bind(id)
                    .bind(epoch as i64)
                    .bind(name)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(&format!("UPDATE runs SET heartbeat_at = {NOW} WHERE id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes a finished run's results and marks it done, in one transaction.
    pub fn finish(&self, id: i64, result: &RunResult) -> Result<()> {
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            for m in &result.metrics {
                sqlx::query("INSERT OR REPLACE INTO metrics (run_id, split, name, value, protocol) VALUES (?, ?, ?, ?, ?)")
                    .bind(id)
                    .bind(m.split.as_str())
                    .bind(&m.name)
                    .bind(m.value)
                    .bind(&result.protocol)
                    .execute(&mut *tx)
                    .await?;
            }
            for s in &result.scores {
                let labels: Vec<u8> = s.labels.iter().map(|&l| u8::from(l)).collect();
                let scores: Vec<u8> = s.scores.iter().flat_map(|v| v.to_le_bytes()).collect();
                sqlx::query("INSERT OR REPLACE INTO scores (run_id, split, labels, scores, classes) VALUES (?, ?, ?, ?, ?)")
                    .bind(id)
                    .bind(s.split.as_str())
                    .bind(labels)
                    .bind(scores)
                    .bind(s.classes.join(","))
                    .execute(&mut *tx)
                    .await?;
            }
            for (kind, path) in &result.artifacts {
                sqlx::query("INSERT OR REPLACE INTO artifacts (run_id, kind, path) VALUES (?, ?, ?)")
                    .bind(id)
                    .bind(kind)
                    .bind(path)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(&format!(
                "UPDATE runs SET status = 'done', n_params = ?, best_epoch = ?, duration_s = ?,
                     finished_at = {NOW}, owner = NULL WHERE id = ?"
            ))
            .bind(result.n_params as i64)
            .bind(result.best_epoch as i64)
            .bind(result.duration_s)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes `metrics` over a done run's rows of the same (split, name), in one
    /// transaction (`anolab rescore`); other rows stay.
    pub fn replace_metrics(&self, id: i64, metrics: &[Metric], protocol: &str) -> Result<()> {
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            for m in metrics {
                sqlx::query("INSERT OR REPLACE INTO metrics (run_id, split, name, value, protocol) VALUES (?, ?, ?, ?, ?)")
                    .bind(id)
                    .bind(m.split.as_str())
                    .bind(&m.name)
                    .bind(m.value)
                    .bind(protocol)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Marks a run failed with its reason.
    pub fn fail(&self, id: i64, error: &str, duration_s: f64) -> Result<()> {
        self.rt.block_on(async {
            sqlx::query(&format!(
                "UPDATE runs SET status = 'failed', error = ?, duration_s = ?, finished_at = {NOW},
                     owner = NULL WHERE id = ?"
            ))
            .bind(error)
            .bind(duration_s)
            .bind(id)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    /// Runs, optionally of one sweep and/or one status, in id order.
    pub fn runs(&self, sweep: Option<&str>, status: Option<RunStatus>) -> Result<Vec<RunRow>> {
        self.rt.block_on(async {
            let rows = sqlx::query(&format!(
                "SELECT {RUN_ROW_COLUMNS}
                 FROM runs r JOIN sweeps s ON s.id = r.sweep_id
                 WHERE (?1 IS NULL OR r.id IN (SELECT sr.run_id FROM sweep_runs sr JOIN sweeps s2
                                                ON s2.id = sr.sweep_id WHERE s2.name = ?1))
                   AND (?2 IS NULL OR r.status = ?2)
                 ORDER BY r.id"
            ))
            .bind(sweep)
            .bind(status.map(RunStatus::as_str))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(run_row).collect()
        })
    }

    /// One run by key (a unique prefix is enough) or numeric id.
    pub fn run_detail(&self, run: &str) -> Result<RunDetail> {
        let id = self.resolve_run(run)?;
        self.detail(id)
    }

    fn detail(&self, id: i64) -> Result<RunDetail> {
        self.details(Some(id), None)?
            .pop()
            .ok_or_else(|| anyhow!("no run with id {id}"))
    }

    /// Runs with their params, metrics and artifacts in one query per table (a report
    /// of a thousand runs must not cost thousands of round trips).
    fn details(&self, id: Option<i64>, sweep: Option<&str>) -> Result<Vec<RunDetail>> {
        self.rt.block_on(async {
            let runs = sqlx::query(&format!(
                "{CHOSEN} SELECT {RUN_ROW_COLUMNS}, r.config_json
                 FROM runs r JOIN sweeps s ON s.id = r.sweep_id
                 WHERE r.id IN chosen ORDER BY r.id"
            ))
            .bind(id)
            .bind(sweep)
            .fetch_all(&self.pool)
            .await?;
            let mut details: Vec<RunDetail> = runs
                .iter()
                .map(|row| {
                    Ok(RunDetail {
                        row: run_row(row)?,
                        config_json: row.try_get("config_json")?,
                        params: Vec::new(),
                        metrics: Vec::new(),
                        artifacts: Vec::new(),
                        dependencies: Vec::new(),
                    })
                })
                .collect::<Result<_>>()?;
            let index: HashMap<i64, usize> = details
                .iter()
                .enumerate()
                .map(|(i, d)| (d.row.id, i))
                .collect();
            let params = sqlx::query(&format!(
                "{CHOSEN} SELECT run_id, name, value_num, value_text FROM params
                 WHERE run_id IN chosen ORDER BY run_id, name"
            ))
            .bind(id)
            .bind(sweep)
            .fetch_all(&self.pool)
            .await?;
            for r in &params {
                let value = param_value(r.try_get("value_num")?, r.try_get("value_text")?);
                details[index[&r.try_get::<i64, _>("run_id")?]]
                    .params
                    .push((r.try_get("name")?, value));
            }
            let metrics = sqlx::query(&format!(
                "{CHOSEN} SELECT run_id, split, name, value FROM metrics
                 WHERE run_id IN chosen ORDER BY run_id, split, name"
            ))
            .bind(id)
            .bind(sweep)
            .fetch_all(&self.pool)
            .await?;
            for r in &metrics {
                details[index[&r.try_get::<i64, _>("run_id")?]]
                    .metrics
                    .push(Metric {
                        split: split(r)?,
                        name: r.try_get("name")?,
                        value: r.try_get("value")?,
                    });
            }
            let artifacts = sqlx::query(&format!(
                "{CHOSEN} SELECT run_id, kind, path FROM artifacts
                 WHERE run_id IN chosen ORDER BY run_id, kind"
            ))
            .bind(id)
            .bind(sweep)
            .fetch_all(&self.pool)
            .await?;
            for r in &artifacts {
                details[index[&r.try_get::<i64, _>("run_id")?]]
                    .artifacts
                    .push((r.try_get("kind")?, r.try_get("path")?));
            }
            let dependencies = sqlx::query(&format!(
                "{CHOSEN} SELECT run_id, role, key FROM run_dependencies
                 WHERE run_id IN chosen ORDER BY run_id, role"
            ))
            .bind(id)
            .bind(sweep)
            .fetch_all(&self.pool)
            .await?;
            for r in &dependencies {
                details[index[&r.try_get::<i64, _>("run_id")?]]
                    .dependencies
                    .push((r.try_get("role")?, r.try_get("key")?));
            }
            Ok(details)
        })
    }

    /// The per-epoch values of the given runs, ordered by run, epoch and name.
    pub fn epochs(&self, run_ids: &[i64]) -> Result<Vec<EpochValue>> {
        self.rt.block_on(async {
            let rows = sqlx::query(
                "SELECT run_id, epoch, name, value FROM epochs
                 WHERE run_id IN (SELECT value FROM json_each(?))
                 ORDER BY run_id, epoch, name",
            )
            .bind(serde_json::to_string(run_ids)?)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(EpochValue {
                        run_id: r.try_get("run_id")?,
                        epoch: r.try_get("epoch")?,
                        name: r.try_get("name")?,
                        value: r.try_get("value")?,
                    })
                })
                .collect()
        })
    }

    /// The stored labels, scores and classes of one split of the given runs, by run id.
    pub fn scores(&self, run_ids: &[i64], split: SplitName) -> Result<HashMap<i64, ScoreSet>> {
        self.rt.block_on(async {
            let rows = sqlx::query(
                "SELECT run_id, labels, scores, classes FROM scores
                 WHERE run_id IN (SELECT value FROM json_each(?)) AND split = ?",
            )
            .bind(serde_json::to_string(run_ids)?)
            .bind(split.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let run_id: i64 = r.try_get("run_id")?;
                    let labels: Vec<u8> = r.try_get("labels")?;
                    let bytes: Vec<u8> = r.try_get("scores")?;
                    let classes: String = r.try_get("classes")?;
                    if bytes.len() != 8 * labels.len() {
                        return Err(anyhow!(
                            "run {run_id}, split {split}: {} score bytes for {} labels (8 bytes per score)",
                            bytes.len(),
                            labels.len()
                        ));
                    }
                    let scores = bytes
                        .chunks_exact(8)
                        .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")))
                        .collect();
                    let classes: Vec<String> = if classes.is_empty() {
                        Vec::new()
                    } else {
                        classes.split(',').map(String::from).collect()
                    };
                    Ok((
                        run_id,
                        ScoreSet {
                            split,
                            labels: labels.iter().map(|&l| l != 0).collect(),
                            scores,
                            classes,
                        },
                    ))
                })
                .collect()
        })
    }

    /// Sweep names in the order they were first planned.
    pub fn sweeps(&self) -> Result<Vec<String>> {
        self.rt.block_on(async {
            Ok(sqlx::query_scalar("SELECT name FROM sweeps ORDER BY id")
                .fetch_all(&self.pool)
                .await?)
        })
    }

    /// The merged sweep document stored with a sweep (its `report` block included).
    pub fn sweep_document(&self, sweep: &str) -> Result<Value> {
        self.rt.block_on(async {
            let spec: Option<String> =
                sqlx::query_scalar("SELECT spec_json FROM sweeps WHERE name = ?")
                    .bind(sweep)
                    .fetch_optional(&self.pool)
                    .await?;
            let spec = spec.ok_or_else(|| {
                anyhow!("no sweep `{sweep}` in the store {}", self.path.display())
            })?;
            serde_json::from_str(&spec)
                .with_context(|| format!("the stored spec_json of sweep `{sweep}`"))
        })
    }

    /// The `run_summary` rows of a sweep's runs, in run order.
    pub fn sweep_run_summary(&self, sweep: &str) -> Result<QueryResult> {
        self.rt.block_on(query::fetch(
            &self.pool,
            sqlx::query("SELECT * FROM run_summary WHERE sweep = ? ORDER BY run_id").bind(sweep),
        ))
    }

    /// A full key, a numeric id, or a unique key prefix (see [`find_run`]).
    fn resolve_run(&self, run: &str) -> Result<i64> {
        let runs: Vec<(i64, String)> = self.rt.block_on(
            sqlx::query_as("SELECT id, key FROM runs ORDER BY id").fetch_all(&self.pool),
        )?;
        let i = find_run(run, &runs).map_err(|e| anyhow!("{e} (see `anolab runs`)"))?;
        Ok(runs[i].0)
    }

    /// Status, error, checkpoint path and test AUC-ROC of the run with `key`.
    pub fn dependency(&self, key: &str) -> Result<Dependency> {
        self.rt.block_on(async {
            let row = sqlx::query(
                "SELECT r.status, r.error,
                        (SELECT path FROM artifacts a WHERE a.run_id = r.id AND a.kind = 'checkpoint')
                            AS checkpoint,
                        (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'auc_roc')
                            AS auc_roc
                 FROM runs r WHERE r.key = ?",
            )
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| anyhow!("run {key} is not in the store"))?;
            Ok(Dependency {
                status: status(&row)?,
                error: row.try_get("error")?,
                checkpoint: row.try_get("checkpoint")?,
                auc_roc: row.try_get("auc_roc")?,
            })
        })
    }

    /// Every done run of a sweep with its params, metrics and artifacts, for tables
    /// and figures.
    pub fn sweep_details(&self, sweep: &str) -> Result<Vec<RunDetail>> {
        self.details(None, Some(sweep))
    }

    /// Runs the user's SQL. The store must have been opened read-only unless the user
    /// asked to write.
    pub fn query(&self, sql: &str) -> Result<QueryResult> {
        self.rt.block_on(query::fetch(&self.pool, sqlx::query(sql)))
    }
}

#[cfg(test)]
mod tests {
    use super::find_run;

    #[test]
    fn a_run_is_found_by_key_id_or_unique_prefix() {
        let runs = vec![
            (1, "ab12".to_string()),
            (2, "ab34".to_string()),
            (12, "cd".to_string()),
        ];
        assert_eq!(find_run("ab34", &runs), Ok(1));
        assert_eq!(find_run("12", &runs), Ok(2), "an id before a key prefix");
        assert_eq!(find_run("c", &runs), Ok(2));
        assert_eq!(
            find_run("ab", &runs).unwrap_err(),
            "`ab` matches 2 run keys; give more of the key"
        );
        assert_eq!(
            find_run("x", &runs).unwrap_err(),
            "no run with key or id `x`"
        );
    }
}
