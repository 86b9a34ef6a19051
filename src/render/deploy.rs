//! `lockstep deploy` and `lockstep rollback`.

use crate::ui::{paint, DESTRUCTIVE, FAIL};
use lockstep_engine::deploy::{DeployReport, Destruction, Outcome};

fn destruction_lines(d: &[Destruction]) -> String {
    let mut s = String::new();
    for x in d {
        s.push_str(&format!(
            "  {} {}:{}: {}{}\n",
            paint(DESTRUCTIVE, "destroys data:"),
            x.file,
            x.line,
            x.message,
            match x.rows {
                Some(n) => format!(" (about {n} row(s))"),
                None => String::new(),
            }
        ));
    }
    s
}

/// What goes to stdout (the result), and what goes to stderr (a refusal or failure).
pub fn text(r: &DeployReport) -> (String, String) {
    let rollback = r.direction == lockstep_engine::deploy::Direction::Down;
    let verb = if r.baseline {
        "baseline of"
    } else if rollback {
        "rollback of"
    } else {
        "deploy to"
    };
    match &r.outcome {
        Outcome::Refused { problems } => {
            let mut e = format!("lockstep: {verb} {} {}\n", r.env, paint(FAIL, "refused:"));
            for p in problems {
                e.push_str(&format!("  {}\n", super::indent_rest(p, "  ")));
            }
            e.push_str(&destruction_lines(&r.destructive));
            (String::new(), e)
        }
        Outcome::Failed { error } => (
            String::new(),
            format!(
                "lockstep: {verb} {} {} {error}\n",
                r.env,
                paint(FAIL, "failed:")
            ),
        ),
        Outcome::UpToDate { current } => (
            if r.baseline {
                format!(
                    "{}: already baselined; lockstep's history has it at version {current}",
                    r.env
                )
            } else if rollback {
                format!("{}: nothing to roll back; at version {current}", r.env)
            } else {
                format!(
                    "{}: nothing to deploy; up to date at version {current}",
                    r.label
                )
            },
            String::new(),
        ),
        Outcome::DryRun { steps } => {
            let mut s = format!(
                "{}: would {} {} (dry run: nothing was changed)\n",
                r.label,
                if rollback { "roll back" } else { "apply" },
                super::count(steps.len(), "migration", "migrations")
            );
            for st in steps {
                s.push_str(&format!(
                    "  {} {}  {}{}  {}\n",
                    st.version,
                    st.name,
                    super::count(st.statements, "statement", "statements"),
                    if st.no_transaction {
                        ", no transaction"
                    } else {
                        ""
                    },
                    st.path
                ));
            }
            s.push_str(&destruction_lines(&r.destructive));
            (s, String::new())
        }
        Outcome::Applied {
            versions,
            current,
            seconds,
        } => (
            if r.baseline {
                format!(
                    "{}: recorded {} as applied without running them (baseline); now at version {current}",
                    r.label,
                    super::count(versions.len(), "migration", "migrations")
                )
            } else if rollback {
                format!(
                    "{}: rolled back {} in {seconds:.2}s; now at version {current}",
                    r.env,
                    super::count(versions.len(), "migration", "migrations")
                )
            } else {
                format!(
                    "{}: applied {} in {seconds:.2}s; now at version {current}",
                    r.label,
                    super::count(versions.len(), "migration", "migrations")
                )
            },
            String::new(),
        ),
    }
}

/// The question asked on a terminal before steps that destroy data run.
pub fn confirm_prompt(d: &[Destruction]) -> String {
    let mut s = String::from("These statements destroy data:\n");
    s.push_str(&destruction_lines(d));
    s.push_str("Type yes to go ahead: ");
    s
}
