//! Demo APIs shaped like the ones in Google's guides, protected by `keyway-resource`:
//! Drive's file list (`/drive/v3/files`, `/drive/v2/files`) and YouTube's channel list
//! (`/youtube/v3/channels?part=snippet&mine=true`). Each user's data is generated
//! deterministically from their `sub`, so it is stable across restarts and replicas without
//! being stored anywhere.

mod data;
mod drive;
mod youtube;

use std::sync::Arc;

use axum::Router;
use keyway_resource::{BearerLayer, Validator};

/// Scopes that may read Drive file metadata.
pub const DRIVE_SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/drive.metadata.readonly",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/drive",
];

/// Scopes that may read the user's YouTube channel.
pub const YOUTUBE_SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
];

/// Every demo route, each requiring its scopes, behind one bearer-token check.
pub fn router<S: Clone + Send + Sync + 'static>(validator: Arc<dyn Validator>) -> Router<S> {
    Router::new()
        .merge(drive::router())
        .merge(youtube::router())
        .layer(BearerLayer::new(validator))
}
