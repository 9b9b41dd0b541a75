//! The user's own SQL (`anolab query`): any statement, any columns, values typed by what
//! SQLite stored.

use anyhow::{anyhow, Result};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqlitePool};
use sqlx::{Column, Row, TypeInfo, ValueRef};

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

/// Runs a statement (the user's, or the store's own with its values bound) and types
/// every cell by what SQLite stored.
pub(super) async fn fetch<'q>(
    pool: &SqlitePool,
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
) -> Result<QueryResult> {
    let rows = query.fetch_all(pool).await.map_err(|e| {
        let message = match &e {
            sqlx::Error::Database(db) => db.message().to_string(),
            other => other.to_string(),
        };
        if message.contains("readonly") || message.contains("read-only") {
            anyhow!("{message}: `anolab query` is read-only; add --write to change the store")
        } else {
            anyhow!("SQLite: {message}")
        }
    })?;
    let columns = rows
        .first()
        .map(|r| r.columns().iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default();
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
    Ok(QueryResult { columns, rows: out })
}
