//! `keyway org …`

use std::fmt::Write;

use keyway_core::SystemClock;
use keyway_core::console::{self, PolicyChanges};
use keyway_core::project::Organization;

use super::{core_err, emit};
use crate::cli::{Cli, OrgCommand};
use crate::database;

pub(super) async fn run(cli: &Cli, cmd: &OrgCommand) -> anyhow::Result<()> {
    let config = cli.load_config(None)?;
    let store = database::open(&config).await?;
    let org = match cmd {
        OrgCommand::Create { domain, name } => {
            console::create_organization(&*store, &SystemClock, domain, name.as_deref())
                .await
                .map_err(core_err)?
        }
        OrgCommand::List => {
            let orgs = store.list_organizations().await?;
            return emit(cli.json, &orgs, || {
                let mut out = String::new();
                for o in &orgs {
                    let _ = writeln!(out, "{}\t{}", o.domain, o.name);
                }
                if orgs.is_empty() {
                    out.push_str("no organizations\n");
                }
                out
            });
        }
        OrgCommand::Show { domain } => console::find_organization(&*store, domain)
            .await
            .map_err(core_err)?,
        OrgCommand::Update {
            domain,
            block_scopes,
            unblock_scopes,
            block_clients,
            unblock_clients,
        } => {
            let changes = PolicyChanges {
                block_scopes: block_scopes.clone(),
                unblock_scopes: unblock_scopes.clone(),
                block_clients: block_clients.clone(),
                unblock_clients: unblock_clients.clone(),
            };
            console::update_organization_policy(&*store, domain, changes)
                .await
                .map_err(core_err)?
        }
    };
    emit(cli.json, &org, || describe(&org))
}

fn describe(o: &Organization) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "domain:          {}", o.domain);
    let _ = writeln!(out, "name:            {}", o.name);
    let scopes = o.blocked_scopes.to_string();
    let _ = writeln!(
        out,
        "blocked scopes:  {}",
        if scopes.is_empty() { "-" } else { &scopes }
    );
    let clients: Vec<&str> = o.blocked_clients.iter().map(|c| c.as_str()).collect();
    let _ = writeln!(
        out,
        "blocked apps:    {}",
        if clients.is_empty() {
            "-".to_owned()
        } else {
            clients.join(", ")
        }
    );
    out
}
