//! The connection layer: a pool of read-only connections used on the caller's thread, and one
//! writer thread that commits queued writes in groups.
//!
//! Why not an async driver: every statement of an async SQLite driver is a round trip to a
//! worker thread and back (two context switches, two wake-ups), and a token grant runs several
//! statements. On the one or two cores an authorization server is usually given, those hops
//! cost more than the statements. Here:
//!
//! - **Reads** run synchronously on the calling thread, on a pooled read-only connection with
//!   cached prepared statements. Keyway's reads are point lookups on unique indexes (a few
//!   microseconds once the pages are cached), well under what a tokio task may run between
//!   two awaits. WAL lets them run beside the writer without waiting for it.
//! - **Writes** are closures sent to the writer thread, which owns the only writing
//!   connection. It takes every write queued at that moment, runs each in its own savepoint
//!   inside one `BEGIN IMMEDIATE` transaction, commits once (one `fsync` with
//!   `synchronous = FULL`), and only then answers each caller. A write that fails is rolled
//!   back to its savepoint without disturbing the others; a failed commit fails them all.
//!   Under load this is group commit: one `fsync` serves every write that queued behind the
//!   previous one, and no caller hears "committed" before its data is on disk.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use keyway_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use tokio::sync::oneshot;

/// How long a connection waits for another process's lock (the CLI while the server runs).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;
/// Idle read connections kept; more are opened when needed and closed when returned.
const IDLE_READERS: usize = 8;
/// The most writes committed together.
const MAX_BATCH: usize = 256;

/// An error inside a store operation: SQLite's, or one in the store's own vocabulary. Both
/// convert with `?`; [`DbError::into_store`] maps SQLite's at the boundary.
#[derive(Debug)]
pub(crate) enum DbError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl DbError {
    /// The store's error; SQLite's text goes to logs only.
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Self::Store(e) => e,
            Self::Sqlite(e) => map_sqlite(e),
        }
    }
}

/// The result of an operation on a connection.
pub(crate) type DbResult<T> = Result<T, DbError>;

fn map_sqlite(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match (f.code, f.extended_code) {
            (ErrorCode::ConstraintViolation, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
            | (ErrorCode::ConstraintViolation, rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                return StoreError::Conflict("row");
            }
            (ErrorCode::ConstraintViolation, rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
                return StoreError::Missing("referenced row");
            }
            (
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::NotADatabase
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::ReadOnly,
                _,
            ) => return StoreError::Unavailable(e.to_string()),
            _ => {}
        }
    }
    StoreError::Internal(e.to_string())
}

/// Maps SQLite's uniqueness and reference failures to errors naming `what` they were about.
pub(crate) fn named(what: &'static str) -> impl Fn(rusqlite::Error) -> DbError {
    move |e| {
        DbError::Store(match map_sqlite(e) {
            StoreError::Conflict(_) => StoreError::Conflict(what),
            StoreError::Missing(_) => StoreError::Missing(what),
            other => other,
        })
    }
}

/// What a write closure sees: the writer's connection, inside the write's own savepoint.
pub(crate) struct Write<'c> {
    conn: &'c Connection,
    roll_back: Cell<bool>,
}

impl Write<'_> {
    /// Undoes this write's statements even though it returns `Ok` (a check inside the
    /// transaction found nothing to do after something was written).
    pub(crate) fn roll_back(&self) {
        self.roll_back.set(true);
    }
}

impl std::ops::Deref for Write<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// A queued write. The writer runs it and, once the batch's commit has succeeded or failed,
/// calls the completion it returned; a write that never runs is failed instead.
trait Job: Send {
    /// Runs the write; returns whether its statements are to be kept, and its completion.
    fn run(self: Box<Self>, w: &Write<'_>) -> (bool, Completion);
    /// Reports `e` without running.
    fn fail(self: Box<Self>, e: StoreError);
}

/// Called with `None` once the batch is committed, or with the error that undid it.
type Completion = Box<dyn FnOnce(Option<StoreError>) + Send>;

struct WriteJob<F, T> {
    f: F,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<F, T> Job for WriteJob<F, T>
where
    F: FnOnce(&Write<'_>) -> DbResult<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, w: &Write<'_>) -> (bool, Completion) {
        let Self { f, reply } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| f(w))).unwrap_or_else(|_| {
            Err(DbError::Store(StoreError::Internal(
                "a write panicked".into(),
            )))
        });
        let keep = result.is_ok();
        let completion: Completion = Box::new(move |commit_error| {
            let outcome = match (result, commit_error) {
                (Ok(_), Some(e)) => Err(e),
                (r, _) => r.map_err(DbError::into_store),
            };
            let _ = reply.send(outcome);
        });
        (keep, completion)
    }

    fn fail(self: Box<Self>, e: StoreError) {
        let _ = self.reply.send(Err(e));
    }
}

enum Message {
    Write(Box<dyn Job>),
    Close(oneshot::Sender<()>),
}

/// The connections of one database file.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<Sender<Message>>>,
    /// Set by `close`; checked by reads without taking the writer's lock.
    closed: AtomicBool,
}

impl Database {
    /// Opens `path` (creating the file if needed), configures WAL, and starts the writer.
    pub(crate) fn open(path: &Path) -> StoreResult<Self> {
        let writer = open_writer(path).map_err(map_sqlite)?;
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("keyway-sqlite-writer".into())
            .spawn(move || run_writer(writer, rx))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        let db = Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                readers: Mutex::new(Vec::new()),
                writer: Mutex::new(Some(tx)),
                closed: AtomicBool::new(false),
            }),
        };
        // Open one reader now, so that a file that cannot be read fails at start.
        let conn = db.take_reader()?;
        db.put_reader(conn);
        Ok(db)
    }

    /// Runs `f` on a read-only connection, on the calling thread.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> StoreResult<T> {
        let conn = self.take_reader()?;
        let out = f(&conn);
        self.put_reader(conn);
        out.map_err(DbError::into_store)
    }

    /// Queues `f` for the writer; resolves once its batch is committed (or has failed).
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Write<'_>) -> DbResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, rx) = oneshot::channel::<StoreResult<T>>();
        let job = Box::new(WriteJob { f, reply });
        self.send(Message::Write(job))?;
        rx.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Stops the writer once the writes queued before this call are committed, and closes the
    /// read connections. Later operations fail with `Unavailable`.
    pub(crate) async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.send(Message::Close(tx)).is_ok() {
            let _ = rx.await;
        }
        self.inner
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn send(&self, message: Message) -> StoreResult<()> {
        let guard = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let sender = guard.as_ref().ok_or_else(closed)?;
        sender.send(message).map_err(|_| closed())
    }

    fn take_reader(&self) -> StoreResult<Connection> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        match pooled {
            Some(c) => Ok(c),
            None => open_reader(&self.inner.path).map_err(map_sqlite),
        }
    }

    fn put_reader(&self, conn: Connection) {
        let mut idle = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the SQLite store is closed".into())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "full")?;
    Ok(conn)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

/// The writer thread: one batch at a time until every sender is gone or `Close` arrives.
fn run_writer(mut conn: Connection, rx: Receiver<Message>) {
    let mut batch: Vec<Box<dyn Job>> = Vec::new();
    let mut closing = None;
    while closing.is_none() {
        match rx.recv() {
            Ok(Message::Write(job)) => batch.push(job),
            Ok(Message::Close(ack)) => closing = Some(ack),
            Err(_) => break,
        }
        while batch.len() < MAX_BATCH && closing.is_none() {
            match rx.try_recv() {
                Ok(Message::Write(job)) => batch.push(job),
                Ok(Message::Close(ack)) => closing = Some(ack),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&mut conn, std::mem::take(&mut batch));
        }
    }
    // Checkpoint so that the WAL does not outlive the process; a failure only leaves it for
    // the next open to replay.
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::debug!(error = %e, "WAL checkpoint at close failed");
    }
    drop(conn);
    if let Some(ack) = closing {
        let _ = ack.send(());
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Box<dyn Job>>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e = map_sqlite(e);
            tracing::error!(error = %e, "cannot start a SQLite write transaction");
            batch.into_iter().for_each(|job| job.fail(e.clone()));
            return;
        }
    };
    // A lone write needs no savepoint: the transaction is its own.
    let single = batch.len() == 1;
    let mut completions = Vec::with_capacity(batch.len());
    let mut keep_all = true;
    let mut poisoned = None;
    let mut jobs = batch.into_iter();
    for job in jobs.by_ref() {
        if !single && let Err(e) = tx.execute_batch("SAVEPOINT job") {
            let e = map_sqlite(e);
            job.fail(e.clone());
            poisoned = Some(e);
            break;
        }
        let w = Write {
            conn: &tx,
            roll_back: Cell::new(false),
        };
        let (ok, completion) = job.run(&w);
        let keep = ok && !w.roll_back.get();
        completions.push(completion);
        let end = match (single, keep) {
            (true, _) => {
                keep_all = keep;
                Ok(())
            }
            (false, true) => tx.execute_batch("RELEASE job"),
            (false, false) => tx.execute_batch("ROLLBACK TO job; RELEASE job"),
        };
        // Without its savepoint's end, a write's effects are uncertain: undo the batch.
        if let Err(e) = end {
            poisoned = Some(map_sqlite(e));
            break;
        }
    }
    let outcome = match poisoned {
        Some(e) => {
            jobs.for_each(|job| job.fail(e.clone()));
            let _ = tx.rollback();
            Err(e)
        }
        None if !keep_all => tx.rollback().map_err(map_sqlite),
        None => tx.commit().map_err(map_sqlite),
    };
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "SQLite write batch failed");
    }
    let error = outcome.err();
    for completion in completions {
        completion(error.clone());
    }
}
