//! JSON and operational endpoints.

pub mod health;
