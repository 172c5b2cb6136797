//! The spine of the flow: loading a pending request, deciding the next page, issuing the
//! code, and turning every refusal into the right page or redirect.

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use keyway_core::authorize::{
    self, Account, AccountChoice, AuthorizationRequest, ConsentDecision, Rejection, check_audience,
    check_policy, choose_account, code_scopes, decide_consent,
};
use keyway_core::grant::{AccessType, Grant, NewCode, last_use_is_stale};
use keyway_core::pending::PendingAuthorization;
use keyway_core::project::{Audience, Project};
use keyway_core::{OAuthError, ScopeSet, SecretKind, StoreError, Subject};
use std::time::Duration;

use super::session::{Session, handle_hash};
use super::views::{self, ErrorView};
use crate::app::AppState;

/// Why a page handler stopped.
#[derive(Debug)]
pub enum Stop {
    /// A protocol answer: a page or a redirect.
    Reject(Rejection),
    /// The flow's handle is unknown, expired, used, or belongs to another browser.
    FlowGone,
    /// A form without a valid CSRF token.
    Csrf,
    /// The database failed (logged; the user sees a generic page).
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

impl From<Rejection> for Stop {
    fn from(r: Rejection) -> Self {
        Stop::Reject(r)
    }
}

/// A 303 to `location` (RFC 9700 §4.12: never 307 after a form post).
pub fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = location.parse() {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// An "Error NNN: code" page.
pub fn error_page(
    status: u16,
    error: OAuthError,
    message: &str,
    details: Vec<(String, String)>,
    app_name: Option<String>,
) -> Response {
    let html = views::error(&ErrorView {
        status,
        code: error.code().to_owned(),
        message: message.to_owned(),
        details,
        app_name,
    });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, Html(html)).into_response()
}

/// Renders a stop as the user should see it.
pub fn respond(state: &AppState, stop: Stop) -> Response {
    match stop {
        Stop::Reject(Rejection::Page {
            status,
            error,
            description,
            detail,
        }) => {
            let details = detail
                .map(|(k, v)| vec![(k.to_owned(), v)])
                .unwrap_or_default();
            error_page(status, error, &description, details, None)
        }
        Stop::Reject(Rejection::Redirect {
            redirect_uri,
            state: s,
            error,
            description,
        }) => {
            let url = authorize::error_redirect_url(
                &redirect_uri,
                error,
                &description,
                s.as_deref(),
                &state.issuer(),
            );
            see_other(url.as_str())
        }
        Stop::FlowGone => error_page(
            400,
            OAuthError::InvalidRequest,
            "This sign-in request has expired or was already completed. Go back to the app and start again.",
            vec![],
            None,
        ),
        Stop::Csrf => error_page(
            403,
            OAuthError::InvalidRequest,
            "The form could not be verified. Go back to the app and start again.",
            vec![],
            None,
        ),
        Stop::Store(e) => {
            tracing::error!(error = %e, "store failure in the authorization flow");
            let (status, error) = match e {
                StoreError::Unavailable(_) => (503, OAuthError::TemporarilyUnavailable),
                _ => (500, OAuthError::ServerError),
            };
            error_page(
                status,
                error,
                "Something went wrong on our side. Try again in a moment.",
                vec![],
                None,
            )
        }
    }
}

/// The `?req=` of a page of the flow: the handle of the pending request.
#[derive(Debug, serde::Deserialize)]
pub struct FlowQuery {
    /// The handle.
    pub req: Option<String>,
}

/// A pending request of this browser, with its decoded request.
#[derive(Debug)]
pub struct Flow {
    /// The handle the pages carry.
    pub handle: String,
    /// The stored row.
    pub pending: PendingAuthorization,
    /// The validated request.
    pub req: AuthorizationRequest,
}

/// Loads the flow `handle` for this session; anything else is `FlowGone`.
pub async fn load(state: &AppState, session: &Session, handle: &str) -> Result<Flow, Stop> {
    if !SecretKind::FlowHandle.is_kind_of(handle) || handle.len() > 64 {
        return Err(Stop::FlowGone);
    }
    let pending = state
        .store
        .find_pending(&handle_hash(handle), state.clock.now())
        .await?
        .filter(|p| p.session_id == session.stored.id)
        .ok_or(Stop::FlowGone)?;
    let req: AuthorizationRequest =
        serde_json::from_str(&pending.request_json).map_err(|_| Stop::FlowGone)?;
    Ok(Flow {
        handle: handle.to_owned(),
        pending,
        req,
    })
}

/// The flow's account, if one was chosen and is still signed in here.
pub fn chosen_account<'a>(session: &'a Session, flow: &Flow) -> Option<&'a Account> {
    let sub = flow.pending.sub.as_ref()?;
    session.accounts.iter().find(|a| &a.user.sub == sub)
}

/// The project behind the flow's client, with the client checked still enabled.
pub async fn project_of(state: &AppState, req: &AuthorizationRequest) -> Result<Project, Stop> {
    let client = state
        .store
        .find_client(&req.client_id)
        .await?
        .filter(|c| c.enabled)
        .ok_or(Stop::Reject(Rejection::invalid_client()))?;
    state
        .store
        .find_project(&client.project_id)
        .await?
        .ok_or(Stop::Reject(Rejection::invalid_client()))
}

/// What a flow does next, decided from its request, the browser's accounts and the grant.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per request, moved once; boxing would only add an allocation"
)]
pub enum Next<'s> {
    /// A page must ask the user something first.
    Page(Page<'s>),
    /// Nothing left to ask: a code for `account`, redirected to the client.
    Code {
        /// The account the code is for.
        account: &'s Account,
        /// The client's project.
        project: Project,
        /// The user's grant to that project, as read while deciding.
        grant: Option<Grant>,
    },
}

/// A page of the flow.
#[derive(Debug)]
pub enum Page<'s> {
    /// No usable account: the sign-in page.
    SignIn,
    /// Several accounts and no choice yet: the account chooser.
    Choose,
    /// The consent page (after the unverified-app warning, if it applies) for `account`.
    Consent {
        /// The account the flow continues with.
        account: &'s Account,
        /// Whether the unverified-app warning comes before the consent page.
        warn_unverified: bool,
    },
}

impl Page<'_> {
    /// The account the page is for, once one is chosen.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Page::Consent { account, .. } => Some(account),
            Page::SignIn | Page::Choose => None,
        }
    }

    /// The 303 to this page for the pending flow `handle`.
    pub fn redirect(&self, handle: &str) -> Response {
        let path = match self {
            Page::SignIn => "/signin",
            Page::Choose => "/accountchooser",
            Page::Consent {
                warn_unverified: true,
                ..
            } => "/consent/unverified",
            Page::Consent { .. } => "/consent",
        };
        see_other(&format!("{path}?req={handle}"))
    }
}

/// Decides the next step of `req` for this browser; `chosen` is the account the flow was
/// already tied to, if any. Reads only: the caller stores what the step needs.
pub async fn decide<'s>(
    state: &AppState,
    session: &'s Session,
    req: &AuthorizationRequest,
    chosen: Option<&Subject>,
) -> Result<Next<'s>, Stop> {
    let account = match choose_account(req, &session.accounts, chosen)? {
        AccountChoice::SignIn => return Ok(Next::Page(Page::SignIn)),
        AccountChoice::Choose => return Ok(Next::Page(Page::Choose)),
        AccountChoice::Use(i) => &session.accounts[i],
    };
    let project = project_of(state, req).await?;
    let org = match project.consent.audience {
        Audience::Internal { organization_id } => {
            state.store.find_organization(organization_id).await?
        }
        Audience::External => None,
    };
    check_audience(&project, org.as_ref(), &account.user)?;
    let users_org = state
        .store
        .find_organization_by_domain(account.user.email.domain())
        .await?;
    check_policy(req, users_org.as_ref())?;
    let grant = state
        .store
        .find_grant(&account.user.sub, &project.id)
        .await?;
    let catalogue = state.store.find_scopes(&req.scopes).await?;
    let nothing = ScopeSet::default();
    let granted = grant.as_ref().map_or(&nothing, |g| &g.scopes);
    Ok(match decide_consent(req, &project, granted, &catalogue)? {
        ConsentDecision::Skip => Next::Code {
            account,
            project,
            grant,
        },
        ConsentDecision::Ask { warn_unverified } => Next::Page(Page::Consent {
            account,
            warn_unverified,
        }),
    })
}

/// Performs the next step of a pending flow (after a sign-in or an account choice).
pub async fn advance(state: &AppState, session: &Session, flow: &Flow) -> Result<Response, Stop> {
    let chosen = flow.pending.sub.as_ref();
    match decide(state, session, &flow.req, chosen).await? {
        Next::Code {
            account,
            project,
            grant,
        } => {
            let code = CodeFor {
                req: &flow.req,
                pending: Some(&flow.handle),
                project: &project,
                account,
                allowed: &flow.req.scopes,
                consent_shown: false,
            };
            issue_code(state, code, grant).await
        }
        Next::Page(page) => {
            // The consent pages act for the account recorded here.
            if let Some(account) = page.account()
                && chosen != Some(&account.user.sub)
            {
                state
                    .store
                    .update_pending_account(&handle_hash(&flow.handle), &account.user.sub)
                    .await?;
            }
            Ok(page.redirect(&flow.handle))
        }
    }
}

/// What a code is issued for.
#[derive(Debug, Clone, Copy)]
pub struct CodeFor<'a> {
    /// The validated request.
    pub req: &'a AuthorizationRequest,
    /// The handle of the pending flow the code ends, consumed once; `None` when the
    /// authorization endpoint issues the code at once and never stored a pending flow.
    pub pending: Option<&'a str>,
    /// The client's project.
    pub project: &'a Project,
    /// The account.
    pub account: &'a Account,
    /// The scopes the user allowed (the request's, or the consent form's choice).
    pub allowed: &'a ScopeSet,
    /// Whether the consent page was shown (and submitted).
    pub consent_shown: bool,
}

/// Ends the flow and redirects with a code for `code.allowed`, added to the grant first.
/// `grant` is the user's grant to the project as last read: when it already holds every
/// allowed scope and its last use is recent, it is not written again.
pub async fn issue_code(
    state: &AppState,
    code: CodeFor<'_>,
    grant: Option<Grant>,
) -> Result<Response, Stop> {
    let CodeFor {
        req,
        pending,
        project,
        account,
        allowed,
        consent_shown,
    } = code;
    // Use-once: of two concurrent submits only one gets here with `true`.
    if let Some(handle) = pending
        && !state.store.delete_pending(&handle_hash(handle)).await?
    {
        return Err(Stop::FlowGone);
    }
    let now = state.clock.now();
    let grant = match grant {
        Some(g) if allowed.is_subset(&g.scopes) && !last_use_is_stale(g.last_used_at, now) => g,
        _ => {
            state
                .store
                .upsert_grant(&account.user.sub, &project.id, allowed, now)
                .await?
        }
    };
    let scopes = code_scopes(req, &grant.scopes);
    let issue_refresh_token = req.access_type == AccessType::Offline
        && (consent_shown
            || !state
                .store
                .has_refresh_token(&account.user.sub, &req.client_id)
                .await?);
    let code = SecretKind::AuthorizationCode.generate();
    let lifetime = Duration::from_secs(u64::from(state.config.tokens.code_lifetime));
    state
        .store
        .insert_code(
            NewCode {
                hash: code.hash(),
                grant_id: grant.id,
                client_id: req.client_id.clone(),
                sub: account.user.sub.clone(),
                redirect_uri: req.redirect_uri.clone(),
                scopes: scopes.clone(),
                access_type: req.access_type,
                issue_refresh_token,
                pkce: req.pkce.clone(),
                nonce: req.nonce.clone(),
                auth_time: now,
                expires_at: now + lifetime,
            },
            now,
        )
        .await?;
    tracing::info!(client_id = %req.client_id, authuser = account.authuser, consent_shown, "issued an authorization code");
    let url = authorize::success_redirect_url(
        &req.redirect_uri,
        code.expose(),
        &scopes.to_string(),
        req.state.as_deref(),
        account.authuser,
        consent_shown,
        &state.issuer(),
    );
    Ok(see_other(url.as_str()))
}
