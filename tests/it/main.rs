//! All integration tests link into this one binary (link time is what grows on 2 cores).

mod harness;
mod support;

mod adopt;
mod baseline;
mod cli;
mod cli_ux;
mod corpus_pg;
mod demo;
mod deploy;
mod drift;
mod edits;
mod engine;
mod examples;
mod fleet;
mod impact;
mod impact_synapse;
mod inspect_pg;
mod interrupt;
mod lint;
mod lint_env;
mod lint_squawk;
mod locks;
mod mysql_deploy;
mod mysql_diff;
mod mysql_inspect;
mod mysql_support;
mod parity;
mod resources;
mod roles;
mod safety;
mod secrets;
mod sql_text;
mod sqlite;
mod watch;
mod web;
