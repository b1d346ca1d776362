//! `oci-vault-emulator scan-logs FILE… [--state URL]`: posts each file, in
//! chunks of whole lines, to the running emulator's `POST /_emulator/scan`
//! (which builds its value index in memory, scans, and drops it), and prints
//! one line per finding: `FILE:LINE: secret OCID version N (ENCODING)`.
//! Never the value. Exit 0 when clean, 1 when anything was found, 2 on an
//! error (unreadable file, emulator unreachable).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde::Deserialize;

use crate::config::ScanLogsArgs;

/// Largest chunk posted at once, in bytes (whole lines; a longer single
/// line is posted alone). The endpoint accepts up to 16 MiB.
const CHUNK: usize = 4 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanResult {
    findings: Vec<Finding>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Finding {
    line: usize,
    secret_id: String,
    version_number: u64,
    encoding: String,
}

/// Runs the subcommand (see the module doc).
///
/// # Errors
/// A file cannot be read or the emulator does not answer 200.
pub fn run(args: &ScanLogsArgs) -> anyhow::Result<ExitCode> {
    let mut total = 0usize;
    for file in &args.files {
        let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        for (path_line, f) in scan_file(&args.state, file, &text)? {
            println!(
                "{path_line}: secret {} version {} ({})",
                f.secret_id, f.version_number, f.encoding
            );
            total += 1;
        }
    }
    if total == 0 {
        eprintln!(
            "scan-logs: no secret value found in {} file(s)",
            args.files.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("scan-logs: {total} finding(s)");
        Ok(ExitCode::from(1))
    }
}

fn scan_file(url: &str, file: &Path, text: &[u8]) -> anyhow::Result<Vec<(String, Finding)>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut first_line = 0;
    while start < text.len() {
        let mut end = (start + CHUNK).min(text.len());
        if end < text.len() {
            // Back to the end of the last whole line, unless the line alone
            // is longer than a chunk.
            if let Some(nl) = text[start..end].iter().rposition(|b| *b == b'\n') {
                end = start + nl + 1;
            } else if let Some(nl) = text[end..].iter().position(|b| *b == b'\n') {
                end += nl + 1;
            } else {
                end = text.len();
            }
        }
        let chunk = &text[start..end];
        let result: ScanResult = post_scan(url, chunk)?;
        for f in result.findings {
            out.push((format!("{}:{}", file.display(), first_line + f.line), f));
        }
        first_line += chunk.iter().filter(|b| **b == b'\n').count();
        start = end;
    }
    Ok(out)
}

/// `POST <url>/_emulator/scan` over a plain connection (HTTP/1.1,
/// `Connection: close`).
fn post_scan(url: &str, body: &[u8]) -> anyhow::Result<ScanResult> {
    let Some(authority) = url
        .strip_prefix("http://")
        .map(|r| r.split('/').next().unwrap_or(r))
    else {
        bail!("--state must be an http:// URL of a running emulator");
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .with_context(|| format!("no address for {authority}"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connecting to {url}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        stream,
        "POST /_emulator/scan HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("the emulator's answer has no header end")?;
    let head = String::from_utf8_lossy(&response[..split]);
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "{url}/_emulator/scan answered {}",
            head.lines().next().unwrap_or("")
        );
    }
    serde_json::from_slice(&response[split + 4..]).context("reading the scan result")
}
