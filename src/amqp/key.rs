//! AMQP pool keys: broker URIs normalised so equal parameters share one pool,
//! whatever the spelling, and shown with the password hidden.

use std::fmt;

use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};

use crate::{pool::PoolKey, secret::Secret};

/// Normalised connection parameters of a broker.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BrokerKey {
    tls: bool,
    host: String,
    port: u16,
    vhost: String,
    username: String,
    password: SecretKeyPart,
    heartbeat: Option<u16>,
    frame_max: Option<u32>,
    channel_max: Option<u16>,
    connection_timeout_ms: Option<u64>,
}

/// The password inside a key: compared and hashed, never printed.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SecretKeyPart(String);

/// Why a broker URL was refused (the URL itself is never repeated: it may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BrokerUrlError(String);

impl BrokerKey {
    /// Parses and normalises a broker URL (`amqp://` or `amqps://`): host case,
    /// default port (5672 / 5671), default virtual host `/`, percent-encoding.
    ///
    /// # Errors
    /// The URL is not a valid AMQP URI.
    pub fn parse(url: &Secret) -> Result<Self, BrokerUrlError> {
        let raw = url.expose().trim();
        if !(raw.starts_with("amqp://") || raw.starts_with("amqps://")) {
            return Err(BrokerUrlError("must start with amqp:// or amqps://".into()));
        }
        let uri: AMQPUri = raw.parse().map_err(|e: String| {
            BrokerUrlError(format!("not a valid AMQP URI: {}", scrub(&e, url)))
        })?;
        if uri.authority.host.is_empty() {
            return Err(BrokerUrlError("names no host".into()));
        }
        Ok(BrokerKey {
            tls: matches!(uri.scheme, AMQPScheme::AMQPS),
            host: uri.authority.host.to_ascii_lowercase(),
            port: uri.authority.port,
            vhost: if uri.vhost.is_empty() {
                "/".to_owned()
            } else {
                uri.vhost.clone()
            },
            username: uri.authority.userinfo.username.clone(),
            password: SecretKeyPart(uri.authority.userinfo.password.clone()),
            heartbeat: uri.query.heartbeat,
            frame_max: uri.query.frame_max,
            channel_max: uri.query.channel_max,
            connection_timeout_ms: uri.query.connection_timeout,
        })
    }

    /// The URI lapin connects with.
    pub fn to_uri(&self) -> AMQPUri {
        let defaults = AMQPUri::default();
        AMQPUri {
            scheme: if self.tls {
                AMQPScheme::AMQPS
            } else {
                AMQPScheme::AMQP
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: self.username.clone(),
                    password: self.password.0.clone(),
                },
                host: self.host.clone(),
                port: self.port,
            },
            vhost: self.vhost.clone(),
            query: AMQPQueryString {
                heartbeat: self.heartbeat,
                frame_max: self.frame_max,
                channel_max: self.channel_max,
                connection_timeout: self.connection_timeout_ms,
                ..defaults.query
            },
        }
    }
}

impl PoolKey for BrokerKey {
    fn redacted(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for BrokerKey {
    /// `amqp://user:***@host:port/vhost`, the virtual host percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "amqps" } else { "amqp" };
        let vhost: String = self
            .vhost
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02x}"),
            })
            .collect();
        write!(
            f,
            "{scheme}://{}:***@{}:{}/{vhost}",
            self.username, self.host, self.port
        )
    }
}

impl fmt::Debug for BrokerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BrokerKey({self})")
    }
}

/// Removes the URL's password from a parser message that may quote it.
fn scrub(message: &str, url: &Secret) -> String {
    let mut out = message.replace(url.expose(), "<url>");
    if let Some(password) = url
        .expose()
        .split_once("://")
        .and_then(|(_, rest)| rest.split('@').next())
        .and_then(|userinfo| userinfo.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty())
    {
        out = out.replace(password, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> BrokerKey {
        BrokerKey::parse(&Secret::new(url.into())).expect("valid")
    }

    #[test]
    fn spellings_of_the_same_broker_give_equal_keys() {
        let a = key("amqp://guest:guest@LocalHost");
        let b = key("amqp://guest:guest@localhost:5672/%2f");
        let c = key("amqp://guest:guest@localhost:5672/");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_ne!(a, key("amqp://guest:other@localhost"));
        assert_ne!(a, key("amqp://guest:guest@localhost/prod"));
        assert_eq!(key("amqps://u:p@h").port, 5671);
    }

    #[test]
    fn the_display_form_hides_the_password() {
        let k = key("amqp://svc:s3cr%40t@Rabbit.example:5672/prod");
        assert_eq!(k.to_string(), "amqp://svc:***@rabbit.example:5672/prod");
        assert_eq!(key("amqp://u:p@h").to_string(), "amqp://u:***@h:5672/%2f");
        assert!(!format!("{k:?}").contains("s3cr"));
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let err = BrokerKey::parse(&Secret::new("http://u:hunter2@h".into())).expect_err("scheme");
        assert!(!err.to_string().contains("hunter2"));
        let err =
            BrokerKey::parse(&Secret::new("amqp://u:hunter2@h:notaport".into())).expect_err("port");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
