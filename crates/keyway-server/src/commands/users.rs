//! `keyway user …` and `keyway scope …`

use std::fmt::Write;
use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use keyway_core::console;
use keyway_core::scope::{Scope, ScopeInfo, Sensitivity};
use keyway_core::{Secret, SystemClock};

use super::{core_err, emit};
use crate::cli::{Cli, ScopeCommand, SensitivityArg, UserCommand};
use crate::database;

pub(super) async fn run_user(cli: &Cli, cmd: &UserCommand) -> anyhow::Result<()> {
    let config = cli.load_config(None)?;
    // Read the password before touching the database, so a refused prompt changes nothing.
    let password = match cmd {
        UserCommand::Create { password_stdin, .. } => Some(read_password(*password_stdin)?),
        _ => None,
    };
    let store = database::open(&config).await?;
    let clock = SystemClock;
    let user = match cmd {
        UserCommand::Create { email, name, .. } => {
            let password = password.unwrap_or_else(|| Secret::new(""));
            let hash = tokio::task::spawn_blocking(move || {
                keyway_core::password::hash_password(&password)
            })
            .await
            .context("password hashing failed")??;
            console::insert_user(&*store, &clock, email, name, hash)
                .await
                .map_err(core_err)?
        }
        UserCommand::List => {
            let users = store.list_users().await?;
            return emit(cli.json, &users, || {
                let mut out = String::new();
                for u in &users {
                    let state = if u.disabled { "disabled" } else { "active" };
                    let _ = writeln!(out, "{}\t{}\t{}\t{state}", u.sub, u.email, u.name);
                }
                if users.is_empty() {
                    out.push_str("no users\n");
                }
                out
            });
        }
        UserCommand::Disable { user } => console::set_user_disabled(&*store, user, true)
            .await
            .map_err(core_err)?,
        UserCommand::Enable { user } => console::set_user_disabled(&*store, user, false)
            .await
            .map_err(core_err)?,
    };
    emit(cli.json, &user, || {
        let state = if user.disabled { "disabled" } else { "active" };
        format!(
            "user {} <{}> sub={} ({state})\n",
            user.name, user.email, user.sub
        )
    })
}

fn read_password(from_stdin: bool) -> anyhow::Result<Secret> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(Secret::new(line.trim_end_matches(['\r', '\n'])));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password: pass --password-stdin and pipe it in");
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let second =
        rpassword::prompt_password("Repeat password: ").context("cannot read the password")?;
    if first != second {
        bail!("the passwords do not match");
    }
    Ok(Secret::new(first))
}

pub(super) async fn run_scope(cli: &Cli, cmd: &ScopeCommand) -> anyhow::Result<()> {
    let config = cli.load_config(None)?;
    let store = database::open(&config).await?;
    match cmd {
        ScopeCommand::List => {
            let scopes = store.list_scopes().await?;
            emit(cli.json, &scopes, || {
                let mut out = String::new();
                for s in &scopes {
                    let _ = writeln!(out, "{}\t{}\t{}", s.scope, s.sensitivity, s.description);
                }
                out
            })
        }
        ScopeCommand::Add {
            scope,
            description,
            sensitivity,
        } => {
            let info = ScopeInfo {
                scope: Scope::parse(scope)?,
                description: description.clone(),
                sensitivity: match sensitivity {
                    SensitivityArg::NonSensitive => Sensitivity::NonSensitive,
                    SensitivityArg::Sensitive => Sensitivity::Sensitive,
                    SensitivityArg::Restricted => Sensitivity::Restricted,
                },
            };
            console::add_scope(&*store, info.clone())
                .await
                .map_err(core_err)?;
            emit(cli.json, &info, || {
                format!(
                    "scope {} ({}): {}\n",
                    info.scope, info.sensitivity, info.description
                )
            })
        }
    }
}
