//! The application: state, router and the server loop, shared by `keyway serve` and the tests.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use keyway_core::{Clock, Store, SystemClock};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use url::Url;

use crate::config::{Config, Tls};
use crate::tls::{self, TlsMaterial, TlsSource};
use crate::{api, database, pages};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The configuration.
    pub config: Arc<Config>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The external base URL every absolute URL is built from.
    pub public_url: Url,
    /// Argon2id runs at most this many at once: each takes 19 MiB and a core, so without a
    /// bound a burst of sign-ins would take memory in proportion to the burst.
    pub password_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Token lifetimes and limits from the configuration.
    pub fn token_settings(&self) -> keyway_core::token::TokenSettings {
        keyway_core::token::TokenSettings {
            access_token_lifetime: Duration::from_secs(u64::from(
                self.config.tokens.access_token_lifetime,
            )),
            refresh_limits: self.config.refresh_limits(),
        }
    }

    /// The issuer identifier (RFC 9207 `iss`, and later the discovery document's `issuer`).
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }
}

/// A bound, not yet running server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
    tls: Option<TlsMaterial>,
    demo_apis: bool,
}

/// Requests larger than this are refused before any handler reads them.
const BODY_LIMIT: usize = 64 * 1024;

impl Application {
    /// Opens the configured database and binds the listening socket.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = database::open(&config).await?;
        Self::build_with(config, store, Arc::new(SystemClock)).await
    }

    /// Binds with an already opened store and a given clock (the test kit's entry point).
    pub async fn build_with(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        keyway_core::console::seed_default_scopes(&*store)
            .await
            .context("cannot seed the scope catalogue")?;
        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let public_url = config.public_url_for(local_addr);
        let tls = match &config.tls {
            Tls::Off => None,
            Tls::SelfSigned => Some(tls::prepare(&TlsSource::SelfSigned {
                data_dir: config.data_dir.clone(),
                extra_host: public_url.host_str().map(str::to_owned),
            })?),
            Tls::Files { cert, key } => Some(tls::prepare(&TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            })?),
        };
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let state = AppState {
            store,
            config: Arc::new(config),
            clock,
            public_url,
            password_slots: Arc::new(tokio::sync::Semaphore::new(cores)),
        };
        Ok(Self {
            listener,
            local_addr,
            state,
            tls,
            demo_apis: false,
        })
    }

    /// Also serves the demo Drive and YouTube APIs (`keyway serve --demo`), validating tokens
    /// in-process.
    pub fn with_demo_apis(mut self) -> Self {
        self.demo_apis = true;
        self
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public URL.
    pub fn public_url(&self) -> &Url {
        &self.state.public_url
    }

    /// The shared state (for the demo setup and tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The issuer (`iss`): the public URL without a trailing slash.
    pub fn issuer(&self) -> String {
        self.state.issuer()
    }

    /// The CA users should trust, when serving with `--tls self-signed`.
    pub fn tls_ca(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().and_then(|t| t.ca_pem.as_deref())
    }

    /// Serves until `shutdown` completes, then drains open requests for up to ten seconds.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = router(self.state.clone(), self.demo_apis);
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        let janitor = tokio::spawn(purge_expired(self.state.clone()));
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = match self.tls {
            None => {
                axum_server::from_tcp(self.listener)?
                    .handle(handle)
                    .serve(service)
                    .await
            }
            Some(material) => {
                let rustls = tls::rustls_config(&material)?;
                axum_server::from_tcp_rustls(self.listener, rustls)?
                    .handle(handle)
                    .serve(service)
                    .await
            }
        };
        janitor.abort();
        result.context("the server stopped with an error")
    }
}

/// Every route of the server (and the demo APIs when asked).
pub fn router(state: AppState, demo_apis: bool) -> Router {
    let mut routes = Router::new();
    if demo_apis {
        let validator =
            keyway_resource::StoreValidator::new(state.store.clone(), state.clock.clone());
        routes = routes.merge(keyway_demo_apis::router(Arc::new(validator)));
    }
    routes
        .merge(api::health::router())
        .merge(api::token::router())
        .merge(api::revoke::router())
        .merge(api::tokeninfo::router())
        .merge(pages::router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            // The span names the method and path only: query strings can carry tokens
            // (`?access_token=`), which must never reach a log.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
}

/// Deletes expired tokens, codes and sessions every five minutes.
async fn purge_expired(state: AppState) {
    /// Used codes are kept this long past expiry so a late replay is still recognised.
    const CODE_RETENTION_SECS: i64 = 30 * 60;
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        match state
            .store
            .delete_expired(state.clock.now(), CODE_RETENTION_SECS)
            .await
        {
            Ok(n) if n > 0 => tracing::debug!(rows = n, "purged expired rows"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge expired rows"),
        }
    }
}
