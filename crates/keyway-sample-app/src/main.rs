//! `keyway-sample-app`: run the guides' example against `keyway serve --demo` (the defaults)
//! or, with Google's client_secret.json and `--api-base https://www.googleapis.com`, Google.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use keyway_sample_app::{App, Settings};

/// The guides' complete example web app.
#[derive(Debug, Parser)]
#[command(name = "keyway-sample-app", version)]
struct Args {
    /// The client's client_secret.json (`keyway serve --demo` writes one).
    #[arg(long, default_value = "keyway-data/client_secret.json")]
    client_secrets: PathBuf,
    /// A scope to request (repeatable).
    #[arg(
        long = "scope",
        default_value = "https://www.googleapis.com/auth/drive.metadata.readonly"
    )]
    scopes: Vec<String>,
    /// Base URL of the APIs (Keyway's demo APIs by default).
    #[arg(long, default_value = "http://localhost:8000")]
    api_base: String,
    /// Address to listen on (the demo client's redirect URI is http://localhost:8080/oauth2callback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The redirect URI registered for the client.
    #[arg(long, default_value = "http://localhost:8080/oauth2callback")]
    redirect_uri: String,
    /// Where credentials are kept.
    #[arg(long, default_value = "sample-app.db")]
    database: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let app = App::new(Settings {
        client_secrets: a.client_secrets,
        scopes: a.scopes,
        api_base: a.api_base,
        redirect_uri: a.redirect_uri,
        database: a.database,
    })
    .await?;
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    println!(
        "sample app on http://{} — open http://localhost:{}/",
        listener.local_addr()?,
        listener.local_addr()?.port()
    );
    axum::serve(listener, app.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
