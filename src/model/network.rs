//! Virtual networks: how a request names one, and what the service knows of one.

use super::{InvalidArgument, domain::normalize_uuid};

const MAX_REF_LEN: usize = 256;

/// How a request names a network: by UUID or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkRef {
    Uuid(String),
    Name(String),
}

/// A network's identity, state and addressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub uuid: String,
    pub name: String,
    /// The host bridge guests attach to; `None` for networks without one (macvtap,
    /// hostdev).
    pub bridge: Option<String>,
    pub forward: ForwardMode,
    pub active: bool,
    pub persistent: bool,
    pub autostart: bool,
    /// The host's addresses on the network, in the definition's order.
    pub addresses: Vec<NetworkAddress>,
}

/// How a network's traffic leaves the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardMode {
    /// No forwarding: guests reach each other and the host only.
    Isolated,
    Nat,
    Route,
    Open,
    Bridge,
    Private,
    Vepa,
    Passthrough,
    Hostdev,
}

/// An IP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IpFamily {
    V4,
    V6,
}

/// An address the host has on a network, and the DHCP ranges served from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAddress {
    pub family: IpFamily,
    pub address: String,
    pub prefix: u32,
    pub dhcp_ranges: Vec<DhcpRange>,
}

/// A range of addresses a DHCP server leases from, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpRange {
    pub start: String,
    pub end: String,
}

impl NetworkRef {
    /// Parses a UUID (with or without dashes, any case) or else a name.
    ///
    /// # Errors
    /// An empty, overlong or NUL-containing value, naming the field `network`.
    pub fn parse(input: &str) -> Result<Self, InvalidArgument> {
        if input.is_empty() {
            return Err(InvalidArgument::new(
                "network",
                "`network` is required: give the network's UUID or name",
            ));
        }
        if input.len() > MAX_REF_LEN || input.contains('\0') {
            return Err(InvalidArgument::new(
                "network",
                format!(
                    "`network` must be a UUID or a name of at most {MAX_REF_LEN} bytes without NUL"
                ),
            ));
        }
        Ok(match normalize_uuid(input) {
            Some(uuid) => NetworkRef::Uuid(uuid),
            None => NetworkRef::Name(input.to_owned()),
        })
    }

    /// The reference as the client gave it (a UUID in its normal form).
    pub fn as_str(&self) -> &str {
        match self {
            NetworkRef::Uuid(s) | NetworkRef::Name(s) => s,
        }
    }
}

impl std::fmt::Display for NetworkRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_named_by_uuid_in_any_spelling_or_else_by_name() {
        assert_eq!(
            NetworkRef::parse("DD8FE8846C02601E7551CCA97DF1C5DF").ok(),
            Some(NetworkRef::Uuid(
                "dd8fe884-6c02-601e-7551-cca97df1c5df".into()
            ))
        );
        assert_eq!(
            NetworkRef::parse("default").ok(),
            Some(NetworkRef::Name("default".into()))
        );
    }

    #[test]
    fn empty_and_overlong_references_are_refused_naming_the_field() {
        for bad in [String::new(), "n".repeat(MAX_REF_LEN + 1), "a\0b".into()] {
            let err = NetworkRef::parse(&bad).expect_err("refused");
            assert_eq!(err.field, "network");
            assert!(err.message.contains("`network`"), "{}", err.message);
        }
    }
}
