//! Crash consistency (SECURITY-TESTS 2.c-1): a stream of issuance, refresh and revocation
//! while `keyway serve` is killed with SIGKILL and restarted; afterwards every acknowledged
//! token still works, every acknowledged revocation holds, no redeemed code is redeemable
//! again, and (SQLite) the database passes `PRAGMA integrity_check`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyway_testkit::flow::FlowClient;
use serde_json::Value;
use url::Url;

use crate::serve::Server;
use crate::support::{Keyway, on_both_databases};

on_both_databases!(acknowledged_results_survive_sigkill);

const WORKERS: usize = 3;
const ROUNDS: usize = 4;

/// What the server acknowledged (with a 200) to one worker.
#[derive(Debug, Default)]
struct Ledger {
    /// Tokens issued and not revoked since.
    live: Vec<String>,
    /// Tokens whose grant was revoked.
    dead: Vec<String>,
    /// Codes that were redeemed.
    redeemed: Vec<String>,
    /// Tokens whose fate is unknown (a revocation was in flight when the server died).
    unknown: Vec<String>,
}

struct Client {
    id: String,
    secret: String,
}

fn jitter_ms(max: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u64::from(nanos) % max
}

/// One worker's loop: authorize, exchange, refresh, sometimes revoke; until the server dies.
async fn work(base: Url, email: String, client: Arc<Client>, ledger: Arc<Mutex<Ledger>>) {
    let flow = FlowClient::new(base.clone());
    let token_url = base.join("/token").unwrap();
    let mut n = 0u32;
    loop {
        n += 1;
        let path = format!(
            "/o/oauth2/v2/auth?client_id={}&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth2callback&response_type=code&scope=email&access_type=offline&prompt=consent",
            client.id
        );
        let Ok(q) = flow.authorize(&path, &email, "worker password 1").await else {
            return;
        };
        let code = q["code"].clone();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:8080/oauth2callback"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ];
        let Ok(r) = flow.http.post(token_url.clone()).form(&form).send().await else {
            return;
        };
        let Ok(t) = r.json::<Value>().await else {
            return;
        };
        let (access, refresh) = (
            t["access_token"].as_str().unwrap().to_owned(),
            t["refresh_token"].as_str().unwrap().to_owned(),
        );
        {
            let mut l = ledger.lock().unwrap();
            l.redeemed.push(code);
            l.live.extend([access, refresh.clone()]);
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ];
        let Ok(r) = flow.http.post(token_url.clone()).form(&form).send().await else {
            return;
        };
        let Ok(t) = r.json::<Value>().await else {
            return;
        };
        ledger
            .lock()
            .unwrap()
            .live
            .push(t["access_token"].as_str().unwrap().to_owned());
        if n.is_multiple_of(3) {
            let sent = flow
                .http
                .post(base.join("/revoke").unwrap())
                .form(&[("token", &refresh)])
                .send()
                .await;
            let mut l = ledger.lock().unwrap();
            let tokens = std::mem::take(&mut l.live);
            match sent {
                Ok(r) if r.status() == 200 => l.dead.extend(tokens),
                _ => {
                    l.unknown.extend(tokens);
                    return;
                }
            }
        }
    }
}

async fn introspect(http: &reqwest::Client, base: &Url, client: &Client, token: &str) -> bool {
    let form = [
        ("token", token),
        ("client_id", &client.id),
        ("client_secret", &client.secret),
    ];
    let r: Value = http
        .post(base.join("/introspect").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["active"] == true
}

async fn acknowledged_results_survive_sigkill(k: Keyway) {
    let emails: Vec<String> = (0..WORKERS)
        .map(|i| format!("worker{i}@example.com"))
        .collect();
    for e in &emails {
        let out = k.run_with_stdin(
            &[
                "user",
                "create",
                "--email",
                e,
                "--name",
                "Worker",
                "--password-stdin",
            ],
            "worker password 1\n",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut server = Server::start(&k, &["--demo"]);
    let mut port = server.port();
    server.wait_for("manage it:");
    let secrets: Value = serde_json::from_str(
        &std::fs::read_to_string(k.dir.path().join("data/client_secret.json")).unwrap(),
    )
    .unwrap();
    let client = Arc::new(Client {
        id: secrets["web"]["client_id"].as_str().unwrap().to_owned(),
        secret: secrets["web"]["client_secret"].as_str().unwrap().to_owned(),
    });
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..WORKERS).map(|_| Arc::default()).collect();

    for round in 0..ROUNDS {
        if round > 0 {
            server = Server::start(&k, &[]);
            port = server.port();
        }
        let base = Url::parse(&format!("http://localhost:{port}")).unwrap();
        let tasks: Vec<_> = emails
            .iter()
            .zip(&ledgers)
            .map(|(e, l)| tokio::spawn(work(base.clone(), e.clone(), client.clone(), l.clone())))
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + jitter_ms(800))).await;
        server.kill();
        for t in tasks {
            t.await.unwrap();
        }
    }

    let mut server = Server::start(&k, &[]);
    let base = Url::parse(&format!("http://localhost:{}", server.port())).unwrap();
    let http = reqwest::Client::new();
    let (mut live, mut dead, mut codes) = (0, 0, 0);
    for l in &ledgers {
        let l = l.lock().unwrap();
        for t in &l.live {
            assert!(
                introspect_blocking(&http, &base, &client, t),
                "an acknowledged token was lost"
            );
            live += 1;
        }
        for t in &l.dead {
            assert!(
                !introspect_blocking(&http, &base, &client, t),
                "an acknowledged revocation was lost"
            );
            dead += 1;
        }
    }
    // Replays last: a replayed code revokes what it issued.
    for l in &ledgers {
        let redeemed = l.lock().unwrap().redeemed.clone();
        for code in redeemed {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "http://localhost:8080/oauth2callback"),
                ("client_id", &client.id),
                ("client_secret", &client.secret),
            ];
            let r = http
                .post(base.join("/token").unwrap())
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "a redeemed code was redeemable again");
            codes += 1;
        }
    }
    eprintln!(
        "crash test: {ROUNDS} kills, {live} live tokens, {dead} revoked tokens, {codes} codes checked"
    );
    assert!(live + dead > 0 && codes > 0, "the workers did some work");
    assert!(server.terminate().success());

    if let Some(path) = k.sqlite_file() {
        let store = keyway_store_sqlite::SqliteStore::connect(&path)
            .await
            .unwrap();
        assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
        store.close().await;
    }
}

/// Introspection, awaited inside the synchronous ledger loop.
fn introspect_blocking(http: &reqwest::Client, base: &Url, client: &Client, token: &str) -> bool {
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(introspect(http, base, client, token))
    })
}
