//! A minimal W3C WebDriver client for real-browser tests: headless Chromium driven by
//! `chromedriver`, over plain HTTP with reqwest.
//!
//! Tests need Debian's `chromium` and `chromium-driver` packages; [`Browser::start`] panics
//! when they are missing, so a browser test is never silently skipped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use url::Url;

/// The Chromium binary Debian's `chromium` package installs.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The driver Debian's `chromium-driver` package installs.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long [`Browser::find`], [`Browser::wait_for_url`] and page loads wait.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How often the waiting helpers look again.
const POLL: Duration = Duration::from_millis(50);

/// A headless Chromium session behind its own `chromedriver`; quits both when dropped.
#[derive(Debug)]
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>` of the driver.
    driver_addr: SocketAddr,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session_url: String,
    session_id: String,
    driver: Child,
    dir: tempfile::TempDir,
}

/// An element of the current page, found by [`Browser::find`].
#[derive(Debug, Clone)]
pub struct Element {
    http: reqwest::Client,
    url: String,
    /// What it was found by, for messages.
    css: String,
}

impl Browser {
    /// Starts `chromedriver` on a free port and opens a headless Chromium session in a fresh
    /// profile.
    ///
    /// # Panics
    /// When Chromium or chromedriver is not installed, or the session cannot be created.
    pub async fn start() -> Self {
        for (binary, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: browser tests need Debian's packages, \
                 install them with `apt-get install -y chromium chromium-driver` (package {package})"
            );
        }
        crate::install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir for the browser");
        let profile = dir.path().join("profile");
        let log = dir.path().join("chromedriver.log");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("WebDriver HTTP client");
        let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let base = format!("http://{driver_addr}");
        let mut browser = Self {
            http,
            driver_addr,
            session_url: String::new(),
            session_id: String::new(),
            driver,
            dir,
        };

        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(r) = browser.http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            if let Ok(Some(status)) = browser.driver.try_wait() {
                panic!(
                    "chromedriver exited with {status}: {}",
                    browser.driver_log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after {TIMEOUT:?}: {}",
                browser.driver_log()
            );
            tokio::time::sleep(POLL).await;
        }

        let user_data_dir = format!("--user-data-dir={}", profile.display());
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            user_data_dir.as_str(),
            "--window-size=1100,1000",
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": { "pageLoad": TIMEOUT.as_millis() as u64, "script": TIMEOUT.as_millis() as u64, "implicit": 0 },
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                }
            }
        });
        let r = browser
            .http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await;
        let v = match r {
            Ok(r) => r.json::<Value>().await.unwrap_or(Value::Null),
            Err(e) => panic!("create a WebDriver session: {e}: {}", browser.driver_log()),
        };
        let Some(id) = v["value"]["sessionId"].as_str() else {
            panic!("create a WebDriver session: {v}: {}", browser.driver_log());
        };
        browser.session_id = id.to_owned();
        browser.session_url = format!("{base}/session/{id}");
        browser
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url })).await;
    }

    /// The URL of the current top-level page.
    pub async fn current_url(&self) -> Url {
        let v = self.command("GET", "/url", Value::Null).await;
        let s = v.as_str().unwrap_or_else(|| panic!("current URL: {v}"));
        Url::parse(s).unwrap_or_else(|e| panic!("current URL {s:?}: {e}"))
    }

    /// Waits (up to [`TIMEOUT`]) until the current URL satisfies `ok`, and returns it.
    ///
    /// # Panics
    /// At the deadline, naming `what`, the last URL and the page's text.
    pub async fn wait_for_url(&self, what: &str, ok: impl Fn(&Url) -> bool) -> Url {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let url = self.current_url().await;
            if ok(&url) {
                return url;
            }
            if Instant::now() >= deadline {
                let text = self.body_text().await;
                panic!("waited {TIMEOUT:?} for {what}; still on {url}\n--- page text ---\n{text}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching the CSS selector `css`, waiting (up to [`TIMEOUT`]) for it
    /// to appear.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await;
                let text = self.body_text().await;
                panic!("no element {css:?} on {url} after {TIMEOUT:?}\n--- page text ---\n{text}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching `css` right now, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let body = json!({ "using": "css selector", "value": css });
        let (ok, v) = self.raw("POST", "/element", body).await;
        if !ok {
            if v["error"] == "no such element" {
                return None;
            }
            panic!("find {css:?}: {v}");
        }
        Some(self.element(&v, css))
    }

    /// Every element matching `css` right now (no waiting).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let body = json!({ "using": "css selector", "value": css });
        let v = self.command("POST", "/elements", body).await;
        v.as_array()
            .unwrap_or_else(|| panic!("find all {css:?}: {v}"))
            .iter()
            .map(|e| self.element(e, css))
            .collect()
    }

    /// The HTML of the current page as the browser now sees it.
    pub async fn page_source(&self) -> String {
        let v = self.command("GET", "/source", Value::Null).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The rendered text of the current page's body (empty when there is none).
    pub async fn body_text(&self) -> String {
        let v = self
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG screenshot of the viewport to `path`, creating its directory.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let v = self.command("GET", "/screenshot", Value::Null).await;
        let png = base64_decode(v.as_str().unwrap_or_else(|| panic!("screenshot: {v}")))
            .unwrap_or_else(|| panic!("screenshot: not base64"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the current frame and
    /// returns what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Makes the iframe `frame` the current browsing context for later commands.
    pub async fn switch_to_frame(&self, frame: &Element) {
        self.command(
            "POST",
            "/frame",
            json!({ "id": { ELEMENT_KEY: frame.id() } }),
        )
        .await;
    }

    /// Makes the top-level page the current browsing context again.
    pub async fn switch_to_top(&self) {
        self.command("POST", "/frame", json!({ "id": null })).await;
    }

    fn element(&self, v: &Value, css: &str) -> Element {
        let id = v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("element {css:?}: {v}"));
        Element {
            http: self.http.clone(),
            url: format!("{}/element/{id}", self.session_url),
            css: css.to_owned(),
        }
    }

    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let (ok, v) = self.raw(method, path, body).await;
        assert!(ok, "WebDriver {method} {path}: {v}");
        v
    }

    async fn raw(&self, method: &str, path: &str, body: Value) -> (bool, Value) {
        request(
            &self.http,
            method,
            &format!("{}{path}", self.session_url),
            body,
        )
        .await
    }

    fn driver_log(&self) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        format!(
            "\n--- chromedriver log (last lines) ---\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }

    /// The directory holding the browser's profile and the driver's log.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Element {
    /// Clicks it (as a user would: scrolled into view, at its centre).
    pub async fn click(&self) {
        self.command("POST", "/click", json!({})).await;
    }

    /// Types `text` into it.
    pub async fn send_keys(&self, text: &str) {
        self.command("POST", "/value", json!({ "text": text }))
            .await;
    }

    /// Empties an input or textarea.
    pub async fn clear(&self) {
        self.command("POST", "/clear", json!({})).await;
    }

    /// Its rendered text.
    pub async fn text(&self) -> String {
        self.command("GET", "/text", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The value of its attribute `name`, if it has one.
    pub async fn attribute(&self, name: &str) -> Option<String> {
        self.command("GET", &format!("/attribute/{name}"), Value::Null)
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Whether a checkbox, radio button or option is selected.
    pub async fn is_selected(&self) -> bool {
        self.command("GET", "/selected", Value::Null).await == true
    }

    fn id(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }

    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let (ok, v) = request(&self.http, method, &format!("{}{path}", self.url), body).await;
        assert!(ok, "WebDriver {method} {path} on {:?}: {v}", self.css);
        v
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit Chromium. Drop cannot await, and may run
        // outside a runtime, so this is one plain blocking HTTP request.
        if !self.session_id.is_empty() {
            let _ = delete_blocking(self.driver_addr, &format!("/session/{}", self.session_id));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Sends a WebDriver command; returns whether it succeeded and its `value`.
async fn request(http: &reqwest::Client, method: &str, url: &str, body: Value) -> (bool, Value) {
    let req = match method {
        "GET" => http.get(url),
        "DELETE" => http.delete(url),
        _ => http.post(url).json(&body),
    };
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"));
    let ok = r.status().is_success();
    let v: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("WebDriver {method} {url}: not JSON: {e}"));
    (ok, v["value"].clone())
}

fn delete_blocking(addr: SocketAddr, path: &str) -> std::io::Result<()> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "DELETE {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver answers once Chromium has quit, and may keep the connection open after
    // that: the end of the response head is enough.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf)? {
            0 => break,
            n => head.extend_from_slice(&buf[..n]),
        }
    }
    Ok(())
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// Decodes standard base64 (with or without padding); `None` on any other character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert_eq!(base64_decode("/+8=").unwrap(), [0xff, 0xef]);
        assert!(base64_decode("Zm9v!").is_none());
    }
}
