//! A command-line tool signing in with `Flow::run_local_server`: it opens the browser on
//! the consent page, takes the redirect on `http://localhost:8080/`, prints the granted
//! scopes, and keeps the credentials in a file for the next run.
//!
//! Against a local Keyway with its demo data, from the workspace root:
//!
//! ```text
//! keyway serve --demo        # prints the demo user's email and password, and writes
//!                            # keyway-data/client_secret.json
//! cargo run -p keyway-client --example cli -- [client_secret.json] [token file]
//! ```
//!
//! The arguments default to `keyway-data/client_secret.json` and
//! `keyway-data/cli-token.json`. The demo client's redirect URIs include
//! `http://localhost:8080/`, which this example binds (so port 8080 must be free); sign in
//! as the demo user and allow the scopes. When no browser can be opened, the URL is printed:
//! open it on the same machine. With Google, use a client whose redirect URIs include
//! `http://localhost:8080/`.
//!
//! Run it again: the saved credentials are used, refreshed through the file store when
//! they are about to expire, and the tool signs in again only when the grant was revoked.
//! The token file holds the refresh token and the client secret (mode 0600): treat it like
//! a password.

use std::process::ExitCode;

use keyway_client::{AuthorizedClient, Credentials, Error, FileTokenStore, Flow};

const SCOPES: [&str; 3] = ["openid", "email", "profile"];
const REDIRECT_URI: &str = "http://localhost:8080/";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let secrets = args
        .next()
        .unwrap_or_else(|| "keyway-data/client_secret.json".into());
    let token_file = args
        .next()
        .unwrap_or_else(|| "keyway-data/cli-token.json".into());
    match run(&secrets, FileTokenStore::new(token_file)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(secrets: &str, store: FileTokenStore) -> keyway_client::Result<()> {
    let credentials = match store.load()? {
        Some(saved) => match fresh(saved, &store).await {
            Ok(c) => {
                println!("Using the credentials in {}", store.path().display());
                c
            }
            Err(Error::ConsentRequired { .. }) => {
                println!("The saved grant is no longer valid: signing in again.");
                sign_in(secrets, &store).await?
            }
            Err(e) => return Err(e),
        },
        None => sign_in(secrets, &store).await?,
    };

    let granted = credentials
        .granted_scopes
        .as_ref()
        .unwrap_or(&credentials.scopes);
    println!("Granted scopes:");
    for scope in granted {
        println!("  {scope}");
    }
    if !credentials.has_scopes(&["email"]) {
        println!("(email was not granted: the user unticked it)");
    }
    Ok(())
}

/// The saved credentials with a token valid for the next five minutes, refreshed (and
/// saved) through the file store when needed.
async fn fresh(saved: Credentials, store: &FileTokenStore) -> keyway_client::Result<Credentials> {
    let client = AuthorizedClient::new(saved)?.with_file_store(store.clone());
    client.access_token().await?;
    Ok(client.credentials())
}

async fn sign_in(secrets: &str, store: &FileTokenStore) -> keyway_client::Result<Credentials> {
    let flow = Flow::from_client_secrets_file(secrets, SCOPES)?.with_redirect_uri(REDIRECT_URI);
    let credentials = flow.run_local_server().await?;
    if let Some(dir) = store.path().parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    store.save(&credentials)?;
    println!("Signed in; credentials saved to {}", store.path().display());
    Ok(credentials)
}
