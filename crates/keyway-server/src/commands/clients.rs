//! `keyway client …`

use std::fmt::Write;
use std::path::Path;

use keyway_core::client_secret_json::{ClientSecretJson, Endpoints};
use keyway_core::console::{self, ClientChanges};
use keyway_core::{OAuthClient, Secret, SystemClock};
use serde_json::json;

use super::{core_err, emit};
use crate::cli::{Cli, ClientCommand};
use crate::config::Config;
use crate::{database, files};

pub(super) async fn run(cli: &Cli, cmd: &ClientCommand) -> anyhow::Result<()> {
    let config = cli.load_config(None)?;
    let store = database::open(&config).await?;
    let clock = SystemClock;
    let settings = config.console_settings();
    match cmd {
        ClientCommand::Create {
            project,
            name,
            redirect_uris,
            origins,
            out,
        } => {
            let (client, secret) = console::create_client(
                &*store,
                &clock,
                &settings,
                project,
                name,
                redirect_uris,
                origins,
            )
            .await
            .map_err(core_err)?;
            announce_secret(cli.json, &config, &client, &secret, out.as_deref())
        }
        ClientCommand::List { project } => {
            let project = match project {
                Some(p) => Some(
                    console::resolve_project(&*store, p)
                        .await
                        .map_err(core_err)?
                        .id,
                ),
                None => None,
            };
            let clients = store.list_clients(project.as_ref()).await?;
            emit(cli.json, &clients, || {
                let mut out = String::new();
                for c in &clients {
                    let state = if c.enabled { "enabled" } else { "disabled" };
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{state}",
                        c.client_id, c.project_id, c.name
                    );
                }
                if clients.is_empty() {
                    out.push_str("no clients\n");
                }
                out
            })
        }
        ClientCommand::Show { client } => {
            let c = console::find_client(&*store, client)
                .await
                .map_err(core_err)?;
            emit(cli.json, &c, || describe(&c))
        }
        ClientCommand::Update {
            client,
            name,
            add_redirect_uris,
            remove_redirect_uris,
            add_origins,
            remove_origins,
            enable,
            disable,
        } => {
            let changes = ClientChanges {
                name: name.clone(),
                add_redirect_uris: add_redirect_uris.clone(),
                remove_redirect_uris: remove_redirect_uris.clone(),
                add_origins: add_origins.clone(),
                remove_origins: remove_origins.clone(),
                enabled: match (enable, disable) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
            };
            let c = console::update_client(&*store, &settings, client, changes)
                .await
                .map_err(core_err)?;
            emit(cli.json, &c, || describe(&c))
        }
        ClientCommand::RotateSecret { client, out } => {
            let (c, _record, secret) = console::rotate_client_secret(&*store, &clock, client)
                .await
                .map_err(core_err)?;
            announce_secret(cli.json, &config, &c, &secret, out.as_deref())
        }
        ClientCommand::DeleteSecret { client, secret_id } => {
            console::delete_client_secret(&*store, client, *secret_id)
                .await
                .map_err(core_err)?;
            emit(cli.json, &json!({"deleted_secret": secret_id}), || {
                format!("deleted secret {secret_id} of {client}\n")
            })
        }
        ClientCommand::Delete { client } => {
            let c = console::find_client(&*store, client)
                .await
                .map_err(core_err)?;
            store.delete_client(&c.client_id).await?;
            emit(cli.json, &json!({"deleted_client": c.client_id}), || {
                format!("deleted client {}\n", c.client_id)
            })
        }
    }
}

/// Prints a new secret once (and writes client_secret.json when asked).
fn announce_secret(
    json: bool,
    config: &Config,
    client: &OAuthClient,
    secret: &Secret,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let endpoints = Endpoints::from_public_url(&config.public_url_for(config.listen));
    let file = ClientSecretJson::web(client, secret, &endpoints);
    if let Some(path) = out {
        files::write_private(path, file.to_json().as_bytes())?;
    }
    let value = json!({
        "client_id": client.client_id,
        "project_id": client.project_id,
        "client_secret": secret.expose(),
        "redirect_uris": client.redirect_uris,
        "javascript_origins": client.javascript_origins,
        "client_secret_json": out.map(|p| p.display().to_string()),
    });
    emit(json, &value, || {
        let mut s = describe(client);
        let _ = writeln!(s, "client secret:  {}", secret.expose());
        s.push_str("                (shown only now: Keyway keeps just its hash)\n");
        if let Some(p) = out {
            let _ = writeln!(s, "wrote {}", p.display());
        }
        s
    })
}

fn describe(c: &OAuthClient) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "client id:      {}", c.client_id);
    let _ = writeln!(out, "project:        {}", c.project_id);
    let _ = writeln!(out, "name:           {}", c.name);
    let _ = writeln!(out, "enabled:        {}", c.enabled);
    for u in &c.redirect_uris {
        let _ = writeln!(out, "redirect URI:   {u}");
    }
    for o in &c.javascript_origins {
        let _ = writeln!(out, "JS origin:      {o}");
    }
    for s in &c.secrets {
        let _ = writeln!(
            out,
            "secret {:<7} …{} (created {})",
            format!("{}:", s.id),
            s.hint,
            s.created_at
        );
    }
    out
}
