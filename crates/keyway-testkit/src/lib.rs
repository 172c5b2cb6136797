//! Test support for Keyway: fresh databases on both backends, the Store conformance suite,
//! and `TestApp`, a real server on a loopback port.

pub mod conformance;
pub mod db;

pub use db::TestStore;
