//! Keyway server tests: the real `keyway` binary and a real server on loopback ports, on
//! SQLite and (with `KEYWAY_TEST_DATABASE_URL`) PostgreSQL.

mod apis;
mod authorize;
mod browser;
mod cli;
mod config;
mod crash;
mod health;
mod serve;
mod support;
mod token;
