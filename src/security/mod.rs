//! Who may call the API (bearer tokens) and how it is encrypted (TLS, mutual TLS);
//! both reload their files on SIGHUP or when the files change, without a restart.

pub mod auth;
mod pem;
mod reload;
mod settings;
pub mod tls;

pub use auth::{AuthError, Authenticator, Caller};
pub use pem::{check_ca_file, load_ca_certs};
pub use reload::spawn_reloader;
pub use settings::{Role, TlsSettings, TokenError, TokenSettings, TokenSource, check_token};
pub use tls::{Conn, ReloadableTls, TlsError, incoming};
