//! What the front end needs when a signal stops a command: the scratch databases this
//! process still holds, dropped; an in-flight deploy's server process, ended (its
//! transaction rolls back at once); and what state that left the target in.

pub use lockstep_db::apply::{InFlight, Interrupted};

/// Ends an in-flight deploy on the server and says what was committed and what is in
/// doubt.
pub async fn stop_deploy() -> Interrupted {
    lockstep_db::apply::interrupt().await
}

/// Drops every scratch database this process created and still holds; returns their
/// names.
pub async fn drop_scratch() -> Vec<String> {
    lockstep_db::scratch::drop_all().await
}

/// Where notes about scratch databases go (orphans of killed runs dropped, and so on):
/// they are process-wide, so the front end sets this once.
pub fn on_scratch_note(f: impl Fn(&str) + Send + Sync + 'static) {
    lockstep_db::scratch::on_note(f)
}
