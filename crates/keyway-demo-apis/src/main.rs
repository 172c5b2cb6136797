//! `keyway-demo-apis`: the demo APIs on their own, validating tokens against a Keyway server
//! by introspection (or any tokeninfo endpoint, Google's included).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use keyway_resource::{IntrospectionValidator, TokenInfoValidator, Validator};

/// The demo Drive and YouTube APIs, standalone.
#[derive(Debug, Parser)]
#[command(name = "keyway-demo-apis", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Keyway's introspection endpoint, e.g. http://localhost:8000/introspect.
    #[arg(long, requires_all = ["client_id", "client_secret"], conflicts_with = "tokeninfo_url")]
    introspect_url: Option<String>,
    /// The client id to introspect as.
    #[arg(long, env = "KEYWAY_DEMO_CLIENT_ID")]
    client_id: Option<String>,
    /// The client secret to introspect with.
    #[arg(long, env = "KEYWAY_DEMO_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Trust introspection answers for this many seconds (a revoked token passes that long).
    #[arg(long)]
    cache_seconds: Option<u64>,
    /// A tokeninfo endpoint instead (https://oauth2.googleapis.com/tokeninfo for Google's tokens).
    #[arg(long)]
    tokeninfo_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let validator: Arc<dyn Validator> = match (args.introspect_url, args.tokeninfo_url) {
        (Some(url), None) => {
            let mut v = IntrospectionValidator::new(
                http,
                url,
                args.client_id.unwrap_or_default(),
                args.client_secret.unwrap_or_default(),
            );
            if let Some(s) = args.cache_seconds {
                v = v.with_cache(Duration::from_secs(s));
            }
            Arc::new(v)
        }
        (None, Some(url)) => Arc::new(TokenInfoValidator::new(http, url)),
        _ => anyhow::bail!(
            "give --introspect-url (with --client-id and --client-secret) or --tokeninfo-url"
        ),
    };
    let app: axum::Router = keyway_demo_apis::router(validator);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("demo APIs on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
