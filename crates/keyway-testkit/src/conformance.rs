//! The Store conformance suite: one set of behaviours every backend must show. Each check
//! takes a fresh, migrated, empty store; `tests/it/store.rs` runs every check on SQLite and on
//! PostgreSQL.

use std::sync::Arc;

use keyway_core::client::{ClientUpdate, NewClient, OAuthClient};
use keyway_core::grant::{
    AccessType, AuthorizationCode, NewAccessToken, NewCode, Redemption, RefreshTokenLimits,
};
use keyway_core::ids::{ClientId, Email, ProjectId, Subject};
use keyway_core::password::PasswordHash;
use keyway_core::pending::{NewPending, PendingAuthorization};
use keyway_core::pkce::{ChallengeMethod, PkceChallenge};
use keyway_core::project::{Audience, ConsentScreen, Project, Verification};
use keyway_core::redirect_uri::{JavaScriptOrigin, RedirectUri};
use keyway_core::scope::{ScopeInfo, ScopeSet, Sensitivity};
use keyway_core::secret::{SecretHash, SecretKind};
use keyway_core::signing_key::SigningKey;
use keyway_core::store::{Store, StoreError};
use keyway_core::user::{NewUser, User};
use keyway_core::{Scope, Timestamp};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(T0.as_unix() + secs)
}

/// Creates a user `<name>@example.com`.
pub async fn user(store: &dyn Store, name: &str) -> User {
    store
        .insert_user(
            NewUser {
                sub: Subject::generate(),
                email: Email::parse(&format!("{name}@example.com")).expect("valid email"),
                email_verified: true,
                name: name.to_owned(),
                password_hash: PasswordHash::from_stored(
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                ),
            },
            T0,
        )
        .await
        .expect("insert user")
}

/// Creates an external, unverified project.
pub async fn project(store: &dyn Store, name: &str) -> Project {
    let p = Project {
        id: ProjectId::from_name(name),
        name: name.to_owned(),
        consent: ConsentScreen {
            app_name: format!("{name} app"),
            support_email: Email::parse("support@example.com").expect("valid"),
            logo_url: None,
            audience: Audience::External,
            verification: Verification::Unverified,
        },
        owned_domains: vec![],
        created_at: T0,
    };
    store.insert_project(&p).await.expect("insert project");
    p
}

/// Creates a client of `project` with one redirect URI; returns it with its secret's text.
pub async fn client(store: &dyn Store, project: &Project) -> (OAuthClient, String) {
    let secret = SecretKind::ClientSecret.generate();
    let c = store
        .insert_client(
            NewClient {
                client_id: ClientId::generate("apps.keyway.test"),
                project_id: project.id.clone(),
                name: "web".into(),
                redirect_uris: vec![RedirectUri::from_stored(
                    "https://app.example.com/cb".into(),
                )],
                javascript_origins: vec![JavaScriptOrigin::from_stored(
                    "https://app.example.com".into(),
                )],
                secret_hash: secret.hash(),
                secret_hint: keyway_core::client::secret_hint(&secret),
            },
            T0,
        )
        .await
        .expect("insert client");
    (c, secret.expose().to_owned())
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).expect("valid scopes")
}

/// Issues a code for `user` to `client` under a fresh or existing grant; returns the stored
/// code and its text.
pub async fn code_with_text(
    store: &dyn Store,
    user: &User,
    client: &OAuthClient,
    refresh: bool,
) -> (AuthorizationCode, String) {
    let text = SecretKind::AuthorizationCode.generate();
    let grant = store
        .upsert_grant(&user.sub, &client.project_id, &scopes("openid email"), T0)
        .await
        .expect("grant");
    store
        .insert_code(
            NewCode {
                hash: text.hash(),
                grant_id: grant.id,
                client_id: client.client_id.clone(),
                sub: user.sub.clone(),
                redirect_uri: client.redirect_uris[0].clone(),
                scopes: scopes("openid email"),
                access_type: if refresh {
                    AccessType::Offline
                } else {
                    AccessType::Online
                },
                issue_refresh_token: refresh,
                pkce: Some(PkceChallenge {
                    challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
                    method: ChallengeMethod::S256,
                }),
                nonce: Some("n-0S6_WzA2Mj".into()),
                auth_time: T0,
                expires_at: at(600),
            },
            T0,
        )
        .await
        .map(|c| (c, text.expose().to_owned()))
        .expect("insert code")
}

/// Issues a code (see [`code_with_text`]).
pub async fn code(
    store: &dyn Store,
    user: &User,
    client: &OAuthClient,
    refresh: bool,
) -> AuthorizationCode {
    code_with_text(store, user, client, refresh).await.0
}

fn access(expires: i64) -> (String, NewAccessToken) {
    let t = SecretKind::AccessToken.generate();
    (
        t.expose().to_owned(),
        NewAccessToken {
            hash: t.hash(),
            scopes: scopes("email openid"),
            expires_at: at(expires),
        },
    )
}

/// Redeems `code` with fresh tokens; returns (outcome, access token, refresh token).
pub async fn redeem(
    store: &dyn Store,
    code: &AuthorizationCode,
    limits: RefreshTokenLimits,
) -> (Redemption, String, Option<String>) {
    let (a, new_access) = access(3600);
    let r = code
        .issue_refresh_token
        .then(|| SecretKind::RefreshToken.generate());
    let outcome = store
        .redeem_code(
            code,
            new_access,
            r.as_ref().map(|r| r.hash()),
            limits,
            at(1),
        )
        .await
        .expect("redeem");
    (outcome, a, r.map(|r| r.expose().to_owned()))
}

async fn access_live(store: &dyn Store, token: &str) -> bool {
    store
        .find_access_token(&SecretHash::of(token))
        .await
        .expect("find access")
        .is_some()
}

async fn refresh_live(store: &dyn Store, token: &str) -> bool {
    store
        .find_refresh_token(&SecretHash::of(token))
        .await
        .expect("find refresh")
        .is_some()
}

/// Users: create, find, uniqueness, list, password, disable.
/// Many writes at once, some of which fail: each failure is that write's alone. (SQLite commits
/// concurrent writes together; one write's constraint failure must not undo or fail the others
/// committed beside it.)
pub async fn concurrent_writes_fail_alone(store: Arc<dyn Store>) {
    let taken = user(&*store, "taken").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let store = store.clone();
        let email = if i % 4 == 0 {
            taken.email.clone()
        } else {
            Email::parse(&format!("user{i}@example.com")).unwrap()
        };
        tasks.spawn(async move {
            let r = store
                .insert_user(
                    NewUser {
                        sub: Subject::generate(),
                        email,
                        email_verified: true,
                        name: format!("user {i}"),
                        password_hash: PasswordHash::from_stored("x".into()),
                    },
                    T0,
                )
                .await;
            (i, r)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (i, r) = joined.unwrap();
        if i % 4 == 0 {
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{i}: {r:?}");
        } else {
            assert_eq!(r.unwrap().name, format!("user {i}"));
        }
    }
    let all = store.list_users().await.unwrap();
    assert_eq!(all.len(), 1 + 45, "the 45 distinct users and the first one");
    for i in (0..60).filter(|i| i % 4 != 0) {
        let email = Email::parse(&format!("user{i}@example.com")).unwrap();
        assert!(store.find_user_by_email(&email).await.unwrap().is_some());
    }
}

pub async fn users(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    assert!(!ada.disabled);
    assert_eq!(
        store.find_user(&ada.sub).await.unwrap().unwrap().email,
        ada.email
    );
    let by_email = store
        .find_user_by_email(&Email::parse("ADA@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(by_email.unwrap().sub, ada.sub);
    let dup = store
        .insert_user(
            NewUser {
                sub: Subject::generate(),
                email: ada.email.clone(),
                email_verified: false,
                name: "other".into(),
                password_hash: PasswordHash::from_stored("x".into()),
            },
            T0,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    user(&*store, "bob").await;
    let all = store.list_users().await.unwrap();
    assert_eq!(
        all.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["ada@example.com", "bob@example.com"]
    );
    assert!(
        store
            .update_user_password(&ada.sub, &PasswordHash::from_stored("new".into()))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .find_user(&ada.sub)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_str(),
        "new"
    );
    assert!(
        !store
            .update_user_password(&Subject::generate(), &PasswordHash::from_stored("x".into()))
            .await
            .unwrap()
    );
    assert!(
        store
            .find_user(&Subject::generate())
            .await
            .unwrap()
            .is_none()
    );
}

/// Disabling a user revokes their grants (and so tokens) and sessions; re-enabling does not
/// bring them back.
pub async fn disabling_a_user_revokes_everything(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Disable").await;
    let (c, _) = client(&*store, &p).await;
    let code = code(&*store, &ada, &c, true).await;
    let (_, a, r) = redeem(&*store, &code, RefreshTokenLimits::default()).await;
    let session = store
        .insert_session(SecretKind::Session.generate().hash(), T0, at(3600))
        .await
        .unwrap();
    store
        .insert_session_account(session, &ada.sub, T0)
        .await
        .unwrap();

    let disabled = store
        .update_user_disabled(&ada.sub, true)
        .await
        .unwrap()
        .unwrap();
    assert!(disabled.disabled);
    assert!(!access_live(&*store, &a).await);
    assert!(!refresh_live(&*store, &r.unwrap()).await);
    assert!(store.find_grant(&ada.sub, &p.id).await.unwrap().is_none());
    assert_eq!(
        store.delete_user_sessions(&ada.sub).await.unwrap(),
        0,
        "sessions already ended"
    );
    let enabled = store
        .update_user_disabled(&ada.sub, false)
        .await
        .unwrap()
        .unwrap();
    assert!(!enabled.disabled);
    assert!(store.find_grant(&ada.sub, &p.id).await.unwrap().is_none());
    assert!(
        store
            .update_user_disabled(&Subject::generate(), true)
            .await
            .unwrap()
            .is_none()
    );
}

/// Organizations and projects.
pub async fn projects(store: Arc<dyn Store>) {
    let org = store
        .upsert_organization("example.org", "Example", T0)
        .await
        .unwrap();
    let again = store
        .upsert_organization("example.org", "Renamed", at(5))
        .await
        .unwrap();
    assert_eq!(
        org, again,
        "upsert returns the existing organization unchanged"
    );
    assert_eq!(
        store.find_organization(org.id).await.unwrap(),
        Some(org.clone())
    );

    let mut p = project(&*store, "Alpha").await;
    assert_eq!(store.find_project(&p.id).await.unwrap(), Some(p.clone()));
    assert!(matches!(
        store.insert_project(&p).await,
        Err(StoreError::Conflict(_))
    ));
    let twin = project(&*store, "Alpha").await;
    assert_eq!(store.find_projects_by_name("Alpha").await.unwrap().len(), 2);
    assert!(
        store
            .find_projects_by_name("alpha")
            .await
            .unwrap()
            .is_empty(),
        "names match exactly"
    );

    p.consent.audience = Audience::Internal {
        organization_id: org.id,
    };
    p.consent.verification = Verification::Verified;
    p.consent.logo_url = Some("https://example.org/logo.png".into());
    p.owned_domains = vec!["example.org".into(), "goo.gl".into()];
    p.name = "Alpha 2".into();
    assert!(store.update_project(&p).await.unwrap());
    assert_eq!(store.find_project(&p.id).await.unwrap(), Some(p.clone()));
    let listed = store.list_projects().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&p) && listed.contains(&twin));

    let mut ghost = p.clone();
    ghost.id = ProjectId::parse("ghost-project").unwrap();
    assert!(!store.update_project(&ghost).await.unwrap());
}

/// Clients, secrets and rotation.
pub async fn clients(store: Arc<dyn Store>) {
    let p = project(&*store, "Clients").await;
    let (c, secret) = client(&*store, &p).await;
    assert!(c.enabled);
    assert!(c.secret_matches(&secret));
    assert!(!c.secret_matches("kwcs_not-the-secret"));
    let found = store.find_client(&c.client_id).await.unwrap().unwrap();
    assert_eq!(found.redirect_uris, c.redirect_uris);
    assert_eq!(found.javascript_origins, c.javascript_origins);
    assert!(found.secret_matches(&secret));

    let orphan = store
        .insert_client(
            NewClient {
                client_id: ClientId::generate("apps.keyway.test"),
                project_id: ProjectId::parse("no-such-project").unwrap(),
                name: "x".into(),
                redirect_uris: vec![],
                javascript_origins: vec![],
                secret_hash: SecretHash::of("s"),
                secret_hint: "s".into(),
            },
            T0,
        )
        .await;
    assert!(matches!(orphan, Err(StoreError::Missing(_))), "{orphan:?}");

    // Rotation: both secrets work until the old one is deleted.
    let second = SecretKind::ClientSecret.generate();
    let rec = store
        .insert_client_secret(&c.client_id, second.hash(), "abcd", at(1))
        .await
        .unwrap();
    let both = store.find_client(&c.client_id).await.unwrap().unwrap();
    assert_eq!(both.secrets.len(), 2);
    assert!(both.secret_matches(&secret) && both.secret_matches(second.expose()));
    let first_id = both.secrets[0].id;
    assert!(
        store
            .delete_client_secret(&c.client_id, first_id)
            .await
            .unwrap()
    );
    let after = store.find_client(&c.client_id).await.unwrap().unwrap();
    assert!(!after.secret_matches(&secret) && after.secret_matches(second.expose()));
    let last = store.delete_client_secret(&c.client_id, rec.id).await;
    assert!(
        matches!(last, Err(StoreError::Conflict(_))),
        "the last secret stays: {last:?}"
    );
    assert!(
        !store
            .delete_client_secret(&c.client_id, 999_999)
            .await
            .unwrap()
    );

    let updated = store
        .update_client(
            &c.client_id,
            ClientUpdate {
                name: Some("renamed".into()),
                redirect_uris: Some(vec![
                    RedirectUri::from_stored("https://app.example.com/cb".into()),
                    RedirectUri::from_stored("http://localhost:8080/oauth2callback".into()),
                ]),
                javascript_origins: Some(vec![]),
                enabled: Some(false),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "renamed");
    assert!(!updated.enabled);
    assert!(updated.has_redirect_uri("http://localhost:8080/oauth2callback"));
    assert!(updated.javascript_origins.is_empty());
    assert_eq!(updated.secrets.len(), 1);
    let untouched = store
        .update_client(&c.client_id, ClientUpdate::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.name, "renamed");
    assert!(
        store
            .update_client(&ClientId::parse("nope").unwrap(), ClientUpdate::default())
            .await
            .unwrap()
            .is_none()
    );

    let (c2, _) = client(&*store, &p).await;
    let other = project(&*store, "Other").await;
    client(&*store, &other).await;
    let of_p = store.list_clients(Some(&p.id)).await.unwrap();
    let mut ids: Vec<_> = of_p.iter().map(|c| &c.client_id).collect();
    ids.sort();
    let mut expected = vec![&c.client_id, &c2.client_id];
    expected.sort();
    assert_eq!(ids, expected, "only the project's clients");
    assert_eq!(store.list_clients(None).await.unwrap().len(), 3);

    assert!(store.delete_client(&c.client_id).await.unwrap());
    assert!(store.find_client(&c.client_id).await.unwrap().is_none());
    assert!(!store.delete_client(&c.client_id).await.unwrap());
}

/// Deleting a client deletes the tokens issued to it.
pub async fn deleting_a_client_deletes_its_tokens(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Del").await;
    let (c, _) = client(&*store, &p).await;
    let code = code(&*store, &ada, &c, true).await;
    let (_, a, r) = redeem(&*store, &code, RefreshTokenLimits::default()).await;
    assert!(store.delete_client(&c.client_id).await.unwrap());
    assert!(!access_live(&*store, &a).await);
    assert!(!refresh_live(&*store, &r.unwrap()).await);
}

/// The scope catalogue.
pub async fn scope_catalogue(store: Arc<dyn Store>) {
    for s in keyway_core::scope::default_catalogue() {
        store.upsert_scope(&s).await.unwrap();
    }
    let all = store.list_scopes().await.unwrap();
    assert_eq!(all.len(), keyway_core::scope::default_catalogue().len());
    let wanted = scopes("openid https://www.googleapis.com/auth/drive.file unknown.scope");
    let found = store.find_scopes(&wanted).await.unwrap();
    assert_eq!(
        found.iter().map(|s| s.scope.as_str()).collect::<Vec<_>>(),
        ["https://www.googleapis.com/auth/drive.file", "openid"]
    );
    let custom = ScopeInfo {
        scope: Scope::parse("https://api.example.com/auth/things").unwrap(),
        description: "See your things".into(),
        sensitivity: Sensitivity::Sensitive,
    };
    store.upsert_scope(&custom).await.unwrap();
    let changed = ScopeInfo {
        description: "See and edit your things".into(),
        sensitivity: Sensitivity::Restricted,
        ..custom
    };
    store.upsert_scope(&changed).await.unwrap();
    let got = store
        .find_scopes(&scopes("https://api.example.com/auth/things"))
        .await
        .unwrap();
    assert_eq!(got, vec![changed]);
    assert!(
        store
            .find_scopes(&ScopeSet::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Grants accumulate scopes per user and project, even under concurrent consents.
pub async fn grants_accumulate_scopes(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Grants").await;
    let g1 = store
        .upsert_grant(&ada.sub, &p.id, &scopes("openid"), T0)
        .await
        .unwrap();
    let g2 = store
        .upsert_grant(&ada.sub, &p.id, &scopes("email profile"), at(10))
        .await
        .unwrap();
    assert_eq!(g1.id, g2.id);
    assert_eq!(g2.scopes, scopes("openid email profile"));
    assert_eq!(g2.created_at, T0);
    assert_eq!(
        store.find_grant(&ada.sub, &p.id).await.unwrap(),
        Some(g2.clone())
    );

    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (store, sub, pid) = (store.clone(), ada.sub.clone(), p.id.clone());
            tokio::spawn(async move {
                store
                    .upsert_grant(&sub, &pid, &scopes(&format!("scope.{i}")), at(20))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let g = store.find_grant(&ada.sub, &p.id).await.unwrap().unwrap();
    assert_eq!(g.scopes.len(), 3 + 12, "no scope lost: {g:?}");

    let p2 = project(&*store, "Second").await;
    store
        .upsert_grant(&ada.sub, &p2.id, &scopes("openid"), at(30))
        .await
        .unwrap();
    let listed = store.list_grants(&ada.sub).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].project_id, p2.id, "newest first");
    let bad = store
        .upsert_grant(&Subject::generate(), &p.id, &scopes("openid"), T0)
        .await;
    assert!(matches!(bad, Err(StoreError::Missing(_))), "{bad:?}");
}

/// A code is stored by hash with everything it is bound to, and redeems exactly once.
pub async fn codes_redeem_once(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Codes").await;
    let (c, _) = client(&*store, &p).await;
    let (code, text) = code_with_text(&*store, &ada, &c, true).await;
    assert!(
        store
            .find_code(&SecretHash::of("kwac_unknown"))
            .await
            .unwrap()
            .is_none()
    );
    let stored = store
        .find_code(&SecretHash::of(&text))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, code.id);
    assert_eq!(stored.client_id, c.client_id);
    assert_eq!(stored.redirect_uri, c.redirect_uris[0]);
    assert_eq!(stored.scopes, scopes("email openid"));
    assert_eq!(stored.access_type, AccessType::Offline);
    assert!(stored.issue_refresh_token);
    assert_eq!(stored.pkce, code.pkce);
    assert_eq!(stored.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(
        (stored.auth_time, stored.expires_at, stored.used_at),
        (T0, at(600), None)
    );
    let (outcome, a, r) = redeem(&*store, &code, RefreshTokenLimits::default()).await;
    let Redemption::Redeemed {
        refresh_token_id, ..
    } = outcome
    else {
        panic!("first redemption must succeed: {outcome:?}")
    };
    assert!(refresh_token_id.is_some());
    let tok = store
        .find_access_token(&SecretHash::of(&a))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tok.client_id, c.client_id);
    assert_eq!(tok.sub, ada.sub);
    assert_eq!(tok.code_id, Some(code.id));
    assert_eq!(tok.access_type, AccessType::Offline);
    assert_eq!(tok.expires_at, at(3600));
    let rt = store
        .find_refresh_token(&SecretHash::of(r.as_deref().unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rt.scopes, code.scopes);
    assert_eq!(tok.refresh_token_id, Some(rt.id));

    let (again, a2, r2) = redeem(&*store, &code, RefreshTokenLimits::default()).await;
    assert_eq!(again, Redemption::AlreadyUsed);
    assert!(
        !access_live(&*store, &a2).await,
        "a refused redemption stores nothing"
    );
    assert!(!refresh_live(&*store, &r2.unwrap()).await);

    // The replay is recognisable, and answering it removes the tokens from the first exchange.
    let used = store
        .find_code(&SecretHash::of(&text))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.used_at, Some(at(1)));
    assert_eq!(store.delete_code_tokens(code.id).await.unwrap(), 2);
    assert!(!access_live(&*store, &a).await);
    assert!(!refresh_live(&*store, r.as_deref().unwrap()).await);
}

/// Many concurrent redemptions of one code: exactly one wins, the rest are told it was used,
/// and only one set of tokens exists.
pub async fn concurrent_redemptions_have_one_winner(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Race").await;
    let (c, _) = client(&*store, &p).await;
    for _round in 0..3 {
        let code = code(&*store, &ada, &c, true).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (store, code) = (store.clone(), code.clone());
                tokio::spawn(
                    async move { redeem(&*store, &code, RefreshTokenLimits::default()).await },
                )
            })
            .collect();
        let mut winners = 0;
        let mut live = 0;
        for t in tasks {
            let (outcome, a, _) = t.await.unwrap();
            winners += usize::from(matches!(outcome, Redemption::Redeemed { .. }));
            live += usize::from(access_live(&*store, &a).await);
        }
        assert_eq!(winners, 1);
        assert_eq!(live, 1, "exactly one set of tokens is stored");
    }
}

/// Past the per-client and per-user limits, the oldest refresh tokens stop working.
pub async fn refresh_token_limits_drop_the_oldest(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let bob = user(&*store, "bob").await;
    let p = project(&*store, "Limits").await;
    let (c1, _) = client(&*store, &p).await;
    let (c2, _) = client(&*store, &p).await;
    let limits = RefreshTokenLimits {
        per_client: 3,
        per_user: 5,
    };
    let mut tokens = Vec::new();
    for _ in 0..4 {
        let code = code(&*store, &ada, &c1, true).await;
        tokens.push(redeem(&*store, &code, limits).await.2.unwrap());
    }
    assert!(
        !refresh_live(&*store, &tokens[0]).await,
        "the 4th token for one client evicts the 1st"
    );
    for t in &tokens[1..] {
        assert!(refresh_live(&*store, t).await);
    }
    // Bob's tokens do not count against Ada's limits.
    let bobs = redeem(&*store, &code(&*store, &bob, &c1, true).await, limits)
        .await
        .2
        .unwrap();
    let mut second = Vec::new();
    for _ in 0..3 {
        let code = code(&*store, &ada, &c2, true).await;
        second.push(redeem(&*store, &code, limits).await.2.unwrap());
    }
    // Ada now holds 3 (c1) + 3 (c2) = 6 > 5: her oldest overall (tokens[1]) is gone.
    assert!(!refresh_live(&*store, &tokens[1]).await);
    assert!(refresh_live(&*store, &tokens[2]).await);
    for t in &second {
        assert!(refresh_live(&*store, t).await);
    }
    assert!(refresh_live(&*store, &bobs).await);
    assert!(
        store
            .has_refresh_token(&ada.sub, &c2.client_id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .has_refresh_token(&bob.sub, &c2.client_id)
            .await
            .unwrap()
    );
}

/// Refreshing stores a new access token tied to the refresh token and its code.
pub async fn refreshing_issues_access_tokens(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Refresh").await;
    let (c, _) = client(&*store, &p).await;
    let code = code(&*store, &ada, &c, true).await;
    let (_, _, r) = redeem(&*store, &code, RefreshTokenLimits::default()).await;
    let rt = store
        .find_refresh_token(&SecretHash::of(r.as_deref().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let (a, new) = access(7200);
    let id = store
        .insert_refreshed_access_token(&rt, new, at(100))
        .await
        .unwrap();
    assert!(id.is_some());
    let tok = store
        .find_access_token(&SecretHash::of(&a))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (tok.refresh_token_id, tok.code_id, tok.access_type),
        (Some(rt.id), Some(code.id), AccessType::Offline)
    );
    let rt2 = store
        .find_refresh_token(&SecretHash::of(r.as_deref().unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rt2.last_used_at, at(100));
    assert_eq!(
        store
            .find_grant(&ada.sub, &p.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        at(100)
    );

    // Within a minute of the last recorded use, a refresh stores its token but leaves
    // `last_used_at` alone; after that, it records the use again.
    for (t, recorded) in [(130, 100), (159, 100), (160, 160)] {
        let (a, new) = access(7200);
        assert!(
            store
                .insert_refreshed_access_token(&rt2, new, at(t))
                .await
                .unwrap()
                .is_some()
        );
        assert!(access_live(&*store, &a).await);
        let rt_now = store
            .find_refresh_token(&SecretHash::of(r.as_deref().unwrap()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rt_now.last_used_at, at(recorded), "refresh at {t}");
        let grant = store.find_grant(&ada.sub, &p.id).await.unwrap().unwrap();
        assert_eq!(grant.last_used_at, at(recorded), "refresh at {t}");
    }

    // Once the grant is revoked, a refresh that read the token just before cannot store anything.
    assert!(store.delete_grant(rt.grant_id).await.unwrap());
    let (a3, new) = access(7200);
    assert_eq!(
        store
            .insert_refreshed_access_token(&rt, new, at(200))
            .await
            .unwrap(),
        None
    );
    assert!(!access_live(&*store, &a3).await);
    assert!(!access_live(&*store, &a).await);
}

/// Revoking a grant removes every code and token of every client of the project for that
/// user, and nothing of anyone else's.
pub async fn revoking_a_grant_removes_everything_under_it(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let bob = user(&*store, "bob").await;
    let p = project(&*store, "Revoke").await;
    let (c1, _) = client(&*store, &p).await;
    let (c2, _) = client(&*store, &p).await;
    let (_, a1, r1) = redeem(
        &*store,
        &code(&*store, &ada, &c1, true).await,
        RefreshTokenLimits::default(),
    )
    .await;
    let (_, a2, r2) = redeem(
        &*store,
        &code(&*store, &ada, &c2, true).await,
        RefreshTokenLimits::default(),
    )
    .await;
    let (pending, pending_text) = code_with_text(&*store, &ada, &c1, false).await;
    let (_, b1, _) = redeem(
        &*store,
        &code(&*store, &bob, &c1, false).await,
        RefreshTokenLimits::default(),
    )
    .await;
    let grant = store.find_grant(&ada.sub, &p.id).await.unwrap().unwrap();
    assert!(store.delete_grant(grant.id).await.unwrap());
    for a in [&a1, &a2] {
        assert!(!access_live(&*store, a).await);
    }
    for r in [r1, r2] {
        assert!(!refresh_live(&*store, &r.unwrap()).await);
    }
    assert!(
        store
            .find_code(&SecretHash::of(&pending_text))
            .await
            .unwrap()
            .is_none()
    );
    let (late, late_a, _) = redeem(&*store, &pending, RefreshTokenLimits::default()).await;
    assert_eq!(
        late,
        Redemption::AlreadyUsed,
        "a code of a revoked grant cannot be redeemed"
    );
    assert!(!access_live(&*store, &late_a).await);
    assert!(
        access_live(&*store, &b1).await,
        "other users keep their tokens"
    );
    assert!(store.find_grant(&ada.sub, &p.id).await.unwrap().is_none());
    assert!(!store.delete_grant(grant.id).await.unwrap());
    let refused = store.insert_code(
        NewCode {
            hash: SecretKind::AuthorizationCode.generate().hash(),
            grant_id: grant.id,
            client_id: c1.client_id.clone(),
            sub: ada.sub.clone(),
            redirect_uri: c1.redirect_uris[0].clone(),
            scopes: scopes("openid"),
            access_type: AccessType::Online,
            issue_refresh_token: false,
            pkce: None,
            nonce: None,
            auth_time: T0,
            expires_at: at(600),
        },
        T0,
    );
    assert!(matches!(refused.await, Err(StoreError::Missing(_))));
}

/// Tokens of a disabled client are not found; enabling it again restores them.
pub async fn disabled_clients_tokens_do_not_validate(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Disabled").await;
    let (c, _) = client(&*store, &p).await;
    let (_, a, r) = redeem(
        &*store,
        &code(&*store, &ada, &c, true).await,
        RefreshTokenLimits::default(),
    )
    .await;
    let off = ClientUpdate {
        enabled: Some(false),
        ..Default::default()
    };
    store.update_client(&c.client_id, off).await.unwrap();
    assert!(!access_live(&*store, &a).await);
    assert!(!refresh_live(&*store, r.as_deref().unwrap()).await);
    let on = ClientUpdate {
        enabled: Some(true),
        ..Default::default()
    };
    store.update_client(&c.client_id, on).await.unwrap();
    assert!(access_live(&*store, &a).await);
}

/// Expired rows are purged; used codes are kept for the retention period.
pub async fn expired_rows_are_purged(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Purge").await;
    let (c, _) = client(&*store, &p).await;
    let (code, text) = code_with_text(&*store, &ada, &c, false).await;
    let (_, a, _) = redeem(&*store, &code, RefreshTokenLimits::default()).await;
    let session = SecretKind::Session.generate();
    store
        .insert_session(session.hash(), T0, at(60))
        .await
        .unwrap();
    // Before anything expires nothing goes.
    assert_eq!(store.delete_expired(at(59), 1800).await.unwrap(), 0);
    assert_eq!(
        store.delete_expired(at(601), 1800).await.unwrap(),
        1,
        "only the session has expired"
    );
    assert!(
        store
            .find_code(&SecretHash::of(&text))
            .await
            .unwrap()
            .is_some(),
        "the used code is kept for replay detection"
    );
    assert_eq!(store.delete_expired(at(2399), 1800).await.unwrap(), 0);
    assert!(access_live(&*store, &a).await);
    assert_eq!(
        store.delete_expired(at(600 + 1800), 1800).await.unwrap(),
        1,
        "the code, past retention"
    );
    assert!(
        store
            .find_code(&SecretHash::of(&text))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.delete_expired(at(3600), 1800).await.unwrap(),
        1,
        "the access token"
    );
    assert!(!access_live(&*store, &a).await);
}

/// Browser sessions hold several accounts in a stable order.
pub async fn sessions(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let bob = user(&*store, "bob").await;
    let cookie = SecretKind::Session.generate();
    let id = store
        .insert_session(cookie.hash(), T0, at(3600))
        .await
        .unwrap();
    let s = store
        .find_session(&cookie.hash(), T0)
        .await
        .unwrap()
        .unwrap();
    assert!(s.accounts.is_empty());
    assert_eq!((s.id, s.created_at, s.expires_at), (id, T0, at(3600)));
    assert_eq!(
        store
            .insert_session_account(id, &ada.sub, at(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .insert_session_account(id, &bob.sub, at(2))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .insert_session_account(id, &ada.sub, at(3))
            .await
            .unwrap(),
        0,
        "signing in again keeps the index"
    );
    let s = store
        .find_session(&cookie.hash(), at(4))
        .await
        .unwrap()
        .unwrap();
    let accounts: Vec<_> = s
        .accounts
        .iter()
        .map(|a| (a.sub.clone(), a.authuser, a.signed_in_at))
        .collect();
    assert_eq!(
        accounts,
        vec![(ada.sub.clone(), 0, at(3)), (bob.sub.clone(), 1, at(2))]
    );
    assert!(
        store
            .find_session(&cookie.hash(), at(3600))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .find_session(&SecretHash::of("kwss_other"), T0)
            .await
            .unwrap()
            .is_none()
    );

    let rotated = SecretKind::Session.generate();
    assert!(
        store
            .update_session_id(&cookie.hash(), rotated.hash())
            .await
            .unwrap()
    );
    assert!(
        store
            .find_session(&cookie.hash(), T0)
            .await
            .unwrap()
            .is_none(),
        "the old id is dead"
    );
    assert_eq!(
        store
            .find_session(&rotated.hash(), T0)
            .await
            .unwrap()
            .unwrap()
            .accounts
            .len(),
        2
    );

    let other = SecretKind::Session.generate();
    let id2 = store
        .insert_session(other.hash(), T0, at(3600))
        .await
        .unwrap();
    store
        .insert_session_account(id2, &ada.sub, T0)
        .await
        .unwrap();
    assert_eq!(
        store.delete_user_sessions(&ada.sub).await.unwrap(),
        2,
        "signed out everywhere"
    );
    let left = store
        .find_session(&rotated.hash(), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left.accounts
            .iter()
            .map(|a| a.sub.clone())
            .collect::<Vec<_>>(),
        vec![bob.sub.clone()]
    );
    assert!(store.delete_session(&rotated.hash()).await.unwrap());
    assert!(
        store
            .find_session(&rotated.hash(), T0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.delete_session(&rotated.hash()).await.unwrap());
    let unknown = store.insert_session_account(999_999, &ada.sub, T0).await;
    assert!(
        matches!(unknown, Err(StoreError::Missing(_))),
        "{unknown:?}"
    );
}

/// Signing keys are kept for every replica; retiring one keeps it published.
pub async fn signing_keys(store: Arc<dyn Store>) {
    let key = |kid: &str, created: i64| SigningKey {
        kid: kid.into(),
        algorithm: "RS256".into(),
        private_key_der: vec![1, 2, 3],
        public_key_der: vec![4, 5, 6],
        created_at: at(created),
        retired_at: None,
    };
    store.insert_signing_key(&key("k1", 0)).await.unwrap();
    store.insert_signing_key(&key("k2", 10)).await.unwrap();
    assert!(matches!(
        store.insert_signing_key(&key("k1", 20)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .update_signing_key_retired("k1", at(30))
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_signing_key_retired("k1", at(40))
            .await
            .unwrap(),
        "already retired"
    );
    let keys = store.list_signing_keys().await.unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| (k.kid.as_str(), k.retired_at))
            .collect::<Vec<_>>(),
        [("k2", None), ("k1", Some(at(30)))]
    );
    assert_eq!(keys[0].private_key_der, vec![1, 2, 3]);
    assert_eq!(keys[0].public_key_der, vec![4, 5, 6]);
}

/// A fresh random pending-request handle hash.
fn handle() -> SecretHash {
    SecretHash::from_bytes(keyway_core::secret::random_bytes())
}

/// Pending authorization requests round-trip, expire, record the chosen account, end once
/// (even when many callers race), and end with their browser session.
pub async fn pending_requests(store: Arc<dyn Store>) {
    let ada = user(&*store, "ada").await;
    let cookie = SecretKind::Session.generate();
    let session = store
        .insert_session(cookie.hash(), T0, at(3600))
        .await
        .unwrap();
    let new = |handle_hash: SecretHash, session_id: i64, expires: i64| NewPending {
        handle_hash,
        csrf_hash: SecretKind::Csrf.generate().hash(),
        session_id,
        sub: None,
        request_json: r#"{"client_id":"web","scope":"openid email","state":"é \"x\""}"#.into(),
        expires_at: at(expires),
    };

    let h1 = handle();
    let wanted = new(h1, session, 600);
    let p = store.insert_pending(wanted.clone(), at(1)).await.unwrap();
    assert_eq!(
        (
            p.handle_hash,
            p.csrf_hash,
            p.session_id,
            p.request_json.as_str(),
            p.sub.clone(),
            p.created_at,
            p.expires_at,
        ),
        (
            h1,
            wanted.csrf_hash,
            session,
            wanted.request_json.as_str(),
            None,
            at(1),
            at(600),
        )
    );
    assert_eq!(
        store.find_pending(&h1, at(599)).await.unwrap(),
        Some(p.clone()),
        "every field round-trips"
    );
    assert!(
        store.find_pending(&h1, at(600)).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.find_pending(&handle(), T0).await.unwrap().is_none());
    let dup = store.insert_pending(new(h1, session, 600), T0).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    // A flow that knows its account from the start stores it with the request.
    let h0 = handle();
    let known = store
        .insert_pending(
            NewPending {
                sub: Some(ada.sub.clone()),
                ..new(h0, session, 600)
            },
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(known.sub.as_ref(), Some(&ada.sub));
    assert_eq!(store.find_pending(&h0, at(2)).await.unwrap(), Some(known));
    assert!(store.delete_pending(&h0).await.unwrap());

    assert!(store.update_pending_account(&h1, &ada.sub).await.unwrap());
    let chosen = store.find_pending(&h1, at(2)).await.unwrap().unwrap();
    assert_eq!(chosen.sub.as_ref(), Some(&ada.sub));
    assert_eq!(
        PendingAuthorization {
            sub: None,
            ..chosen
        },
        p,
        "nothing else changed"
    );
    assert!(
        !store
            .update_pending_account(&handle(), &ada.sub)
            .await
            .unwrap()
    );

    let orphan = store.insert_pending(new(handle(), 999_999, 600), T0).await;
    assert!(
        matches!(orphan, Err(StoreError::Missing("session"))),
        "{orphan:?}"
    );

    assert!(store.delete_pending(&h1).await.unwrap());
    assert!(!store.delete_pending(&h1).await.unwrap(), "already ended");
    assert!(store.find_pending(&h1, at(2)).await.unwrap().is_none());

    // A double (octuple) submit: exactly one caller may issue a code.
    for _round in 0..3 {
        let h = handle();
        store
            .insert_pending(new(h, session, 600), T0)
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.delete_pending(&h).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 1);
    }

    // Ending the session (signing out) ends its flows, and only its own.
    let (h2, h3) = (handle(), handle());
    for h in [h2, h3] {
        store
            .insert_pending(new(h, session, 600), T0)
            .await
            .unwrap();
    }
    let other_cookie = SecretKind::Session.generate();
    let other = store
        .insert_session(other_cookie.hash(), T0, at(7200))
        .await
        .unwrap();
    let (h4, h5) = (handle(), handle());
    store
        .insert_pending(new(h4, other, 3600), T0)
        .await
        .unwrap();
    store.insert_pending(new(h5, other, 600), T0).await.unwrap();
    assert!(store.delete_session(&cookie.hash()).await.unwrap());
    for h in [h2, h3] {
        assert!(store.find_pending(&h, T0).await.unwrap().is_none());
        assert!(
            !store.delete_pending(&h).await.unwrap(),
            "gone with its session"
        );
    }
    assert!(store.find_pending(&h4, T0).await.unwrap().is_some());

    // Expired requests are purged with the other expired rows, and counted.
    assert_eq!(store.delete_expired(at(599), 1800).await.unwrap(), 0);
    assert_eq!(store.delete_expired(at(600), 1800).await.unwrap(), 1);
    assert!(!store.delete_pending(&h5).await.unwrap(), "purged");
    assert!(store.find_pending(&h4, at(600)).await.unwrap().is_some());
}

/// Sign-in failures are counted per key over a window, concurrent ones all count, a success
/// forgets them, and the sweep drops those older than a day.
pub async fn signin_failures_are_counted(store: Arc<dyn Store>) {
    let ada = "account:ada@example.com";
    let ip = "ip:192.0.2.1";
    assert_eq!(store.count_failures(ada, T0).await.unwrap(), 0);
    assert_eq!(store.insert_failure(ada, T0, at(-900)).await.unwrap(), 1);
    assert_eq!(
        store.insert_failure(ada, at(10), at(-890)).await.unwrap(),
        2
    );
    assert_eq!(
        store.insert_failure(ada, at(20), at(15)).await.unwrap(),
        1,
        "only failures inside the window count"
    );
    assert_eq!(store.count_failures(ada, T0).await.unwrap(), 3);
    assert_eq!(
        store.count_failures(ada, at(10)).await.unwrap(),
        2,
        "at or after"
    );
    assert_eq!(store.count_failures(ada, at(21)).await.unwrap(), 0);
    assert_eq!(store.insert_failure(ip, T0, T0).await.unwrap(), 1);
    assert_eq!(
        store.count_failures(ada, T0).await.unwrap(),
        3,
        "keys are separate"
    );

    // Failures arriving together (a password-guessing burst) are all counted, none lost.
    let race = "account:race@example.com";
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_failure(race, at(100), T0).await.unwrap() })
        })
        .collect();
    let mut returned = Vec::new();
    for t in tasks {
        returned.push(t.await.unwrap());
    }
    assert_eq!(store.count_failures(race, T0).await.unwrap(), 20);
    assert_eq!(returned.iter().max(), Some(&20), "{returned:?}");
    assert!(
        returned.iter().all(|n| (1..=20).contains(n)),
        "{returned:?}"
    );

    store.delete_failures(ada).await.unwrap();
    assert_eq!(store.count_failures(ada, T0).await.unwrap(), 0, "reset");
    assert_eq!(store.count_failures(ip, T0).await.unwrap(), 1);
    assert_eq!(store.count_failures(race, T0).await.unwrap(), 20);
    store
        .delete_failures("account:nobody@example.com")
        .await
        .unwrap();
    assert_eq!(store.insert_failure(ada, at(30), T0).await.unwrap(), 1);

    // Failures older than a day go with the expired rows.
    assert_eq!(store.delete_expired(at(86_400), 1800).await.unwrap(), 0);
    assert_eq!(
        store.delete_expired(at(86_401), 1800).await.unwrap(),
        1,
        "the failure at T0"
    );
    assert_eq!(store.count_failures(ip, at(-1)).await.unwrap(), 0);
    assert_eq!(store.delete_expired(at(86_430), 1800).await.unwrap(), 0);
    assert_eq!(store.delete_expired(at(86_431), 1800).await.unwrap(), 1);
    assert_eq!(store.count_failures(ada, T0).await.unwrap(), 0);
    assert_eq!(store.delete_expired(at(86_500), 1800).await.unwrap(), 0);
    assert_eq!(store.delete_expired(at(86_501), 1800).await.unwrap(), 20);
    assert_eq!(store.count_failures(race, T0).await.unwrap(), 0);
}

/// Organizations are found by domain and keep their policy.
pub async fn organization_policies(store: Arc<dyn Store>) {
    let org = store
        .upsert_organization("corp.example.com", "Corp", T0)
        .await
        .unwrap();
    assert!(org.blocked_scopes.is_empty() && org.blocked_clients.is_empty());
    assert_eq!(
        store
            .find_organization_by_domain("corp.example.com")
            .await
            .unwrap(),
        Some(org.clone())
    );
    assert!(
        store
            .find_organization_by_domain("other.example.com")
            .await
            .unwrap()
            .is_none()
    );
    let blocked = scopes("https://www.googleapis.com/auth/drive openid");
    let clients = vec![
        ClientId::parse("1-a.apps.keyway.test").unwrap(),
        ClientId::parse("2-b.apps.keyway.test").unwrap(),
    ];
    assert!(
        store
            .update_organization_policy(org.id, &blocked, &clients)
            .await
            .unwrap()
    );
    let found = store.find_organization(org.id).await.unwrap().unwrap();
    assert_eq!(
        (found.blocked_scopes, found.blocked_clients),
        (blocked, clients)
    );
    assert!(
        !store
            .update_organization_policy(999_999, &ScopeSet::default(), &[])
            .await
            .unwrap()
    );
    store
        .upsert_organization("a.example.com", "A", T0)
        .await
        .unwrap();
    let listed = store.list_organizations().await.unwrap();
    assert_eq!(
        listed.iter().map(|o| o.domain.as_str()).collect::<Vec<_>>(),
        ["a.example.com", "corp.example.com"]
    );
}
