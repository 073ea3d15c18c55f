//! What HTTP host pools are keyed by: scheme, host and port, normalised so that
//! `HTTP://Example.com/` and `http://example.com:80/x` share one pool.

use std::fmt;

use http::Uri;

use crate::pool::PoolKey;

/// The two schemes a host pool speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Why a URL cannot be used. Messages never repeat the URL: it may carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("is not a valid URL")]
    Invalid,
    #[error("must use the http or https scheme")]
    Scheme,
    #[error("must not carry credentials (user:password@); sign requests with the secret instead")]
    Credentials,
    #[error("has no host")]
    NoHost,
}

/// A normalised (scheme, host, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    scheme: Scheme,
    /// Lower case; IPv6 addresses keep their brackets.
    host: String,
    port: u16,
}

impl HostKey {
    /// The pool key of an absolute http(s) URL.
    ///
    /// # Errors
    /// [`UrlError`]: not a URL, another scheme, credentials in it, no host.
    pub fn from_uri(uri: &Uri) -> Result<HostKey, UrlError> {
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(_) => return Err(UrlError::Scheme),
            None => return Err(UrlError::Invalid),
        };
        let authority = uri.authority().ok_or(UrlError::NoHost)?;
        if authority.as_str().contains('@') {
            return Err(UrlError::Credentials);
        }
        let host = authority.host().to_ascii_lowercase();
        let host = host.strip_suffix('.').unwrap_or(&host).to_owned();
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        Ok(HostKey {
            port: authority
                .port_u16()
                .unwrap_or_else(|| scheme.default_port()),
            scheme,
            host,
        })
    }

    /// Parses and keys a URL.
    ///
    /// # Errors
    /// [`UrlError`].
    pub fn parse(url: &str) -> Result<(Uri, HostKey), UrlError> {
        let uri: Uri = url.parse().map_err(|_| UrlError::Invalid)?;
        let key = HostKey::from_uri(&uri)?;
        Ok((uri, key))
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host as a TCP connect or TLS server name wants it (no IPv6 brackets).
    pub fn bare_host(&self) -> &str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }
}

impl PoolKey for HostKey {
    // The key holds no credentials: they are refused when it is made.
    fn redacted(&self) -> String {
        self.to_string()
    }
}

/// A URL as it may be shown: scheme, host, port and path; query and fragment (where
/// tokens hide) dropped.
pub fn redact_url(uri: &Uri, key: &HostKey) -> String {
    format!("{key}{}", uri.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> Result<HostKey, UrlError> {
        HostKey::parse(url).map(|(_, k)| k)
    }

    #[test]
    fn equal_hosts_normalise_to_one_key() {
        let a = key("HTTP://Example.COM/hooks").expect("a");
        let b = key("http://example.com:80/other?x=1").expect("b");
        let c = key("http://example.com./").expect("c");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.to_string(), "http://example.com:80");
        assert_ne!(a, key("https://example.com/").expect("https"));
        assert_eq!(key("https://example.com").expect("d").port(), 443);
        assert_eq!(
            key("http://example.com:8080").expect("e").host_header(),
            "example.com:8080"
        );
    }

    #[test]
    fn ipv6_hosts_keep_brackets_for_headers_and_lose_them_for_sockets() {
        let k = key("http://[::1]:9000/").expect("v6");
        assert_eq!(k.bare_host(), "::1");
        assert_eq!(k.host_header(), "[::1]:9000");
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        assert_eq!(key("ftp://example.com/"), Err(UrlError::Scheme));
        assert_eq!(
            key("https://user:hunter2@example.com/"),
            Err(UrlError::Credentials)
        );
        assert_eq!(key("/relative"), Err(UrlError::Invalid));
        assert_eq!(key("not a url"), Err(UrlError::Invalid));
        let message = UrlError::Credentials.to_string();
        assert!(!message.contains("hunter2"));
    }

    #[test]
    fn shown_urls_drop_the_query() {
        let (uri, k) = HostKey::parse("https://h.example/hook?token=s3cret").expect("url");
        assert_eq!(redact_url(&uri, &k), "https://h.example:443/hook");
    }
}
