//! `lockstep status`.

use lockstep_engine::status::StatusReport;

pub fn text(r: &StatusReport) -> String {
    let mut text = String::new();
    for e in &r.environments {
        let Some(st) = &e.state else {
            text.push_str(&format!(
                "{}: could not be read: {}\n",
                e.env,
                super::indent_rest(e.error.as_deref().unwrap_or(""), "  ")
            ));
            continue;
        };
        text.push_str(&format!(
            "{} ({}): version {}, {} applied, {} pending{}\n",
            e.env,
            st.url,
            st.current.as_deref().unwrap_or("none"),
            st.applied.len(),
            st.pending.len(),
            match &st.adopting_from {
                Some(tool) => format!(" (from {tool}'s history; adopted on the next deploy)"),
                None => String::new(),
            }
        ));
        for (v, name) in &st.pending_names {
            text.push_str(&format!("  pending  {v} {name}\n"));
        }
        for n in &st.notes {
            text.push_str(&format!("  note     {n}\n"));
        }
        for p in &st.problems {
            text.push_str(&format!(
                "  problem  {}\n",
                super::indent_rest(p, "           ")
            ));
        }
    }
    text
}
