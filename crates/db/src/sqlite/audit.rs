//! SQLite has no hook that sees DDL from other connections, so there is no DDL audit:
//! `lockstep watch` dates out-of-band changes instead ("first seen between").
