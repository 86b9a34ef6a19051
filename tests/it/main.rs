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
mod inspect_pg;
mod lint;
mod parity;
mod sqlite;
