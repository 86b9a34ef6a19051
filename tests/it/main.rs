//! All integration tests link into this one binary (link time is what grows on 2 cores).

mod support;

mod adopt;
mod cli;
mod corpus_pg;
mod demo;
mod deploy;
mod drift;
mod examples;
mod impact;
mod impact_synapse;
mod inspect_pg;
mod lint;
mod lint_env;
mod lint_squawk;
mod mysql_diff;
mod mysql_inspect;
mod mysql_support;
mod parity;
mod sqlite;
