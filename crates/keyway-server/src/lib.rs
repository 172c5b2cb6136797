//! The Keyway server: the `keyway` binary's library. `cli` parses, `commands` runs, `app`
//! serves, `config` layers the settings, `database` opens the store, `tls` makes certificates.

pub mod api;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod database;
pub mod demo;
pub mod files;
pub mod pages;
pub mod tls;

pub use app::{AppState, Application};
pub use config::Config;
