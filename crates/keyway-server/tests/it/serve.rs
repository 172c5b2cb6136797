//! `keyway serve` as users run it: the demo setup, HTTPS with the self-signed CA, graceful
//! shutdown, and refusing a database from a newer Keyway.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::Keyway;

/// A running `keyway serve` and the lines it has printed.
pub struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    pub fn start(k: &Keyway, args: &[&str]) -> Self {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = k
            .command(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn keyway serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle`; returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; saw {:#?}", self.seen),
            }
        }
    }

    pub fn port(&mut self) -> u16 {
        let line = self.wait_for("Keyway is listening on");
        let addr = line.split_whitespace().nth(4).expect("address");
        addr.rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("keyway did not stop within 10 s of SIGTERM");
    }
}

fn http_client(ca: Option<&std::path::Path>) -> reqwest::Client {
    keyway_testkit::install_crypto_provider();
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).expect("read CA");
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA PEM"));
    }
    b.build().expect("client")
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The printed authorization URL, followed as a person would: sign in with the printed
/// password, allow, and land on the sample app's redirect URI with a code.
async fn demo_flow_lands_with_a_code(auth_url: &str, password: &str) {
    keyway_testkit::install_crypto_provider();
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = url::Url::parse(auth_url).unwrap();
    let r = http.get(auth_url).send().await.unwrap();
    let signin = base
        .join(r.headers()["location"].to_str().unwrap())
        .unwrap();
    assert_eq!(signin.path(), "/signin");
    let html = http.get(signin).send().await.unwrap().text().await.unwrap();
    let form = [
        ("req", field(&html, "req")),
        ("csrf", field(&html, "csrf")),
        ("email", "demo@example.com".into()),
        ("password", password.into()),
    ];
    let r = http
        .post(base.join("/signin").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let consent = base
        .join(r.headers()["location"].to_str().unwrap())
        .unwrap();
    assert_eq!(consent.path(), "/consent");
    let html = http
        .get(consent)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("req", field(&html, "req")),
        ("csrf", field(&html, "csrf")),
        ("action", "allow".into()),
    ];
    let r = http
        .post(base.join("/consent").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let landed = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        landed.starts_with("http://localhost:8080/oauth2callback?state=demo&code=kwac_"),
        "{landed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_over_http_then_https_and_graceful_shutdown() {
    let k = Keyway::sqlite();
    let mut server = Server::start(&k, &["--demo"]);
    let port = server.port();
    let client_line = server.wait_for("client id");
    let password_line = server.wait_for("sign in as");
    let auth_url = server.wait_for("/o/oauth2/v2/auth?").trim().to_owned();
    server.wait_for("manage it:");
    let ready = http_client(None)
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let password = password_line
        .rsplit(" / ")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    demo_flow_lands_with_a_code(&auth_url, &password).await;

    // client_secret.json has exactly Google's keys, and Keyway's own URLs.
    let file = k.dir.path().join("data").join("client_secret.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let top: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(top, ["web"]);
    let mut keys: Vec<&str> = json["web"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "auth_provider_x509_cert_url",
            "auth_uri",
            "client_id",
            "client_secret",
            "javascript_origins",
            "project_id",
            "redirect_uris",
            "token_uri"
        ]
    );
    let base = format!("http://localhost:{port}");
    assert_eq!(json["web"]["token_uri"], format!("{base}/token"));
    assert_eq!(json["web"]["auth_uri"], format!("{base}/o/oauth2/auth"));
    assert_eq!(
        json["web"]["auth_provider_x509_cert_url"],
        format!("{base}/oauth2/v1/certs")
    );
    let uris: Vec<&str> = json["web"]["redirect_uris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "http://localhost:8080/oauth2callback",
            "http://127.0.0.1:8080/oauth2callback",
            "http://localhost:8080/",
            "http://localhost/oauth2callback"
        ]
    );
    let client_id = json["web"]["client_id"].as_str().unwrap().to_owned();
    assert!(client_line.contains(&client_id));
    assert!(password_line.contains("demo@example.com"));
    assert!(server.terminate().success(), "SIGTERM is a clean exit");

    // The demo user exists with the printed password... (sign-in comes with the authorization
    // endpoint); here: it is listed, and a second start reuses everything.
    let users = k.json(&["user", "list"]);
    assert_eq!(users[0]["email"], "demo@example.com");

    let mut again = Server::start(&k, &["--demo", "--tls", "self-signed"]);
    let port = again.port();
    let ca_line = again.wait_for("Trust this CA to connect:");
    let ca = std::path::PathBuf::from(ca_line.rsplit(": ").next().unwrap().trim());
    let reused = again.wait_for("client id");
    assert!(
        reused.contains(&client_id),
        "the demo client is reused: {reused}"
    );
    assert_eq!(
        again.wait_for("sign in as"),
        password_line,
        "the same demo credentials"
    );
    let https = http_client(Some(&ca));
    let ready = https
        .get(format!("https://localhost:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let ready = https
        .get(format!("https://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert!(
        http_client(None)
            .get(format!("https://localhost:{port}/readyz"))
            .send()
            .await
            .is_err(),
        "an untrusted client refuses the certificate"
    );
    assert!(again.terminate().success());

    // The CA is created once and reused, so users trust it once.
    let ca_before = std::fs::read(&ca).unwrap();
    let mut third = Server::start(&k, &["--tls", "self-signed"]);
    third.port();
    third.wait_for("Trust this CA");
    assert_eq!(std::fs::read(&ca).unwrap(), ca_before);
    assert!(third.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_keyway_is_refused() {
    let k = Keyway::sqlite();
    let out = k.run(&["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let latest = format!("schema version {}", keyway_store_sqlite::LATEST_VERSION);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&latest));
    let path = k.dir.path().join("data").join("keyway.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("INSERT INTO keyway_schema_migrations (version, description, applied_at) VALUES (99, 'from the future', 0)")
        .unwrap();
    for args in [
        vec!["migrate"],
        vec!["project", "list"],
        vec!["serve", "--listen", "127.0.0.1:0"],
    ] {
        let err = k.fails(&args);
        assert!(
            err.contains("schema is at version 99, newer than this Keyway build knows"),
            "{args:?}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_url_puts_the_database_where_it_says() {
    let k = Keyway::sqlite();
    let elsewhere = k.dir.path().join("elsewhere.db");
    for url in [
        format!("sqlite:{}", elsewhere.display()),
        format!("sqlite://{}", elsewhere.display()),
    ] {
        let out = k.run(&["--database-url", &url, "migrate"]);
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let latest = format!("schema version {}", keyway_store_sqlite::LATEST_VERSION);
        assert!(String::from_utf8_lossy(&out.stdout).contains(&latest));
    }
    let version: i64 = rusqlite::Connection::open(&elsewhere)
        .unwrap()
        .query_row(
            "SELECT MAX(version) FROM keyway_schema_migrations",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, keyway_store_sqlite::LATEST_VERSION);
    assert!(!k.dir.path().join("data").join("keyway.db").exists());
    let err = k.fails(&["--database-url", "sqlite:", "migrate"]);
    assert!(err.contains("no path"), "{err}");
}
