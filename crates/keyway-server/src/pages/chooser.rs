//! `/accountchooser`: pick one of this browser's signed-in accounts, or sign in another.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::flow::{self, FlowQuery, Stop, project_of, respond, see_other};
use super::session::{self, csrf_ok, csrf_token, handle_hash};
use super::views::{self, AccountLine, ChooserView};
use crate::app::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/accountchooser", get(get_chooser).post(post_chooser))
}

#[derive(Deserialize)]
struct ChooserForm {
    req: String,
    csrf: String,
    authuser: String,
}

async fn get_chooser(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FlowQuery>,
) -> Response {
    let result = async {
        let session = session::load(&state, &headers)
            .await?
            .ok_or(Stop::FlowGone)?;
        let handle = q.req.ok_or(Stop::FlowGone)?;
        let f = flow::load(&state, &session, &handle).await?;
        let project = project_of(&state, &f.req).await?;
        let accounts = session
            .accounts
            .iter()
            .map(|a| AccountLine {
                name: a.user.name.clone(),
                email: a.user.email.to_string(),
                authuser: a.authuser,
            })
            .collect();
        Ok::<_, Stop>(
            Html(views::account_chooser(&ChooserView {
                app_name: project.consent.app_name,
                accounts,
                csrf: csrf_token(&session.cookie, &handle),
                req: handle,
            }))
            .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}

async fn post_chooser(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChooserForm>,
) -> Response {
    let result = async {
        let session = session::load(&state, &headers).await?.ok_or(Stop::Csrf)?;
        if !csrf_ok(&session.cookie, &form.req, &form.csrf) {
            return Err(Stop::Csrf);
        }
        let mut f = flow::load(&state, &session, &form.req).await?;
        if form.authuser == "new" {
            return Ok(see_other(&format!("/signin?req={}", f.handle)));
        }
        let account = form
            .authuser
            .parse::<u32>()
            .ok()
            .and_then(|n| session.accounts.iter().find(|a| a.authuser == n))
            .ok_or(Stop::FlowGone)?;
        state
            .store
            .update_pending_account(&handle_hash(&f.handle), &account.user.sub)
            .await?;
        f.pending.sub = Some(account.user.sub.clone());
        flow::advance(&state, &session, &f).await
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}
