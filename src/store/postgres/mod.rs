//! Session records in PostgreSQL, the most common store after Redis (Django's default,
//! the sqlx stores of tower-sessions).
//!
//! Each store works in a table of its own (`tokenbench_<random>`, or one it is given to
//! share), created when it connects and dropped by [`PostgresStore::cleanup`] (also run on
//! drop): it never touches anything it did not create. A row holds the binary record of
//! `store::record` (the format Redis stores) with copies of its two deadlines as columns
//! for the queries to filter on:
//!
//! - every statement treats a row past its absolute deadline by the server's clock as
//!   absent, as Redis's TTL does (the scheme still checks both deadlines on its own clock);
//! - one round trip per lookup, and one per sliding lookup ([`SessionStore::view_and_touch`]:
//!   one statement, a `SELECT` and an `UPDATE` in a CTE on one snapshot);
//! - `rename` (rotation at login) is one transaction: `DELETE old RETURNING` (the old ID
//!   dies first, and a concurrent touch either lands before it or finds nothing), the update
//!   in Rust, then the insert of the new ID; a failure rolls back to the old session;
//! - a refresh family (`store::family`) is a row of the same table, `rf:<family>`, its
//!   secrets in columns of their own; a rotation is one transaction: the row read
//!   `FOR UPDATE` (a concurrent rotation of the family waits for this one to commit), the
//!   secrets compared in Rust, then the `UPDATE` or (reuse) the `DELETE`;
//! - rows past their absolute deadline are deleted every [`SWEEP_EVERY`] by the pool's
//!   scheduler on an idle connection (an indexed `DELETE`), as Django's `clearsessions` or
//!   tower-sessions' `continuously_delete_expired` would, outside any request.
//!
//! Connections are an r2d2 pool (`pool`), each with every statement prepared once when it
//! opens; a connection that fails is dropped and idempotent calls try the next one, so the
//! store recovers by itself once the server is back. Every failure is an error, never an
//! answer (fail closed).

mod pool;
mod probe;
mod url;

pub use probe::PostgresProbe;
pub use url::{DEFAULT_USER, POSTGRES_URL_ENV, is_postgres_url, postgres_url_from_env};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::NoTls;
use rand::Rng;
use scheduled_thread_pool::JobHandle;

use self::pool::{Manager, Pool, Sql};
use super::record::{decode, decode_view, encode};
use super::{
    FamilyOp, FamilyOutcome, SessionRecord, SessionStore, SessionView, StoreError, StoreResult,
};

/// How often a store deletes the rows past their absolute deadline.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Session records in a PostgreSQL table, shared by any number of threads through `&self`.
///
/// ```no_run
/// use tokenbench::store::{PostgresStore, SessionStore};
/// let store = PostgresStore::connect("postgres://postgres@127.0.0.1:5432/test")?;
/// assert_eq!(store.get("no-such-id")?, None);
/// store.cleanup()?;
/// # Ok::<(), tokenbench::store::StoreError>(())
/// ```
pub struct PostgresStore {
    pool: Arc<Pool>,
    config: postgres::Config,
    sql: Arc<Sql>,
    table: String,
    cleanup_on_drop: AtomicBool,
    sweeper: JobHandle,
}

impl PostgresStore {
    /// Time allowed to open a connection, and longest a call waits for a connection of
    /// the pool (opening one included) before it fails with [`StoreError::Unavailable`].
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

    /// Connections a store may open unless [`with_pool_size`](Self::with_pool_size) says
    /// otherwise: two per CPU (the most threads the scale workload runs), at least 4.
    /// Opened on demand; each is a server process, so fewer than Redis's.
    pub fn default_pool_size() -> usize {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .saturating_mul(2)
            .max(4)
    }

    /// Connects to the server at `url` (`postgres://[user[:password]@]host[:port]/db`; the
    /// user is [`DEFAULT_USER`] when the URL names none) and creates a fresh table
    /// `tokenbench_<16 hex digits>`.
    ///
    /// Fails with [`StoreError::Unavailable`] when the URL is malformed or nothing answers
    /// within [`CONNECT_TIMEOUT`](Self::CONNECT_TIMEOUT).
    pub fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_table(url, &random_table())
    }

    /// Connects like [`connect`](Self::connect), working in table `table` (created if
    /// missing). Stores sharing a table share their records; turn
    /// [`with_cleanup_on_drop`](Self::with_cleanup_on_drop) off on all but one of them.
    /// `table` is a lower-case name of at most 50 characters (`[a-z_][a-z0-9_-]*`; every
    /// statement quotes it).
    pub fn connect_with_table(url: &str, table: &str) -> StoreResult<Self> {
        check_table(table)?;
        let mut config = url::parse(url, Self::CONNECT_TIMEOUT)?;
        config.application_name(&probe::application_name());
        let address = url::display(&config);
        let sql = Arc::new(Sql::new(table));
        // The table first, on a connection of its own: every pooled connection prepares
        // its statements against it.
        let mut setup = config.connect(NoTls).map_err(|e| {
            StoreError::Unavailable(format!(
                "postgres {address}: cannot connect: {}",
                pool::describe(&e)
            ))
        })?;
        // Two stores creating the same table at once: one of them loses a race on the
        // catalog (a unique violation) and finds the table there when it tries again.
        let created = setup
            .batch_execute(&sql.create)
            .or_else(|_| setup.batch_execute(&sql.create));
        created.map_err(|e| {
            StoreError::Refused(format!(
                "postgres {address}: cannot create table {table:?}: {}",
                pool::describe(&e)
            ))
        })?;
        drop(setup);
        let pool = Arc::new(Pool::new(
            Manager {
                config: config.clone(),
                sql: sql.clone(),
            },
            Self::default_pool_size(),
            address,
        ));
        let sweeper = sweep_regularly(&pool, &sql);
        Ok(Self {
            pool,
            config,
            sql,
            table: table.to_owned(),
            cleanup_on_drop: AtomicBool::new(true),
            sweeper,
        })
    }

    /// The same store with room for `size` connections (at least 1; opened on demand).
    pub fn with_pool_size(mut self, size: usize) -> Self {
        let manager = Manager {
            config: self.config.clone(),
            sql: self.sql.clone(),
        };
        self.sweeper.cancel();
        self.pool = Arc::new(Pool::new(manager, size, self.pool.address.clone()));
        self.sweeper = sweep_regularly(&self.pool, &self.sql);
        self
    }

    /// Whether dropping this store drops its table (on by default).
    pub fn with_cleanup_on_drop(self, cleanup: bool) -> Self {
        self.cleanup_on_drop.store(cleanup, Ordering::Relaxed);
        self
    }

    /// The server's address, without any password.
    pub fn address(&self) -> &str {
        &self.pool.address
    }

    /// The table this store works in.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// How many connections this store may hold.
    pub fn pool_size(&self) -> usize {
        self.pool.r2d2().max_size() as usize
    }

    /// Deletes the rows past their absolute deadline now (the store also does it every
    /// [`SWEEP_EVERY`]); returns how many.
    pub fn sweep(&self) -> StoreResult<u64> {
        self.pool
            .with_conn(true, |c| c.client.execute(&c.st.sweep, &[]))
    }

    /// Drops this store's table, and every record with it.
    pub fn cleanup(&self) -> StoreResult<()> {
        let drop = &self.sql.drop;
        self.pool.with_conn(true, |c| c.client.batch_execute(drop))
    }
}

/// Schedules the sweep of `pool`'s table every [`SWEEP_EVERY`] on the shared scheduler, on
/// an idle connection of the pool (it never opens one: a store nobody uses waits for its
/// next use); a failed sweep is tried again at the next period.
fn sweep_regularly(pool: &Arc<Pool>, sql: &Arc<Sql>) -> JobHandle {
    // Weak: the job must not keep the pool's connections open once the store is gone.
    let (pool, sweep) = (Arc::downgrade(pool), sql.sweep.clone());
    pool::scheduler().execute_at_fixed_rate(SWEEP_EVERY, SWEEP_EVERY, move || {
        let Some(pool) = pool.upgrade() else { return };
        if let Some(mut conn) = pool.r2d2().try_get() {
            let _ = conn.client.batch_execute(&sweep);
        }
    })
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("address", &self.pool.address)
            .field("table", &self.table)
            .field("pool_size", &self.pool_size())
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.sweeper.cancel();
        if self.cleanup_on_drop.load(Ordering::Relaxed) {
            // Best effort: a store whose server is gone leaves its table behind.
            pool::off_runtime(|| {
                let _ = self.cleanup();
            });
        }
    }
}

/// A time as a PostgreSQL `int8`: times beyond `i64::MAX` ms (year 292 million) are read
/// as that, which changes no comparison with a real clock.
fn int8(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl SessionStore for PostgresStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn get(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        let row = self
            .pool
            .with_conn(true, |c| c.client.query_opt(&c.st.get, &[&id]))?;
        row.map(|r| decode(id, r.get::<_, &[u8]>(0))).transpose()
    }

    fn view(&self, id: &str) -> StoreResult<Option<SessionView>> {
        let row = self
            .pool
            .with_conn(true, |c| c.client.query_opt(&c.st.get, &[&id]))?;
        row.map(|r| decode_view(id, r.get::<_, &[u8]>(0)))
            .transpose()
    }

    fn view_and_touch(
        &self,
        id: &str,
        now_ms: u64,
        idle_deadline_ms: u64,
    ) -> StoreResult<Option<SessionView>> {
        let (now, idle) = (int8(now_ms), int8(idle_deadline_ms));
        // Idempotent (a second run writes the same two values), so retried on a stale
        // connection.
        let row = self.pool.with_conn(true, |c| {
            c.client.query_opt(&c.st.view_touch, &[&id, &now, &idle])
        })?;
        row.map(|r| decode_view(id, r.get::<_, &[u8]>(0)))
            .transpose()
    }

    fn put(&self, id: &str, record: &SessionRecord) -> StoreResult<()> {
        let bytes = encode(record);
        let (idle, absolute) = (
            int8(record.idle_deadline_ms),
            int8(record.absolute_deadline_ms),
        );
        self.pool.with_conn(true, |c| {
            c.client
                .execute(&c.st.put, &[&id, &bytes, &idle, &absolute])
        })?;
        Ok(())
    }

    fn touch(&self, id: &str, last_seen_ms: u64, idle_deadline_ms: u64) -> StoreResult<bool> {
        let (last, idle) = (int8(last_seen_ms), int8(idle_deadline_ms));
        let n = self.pool.with_conn(true, |c| {
            c.client.execute(&c.st.touch, &[&id, &last, &idle])
        })?;
        Ok(n > 0)
    }

    fn delete(&self, id: &str) -> StoreResult<bool> {
        let row = self
            .pool
            .with_conn(false, |c| c.client.query_opt(&c.st.delete, &[&id]))?;
        Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
    }

    fn rename(
        &self,
        old: &str,
        new: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool> {
        let mut failure = None;
        let moved = self.pool.with_conn(false, |c| {
            let st = &c.st;
            let mut tx = c.client.transaction()?;
            let Some(row) = tx.query_opt(&st.take, &[&old])? else {
                return Ok(false);
            };
            if !row.get::<_, bool>(1) {
                // Past its deadline: gone for the caller (and now from the table).
                tx.commit()?;
                return Ok(false);
            }
            let mut record = match decode(old, row.get::<_, &[u8]>(0)) {
                Ok(record) => record,
                Err(e) => {
                    // Rolled back when `tx` drops: the corrupt row stays for inspection.
                    failure = Some(e);
                    return Ok(false);
                }
            };
            update(&mut record);
            let (idle, absolute) = (
                int8(record.idle_deadline_ms),
                int8(record.absolute_deadline_ms),
            );
            tx.execute(&st.put, &[&new, &encode(&record), &idle, &absolute])?;
            tx.commit()?;
            Ok(true)
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(moved),
        }
    }

    fn refresh_family(&self, family: &str, op: FamilyOp<'_>) -> StoreResult<FamilyOutcome> {
        // Session IDs are base64url: no session ID contains the `:`.
        let id = crate::store::family::record_id(family);
        match op {
            FamilyOp::Start { record, secret } => {
                let bytes = encode(record);
                let (idle, absolute) = (
                    int8(record.idle_deadline_ms),
                    int8(record.absolute_deadline_ms),
                );
                self.pool.with_conn(true, |c| {
                    c.client.execute(
                        &c.st.family_start,
                        &[&id, &bytes, &idle, &absolute, &secret],
                    )
                })?;
                Ok(FamilyOutcome::Started)
            }
            FamilyOp::Revoke => {
                let row = self
                    .pool
                    .with_conn(false, |c| c.client.query_opt(&c.st.delete, &[&id]))?;
                Ok(FamilyOutcome::Revoked(
                    row.is_some_and(|r| r.get::<_, bool>(0)),
                ))
            }
            FamilyOp::Rotate {
                secret,
                successor,
                now_ms,
                grace_ms,
            } => {
                let now = int8(now_ms);
                // Never retried: a rotation that committed and lost its reply must not run
                // twice (the second would see its own secret as reused).
                let outcome = self.pool.with_conn(false, |c| {
                    let st = &c.st;
                    let mut tx = c.client.transaction()?;
                    let Some(row) = tx.query_opt(&st.family_lock, &[&id])? else {
                        return Ok(Err(FamilyOutcome::Unknown));
                    };
                    let current: &str = row.get(1);
                    if crate::store::family::secrets_equal(secret, current) {
                        tx.execute(&st.family_rotate, &[&id, &successor, &now])?;
                        tx.commit()?;
                        return Ok(Ok((row.get::<_, Vec<u8>>(0), None)));
                    }
                    let previous: Option<&str> = row.get(2);
                    let rotated: Option<i64> = row.get(3);
                    let in_grace = match (previous, rotated) {
                        (Some(p), Some(at)) => {
                            crate::store::family::secrets_equal(secret, p)
                                && crate::store::family::in_grace(
                                    now_ms,
                                    u64::try_from(at).unwrap_or(0),
                                    grace_ms,
                                )
                        }
                        _ => false,
                    };
                    if in_grace {
                        return Ok(Ok((row.get::<_, Vec<u8>>(0), Some(current.to_owned()))));
                    }
                    tx.execute(&st.delete, &[&id])?;
                    tx.commit()?;
                    Ok(Err(FamilyOutcome::Reused))
                })?;
                Ok(match outcome {
                    Err(outcome) => outcome,
                    Ok((bytes, None)) => FamilyOutcome::Rotated(decode(family, &bytes)?),
                    Ok((bytes, Some(current))) => FamilyOutcome::Grace {
                        record: decode(family, &bytes)?,
                        current,
                    },
                })
            }
        }
    }

    fn len(&self) -> StoreResult<usize> {
        let n: i64 = self
            .pool
            .with_conn(true, |c| c.client.query_one(&c.st.len, &[]))?
            .get(0);
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn record_bytes(&self, id: &str) -> StoreResult<Option<u64>> {
        let row = self
            .pool
            .with_conn(true, |c| c.client.query_opt(&c.st.row_bytes, &[&id]))?;
        Ok(row.map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
    }
}

/// Refuses a table name that is not `[a-z_][a-z0-9_-]*` of at most 50 characters.
fn check_table(table: &str) -> StoreResult<()> {
    let ok = !table.is_empty()
        && table.len() <= 50
        && table.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && table
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Refused(format!(
            "table name {table:?}: expected a lower-case name ([a-z_][a-z0-9_-]*, at most 50 characters)"
        )))
    }
}

impl PostgresStore {
    /// Drops table `table` of the server at `url` if it exists, creating nothing (the
    /// cleanup of a table that stores shared with cleanup on drop turned off); returns the
    /// rows it held (0 when there was no such table).
    pub fn drop_table(url: &str, table: &str) -> StoreResult<u64> {
        check_table(table)?;
        let mut config = url::parse(url, Self::CONNECT_TIMEOUT)?;
        config.application_name(&probe::application_name());
        let address = url::display(&config);
        let failed = |e: postgres::Error| {
            StoreError::Unavailable(format!(
                "postgres {address}: dropping table {table:?}: {}",
                pool::describe(&e)
            ))
        };
        let mut client = config.connect(NoTls).map_err(failed)?;
        let mut tx = client.transaction().map_err(failed)?;
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_tables \
                 WHERE schemaname = current_schema() AND tablename = $1)",
                &[&table],
            )
            .map_err(failed)?
            .get(0);
        if !exists {
            return Ok(0);
        }
        let rows: i64 = tx
            .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
            .map_err(failed)?
            .get(0);
        tx.batch_execute(&format!("DROP TABLE IF EXISTS \"{table}\""))
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(u64::try_from(rows).unwrap_or(0))
    }
}

/// `tokenbench_<16 hex digits>`.
fn random_table() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("tokenbench_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tables_differ_and_are_valid_names() {
        let (a, b) = (random_table(), random_table());
        assert_ne!(a, b);
        assert!(a.starts_with("tokenbench_") && a.len() == 27);
    }

    #[test]
    fn table_names_are_checked_before_anything_is_sent() {
        for bad in [
            "",
            "Sessions",
            "-ab",
            "a:b",
            "x;drop table y",
            "1abc",
            &"a".repeat(51),
        ] {
            let err = PostgresStore::connect_with_table("postgres://127.0.0.1:1/x", bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("table name"), "{bad}: {err}");
        }
    }

    #[test]
    fn times_beyond_int8_are_read_as_its_largest() {
        assert_eq!(int8(5), 5);
        assert_eq!(int8(u64::MAX), i64::MAX);
    }
}
