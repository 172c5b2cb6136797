//! `keyway-ceiling`: the limit of Keyway's HTTP stack on this machine, for `bench/run`.
//!
//! The same stack as `keyway serve` (tokio's multi-thread runtime, axum 0.8, served through
//! `axum_server` with connect info), with nothing behind it: no storage, no logging layer,
//! no middleware. Two routes:
//!
//! - `GET /hello`: a 13-byte text body; the ceiling for tokeninfo-style reads.
//! - `POST /token`: parses a form body the way a token endpoint must (every pair decoded and
//!   owned, a repeated parameter refused, `grant_type` required), then answers token-shaped
//!   JSON (`access_token`, `expires_in`, `token_type`, `scope`) with `Cache-Control:
//!   no-store`; the ceiling for grants. The token is a fixed-length value from a counter, not
//!   a CSPRNG: the ceiling measures the HTTP stack, not randomness.
//!
//! Usage: `keyway-ceiling [ADDR]` (default `127.0.0.1:8090`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

static COUNTER: AtomicU64 = AtomicU64::new(0);

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    expires_in: u64,
    token_type: &'static str,
    scope: &'a str,
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
}

async fn hello() -> &'static str {
    "Hello, world!"
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn error(code: &'static str) -> Response {
    let body = serde_json::to_vec(&ErrorBody { error: code }).unwrap_or_default();
    json(StatusCode::BAD_REQUEST, body)
}

async fn token(body: Bytes) -> Response {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let one = |name: &str| {
        let mut it = params.iter().filter(|(k, _)| k == name);
        match (it.next(), it.next()) {
            (Some((_, v)), None) => Ok(Some(v.as_str())),
            (None, _) => Ok(None),
            _ => Err(()),
        }
    };
    let (Ok(grant_type), Ok(scope)) = (one("grant_type"), one("scope")) else {
        return error("invalid_request");
    };
    if grant_type.is_none() {
        return error("invalid_request");
    }
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // `kwat_` + 43 characters, the shape of a Keyway access token.
    let access_token = format!("kwat_{n:0>43}");
    let body = serde_json::to_vec(&TokenResponse {
        access_token,
        expires_in: 3599,
        token_type: "Bearer",
        scope: scope.unwrap_or("https://www.googleapis.com/auth/drive.metadata.readonly"),
    })
    .unwrap_or_default();
    json(StatusCode::OK, body)
}

fn main() -> std::process::ExitCode {
    let addr: SocketAddr = match std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:8090")
        .parse()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: bad address: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/token", post(token));
    let result = runtime.block_on(async move {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        println!("keyway-ceiling listening on {}", listener.local_addr()?);
        axum_server::from_tcp(listener)?
            .serve(app.into_make_service_with_connect_info::<SocketAddr>())
            .await
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
