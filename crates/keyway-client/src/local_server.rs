//! The loopback flow for command-line tools: a one-shot HTTP server on the redirect URI's
//! loopback port receives the authorization response.

use std::borrow::Cow;
use std::fmt;
use std::future::IntoFuture;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::{Host, Url};

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::flow::{AccessType, AuthorizationUrl, Flow, PendingAuthorization, check_callback};
use crate::store::BoxFuture;

/// How long [`Flow::run_local_server`] waits for the redirect by default: 5 minutes.
pub const DEFAULT_LOCAL_SERVER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The largest request head (request line and headers) the loopback server reads; a larger
/// one is answered `400`.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the authorization URL for the user; returns whether it did (when not, the URL is
/// printed for the user to open). See [`LocalServer::open_browser_with`].
pub type BrowserOpener = Box<dyn FnOnce(&Url) -> bool + Send>;

type Configure<'a> =
    Box<dyn for<'b> FnOnce(AuthorizationUrl<'b>) -> AuthorizationUrl<'b> + Send + 'a>;

impl Flow {
    /// The loopback flow for command-line tools, as google-auth-oauthlib's
    /// `InstalledAppFlow.run_local_server`: await the returned [`LocalServer`] (after
    /// setting its options) to
    ///
    /// 1. bind the flow's redirect URI, which must be `http://localhost:<port>/…`,
    ///    `http://127.0.0.1:<port>/…` or `http://[::1]:<port>/…` — Keyway's (and Google's
    ///    web) clients match redirect URIs exactly, so the port is taken from the URI
    ///    (`localhost` is served on `127.0.0.1`);
    /// 2. open the authorization URL (`access_type=offline` unless
    ///    [`LocalServer::authorization`] says otherwise) in the user's browser
    ///    ([`open_browser`]), and print it to standard error either way;
    /// 3. answer requests to other paths (`/favicon.ico`, …) with `404`, oversized or
    ///    malformed ones with `400`, and take exactly one request to the redirect path,
    ///    answering it with a small "you may close this tab" page;
    /// 4. exchange its code with [`Flow::exchange`] (state, `iss` and errors checked).
    ///
    /// Waiting ends with [`Error::LocalServerTimeout`] after [`DEFAULT_LOCAL_SERVER_TIMEOUT`]
    /// (see [`LocalServer::timeout`]).
    ///
    /// ```no_run
    /// # async fn example() -> keyway_client::Result<()> {
    /// let flow = keyway_client::Flow::from_client_secrets_file("client_secret.json", ["email"])?
    ///     .with_redirect_uri("http://localhost:8080/");
    /// let credentials = flow.run_local_server().await?;
    /// # let _ = credentials;
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_local_server(&self) -> LocalServer<'_> {
        LocalServer {
            flow: self,
            timeout: DEFAULT_LOCAL_SERVER_TIMEOUT,
            any_port: false,
            opener: None,
            configure: None,
        }
    }
}

/// The options of [`Flow::run_local_server`]; await it to run the flow.
#[must_use = "await it to run the flow"]
pub struct LocalServer<'a> {
    flow: &'a Flow,
    timeout: Duration,
    any_port: bool,
    opener: Option<BrowserOpener>,
    configure: Option<Configure<'a>>,
}

impl fmt::Debug for LocalServer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServer")
            .field("redirect_uri", &self.flow.redirect_uri())
            .field("timeout", &self.timeout)
            .field("any_port", &self.any_port)
            .field("custom_opener", &self.opener.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> LocalServer<'a> {
    /// How long to wait for the redirect (default [`DEFAULT_LOCAL_SERVER_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Binds any free port instead of the redirect URI's, and sends the redirect URI with
    /// that port (RFC 8252 §7.3). Only for servers that accept any loopback port for the
    /// client (Google's "Desktop app" clients do; Keyway's web clients do not).
    pub fn any_port(mut self, any_port: bool) -> Self {
        self.any_port = any_port;
        self
    }

    /// Opens the authorization URL with `opener` instead of the system browser
    /// ([`open_browser`]); it returns whether it opened it. Tests drive the pages here.
    pub fn open_browser_with(mut self, opener: impl FnOnce(&Url) -> bool + Send + 'static) -> Self {
        self.opener = Some(Box::new(opener));
        self
    }

    /// Does not open a browser: only prints the URL.
    pub fn no_browser(self) -> Self {
        self.open_browser_with(|_| false)
    }

    /// Adjusts the authorization URL (`login_hint`, `prompt`, `include_granted_scopes`, …);
    /// it starts with `access_type=offline`.
    pub fn authorization<F>(mut self, f: F) -> Self
    where
        F: for<'b> FnOnce(AuthorizationUrl<'b>) -> AuthorizationUrl<'b> + Send + 'a,
    {
        self.configure = Some(Box::new(f));
        self
    }

    /// Runs the flow (awaiting the `LocalServer` does the same).
    pub async fn run(self) -> Result<Credentials> {
        let raw = self
            .flow
            .redirect_uri()
            .ok_or_else(|| invalid("no redirect URI: set one with Flow::with_redirect_uri".into()))?
            .to_owned();
        let (addr, path) = loopback_target(&raw, self.any_port)?;
        let listener = TcpListener::bind(addr).await?;
        let flow = if self.any_port {
            let mut uri = Url::parse(&raw).map_err(|e| invalid(e.to_string()))?;
            let _ = uri.set_port(Some(listener.local_addr()?.port()));
            Cow::Owned(self.flow.clone().with_redirect_uri(uri.as_str()))
        } else {
            Cow::Borrowed(self.flow)
        };
        let mut builder = flow.authorization_url().access_type(AccessType::Offline);
        if let Some(configure) = self.configure {
            builder = configure(builder);
        }
        let (url, pending) = builder.build()?;
        let opened = match self.opener {
            Some(opener) => opener(&url),
            None => open_browser(&url),
        };
        if opened {
            eprintln!("Your browser has been opened to visit:\n\n    {url}\n");
        } else {
            eprintln!("Please visit this URL to authorize this application:\n\n    {url}\n");
        }
        let pending = Arc::new(pending);
        let query = serve(listener, path, pending.clone(), self.timeout).await?;
        flow.exchange(&pending, &query).await
    }
}

impl<'a> IntoFuture for LocalServer<'a> {
    type Output = Result<Credentials>;
    type IntoFuture = BoxFuture<'a, Result<Credentials>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        what: "loopback redirect URI",
        message,
    }
}

/// The address to bind and the path to serve for a loopback redirect URI.
fn loopback_target(raw: &str, any_port: bool) -> Result<(SocketAddr, String)> {
    let url = Url::parse(raw).map_err(|e| invalid(format!("`{raw}`: {e}")))?;
    let ip: Option<IpAddr> = match url.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Some(Ipv4Addr::LOCALHOST.into())
        }
        Some(Host::Ipv4(ip)) if ip.is_loopback() => Some(ip.into()),
        Some(Host::Ipv6(ip)) if ip.is_loopback() => Some(ip.into()),
        _ => None,
    };
    let ip = match ip {
        Some(ip) if url.scheme() == "http" => ip,
        _ => {
            return Err(invalid(format!(
                "`{raw}` is not http://localhost, http://127.0.0.1 or http://[::1]"
            )));
        }
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!("`{raw}` has a query or fragment")));
    }
    let port = match url.port_or_known_default() {
        _ if any_port => 0,
        Some(0) | None => {
            return Err(invalid(format!(
                "`{raw}` has port 0: give the registered port, or use any_port(true) when the \
                 server accepts any loopback port"
            )));
        }
        Some(port) => port,
    };
    Ok((SocketAddr::new(ip, port), url.path().to_owned()))
}

/// Opens `url` in the user's browser with the platform's opener (`xdg-open`, `open`,
/// `cmd /c start`), without waiting for it; returns whether the opener could be started.
/// Failure is not an error: the caller prints the URL.
pub fn open_browser(url: &Url) -> bool {
    let Some(mut command) = opener_command(url) else {
        return false;
    };
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match command.spawn() {
        Ok(mut child) => {
            // Reap it in the background.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}

#[cfg(target_os = "macos")]
fn opener_command(url: &Url) -> Option<std::process::Command> {
    let mut c = std::process::Command::new("open");
    c.arg(url.as_str());
    Some(c)
}

#[cfg(windows)]
fn opener_command(url: &Url) -> Option<std::process::Command> {
    let mut c = std::process::Command::new("cmd");
    // `start` is a cmd built-in; `^&` keeps cmd from splitting the URL at `&`.
    c.args(["/C", "start", ""])
        .arg(url.as_str().replace('&', "^&"));
    Some(c)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn opener_command(url: &Url) -> Option<std::process::Command> {
    let mut c = std::process::Command::new("xdg-open");
    c.arg(url.as_str());
    Some(c)
}

#[cfg(not(any(unix, windows)))]
fn opener_command(_url: &Url) -> Option<std::process::Command> {
    None
}

/// Serves `listener` until one request reaches `path` (returning its query string) or
/// `timeout` passes. Connections are handled concurrently, so a browser's idle
/// pre-connection does not hold up the redirect.
pub(crate) async fn serve(
    listener: TcpListener,
    path: String,
    pending: Arc<PendingAuthorization>,
    timeout: Duration,
) -> Result<String> {
    let (tx, mut rx) = mpsc::channel::<String>(1);
    let taken = Arc::new(AtomicBool::new(false));
    let path: Arc<str> = path.into();
    let mut connections = JoinSet::new();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return Err(Error::LocalServerTimeout { timeout }),
            Some(query) = rx.recv() => return Ok(query),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(handle(
                        stream,
                        path.clone(),
                        pending.clone(),
                        taken.clone(),
                        tx.clone(),
                    ));
                }
                // E.g. out of file descriptors: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    TooLarge,
    Closed,
}

/// Reads a request head, through the blank line ending it.
async fn read_head(stream: &mut TcpStream) -> std::result::Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| HeadError::Closed)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            let end = from + i + 4;
            if end > MAX_REQUEST_HEAD {
                return Err(HeadError::TooLarge);
            }
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The method and target of a request head's request line (`GET /cb?x=1 HTTP/1.1`).
fn parse_request_line(head: &[u8]) -> Option<(&str, &str)> {
    let end = head.iter().position(|&b| b == b'\r' || b == b'\n')?;
    let line = std::str::from_utf8(&head[..end]).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let method_ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    let target_ok = target.starts_with('/') && target.bytes().all(|b| b.is_ascii_graphic());
    let version_ok = matches!(version, "HTTP/1.0" | "HTTP/1.1");
    (parts.next().is_none() && method_ok && target_ok && version_ok).then_some((method, target))
}

/// What to answer, and the query to hand over when the request was the redirect.
struct Reply {
    status: &'static str,
    title: &'static str,
    message: String,
    query: Option<String>,
}

impl Reply {
    fn error(status: &'static str) -> Self {
        Self {
            status,
            title: status,
            message: String::new(),
            query: None,
        }
    }
}

fn route(head: &[u8], path: &str, pending: &PendingAuthorization, taken: &AtomicBool) -> Reply {
    let Some((method, target)) = parse_request_line(head) else {
        return Reply::error("400 Bad Request");
    };
    let (request_path, query) = target.split_once('?').unwrap_or((target, ""));
    if request_path != path {
        return Reply::error("404 Not Found");
    }
    if method != "GET" {
        return Reply::error("405 Method Not Allowed");
    }
    if taken.swap(true, Ordering::SeqCst) {
        return Reply::error("404 Not Found");
    }
    let (status, title, message) = match check_callback(pending, query) {
        Ok(_) => (
            "200 OK",
            "Signed in",
            "The authorization flow has completed. You may close this tab and return to \
             the application."
                .to_owned(),
        ),
        Err(Error::AccessDenied { .. }) => (
            "200 OK",
            "Access denied",
            "You declined access. You may close this tab.".to_owned(),
        ),
        Err(e) => (
            "400 Bad Request",
            "Sign-in failed",
            format!("{e}. You may close this tab."),
        ),
    };
    Reply {
        status,
        title,
        message,
        query: Some(query.to_owned()),
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn handle(
    mut stream: TcpStream,
    path: Arc<str>,
    pending: Arc<PendingAuthorization>,
    taken: Arc<AtomicBool>,
    tx: mpsc::Sender<String>,
) {
    let reply = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => route(&head, &path, &pending, &taken),
        Ok(Err(HeadError::TooLarge)) => Reply::error("400 Bad Request"),
        Ok(Err(HeadError::Closed)) | Err(_) => return,
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title></head>\n<body><h1>{title}</h1><p>{message}</p></body></html>\n",
        title = reply.title,
        message = escape_html(&reply.message),
    );
    let response = format!(
        "HTTP/1.1 {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'\r\nConnection: close\r\n\r\n{body}",
        reply.status,
        body.len(),
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    if let Some(query) = reply.query {
        let _ = tx.send(query).await;
    }
    // Read what the client may still be sending (an oversized head), so that closing does
    // not reset the connection before it reads the answer.
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut total = 0usize;
        while let Ok(n) = stream.read(&mut sink).await {
            total += n;
            if n == 0 || total > 1 << 20 {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        fn ok(s: &str) -> Option<(&str, &str)> {
            parse_request_line(s.as_bytes())
        }
        assert_eq!(
            ok("GET /cb?code=1&state=2 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(("GET", "/cb?code=1&state=2"))
        );
        assert_eq!(ok("POST / HTTP/1.0\r\n\r\n"), Some(("POST", "/")));
        for bad in [
            "",
            "GET\r\n\r\n",
            "GET /cb\r\n\r\n",
            "GET /cb HTTP/2\r\n\r\n",
            "GET  /cb HTTP/1.1\r\n\r\n",
            "GET cb HTTP/1.1\r\n\r\n",
            "get /cb HTTP/1.1\r\n\r\n",
            "GET /c b HTTP/1.1\r\n\r\n",
            "GET /cb HTTP/1.1 extra\r\n\r\n",
            "GET http://evil/cb HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
        assert_eq!(parse_request_line(b"GET /\xff HTTP/1.1\r\n\r\n"), None);
    }

    #[test]
    fn loopback_targets() {
        let t = |s: &str| loopback_target(s, false).map(|(a, p)| (a.to_string(), p));
        assert_eq!(
            t("http://localhost:8080/").unwrap(),
            ("127.0.0.1:8080".into(), "/".into())
        );
        assert_eq!(
            t("http://127.0.0.1:9/oauth2callback").unwrap(),
            ("127.0.0.1:9".into(), "/oauth2callback".into())
        );
        assert_eq!(
            t("http://[::1]:7/cb").unwrap(),
            ("[::1]:7".into(), "/cb".into())
        );
        assert_eq!(t("http://localhost/cb").unwrap().0, "127.0.0.1:80");
        for bad in [
            "https://localhost:8080/",
            "http://example.com:8080/",
            "http://10.0.0.1:8080/",
            "http://localhost:0/",
            "http://localhost:8080/?a=1",
            "not a url",
        ] {
            assert!(matches!(t(bad), Err(Error::InvalidConfig { .. })), "{bad}");
        }
        let (addr, _) = loopback_target("http://localhost:0/", true).unwrap();
        assert_eq!(addr.port(), 0);
        let (addr, _) = loopback_target("http://localhost:8080/", true).unwrap();
        assert_eq!(addr.port(), 0);
    }

    fn pending() -> Arc<PendingAuthorization> {
        Arc::new(PendingAuthorization {
            state: "st".into(),
            code_verifier: "v".into(),
            nonce: None,
            redirect_uri: "http://127.0.0.1/cb".into(),
            issuer: "http://issuer".into(),
            scopes: vec![],
        })
    }

    async fn start(timeout: Duration) -> (SocketAddr, tokio::task::JoinHandle<Result<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, "/cb".into(), pending(), timeout));
        (addr, server)
    }

    /// Sends `request` as is and returns the whole answer.
    async fn send(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn the_redirect_gets_the_success_page_and_its_query_is_returned() {
        let (addr, server) = start(Duration::from_secs(10)).await;
        let answer = send(
            addr,
            b"GET /cb?state=st&code=4%2F0A&scope=email HTTP/1.1\r\nHost: localhost\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("You may close this tab"), "{answer}");
        assert!(answer.contains("Referrer-Policy: no-referrer"));
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert_eq!(
            server.await.unwrap().unwrap(),
            "state=st&code=4%2F0A&scope=email"
        );
    }

    #[tokio::test]
    async fn a_favicon_request_first_is_404_then_the_redirect_works() {
        let (addr, server) = start(Duration::from_secs(10)).await;
        // An idle connection (a browser's pre-connection) holds nothing up.
        let _idle = TcpStream::connect(addr).await.unwrap();
        let answer = send(addr, b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
        let answer = send(addr, b"POST /cb?state=st&code=c HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
        assert!(!server.is_finished());
        // A denial is a redirect too: the page says so, the query goes to the exchange.
        let answer = send(
            addr,
            b"GET /cb?state=st&error=access_denied HTTP/1.1\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("You declined access"), "{answer}");
        assert_eq!(
            server.await.unwrap().unwrap(),
            "state=st&error=access_denied"
        );
    }

    #[tokio::test]
    async fn an_oversized_request_is_400_and_the_server_keeps_waiting() {
        let (addr, server) = start(Duration::from_secs(10)).await;
        let mut big = b"GET /cb?state=st&code=".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_REQUEST_HEAD + 100));
        big.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        let answer = send(addr, &big).await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        // A head without its end, past the limit.
        let answer = send(addr, &[b'x'; MAX_REQUEST_HEAD + 1]).await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        let answer = send(addr, b"garbage\r\n\r\n").await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        // A forged callback is answered with an error page, escaped; the exchange will
        // refuse it with the same error.
        let answer = send(addr, b"GET /cb?state=<x>&code=c HTTP/1.1\r\n\r\n").await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains("Sign-in failed"), "{answer}");
        assert_eq!(server.await.unwrap().unwrap(), "state=<x>&code=c");
    }

    #[tokio::test]
    async fn no_redirect_in_time_is_a_typed_timeout() {
        let (addr, server) = start(Duration::from_millis(150)).await;
        let answer = send(addr, b"GET /favicon.ico HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 404"));
        match server.await.unwrap() {
            Err(Error::LocalServerTimeout { timeout }) => {
                assert_eq!(timeout, Duration::from_millis(150));
            }
            other => panic!("{other:?}"),
        }
        // The port is free again: the listener was dropped.
        TcpListener::bind(addr).await.expect("rebind");
    }
}
