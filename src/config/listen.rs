//! Where the service listens: `listen` (the gRPC API), `[health]` and `[metrics]`,
//! and the refusal of an open API that nothing guards.

use std::net::SocketAddr;

use serde::Deserialize;

use super::{Cli, ConfigError, values::socket_addr};

/// The gRPC listen address: loopback unless an operator opens it up.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";

/// `[health]` or `[metrics]`: an extra listener, off unless given.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileListen {
    listen: Option<String>,
}

/// `listen`, the flag over the file.
pub(super) fn resolve(listen: Option<String>, cli: &Cli) -> Result<SocketAddr, ConfigError> {
    let listen = cli.listen.clone().or(listen);
    socket_addr("listen", listen.as_deref().unwrap_or(DEFAULT_LISTEN))
}

/// `health.listen` or `metrics.listen` (named by `key`).
pub(super) fn resolve_extra(
    key: &'static str,
    file: FileListen,
) -> Result<Option<SocketAddr>, ConfigError> {
    file.listen
        .map(|listen| socket_addr(key, &listen))
        .transpose()
}

/// Refuses an API open to the network with nothing guarding it, unless the
/// operator said `--insecure`.
pub(super) fn check_exposure(
    listen: SocketAddr,
    guarded: bool,
    insecure: bool,
) -> Result<(), ConfigError> {
    if !listen.ip().is_loopback() && !guarded && !insecure {
        return Err(ConfigError::invalid(
            "listen",
            format!(
                "{listen} is not a loopback address, and neither [[auth.tokens]] nor [tls] is \
                 configured: anyone who reaches it could control this host's domains. \
                 Configure tokens or TLS, or pass --insecure to accept that",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn a_bad_listen_address_is_named_by_its_key() {
        let err = Config::from_toml("listen = \"nowhere\"").expect_err("bad listen");
        assert!(err.to_string().contains("`listen`"), "{err}");
        let err = Config::from_toml("[metrics]\nlisten = \"nowhere\"").expect_err("bad");
        assert!(err.to_string().contains("metrics.listen"), "{err}");
    }

    #[test]
    fn an_open_address_needs_tokens_tls_or_insecure() {
        let err = Config::from_toml("listen = \"0.0.0.0:50051\"").expect_err("exposed");
        assert!(err.to_string().contains("--insecure"), "{err}");
        let guarded = Config::from_toml(
            "listen = \"0.0.0.0:50051\"\n[[auth.tokens]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"reader\"",
        )
        .expect("tokens guard it");
        assert!(!guarded.is_exposed_without_protection());
        assert!(Config::from_toml("listen = \"[::1]:50051\"").is_ok());
    }
}
