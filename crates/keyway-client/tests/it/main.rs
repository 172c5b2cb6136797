//! Integration tests of keyway-client against a real Keyway server (keyway-testkit).

mod authorized;
mod credentials;
mod flow;
mod local_server;
mod store;
mod support;
