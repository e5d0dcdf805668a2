//! Configuration: one typed struct built at start-up from environment variables, optionally
//! layered over a TOML file (`EID_CONFIG_FILE`) that may hold everything except secrets.
//! Secrets come only from the environment; in development mode they are generated once and
//! kept next to the SQLite file so restarts keep tokens valid. Secret values are wrapped so
//! that neither `Debug` nor a log line can print them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The database used when `DATABASE_URL` is unset: an embedded SQLite file.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/eid-adoption.db";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
/// Below this many bytes a signing key is too easy to guess.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    pub database_url: String,
    pub bind_addr: String,
    pub log_format: LogFormat,
    pub database_pool_size: u32,
    /// `EID_SQLITE_COMMIT`: how SQLite commits reach the disk (default `group`).
    pub sqlite_commit: crate::db::CommitMode,
    /// `EID_TIME_ZONE` (and, outside production, `EID_CLOCK_START`): the ward's calendar.
    pub clock: crate::clock::Clock,
    pub auth: AuthSettings,
    pub throttle: ThrottleSettings,
    pub mail: MailSettings,
    pub http: HttpSettings,
    pub adoption: AdoptionSettings,
    pub sync: SyncSettings,
    pub secrets: Secrets,
    /// `EID_DEMO_PASSWORD`: the password of the demo accounts; generated when unset.
    pub demo_password: Option<SecretString>,
    /// Said once the log is set up (the log format is itself a setting).
    pub startup_warnings: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How many argon2 hashes may run at once; the rest wait, so a login flood cannot
    /// starve the server of CPU and memory.
    pub password_hash_concurrency: usize,
}

/// Limits on guessing: failures counted per key in a window; past the limit the key is
/// locked for `lockout`.
#[derive(Clone, Debug)]
pub struct ThrottleSettings {
    pub window: Duration,
    pub lockout: Duration,
    /// Failed logins per account.
    pub login_failures_per_account: i32,
    /// Failed logins, bad invitation or reset tokens, and reset requests per client IP.
    pub failures_per_ip: i32,
    /// Password-reset requests per account (each one sends a mail).
    pub reset_requests_per_account: i32,
}

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `SMTP_URL`, e.g. `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS). Without it (development only) messages are
    /// written as `.eml` files to `eml_dir`.
    pub smtp_url: Option<SecretString>,
    pub from: String,
    pub eml_dir: PathBuf,
    /// Where links in e-mails point, e.g. `https://eid.phuson.example`; `None` until
    /// `serve` fills it from the address it listens on.
    pub public_url: Option<String>,
    pub poll_interval: Duration,
    /// First retry delay; doubled on each failed attempt, capped at one hour.
    pub retry_base: Duration,
    pub max_attempts: i32,
    pub invitation_ttl: Duration,
    /// Lifetime of a one-time sign-in link (and its QR code) for an account without e-mail:
    /// handed over in person, so short.
    pub link_invitation_ttl: Duration,
    pub reset_ttl: Duration,
}

impl MailSettings {
    /// A link to one of the service's pages, for an e-mail.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self
            .public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080");
        format!("{base}{path_and_query}")
    }
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// Register files (CSV/XLSX) may be larger than JSON bodies.
    pub max_import_bytes: usize,
    pub cors_allowed_origins: Vec<String>,
    /// Proxies (load balancers) whose `X-Forwarded-For` is believed: behind them the
    /// client's IP is the last address they add. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `/metrics` answers 404 when this is false.
    pub metrics_enabled: bool,
    /// `EID_METRICS_TOKEN` (environment only): when set, `/metrics` needs
    /// `Authorization: Bearer <token>`. Required for `/metrics` in production; without it
    /// production answers 404 there (the figures tell traffic, errors and queue sizes).
    pub metrics_token: Option<SecretString>,
    pub workers: Option<usize>,
    /// `EID_TLS_CERT` + `EID_TLS_KEY`: serve HTTPS directly (`crate::tls`).
    pub tls: Option<crate::tls::TlsFiles>,
}

/// How adoption figures are projected and broken down, and when the digest goes out.
#[derive(Clone, Debug)]
pub struct AdoptionSettings {
    /// `EID_PACE_DAYS`: the window the pace is measured over (default 28 days).
    pub pace_days: u32,
    /// `EID_AGE_BANDS`: the first age of each band, ascending from 18 (default
    /// `18,30,45,60`: 18–29, 30–44, 45–59, 60+).
    pub age_bands: Vec<u32>,
    /// `EID_DIGEST_SCHEDULE`: `mon 07:00` (weekday and time in the service's time zone) or `off`.
    pub digest_schedule: Option<(chrono::Weekday, chrono::NaiveTime)>,
}

impl AdoptionSettings {
    fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let pace_days: u32 = parse_var(vars, "EID_PACE_DAYS")?.unwrap_or(28);
        if !(1..=365).contains(&pace_days) {
            return Err(ConfigError::Invalid {
                name: "EID_PACE_DAYS",
                reason: "between 1 and 365 days".into(),
            });
        }
        let age_bands = match vars.get("EID_AGE_BANDS").filter(|v| !v.is_empty()) {
            None => vec![18, 30, 45, 60],
            Some(list) => {
                let bands: Vec<u32> = list
                    .split(',')
                    .map(|b| b.trim().parse::<u32>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| ConfigError::Invalid {
                        name: "EID_AGE_BANDS",
                        reason: e.to_string(),
                    })?;
                if bands.first() != Some(&18) || bands.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(ConfigError::Invalid {
                        name: "EID_AGE_BANDS",
                        reason: "ascending ages starting at 18, e.g. 18,30,45,60".into(),
                    });
                }
                bands
            }
        };
        let digest_schedule = match vars.get("EID_DIGEST_SCHEDULE").map(|v| v.trim()) {
            None | Some("") => Some((
                chrono::Weekday::Mon,
                chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
            )),
            Some("off") => None,
            Some(text) => Some(parse_schedule(text).ok_or_else(|| ConfigError::Invalid {
                name: "EID_DIGEST_SCHEDULE",
                reason: format!("'{text}' is not like 'mon 07:00' or 'off'"),
            })?),
        };
        Ok(AdoptionSettings {
            pace_days,
            age_bands,
            digest_schedule,
        })
    }
}

/// The phone sync: who may sync, how much at once, how long removals are remembered.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    /// `EID_MIN_APP_VERSION`: phones sending an older `X-App-Version` get 426 (default 1.0.0).
    pub min_app_version: Vec<u32>,
    /// `EID_SYNC_MAX_MUTATIONS`: mutations per push (default 200; the body limit also applies).
    pub max_mutations: usize,
    /// `EID_SYNC_TOMBSTONE_DAYS`: how long the removal of a neighbourhood from a volunteer is
    /// served to pulls (default 90); a cursor older than an expired one gets 410.
    pub tombstone_days: u32,
}

impl SyncSettings {
    fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let min_app_version = match vars.get("EID_MIN_APP_VERSION").filter(|v| !v.is_empty()) {
            None => vec![1, 0, 0],
            Some(text) => parse_app_version(text).ok_or_else(|| ConfigError::Invalid {
                name: "EID_MIN_APP_VERSION",
                reason: format!("'{text}' is not a version like 1.4.2"),
            })?,
        };
        let max_mutations: usize = parse_var(vars, "EID_SYNC_MAX_MUTATIONS")?.unwrap_or(200);
        if !(1..=10_000).contains(&max_mutations) {
            return Err(ConfigError::Invalid {
                name: "EID_SYNC_MAX_MUTATIONS",
                reason: "between 1 and 10000".into(),
            });
        }
        Ok(SyncSettings {
            min_app_version,
            max_mutations,
            tombstone_days: parse_var(vars, "EID_SYNC_TOMBSTONE_DAYS")?.unwrap_or(90),
        })
    }
}

/// `1.4.2` → `[1, 4, 2]`; anything else (pre-release tags included) is not a version.
pub fn parse_app_version(text: &str) -> Option<Vec<u32>> {
    let parts: Vec<u32> = text
        .trim()
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (!parts.is_empty() && parts.len() <= 4).then_some(parts)
}

fn parse_schedule(text: &str) -> Option<(chrono::Weekday, chrono::NaiveTime)> {
    let (day, time) = text.split_once(' ')?;
    Some((
        day.trim().parse().ok()?,
        chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?,
    ))
}

#[derive(Clone, Debug)]
pub struct Secrets {
    pub jwt_signing_key: SecretString,
    pub citizen_id_hmac_key: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required when EID_ENV=production")]
    MissingSecret(&'static str),
    #[error("{0} must be at least {MIN_SECRET_BYTES} bytes long")]
    WeakSecret(&'static str),
    #[error("{name} has an invalid value: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("cannot keep the development secrets in {path}: {reason}")]
    SecretsFile { path: String, reason: String },
}

/// Every non-secret setting, by its environment variable. A configuration file may carry
/// any of them under the variable's name in lower case without `EID_` (`database_url`,
/// `bind_addr`, `pace_days`, …); the environment wins over the file.
pub const FILE_SETTINGS: &[&str] = &[
    "EID_ENV",
    "DATABASE_URL",
    "BIND_ADDR",
    "EID_LOG_FORMAT",
    "EID_DATABASE_POOL_SIZE",
    "EID_SQLITE_COMMIT",
    "EID_TIME_ZONE",
    "EID_JWT_ISSUER",
    "EID_JWT_AUDIENCE",
    "EID_ACCESS_TOKEN_TTL_SECS",
    "EID_REFRESH_TOKEN_TTL_DAYS",
    "EID_PASSWORD_HASH_CONCURRENCY",
    "EID_MAX_BODY_BYTES",
    "EID_MAX_IMPORT_BYTES",
    "EID_TRUSTED_PROXIES",
    "EID_CORS_ORIGINS",
    "EID_METRICS_ENABLED",
    "EID_WORKERS",
    "EID_THROTTLE_WINDOW_SECS",
    "EID_LOCKOUT_SECS",
    "EID_LOGIN_FAILURES_PER_ACCOUNT",
    "EID_FAILURES_PER_IP",
    "EID_RESET_REQUESTS_PER_ACCOUNT",
    "EID_MAIL_FROM",
    "EID_MAIL_DIR",
    "EID_PUBLIC_URL",
    "EID_MAIL_POLL_MS",
    "EID_MAIL_RETRY_BASE_MS",
    "EID_MAIL_MAX_ATTEMPTS",
    "EID_TLS_CERT",
    "EID_TLS_KEY",
    "EID_INVITATION_TTL_HOURS",
    "EID_LINK_INVITATION_TTL_MINUTES",
    "EID_RESET_TTL_MINUTES",
    "EID_PACE_DAYS",
    "EID_AGE_BANDS",
    "EID_DIGEST_SCHEDULE",
    "EID_MIN_APP_VERSION",
    "EID_SYNC_MAX_MUTATIONS",
    "EID_SYNC_TOMBSTONE_DAYS",
];

/// Accepted only from the environment (and `EID_CLOCK_START`, for tests, too).
pub const ENVIRONMENT_ONLY: &[&str] = &[
    "EID_JWT_SECRET",
    "EID_CITIZEN_ID_KEY",
    "SMTP_URL",
    "EID_DEMO_PASSWORD",
    "EID_METRICS_TOKEN",
    "EID_CLOCK_START",
    "EID_CONFIG_FILE",
];

/// Names kept from before the rule above.
const FILE_ALIASES: &[(&str, &str)] = &[
    ("environment", "EID_ENV"),
    ("cors_allowed_origins", "EID_CORS_ORIGINS"),
];

fn file_key(var: &str) -> String {
    var.strip_prefix("EID_").unwrap_or(var).to_ascii_lowercase()
}

/// The variables a configuration file sets. A key that names no setting (a secret among
/// them) is refused; a list becomes the comma-separated text its variable takes.
fn read_file_settings(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let fail = |reason: String| ConfigError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let mut settings = HashMap::new();
    for (key, value) in table {
        let var = FILE_ALIASES
            .iter()
            .find(|(alias, _)| *alias == key)
            .map(|(_, var)| *var)
            .or_else(|| FILE_SETTINGS.iter().copied().find(|v| file_key(v) == key))
            .ok_or_else(|| {
                fail(format!(
                    "unknown setting `{key}` (secrets are accepted only from the environment)"
                ))
            })?;
        let text = match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(text) => Ok(text),
                    toml::Value::Integer(n) => Ok(n.to_string()),
                    other => Err(fail(format!(
                        "`{key}`: unexpected list item of type {}",
                        other.type_str()
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => {
                return Err(fail(format!(
                    "`{key}`: unexpected value of type {}",
                    other.type_str()
                )))
            }
        };
        settings.insert(var.to_owned(), text);
    }
    Ok(settings)
}

/// Where a database URL points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseLocation {
    SqliteFile(PathBuf),
    Postgres(String),
}

impl DatabaseLocation {
    /// The backend is chosen from the URL scheme, never by trying to connect.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(ConfigError::Invalid {
                    name: "DATABASE_URL",
                    reason: "the SQLite URL names no file".into(),
                });
            }
            Ok(Self::SqliteFile(PathBuf::from(path)))
        } else {
            Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: "expected sqlite://PATH or postgres://…".into(),
            })
        }
    }
}

impl Settings {
    /// Reads the process environment (and `EID_CONFIG_FILE` if set).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Builds the settings from a map of variables, as `from_env` does with the real
    /// environment; tests call it with their own map.
    pub fn from_vars(environment_vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let config_file = environment_vars
            .get("EID_CONFIG_FILE")
            .filter(|v| !v.is_empty());
        let mut merged = match config_file {
            Some(path) => read_file_settings(Path::new(path))?,
            None => HashMap::new(),
        };
        merged.extend(
            environment_vars
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let vars = &merged;
        let var = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();

        let environment = match var("EID_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "EID_ENV",
                    reason: format!("'{other}' is neither development nor production"),
                })
            }
        };
        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let location = DatabaseLocation::parse(&database_url)?;
        let mut startup_warnings = Vec::new();
        let secrets = resolve_secrets(vars, environment, &location, &mut startup_warnings)?;
        let log_format = match var("EID_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "EID_LOG_FORMAT",
                    reason: format!("'{other}' is neither text nor json"),
                })
            }
        };

        let auth = AuthSettings {
            issuer: var("EID_JWT_ISSUER").unwrap_or_else(|| "eid-adoption".into()),
            audience: var("EID_JWT_AUDIENCE").unwrap_or_else(|| "eid-adoption-api".into()),
            access_token_ttl: Duration::from_secs(
                parse_var(vars, "EID_ACCESS_TOKEN_TTL_SECS")?.unwrap_or(15 * 60),
            ),
            refresh_token_ttl: Duration::from_secs(
                parse_var::<u64>(vars, "EID_REFRESH_TOKEN_TTL_DAYS")?.unwrap_or(30) * 24 * 3600,
            ),
            password_hash_concurrency: parse_var(vars, "EID_PASSWORD_HASH_CONCURRENCY")?
                .unwrap_or(2)
                .max(1),
        };
        let throttle = ThrottleSettings {
            window: Duration::from_secs(
                parse_var(vars, "EID_THROTTLE_WINDOW_SECS")?.unwrap_or(15 * 60),
            ),
            lockout: Duration::from_secs(parse_var(vars, "EID_LOCKOUT_SECS")?.unwrap_or(15 * 60)),
            login_failures_per_account: parse_var(vars, "EID_LOGIN_FAILURES_PER_ACCOUNT")?
                .unwrap_or(5)
                .max(1),
            failures_per_ip: parse_var(vars, "EID_FAILURES_PER_IP")?.unwrap_or(30).max(1),
            reset_requests_per_account: parse_var(vars, "EID_RESET_REQUESTS_PER_ACCOUNT")?
                .unwrap_or(3)
                .max(1),
        };
        let bind_addr = var("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.to_owned());
        let smtp_url = var("SMTP_URL").map(SecretString::from);
        if environment == Environment::Production && smtp_url.is_none() {
            return Err(ConfigError::MissingSecret("SMTP_URL"));
        }
        let mail = MailSettings {
            smtp_url,
            from: var("EID_MAIL_FROM")
                .unwrap_or_else(|| "eID Phú Sơn <no-reply@eid-adoption.invalid>".into()),
            eml_dir: var("EID_MAIL_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir(&location).join("mail")),
            public_url: var("EID_PUBLIC_URL").map(|url| url.trim_end_matches('/').to_owned()),
            poll_interval: Duration::from_millis(
                parse_var(vars, "EID_MAIL_POLL_MS")?.unwrap_or(2000).max(10),
            ),
            retry_base: Duration::from_millis(
                parse_var(vars, "EID_MAIL_RETRY_BASE_MS")?
                    .unwrap_or(30_000)
                    .max(10),
            ),
            max_attempts: parse_var(vars, "EID_MAIL_MAX_ATTEMPTS")?
                .unwrap_or(12)
                .max(1),
            invitation_ttl: Duration::from_secs(
                parse_var::<u64>(vars, "EID_INVITATION_TTL_HOURS")?.unwrap_or(72) * 3600,
            ),
            link_invitation_ttl: Duration::from_secs(
                parse_var::<u64>(vars, "EID_LINK_INVITATION_TTL_MINUTES")?
                    .unwrap_or(120)
                    .max(1)
                    * 60,
            ),
            reset_ttl: Duration::from_secs(
                parse_var::<u64>(vars, "EID_RESET_TTL_MINUTES")?.unwrap_or(60) * 60,
            ),
        };
        let http = HttpSettings {
            max_body_bytes: parse_var(vars, "EID_MAX_BODY_BYTES")?.unwrap_or(512 * 1024),
            max_import_bytes: parse_var(vars, "EID_MAX_IMPORT_BYTES")?.unwrap_or(20 * 1024 * 1024),
            trusted_proxies: match var("EID_TRUSTED_PROXIES") {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.parse().map_err(|_| ConfigError::Invalid {
                            name: "EID_TRUSTED_PROXIES",
                            reason: format!("'{p}' is not an IP address"),
                        })
                    })
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
            cors_allowed_origins: var("EID_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            metrics_enabled: parse_var(vars, "EID_METRICS_ENABLED")?.unwrap_or(true),
            metrics_token: match var("EID_METRICS_TOKEN") {
                Some(token) => Some(strong_secret("EID_METRICS_TOKEN", &token)?),
                None => None,
            },
            workers: parse_var(vars, "EID_WORKERS")?,
            tls: crate::tls::TlsFiles::from_paths(var("EID_TLS_CERT"), var("EID_TLS_KEY"))
                .map_err(|e| ConfigError::Invalid {
                    name: "EID_TLS_CERT",
                    reason: e.to_string(),
                })?,
        };

        let demo_password = var("EID_DEMO_PASSWORD").map(SecretString::from);

        let sqlite_commit = match var("EID_SQLITE_COMMIT") {
            None => crate::db::CommitMode::Group,
            Some(text) => crate::db::CommitMode::parse(&text).ok_or(ConfigError::Invalid {
                name: "EID_SQLITE_COMMIT",
                reason: "expected group, each or unsafe-no-sync".into(),
            })?,
        };
        if environment == Environment::Production
            && sqlite_commit == crate::db::CommitMode::UnsafeNoSync
        {
            return Err(ConfigError::Invalid {
                name: "EID_SQLITE_COMMIT",
                reason: "unsafe-no-sync may lose acknowledged writes; it is for benchmarks only"
                    .into(),
            });
        }
        let clock = clock_settings(var("EID_TIME_ZONE"), var("EID_CLOCK_START"), environment)?;

        Ok(Settings {
            environment,
            database_url,
            bind_addr,
            log_format,
            database_pool_size: parse_var(vars, "EID_DATABASE_POOL_SIZE")?
                .unwrap_or(8)
                .max(1),
            sqlite_commit,
            clock,
            auth,
            throttle,
            mail,
            http,
            adoption: AdoptionSettings::from_vars(vars)?,
            sync: SyncSettings::from_vars(vars)?,
            secrets,
            demo_password,
            startup_warnings,
        })
    }

    pub fn database_location(&self) -> Result<DatabaseLocation, ConfigError> {
        DatabaseLocation::parse(&self.database_url)
    }
}

/// The time zone by IANA name, and the test clock's start (refused in production).
fn clock_settings(
    zone: Option<String>,
    start: Option<String>,
    environment: Environment,
) -> Result<crate::clock::Clock, ConfigError> {
    let zone = match zone {
        None => crate::clock::DEFAULT_TIME_ZONE,
        Some(name) => name.trim().parse().map_err(|_| ConfigError::Invalid {
            name: "EID_TIME_ZONE",
            reason: format!("'{name}' is not an IANA time zone such as Asia/Ho_Chi_Minh"),
        })?,
    };
    let Some(start) = start else {
        return Ok(crate::clock::Clock {
            zone,
            ..Default::default()
        });
    };
    if environment == Environment::Production {
        return Err(ConfigError::Invalid {
            name: "EID_CLOCK_START",
            reason: "a test clock is not allowed in production".into(),
        });
    }
    let start =
        chrono::DateTime::parse_from_rfc3339(start.trim()).map_err(|e| ConfigError::Invalid {
            name: "EID_CLOCK_START",
            reason: e.to_string(),
        })?;
    Ok(crate::clock::Clock::starting_at(
        zone,
        start.with_timezone(&chrono::Utc),
    ))
}

fn parse_var<T: std::str::FromStr>(
    vars: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match vars.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

/// The secrets as kept on disk in development mode.
#[derive(Serialize, Deserialize)]
struct DevSecretsFile {
    jwt_signing_key: String,
    citizen_id_hmac_key: String,
}

fn resolve_secrets(
    vars: &HashMap<String, String>,
    environment: Environment,
    location: &DatabaseLocation,
    warnings: &mut Vec<String>,
) -> Result<Secrets, ConfigError> {
    let jwt = vars.get("EID_JWT_SECRET").filter(|v| !v.is_empty());
    let hmac = vars.get("EID_CITIZEN_ID_KEY").filter(|v| !v.is_empty());
    if environment == Environment::Production {
        let jwt = jwt.ok_or(ConfigError::MissingSecret("EID_JWT_SECRET"))?;
        let hmac = hmac.ok_or(ConfigError::MissingSecret("EID_CITIZEN_ID_KEY"))?;
        return Ok(Secrets {
            jwt_signing_key: strong_secret("EID_JWT_SECRET", jwt)?,
            citizen_id_hmac_key: strong_secret("EID_CITIZEN_ID_KEY", hmac)?,
        });
    }
    // A secret that is given must be strong in development too: a weak key set "just for
    // now" is how weak keys reach production.
    if let Some(jwt) = jwt {
        strong_secret("EID_JWT_SECRET", jwt)?;
    }
    if let Some(hmac) = hmac {
        strong_secret("EID_CITIZEN_ID_KEY", hmac)?;
    }
    if let (Some(jwt), Some(hmac)) = (jwt, hmac) {
        return Ok(Secrets {
            jwt_signing_key: strong_secret("EID_JWT_SECRET", jwt)?,
            citizen_id_hmac_key: strong_secret("EID_CITIZEN_ID_KEY", hmac)?,
        });
    }
    let path = dev_secrets_path(location);
    let stored = load_or_create_dev_secrets(&path)?;
    warnings.push(format!(
        "development mode: using generated secrets kept in {}; set EID_JWT_SECRET and \
         EID_CITIZEN_ID_KEY (and EID_ENV=production) for a real deployment",
        path.display()
    ));
    Ok(Secrets {
        jwt_signing_key: jwt.cloned().unwrap_or(stored.jwt_signing_key).into(),
        citizen_id_hmac_key: hmac.cloned().unwrap_or(stored.citizen_id_hmac_key).into(),
    })
}

fn strong_secret(name: &'static str, value: &str) -> Result<SecretString, ConfigError> {
    if value.len() < MIN_SECRET_BYTES {
        return Err(ConfigError::WeakSecret(name));
    }
    Ok(SecretString::from(value.to_owned()))
}

/// Next to the SQLite file; for PostgreSQL in development, in `./data`.
fn dev_secrets_path(location: &DatabaseLocation) -> PathBuf {
    data_dir(location).join("dev-secrets.toml")
}

/// The folder of the SQLite file, or `./data` for PostgreSQL: where development files go.
fn data_dir(location: &DatabaseLocation) -> PathBuf {
    match location {
        DatabaseLocation::SqliteFile(file) => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        DatabaseLocation::Postgres(_) => PathBuf::from("./data"),
    }
}

fn load_or_create_dev_secrets(path: &Path) -> Result<DevSecretsFile, ConfigError> {
    let fail = |reason: String| ConfigError::SecretsFile {
        path: path.display().to_string(),
        reason,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        return toml::from_str(&text).map_err(|e| fail(e.to_string()));
    }
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir(dir).map_err(|e| fail(e.to_string()))?;
    }
    let secrets = DevSecretsFile {
        jwt_signing_key: random_secret(),
        citizen_id_hmac_key: random_secret(),
    };
    let text = format!(
        "# Generated in development mode. Never use these in production.\n\
         jwt_signing_key = \"{}\"\ncitizen_id_hmac_key = \"{}\"\n",
        secrets.jwt_signing_key, secrets.citizen_id_hmac_key
    );
    write_private_file(path, &text).map_err(|e| fail(e.to_string()))?;
    Ok(secrets)
}

fn random_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(unix)]
fn write_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

impl Secrets {
    pub fn jwt_key_bytes(&self) -> &[u8] {
        self.jwt_signing_key.expose_secret().as_bytes()
    }

    pub fn citizen_id_key_bytes(&self) -> &[u8] {
        self.citizen_id_hmac_key.expose_secret().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const STRONG: &str = "0123456789abcdef0123456789abcdef-strong";

    #[test]
    fn production_without_secrets_is_a_startup_error() {
        let err = Settings::from_vars(&vars(&[("EID_ENV", "production")])).unwrap_err();
        assert!(matches!(err, ConfigError::MissingSecret("EID_JWT_SECRET")));
    }

    #[test]
    fn production_refuses_a_short_secret() {
        let err = Settings::from_vars(&vars(&[
            ("EID_ENV", "production"),
            ("EID_JWT_SECRET", "short"),
            ("EID_CITIZEN_ID_KEY", STRONG),
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::WeakSecret("EID_JWT_SECRET")));
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let settings = Settings::from_vars(&vars(&[
            ("EID_ENV", "production"),
            ("EID_JWT_SECRET", STRONG),
            (
                "EID_CITIZEN_ID_KEY",
                "another-very-long-secret-of-enough-bytes",
            ),
            ("EID_DEMO_PASSWORD", "demo-password-123"),
            ("SMTP_URL", "smtp://user:smtp-password-456@mail.example:587"),
        ]))
        .unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains(STRONG));
        assert!(!printed.contains("another-very-long-secret"));
        assert!(!printed.contains("demo-password-123"));
        assert!(!printed.contains("smtp-password-456"));
    }

    #[test]
    fn development_generates_secrets_once_next_to_the_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/db.sqlite", dir.path().display());
        let first = Settings::from_vars(&vars(&[("DATABASE_URL", &url)])).unwrap();
        let second = Settings::from_vars(&vars(&[("DATABASE_URL", &url)])).unwrap();
        assert!(dir.path().join("dev-secrets.toml").exists());
        assert_eq!(
            first.secrets.jwt_signing_key.expose_secret(),
            second.secrets.jwt_signing_key.expose_secret()
        );
        assert!(first.secrets.jwt_key_bytes().len() >= MIN_SECRET_BYTES);
    }

    #[test]
    fn the_backend_follows_the_url_scheme() {
        assert_eq!(
            DatabaseLocation::parse("sqlite://./data/x.db").unwrap(),
            DatabaseLocation::SqliteFile(PathBuf::from("./data/x.db"))
        );
        assert!(matches!(
            DatabaseLocation::parse("postgresql://u@h/db").unwrap(),
            DatabaseLocation::Postgres(_)
        ));
        assert!(DatabaseLocation::parse("mysql://x").is_err());
    }

    #[test]
    fn a_config_file_cannot_carry_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eid.toml");
        std::fs::write(&path, "jwt_secret = \"x\"\n").unwrap();
        let err =
            Settings::from_vars(&vars(&[("EID_CONFIG_FILE", path.to_str().unwrap())])).unwrap_err();
        assert!(matches!(err, ConfigError::File { .. }));
    }

    #[test]
    fn a_short_secret_is_refused_in_development_too() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/db.sqlite", dir.path().display());
        let err = Settings::from_vars(&vars(&[
            ("DATABASE_URL", &url),
            ("EID_JWT_SECRET", "short"),
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::WeakSecret("EID_JWT_SECRET")));
    }

    #[test]
    fn a_config_file_carries_every_non_secret_setting_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eid.toml");
        std::fs::write(
            &path,
            format!(
                "database_url = \"sqlite://{}/db.sqlite\"\npace_days = 14\nage_bands = [18, 40, 65]\n\
                 digest_schedule = \"off\"\nmin_app_version = \"1.2.0\"\nsync_max_mutations = 50\n\
                 trusted_proxies = [\"10.0.0.1\"]\ncors_allowed_origins = [\"https://a.vn\"]\n\
                 lockout_secs = 60\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let settings = Settings::from_vars(&vars(&[
            ("EID_CONFIG_FILE", path.to_str().unwrap()),
            ("EID_LOCKOUT_SECS", "90"),
        ]))
        .unwrap();
        assert_eq!(settings.adoption.pace_days, 14);
        assert_eq!(settings.adoption.age_bands, vec![18, 40, 65]);
        assert_eq!(settings.adoption.digest_schedule, None);
        assert_eq!(settings.sync.min_app_version, vec![1, 2, 0]);
        assert_eq!(settings.sync.max_mutations, 50);
        assert_eq!(settings.http.trusted_proxies.len(), 1);
        assert_eq!(
            settings.http.cors_allowed_origins,
            vec!["https://a.vn".to_owned()]
        );
        assert_eq!(settings.throttle.lockout, Duration::from_secs(90));
        // Every setting of the list has a key the file accepts.
        for var in FILE_SETTINGS {
            assert!(!ENVIRONMENT_ONLY.contains(var));
        }
    }

    #[test]
    fn every_variable_read_here_is_either_a_file_setting_or_environment_only() {
        let source = include_str!("config.rs");
        let mut rest = source;
        while let Some(at) = rest.find("\"EID_") {
            let name: String = rest[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            assert!(
                name == "EID_"
                    || FILE_SETTINGS.contains(&name.as_str())
                    || ENVIRONMENT_ONLY.contains(&name.as_str()),
                "{name} is in neither list"
            );
            rest = &rest[at + 1..];
        }
    }

    #[test]
    fn a_config_file_cannot_carry_the_metrics_token_or_any_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eid.toml");
        for key in [
            "metrics_token",
            "jwt_secret",
            "citizen_id_key",
            "demo_password",
        ] {
            std::fs::write(&path, format!("{key} = \"x\"\n")).unwrap();
            let err = Settings::from_vars(&vars(&[("EID_CONFIG_FILE", path.to_str().unwrap())]))
                .unwrap_err();
            assert!(matches!(err, ConfigError::File { .. }), "{key}");
        }
    }
}
