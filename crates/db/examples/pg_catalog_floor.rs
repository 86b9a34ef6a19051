//! Prints the PostgreSQL inspector's catalog queries as one psql script, in one
//! transaction begun as inspection begins it (`REPEATABLE READ READ ONLY`, JIT off). `bench/scale_10k.sh`
//! runs it through `psql > /dev/null` as the floor of `lockstep inspect`: the server's
//! work and the rows' transfer, with no model built and nothing rendered.

use std::io::Write;

fn main() {
    let mut out = std::io::stdout().lock();
    let mut script = format!("{};\n", lockstep_db::postgres::inspect::BEGIN);
    for sql in lockstep_db::postgres::inspect::catalog_queries() {
        script.push_str(sql.trim());
        script.push_str(";\n");
    }
    script.push_str("COMMIT;\n");
    // A closed pipe is not an error for a script generator.
    let _ = out.write_all(script.as_bytes());
}
