//! Where a validated request goes next: sign-in, the account chooser, the unverified-app
//! warning, consent, or straight to a code — Google's rules, as pure functions of what the
//! browser session holds and what the user granted before.

use crate::error::OAuthError;
use crate::project::{Audience, Organization, Project, Verification};
use crate::scope::{ScopeInfo, ScopeSet, Sensitivity};
use crate::user::User;

use super::request::AuthorizationRequest;
use super::response::Rejection;

/// A signed-in account of this browser.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user.
    pub user: User,
    /// Its index in this browser.
    pub authuser: u32,
}

/// Which account the flow continues with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChoice {
    /// This one (an index into the accounts given).
    Use(usize),
    /// Nobody suitable is signed in: show sign-in.
    SignIn,
    /// Several could be meant: show the chooser.
    Choose,
}

/// Picks the account: the one chosen earlier in this flow, else the `login_hint`'s, else the
/// only one, else the chooser. `prompt=none` turns every page into an error redirect.
pub fn choose_account(
    req: &AuthorizationRequest,
    accounts: &[Account],
    chosen: Option<&crate::ids::Subject>,
) -> Result<AccountChoice, Rejection> {
    let choice = if let Some(sub) = chosen {
        accounts
            .iter()
            .position(|a| &a.user.sub == sub)
            .map_or(AccountChoice::SignIn, AccountChoice::Use)
    } else if req.prompt.select_account {
        if accounts.is_empty() {
            AccountChoice::SignIn
        } else {
            AccountChoice::Choose
        }
    } else if let Some(hint) = &req.login_hint {
        let hint = hint.to_lowercase();
        accounts
            .iter()
            .position(|a| a.user.email.as_str() == hint || a.user.sub.as_str() == hint)
            .map_or(AccountChoice::SignIn, AccountChoice::Use)
    } else {
        match accounts.len() {
            0 => AccountChoice::SignIn,
            1 => AccountChoice::Use(0),
            _ => AccountChoice::Choose,
        }
    };
    if req.prompt.none {
        let error = match choice {
            AccountChoice::Use(_) => return Ok(choice),
            AccountChoice::SignIn => (
                OAuthError::LoginRequired,
                "No signed-in session matches the request.",
            ),
            AccountChoice::Choose => (
                OAuthError::AccountSelectionRequired,
                "Several accounts are signed in; send login_hint or let the user choose.",
            ),
        };
        return Err(redirect(req, error.0, error.1));
    }
    Ok(choice)
}

/// The error redirect for `req`.
pub fn redirect(req: &AuthorizationRequest, error: OAuthError, description: &str) -> Rejection {
    Rejection::Redirect {
        redirect_uri: req.redirect_uri.clone(),
        state: req.state.clone(),
        error,
        description: description.to_owned(),
    }
}

/// Refuses users outside an internal project's organization ("Error 403: org_internal").
pub fn check_audience(
    project: &Project,
    organization: Option<&Organization>,
    user: &User,
) -> Result<(), Rejection> {
    match (&project.consent.audience, organization) {
        (Audience::External, _) => Ok(()),
        (Audience::Internal { .. }, Some(org)) if user.email.domain() == org.domain => Ok(()),
        (Audience::Internal { .. }, _) => Err(Rejection::Page {
            status: 403,
            error: OAuthError::OrgInternal,
            description: format!(
                "{} is restricted to users within its organization. Sign in with an account of that organization, or ask the developer to make the app external.",
                project.consent.app_name
            ),
            detail: None,
        }),
    }
}

/// Applies the policy of the user's organization: a blocked client, or any blocked scope in
/// the request, is "Error 400: admin_policy_enforced".
pub fn check_policy(
    req: &AuthorizationRequest,
    organization: Option<&Organization>,
) -> Result<(), Rejection> {
    let Some(org) = organization else {
        return Ok(());
    };
    let client_blocked = org.blocked_clients.contains(&req.client_id);
    let scopes_blocked = req.scopes.intersection(&org.blocked_scopes);
    if !client_blocked && scopes_blocked.is_empty() {
        return Ok(());
    }
    let detail = if client_blocked {
        ("blocked app", req.client_id.to_string())
    } else {
        ("blocked scopes", scopes_blocked.to_string())
    };
    Err(Rejection::Page {
        status: 400,
        error: OAuthError::AdminPolicyEnforced,
        description: format!(
            "The administrator of {} does not allow this app to access some of what it asked for. Ask your administrator, or use another account.",
            org.domain
        ),
        detail: Some(detail),
    })
}

/// What the consent step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentDecision {
    /// Everything requested is already granted: issue a code without a page.
    Skip,
    /// Ask (first, when `warn_unverified`, with the unverified-app warning).
    Ask {
        /// Show the unverified-app interstitial first.
        warn_unverified: bool,
    },
}

/// Consent is skipped when every requested scope is already in the user's grant to the
/// project, unless `prompt=consent`; `prompt=none` cannot ask, so it fails instead.
pub fn decide_consent(
    req: &AuthorizationRequest,
    project: &Project,
    granted: &ScopeSet,
    catalogue: &[ScopeInfo],
) -> Result<ConsentDecision, Rejection> {
    let new = req.scopes.difference(granted);
    if new.is_empty() && !req.prompt.consent {
        return Ok(ConsentDecision::Skip);
    }
    if req.prompt.none {
        return Err(redirect(
            req,
            OAuthError::ConsentRequired,
            "The user has not granted every requested scope yet.",
        ));
    }
    let sensitive = catalogue
        .iter()
        .any(|s| new.contains(s.scope.as_str()) && s.sensitivity != Sensitivity::NonSensitive);
    Ok(ConsentDecision::Ask {
        warn_unverified: sensitive && project.consent.verification == Verification::Unverified,
    })
}

/// Scopes a user can never untick on the consent page (OpenID Connect's identity scopes).
pub fn is_fixed_scope(scope: &str) -> bool {
    matches!(scope, "openid" | "email" | "profile")
}

/// Whether the consent page offers a checkbox per scope: more than one scope requested and
/// `enable_granular_consent` not `false`.
pub fn is_granular(req: &AuthorizationRequest) -> bool {
    req.granular_consent && req.scopes.len() > 1
}

/// What the user allowed on the consent page: the fixed scopes, plus the ticked ones among
/// those asked (a tampered form cannot add a scope that was not requested), or everything
/// requested when the page had no checkboxes.
pub fn allowed_scopes(req: &AuthorizationRequest, ticked: &[String]) -> ScopeSet {
    if !is_granular(req) {
        return req.scopes.clone();
    }
    req.scopes
        .iter()
        .filter(|s| is_fixed_scope(s.as_str()) || ticked.iter().any(|t| t == s.as_str()))
        .cloned()
        .collect()
}

/// The scopes a code carries: with `include_granted_scopes=true` the whole grant, otherwise
/// what this request asked for and the grant now holds.
pub fn code_scopes(req: &AuthorizationRequest, grant: &ScopeSet) -> ScopeSet {
    if req.include_granted_scopes {
        grant.clone()
    } else {
        req.scopes.intersection(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::Prompt;
    use crate::clock::Timestamp;
    use crate::grant::AccessType;
    use crate::ids::{ClientId, Email, ProjectId, Subject};
    use crate::password::PasswordHash;
    use crate::project::ConsentScreen;
    use crate::redirect_uri::RedirectUri;
    use crate::scope::Scope;

    fn req(scopes: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: ClientId::parse("c").unwrap(),
            redirect_uri: RedirectUri::from_stored("https://app.example.com/cb".into()),
            scopes: ScopeSet::parse(scopes).unwrap(),
            state: Some("s".into()),
            access_type: AccessType::Online,
            include_granted_scopes: false,
            granular_consent: true,
            login_hint: None,
            prompt: Prompt::default(),
            pkce: None,
            nonce: None,
        }
    }

    fn account(email: &str, authuser: u32) -> Account {
        Account {
            user: User {
                sub: Subject::generate(),
                email: Email::parse(email).unwrap(),
                email_verified: true,
                name: email.into(),
                password_hash: PasswordHash::from_stored(String::new()),
                disabled: false,
                created_at: Timestamp::from_unix(0),
            },
            authuser,
        }
    }

    fn project(verification: Verification) -> Project {
        Project {
            id: ProjectId::parse("project-1").unwrap(),
            name: "P".into(),
            consent: ConsentScreen {
                app_name: "App".into(),
                support_email: Email::parse("s@example.com").unwrap(),
                logo_url: None,
                audience: Audience::External,
                verification,
            },
            owned_domains: vec![],
            created_at: Timestamp::from_unix(0),
        }
    }

    fn error_of(r: Rejection) -> OAuthError {
        match r {
            Rejection::Redirect { error, .. } | Rejection::Page { error, .. } => error,
        }
    }

    #[test]
    fn account_choice_follows_googles_rules() {
        let two = [account("a@example.com", 0), account("b@example.com", 1)];
        let r = req("openid");
        assert_eq!(
            choose_account(&r, &[], None).unwrap(),
            AccountChoice::SignIn
        );
        assert_eq!(
            choose_account(&r, &two[..1], None).unwrap(),
            AccountChoice::Use(0)
        );
        assert_eq!(
            choose_account(&r, &two, None).unwrap(),
            AccountChoice::Choose
        );
        let hinted = AuthorizationRequest {
            login_hint: Some("B@example.com".into()),
            ..req("openid")
        };
        assert_eq!(
            choose_account(&hinted, &two, None).unwrap(),
            AccountChoice::Use(1)
        );
        let by_sub = AuthorizationRequest {
            login_hint: Some(two[0].user.sub.to_string()),
            ..req("openid")
        };
        assert_eq!(
            choose_account(&by_sub, &two, None).unwrap(),
            AccountChoice::Use(0)
        );
        let unknown = AuthorizationRequest {
            login_hint: Some("c@example.com".into()),
            ..req("openid")
        };
        assert_eq!(
            choose_account(&unknown, &two, None).unwrap(),
            AccountChoice::SignIn
        );
        let select = AuthorizationRequest {
            prompt: Prompt {
                select_account: true,
                ..Prompt::default()
            },
            ..req("openid")
        };
        assert_eq!(
            choose_account(&select, &two[..1], None).unwrap(),
            AccountChoice::Choose
        );
        assert_eq!(
            choose_account(&select, &two, Some(&two[1].user.sub)).unwrap(),
            AccountChoice::Use(1)
        );
    }

    #[test]
    fn prompt_none_turns_pages_into_errors() {
        let none = AuthorizationRequest {
            prompt: Prompt {
                none: true,
                ..Prompt::default()
            },
            ..req("openid")
        };
        let two = [account("a@example.com", 0), account("b@example.com", 1)];
        assert_eq!(
            error_of(choose_account(&none, &[], None).unwrap_err()),
            OAuthError::LoginRequired
        );
        assert_eq!(
            error_of(choose_account(&none, &two, None).unwrap_err()),
            OAuthError::AccountSelectionRequired
        );
        assert_eq!(
            choose_account(&none, &two[..1], None).unwrap(),
            AccountChoice::Use(0)
        );
        let p = project(Verification::Verified);
        let e = decide_consent(&none, &p, &ScopeSet::default(), &[]).unwrap_err();
        assert_eq!(error_of(e), OAuthError::ConsentRequired);
        assert_eq!(
            decide_consent(&none, &p, &ScopeSet::parse("openid").unwrap(), &[]).unwrap(),
            ConsentDecision::Skip
        );
    }

    #[test]
    fn consent_is_skipped_only_when_everything_was_granted() {
        let p = project(Verification::Verified);
        let r = req("openid email");
        let some = ScopeSet::parse("openid").unwrap();
        let all = ScopeSet::parse("openid email profile").unwrap();
        assert_eq!(
            decide_consent(&r, &p, &some, &[]).unwrap(),
            ConsentDecision::Ask {
                warn_unverified: false
            }
        );
        assert_eq!(
            decide_consent(&r, &p, &all, &[]).unwrap(),
            ConsentDecision::Skip
        );
        let forced = AuthorizationRequest {
            prompt: Prompt {
                consent: true,
                ..Prompt::default()
            },
            ..req("openid email")
        };
        assert_eq!(
            decide_consent(&forced, &p, &all, &[]).unwrap(),
            ConsentDecision::Ask {
                warn_unverified: false
            }
        );
    }

    #[test]
    fn unverified_projects_warn_for_sensitive_scopes_only() {
        let drive = "https://www.googleapis.com/auth/drive";
        let cat = vec![ScopeInfo {
            scope: Scope::parse(drive).unwrap(),
            description: "d".into(),
            sensitivity: Sensitivity::Restricted,
        }];
        let r = req(&format!("openid {drive}"));
        let unverified = project(Verification::Unverified);
        assert_eq!(
            decide_consent(&r, &unverified, &ScopeSet::default(), &cat).unwrap(),
            ConsentDecision::Ask {
                warn_unverified: true
            }
        );
        assert_eq!(
            decide_consent(&req("openid"), &unverified, &ScopeSet::default(), &cat).unwrap(),
            ConsentDecision::Ask {
                warn_unverified: false
            }
        );
        let verified = project(Verification::Verified);
        assert_eq!(
            decide_consent(&r, &verified, &ScopeSet::default(), &cat).unwrap(),
            ConsentDecision::Ask {
                warn_unverified: false
            }
        );
    }

    #[test]
    fn granular_choices_decide_the_scopes() {
        let r = req(
            "openid email https://www.googleapis.com/auth/drive.file https://www.googleapis.com/auth/youtube",
        );
        assert!(is_granular(&r));
        let ticked = vec![
            "https://www.googleapis.com/auth/youtube".to_owned(),
            "https://evil.example/extra".to_owned(),
        ];
        let allowed = allowed_scopes(&r, &ticked);
        assert_eq!(
            allowed.to_string(),
            "email https://www.googleapis.com/auth/youtube openid",
            "fixed scopes stay; tampered extras are ignored"
        );
        let whole = AuthorizationRequest {
            granular_consent: false,
            ..r.clone()
        };
        assert_eq!(allowed_scopes(&whole, &[]), whole.scopes);
        assert!(!is_granular(&req("openid")));
    }

    #[test]
    fn include_granted_scopes_unions_the_grant() {
        let grant =
            ScopeSet::parse("openid email https://www.googleapis.com/auth/drive.file").unwrap();
        let r = req("email");
        assert_eq!(code_scopes(&r, &grant).to_string(), "email");
        let inc = AuthorizationRequest {
            include_granted_scopes: true,
            ..r
        };
        assert_eq!(code_scopes(&inc, &grant), grant);
    }

    #[test]
    fn organization_policies_block_scopes_and_clients() {
        let mut org = Organization {
            id: 1,
            domain: "corp.example.com".into(),
            name: "Corp".into(),
            blocked_scopes: ScopeSet::parse("https://www.googleapis.com/auth/drive").unwrap(),
            blocked_clients: vec![],
            created_at: Timestamp::from_unix(0),
        };
        assert!(check_policy(&req("openid email"), Some(&org)).is_ok());
        assert!(check_policy(&req("openid https://www.googleapis.com/auth/drive"), None).is_ok());
        let e = check_policy(
            &req("openid https://www.googleapis.com/auth/drive"),
            Some(&org),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            Rejection::Page {
                status: 400,
                error: OAuthError::AdminPolicyEnforced,
                ..
            }
        ));
        org.blocked_clients = vec![ClientId::parse("c").unwrap()];
        assert_eq!(
            error_of(check_policy(&req("openid"), Some(&org)).unwrap_err()),
            OAuthError::AdminPolicyEnforced
        );
    }

    #[test]
    fn internal_apps_admit_only_their_organization() {
        let mut p = project(Verification::Verified);
        p.consent.audience = Audience::Internal { organization_id: 1 };
        let org = Organization {
            id: 1,
            domain: "corp.example.com".into(),
            name: "Corp".into(),
            blocked_scopes: ScopeSet::default(),
            blocked_clients: vec![],
            created_at: Timestamp::from_unix(0),
        };
        assert!(check_audience(&p, Some(&org), &account("x@corp.example.com", 0).user).is_ok());
        let outsider = check_audience(&p, Some(&org), &account("x@gmail.com", 0).user).unwrap_err();
        assert!(matches!(
            outsider,
            Rejection::Page {
                status: 403,
                error: OAuthError::OrgInternal,
                ..
            }
        ));
        assert!(
            check_audience(
                &project(Verification::Verified),
                None,
                &account("x@gmail.com", 0).user
            )
            .is_ok()
        );
    }
}
