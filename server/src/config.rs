//! The command line: one typed struct per subcommand, every `serve` flag
//! also read from an `OCI_EMULATOR_*` environment variable (clap's `env`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A local, offline emulator of OCI Vault: KMS vaults, keys and crypto,
/// secret management and secret retrieval, answered as OCI answers them.
#[derive(Debug, Parser)]
#[command(name = "oci-vault-emulator", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the emulator.
    Serve(ServeConfig),
    /// Exit 0 when a running emulator answers healthy (for Docker HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
    /// Print an `oci` SDK/CLI config for a fixture user, with an absolute key path.
    PrintConfig(PrintConfigArgs),
    /// Policy tools that work offline from a tenancy file (`policy check`, `policy lint`).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Find secret values held by a running emulator in log files (raw,
    /// base64, base64url, URL-encoded, hex, JSON-escaped): exit 1 naming
    /// file:line, the secret's OCID and version (never the value), 0 when
    /// clean, 2 on error.
    ScanLogs(ScanLogsArgs),
    /// Ask a running emulator for security tokens (`token session`,
    /// `token resource-principal`).
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `scan-logs` arguments.
#[derive(Debug, Args)]
pub struct ScanLogsArgs {
    /// The files to scan.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The emulator whose secret values to look for (its base URL).
    #[arg(
        long,
        env = "OCI_EMULATOR_URL",
        default_value = "http://127.0.0.1:4585"
    )]
    pub state: String,
}

/// `token` subcommands: each calls a running emulator's
/// `/_emulator/tokens/…` (tokens are signed by its key).
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// A session token and its private key for a user (`--auth
    /// security_token`): prints `{"token","privatePem"}`, or with `--dir`
    /// writes `token` and `key.pem` (mode 0600) there and prints an oci
    /// config profile that uses them.
    Session(SessionTokenArgs),
    /// A resource principal (v2.2): prints the `export` lines of the
    /// environment the SDKs read (`OCI_RESOURCE_PRINCIPAL_VERSION=2.2`,
    /// `…_RPST`, `…_PRIVATE_PEM`, `…_REGION`).
    ResourcePrincipal(ResourcePrincipalArgs),
}

/// `token session` arguments.
#[derive(Debug, Args)]
pub struct SessionTokenArgs {
    /// The user, by OCID or name.
    #[arg(long)]
    pub user: String,
    /// Token lifetime in seconds (1 to 86400).
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: i64,
    /// Write `token`, `key.pem` and print a config profile instead of JSON.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The running emulator.
    #[arg(
        long,
        env = "OCI_EMULATOR_URL",
        default_value = "http://127.0.0.1:4585"
    )]
    pub url: String,
}

/// `token resource-principal` arguments.
#[derive(Debug, Args)]
pub struct ResourcePrincipalArgs {
    /// The resource type: `fnfunc`, `computecontainerinstance`, … (the
    /// `res_type` claim, `resource.type` in matching rules).
    #[arg(long)]
    pub resource_type: String,
    /// The resource's OCID.
    #[arg(long)]
    pub resource_id: String,
    /// The compartment the resource lives in.
    #[arg(long)]
    pub compartment: String,
    /// RPST lifetime in seconds (1 to 86400).
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: i64,
    /// The running emulator.
    #[arg(
        long,
        env = "OCI_EMULATOR_URL",
        default_value = "http://127.0.0.1:4585"
    )]
    pub url: String,
}

/// `policy` subcommands.
// Parsed once per process: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Explain whether a user may make a request, as the server would decide
    /// it (exit 0 allowed, 1 denied, 2 on bad input).
    Check(PolicyCheckArgs),
    /// Print the lint of a tenancy file's policies (exit 1 if any).
    Lint(PolicyLintArgs),
}

/// `policy check` arguments.
#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// Tenancy file (JSON); default: the fixture tenancy compiled in.
    #[arg(long, env = "OCI_EMULATOR_TENANCY")]
    pub tenancy: Option<PathBuf>,
    /// The user, by OCID or name.
    #[arg(long)]
    pub user: String,
    /// The OCI operation, e.g. `GetSecretBundle`.
    #[arg(long)]
    pub operation: String,
    /// The target's compartment: OCID, `tenancy`, or a path such as `apps:dev`.
    #[arg(long)]
    pub compartment: String,
    /// The vault OCID (for vault, key and CreateSecret checks).
    #[arg(long)]
    pub vault_id: Option<String>,
    /// The key OCID (for key and crypto checks, CreateSecret).
    #[arg(long)]
    pub key_id: Option<String>,
    /// The secret OCID.
    #[arg(long)]
    pub secret_id: Option<String>,
    /// The secret's name (`target.secret.name`).
    #[arg(long)]
    pub secret_name: Option<String>,
    /// The region `request.region` sees.
    #[arg(long, env = "OCI_EMULATOR_REGION", default_value = "us-ashburn-1")]
    pub region: String,
    /// When the request is made, for `request.utc-timestamp` conditions: an
    /// RFC 3339 time or a policy timestamp (`2026-12-01T00:00Z`); default
    /// now (the wall clock).
    #[arg(long)]
    pub at: Option<String>,
    /// Print the full explanation as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// `policy lint` arguments.
#[derive(Debug, Args)]
pub struct PolicyLintArgs {
    /// Tenancy file (JSON); default: the fixture tenancy compiled in.
    #[arg(long, env = "OCI_EMULATOR_TENANCY")]
    pub tenancy: Option<PathBuf>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything `serve` needs; defaults give the in-memory store and the
/// fixture tenancy compiled into the binary.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "OCI_EMULATOR_LISTEN", default_value = "127.0.0.1:4585")]
    pub listen: SocketAddr,
    /// Keep state in `DIR/emulator.db` (and the root key in `DIR/root.key`);
    /// without it, state lives in memory and is gone at exit.
    #[arg(long, env = "OCI_EMULATOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tenancy file (JSON); default: the fixture tenancy compiled in.
    #[arg(long, env = "OCI_EMULATOR_TENANCY")]
    pub tenancy: Option<PathBuf>,
    /// The region this emulator pretends to be.
    #[arg(long, env = "OCI_EMULATOR_REGION", default_value = "us-ashburn-1")]
    pub region: String,
    /// Base URL every client gets in vault endpoints (and `{{publicUrl}}` in
    /// seeds); only needed behind a proxy that rewrites `Host`. Default: each
    /// request's `Host`, which is right behind `docker -p` and compose too.
    #[arg(long, env = "OCI_EMULATOR_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Root key sealing key material at rest: base64 of 32 bytes. Default:
    /// generated (and kept in the data dir when there is one).
    #[arg(long, env = "OCI_EMULATOR_ROOT_KEY", hide_env_values = true)]
    pub root_key: Option<String>,
    /// Seed file, or a directory whose `*.json` files are applied in name
    /// order: vaults, keys and secrets present at start and after every reset.
    #[arg(long, env = "OCI_EMULATOR_SEED")]
    pub seed: Option<PathBuf>,
    /// Log format.
    #[arg(
        long,
        env = "OCI_EMULATOR_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes (larger → 413 PayloadTooLarge).
    #[arg(long, env = "OCI_EMULATOR_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest backup file RestoreVaultFromFile / RestoreKeyFromFile accept
    /// as their `application/octet-stream` body, in bytes (larger → 413
    /// PayloadTooLarge); the default fits a vault backup of some 9,000 keys
    /// (about 1.7 KB per key with one version, measured).
    #[arg(long, env = "OCI_EMULATOR_MAX_BACKUP_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_backup_bytes: usize,
    /// Fault rules and rate limits to start with (JSON, README "Chaos
    /// testing"); `/_emulator/faults` changes them at run time and a reset
    /// restores these. Default: none.
    #[arg(long, env = "OCI_EMULATOR_FAULTS")]
    pub faults: Option<PathBuf>,
    /// Seconds a client may take to send a request's headers (hyper's
    /// header-read timeout); a slower connection is closed, so slow or idle
    /// clients cannot hold connections open without bound.
    #[arg(
        long,
        env = "OCI_EMULATOR_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub header_read_timeout_secs: u64,
    /// Most client connections open at once. A connection past it is
    /// answered at once with a 503 `ServiceUnavailable` (which the OCI SDKs
    /// retry) and `Connection: close`, instead of waiting in the accept
    /// backlog or failing to accept for want of file descriptors. Default:
    /// 1024, or fewer when the soft `RLIMIT_NOFILE` leaves less than that
    /// plus 128 descriptors for the store, logs and refusals
    /// ([`ServeConfig::connection_limit`]).
    #[arg(
        long,
        env = "OCI_EMULATOR_MAX_CONNECTIONS",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_connections: Option<u32>,
    /// Append every audit event (one per OCI request, OCI's `AuditEvent`
    /// shape) to this file as one JSON line (created with mode 0600).
    #[arg(long, env = "OCI_EMULATOR_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// Most audit events kept in the store; beyond it the oldest are
    /// dropped (events older than the Audit retention period are dropped too).
    /// An event is about 2 KB of JSON plus its index entries, so the default
    /// (20,000) holds the trail to about 60 MB of memory.
    #[arg(long, env = "OCI_EMULATOR_AUDIT_MAX_EVENTS", default_value_t = 20_000)]
    pub audit_max_events: u64,
    /// OCI Vault prices for `GET /_emulator/usage` (JSON, README "Audit,
    /// usage, alerts and leaks"); default: `fixtures/prices/oci-vault.json`,
    /// compiled in.
    #[arg(long, env = "OCI_EMULATOR_PRICES")]
    pub prices: Option<PathBuf>,
    /// Settings of the alert detectors (JSON; every field optional, the
    /// rest keep their defaults).
    #[arg(long, env = "OCI_EMULATOR_ALERTS_CONFIG")]
    pub alerts_config: Option<PathBuf>,
    /// Lifetime, in seconds, of the instance-principal tokens `POST
    /// /v1/x509` issues (1 to 86400; expiry follows the emulator's clock).
    #[arg(
        long,
        env = "OCI_EMULATOR_TOKEN_TTL_SECONDS",
        default_value_t = 1200,
        value_parser = clap::value_parser!(i64).range(1..=86_400)
    )]
    pub token_ttl_seconds: i64,
}

impl ServeConfig {
    /// The defaults, listening on `listen` (tests use port 0).
    pub fn for_tests(listen: SocketAddr) -> Self {
        Self {
            listen,
            data_dir: None,
            tenancy: None,
            region: "us-ashburn-1".into(),
            public_url: None,
            root_key: None,
            seed: None,
            log_format: LogFormat::Text,
            max_body_bytes: 1024 * 1024,
            max_backup_bytes: 16 * 1024 * 1024,
            faults: None,
            header_read_timeout_secs: 30,
            max_connections: None,
            audit_log: None,
            audit_max_events: 20_000,
            prices: None,
            alerts_config: None,
            token_ttl_seconds: 1200,
        }
    }
}

/// The connection limit when `--max-connections` is not given.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// File descriptors kept free of connections by the default limit: the
/// store's files, log files, the listener, the rotation driver's client
/// connections and the connections being refused.
const RESERVED_DESCRIPTORS: u64 = 128;

impl ServeConfig {
    /// The number of client connections served at once: `--max-connections`
    /// when given, else [`DEFAULT_MAX_CONNECTIONS`] capped so that the
    /// connections and [`RESERVED_DESCRIPTORS`] fit under the process's
    /// soft `RLIMIT_NOFILE` (at least 1).
    pub fn connection_limit(&self) -> usize {
        match self.max_connections {
            Some(n) => n as usize,
            None => default_connection_limit(open_files_limit()),
        }
    }
}

/// [`DEFAULT_MAX_CONNECTIONS`] under a soft descriptor limit of `nofile`
/// (`None`: unknown or unlimited).
fn default_connection_limit(nofile: Option<u64>) -> usize {
    match nofile {
        Some(n) => {
            (n.saturating_sub(RESERVED_DESCRIPTORS).max(1) as usize).min(DEFAULT_MAX_CONNECTIONS)
        }
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

/// The soft `RLIMIT_NOFILE` (`None` when unlimited, or off Unix).
fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// `healthcheck` arguments.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The emulator's base URL.
    #[arg(
        long,
        env = "OCI_EMULATOR_URL",
        default_value = "http://127.0.0.1:4585"
    )]
    pub url: String,
}

/// `print-config` arguments.
#[derive(Debug, Args)]
pub struct PrintConfigArgs {
    /// Profile of `fixtures/oci/config` to print (DEFAULT = the administrator).
    #[arg(long, default_value = "DEFAULT")]
    pub profile: String,
    /// Not written into the config (the SDK takes the endpoint separately);
    /// printed as a comment with the matching `--endpoint`.
    #[arg(
        long,
        env = "OCI_EMULATOR_URL",
        default_value = "http://127.0.0.1:4585"
    )]
    pub url: String,
    /// Where to write the fixture private key (mode 0600); default: the
    /// system temp dir's `oci-vault-emulator/`.
    #[arg(long)]
    pub key_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_connection_limit_leaves_descriptors_for_the_rest() {
        assert_eq!(default_connection_limit(None), 1024);
        assert_eq!(default_connection_limit(Some(1_048_576)), 1024);
        assert_eq!(default_connection_limit(Some(1024)), 896);
        assert_eq!(default_connection_limit(Some(100)), 1);
    }

    #[test]
    fn max_connections_is_a_positive_count() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(["oci-vault-emulator", "serve"].iter().chain(args)).map(|cli| {
                match cli.command {
                    Command::Serve(config) => config.connection_limit(),
                    _ => unreachable!(),
                }
            })
        };
        assert_eq!(parse(&["--max-connections", "2"]).unwrap(), 2);
        assert!(parse(&["--max-connections", "0"]).is_err());
        assert!(parse(&["--max-connections", "-1"]).is_err());
    }
}
