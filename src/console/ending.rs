//! Why a console session ended, in words a client can act on.

use std::fmt;

use crate::model::InvalidArgument;

/// The end of a console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Another client opened the same console with `force`.
    TakenOver { device: String, domain: String },
    /// The domain stopped; its console went with it.
    DomainStopped { domain: String, detail: String },
    /// The libvirt connection was lost; the service reconnects by itself.
    ConnectionLost { reason: String },
    /// libvirt closed the stream while the domain still runs (another libvirt client
    /// took the device over, or the stream failed).
    StreamClosed { domain: String, message: String },
    /// The client sent something that is not console input.
    BadInput(InvalidArgument),
    /// The client went away.
    ClientGone,
    /// The service is stopping.
    ServiceStopping,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::TakenOver { device, domain } => write!(
                f,
                "console {device:?} of domain {domain} was taken over by another client (OpenConsole with force)"
            ),
            Ending::DomainStopped { domain, detail } => {
                write!(f, "domain {domain} stopped ({detail}); its console closed")
            }
            Ending::ConnectionLost { reason } => write!(
                f,
                "the libvirt connection was lost ({reason}); the console closed: open it again once the service has reconnected"
            ),
            Ending::StreamClosed { domain, message } => write!(
                f,
                "libvirt closed the console of domain {domain} while it still runs ({message}); another libvirt client may have taken it over"
            ),
            Ending::BadInput(invalid) => f.write_str(&invalid.message),
            Ending::ClientGone => f.write_str("the client went away"),
            Ending::ServiceStopping => {
                f.write_str("the service is shutting down; the console closed")
            }
        }
    }
}
