//! Integration tests of keyway-client against a real Keyway server (keyway-testkit).

mod authorized;
mod credentials;
mod flow;
mod id_token;
mod local_server;
mod store;
mod support;
mod test_keys;
