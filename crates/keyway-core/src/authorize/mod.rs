//! The authorization endpoint's rules (RFC 6749 §4.1.1, OIDC Core §3.1.2, Google's parameter
//! table): turning a request's parameters into a validated [`AuthorizationRequest`], and
//! deciding who hears about each error.
//!
//! Order matters (RFC 6749 §4.1.2.1): `client_id` and `redirect_uri` are checked first, and
//! until both are verified every error is a [`Rejection::Page`] shown to the user — a request
//! with a bad redirect URI is never redirected anywhere. After that, only the errors Google
//! redirects (`unsupported_response_type`, and the answers of the flow itself) go back to the
//! client; malformed requests are still shown as pages, as Google shows them.

mod flow;
mod request;
mod response;

pub use flow::{
    Account, AccountChoice, ConsentDecision, allowed_scopes, check_audience, check_policy,
    choose_account, code_scopes, decide_consent, is_fixed_scope, is_granular, redirect,
};
pub use request::{AuthorizationRequest, Params, Prompt, is_embedded_webview};
pub use response::{Rejection, error_redirect_url, success_redirect_url};
