//! `TestApp`: a real Keyway server on a loopback port, over a fresh database, with a
//! controllable clock and an HTTP client that keeps cookies and does not follow redirects.

use std::net::SocketAddr;
use std::sync::Arc;

use keyway_core::{ManualClock, Store, Timestamp};
use keyway_server::{Application, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use crate::db::TestStore;

/// A running server for one test; stops when dropped.
#[derive(Debug)]
pub struct TestApp {
    /// Where it listens.
    pub address: SocketAddr,
    /// Where it listens, as a URL (`http://localhost:<port>/`).
    pub base_url: Url,
    /// A client that keeps cookies and never follows redirects.
    pub http: reqwest::Client,
    /// The server's clock; advance it to test expiry.
    pub clock: Arc<ManualClock>,
    /// The server's database.
    pub db: TestStore,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

/// The moment every test clock starts at.
pub const START: Timestamp = Timestamp::from_unix(1_800_000_000);

impl TestApp {
    /// A server on a fresh SQLite database.
    pub async fn spawn() -> Self {
        Self::spawn_on(TestStore::sqlite().await, |_| {}).await
    }

    /// A server on the given database, with `configure` applied to its configuration.
    pub async fn spawn_on(db: TestStore, configure: impl FnOnce(&mut Config)) -> Self {
        install_crypto_provider();
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Config::default()
        };
        if let Some(dir) = db.sqlite_dir() {
            config.data_dir = dir.to_path_buf();
        }
        configure(&mut config);
        let clock = Arc::new(ManualClock::new(START));
        let app = Application::build_with(config, db.store.clone(), clock.clone())
            .await
            .expect("build the application")
            .with_demo_apis();
        let address = app.local_addr();
        // Where the server really listens (the public URL may be configured to name another
        // host, e.g. to test what Keyway prints for https deployments).
        let tls = app.state().config.tls != keyway_server::config::Tls::Off;
        let scheme = if tls { "https" } else { "http" };
        let base_url =
            Url::parse(&format!("{scheme}://localhost:{}/", address.port())).expect("a valid URL");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| format!("{e:#}"))
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("HTTP client");
        Self {
            address,
            base_url,
            http,
            clock,
            db,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The store the server uses.
    pub fn store(&self) -> &dyn Store {
        &*self.db.store
    }

    /// An absolute URL on the server.
    pub fn url(&self, path: &str) -> Url {
        self.base_url.join(path).expect("valid path")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Installs rustls's ring provider as the process default (reqwest is built without one).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
