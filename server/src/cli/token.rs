//! `oci-vault-emulator token session|resource-principal`: ask a running
//! emulator (`--url`, `OCI_EMULATOR_URL`) for a security token, since its
//! tokens are signed by that process's key. A plain HTTP/1.1 POST over TCP,
//! like `healthcheck`, so the binary needs no HTTP client.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use crate::config::{ResourcePrincipalArgs, SessionTokenArgs, TokenCommand};

/// Runs a `token` subcommand: prints its result on stdout.
///
/// # Errors
/// The emulator cannot be reached or refuses the request (its OCI error
/// body is shown), or `--dir` cannot be written.
pub fn run(command: &TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Session(args) => session(args),
        TokenCommand::ResourcePrincipal(args) => resource_principal(args),
    }
}

fn session(args: &SessionTokenArgs) -> anyhow::Result<()> {
    let answer = post(
        &args.url,
        "/_emulator/tokens/session",
        &json!({"userId": args.user, "ttlSeconds": args.ttl_seconds}),
    )?;
    let (Some(token), Some(pem)) = (
        answer.get("token").and_then(Value::as_str),
        answer.get("privatePem").and_then(Value::as_str),
    ) else {
        bail!("the emulator's answer has no token and privatePem");
    };
    let Some(dir) = &args.dir else {
        println!("{answer}");
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = std::fs::canonicalize(dir).with_context(|| format!("reading {}", dir.display()))?;
    let token_path = dir.join("token");
    let key_path = dir.join("key.pem");
    crate::store::write_private_file(&token_path, token.as_bytes())
        .with_context(|| format!("writing {}", token_path.display()))?;
    crate::store::write_private_file(&key_path, pem.as_bytes())
        .with_context(|| format!("writing {}", key_path.display()))?;
    let tenancy = crate::auth::tokens::unverified_claims(token)
        .and_then(|c| c.get("tenant").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    println!(
        "# oci config profile for a session token (use with --auth security_token --endpoint {url})\n[SESSION]\ntenancy={tenancy}\nregion=us-ashburn-1\nsecurity_token_file={token}\nkey_file={key}",
        url = args.url,
        token = token_path.display(),
        key = key_path.display(),
    );
    Ok(())
}

fn resource_principal(args: &ResourcePrincipalArgs) -> anyhow::Result<()> {
    let answer = post(
        &args.url,
        "/_emulator/tokens/resource-principal",
        &json!({
            "resourceType": args.resource_type,
            "resourceId": args.resource_id,
            "compartmentId": args.compartment,
            "ttlSeconds": args.ttl_seconds,
        }),
    )?;
    let field = |name: &str| {
        answer
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("the emulator's answer has no {name}"))
    };
    for (name, value) in [
        ("OCI_RESOURCE_PRINCIPAL_VERSION", field("version")?),
        ("OCI_RESOURCE_PRINCIPAL_RPST", field("rpst")?),
        ("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", field("privatePem")?),
        ("OCI_RESOURCE_PRINCIPAL_REGION", field("region")?),
    ] {
        println!("export {name}={}", shell_quote(&value));
    }
    Ok(())
}

/// `'…'` with every `'` written as `'\''` (POSIX sh).
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// POSTs JSON to `url` + `path`; answers the JSON of a 200.
fn post(url: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let Some(authority) = url
        .strip_prefix("http://")
        .map(|r| r.split('/').next().unwrap_or(r))
    else {
        bail!("--url must be an http:// URL");
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{authority} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connecting to {url}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.to_string();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("{url} answered something that is not HTTP"))?;
    let status = head.split(' ').nth(1).unwrap_or("");
    if status != "200" {
        bail!("{url}{path} answered {status}: {body}");
    }
    serde_json::from_str(body).with_context(|| format!("{url}{path} answered no JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_sh() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
