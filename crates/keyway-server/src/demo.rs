//! `keyway serve --demo`: on an empty database, a demo project, web client and user, with the
//! client_secret.json written to the data directory, so the guides' sample apps run against
//! Keyway at once. Later starts reuse them and print the same instructions.

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::Context;
use keyway_core::client_secret_json::{ClientSecretJson, Endpoints};
use keyway_core::console::{self, ProjectInput};
use keyway_core::{Secret, SecretKind};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::files;

/// The demo project's name.
pub const PROJECT_NAME: &str = "Keyway Demo";
/// The demo user's email.
pub const USER_EMAIL: &str = "demo@example.com";
/// Redirect URIs of the guides' sample apps.
pub const REDIRECT_URIS: [&str; 4] = [
    "http://localhost:8080/oauth2callback",
    "http://127.0.0.1:8080/oauth2callback",
    "http://localhost:8080/",
    "http://localhost/oauth2callback",
];

/// What the demo setup made, as written to `demo.json` in the data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Demo {
    /// The demo project's id.
    pub project_id: String,
    /// The demo client's id.
    pub client_id: String,
    /// The demo user's email.
    pub user_email: String,
    /// The demo user's password (demo data only: printed at every start for convenience).
    pub user_password: String,
    /// Where client_secret.json is.
    pub client_secret_file: PathBuf,
}

/// Creates the demo data if the database has none, then prints how to use it.
pub async fn ensure(state: &AppState) -> anyhow::Result<Demo> {
    let data_dir = &state.config.data_dir;
    crate::config::ensure_data_dir(data_dir)?;
    let record = data_dir.join("demo.json");
    let existing = state.store.find_projects_by_name(PROJECT_NAME).await?;
    let demo = if existing.is_empty() {
        create(state).await?
    } else {
        let text = std::fs::read_to_string(&record).with_context(|| {
            format!(
                "the database has a {PROJECT_NAME:?} project but {} is missing",
                record.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("cannot read {}", record.display()))?
    };
    files::write_private(&record, serde_json::to_string_pretty(&demo)?.as_bytes())?;
    println!("{}", instructions(&demo, state));
    Ok(demo)
}

async fn create(state: &AppState) -> anyhow::Result<Demo> {
    let store = &*state.store;
    let clock = &*state.clock;
    let project = console::create_project(
        store,
        clock,
        ProjectInput {
            name: Some(PROJECT_NAME.into()),
            support_email: Some(USER_EMAIL.into()),
            ..Default::default()
        },
    )
    .await?;
    let uris: Vec<String> = REDIRECT_URIS.iter().map(|s| (*s).to_owned()).collect();
    let origins = vec!["http://localhost:8080".to_owned()];
    let settings = state.config.console_settings();
    let (client, secret) = console::create_client(
        store,
        clock,
        &settings,
        project.id.as_str(),
        "Demo web client",
        &uris,
        &origins,
    )
    .await?;
    let file = state.config.data_dir.join("client_secret.json");
    let json = ClientSecretJson::web(
        &client,
        &secret,
        &Endpoints::from_public_url(&state.public_url),
    );
    files::write_private(&file, json.to_json().as_bytes())?;

    // 18 random characters from a 256-bit secret: plenty for a demo account.
    let password: String = SecretKind::Csrf.generate().expose()[5..23].to_owned();
    let pw = Secret::new(password.clone());
    let hash =
        tokio::task::spawn_blocking(move || keyway_core::password::hash_password(&pw)).await??;
    if state
        .store
        .find_user_by_email(&USER_EMAIL.parse()?)
        .await?
        .is_none()
    {
        console::insert_user(store, clock, USER_EMAIL, "Demo User", hash).await?;
    }
    Ok(Demo {
        project_id: project.id.to_string(),
        client_id: client.client_id.to_string(),
        user_email: USER_EMAIL.into(),
        user_password: password,
        client_secret_file: file,
    })
}

fn instructions(demo: &Demo, state: &AppState) -> String {
    let base = state.public_url.as_str().trim_end_matches('/');
    let mut s = String::new();
    let _ = writeln!(s, "\nDemo ready:");
    let _ = writeln!(
        s,
        "  project             {} ({PROJECT_NAME})",
        demo.project_id
    );
    let _ = writeln!(s, "  client id           {}", demo.client_id);
    let _ = writeln!(
        s,
        "  client_secret.json  {}",
        demo.client_secret_file.display()
    );
    let _ = writeln!(
        s,
        "  sign in as          {} / {}",
        demo.user_email, demo.user_password
    );
    let mut auth = state
        .public_url
        .join("/o/oauth2/v2/auth")
        .unwrap_or_else(|_| state.public_url.clone());
    auth.query_pairs_mut()
        .append_pair("client_id", &demo.client_id)
        .append_pair("redirect_uri", REDIRECT_URIS[0])
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email profile")
        .append_pair("access_type", "offline")
        .append_pair("state", "demo");
    let _ = writeln!(
        s,
        "\nTry the flow in a browser (sign in, consent, land on the redirect URI with a code):"
    );
    let _ = writeln!(s, "  {auth}");
    let _ = writeln!(s, "\nNext:");
    let _ = writeln!(s, "  - check it is up:   curl {base}/readyz");
    let _ = writeln!(
        s,
        "  - call the demo APIs with an access token (scope drive.metadata.readonly / youtube.readonly):"
    );
    let _ = writeln!(
        s,
        "      curl -H 'Authorization: Bearer ACCESS_TOKEN' {base}/drive/v3/files"
    );
    let _ = writeln!(
        s,
        "      curl -H 'Authorization: Bearer ACCESS_TOKEN' '{base}/youtube/v3/channels?part=snippet&mine=true'"
    );
    let _ = writeln!(
        s,
        "  - copy client_secret.json next to an app written for Google's OAuth 2.0 guide"
    );
    let _ = writeln!(
        s,
        "    (redirect URI http://localhost:8080/oauth2callback); its endpoints point here."
    );
    let _ = writeln!(
        s,
        "  - manage it:        keyway client show {}",
        demo.client_id
    );
    s
}
