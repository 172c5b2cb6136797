//! `keyway project …`

use std::fmt::Write;

use anyhow::bail;
use keyway_core::console::{self, AudienceInput, ProjectInput};
use keyway_core::project::{Audience, Project, Verification};
use keyway_core::{Store, SystemClock};

use super::{core_err, emit};
use crate::cli::{Cli, ProjectCommand, ProjectFields, UserType};
use crate::database;

pub(super) async fn run(cli: &Cli, cmd: &ProjectCommand) -> anyhow::Result<()> {
    let config = cli.load_config(None)?;
    let store = database::open(&config).await?;
    let clock = SystemClock;
    match cmd {
        ProjectCommand::Create { name, fields } => {
            let mut input = input(fields)?;
            input.name = Some(name.clone());
            let p = console::create_project(&*store, &clock, input)
                .await
                .map_err(core_err)?;
            show(cli.json, &*store, &p).await
        }
        ProjectCommand::List => {
            let projects = store.list_projects().await?;
            emit(cli.json, &projects, || {
                let mut out = String::new();
                for p in &projects {
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        p.id,
                        p.name,
                        p.consent.audience.user_type(),
                        p.consent.verification.as_str()
                    );
                }
                if projects.is_empty() {
                    out.push_str("no projects yet: keyway project create --name NAME --support-email EMAIL\n");
                }
                out
            })
        }
        ProjectCommand::Show { project } => {
            let p = console::resolve_project(&*store, project)
                .await
                .map_err(core_err)?;
            show(cli.json, &*store, &p).await
        }
        ProjectCommand::Update {
            project,
            name,
            fields,
        } => {
            let mut input = input(fields)?;
            input.name = name.clone();
            let p = console::update_project(&*store, &clock, project, input)
                .await
                .map_err(core_err)?;
            show(cli.json, &*store, &p).await
        }
    }
}

fn input(f: &ProjectFields) -> anyhow::Result<ProjectInput> {
    let audience = match (f.user_type, &f.organization) {
        (Some(UserType::Internal), Some(domain)) => Some(AudienceInput::Internal {
            domain: domain.clone(),
        }),
        (Some(UserType::Internal), None) => {
            bail!("--user-type internal needs --organization DOMAIN")
        }
        (None, Some(domain)) => Some(AudienceInput::Internal {
            domain: domain.clone(),
        }),
        (Some(UserType::External), Some(_)) => {
            bail!("--organization only applies to --user-type internal")
        }
        (Some(UserType::External), None) => Some(AudienceInput::External),
        (None, None) => None,
    };
    Ok(ProjectInput {
        name: None,
        app_name: f.app_name.clone(),
        support_email: f.support_email.clone(),
        logo_url: f.logo_url.clone(),
        audience,
        verification: match (f.verified, f.unverified) {
            (true, _) => Some(Verification::Verified),
            (_, true) => Some(Verification::Unverified),
            _ => None,
        },
        owned_domains: (!f.owned_domains.is_empty()).then(|| f.owned_domains.clone()),
    })
}

async fn show(json: bool, store: &dyn Store, p: &Project) -> anyhow::Result<()> {
    let org = match p.consent.audience {
        Audience::Internal { organization_id } => store
            .find_organization(organization_id)
            .await?
            .map(|o| o.domain),
        Audience::External => None,
    };
    let mut value = serde_json::to_value(p)?;
    if let (Some(obj), Some(domain)) = (value.as_object_mut(), &org) {
        obj.insert("organization".into(), domain.clone().into());
    }
    emit(json, &value, || {
        let mut out = String::new();
        let _ = writeln!(out, "project id:     {}", p.id);
        let _ = writeln!(out, "name:           {}", p.name);
        let _ = writeln!(out, "app name:       {}", p.consent.app_name);
        let _ = writeln!(out, "support email:  {}", p.consent.support_email);
        let _ = writeln!(
            out,
            "logo:           {}",
            p.consent.logo_url.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            out,
            "user type:      {}{}",
            p.consent.audience.user_type(),
            org.map(|d| format!(" ({d})")).unwrap_or_default()
        );
        let _ = writeln!(out, "verification:   {}", p.consent.verification.as_str());
        let _ = writeln!(
            out,
            "owned domains:  {}",
            if p.owned_domains.is_empty() {
                "-".into()
            } else {
                p.owned_domains.join(", ")
            }
        );
        out
    })
}
