//! PostgreSQL inspection. (Being written.)
use crate::{DbError, DbUrl};
use lockstep_core::model::Database;

pub async fn inspect(_conn: &mut sqlx::PgConnection, _url: &DbUrl) -> Result<Database, DbError> {
    todo!()
}
