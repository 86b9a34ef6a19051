//! PostgreSQL: the dialect folder behind [`crate::driver::Driver`]; every dialect has the
//! same files (connect, inspect, history, lock, stats, scratch, audit).

pub mod audit;
pub mod connect;
pub mod history;
pub mod inspect;
pub mod lock;
pub mod scratch;
pub mod stats;

use crate::driver::{Driver, HistorySql};
use crate::stats::Stats;
use crate::wait::{Limits, Wait};
use crate::{DbError, DbUrl};
use lockstep_core::lint::Probe;
use lockstep_core::model::{Database, Dialect};
use sqlx::Connection;
use std::collections::BTreeSet;

pub struct Postgres;

impl Driver for Postgres {
    type Conn = sqlx::PgConnection;
    const DIALECT: Dialect = Dialect::Postgres;
    const HISTORY: HistorySql = history::SQL;
    const TEXT_TYPE: &'static str = history::TEXT;
    const BATCHED_REPLAY: bool = true;
    const SCRATCH_IN_MEMORY: bool = false;

    async fn connect(url: &DbUrl, _create: bool) -> Result<Self::Conn, DbError> {
        connect::connect(url).await
    }

    async fn pid(c: &mut Self::Conn) -> Option<i32> {
        connect::pid(c).await
    }

    async fn raw(c: &mut Self::Conn, sql: &str) -> Result<(), sqlx::Error> {
        connect::raw(c, sql).await
    }

    async fn close(c: Self::Conn) {
        let _ = c.close().await;
    }

    async fn inspect(
        c: &mut Self::Conn,
        url: &DbUrl,
        pid: Option<i32>,
        limits: &Limits,
    ) -> Result<Database, DbError> {
        crate::wait::own(url, pid, limits, inspect::inspect(c, url, limits)).await
    }

    fn begin_own_read(limits: &Limits) -> Option<String> {
        Some(format!("BEGIN READ ONLY; {}", limits.set_local()))
    }

    fn table_exists(table: &str) -> String {
        history::table_exists(table)
    }

    fn column_exists(table: &str, column: &str) -> String {
        history::column_exists(table, column)
    }

    async fn lock(
        c: &mut Self::Conn,
        url: &DbUrl,
        on_wait: &mut dyn FnMut(Option<i32>),
    ) -> Result<(), DbError> {
        lock::lock(c, url, on_wait).await
    }

    async fn unlock(c: &mut Self::Conn) {
        lock::unlock(c).await
    }

    async fn decide(
        c: &mut Self::Conn,
        url: &DbUrl,
        statement: &str,
    ) -> Result<Option<bool>, DbError> {
        lock::decide(c, url, statement).await
    }

    async fn blockers(c: &mut Self::Conn, pid: i32) -> Option<Wait> {
        lock::blockers(c, pid).await
    }

    fn session_lock_timeout(d: std::time::Duration) -> Option<String> {
        lock::session_lock_timeout(d)
    }

    async fn terminate(c: &mut Self::Conn, pid: i32) {
        lock::terminate(c, pid).await
    }

    async fn table_sizes(
        c: &mut Self::Conn,
        url: &DbUrl,
        pid: Option<i32>,
        limits: &Limits,
        _named: &BTreeSet<String>,
    ) -> Result<Stats, DbError> {
        stats::sizes(c, url, pid, limits).await
    }

    async fn count_failing(
        c: &mut Self::Conn,
        url: &DbUrl,
        pid: Option<i32>,
        limits: &Limits,
        stats: &Stats,
        probe: &Probe,
    ) -> Result<i64, DbError> {
        stats::count(c, url, pid, limits, stats, probe).await
    }

    async fn create_scratch(
        c: &mut Self::Conn,
        name: &str,
        owner: &str,
    ) -> Result<(), sqlx::Error> {
        scratch::create(c, name, owner).await
    }

    async fn drop_scratch(c: &mut Self::Conn, name: &str) -> Result<(), sqlx::Error> {
        scratch::drop(c, name).await
    }

    async fn list_scratch(c: &mut Self::Conn) -> Vec<String> {
        scratch::list(c).await
    }

    async fn wait_for_create(c: &mut Self::Conn, name: &str) {
        scratch::wait_for_create(c, name).await
    }

    async fn role(c: &mut Self::Conn) -> Option<String> {
        scratch::role(c).await
    }
}
