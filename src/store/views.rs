//! The `run_summary` and `sweep_summary` views. A view's columns are fixed when it is
//! created, so the store recreates both from the parameter names present in `params`
//! each time it may have gained new ones (opening for writing, planning a sweep).

use super::Backend;
use sqlx::{AnyConnection, Row};

/// Parameters already shown as identity columns of `run_summary` (`seed`, `model`, ...).
const IDENTITY_PARAMS: [&str; 5] = [
    "seed",
    "fold",
    "model.name",
    "dataset.name",
    "eval.protocol",
];

/// Test metrics shown per run, and averaged with their sample std in `sweep_summary`.
const METRICS: [&str; 4] = ["auc_roc", "auc_pr", "best_f1", "f1"];

/// A parameter's SQL type in the views: the narrowest that holds every stored value
/// (declared in widening order, so `max` of two kinds holds both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Integer,
    Real,
    Text,
}

/// `model.nz` → `model_nz`: names that need no quoting in the user's SQL.
fn column_name(param: &str) -> String {
    param
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// One parameter column of `run_summary`: `(param name, column name, kind)`.
async fn param_columns(conn: &mut AnyConnection) -> sqlx::Result<Vec<(String, String, Kind)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT name, CASE WHEN value_num IS NULL THEN 0 ELSE 1 END AS numeric, value_text
         FROM params ORDER BY name",
    )
    .fetch_all(conn)
    .await?;
    // Sorted by name, so one parameter's values are adjacent.
    let mut columns: Vec<(String, String, Option<Kind>)> = Vec::new();
    for row in rows {
        let name: String = row.try_get("name")?;
        if IDENTITY_PARAMS.contains(&name.as_str()) {
            continue;
        }
        let numeric = row.try_get::<i64, _>("numeric")? == 1;
        let text: Option<String> = row.try_get("value_text")?;
        // Integers keep their written form (`8`); bools are stored as 0/1 without text;
        // a null value (an unset optional setting) fits every kind.
        let kind = match (numeric, text) {
            (false, None) => None,
            (false, Some(_)) => Some(Kind::Text),
            (true, Some(t)) if t.parse::<i64>().is_err() => Some(Kind::Real),
            (true, _) => Some(Kind::Integer),
        };
        match columns.last_mut() {
            Some(last) if last.0 == name => last.2 = last.2.max(kind),
            _ => {
                let column = column_name(&name);
                // Two names that map to one column (`a.b_c`, `a_b.c`): the first keeps it.
                if !columns.iter().any(|c| c.1 == column) {
                    columns.push((name, column, kind));
                }
            }
        }
    }
    Ok(columns
        .into_iter()
        .map(|(name, column, kind)| (name, column, kind.unwrap_or(Kind::Text)))
        .collect())
}

/// Drops and recreates both views; run inside the caller's transaction.
pub(super) async fn refresh(conn: &mut AnyConnection, backend: Backend) -> sqlx::Result<()> {
    if backend == Backend::Postgres {
        // Processes refreshing at once would otherwise race on the views' catalog rows
        // ("tuple concurrently updated"); released at commit.
        sqlx::query("SELECT pg_advisory_xact_lock(7243531)")
            .execute(&mut *conn)
            .await?;
    }
    let params = param_columns(&mut *conn).await?;
    let integer = backend.integer();
    let param_sql: Vec<String> = params
        .iter()
        .map(|(name, column, kind)| {
            let value = match kind {
                Kind::Integer => format!("CAST(value_num AS {integer})"),
                Kind::Real => "value_num".into(),
                Kind::Text => "value_text".into(),
            };
            format!(
                "(SELECT {value} FROM params p WHERE p.run_id = r.id AND p.name = '{}') AS \"{column}\"",
                name.replace('\'', "''")
            )
        })
        .collect();
    let metric_sql: Vec<String> = METRICS
        .iter()
        .map(|m| format!("(SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = '{m}') AS {m}"))
        .collect();
    let run_summary = format!(
        "CREATE VIEW run_summary AS
         SELECT r.id AS run_id, r.key, s.name AS sweep, r.model, r.dataset, r.seed, r.fold,
                r.protocol, r.status,
                {}
                r.best_epoch, r.n_params, r.duration_s, r.error
         FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id JOIN sweeps s ON s.id = sr.sweep_id",
        param_sql
            .iter()
            .chain(&metric_sql)
            .map(|c| format!("{c},\n"))
            .collect::<String>()
    );

    let group: Vec<String> = ["sweep", "model", "dataset", "protocol"]
        .iter()
        .map(|c| c.to_string())
        .chain(params.iter().map(|(_, column, _)| format!("\"{column}\"")))
        .collect();
    // Sample std from the sum of squares (SQLite has no stdev aggregate); NULL for one
    // run, and clamped at 0 against rounding just below it.
    let stats: Vec<String> = METRICS
        .iter()
        .map(|m| {
            let variance = format!(
                "(sum({m} * {m}) - count({m}) * avg({m}) * avg({m})) / NULLIF(count({m}) - 1, 0)"
            );
            format!(
                "avg({m}) AS {m}_mean,
                 sqrt(CASE WHEN {variance} < 0.0 THEN 0.0 ELSE {variance} END) AS {m}_std"
            )
        })
        .collect();
    let sweep_summary = format!(
        "CREATE VIEW sweep_summary AS
         SELECT {group}, count(*) AS n, {stats}
         FROM run_summary WHERE status = 'done'
         GROUP BY {group}",
        group = group.join(", "),
        stats = stats.join(", ")
    );
    for statement in [
        "DROP VIEW IF EXISTS sweep_summary",
        "DROP VIEW IF EXISTS run_summary",
        &run_summary,
        &sweep_summary,
    ] {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}
