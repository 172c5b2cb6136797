//! JSON and operational endpoints.

pub mod health;
mod oauth;
pub mod revoke;
pub mod token;
pub mod tokeninfo;
