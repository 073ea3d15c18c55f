//! The notification sinks a test configures: AMQP brokers and webhooks, rendered to
//! their TOML sections.

use std::{fmt::Write as _, path::PathBuf};

use super::options::Secret;

/// Generates a setter for each optional number and the lines that render the set ones.
macro_rules! numbers {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $ty {
            $(
                pub fn $field(mut self, value: u64) -> Self {
                    self.$field = Some(value);
                    self
                }
            )*

            fn render_numbers(&self, out: &mut String) {
                $(
                    if let Some(value) = self.$field {
                        let _ = writeln!(out, "{} = {value}", stringify!($field));
                    }
                )*
            }
        }
    };
}

/// One `[brokers.<name>]` entry.
#[derive(Debug, Clone)]
pub struct Broker {
    name: String,
    url: String,
    max_body_bytes: Option<u64>,
    max_connections: Option<u64>,
    acquire_timeout_ms: Option<u64>,
    max_retries: Option<u64>,
    interval_start_ms: Option<u64>,
    interval_step_ms: Option<u64>,
    interval_max_ms: Option<u64>,
    confirm_timeout_ms: Option<u64>,
    publish_timeout_ms: Option<u64>,
}

impl Broker {
    pub fn new(name: &str, url: impl Into<String>) -> Broker {
        Broker {
            name: name.to_owned(),
            url: url.into(),
            max_body_bytes: None,
            max_connections: None,
            acquire_timeout_ms: None,
            max_retries: None,
            interval_start_ms: None,
            interval_step_ms: None,
            interval_max_ms: None,
            confirm_timeout_ms: None,
            publish_timeout_ms: None,
        }
    }

    pub(super) fn render(&self, out: &mut String) {
        let _ = writeln!(out, "[brokers.{}]\nurl = \"{}\"", self.name, self.url);
        self.render_numbers(out);
    }
}

numbers!(Broker {
    max_body_bytes,
    max_connections,
    acquire_timeout_ms,
    max_retries,
    interval_start_ms,
    interval_step_ms,
    interval_max_ms,
    confirm_timeout_ms,
    publish_timeout_ms,
});

/// One `[[webhooks]]` entry.
#[derive(Debug, Clone)]
pub struct Webhook {
    name: String,
    url: String,
    secret: Option<Secret>,
    types: Vec<String>,
    idempotent: bool,
    ca_file: Option<PathBuf>,
    retry_initial_ms: Option<u64>,
    retry_max_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

impl Webhook {
    pub fn new(name: &str, url: impl Into<String>) -> Webhook {
        Webhook {
            name: name.to_owned(),
            url: url.into(),
            secret: None,
            types: Vec::new(),
            idempotent: false,
            ca_file: None,
            retry_initial_ms: None,
            retry_max_ms: None,
            timeout_ms: None,
        }
    }

    pub fn secret(mut self, secret: &str) -> Webhook {
        self.secret = Some(Secret::Inline(secret.to_owned()));
        self
    }

    pub fn secret_file(mut self, path: impl Into<PathBuf>) -> Webhook {
        self.secret = Some(Secret::File(path.into()));
        self
    }

    /// Only events of these types are posted.
    pub fn types(mut self, types: &[&str]) -> Webhook {
        self.types = types.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// The receiver deduplicates, so a request cut off mid-way may be resent.
    pub fn idempotent(mut self) -> Webhook {
        self.idempotent = true;
        self
    }

    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Webhook {
        self.ca_file = Some(path.into());
        self
    }

    pub(super) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "[[webhooks]]\nname = \"{}\"\nurl = \"{}\"",
            self.name, self.url
        );
        match &self.secret {
            Some(Secret::Inline(secret)) => {
                let _ = writeln!(out, "secret = \"{secret}\"");
            }
            Some(Secret::File(path)) => {
                let _ = writeln!(out, "secret_file = \"{}\"", path.display());
            }
            None => {}
        }
        self.render_numbers(out);
        if self.idempotent {
            out.push_str("idempotent = true\n");
        }
        if !self.types.is_empty() {
            let quoted: Vec<String> = self.types.iter().map(|t| format!("\"{t}\"")).collect();
            let _ = writeln!(out, "types = [{}]", quoted.join(", "));
        }
        if let Some(ca) = &self.ca_file {
            let _ = writeln!(out, "ca_file = \"{}\"", ca.display());
        }
    }
}

numbers!(Webhook {
    retry_initial_ms,
    retry_max_ms,
    timeout_ms,
});
