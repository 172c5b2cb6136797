//! Test support for Keyway: fresh databases on both backends, the Store conformance suite,
//! and [`TestApp`], a real server on a loopback port.

pub mod app;
pub mod browser;
pub mod conformance;
pub mod db;
pub mod fixtures;
pub mod flow;

pub use app::{TestApp, install_crypto_provider};
pub use db::TestStore;
pub use fixtures::Fixture;
