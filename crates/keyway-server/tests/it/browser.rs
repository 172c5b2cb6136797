//! The flow in a real browser: headless Chromium, driven over WebDriver, signs in, consents,
//! picks accounts and lands on the client's redirect URI; error pages render; framing is
//! refused. Screenshots go to `target/screenshots/`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyway_core::console::{self, ConsoleSettings};
use keyway_core::{SecretHash, SystemClock};
use keyway_testkit::browser::{Browser, TIMEOUT};
use keyway_testkit::fixtures::{PASSWORD, add_user};
use keyway_testkit::{Fixture, TestApp};
use serde_json::Value;
use url::Url;

const DRIVE_FILE: &str = "https://www.googleapis.com/auth/drive.file";
const YOUTUBE: &str = "https://www.googleapis.com/auth/youtube.readonly";

/// A tiny HTTP server on `127.0.0.1`, the other origin of this test: it stands in for the
/// client's redirect URI (recording every request line), and serves `/frame`, a page that
/// tries to frame Keyway.
struct Capture {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Capture {
    /// Starts it; `/frame` frames `framed` next to a control frame of its own.
    fn start(framed: &Url) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the capture listener");
        let addr = listener.local_addr().unwrap();
        // The control frame is cross-origin too (localhost vs 127.0.0.1), like Keyway's.
        let frame_page = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Framing test</title>\
             <script>window.loaded = {{}};</script>\
             <iframe id=\"keyway\" src=\"{framed}\" onload=\"window.loaded.keyway = true\"></iframe>\
             <iframe id=\"control\" src=\"http://localhost:{port}/control\" onload=\"window.loaded.control = true\"></iframe>",
            port = addr.port(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (seen, page) = (seen2.clone(), frame_page.clone());
                // One thread per connection: Chromium opens speculative connections that may
                // never send a request, and those must not hold up the next one.
                std::thread::spawn(move || answer(stream, &seen, &page));
            }
        });
        Self { addr, seen, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The request lines received so far.
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop so it sees `stop`
    }
}

fn answer(mut stream: TcpStream, seen: &Mutex<Vec<String>>, frame_page: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let Some(line) = head.lines().next().filter(|l| !l.is_empty()) else {
        return;
    };
    seen.lock().unwrap().push(line.to_owned());
    let path = line.split(' ').nth(1).unwrap_or("/");
    let body = match path {
        "/frame" => frame_page.to_owned(),
        "/control" => "<!doctype html><p>control frame</p>".to_owned(),
        _ => "<!doctype html><p>captured</p>".to_owned(),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Where the screenshots go: the workspace's `target/screenshots/`.
fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(name)
}

/// The authorization URL for `client_id` and `redirect_uri` with `scope`, `state=xyz`, then
/// `extra`.
fn auth_url(
    app: &TestApp,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "xyz");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    app.url(&format!("/o/oauth2/v2/auth?{}", q.finish()))
        .to_string()
}

async fn wait_for_page(browser: &Browser, path: &'static str) -> Url {
    browser.wait_for_url(path, |u| u.path() == path).await
}

/// Waits for the browser to land on the client's redirect URI, checks what every successful
/// redirect carries (a stored code, `state`, `iss`) and returns the parameters.
async fn wait_for_code(
    app: &TestApp,
    browser: &Browser,
    capture: &Capture,
) -> HashMap<String, String> {
    let callback = capture.url("/callback");
    let url = browser
        .wait_for_url("the redirect URI", |u| u.as_str().starts_with(&callback))
        .await;
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert!(!q.contains_key("error"), "{url}");
    assert_eq!(q.get("state").map(String::as_str), Some("xyz"), "{url}");
    assert_eq!(
        q.get("iss").map(String::as_str),
        Some(app.base_url.as_str().trim_end_matches('/')),
        "{url}"
    );
    let code = q.get("code").unwrap_or_else(|| panic!("no code in {url}"));
    let stored = app
        .store()
        .find_code(&SecretHash::of(code))
        .await
        .unwrap()
        .expect("the code is stored by hash");
    assert_eq!(
        stored.scopes.to_string(),
        q["scope"],
        "the code grants what the redirect says"
    );
    // The browser really loaded the client's page.
    let body = browser.find("body").await.text().await;
    assert_eq!(body.trim(), "captured");
    assert!(
        capture
            .seen()
            .iter()
            .any(|l| l.starts_with("GET /callback?") && l.contains(code.as_str())),
        "{:?}",
        capture.seen()
    );
    q
}

async fn sign_in(browser: &Browser, email: &str) {
    wait_for_page(browser, "/signin").await;
    let field = browser.find("#email").await;
    field.clear().await;
    field.send_keys(email).await;
    browser.find("#password").await.send_keys(PASSWORD).await;
    click_button(browser, "Next").await;
}

/// Clicks the button (or submit input) whose visible text is `label`.
async fn click_button(browser: &Browser, label: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        for b in browser.find_all("button, input[type=submit]").await {
            let text = match b.text().await.trim() {
                "" => b.attribute("value").await.unwrap_or_default(),
                t => t.to_owned(),
            };
            if text.trim() == label {
                b.click().await;
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {label:?} button on {}:\n{}",
            browser.current_url().await,
            browser.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn checkbox(scope: &str) -> String {
    format!("input[type=checkbox][name=scope][value=\"{scope}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_in_a_real_browser() {
    let app = TestApp::spawn().await;
    let fx = Fixture::create(app.store()).await;
    let capture = Capture::start(&app.url("/signin?req=x"));
    let callback = capture.url("/callback");
    let (client, _) = console::create_client(
        app.store(),
        &SystemClock,
        &ConsoleSettings::default(),
        fx.project.id.as_str(),
        "web",
        std::slice::from_ref(&callback),
        &[],
    )
    .await
    .expect("a loopback redirect URI registers");
    let client_id = client.client_id.to_string();
    let auth =
        |scope: &str, extra: &[(&str, &str)]| auth_url(&app, &client_id, &callback, scope, extra);
    let browser = Browser::start().await;

    // 1. Sign in.
    let all = format!("openid email {DRIVE_FILE} {YOUTUBE}");
    browser.goto(&auth(&all, &[])).await;
    wait_for_page(&browser, "/signin").await;
    browser.find("#email").await;
    browser.screenshot(screenshot_path("signin.png")).await;
    assert!(
        browser.body_text().await.contains("Photo Print"),
        "the sign-in page names the app"
    );
    sign_in(&browser, "ada@example.com").await;

    // 2. Consent, without YouTube.
    wait_for_page(&browser, "/consent").await;
    let youtube = browser.find(&checkbox(YOUTUBE)).await;
    let drive = browser.find(&checkbox(DRIVE_FILE)).await;
    browser.screenshot(screenshot_path("consent.png")).await;
    let text = browser.body_text().await;
    assert!(
        text.contains("Photo Print") && text.contains("ada@example.com"),
        "{text}"
    );
    assert!(
        drive.is_selected().await && youtube.is_selected().await,
        "optional scopes start ticked"
    );
    youtube.click().await;
    assert!(!youtube.is_selected().await, "the click unticked YouTube");
    assert!(drive.is_selected().await);
    browser
        .find("button[name=action][value=allow]")
        .await
        .click()
        .await;

    // 3. The code, for what was ticked.
    let q = wait_for_code(&app, &browser, &capture).await;
    assert!(
        q["scope"].contains(DRIVE_FILE) && !q["scope"].contains("youtube"),
        "{q:?}"
    );
    assert_eq!(q["authuser"], "0");
    assert_eq!(q["prompt"], "consent");

    // 4. Everything asked for is granted: no page at all this time.
    browser
        .goto(&auth(&format!("openid email {DRIVE_FILE}"), &[]))
        .await;
    let q = wait_for_code(&app, &browser, &capture).await;
    assert_eq!(q["prompt"], "none");
    assert_eq!(q["authuser"], "0");
    assert_eq!(q["scope"], format!("email {DRIVE_FILE} openid"));

    // 5. A second account, through the chooser's "Use another account".
    add_user(app.store(), "grace@example.com", "Grace Hopper").await;
    let scope = format!("openid email {DRIVE_FILE}");
    browser
        .goto(&auth(&scope, &[("prompt", "select_account")]))
        .await;
    wait_for_page(&browser, "/accountchooser").await;
    browser.find("button[name=authuser][value=new]").await;
    browser.screenshot(screenshot_path("chooser.png")).await;
    let text = browser.body_text().await;
    assert!(
        text.contains("ada@example.com") && text.contains("Use another account"),
        "{text}"
    );
    browser
        .find("button[name=authuser][value=new]")
        .await
        .click()
        .await;
    sign_in(&browser, "grace@example.com").await;
    wait_for_page(&browser, "/consent").await;
    assert!(browser.body_text().await.contains("grace@example.com"));
    browser
        .find("button[name=action][value=allow]")
        .await
        .click()
        .await;
    let q = wait_for_code(&app, &browser, &capture).await;
    assert_eq!(q["authuser"], "1");
    assert_eq!(q["prompt"], "consent");

    // Both accounts on the chooser now; picking Grace needs no consent.
    browser
        .goto(&auth(&scope, &[("prompt", "select_account")]))
        .await;
    wait_for_page(&browser, "/accountchooser").await;
    let grace = browser.find("button[name=authuser][value=\"1\"]").await;
    browser.find("button[name=authuser][value=\"0\"]").await;
    browser
        .screenshot(screenshot_path("chooser-two-accounts.png"))
        .await;
    let text = browser.body_text().await;
    assert!(
        text.contains("ada@example.com") && text.contains("grace@example.com"),
        "{text}"
    );
    assert_eq!(
        browser.find_all("button[name=authuser]").await.len(),
        3,
        "two accounts and \"Use another account\""
    );
    grace.click().await;
    let q = wait_for_code(&app, &browser, &capture).await;
    assert_eq!(q["authuser"], "1");
    assert_eq!(q["prompt"], "none");

    // 6. A redirect URI that is not registered: an error page, and nothing sent anywhere.
    let elsewhere = capture.url("/elsewhere");
    browser
        .goto(&auth_url(&app, &client_id, &elsewhere, "openid", &[]))
        .await;
    let url = browser.current_url().await;
    assert_eq!(
        url.path(),
        "/o/oauth2/v2/auth",
        "the browser stays on Keyway"
    );
    browser.screenshot(screenshot_path("error.png")).await;
    let text = browser.body_text().await;
    assert!(text.contains("Error 400: redirect_uri_mismatch"), "{text}");
    assert!(
        !capture.seen().iter().any(|l| l.contains("/elsewhere")),
        "{:?}",
        capture.seen()
    );

    // 7. Framing is refused. The page at /frame (origin http://127.0.0.1:<capture port>)
    // holds two iframes: Keyway's /signin (origin http://localhost:<server port>) and a
    // control page of the capture server (http://localhost:<capture port>). Both are
    // cross-origin to the parent, so the parent's own script cannot tell them apart
    // (`contentDocument` is null for both); WebDriver, however, can enter any frame and run
    // script inside it. The control frame shows its URL and text, proving the check can see
    // a frame that rendered. Keyway's frame must be Chromium's error page instead: X-Frame-
    // Options DENY / CSP frame-ancestors 'none' make the browser discard the response and
    // commit `chrome-error://chromewebdata/` in its place, so none of Keyway's page exists
    // in the frame.
    browser.goto(&capture.url("/frame")).await;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let v = browser
            .execute(
                "return !!(window.loaded && window.loaded.keyway && window.loaded.control);",
                vec![],
            )
            .await;
        if v == Value::Bool(true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the frames did not load within {TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let null_docs = browser
        .execute(
            "return [...document.querySelectorAll('iframe')].every(f => f.contentDocument === null);",
            vec![],
        )
        .await;
    assert_eq!(
        null_docs,
        Value::Bool(true),
        "both frames are cross-origin to the parent"
    );
    let inside = |id: &'static str| {
        let browser = &browser;
        async move {
            let frame = browser.find(&format!("iframe#{id}")).await;
            browser.switch_to_frame(&frame).await;
            let href = browser.execute("return location.href;", vec![]).await;
            let text = browser.body_text().await;
            browser.switch_to_top().await;
            (href.as_str().unwrap_or_default().to_owned(), text)
        }
    };
    let (href, text) = inside("control").await;
    assert_eq!(
        href,
        format!("http://localhost:{}/control", capture.addr.port())
    );
    assert!(text.contains("control frame"), "{text:?}");
    let (href, text) = inside("keyway").await;
    assert_eq!(
        href, "chrome-error://chromewebdata/",
        "Keyway's page must not render in a frame; frame text: {text:?}"
    );
    assert!(
        !text.contains("Sign in") && !text.contains("Keyway") && !text.contains("Error 4"),
        "{text:?}"
    );
}
