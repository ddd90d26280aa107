//! The connections of a [`PostgresStore`](super::PostgresStore): an r2d2 pool whose
//! connections each carry the store's statements, prepared once when the connection is
//! opened; the SQL of every statement; and how a client error becomes a [`StoreError`].

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Statement};
use r2d2::{ManageConnection, PooledConnection};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::store::record::TOUCH_AT;
use crate::store::{StoreError, StoreResult};

/// The server's clock in milliseconds since the epoch, at the statement's start: every
/// statement reads the absolute deadline against it, as Redis's TTL does.
const NOW_MS: &str = "(extract(epoch from statement_timestamp()) * 1000)::int8";

/// A row whose record can be rewritten in place: a version-1 binary record (the touch
/// statements never write into anything else; reads refuse it as corrupt).
const WELL_FORMED: &str = "length(record) >= 33 AND get_byte(record, 0) = 1";

/// The SQL of one store's statements, for its table.
#[derive(Debug)]
pub(super) struct Sql {
    pub(super) create: String,
    get: String,
    put: String,
    touch: String,
    view_touch: String,
    delete: String,
    take: String,
    len: String,
    row_bytes: String,
    family_start: String,
    family_lock: String,
    family_rotate: String,
    pub(super) sweep: String,
    pub(super) drop: String,
}

impl Sql {
    /// The statements of the store whose table is `table` (a checked identifier).
    pub(super) fn new(table: &str) -> Sql {
        let t = format!("\"{table}\"");
        let live = format!("absolute_deadline_ms > {NOW_MS}");
        // Where last_seen_ms then idle_deadline_ms start, as SQL counts (from 1).
        let at = TOUCH_AT + 1;
        Sql {
            // `record` is the binary record (`store::record`); the two deadlines are copies
            // of its own, kept by every statement that writes, for the filters and the sweep.
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                   id text COLLATE \"C\" PRIMARY KEY, \
                   record bytea NOT NULL, \
                   idle_deadline_ms int8 NOT NULL, \
                   absolute_deadline_ms int8 NOT NULL); \
                 CREATE INDEX IF NOT EXISTS \"{table}_expiry\" ON {t} (absolute_deadline_ms); \
                 ALTER TABLE {t} ADD COLUMN IF NOT EXISTS refresh_current text, \
                   ADD COLUMN IF NOT EXISTS refresh_previous text, \
                   ADD COLUMN IF NOT EXISTS rotated_ms int8"
            ),
            get: format!("SELECT record FROM {t} WHERE id = $1 AND {live}"),
            put: format!(
                "INSERT INTO {t} (id, record, idle_deadline_ms, absolute_deadline_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
                 record = EXCLUDED.record, idle_deadline_ms = EXCLUDED.idle_deadline_ms, \
                 absolute_deadline_ms = EXCLUDED.absolute_deadline_ms"
            ),
            // The 16 bytes at `at` are last_seen_ms and idle_deadline_ms (`store::record`).
            touch: format!(
                "UPDATE {t} SET idle_deadline_ms = $3::int8, \
                 record = overlay(record PLACING int8send($2::int8) || int8send($3::int8) FROM {at}) \
                 WHERE id = $1 AND {live} AND {WELL_FORMED}"
            ),
            // Sliding expiry in one statement: the record as read, and, when it is live at
            // $2 (both deadlines after it), the touch, its idle deadline capped at the
            // absolute one. Both parts see the same snapshot, so the record returned is the
            // one read, touched or not.
            view_touch: format!(
                "WITH hit AS (SELECT record FROM {t} WHERE id = $1 AND {live}), \
                 slid AS (UPDATE {t} SET \
                   idle_deadline_ms = least($3::int8, absolute_deadline_ms), \
                   record = overlay(record PLACING int8send($2::int8) \
                     || int8send(least($3::int8, absolute_deadline_ms)) FROM {at}) \
                   WHERE id = $1 AND $2::int8 < idle_deadline_ms \
                     AND $2::int8 < absolute_deadline_ms AND {live} AND {WELL_FORMED}) \
                 SELECT record FROM hit"
            ),
            // A record past its deadline goes too, but did not exist as far as callers know.
            delete: format!("DELETE FROM {t} WHERE id = $1 RETURNING {live}"),
            take: format!("DELETE FROM {t} WHERE id = $1 RETURNING record, {live}"),
            len: format!("SELECT count(*) FROM {t} WHERE {live}"),
            row_bytes: format!(
                "SELECT pg_column_size(s.*)::int8 FROM {t} s WHERE id = $1 AND {live}"
            ),
            // Refresh families (`store::family`): a row whose `refresh_current` is set.
            family_start: format!(
                "INSERT INTO {t} (id, record, idle_deadline_ms, absolute_deadline_ms, \
                   refresh_current, refresh_previous, rotated_ms) \
                 VALUES ($1, $2, $3, $4, $5, NULL, NULL) ON CONFLICT (id) DO UPDATE SET \
                 record = EXCLUDED.record, idle_deadline_ms = EXCLUDED.idle_deadline_ms, \
                 absolute_deadline_ms = EXCLUDED.absolute_deadline_ms, \
                 refresh_current = EXCLUDED.refresh_current, refresh_previous = NULL, \
                 rotated_ms = NULL"
            ),
            // The row locked until the transaction ends: a concurrent rotation waits here.
            family_lock: format!(
                "SELECT record, refresh_current, refresh_previous, rotated_ms FROM {t} \
                 WHERE id = $1 AND {live} AND refresh_current IS NOT NULL FOR UPDATE"
            ),
            family_rotate: format!(
                "UPDATE {t} SET refresh_previous = refresh_current, refresh_current = $2, \
                 rotated_ms = $3 WHERE id = $1"
            ),
            sweep: format!("DELETE FROM {t} WHERE absolute_deadline_ms <= {NOW_MS}"),
            drop: format!("DROP TABLE IF EXISTS {t}"),
        }
    }
}

/// The store's statements, prepared on one connection.
pub(super) struct Statements {
    pub(super) get: Statement,
    pub(super) put: Statement,
    pub(super) touch: Statement,
    pub(super) view_touch: Statement,
    pub(super) delete: Statement,
    pub(super) take: Statement,
    pub(super) len: Statement,
    pub(super) row_bytes: Statement,
    pub(super) family_start: Statement,
    pub(super) family_lock: Statement,
    pub(super) family_rotate: Statement,
    pub(super) sweep: Statement,
}

/// One pooled connection and its prepared statements.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) st: Statements,
    /// It has answered a call before (a failure on it may be a stale connection).
    used: bool,
    /// A call failed on the connection itself: the pool drops it.
    broken: bool,
}

/// Opens connections for one store: each with the session settings and the statements.
pub(super) struct Manager {
    pub(super) config: Config,
    pub(super) sql: Arc<Sql>,
}

/// Longest a statement may run on the server before it is cancelled (the session setting
/// `statement_timeout`), so that a stalled server fails a call closed in bounded time.
pub(super) const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute(&format!(
            "SET statement_timeout = {}",
            STATEMENT_TIMEOUT.as_millis()
        ))?;
        let sql = &self.sql;
        let st = Statements {
            get: client.prepare(&sql.get)?,
            put: client.prepare(&sql.put)?,
            touch: client.prepare(&sql.touch)?,
            view_touch: client.prepare(&sql.view_touch)?,
            delete: client.prepare(&sql.delete)?,
            take: client.prepare(&sql.take)?,
            len: client.prepare(&sql.len)?,
            row_bytes: client.prepare(&sql.row_bytes)?,
            family_start: client.prepare(&sql.family_start)?,
            family_lock: client.prepare(&sql.family_lock)?,
            family_rotate: client.prepare(&sql.family_rotate)?,
            sweep: client.prepare(&sql.sweep)?,
        };
        Ok(Conn {
            client,
            st,
            used: false,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// The scheduler every store's pool shares for opening connections in the background and
/// dropping idle ones, and that runs each store's sweep of expired rows: two threads for
/// the process, where r2d2 would start three per pool.
pub(super) fn scheduler() -> Arc<ScheduledThreadPool> {
    static POOL: OnceLock<Arc<ScheduledThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(2)
                .thread_name_pattern("tokenbench-pg-{}")
                .build(),
        )
    })
    .clone()
}

/// A pool of connections to one server for one store.
pub(super) struct Pool {
    /// Always `Some` until the pool drops (see its `Drop`).
    pool: Option<r2d2::Pool<Manager>>,
    /// The server's address as it may be printed.
    pub(super) address: String,
}

/// Runs `f` on a thread of its own when this thread is inside a tokio runtime (an HTTP
/// server's worker), where the synchronous client may not block (it runs a runtime of its
/// own); on this thread otherwise.
pub(super) fn off_runtime(f: impl FnOnce() + Send) {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(f);
        });
    } else {
        f();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing a connection blocks on the client's runtime: never on a tokio worker.
        if let Some(pool) = self.pool.take() {
            off_runtime(move || drop(pool));
        }
    }
}

impl Pool {
    /// A pool of at most `size` connections, opened on demand (none yet).
    pub(super) fn new(manager: Manager, size: usize, address: String) -> Pool {
        let pool = r2d2::Pool::builder()
            .max_size(u32::try_from(size.max(1)).unwrap_or(u32::MAX))
            .min_idle(Some(0))
            // One round trip per call: a connection is not tested before each use; one
            // that fails is dropped, and idempotent calls try again (`with_conn`).
            .test_on_check_out(false)
            .connection_timeout(super::PostgresStore::CONNECT_TIMEOUT)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .thread_pool(scheduler())
            .build_unchecked(manager);
        Pool {
            pool: Some(pool),
            address,
        }
    }

    /// The r2d2 pool.
    pub(super) fn r2d2(&self) -> &r2d2::Pool<Manager> {
        // `pool` is `Some` from `new` until `drop` takes it, and nothing runs after that.
        self.pool
            .as_ref()
            .unwrap_or_else(|| unreachable!("a pool is used only before it drops"))
    }

    /// A connection of the pool (opened now if none is free), or why there is none.
    fn get(&self) -> StoreResult<PooledConnection<Manager>> {
        self.r2d2().get().map_err(|e| {
            StoreError::Unavailable(format!(
                "postgres {}: cannot connect: {}",
                self.address,
                // r2d2's own text is "timed out waiting for connection: <cause>".
                e.to_string()
                    .trim_start_matches("timed out waiting for connection")
                    .trim_start_matches(": ")
            ))
        })
    }

    /// Runs `f` on a pooled connection. A failure of the connection itself (not a
    /// statement error the server reported) marks it broken, so the pool drops it. When
    /// `retry` is set, a failure on a connection that had been used before (typically: the
    /// server restarted since) runs `f` again on the next connection, until one that was
    /// fresh fails too: after a restart every idle connection is stale.
    pub(super) fn with_conn<T>(
        &self,
        retry: bool,
        mut f: impl FnMut(&mut Conn) -> Result<T, postgres::Error>,
    ) -> StoreResult<T> {
        for _ in 0..=self.r2d2().max_size() {
            let mut conn = self.get()?;
            match f(&mut conn) {
                Ok(v) => {
                    conn.used = true;
                    return Ok(v);
                }
                Err(e) => {
                    let lost = e.as_db_error().is_none();
                    conn.broken |= lost || conn.client.is_closed();
                    if !(retry && lost && conn.used) {
                        return Err(self.map_err(&e));
                    }
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "postgres {}: every pooled connection failed",
            self.address
        )))
    }

    /// The [`StoreError`] of a client error: the server unreachable, shutting down, out of
    /// connections or too slow is [`StoreError::Unavailable`] (an outage, worth waiting
    /// out); a statement the server refused for another reason is [`StoreError::Refused`].
    pub(super) fn map_err(&self, e: &postgres::Error) -> StoreError {
        let text = format!("postgres {}: {}", self.address, describe(e));
        if is_outage(e) {
            StoreError::Unavailable(text)
        } else {
            StoreError::Refused(text)
        }
    }
}

/// True when `e` means the server could not serve at all: no server reply (I/O, a closed
/// connection, a timeout), or a reply of class 08 (connection), 53 (resources), 57
/// (operator intervention: shutdown, a cancelled statement) or 58 (system error).
pub(crate) fn is_outage(e: &postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            matches!(class, "08" | "53" | "57" | "58") || *code == SqlState::ADMIN_SHUTDOWN
        }
    }
}

/// The error's text with the server's message (the client's own `Display` of a server
/// error says only "db error").
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}
