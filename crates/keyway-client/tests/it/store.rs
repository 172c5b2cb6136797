//! Token stores under the authorized client: two processes racing on one file refresh
//! once; clients sharing a SQLite store refresh each key once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use keyway_client::{
    AuthorizedClient, FileTokenStore, SqliteTokenStore, TokenKey, TokenStore, default_http_client,
};

use crate::support::Env;

/// Set in the child process: the path of the credentials file to refresh through.
const CHILD_ENV: &str = "KEYWAY_CLIENT_TEST_STORE";

/// Not a test on its own: the body of the child process of
/// [`two_processes_racing_on_one_file_refresh_once`]. Without [`CHILD_ENV`] it does nothing.
#[tokio::test]
async fn child_refresher() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = FileTokenStore::new(path);
    let credentials = store.load().unwrap().expect("credentials in the file");
    let client = AuthorizedClient::new(credentials)
        .unwrap()
        .with_file_store(store);
    println!("TOKEN={}", client.access_token().await.unwrap());
}

#[tokio::test]
async fn two_processes_racing_on_one_file_refresh_once() {
    let env = Env::new().await;
    let mut c = env.sign_in().await;
    let first = c.token.clone().unwrap();
    env.app.clock.advance(Duration::from_secs(2 * 3600));
    c.expiry = Some(SystemTime::now() - Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    let store = FileTokenStore::new(&path);
    store.save(&c).unwrap();

    // Another process (this test binary, running only `child_refresher`)…
    let exe = std::env::current_exe().unwrap();
    let child_path = path.clone();
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args(["--exact", "store::child_refresher", "--nocapture"])
            .env(CHILD_ENV, child_path)
            .output()
            .unwrap()
    });
    // …and this one, with its own client, refresh at the same time.
    let here = AuthorizedClient::new(c)
        .unwrap()
        .with_file_store(store.clone());
    let mine = here.access_token().await.unwrap();
    let output = child.await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TOKEN="))
        .unwrap_or_else(|| panic!("no token from the child: {stdout}"));

    assert_eq!(env.counts.refreshes(), 1, "one refresh for two processes");
    assert_eq!(mine, theirs);
    assert_ne!(mine, first);
    let saved = store.load().unwrap().unwrap();
    assert_eq!(saved.token.as_deref(), Some(mine.as_str()));
    assert!(saved.refresh_token.is_some());
}

#[tokio::test]
async fn refreshes_are_saved_and_published() {
    let env = Env::new().await;
    let mut c = env.sign_in().await;
    c.expiry = Some(SystemTime::now() - Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token.json"));
    // No file yet: the client's credentials are refreshed, then written.
    let client = AuthorizedClient::new(c)
        .unwrap()
        .with_file_store(store.clone());
    let mut changes = client.subscribe();
    let token = client.access_token().await.unwrap();
    assert_eq!(
        store.load().unwrap().unwrap().token.as_deref(),
        Some(token.as_str())
    );
    assert!(changes.has_changed().unwrap());
    assert_eq!(
        changes.borrow_and_update().token.as_deref(),
        Some(token.as_str())
    );
    // A second client on the same file finds the fresh token: no request.
    let mut stale = store.load().unwrap().unwrap();
    stale.expiry = Some(SystemTime::now() - Duration::from_secs(1));
    let other = AuthorizedClient::new(stale).unwrap().with_file_store(store);
    assert_eq!(other.access_token().await.unwrap(), token);
    assert_eq!(env.counts.refreshes(), 1);
}

#[tokio::test]
async fn clients_sharing_a_sqlite_store_refresh_each_key_once() {
    let env = Env::new().await;
    let mut c = env.sign_in().await;
    let first = c.token.clone().unwrap();
    env.app.clock.advance(Duration::from_secs(2 * 3600));
    c.expiry = Some(SystemTime::now() - Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(
        SqliteTokenStore::open(dir.path().join("tokens.db"))
            .await
            .unwrap(),
    );
    let key = TokenKey::for_credentials(&c, "user-1");
    store.save(&key, &c).await.unwrap();

    // Five clients for one user (five requests of a web app), ten tasks each.
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let client = AuthorizedClient::from_store(
            default_http_client().unwrap(),
            store.clone(),
            key.clone(),
        )
        .await
        .unwrap()
        .expect("stored credentials");
        for _ in 0..10 {
            let client = client.clone();
            tasks.push(tokio::spawn(
                async move { client.access_token().await.unwrap() },
            ));
        }
    }
    let mut seen = HashSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(env.counts.refreshes(), 1, "one refresh for five clients");
    assert_eq!(seen.len(), 1);
    assert!(!seen.contains(&first));
    let saved = store.load(&key).await.unwrap().unwrap();
    assert_eq!(saved.token.as_ref(), seen.iter().next());

    // Another user has nothing stored: the app sends them through the flow.
    let nobody = TokenKey::new(key.client_id(), "user-2", key.scopes());
    let none = AuthorizedClient::from_store(default_http_client().unwrap(), store, nobody)
        .await
        .unwrap();
    assert!(none.is_none());
}
