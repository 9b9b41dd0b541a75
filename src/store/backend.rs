//! Where a store lives and how to reach it: a SQLite file (embedded, the default) or a
//! PostgreSQL database (many machines sharing a sweep). It owns the connection settings
//! and the few SQL fragments the two engines spell differently; every other statement
//! of the store is written once, in SQL both accept (`$1` parameters, `ON CONFLICT`,
//! times as UTC ISO-8601 text). It runs no statement of its own beyond session settings.

use anyhow::{anyhow, Context, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Where a store lives: `--db PATH` (SQLite) or `--db postgres://…` (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl FromStr for Location {
    type Err = String;

    fn from_str(s: &str) -> Result<Location, String> {
        if s.is_empty() {
            return Err("--db is empty: give a SQLite file or a postgres:// URL".into());
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Location::Postgres(s.to_string()));
        }
        if let Some(path) = s.strip_prefix("sqlite://") {
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(format!(
                "--db `{s}`: unknown scheme `{scheme}`; give a SQLite file path or a postgres:// URL"
            ));
        }
        Ok(Location::Sqlite(PathBuf::from(s)))
    }
}

impl Location {
    /// The location as `--db` takes it (a PostgreSQL URL with its password, if any).
    pub fn as_arg(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => url.clone(),
        }
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::Sqlite(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::Sqlite(path.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Location {
        Location::Sqlite(path)
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Location {
        location.clone()
    }
}

impl fmt::Display for Location {
    /// The path, or the URL with its password hidden (it reaches logs and errors).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => {
                let hidden = url.split_once("://").and_then(|(scheme, rest)| {
                    let (userinfo, host) = rest.split_once('@')?;
                    let (user, _password) = userinfo.split_once(':')?;
                    Some(format!("{scheme}://{user}:***@{host}"))
                });
                f.write_str(hidden.as_deref().unwrap_or(url))
            }
        }
    }
}

/// The engine behind a store, for the SQL the two spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(location: &Location) -> Backend {
        match location {
            Location::Sqlite(_) => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        }
    }

    /// The current UTC time by the store's clock (the server's, for PostgreSQL, so that
    /// the leases of workers on many machines are judged by one clock), as ISO-8601 text
    /// with milliseconds: such texts order as the times do.
    pub fn now(self) -> String {
        self.now_plus(0)
    }

    /// [`Backend::now`] moved by `seconds` (negative: earlier).
    pub fn now_plus(self, seconds: i64) -> String {
        match self {
            Backend::Sqlite => {
                format!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '{seconds:+} seconds')")
            }
            Backend::Postgres => format!(
                "to_char((clock_timestamp() + interval '{seconds} seconds') AT TIME ZONE 'UTC', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            ),
        }
    }

    /// Seconds from the time text in `column` to now, as a float.
    pub fn seconds_since(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("(julianday('now') - julianday({column})) * 86400.0"),
            Backend::Postgres => format!(
                "CAST(extract(epoch FROM (clock_timestamp() - CAST({column} AS timestamptz))) AS DOUBLE PRECISION)"
            ),
        }
    }

    /// The integer type of a cast.
    pub fn integer(self) -> &'static str {
        match self {
            Backend::Sqlite => "INTEGER",
            Backend::Postgres => "BIGINT",
        }
    }
}

/// Connections a process keeps to a PostgreSQL store: a worker needs one for its run
/// and one for its lease; many workers share the server's `max_connections` (100 by
/// default), so 32 workers fit.
const POSTGRES_CONNECTIONS: u32 = 2;
/// SQLite: the jobs of one process write through these.
const SQLITE_CONNECTIONS: u32 = 4;

/// A pool on the store at `location`; `read_only` forbids every change (a read-only
/// SQLite file; PostgreSQL sessions whose transactions are read-only).
pub(super) async fn connect(location: &Location, read_only: bool) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let (url, connections) = match location {
        Location::Sqlite(path) => {
            let text = path
                .to_str()
                .ok_or_else(|| anyhow!("the store path {} is not UTF-8", path.display()))?;
            // The driver decodes percent escapes in the path and stops it at `?`.
            let escaped = text.replace('%', "%25").replace('?', "%3F");
            let mode = if read_only { "ro" } else { "rwc" };
            (
                format!("sqlite://{escaped}?mode={mode}"),
                SQLITE_CONNECTIONS,
            )
        }
        Location::Postgres(url) => (url.clone(), POSTGRES_CONNECTIONS),
    };
    let options = AnyConnectOptions::from_str(&url)
        .with_context(|| format!("the store address {location}"))?;
    let backend = Backend::of(location);
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                match (backend, read_only) {
                    (Backend::Sqlite, _) => {
                        // Writers wait for each other instead of failing at once.
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    (Backend::Postgres, true) => {
                        conn.execute("SET default_transaction_read_only = on")
                            .await?;
                    }
                    (Backend::Postgres, false) => {}
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("opening the store {location}"))
}

#[cfg(test)]
mod tests {
    use super::Location;
    use std::path::PathBuf;

    #[test]
    fn a_db_argument_is_a_path_or_a_postgres_url() {
        assert_eq!(
            "results/a.sqlite".parse(),
            Ok(Location::Sqlite(PathBuf::from("results/a.sqlite")))
        );
        assert_eq!(
            "sqlite://x.db".parse(),
            Ok(Location::Sqlite(PathBuf::from("x.db")))
        );
        let url = "postgres://anolab:secret@db:5432/sweeps";
        assert_eq!(url.parse(), Ok(Location::Postgres(url.into())));
        assert_eq!(
            Location::Postgres(url.into()).to_string(),
            "postgres://anolab:***@db:5432/sweeps"
        );
        assert_eq!(
            "mysql://x".parse::<Location>().unwrap_err(),
            "--db `mysql://x`: unknown scheme `mysql`; give a SQLite file path or a postgres:// URL"
        );
    }
}
