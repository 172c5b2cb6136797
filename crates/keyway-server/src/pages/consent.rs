//! `/consent` (what the app asks for, a checkbox per scope when granular consent applies) and
//! `/consent/unverified` (the warning an unverified app shows first).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use keyway_core::OAuthError;
use keyway_core::authorize::{self, allowed_scopes, is_fixed_scope, is_granular};

use super::flow::{
    self, CodeFor, Flow, FlowQuery, Stop, chosen_account, project_of, respond, see_other,
};
use super::session::{self, Session, csrf_ok, csrf_token, handle_hash};
use super::views::{self, AccountLine, ConsentView, ScopeLine, UnverifiedView};
use crate::app::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/consent", get(get_consent).post(post_consent))
        .route(
            "/consent/unverified",
            get(get_unverified).post(post_unverified),
        )
}

/// The decoded fields of a consent form (`scope` repeats, so serde's form decoding is not used).
struct ConsentForm {
    req: String,
    csrf: String,
    action: String,
    scopes: Vec<String>,
}

impl ConsentForm {
    fn parse(body: &[u8]) -> Self {
        let mut f = ConsentForm {
            req: String::new(),
            csrf: String::new(),
            action: String::new(),
            scopes: vec![],
        };
        for (k, v) in url::form_urlencoded::parse(body) {
            match &*k {
                "req" => f.req = v.into_owned(),
                "csrf" => f.csrf = v.into_owned(),
                "action" => f.action = v.into_owned(),
                "scope" if f.scopes.len() < 128 => f.scopes.push(v.into_owned()),
                _ => {}
            }
        }
        f
    }
}

/// Loads session, flow and its chosen account for a page of this module.
async fn context(
    state: &AppState,
    headers: &HeaderMap,
    handle: &str,
) -> Result<(Session, Flow), Stop> {
    let session = session::load(state, headers).await?.ok_or(Stop::FlowGone)?;
    let f = flow::load(state, &session, handle).await?;
    if chosen_account(&session, &f).is_none() {
        return Err(Stop::FlowGone);
    }
    Ok((session, f))
}

async fn get_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FlowQuery>,
) -> Response {
    let result = async {
        let handle = q.req.ok_or(Stop::FlowGone)?;
        let (session, f) = context(&state, &headers, &handle).await?;
        let account = chosen_account(&session, &f).ok_or(Stop::FlowGone)?;
        let project = project_of(&state, &f.req).await?;
        let granted = state
            .store
            .find_grant(&account.user.sub, &project.id)
            .await?
            .map(|g| g.scopes)
            .unwrap_or_default();
        let catalogue = state.store.find_scopes(&f.req.scopes).await?;
        let granular = is_granular(&f.req);
        let scopes = catalogue
            .iter()
            .map(|s| ScopeLine {
                scope: s.scope.to_string(),
                description: s.description.clone(),
                optional: granular && !is_fixed_scope(s.scope.as_str()),
                already_granted: granted.contains(s.scope.as_str()) && !f.req.prompt.consent,
            })
            .collect();
        Ok::<_, Stop>(
            Html(views::consent(&ConsentView {
                app_name: project.consent.app_name.clone(),
                support_email: project.consent.support_email.to_string(),
                logo_url: project.consent.logo_url.clone(),
                account: AccountLine {
                    name: account.user.name.clone(),
                    email: account.user.email.to_string(),
                    authuser: account.authuser,
                },
                scopes,
                granular,
                csrf: csrf_token(&session.cookie, &handle),
                req: handle,
            }))
            .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}

async fn post_consent(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = ConsentForm::parse(&body);
    let result = async {
        let session = session::load(&state, &headers).await?.ok_or(Stop::Csrf)?;
        if !csrf_ok(&session.cookie, &form.req, &form.csrf) {
            return Err(Stop::Csrf);
        }
        let (session, f) = context(&state, &headers, &form.req)
            .await
            .map(|(_, f)| (session, f))?;
        let account = chosen_account(&session, &f).ok_or(Stop::FlowGone)?.clone();
        if form.action != "allow" {
            return cancel(&state, &f).await;
        }
        let project = project_of(&state, &f.req).await?;
        let allowed = allowed_scopes(&f.req, &form.scopes);
        let grant = state
            .store
            .find_grant(&account.user.sub, &project.id)
            .await?;
        let code = CodeFor {
            req: &f.req,
            pending: Some(&f.handle),
            project: &project,
            account: &account,
            allowed: &allowed,
            consent_shown: true,
        };
        flow::issue_code(&state, code, grant).await
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}

/// The user said no: end the flow and tell the app `access_denied`.
async fn cancel(state: &AppState, f: &Flow) -> Result<Response, Stop> {
    if !state.store.delete_pending(&handle_hash(&f.handle)).await? {
        return Err(Stop::FlowGone);
    }
    Err(Stop::Reject(authorize::redirect(
        &f.req,
        OAuthError::AccessDenied,
        "The user denied access.",
    )))
}

async fn get_unverified(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FlowQuery>,
) -> Response {
    let result = async {
        let handle = q.req.ok_or(Stop::FlowGone)?;
        let (session, f) = context(&state, &headers, &handle).await?;
        let account = chosen_account(&session, &f).ok_or(Stop::FlowGone)?;
        let project = project_of(&state, &f.req).await?;
        Ok::<_, Stop>(
            Html(views::unverified(&UnverifiedView {
                app_name: project.consent.app_name,
                support_email: project.consent.support_email.to_string(),
                account_email: account.user.email.to_string(),
                csrf: csrf_token(&session.cookie, &handle),
                req: handle,
            }))
            .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}

async fn post_unverified(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = ConsentForm::parse(&body);
    let result = async {
        let session = session::load(&state, &headers).await?.ok_or(Stop::Csrf)?;
        if !csrf_ok(&session.cookie, &form.req, &form.csrf) {
            return Err(Stop::Csrf);
        }
        let (_, f) = context(&state, &headers, &form.req).await?;
        if form.action == "continue" {
            Ok(see_other(&format!("/consent?req={}", f.handle)))
        } else {
            cancel(&state, &f).await
        }
    }
    .await;
    result.unwrap_or_else(|stop| respond(&state, stop))
}
