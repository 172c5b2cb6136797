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
    let shutdown = shutdown_signal()?;
    let mut app = Application::build(config).await?;
    if with_demo {
        app = app.with_demo_apis();
    }
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
    app.run_until_stopped(shutdown).await?;
    tracing::info!("keyway stopped");
    Ok(())
}

/// A future that completes on Ctrl-C or SIGTERM. The handlers are registered here, before
/// the server announces itself, so a signal sent right after the announcement is never lost
/// to the default action (an abrupt exit).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            tracing::info!("shutting down: finishing open requests");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing open requests");
        })
    }
}
