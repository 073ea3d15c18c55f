//! DHCP leases of a network, and the MAC address a client filters them by.

use super::{InvalidArgument, IpFamily};

/// An address a guest leased from a network's DHCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpLease {
    pub mac: String,
    pub ip: String,
    pub family: IpFamily,
    pub prefix: u32,
    pub hostname: Option<String>,
    pub client_id: Option<String>,
    /// The DHCPv6 identity association id.
    pub iaid: Option<String>,
    /// The host interface the lease was handed out on.
    pub interface: String,
    /// Seconds since the epoch; `None` for a lease that never expires.
    pub expires_at_s: Option<i64>,
}

/// An Ethernet MAC address, six colon-separated hex octets, kept lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacAddress(String);

impl MacAddress {
    /// Parses `52:54:00:ab:cd:ef` in any case.
    ///
    /// # Errors
    /// Anything else, naming the field `mac`.
    pub fn parse(input: &str) -> Result<Self, InvalidArgument> {
        let octets: Vec<&str> = input.split(':').collect();
        let well_formed = octets.len() == 6
            && octets
                .iter()
                .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            let shown: String = input.chars().take(64).collect();
            return Err(InvalidArgument::new(
                "mac",
                format!(
                    "`mac` {shown:?} is not a MAC address: six hex octets separated by ':', like 52:54:00:12:34:56"
                ),
            ));
        }
        Ok(MacAddress(input.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_are_read_in_any_case_and_kept_lower_case() {
        assert_eq!(
            MacAddress::parse("52:54:00:AB:cd:0F").map(|m| m.as_str().to_owned()),
            Ok("52:54:00:ab:cd:0f".to_owned())
        );
    }

    #[test]
    fn anything_but_six_hex_octets_is_refused_naming_the_field() {
        for bad in [
            "",
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:ef:01",
            "52-54-00-ab-cd-ef",
            "52:54:00:ab:cd:eg",
            "525:4:00:ab:cd:ef",
            "52:54:00:ab:cd:é",
        ] {
            let err = MacAddress::parse(bad).expect_err(bad);
            assert_eq!(err.field, "mac", "{bad}");
            assert!(err.message.contains("`mac`"), "{}", err.message);
        }
    }
}
