//! `keyway serve`: logging, the database, the demo data, then the server until a signal.

use std::io::IsTerminal;

use anyhow::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::app::Application;
use crate::config::Config;
use crate::demo;

pub(super) async fn run(config: Config, with_demo: bool) -> anyhow::Result<()> {
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(config.log_filter()?)
        .try_init()
        .context("cannot set up logging")?;
    let app = Application::build(config).await?;
    let url = app.public_url().clone();
    tracing::info!(%url, addr = %app.local_addr(), database = app.state().store.backend(), "keyway is listening");
    println!(
        "Keyway is listening on {} ({})",
        app.local_addr(),
        url.as_str().trim_end_matches('/')
    );
    if let Some(ca) = app.tls_ca() {
        println!(
            "TLS: self-signed. Trust this CA to connect: {}",
            ca.display()
        );
        println!("     e.g. curl --cacert {} {}readyz", ca.display(), url);
    }
    if with_demo {
        demo::ensure(app.state()).await?;
    }
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("keyway stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing open requests");
}
