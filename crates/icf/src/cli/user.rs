//! `icf user …`: operators (admins and editors) managed from the shell.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;
use icf_core::auth::{check_password, parse_email, parse_username};
use icf_core::enums::Role;
use icf_store::users::{NewUser, UserChanges};

use crate::config::Settings;
use crate::startup;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an operator. Without --password, the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// The password (visible to other local users in the process list; prefer stdin).
        #[arg(long)]
        password: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List operators.
    List,
    /// Set an operator's password. Without --password, it is read from standard input.
    SetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Disable an operator: they can no longer sign in and their tokens stop working.
    Disable {
        #[arg(long)]
        username: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: icf_core::ParseEnumError| e.to_string())
}

fn password_from(arg: Option<String>) -> anyhow::Result<String> {
    match arg {
        Some(p) => Ok(p),
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

pub(super) async fn run(settings: Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let db = startup::connect(&settings).await?;
    db.migrate().await.context("applying migrations")?;
    let result = user_command(&db, cmd).await;
    db.close().await;
    result
}

async fn user_command(db: &icf_store::Db, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            username,
            email,
            password,
            role,
        } => create(db, &username, &email, password, role).await,
        UserCommand::List => list(db).await,
        UserCommand::SetPassword { username, password } => {
            set_password(db, &username, password).await
        }
        UserCommand::Disable { username } => disable(db, &username).await,
    }
}

async fn create(
    db: &icf_store::Db,
    username: &str,
    email: &str,
    password: Option<String>,
    role: Role,
) -> anyhow::Result<()> {
    let username = parse_username(username)?;
    let email = parse_email(email)?;
    let password = password_from(password)?;
    check_password(&password)?;
    let password_hash = icf_core::password::hash(&password)?;
    let user = icf_store::users::create(
        db,
        NewUser {
            username,
            email,
            password_hash,
            role,
        },
    )
    .await
    .map_err(|e| match e {
        icf_store::StoreError::Conflict { field } => {
            anyhow::anyhow!("a user with this {field} already exists")
        }
        other => other.into(),
    })?;
    println!(
        "created {} user '{}' ({})",
        user.role, user.username, user.id
    );
    Ok(())
}

async fn list(db: &icf_store::Db) -> anyhow::Result<()> {
    let users = icf_store::users::list(db).await?;
    println!(
        "{:<24} {:<32} {:<7} {:<8} last sign-in",
        "username", "email", "role", "active"
    );
    for u in users {
        println!(
            "{:<24} {:<32} {:<7} {:<8} {}",
            u.username,
            u.email,
            u.role,
            if u.is_active { "yes" } else { "no" },
            u.last_login_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "never".into())
        );
    }
    Ok(())
}

async fn set_password(
    db: &icf_store::Db,
    username: &str,
    password: Option<String>,
) -> anyhow::Result<()> {
    let creds = find(db, username).await?;
    let password = password_from(password)?;
    check_password(&password)?;
    let password_hash = icf_core::password::hash(&password)?;
    icf_store::users::update(
        db,
        creds.user.id,
        UserChanges {
            password_hash: Some(password_hash),
            ..UserChanges::default()
        },
    )
    .await?;
    println!(
        "password of '{}' changed; their old tokens no longer work",
        creds.user.username
    );
    Ok(())
}

async fn disable(db: &icf_store::Db, username: &str) -> anyhow::Result<()> {
    let creds = find(db, username).await?;
    icf_store::users::update(
        db,
        creds.user.id,
        UserChanges {
            is_active: Some(false),
            ..UserChanges::default()
        },
    )
    .await?;
    println!("'{}' is disabled", creds.user.username);
    Ok(())
}

async fn find(
    db: &icf_store::Db,
    username: &str,
) -> anyhow::Result<icf_store::users::UserCredentials> {
    let name = username.trim().to_lowercase();
    icf_store::users::find_by_username(db, &name)
        .await?
        .with_context(|| format!("no user named '{name}'"))
}
