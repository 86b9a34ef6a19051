//! The DDL audit on PostgreSQL: event triggers that record every DDL statement in
//! `lockstep.audit` (`lockstep audit install`). See docs/audit.md.
