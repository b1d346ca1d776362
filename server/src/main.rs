//! The `oci-vault-emulator` binary: parse the command line, set up logging,
//! run the subcommand.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;
use oci_vault_emulator::config::{Cli, Command, HealthcheckArgs, LogFormat, PrintConfigArgs};
use oci_vault_emulator::Application;

/// jemalloc for the Rust side of the server (SQLite allocates through libc's
/// `malloc`, which `store::heap` trims): on the two-core bench machine a
/// signed GetSecretBundle cost 15-20 % less server CPU than with glibc's
/// allocator, where malloc and free were an eighth of the profile.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            let _log = init_tracing(config.log_format);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Healthcheck(args) => healthcheck(&args),
        Command::PrintConfig(args) => match print_config(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::ScanLogs(args) => match oci_vault_emulator::cli::scan_logs::run(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Policy(command) => match oci_vault_emulator::cli::policy::run(&command) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Token(command) => match oci_vault_emulator::cli::token::run(&command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn serve(config: oci_vault_emulator::ServeConfig) -> anyhow::Result<()> {
    let region = config.region.clone();
    let store = if config.data_dir.is_some() {
        "sqlite file"
    } else {
        "in-memory"
    };
    let tenancy = config
        .tenancy
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "embedded fixtures".into());
    let app = Application::build(config).await?;
    let addr = format!("http://{}", app.local_addr_display());
    tracing::info!(
        url = %addr, region = %region, store = store, tenancy = %tenancy,
        "oci-vault-emulator ready; SDK config: `oci-vault-emulator print-config` or fixtures/oci/config"
    );
    app.run_until(oci_vault_emulator::app::shutdown_signal())
        .await
}

/// Installs the global subscriber. Lines go through a buffered writer on a
/// thread of its own (`tracing-appender`), not lossy: when its queue of
/// lines is full, logging waits rather than drops. The guard flushes what is
/// queued when dropped, at the end of `main`.
fn init_tracing(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("oci-vault-emulator-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let filter = tracing_subscriber::EnvFilter::try_from_env("OCI_EMULATOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rusqlite_migration=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}

/// `GET <url>/_emulator/health` over a plain TCP connection; exit 0 on 200.
fn healthcheck(args: &HealthcheckArgs) -> ExitCode {
    let Some(authority) = args
        .url
        .strip_prefix("http://")
        .map(|r| r.split('/').next().unwrap_or(r))
    else {
        eprintln!("error: --url must be an http:// URL");
        return ExitCode::FAILURE;
    };
    let attempt = || -> std::io::Result<bool> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        write!(
            stream,
            "GET /_emulator/health HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response.starts_with("HTTP/1.1 200"))
    };
    match attempt() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("unhealthy: {} did not answer 200", args.url);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {}: {e}", args.url);
            ExitCode::FAILURE
        }
    }
}

/// The fixture profiles of `fixtures/oci/config`, with their private keys
/// (test keys, published on purpose).
const PROFILES: &[(&str, &str, &str, &str)] = &[
    (
        "DEFAULT",
        "ocid1.user.oc1..aaaaaaaaemulatoradmin00000000000000000000000000000000000000001",
        "22:47:b6:6f:a2:92:f5:10:e0:48:39:d9:9b:ed:ec:d6",
        include_str!("../../fixtures/oci/keys/admin.pem"),
    ),
    (
        "DEVELOPER",
        "ocid1.user.oc1..aaaaaaaaemulatordeveloper000000000000000000000000000000000001",
        "87:df:4b:d3:b7:41:a2:59:5a:55:f4:a8:23:f2:35:a2",
        include_str!("../../fixtures/oci/keys/developer.pem"),
    ),
    (
        "APPREADER",
        "ocid1.user.oc1..aaaaaaaaemulatorappreader000000000000000000000000000000000001",
        "90:43:28:bd:97:8d:a7:11:6d:2b:09:0b:7c:30:b7:c1",
        include_str!("../../fixtures/oci/keys/appreader.pem"),
    ),
    (
        "SECRETSADMIN",
        "ocid1.user.oc1..aaaaaaaaemulatorsecretsadmin0000000000000000000000000000000001",
        "93:c3:df:14:85:49:77:ff:0f:73:16:ba:11:fd:4a:14",
        include_str!("../../fixtures/oci/keys/secretsadmin.pem"),
    ),
];

/// Writes the profile's private key (mode 0600) and prints a config that
/// points at it by absolute path.
fn print_config(args: &PrintConfigArgs) -> anyhow::Result<()> {
    let Some((name, user, fingerprint, pem)) = PROFILES
        .iter()
        .find(|p| p.0.eq_ignore_ascii_case(&args.profile))
    else {
        anyhow::bail!(
            "no fixture profile {}; known: {}",
            args.profile,
            PROFILES.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
        );
    };
    let key_dir = args
        .key_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("oci-vault-emulator"));
    // Errors name the path: the default depends on TMPDIR, and a bare
    // "Permission denied" does not say what to fix.
    let cannot_create = || {
        format!(
            "cannot create the key directory {} (choose another with --key-dir DIR)",
            key_dir.display()
        )
    };
    std::fs::create_dir_all(&key_dir).with_context(cannot_create)?;
    let key_dir = std::fs::canonicalize(&key_dir).with_context(cannot_create)?;
    let key_path = key_dir.join(format!("{}.pem", name.to_ascii_lowercase()));
    oci_vault_emulator::store::write_private_file(&key_path, pem.as_bytes())
        .with_context(|| format!("cannot write the key file {}", key_path.display()))?;
    let tenancy = oci_vault_emulator::iam::tenancy::Tenancy::embedded();
    println!(
        "# oci config for the emulator's fixture user ({name}); use with --endpoint {url}\n[{name}]\nuser={user}\nfingerprint={fingerprint}\ntenancy={tenancy}\nregion=us-ashburn-1\nkey_file={key}",
        url = args.url,
        tenancy = tenancy.id(),
        key = key_path.display(),
    );
    Ok(())
}
