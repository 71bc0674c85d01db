//! The effective settings checked (every problem, each naming its setting and layer) and
//! reported for `config check`, with secrets redacted: a database password, and any key,
//! token or secret given as a value rather than a file, never appear.

use std::fmt::Write as _;
use std::net::ToSocketAddrs;

use node_service::keys::{KeySources, Supplied};

use node_service::database::{redact_url, REDACTED};

use super::{ServeSettings, Setting, Source};

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

impl ServeSettings {
    /// The domain named in summaries: the configured one, else the bind address.
    pub fn domain(&self) -> String {
        let domain = self.domain.value.as_ref();
        domain.unwrap_or(&self.bind.value).clone()
    }

    /// The metrics token's text, when one is configured (trailing whitespace dropped).
    pub fn metrics_token(&self) -> anyhow::Result<Option<String>> {
        let Some(supplied) = &self.metrics_token.value else {
            return Ok(None);
        };
        let token = String::from_utf8(supplied.read("metrics token")?)
            .map_err(|_| anyhow::anyhow!("the metrics token is not UTF-8"))?;
        Ok(Some(token))
    }

    /// Every problem of these settings; empty when `serve` can start with them. Files are
    /// read and keys parsed; the database is not contacted.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, source: Source, what: String| {
            problems.push(format!("{key} ({source}): {what}"));
        };
        let bind = &self.bind;
        match bind.value.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(_)) => {}
            Ok(None) => problem(
                "bind",
                bind.source,
                format!("'{}' names no address", bind.value),
            ),
            Err(e) => problem(
                "bind",
                bind.source,
                format!("'{}' is not host:port ({e})", bind.value),
            ),
        }
        let mut range = |key: &str, source: Source, value: u64, low: u64, high: u64| {
            if !(low..=high).contains(&value) {
                problem(key, source, format!("{value} is not within {low}..={high}"));
            }
        };
        range(
            "workers",
            self.workers.source,
            self.workers.value as u64,
            1,
            1024,
        );
        let pool = &self.pool_size;
        range(
            "database.pool_size",
            pool.source,
            pool.value.into(),
            1,
            1024,
        );
        let grace = &self.shutdown_timeout;
        range("shutdown_timeout", grace.source, grace.value, 0, 3600);
        let max = &self.max_rsf_bytes;
        range(
            "limits.max_rsf_bytes",
            max.source,
            max.value as u64,
            1024,
            1 << 40,
        );
        if let Some(origin) = &self.origin.value {
            if let Err(e) = store_diesel::node::check_origin(origin) {
                problem("origin", self.origin.source, e.to_string());
            }
        }
        let postgres = self.database.url.value.starts_with("postgres");
        for (key, setting, cosigner) in [
            ("keys.log_key_file", &self.database.log_key, false),
            ("keys.cosigner_key_file", &self.database.cosigner_key, true),
        ] {
            let Some(supplied) = &setting.value else {
                if postgres {
                    let what = if cosigner { "a cosigner" } else { "a log" };
                    problem(
                        key,
                        setting.source,
                        format!(
                            "{what} key is required with PostgreSQL (every instance must sign \
                             with the same keys; `api-actix key generate` makes one)"
                        ),
                    );
                }
                continue;
            };
            let sources = if cosigner {
                KeySources {
                    cosigner_key: Some(supplied.clone()),
                    ..KeySources::default()
                }
            } else {
                KeySources {
                    log_key: Some(supplied.clone()),
                    ..KeySources::default()
                }
            };
            if let Err(e) = sources.read() {
                problem(key, setting.source, e.to_string());
            }
        }
        let secret = &self.token_secret;
        match &secret.value {
            None if postgres => problem(
                "keys.token_secret_file",
                secret.source,
                "a token secret is required with PostgreSQL (every instance must share it)".into(),
            ),
            None => {}
            Some(supplied) => match supplied.read("token secret") {
                Ok(bytes) if bytes.len() < server_actix::tokens::MIN_SECRET_BYTES => problem(
                    "keys.token_secret_file",
                    secret.source,
                    format!(
                        "the token secret is {} bytes; it must be at least {} bytes long",
                        bytes.len(),
                        server_actix::tokens::MIN_SECRET_BYTES
                    ),
                ),
                Ok(_) => {}
                Err(e) => problem("keys.token_secret_file", secret.source, e.to_string()),
            },
        }
        if let Some(supplied) = &self.metrics_token.value {
            match supplied.read("metrics token") {
                Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => problem(
                    "metrics.token_file",
                    self.metrics_token.source,
                    "the metrics token is empty".into(),
                ),
                Ok(_) => {}
                Err(e) => problem(
                    "metrics.token_file",
                    self.metrics_token.source,
                    e.to_string(),
                ),
            }
        }
        let filter = &self.log_filter;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&filter.value) {
            problem("log.filter", filter.source, e.to_string());
        }
        problems
    }

    /// The effective configuration as TOML, each value followed by the layer it came from;
    /// secrets redacted, unset settings as comments.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# api-actix effective configuration: defaults < {} < environment < flags",
            self.database
                .config
                .as_ref()
                .map_or("no file".to_string(), |p| p.display().to_string())
        );
        let mut put = |key: &str, value: String, source: Source| {
            let _ = writeln!(out, "{key} = {value}  # {source}");
        };
        put("bind", quote(&self.bind.value), self.bind.source);
        match &self.domain.value {
            Some(domain) => put("domain", quote(domain), self.domain.source),
            None => put("# domain", "(the bind address)".into(), self.domain.source),
        }
        match &self.origin.value {
            Some(origin) => put("origin", quote(origin), self.origin.source),
            None => put(
                "# origin",
                "(as the database holds it)".into(),
                self.origin.source,
            ),
        }
        put(
            "workers",
            self.workers.value.to_string(),
            self.workers.source,
        );
        let grace = &self.shutdown_timeout;
        put("shutdown_timeout", grace.value.to_string(), grace.source);
        let mut section = |name: &str, lines: Vec<(String, String, Source)>| {
            let _ = writeln!(out, "\n[{name}]");
            for (key, value, source) in lines {
                let _ = writeln!(out, "{key} = {value}  # {source}");
            }
        };
        let url = &self.database.url;
        section(
            "database",
            vec![
                ("url".into(), quote(&redact_url(&url.value)), url.source),
                (
                    "pool_size".into(),
                    self.pool_size.value.to_string(),
                    self.pool_size.source,
                ),
            ],
        );
        section(
            "keys",
            vec![
                secret_line("log_key_file", &self.database.log_key),
                secret_line("cosigner_key_file", &self.database.cosigner_key),
                secret_line("token_secret_file", &self.token_secret),
            ],
        );
        section(
            "log",
            vec![
                (
                    "format".into(),
                    quote(&self.log_format.value.to_string()),
                    self.log_format.source,
                ),
                (
                    "filter".into(),
                    quote(&self.log_filter.value),
                    self.log_filter.source,
                ),
            ],
        );
        section(
            "metrics",
            vec![
                (
                    "enabled".into(),
                    self.metrics.value.to_string(),
                    self.metrics.source,
                ),
                secret_line("token_file", &self.metrics_token),
            ],
        );
        let max = &self.max_rsf_bytes;
        section(
            "limits",
            vec![("max_rsf_bytes".into(), max.value.to_string(), max.source)],
        );
        out
    }
}

/// A secret's line: its file's path, a redacted marker when a variable holds the secret
/// itself, a comment when it is not set.
fn secret_line(key: &str, setting: &Setting<Option<Supplied>>) -> (String, String, Source) {
    match &setting.value {
        Some(Supplied::File(path)) => (
            key.into(),
            quote(&path.display().to_string()),
            setting.source,
        ),
        Some(Supplied::Value(_)) => (key.into(), quote(REDACTED), setting.source),
        None => (format!("# {key}"), "(not set)".into(), setting.source),
    }
}
