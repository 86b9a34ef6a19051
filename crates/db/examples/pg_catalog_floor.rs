//! Prints the PostgreSQL inspector's catalog queries as one psql script, in one
//! `REPEATABLE READ READ ONLY` transaction as inspection runs them. `bench/scale_10k.sh`
//! runs it through `psql > /dev/null` as the floor of `lockstep inspect`: the server's
//! work and the rows' transfer, with no model built and nothing rendered.

use std::io::Write;

fn main() {
    let mut out = std::io::stdout().lock();
    let mut script = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n");
    for sql in lockstep_db::postgres::inspect::catalog_queries() {
        script.push_str(sql.trim());
        script.push_str(";\n");
    }
    script.push_str("COMMIT;\n");
    // A closed pipe is not an error for a script generator.
    let _ = out.write_all(script.as_bytes());
}
