//! The store (sqlx; a SQLite file, or a PostgreSQL database for many machines): the only
//! place SQL lives besides the user's own `query`. Rows are read by column name into
//! structs; statuses and splits are typed (`kinds`). It knows runs by key, never how
//! they are trained.
//!
//! Runs move `queued → running → done | failed`; workers take them through the queue
//! (`queue`). Everything a finished run produces (metrics, scores, artifacts, status
//! `done`) is written in one transaction, so an interrupted process never leaves a
//! half-written run marked done.

mod backend;
mod query;
mod queue;
mod views;

pub use backend::Location;
pub use query::{Cell, QueryResult};
pub use queue::{
    Attempt, Claimant, Claimed, LeaseLost, Pending, QueueStatus, RunningRun, DEFAULT_LEASE,
    RECENT_S,
};

use crate::kinds::{RunStatus, SplitName};
use crate::plan::RunSpec;
use anyhow::{anyhow, Context, Result};
use backend::Backend;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;
use std::path::Path;

/// Default location of the store, relative to the working directory.
pub const DEFAULT_DB: &str = "results/anolab.sqlite";

pub struct Store {
    pool: AnyPool,
    rt: tokio::runtime::Runtime,
    location: Location,
    backend: Backend,
    read_only: bool,
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

fn run_row(row: &AnyRow) -> Result<RunRow> {
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
fn status(row: &AnyRow) -> Result<RunStatus> {
    let text: String = row.try_get("status")?;
    text.parse().map_err(|e: String| anyhow!("the store: {e}"))
}

/// The `split` column of a row, typed.
fn split(row: &AnyRow) -> Result<SplitName> {
    let text: String = row.try_get("split")?;
    text.parse().map_err(|e: String| anyhow!("the store: {e}"))
}

/// The runs [`Store::details`] loads: one run by id ($1), or the done runs of a sweep ($2).
const CHOSEN: &str = "WITH chosen AS (
    SELECT r.id FROM runs r
    WHERE ($1 IS NULL OR r.id = $1)
      AND ($2 IS NULL OR (r.status = 'done' AND r.id IN (
            SELECT sr.run_id FROM sweep_runs sr JOIN sweeps s ON s.id = sr.sweep_id
            WHERE s.name = $2))))";

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
    /// Opens (creating it, and for SQLite its folder, if needed) and migrates the store
    /// at `location`: a SQLite path or a PostgreSQL URL ([`Location`]).
    pub fn open(location: impl Into<Location>) -> Result<Store> {
        let location = location.into();
        // Switching a new SQLite store to WAL and migrating it are not atomic across
        // connections (sqlx's SQLite driver takes no lock, and the journal-mode switch
        // answers "database is locked" without waiting), so processes opening one new
        // store at once take turns under an exclusive lock on a file beside it.
        // PostgreSQL: sqlx's migrator holds an advisory lock, and the views are
        // recreated under another (`views::refresh`).
        let lock = match &location {
            Location::Sqlite(path) => Some(sqlite_open_lock(path)?),
            Location::Postgres(_) => None,
        };
        let store = Store::connect(location, false)?;
        store
            .rt
            .block_on(async {
                if store.backend == Backend::Sqlite {
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&store.pool)
                        .await?;
                }
                let migrator = match store.backend {
                    Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
                    Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
                };
                migrator.run(&store.pool).await?;
                anyhow::Ok(())
            })
            .with_context(|| format!("migrating the store {}", store.location))?;
        store
            .rt
            .block_on(async {
                let mut tx = store.begin_write().await?;
                views::refresh(&mut tx, store.backend).await?;
                tx.commit().await
            })
            .with_context(|| format!("creating the summary views of {}", store.location))?;
        drop(lock);
        Ok(store)
    }

    /// Opens an existing store without the right to change it (`anolab query`, reports).
    pub fn open_read_only(location: impl Into<Location>) -> Result<Store> {
        let location = location.into();
        if let Location::Sqlite(path) = &location {
            if !path.is_file() {
                return Err(anyhow!(
                    "no store at {} (run a sweep first, or pass --db PATH)",
                    path.display()
                ));
            }
        }
        Store::connect(location, true)
    }

    fn connect(location: Location, read_only: bool) -> Result<Store> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the store's I/O runtime")?;
        let pool = rt.block_on(backend::connect(&location, read_only))?;
        Ok(Store {
            pool,
            rt,
            backend: Backend::of(&location),
            location,
            read_only,
        })
    }

    /// A transaction that will write. SQLite's is immediate: it takes the write lock at
    /// once (waiting its turn under the busy timeout), where a deferred one that read
    /// first fails with "database is locked" as soon as another process wrote meanwhile.
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Where the store lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Records the sweep and inserts its runs that the store does not know yet as
    /// `queued`; known runs keep their status and results. One transaction.
    pub fn plan(&self, sweep: &SweepRecord, runs: &[RunSpec]) -> Result<Vec<PlannedRun>> {
        let now = self.backend.now();
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            let spec = serde_json::to_string(sweep.spec)?;
            let sweep_id: i64 = sqlx::query_scalar(&format!(
                "INSERT INTO sweeps (name, description, spec_json, source_file, created_at, updated_at,
                                     git_commit, git_dirty, host, anolab_version)
                 VALUES ($1, $2, $3, $4, {now}, {now}, $5, $6, $7, $8)
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
            .bind(sweep.git_dirty.map(i64::from))
            .bind(sweep.host)
            .bind(env!("CARGO_PKG_VERSION"))
            .fetch_one(&mut *tx)
            .await?;
            // A sweep is what its file says now: runs planned by an earlier version of it
            // stay in the store (and are reused if planned again) but leave the sweep.
            sqlx::query("DELETE FROM sweep_runs WHERE sweep_id = $1")
                .bind(sweep_id)
                .execute(&mut *tx)
                .await?;

            let mut planned = Vec::with_capacity(runs.len());
            for run in runs {
                let c = &run.config;
                let inserted = sqlx::query(&format!(
                    "INSERT INTO runs (key, sweep_id, model, dataset, seed, fold, protocol,
                                       config_json, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', {now})
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
                let row = sqlx::query("SELECT id, status FROM runs WHERE key = $1")
                    .bind(&run.key)
                    .fetch_one(&mut *tx)
                    .await?;
                let id: i64 = row.try_get("id")?;
                if inserted {
                    for (role, dependency) in &run.dependencies {
                        sqlx::query(
                            "INSERT INTO run_dependencies (run_id, role, key) VALUES ($1, $2, $3)",
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
                        // No NULL float is bound: sqlx 0.8's Any driver sends one to
                        // PostgreSQL as a `real` (f32), and the statement, prepared with
                        // that type, then refuses the next row's f64.
                        let query = match num {
                            Some(num) => sqlx::query(
                                "INSERT INTO params (run_id, name, value_num, value_text) VALUES ($1, $2, $3, $4)",
                            )
                            .bind(id)
                            .bind(name)
                            .bind(num),
                            None => sqlx::query(
                                "INSERT INTO params (run_id, name, value_num, value_text) VALUES ($1, $2, NULL, $3)",
                            )
                            .bind(id)
                            .bind(name),
                        };
                        query.bind(text).execute(&mut *tx).await?;
                    }
                }
                sqlx::query(
                    "INSERT INTO sweep_runs (sweep_id, run_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                )
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
            // New parameter names become new columns of the summary views.
            views::refresh(&mut tx, self.backend).await?;
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
            let mut tx = self.begin_write().await?;
            let mut n = 0;
            for id in ids {
                n += sqlx::query(&format!(
                    "UPDATE runs SET status = 'queued', error = NULL, lease_until = NULL
                     WHERE id = $1 AND {condition}"
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

    /// Writes `metrics` over a done run's rows of the same (split, name), in one
    /// transaction (`anolab rescore`); other rows stay.
    pub fn replace_metrics(&self, id: i64, metrics: &[Metric], protocol: &str) -> Result<()> {
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            for m in metrics {
                insert_metric(&mut tx, id, m, protocol).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Runs, optionally of one sweep and/or one status, in id order.
    pub fn runs(&self, sweep: Option<&str>, status: Option<RunStatus>) -> Result<Vec<RunRow>> {
        self.rt.block_on(async {
            let rows = sqlx::query(&format!(
                "SELECT {RUN_ROW_COLUMNS}
                 FROM runs r JOIN sweeps s ON s.id = r.sweep_id
                 WHERE ($1 IS NULL OR r.id IN (SELECT sr.run_id FROM sweep_runs sr JOIN sweeps s2
                                                ON s2.id = sr.sweep_id WHERE s2.name = $1))
                   AND ($2 IS NULL OR r.status = $2)
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
                 WHERE r.id IN (SELECT id FROM chosen) ORDER BY r.id"
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
                 WHERE run_id IN (SELECT id FROM chosen) ORDER BY run_id, name"
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
                 WHERE run_id IN (SELECT id FROM chosen) ORDER BY run_id, split, name"
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
                 WHERE run_id IN (SELECT id FROM chosen) ORDER BY run_id, kind"
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
                 WHERE run_id IN (SELECT id FROM chosen) ORDER BY run_id, role"
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
            let rows = sqlx::query(&format!(
                "SELECT run_id, epoch, name, value FROM epochs
                 WHERE run_id IN ({}) ORDER BY run_id, epoch, name",
                id_list(run_ids)
            ))
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
            let rows = sqlx::query(&format!(
                "SELECT run_id, labels, scores, classes FROM scores
                 WHERE run_id IN ({}) AND split = $1",
                id_list(run_ids)
            ))
            .bind(split.as_str())
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let run_id: i64 = r.try_get("run_id")?;
                    let scores = decode_scores(
                        split,
                        &r.try_get::<Vec<u8>, _>("labels")?,
                        &r.try_get::<Vec<u8>, _>("scores")?,
                        &r.try_get::<String, _>("classes")?,
                    )
                    .map_err(|e| anyhow!("run {run_id}, split {split}: {e}"))?;
                    Ok((run_id, scores))
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
                sqlx::query_scalar("SELECT spec_json FROM sweeps WHERE name = $1")
                    .bind(sweep)
                    .fetch_optional(&self.pool)
                    .await?;
            let spec =
                spec.ok_or_else(|| anyhow!("no sweep `{sweep}` in the store {}", self.location))?;
            serde_json::from_str(&spec)
                .with_context(|| format!("the stored spec_json of sweep `{sweep}`"))
        })
    }

    /// The `run_summary` rows of a sweep's runs, in run order.
    pub fn sweep_run_summary(&self, sweep: &str) -> Result<QueryResult> {
        self.query(&format!(
            "SELECT * FROM run_summary WHERE sweep = '{}' ORDER BY run_id",
            sweep.replace('\'', "''")
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
                 FROM runs r WHERE r.key = $1",
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

    /// Runs the user's SQL (any statements) with the rights the store was opened with:
    /// a read-only store refuses every change.
    pub fn query(&self, sql: &str) -> Result<QueryResult> {
        self.rt
            .block_on(query::fetch(&self.location, self.read_only, sql))
    }
}

/// A split's stored labels (a byte each), scores (little-endian f64 each) and classes
/// (comma-separated, or empty), checked against each other.
pub fn decode_scores(
    split: SplitName,
    labels: &[u8],
    scores: &[u8],
    classes: &str,
) -> Result<ScoreSet, String> {
    if scores.len() != 8 * labels.len() {
        return Err(format!(
            "{} score bytes for {} labels (8 bytes per score)",
            scores.len(),
            labels.len()
        ));
    }
    let classes: Vec<String> = if classes.is_empty() {
        Vec::new()
    } else {
        classes.split(',').map(String::from).collect()
    };
    if !classes.is_empty() && classes.len() != labels.len() {
        return Err(format!(
            "{} classes for {} labels",
            classes.len(),
            labels.len()
        ));
    }
    Ok(ScoreSet {
        split,
        labels: labels.iter().map(|&l| l != 0).collect(),
        scores: scores
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")))
            .collect(),
        classes,
    })
}

/// `1, 2, 3`: ids (integers, so safe to write into SQL) for an `IN (…)` list; `NULL`
/// for none, which matches nothing.
fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts or replaces one metric row of run `id`.
async fn insert_metric(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    m: &Metric,
    protocol: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO metrics (run_id, split, name, value, protocol) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, split, name) DO UPDATE
             SET value = excluded.value, protocol = excluded.protocol",
    )
    .bind(id)
    .bind(m.split.as_str())
    .bind(&m.name)
    .bind(m.value)
    .bind(protocol)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the lock that new SQLite stores are created and migrated under (see
/// [`Store::open`]), creating the store's folder first.
fn sqlite_open_lock(path: &Path) -> Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the folder of the store {}", path.display()))?;
    }
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock"); // anolab.sqlite → anolab.sqlite.lock
    let lock_path = std::path::PathBuf::from(lock_path);
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("creating the migration lock {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("taking the migration lock {}", lock_path.display()))?;
    Ok(lock)
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
