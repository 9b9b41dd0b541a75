//! The user's own SQL (`anolab query`): any statements, any columns, each cell typed by
//! what the engine returned. It goes through the engine's own driver rather than the
//! store's pool, so that every column type reads (PostgreSQL's `numeric` of an `avg`,
//! its timestamps), and through the text protocol, so that several statements may be
//! sent at once as in `sqlite3` or `psql`.

use super::Location;
use anyhow::{anyhow, Result};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Column, ConnectOptions, Connection, Executor, Row, TypeInfo, ValueRef};
use std::str::FromStr;

/// One value of a query result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    /// A blob, shown by its size only.
    Blob(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Runs `sql` on the store at `location`; `read_only` refuses every change (a read-only
/// SQLite file; a read-only PostgreSQL transaction, rolled back at the end).
pub(super) async fn fetch(location: &Location, read_only: bool, sql: &str) -> Result<QueryResult> {
    match location {
        Location::Sqlite(path) => {
            let mut conn = SqliteConnectOptions::new()
                .filename(path)
                .read_only(read_only)
                .connect()
                .await
                .map_err(|e| anyhow!("opening the store {}: {e}", path.display()))?;
            sqlite_rows(&mut conn, sql)
                .await
                .map_err(|e| explain("SQLite", e))
        }
        Location::Postgres(url) => {
            let mut conn = PgConnection::connect_with(&FromStr::from_str(url)?)
                .await
                .map_err(|e| anyhow!("opening the store {location}: {e}"))?;
            if read_only {
                // The session too: statements after a `COMMIT` in the user's text stay
                // read-only.
                conn.execute("SET default_transaction_read_only = on")
                    .await?;
                conn.execute("BEGIN TRANSACTION READ ONLY").await?;
            }
            let result = postgres_rows(&mut conn, sql).await;
            if read_only {
                // Also ends the aborted transaction of a failed statement.
                conn.execute("ROLLBACK").await?;
            }
            result.map_err(|e| explain("PostgreSQL", e))
        }
    }
}

/// The engine's message, with the way out when it refused to write.
fn explain(engine: &str, e: sqlx::Error) -> anyhow::Error {
    let message = match &e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    if message.contains("readonly") || message.contains("read-only") {
        anyhow!("{message}: `anolab query` is read-only; add --write to change the store")
    } else {
        anyhow!("{engine}: {message}")
    }
}

/// SQLite types each value by what it stored.
async fn sqlite_rows(conn: &mut SqliteConnection, sql: &str) -> sqlx::Result<QueryResult> {
    let rows = conn.fetch_all(sql).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            let raw = row.try_get_raw(i)?;
            let cell = if raw.is_null() {
                Cell::Null
            } else {
                match raw.type_info().name() {
                    "INTEGER" | "BOOLEAN" => Cell::Int(row.try_get_unchecked(i)?),
                    "REAL" => Cell::Real(row.try_get_unchecked(i)?),
                    "BLOB" => Cell::Blob(row.try_get_unchecked::<Vec<u8>, _>(i)?.len()),
                    _ => Cell::Text(row.try_get_unchecked(i)?),
                }
            };
            cells.push(cell);
        }
        out.push(cells);
    }
    Ok(QueryResult {
        columns: columns(&rows),
        rows: out,
    })
}

/// PostgreSQL's text protocol gives every value as text; the column's type says how to
/// read it.
async fn postgres_rows(conn: &mut PgConnection, sql: &str) -> sqlx::Result<QueryResult> {
    let rows = conn.fetch_all(sql).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                cells.push(Cell::Null);
                continue;
            }
            let kind = raw.type_info().name().to_string();
            let text: String = row.try_get_unchecked(i)?;
            let cell = match kind.as_str() {
                "INT2" | "INT4" | "INT8" => text.parse().map(Cell::Int).ok(),
                "FLOAT4" | "FLOAT8" | "NUMERIC" => text.parse().map(Cell::Real).ok(),
                "BOOL" => Some(Cell::Int(i64::from(text == "t"))),
                // `\x0a1b…`: two hex digits a byte.
                "BYTEA" => Some(Cell::Blob(text.len().saturating_sub(2) / 2)),
                _ => None,
            };
            cells.push(cell.unwrap_or(Cell::Text(text)));
        }
        out.push(cells);
    }
    Ok(QueryResult {
        columns: columns(&rows),
        rows: out,
    })
}

fn columns<R: Row>(rows: &[R]) -> Vec<String> {
    rows.first()
        .map(|r| r.columns().iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default()
}
