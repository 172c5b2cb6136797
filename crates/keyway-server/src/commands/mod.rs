//! The commands behind the CLI. Each opens the same database `serve` uses.

mod clients;
mod orgs;
mod projects;
mod serve;
mod users;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::database;

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => serve::run(cli.load_config(Some(args))?, args.demo).await,
        Command::Config(ConfigCommand::Show(args)) => {
            print!("{}", cli.load_config(Some(args))?.to_toml());
            Ok(())
        }
        Command::Migrate => {
            let config = cli.load_config(None)?;
            let version = database::schema_version(&config).await?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({"database": database::describe_target(&config), "schema_version": version})
                );
            } else {
                println!(
                    "{}: schema version {version} (up to date)",
                    database::describe_target(&config)
                );
            }
            Ok(())
        }
        Command::Project(cmd) => projects::run(&cli, cmd).await,
        Command::Client(cmd) => clients::run(&cli, cmd).await,
        Command::Org(cmd) => orgs::run(&cli, cmd).await,
        Command::User(cmd) => users::run_user(&cli, cmd).await,
        Command::Scope(cmd) => users::run_scope(&cli, cmd).await,
    }
}

/// Prints `value` as JSON, or `human` otherwise.
fn emit(
    json: bool,
    value: &impl serde::Serialize,
    human: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", human());
    }
    Ok(())
}

/// Maps a core error to a one-line CLI error (internal store errors keep their message: the
/// operator running the CLI is the one who needs it).
fn core_err(e: keyway_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
