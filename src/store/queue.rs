//! The run queue: workers claim queued runs one at a time, each claim an attempt with
//! its own number under a lease the worker renews while it trains; every write of an
//! attempt (epochs, results, failure) is fenced by that number, so a worker that lost
//! its lease cannot overwrite a newer attempt. Expired leases put runs back in the
//! queue until the attempts run out. A run whose dependencies are not all done cannot
//! be claimed, and one whose dependency failed fails with it.
//!
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED` (workers never wait on each other's
//! rows); SQLite with an immediate transaction (the single writer takes turns). This
//! module decides nothing about how a run is trained.

use super::{insert_metric, Backend, RunResult, Store};
use crate::kinds::RunStatus;
use anyhow::{anyhow, Result};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::path::Path;
use std::time::Duration;

/// One claim of one run: writes of the run name it, and are refused once the run has
/// been given to a newer attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub run_id: i64,
    /// 1 for the first claim of the run, then one more for each.
    pub number: i64,
    /// How long the lease lasts after each renewal.
    pub lease: Duration,
}

/// Who claims: the worker's `host:pid`, its device and the lease it asks for.
#[derive(Debug, Clone)]
pub struct Claimant<'a> {
    pub owner: &'a str,
    pub device: &'a str,
    pub lease: Duration,
}

/// A run taken from the queue.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub attempt: Attempt,
    pub key: String,
    /// The run's canonical config, as planned.
    pub config_json: String,
}

/// Queued runs of a sweep (or of the whole store), and how many of them can be claimed
/// now (their dependencies are done).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pending {
    pub queued: i64,
    pub claimable: i64,
    pub running: i64,
}

/// Where a sweep (or the whole store) stands, for `anolab status`.
#[derive(Debug, Clone, Default)]
pub struct QueueStatus {
    /// Runs per status, in `RunStatus::ALL` order.
    pub counts: Vec<(RunStatus, i64)>,
    /// Runs that can start now (queued, dependencies done).
    pub claimable: i64,
    pub running: Vec<RunningRun>,
    /// Runs finished (done or failed) in the last [`RECENT_S`] seconds.
    pub finished_recently: i64,
}

/// The window over which `anolab status` measures throughput.
pub const RECENT_S: i64 = 600;

/// A run being trained, and by whom.
#[derive(Debug, Clone)]
pub struct RunningRun {
    pub key: String,
    pub model: String,
    /// `host:pid` of the worker.
    pub owner: String,
    pub device: String,
    pub attempt: i64,
    /// The last epoch stored, if any.
    pub epoch: Option<i64>,
    pub heartbeat_age_s: f64,
    pub running_s: f64,
}

/// A worker's write was refused: its attempt is no longer the run's current one (the
/// lease expired and the run went back to the queue, or was retried elsewhere).
#[derive(Debug, thiserror::Error)]
#[error("attempt {number} of run {run_id} lost its lease (the run went back to the queue or to another worker); its writes were refused")]
pub struct LeaseLost {
    pub run_id: i64,
    pub number: i64,
}

impl From<&Attempt> for LeaseLost {
    fn from(attempt: &Attempt) -> LeaseLost {
        LeaseLost {
            run_id: attempt.run_id,
            number: attempt.number,
        }
    }
}

/// Runs of `sweep` (`$3`, NULL: every sweep), or the one run `$4`, that may be claimed:
/// queued, with every dependency done. The `{lock}` clause follows `LIMIT 1`.
fn claimable(lock: &str) -> String {
    format!(
        "SELECT r.id FROM runs r
         WHERE r.status = 'queued'
           AND ($4 IS NULL OR r.id = $4)
           AND ($3 IS NULL OR r.id IN (SELECT sr.run_id FROM sweep_runs sr
                                       JOIN sweeps s ON s.id = sr.sweep_id WHERE s.name = $3))
           AND NOT EXISTS (SELECT 1 FROM run_dependencies d LEFT JOIN runs dr ON dr.key = d.key
                           WHERE d.run_id = r.id AND (dr.status IS NULL OR dr.status <> 'done'))
         ORDER BY r.id LIMIT 1 {lock}"
    )
}

impl Store {
    /// Claims the next claimable run of `sweep` (every sweep: `None`), lowest id first
    /// (dependencies are planned before their dependents). Clears what an earlier
    /// attempt stored. `None`: nothing can be claimed now.
    pub fn claim_next(&self, sweep: Option<&str>, who: &Claimant) -> Result<Option<Claimed>> {
        self.claim_where(sweep, None, who)
    }

    /// Claims run `id` if it is queued and its dependencies are done.
    pub fn claim(&self, id: i64, device: &str, owner: &str) -> Result<Option<Attempt>> {
        let who = Claimant {
            owner,
            device,
            lease: DEFAULT_LEASE,
        };
        Ok(self.claim_where(None, Some(id), &who)?.map(|c| c.attempt))
    }

    fn claim_where(
        &self,
        sweep: Option<&str>,
        id: Option<i64>,
        who: &Claimant,
    ) -> Result<Option<Claimed>> {
        let (now, until) = (self.backend.now(), self.lease_end(who.lease));
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE runs SET status = 'running', attempt = attempt + 1, owner = $1, device = $2,
                 error = NULL, started_at = {now}, heartbeat_at = {now}, lease_until = {until},
                 finished_at = NULL, duration_s = NULL, best_epoch = NULL, n_params = NULL
             WHERE status = 'queued' AND id = ({})
             RETURNING id, key, config_json, attempt",
            claimable(lock)
        );
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            let Some(row) = sqlx::query(&sql)
                .bind(who.owner)
                .bind(who.device)
                .bind(sweep)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            let claimed = Claimed {
                attempt: Attempt {
                    run_id: row.try_get("id")?,
                    number: row.try_get("attempt")?,
                    lease: who.lease,
                },
                key: row.try_get("key")?,
                config_json: row.try_get("config_json")?,
            };
            let run_id = claimed.attempt.run_id;
            sqlx::query(&format!(
                "INSERT INTO attempts (run_id, attempt, owner, device, started_at)
                 VALUES ($1, $2, $3, $4, {now})"
            ))
            .bind(run_id)
            .bind(claimed.attempt.number)
            .bind(who.owner)
            .bind(who.device)
            .execute(&mut *tx)
            .await?;
            for table in ["metrics", "epochs", "scores", "artifacts"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE run_id = $1"))
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Some(claimed))
        })
    }

    /// The end of a lease of `lease` from now, as SQL.
    fn lease_end(&self, lease: Duration) -> String {
        self.backend.now_plus(lease.as_secs().max(1) as i64)
    }

    /// Renews the lease of `attempt`; `false` when it is no longer the run's attempt.
    pub fn renew(&self, attempt: &Attempt) -> Result<bool> {
        self.rt.block_on(async {
            let mut conn = self.pool.acquire().await?;
            self.renew_on(&mut conn, attempt).await
        })
    }

    /// [`Store::renew`] on `conn` (inside the caller's transaction, if any).
    async fn renew_on(&self, conn: &mut AnyConnection, attempt: &Attempt) -> Result<bool> {
        let n = sqlx::query(&format!(
            "UPDATE runs SET heartbeat_at = {}, lease_until = {}
             WHERE id = $1 AND attempt = $2 AND status = 'running'",
            self.backend.now(),
            self.lease_end(attempt.lease)
        ))
        .bind(attempt.run_id)
        .bind(attempt.number)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Stores one epoch's losses and validation values and renews the lease, or refuses
    /// with [`LeaseLost`].
    pub fn record_epoch(
        &self,
        attempt: &Attempt,
        epoch: usize,
        values: &[(String, f64)],
    ) -> Result<()> {
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            self.fence(&mut tx, attempt).await?;
            for (name, value) in values {
                sqlx::query(
                    "INSERT INTO epochs (run_id, epoch, name, value) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (run_id, epoch, name) DO UPDATE SET value = excluded.value",
                )
                .bind(attempt.run_id)
                .bind(epoch as i64)
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Renews `attempt`'s lease inside the caller's transaction, or fails with
    /// [`LeaseLost`] (the transaction is then dropped unused).
    async fn fence(&self, conn: &mut AnyConnection, attempt: &Attempt) -> Result<()> {
        if self.renew_on(conn, attempt).await? {
            Ok(())
        } else {
            Err(LeaseLost::from(attempt).into())
        }
    }

    /// [`Store::renew`], or Err([`LeaseLost`]) when `attempt` no longer holds its run:
    /// a worker that lost its lease must not touch the files of the newer attempt.
    pub fn still_holds(&self, attempt: &Attempt) -> Result<()> {
        if self.renew(attempt)? {
            Ok(())
        } else {
            Err(LeaseLost::from(attempt).into())
        }
    }

    /// Writes a finished run's results and marks it done, in one transaction fenced by
    /// its attempt ([`LeaseLost`] if another attempt holds the run now).
    pub fn finish(&self, attempt: &Attempt, result: &RunResult) -> Result<()> {
        let now = self.backend.now();
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            // The fence first: on PostgreSQL it also locks the run's row until commit.
            self.fence(&mut tx, attempt).await?;
            let id = attempt.run_id;
            for m in &result.metrics {
                insert_metric(&mut tx, id, m, &result.protocol).await?;
            }
            for s in &result.scores {
                let labels: Vec<u8> = s.labels.iter().map(|&l| u8::from(l)).collect();
                let scores: Vec<u8> = s.scores.iter().flat_map(|v| v.to_le_bytes()).collect();
                sqlx::query(
                    "INSERT INTO scores (run_id, split, labels, scores, classes) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (run_id, split) DO UPDATE SET labels = excluded.labels,
                         scores = excluded.scores, classes = excluded.classes",
                )
                .bind(id)
                .bind(s.split.as_str())
                .bind(labels)
                .bind(scores)
                .bind(s.classes.join(","))
                .execute(&mut *tx)
                .await?;
            }
            for (kind, path) in &result.artifacts {
                sqlx::query(
                    "INSERT INTO artifacts (run_id, kind, path) VALUES ($1, $2, $3)
                     ON CONFLICT (run_id, kind) DO UPDATE SET path = excluded.path",
                )
                .bind(id)
                .bind(kind)
                .bind(path)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(&format!(
                "UPDATE runs SET status = 'done', n_params = $1, best_epoch = $2, duration_s = $3,
                     finished_at = {now}, owner = NULL, lease_until = NULL WHERE id = $4"
            ))
            .bind(result.n_params as i64)
            .bind(result.best_epoch as i64)
            .bind(result.duration_s)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            end_attempt(&mut tx, self.backend, attempt, "done", None).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Marks the run of `attempt` failed with its reason (nothing, if the attempt lost
    /// its lease: the run's newer attempt decides).
    pub fn fail(&self, attempt: &Attempt, error: &str, duration_s: f64) -> Result<()> {
        let now = self.backend.now();
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query(&format!(
                "UPDATE runs SET status = 'failed', error = $1, duration_s = $2, finished_at = {now},
                     owner = NULL, lease_until = NULL
                 WHERE id = $3 AND attempt = $4 AND status = 'running'"
            ))
            .bind(error)
            .bind(duration_s)
            .bind(attempt.run_id)
            .bind(attempt.number)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                end_attempt(&mut tx, self.backend, attempt, "failed", Some(error)).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Puts the run of `attempt` back in the queue at its worker's request (a stop
    /// signal); unlike an expired lease this does not count against the attempt limit.
    pub fn release(&self, attempt: &Attempt) -> Result<()> {
        self.rt.block_on(async {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query(
                "UPDATE runs SET status = 'queued', owner = NULL, lease_until = NULL
                 WHERE id = $1 AND attempt = $2 AND status = 'running'",
            )
            .bind(attempt.run_id)
            .bind(attempt.number)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                end_attempt(&mut tx, self.backend, attempt, "released", None).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Puts back in the queue the `running` runs that nobody holds any more: their lease
    /// expired (the worker died, hung, or lost the store), or their owner ran on `host`
    /// and its process is gone (Ctrl-C, kill: no need to wait for the lease). A run
    /// whose lease expired `max_attempts` times fails instead, its attempts in table
    /// `attempts`. Returns the keys put back or failed, with what happened.
    pub fn reclaim_abandoned(&self, host: &str, max_attempts: u32) -> Result<Vec<String>> {
        let now = self.backend.now();
        self.rt.block_on(async {
            let rows = sqlx::query(&format!(
                "SELECT id, key, owner, attempt,
                        CASE WHEN lease_until < {now} THEN 1 ELSE 0 END AS expired,
                        (SELECT count(*) FROM attempts a
                         WHERE a.run_id = runs.id AND a.outcome = 'expired') AS expiries
                 FROM runs WHERE status = 'running'"
            ))
            .fetch_all(&self.pool)
            .await?;
            let mut reclaimed = Vec::new();
            for row in rows {
                let owner: Option<String> = row.try_get("owner")?;
                let gone = owner
                    .as_deref()
                    .and_then(|o| o.rsplit_once(':'))
                    .is_some_and(|(h, pid)| h == host && !Path::new("/proc").join(pid).exists());
                let expired = row.try_get::<i64, _>("expired")? == 1;
                if !(gone || expired) {
                    continue;
                }
                if let Some(note) = self.put_back(&row, gone, max_attempts, &now).await? {
                    reclaimed.push(note);
                }
            }
            Ok(reclaimed)
        })
    }

    /// [`Store::reclaim_abandoned`] for one run (its row as selected there).
    async fn put_back(
        &self,
        row: &AnyRow,
        gone: bool,
        max_attempts: u32,
        now: &str,
    ) -> Result<Option<String>> {
        let attempt = Attempt {
            run_id: row.try_get("id")?,
            number: row.try_get("attempt")?,
            lease: DEFAULT_LEASE,
        };
        let key: String = row.try_get("key")?;
        let expiries = row.try_get::<i64, _>("expiries")? + i64::from(!gone);
        let give_up = !gone && expiries >= i64::from(max_attempts);
        let (status, error, outcome) = if give_up {
            let error = format!(
                "gave up after {expiries} attempts whose lease expired (the worker died or hung each time; see table attempts)"
            );
            ("failed", Some(error), "expired")
        } else if gone {
            ("queued", None, "interrupted")
        } else {
            ("queued", None, "expired")
        };
        let mut tx = self.begin_write().await?;
        // Still the same attempt, still running, and (unless its process is gone) still
        // expired: another worker may have reclaimed it, or its own renewed the lease.
        let n = sqlx::query(&format!(
            "UPDATE runs SET status = $1, error = $2, owner = NULL, lease_until = NULL,
                 finished_at = CASE WHEN $1 = 'failed' THEN {now} ELSE NULL END
             WHERE id = $3 AND attempt = $4 AND status = 'running'
               AND ($5 = 1 OR lease_until < {now})"
        ))
        .bind(status)
        .bind(&error)
        .bind(attempt.run_id)
        .bind(attempt.number)
        .bind(i64::from(gone))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        end_attempt(&mut tx, self.backend, &attempt, outcome, error.as_deref()).await?;
        tx.commit().await?;
        Ok(Some(match (give_up, gone) {
            (true, _) => format!("run {key} failed: {}", error.unwrap_or_default()),
            (false, true) => {
                format!("run {key} was left running by a process that is gone; queued it again")
            }
            (false, false) => format!(
                "run {key}: the lease of attempt {} expired; queued it again",
                attempt.number
            ),
        }))
    }

    /// Fails the queued runs whose dependency failed, naming it and its error. Returns
    /// how many.
    pub fn fail_orphans(&self) -> Result<u64> {
        let now = self.backend.now();
        self.rt.block_on(async {
            let n = sqlx::query(&format!(
                "UPDATE runs SET status = 'failed', finished_at = {now}, error = (
                     SELECT 'its ' || d.role || ' ' || d.key || ' failed: ' || COALESCE(dr.error, '')
                     FROM run_dependencies d JOIN runs dr ON dr.key = d.key
                     WHERE d.run_id = runs.id AND dr.status = 'failed'
                     ORDER BY d.role LIMIT 1)
                 WHERE status = 'queued' AND EXISTS (
                     SELECT 1 FROM run_dependencies d JOIN runs dr ON dr.key = d.key
                     WHERE d.run_id = runs.id AND dr.status = 'failed')"
            ))
            .execute(&self.pool)
            .await?
            .rows_affected();
            Ok(n)
        })
    }

    /// What is left in the queue of `sweep` (every sweep: `None`).
    pub fn pending(&self, sweep: Option<&str>) -> Result<Pending> {
        let of_sweep = "($1 IS NULL OR r.id IN (SELECT sr.run_id FROM sweep_runs sr
                         JOIN sweeps s ON s.id = sr.sweep_id WHERE s.name = $1))";
        let sql = format!(
            "SELECT
                 (SELECT count(*) FROM runs r WHERE r.status = 'queued' AND {of_sweep}) AS queued,
                 (SELECT count(*) FROM runs r WHERE r.status = 'running' AND {of_sweep}) AS running,
                 (SELECT count(*) FROM runs r WHERE r.status = 'queued' AND {of_sweep}
                    AND NOT EXISTS (SELECT 1 FROM run_dependencies d LEFT JOIN runs dr ON dr.key = d.key
                                    WHERE d.run_id = r.id AND (dr.status IS NULL OR dr.status <> 'done')))
                     AS claimable"
        );
        self.rt.block_on(async {
            let row = sqlx::query(&sql).bind(sweep).fetch_one(&self.pool).await?;
            Ok(Pending {
                queued: row.try_get("queued")?,
                claimable: row.try_get("claimable")?,
                running: row.try_get("running")?,
            })
        })
    }
}

impl Store {
    /// Counts per status, the running runs with their workers, and recent throughput
    /// of `sweep` (every sweep: `None`).
    pub fn queue_status(&self, sweep: Option<&str>) -> Result<QueueStatus> {
        let of_sweep = "($1 IS NULL OR r.id IN (SELECT sr.run_id FROM sweep_runs sr
                         JOIN sweeps s ON s.id = sr.sweep_id WHERE s.name = $1))";
        let b = self.backend;
        let counts_sql = format!(
            "SELECT r.status, count(*) AS n FROM runs r WHERE {of_sweep} GROUP BY r.status"
        );
        let running_sql = format!(
            "SELECT r.key, r.model, COALESCE(r.owner, '') AS owner, COALESCE(r.device, '') AS device,
                    r.attempt, (SELECT max(e.epoch) FROM epochs e WHERE e.run_id = r.id) AS epoch,
                    {} AS heartbeat_age, {} AS running_s
             FROM runs r WHERE r.status = 'running' AND {of_sweep} ORDER BY r.id",
            b.seconds_since("r.heartbeat_at"),
            b.seconds_since("r.started_at")
        );
        let recent_sql = format!(
            "SELECT count(*) FROM runs r WHERE r.status IN ('done', 'failed')
                 AND r.finished_at >= {} AND {of_sweep}",
            b.now_plus(-RECENT_S)
        );
        let pending = self.pending(sweep)?;
        self.rt.block_on(async {
            let mut status = QueueStatus {
                claimable: pending.claimable,
                ..Default::default()
            };
            let rows = sqlx::query(&counts_sql)
                .bind(sweep)
                .fetch_all(&self.pool)
                .await?;
            for s in RunStatus::ALL {
                let n = rows
                    .iter()
                    .find(|r| r.try_get::<String, _>("status").ok().as_deref() == Some(s.as_str()))
                    .map(|r| r.try_get::<i64, _>("n"))
                    .transpose()?
                    .unwrap_or(0);
                status.counts.push((s, n));
            }
            for r in sqlx::query(&running_sql)
                .bind(sweep)
                .fetch_all(&self.pool)
                .await?
            {
                status.running.push(RunningRun {
                    key: r.try_get("key")?,
                    model: r.try_get("model")?,
                    owner: r.try_get("owner")?,
                    device: r.try_get("device")?,
                    attempt: r.try_get("attempt")?,
                    epoch: r.try_get("epoch")?,
                    heartbeat_age_s: r
                        .try_get::<Option<f64>, _>("heartbeat_age")?
                        .unwrap_or(f64::NAN),
                    running_s: r
                        .try_get::<Option<f64>, _>("running_s")?
                        .unwrap_or(f64::NAN),
                });
            }
            status.finished_recently = sqlx::query_scalar(&recent_sql)
                .bind(sweep)
                .fetch_one(&self.pool)
                .await?;
            Ok(status)
        })
    }
}

/// The lease a claim asks for unless the worker says otherwise (`--lease`): long enough
/// for a slow epoch's store write to come through, short enough that a dead worker's run
/// is retried within minutes.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// Closes the `attempts` row of `attempt` with its outcome.
async fn end_attempt(
    conn: &mut AnyConnection,
    backend: Backend,
    attempt: &Attempt,
    outcome: &str,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE attempts SET ended_at = {}, outcome = $1, error = $2
         WHERE run_id = $3 AND attempt = $4",
        backend.now()
    ))
    .bind(outcome)
    .bind(error)
    .bind(attempt.run_id)
    .bind(attempt.number)
    .execute(conn)
    .await
    .map_err(|e| {
        anyhow!(
            "closing attempt {} of run {}: {e}",
            attempt.number,
            attempt.run_id
        )
    })?;
    Ok(())
}
