//! `GET /drive/v3/files` and `GET /drive/v2/files`: the user's file list, paged.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keyway_resource::{Principal, ScopeLayer};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::DRIVE_SCOPES;
use crate::data::{Seeded, page};

const FILES_PER_USER: usize = 37;

#[derive(Debug, Clone)]
struct File {
    id: String,
    name: String,
    mime_type: &'static str,
}

fn files_of(sub: &str) -> Vec<File> {
    const WORDS: [&str; 12] = [
        "Budget", "Holiday", "Notes", "Roadmap", "Invoice", "Recipes", "Draft", "Slides", "Photos",
        "Plan", "Report", "Ideas",
    ];
    const KINDS: [(&str, &str); 5] = [
        ("application/vnd.google-apps.document", ""),
        ("application/vnd.google-apps.spreadsheet", ""),
        ("application/vnd.google-apps.folder", ""),
        ("application/pdf", ".pdf"),
        ("image/jpeg", ".jpg"),
    ];
    let mut rng = Seeded::new(sub, "drive");
    (0..FILES_PER_USER)
        .map(|i| {
            let (mime_type, ext) = KINDS[rng.below(KINDS.len())];
            File {
                id: rng.id(33),
                name: format!(
                    "{} {} {}{ext}",
                    rng.pick(&WORDS),
                    rng.pick(&WORDS),
                    2020 + i % 7
                ),
                mime_type,
            }
        })
        .collect()
}

/// The routes of this module.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/drive/v3/files", get(list_v3))
        .route("/drive/v2/files", get(list_v2))
        .layer(ScopeLayer::any_of(DRIVE_SCOPES))
}

#[derive(Deserialize)]
struct V3Query {
    #[serde(rename = "pageSize")]
    page_size: Option<usize>,
    #[serde(rename = "pageToken")]
    page_token: Option<String>,
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})),
    )
        .into_response()
}

async fn list_v3(
    principal: Principal,
    query: Result<Query<V3Query>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return bad_request("Invalid query parameters.");
    };
    let size = q.page_size.unwrap_or(100).clamp(1, 1000);
    let Ok((files, next)) = page(&files_of(&principal.sub), q.page_token.as_deref(), size) else {
        return bad_request("Invalid pageToken.");
    };
    let files: Vec<Value> = files
        .iter()
        .map(|f| json!({"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime_type}))
        .collect();
    let mut body = json!({"kind": "drive#fileList", "incompleteSearch": false, "files": files});
    if let Some(t) = next {
        body["nextPageToken"] = t.into();
    }
    Json(body).into_response()
}

#[derive(Deserialize)]
struct V2Query {
    #[serde(rename = "maxResults")]
    max_results: Option<usize>,
    #[serde(rename = "pageToken")]
    page_token: Option<String>,
}

async fn list_v2(
    principal: Principal,
    query: Result<Query<V2Query>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return bad_request("Invalid query parameters.");
    };
    let size = q.max_results.unwrap_or(100).clamp(1, 1000);
    let Ok((files, next)) = page(&files_of(&principal.sub), q.page_token.as_deref(), size) else {
        return bad_request("Invalid pageToken.");
    };
    let items: Vec<Value> = files
        .iter()
        .map(
            |f| json!({"kind": "drive#file", "id": f.id, "title": f.name, "mimeType": f.mime_type}),
        )
        .collect();
    let mut body = json!({"kind": "drive#fileList", "items": items});
    if let Some(t) = next {
        body["nextPageToken"] = t.into();
    }
    Json(body).into_response()
}
