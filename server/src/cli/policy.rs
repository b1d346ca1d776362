//! `oci-vault-emulator policy check|lint`: the simulate endpoint's answer,
//! offline, from a tenancy file (every named resource is taken to live in
//! `--compartment`).

use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::{PolicyCheckArgs, PolicyCommand};
use crate::iam::authz::{self, PrincipalSpec, TargetSpec};
use crate::iam::eval::Engine;
use crate::iam::tenancy::Tenancy;

fn load(path: Option<&std::path::Path>) -> anyhow::Result<Tenancy> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Tenancy::load(&text, &path.display().to_string())
        }
        None => Ok(Tenancy::embedded()),
    }
}

/// Runs a `policy` subcommand.
///
/// # Errors
/// An unreadable or invalid tenancy file, an unknown user or operation, or
/// a target the operation needs that was not given.
pub fn run(command: &PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check(args) => check(args),
        PolicyCommand::Lint(args) => {
            let tenancy = load(args.tenancy.as_deref())?;
            let engine = Engine::new(&tenancy.file, tenancy.file.policies.clone())
                .map_err(anyhow::Error::msg)?;
            let lint = engine.lint();
            for l in &lint {
                println!("{} [{}] {}\n  {}", l.policy, l.statement, l.text, l.message);
            }
            Ok(if lint.is_empty() {
                println!("no findings");
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// `--at`: an RFC 3339 time, or a timestamp as a policy writes it.
fn request_time(text: &str) -> anyhow::Result<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .or_else(|_| crate::iam::time_conditions::parse_stamp(text))
        .map_err(|why| anyhow::anyhow!("--at: {why}"))
}

fn check(args: &PolicyCheckArgs) -> anyhow::Result<ExitCode> {
    let tenancy = load(args.tenancy.as_deref())?;
    let engine =
        Engine::new(&tenancy.file, tenancy.file.policies.clone()).map_err(anyhow::Error::msg)?;
    let operation = authz::operation_named(&args.operation)
        .with_context(|| format!("no OCI operation is named {:?}", args.operation))?;
    let principal = authz::simulated_principal(
        &tenancy,
        engine.directory(),
        &PrincipalSpec {
            user: Some(args.user.clone()),
            ..PrincipalSpec::default()
        },
    )
    .map_err(anyhow::Error::msg)?;
    let spec = TargetSpec {
        compartment_id: Some(args.compartment.clone()),
        vault_id: args.vault_id.clone(),
        key_id: args.key_id.clone(),
        secret_id: args.secret_id.clone(),
        secret_name: args.secret_name.clone(),
    };
    let targets = authz::offline_targets(engine.directory(), &spec).map_err(anyhow::Error::msg)?;
    let at = match &args.at {
        Some(text) => request_time(text)?,
        None => time::OffsetDateTime::now_utc(),
    };
    let explanation = authz::simulate(&engine, principal, operation, &args.region, &targets, at)
        .map_err(|why| {
            anyhow::anyhow!(
                "{}: {why} (give --vault-id, --key-id, --secret-id or --secret-name)",
                operation.name()
            )
        })?;
    let allowed = explanation["decision"] == "allowed";
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        println!("{}", explanation["summary"].as_str().unwrap_or_default());
        if let Some(response) = explanation.get("response") {
            println!(
                "  answers {} {}",
                response["status"],
                response["code"].as_str().unwrap_or("")
            );
        }
        for c in explanation["checks"].as_array().into_iter().flatten() {
            let mark = if c["granted"] == true {
                "granted"
            } else {
                "DENIED "
            };
            println!(
                "  {mark} {} on {} {} in {}",
                c["permission"].as_str().unwrap_or(""),
                c["target"]["kind"].as_str().unwrap_or(""),
                c["target"]["name"]
                    .as_str()
                    .or(c["target"]["id"].as_str())
                    .unwrap_or(""),
                c["target"]["compartmentPath"].as_str().unwrap_or("")
            );
            if let Some(by) = c["grantedBy"].as_object() {
                println!(
                    "      by policy {:?}: {}",
                    by["policy"].as_str().unwrap_or(""),
                    by["statement"].as_str().unwrap_or("")
                );
                continue;
            }
            for s in c["statements"].as_array().into_iter().flatten() {
                let why: Vec<&str> = ["subject", "verb", "location", "condition"]
                    .iter()
                    .filter(|f| s[**f]["ok"] == false)
                    .filter_map(|f| s[*f]["why"].as_str())
                    .collect();
                println!(
                    "      {:?}: {}\n        {}",
                    s["policy"].as_str().unwrap_or(""),
                    s["statement"].as_str().unwrap_or(""),
                    why.join("; ")
                );
            }
        }
        println!("(--json for the full explanation)");
    }
    Ok(if allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
