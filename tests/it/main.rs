//! All integration tests link into this one binary (link time is what grows on 2 cores).

mod support;

mod adopt;
mod cli;
mod corpus_pg;
mod demo;
mod deploy;
mod drift;
mod engine;
mod examples;
mod impact;
mod impact_synapse;
mod inspect_pg;
mod lint;
mod lint_env;
mod lint_squawk;
mod parity;
mod sqlite;
mod watch;
mod web;
