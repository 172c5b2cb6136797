//! PostgreSQL-specific checks: URL handling, secrecy of the password, migrations racing, and the
//! concurrency guarantees that matter when many replicas share one database. The behaviour
//! every store shares is tested by the conformance suite in `keyway-testkit`.
//!
//! Tests needing a server run against `KEYWAY_TEST_DATABASE_URL`, each in a database of its
//! own, and are skipped when the variable is unset.

use std::sync::Arc;

use keyway_core::client::NewClient;
use keyway_core::grant::{
    AccessType, AuthorizationCode, NewAccessToken, NewCode, Redemption, RefreshTokenLimits,
};
use keyway_core::ids::{ClientId, Email, ProjectId, Subject};
use keyway_core::password::PasswordHash;
use keyway_core::pending::NewPending;
use keyway_core::project::{Audience, ConsentScreen, Project, Verification};
use keyway_core::redirect_uri::RedirectUri;
use keyway_core::scope::ScopeSet;
use keyway_core::secret::{SecretHash, SecretKind, random_bytes};
use keyway_core::store::{
    ClientStore, GrantStore, PendingStore, ProjectStore, ScopeStore, SessionStore, Store,
    StoreError, ThrottleStore, UserStore,
};
use keyway_core::user::{NewUser, User};
use keyway_core::{OAuthClient, Timestamp};
use keyway_store_postgres::{
    LATEST_VERSION, PostgresStore, create_database, database_url_with_name, drop_database,
};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn admin_url() -> Option<String> {
    std::env::var("KEYWAY_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A database of its own, dropped when the test ends (even by panicking).
struct Db {
    admin: String,
    name: String,
    url: String,
}

impl Db {
    async fn new() -> Option<Self> {
        let admin = admin_url()?;
        let name = format!(
            "keyway_pgtest_{}",
            random_bytes::<6>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        create_database(&admin, &name)
            .await
            .expect("create test database");
        let url = database_url_with_name(&admin, &name);
        Some(Self { admin, name, url })
    }

    async fn store(&self) -> Arc<PostgresStore> {
        Arc::new(PostgresStore::open(&self.url).await.expect("open store"))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(drop_database(&admin, &name))
                .expect("drop test database");
        })
        .join();
    }
}

macro_rules! db_or_skip {
    () => {
        match Db::new().await {
            Some(db) => db,
            None => {
                eprintln!("skipped: KEYWAY_TEST_DATABASE_URL is not set");
                return;
            }
        }
    };
}

async fn user(store: &dyn Store, name: &str) -> User {
    store
        .insert_user(
            NewUser {
                sub: Subject::generate(),
                email: Email::parse(&format!("{name}@example.com")).unwrap(),
                email_verified: true,
                name: name.into(),
                password_hash: PasswordHash::from_stored("$argon2id$stub".into()),
            },
            T0,
        )
        .await
        .unwrap()
}

async fn project(store: &dyn Store, name: &str) -> Project {
    let p = Project {
        id: ProjectId::from_name(name),
        name: name.into(),
        consent: ConsentScreen {
            app_name: name.into(),
            support_email: Email::parse("support@example.com").unwrap(),
            logo_url: None,
            audience: Audience::External,
            verification: Verification::Unverified,
        },
        owned_domains: vec!["example.com".into()],
        created_at: T0,
    };
    store.insert_project(&p).await.unwrap();
    p
}

async fn client(store: &dyn Store, p: &Project) -> OAuthClient {
    store
        .insert_client(
            NewClient {
                client_id: ClientId::generate("apps.keyway.test"),
                project_id: p.id.clone(),
                name: "web".into(),
                redirect_uris: vec![RedirectUri::from_stored(
                    "https://app.example.com/cb".into(),
                )],
                javascript_origins: vec![],
                secret_hash: SecretHash::of("kwcs_first"),
                secret_hint: "irst".into(),
            },
            T0,
        )
        .await
        .unwrap()
}

async fn code(store: &dyn Store, u: &User, c: &OAuthClient) -> AuthorizationCode {
    let grant = store
        .upsert_grant(
            &u.sub,
            &c.project_id,
            &ScopeSet::parse("openid").unwrap(),
            T0,
        )
        .await
        .unwrap();
    store
        .insert_code(
            NewCode {
                hash: SecretKind::AuthorizationCode.generate().hash(),
                grant_id: grant.id,
                client_id: c.client_id.clone(),
                sub: u.sub.clone(),
                redirect_uri: c.redirect_uris[0].clone(),
                scopes: ScopeSet::parse("openid").unwrap(),
                access_type: AccessType::Offline,
                issue_refresh_token: true,
                pkce: None,
                nonce: None,
                auth_time: T0,
                expires_at: Timestamp::from_unix(T0.as_unix() + 600),
            },
            T0,
        )
        .await
        .unwrap()
}

async fn redeem(
    store: &dyn Store,
    c: &AuthorizationCode,
    limits: RefreshTokenLimits,
    with_refresh: bool,
) -> Result<Redemption, StoreError> {
    let access = new_access();
    let refresh = with_refresh.then(|| SecretKind::RefreshToken.generate().hash());
    store.redeem_code(c, access, refresh, limits, T0).await
}

fn new_access() -> NewAccessToken {
    NewAccessToken {
        hash: SecretKind::AccessToken.generate().hash(),
        scopes: ScopeSet::parse("openid").unwrap(),
        expires_at: Timestamp::from_unix(T0.as_unix() + 3600),
    }
}

#[test]
fn url_with_name_replaces_only_the_path() {
    assert_eq!(
        database_url_with_name("postgres://postgres@127.0.0.1:5432/test", "kw_1"),
        "postgres://postgres@127.0.0.1:5432/kw_1"
    );
    assert_eq!(
        database_url_with_name("postgres://u:p@db:5432/keyway?sslmode=require", "run_1"),
        "postgres://u:p@db:5432/run_1?sslmode=require"
    );
    assert_eq!(
        database_url_with_name("postgres://localhost", "x"),
        "postgres://localhost/x"
    );
    assert_eq!(
        database_url_with_name("postgres://h:1/?sslmode=disable", "x"),
        "postgres://h:1/x?sslmode=disable"
    );
    assert_eq!(
        database_url_with_name("postgresql://a:b@h/a/b?c=d#f", "x"),
        "postgresql://a:b@h/x?c=d#f"
    );
}

#[tokio::test]
async fn database_names_are_checked_before_connecting() {
    // The admin URL is unreachable: only the name check can answer this quickly.
    for bad in ["", "A", "a-b", "a\"b", "a b", "x;drop", &"a".repeat(64)] {
        for result in [
            create_database("postgres://nobody@127.0.0.1:1/x", bad).await,
            drop_database("postgres://nobody@127.0.0.1:1/x", bad).await,
        ] {
            let Err(StoreError::Internal(message)) = result else {
                panic!("{bad:?} accepted: {result:?}")
            };
            assert!(message.contains("invalid database name"), "{message}");
        }
    }
}

#[tokio::test]
async fn connect_errors_never_show_the_password() {
    let err = PostgresStore::connect("postgres://keyway:hunter2-s3cret@127.0.0.1:1/keyway")
        .await
        .expect_err("nothing listens on port 1");
    let StoreError::Unavailable(message) = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("postgres://keyway@127.0.0.1:1/keyway"),
        "{message}"
    );
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");

    let err = PostgresStore::connect("postgres://keyway:hunter2-s3cret@127.0.0.1:notaport/keyway")
        .await
        .expect_err("malformed");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
}

#[tokio::test]
async fn debug_never_shows_the_password() {
    let db = db_or_skip!();
    // The test server trusts local connections, so the password is accepted and ignored.
    let (scheme, rest) = db.url.split_once("://").unwrap();
    let Some((user, host)) = rest.split_once('@').filter(|(user, _)| !user.contains(':')) else {
        eprintln!("skipped: the test URL has no user, or a password already");
        return;
    };
    let with_password = format!("{scheme}://{user}:hunter2-s3cret@{host}");
    let Ok(store) = PostgresStore::open(&with_password).await else {
        eprintln!("skipped: the server wants the real password");
        return;
    };
    let debug = format!("{store:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert_eq!(store.backend(), "postgres");
    store.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let db = db_or_skip!();
    let stores: Vec<_> = futures_join(
        (0..6)
            .map(|_| {
                let url = db.url.clone();
                tokio::spawn(async move {
                    let store = PostgresStore::connect(&url).await.unwrap();
                    let applied = store.migrate().await.unwrap();
                    (store, applied)
                })
            })
            .collect(),
    )
    .await;
    let applied: usize = stores.iter().map(|(_, n)| n).sum();
    assert_eq!(
        applied,
        usize::try_from(LATEST_VERSION).unwrap(),
        "each migration ran once in all"
    );
    for (store, _) in &stores {
        assert_eq!(store.schema_version().await.unwrap(), LATEST_VERSION);
        assert_eq!(store.migrate().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let db = db_or_skip!();
    let fresh = PostgresStore::connect(&db.url).await.unwrap();
    assert_eq!(
        fresh.schema_version().await.unwrap(),
        0,
        "reading the version creates nothing"
    );
    let store = db.store().await;
    assert_eq!(store.schema_version().await.unwrap(), LATEST_VERSION);
    // Pretend a newer build migrated this database.
    exec(
        &db.url,
        "INSERT INTO keyway_schema_migrations VALUES (999, 'future', 0)",
    )
    .await;
    let err = PostgresStore::open(&db.url).await.expect_err("refused");
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 999,
                known: LATEST_VERSION
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_for_one_user_respect_the_limits() {
    let db = db_or_skip!();
    let store = db.store().await;
    let ada = user(&*store, "ada").await;
    // Per-user limit across projects: different grants, so only the user's lock orders them.
    let limits = RefreshTokenLimits {
        per_client: 100,
        per_user: 3,
    };
    let mut codes = Vec::new();
    for i in 0..8 {
        let p = project(&*store, &format!("Limits {i}")).await;
        let c = client(&*store, &p).await;
        for _ in 0..2 {
            codes.push(code(&*store, &ada, &c).await);
        }
    }
    let outcomes = futures_join(
        codes
            .into_iter()
            .map(|code| {
                let store = store.clone();
                tokio::spawn(async move { redeem(&*store, &code, limits, true).await })
            })
            .collect(),
    )
    .await;
    for o in &outcomes {
        assert!(
            matches!(
                o,
                Ok(Redemption::Redeemed {
                    refresh_token_id: Some(_),
                    ..
                })
            ),
            "{o:?}"
        );
    }
    let live = count(&db.url, "SELECT COUNT(*) FROM refresh_tokens").await;
    assert_eq!(live, 3, "exactly the per-user limit survives");
    // The survivors are the newest three issued.
    let mut ids: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| match o {
            Ok(Redemption::Redeemed {
                refresh_token_id, ..
            }) => *refresh_token_id,
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    let newest = &ids[ids.len() - 3..];
    let kept = count(
        &db.url,
        &format!(
            "SELECT COUNT(*) FROM refresh_tokens WHERE id IN ({}, {}, {})",
            newest[0], newest[1], newest[2]
        ),
    )
    .await;
    assert_eq!(kept, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consents_never_lose_a_scope() {
    let db = db_or_skip!();
    let store = db.store().await;
    let ada = user(&*store, "ada").await;
    let p = project(&*store, "Consent").await;
    let all = [
        "openid", "email", "profile", "a.one", "b.two", "c.three", "d.four", "e.five",
    ];
    for round in 0..3 {
        let p = if round == 0 {
            p.clone()
        } else {
            project(&*store, &format!("Consent {round}")).await
        };
        let results = futures_join(
            all.iter()
                .map(|s| {
                    let (store, sub, pid) = (store.clone(), ada.sub.clone(), p.id.clone());
                    let scopes = ScopeSet::parse(&format!("openid {s}")).unwrap();
                    tokio::spawn(async move { store.upsert_grant(&sub, &pid, &scopes, T0).await })
                })
                .collect(),
        )
        .await;
        let ids: Vec<i64> = results.into_iter().map(|g| g.unwrap().id).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "one grant: {ids:?}");
        let grant = store.find_grant(&ada.sub, &p.id).await.unwrap().unwrap();
        assert_eq!(grant.scopes, ScopeSet::parse(&all.join(" ")).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_ins_get_distinct_authuser_indexes() {
    let db = db_or_skip!();
    let store = db.store().await;
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(user(&*store, &format!("u{i}")).await);
    }
    let cookie = SecretKind::Session.generate();
    let session = store
        .insert_session(cookie.hash(), T0, Timestamp::from_unix(T0.as_unix() + 3600))
        .await
        .unwrap();
    let indexes = futures_join(
        users
            .iter()
            .map(|u| {
                let (store, sub) = (store.clone(), u.sub.clone());
                tokio::spawn(async move {
                    store
                        .insert_session_account(session, &sub, T0)
                        .await
                        .unwrap()
                })
            })
            .collect(),
    )
    .await;
    let mut sorted = indexes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..8).collect::<Vec<u32>>(), "{indexes:?}");
    let s = store
        .find_session(&cookie.hash(), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.accounts.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_secret_deletes_keep_the_last_one() {
    let db = db_or_skip!();
    let store = db.store().await;
    let p = project(&*store, "Secrets").await;
    for _ in 0..5 {
        let c = client(&*store, &p).await;
        let second = store
            .insert_client_secret(&c.client_id, SecretHash::of("kwcs_second"), "cond", T0)
            .await
            .unwrap();
        let ids = [c.secrets[0].id, second.id];
        let results = futures_join(
            ids.iter()
                .map(|&id| {
                    let (store, cid) = (store.clone(), c.client_id.clone());
                    tokio::spawn(async move { store.delete_client_secret(&cid, id).await })
                })
                .collect(),
        )
        .await;
        let deleted = results.iter().filter(|r| matches!(r, Ok(true))).count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!((deleted, refused), (1, 1), "{results:?}");
        let left = store.find_client(&c.client_id).await.unwrap().unwrap();
        assert_eq!(left.secrets.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redemptions_racing_revocations_never_fail() {
    // Revocations cascade into the rows a redemption writes; whatever the interleaving, the
    // redemption either finishes first or finds its grant gone, and never deadlocks or errs.
    let db = db_or_skip!();
    let store = db.store().await;
    let p = project(&*store, "Revoke race").await;
    let limits = RefreshTokenLimits {
        per_client: 2,
        per_user: 2,
    };
    for round in 0..12 {
        let c = client(&*store, &p).await;
        let u = user(&*store, &format!("r{round}")).await;
        let mut codes = Vec::new();
        for _ in 0..8 {
            codes.push(code(&*store, &u, &c).await);
        }
        let grant_id = codes[0].grant_id;
        // A refresh token in use while the revocation runs.
        let refresh = SecretKind::RefreshToken.generate().hash();
        let first = code(&*store, &u, &c).await;
        store
            .redeem_code(&first, new_access(), Some(refresh), limits, T0)
            .await
            .unwrap();
        let rt = store.find_refresh_token(&refresh).await.unwrap().unwrap();
        let mut tasks: Vec<tokio::task::JoinHandle<Result<(), StoreError>>> = Vec::new();
        for (i, code) in codes.into_iter().enumerate() {
            let (s, rt) = (store.clone(), rt.clone());
            tasks.push(tokio::spawn(async move {
                s.insert_refreshed_access_token(&rt, new_access(), T0)
                    .await
                    .map(drop)
            }));
            let s = store.clone();
            // Online redemptions take no user lock: only the grant and client locks order them.
            tasks.push(tokio::spawn(async move {
                redeem(&*s, &code, limits, i % 2 == 0).await.map(drop)
            }));
            if i == 3 {
                let (s, sub, cid) = (store.clone(), u.sub.clone(), c.client_id.clone());
                tasks.push(tokio::spawn(async move {
                    match round % 3 {
                        0 => s.delete_grant(grant_id).await.map(drop),
                        1 => s.update_user_disabled(&sub, true).await.map(drop),
                        _ => s.delete_client(&cid).await.map(drop),
                    }
                }));
            }
        }
        for r in futures_join(tasks).await {
            r.expect("no deadlock, no error");
        }
        // Nothing outlives the revocation.
        let left = count(
            &db.url,
            &format!(
                "SELECT (SELECT COUNT(*) FROM access_tokens WHERE sub = '{0}')
                      + (SELECT COUNT(*) FROM refresh_tokens WHERE sub = '{0}')",
                u.sub.as_str()
            ),
        )
        .await;
        assert_eq!(left, 0);
    }
}

#[tokio::test]
async fn owned_domains_and_uri_lists_round_trip() {
    let db = db_or_skip!();
    let store = db.store().await;
    let mut p = project(&*store, "Arrays").await;
    p.owned_domains = vec![
        "a.example".into(),
        "b example".into(),
        String::new(),
        "c,\"d\"".into(),
    ];
    assert!(store.update_project(&p).await.unwrap());
    assert_eq!(store.find_project(&p.id).await.unwrap().unwrap(), p);
    let c = client(&*store, &p).await;
    let found = store.find_client(&c.client_id).await.unwrap().unwrap();
    assert_eq!(found.redirect_uris, c.redirect_uris);
    assert!(found.javascript_origins.is_empty());
    assert_eq!(found.secrets.len(), 1);
    assert!(found.secret_matches("kwcs_first"));
    let hits = store
        .find_scopes(&ScopeSet::parse("openid").unwrap())
        .await
        .unwrap();
    assert!(hits.is_empty(), "empty catalogue");
}

/// Stores on pools of their own: replicas sharing the database.
async fn replicas(db: &Db, n: usize) -> Vec<Arc<PostgresStore>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(db.store().await);
    }
    out
}

fn new_pending(session_id: i64, expires: i64) -> NewPending {
    NewPending {
        handle_hash: SecretHash::from_bytes(random_bytes()),
        csrf_hash: SecretKind::Csrf.generate().hash(),
        session_id,
        sub: None,
        request_json: "{}".into(),
        expires_at: Timestamp::from_unix(T0.as_unix() + expires),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_many_replicas_are_all_counted() {
    let db = db_or_skip!();
    let stores = replicas(&db, 4).await;
    let key = "account:ada@example.com";
    let returned = futures_join(
        (0..24)
            .map(|i| {
                let store = stores[i % stores.len()].clone();
                tokio::spawn(async move { store.insert_failure(key, T0, T0).await.unwrap() })
            })
            .collect(),
    )
    .await;
    let mut sorted = returned.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (1..=24).collect::<Vec<u32>>(),
        "each failure counted after the ones before it: {returned:?}"
    );
    assert_eq!(stores[0].count_failures(key, T0).await.unwrap(), 24);
    assert_eq!(
        stores[1].count_failures("ip:192.0.2.1", T0).await.unwrap(),
        0
    );
}

/// Runs `future` until it has been pending `pendings + 1` times, then drops it: the way a
/// handler is dropped at whatever `.await` it reached when its client disconnects.
async fn cancel_at_pending<F: std::future::Future>(
    future: F,
    pendings: usize,
) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut seen = 0;
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending if seen == pendings => std::task::Poll::Ready(None),
        std::task::Poll::Pending => {
            seen += 1;
            std::task::Poll::Pending
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_cancelled_at_any_await_leave_no_transaction_open() {
    // At the end of a load run every request in flight is dropped. A write dropped while its
    // `BEGIN` was on the wire must not hand the connection back to the pool inside that
    // transaction: the next borrower's statements would run in it, uncommitted, holding locks.
    let db = db_or_skip!();
    let store = db.store().await;
    store.ping().await.unwrap();
    let in_transaction = format!(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = '{}' AND state LIKE 'idle in transaction%'",
        db.name
    );
    let mut cancelled = 0;
    for pendings in 0..12 {
        for i in 0..4 {
            let key = format!("account:{pendings}.{i}@example.com");
            let write = store.insert_failure(&key, T0, T0);
            if cancel_at_pending(write, pendings).await.is_some() {
                continue;
            }
            cancelled += 1;
            // The dropped connection goes back to the pool through a task of its own.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let open = count(&db.admin, &in_transaction).await;
            assert_eq!(
                open, 0,
                "a write dropped after {pendings} pending polls left its connection in a transaction"
            );
        }
    }
    assert!(
        cancelled >= 8,
        "only {cancelled} writes were dropped mid-way"
    );
    // Every pooled connection commits what it is given: 32 writes at once, seen from outside.
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..32 {
        let store = store.clone();
        writes.spawn(async move {
            store
                .insert_failure(&format!("after:{i}@example.com"), T0, T0)
                .await
        });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap().unwrap();
    }
    let seen = count(
        &db.url,
        "SELECT COUNT(*) FROM signin_failures WHERE key LIKE 'after:%'",
    )
    .await;
    assert_eq!(seen, 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_submits_on_many_replicas_end_a_flow_once() {
    let db = db_or_skip!();
    let stores = replicas(&db, 4).await;
    let session = stores[0]
        .insert_session(
            SecretKind::Session.generate().hash(),
            T0,
            Timestamp::from_unix(T0.as_unix() + 3600),
        )
        .await
        .unwrap();
    for _round in 0..10 {
        let p = stores[0]
            .insert_pending(new_pending(session, 600), T0)
            .await
            .unwrap();
        let won = futures_join(
            (0..8)
                .map(|i| {
                    let store = stores[i % stores.len()].clone();
                    tokio::spawn(async move { store.delete_pending(&p.handle_hash).await.unwrap() })
                })
                .collect(),
        )
        .await;
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeps_racing_sign_outs_and_flows_never_fail() {
    // The sweep deletes sessions (cascading to their flows) and expired flows while replicas
    // sign out, start, update and end flows: nothing deadlocks or errs.
    let db = db_or_skip!();
    let stores = replicas(&db, 3).await;
    let ada = user(&*stores[0], "ada").await;
    for round in 0..6 {
        let mut sessions = Vec::new();
        let mut handles = Vec::new();
        for i in 0..8 {
            let cookie = SecretKind::Session.generate();
            // Half the sessions have expired by the sweep's clock, and half of each one's flows.
            let expires = if i % 2 == 0 { 100 } else { 3600 };
            let id = stores[0]
                .insert_session(
                    cookie.hash(),
                    T0,
                    Timestamp::from_unix(T0.as_unix() + expires),
                )
                .await
                .unwrap();
            for j in 0..4 {
                let p = stores[0]
                    .insert_pending(new_pending(id, if j % 2 == 0 { 100 } else { 3600 }), T0)
                    .await
                    .unwrap();
                handles.push(p.handle_hash);
            }
            sessions.push((id, cookie));
        }
        let mut tasks: Vec<tokio::task::JoinHandle<Result<(), StoreError>>> = Vec::new();
        for (i, (id, cookie)) in sessions.into_iter().enumerate() {
            let s = stores[i % stores.len()].clone();
            tasks.push(tokio::spawn(async move {
                s.delete_session(&cookie.hash()).await.map(drop)
            }));
            let s = stores[(i + 1) % stores.len()].clone();
            tasks.push(tokio::spawn(async move {
                match s.insert_pending(new_pending(id, 3600), T0).await {
                    Ok(_) | Err(StoreError::Missing("session")) => Ok(()),
                    Err(e) => Err(e),
                }
            }));
            if i == 3 {
                let s = stores[round % stores.len()].clone();
                tasks.push(tokio::spawn(async move {
                    s.delete_expired(Timestamp::from_unix(T0.as_unix() + 200), 0)
                        .await
                        .map(drop)
                }));
            }
        }
        for (i, h) in handles.into_iter().enumerate() {
            let (s, sub) = (stores[i % stores.len()].clone(), ada.sub.clone());
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    s.update_pending_account(&h, &sub).await.map(drop)
                } else {
                    s.delete_pending(&h).await.map(drop)
                }
            }));
        }
        for r in futures_join(tasks).await {
            r.expect("no deadlock, no error");
        }
        let left = count(&db.url, "SELECT COUNT(*) FROM pending_authorizations").await;
        assert_eq!(left, 0, "every flow ended with its session");
    }
}

/// Awaits every task, in order.
async fn futures_join<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// `SELECT COUNT(*) ...` on a private connection.
async fn count(url: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    n
}

/// Runs one statement on a private connection.
async fn exec(url: &str, sql: &'static str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
}
