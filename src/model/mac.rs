//! MAC addresses as clients give them: an interface to attach or find, a lease filter.

use super::InvalidArgument;

/// A unicast MAC address, lower case with colons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacAddress(String);

impl MacAddress {
    /// Parses `aa:bb:cc:dd:ee:ff` in either case.
    ///
    /// # Errors
    /// Anything else, or a multicast address, named by `field`.
    pub fn parse(field: &'static str, text: &str) -> Result<MacAddress, InvalidArgument> {
        let bytes: Vec<u8> = text
            .split(':')
            .filter_map(|part| {
                (part.len() == 2)
                    .then(|| u8::from_str_radix(part, 16).ok())
                    .flatten()
            })
            .collect();
        if bytes.len() != 6 || text.len() != 17 {
            return Err(InvalidArgument::new(
                field,
                format!("`{field}` {text:?} is not a MAC address like 52:54:00:12:34:56"),
            ));
        }
        if bytes[0] & 1 == 1 {
            return Err(InvalidArgument::new(
                field,
                format!(
                    "`{field}` {text:?} is a multicast address; an interface needs a unicast one"
                ),
            ));
        }
        Ok(MacAddress(Self::format(&bytes)))
    }

    /// A random address in QEMU's locally administered range (52:54:00), so the
    /// service knows the new interface's address before libvirt does.
    pub fn random() -> MacAddress {
        let tail = fastrand::u32(..).to_be_bytes();
        MacAddress(Self::format(&[0x52, 0x54, 0x00, tail[1], tail[2], tail[3]]))
    }

    fn format(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_are_parsed_normalised_and_unicast() {
        let mac = MacAddress::parse("mac", "52:54:00:AB:cd:01").expect("valid");
        assert_eq!(mac.as_str(), "52:54:00:ab:cd:01");
        for bad in [
            "",
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:0g",
            "01:00:5e:00:00:01",
            "5:54:00:ab:cd:01:",
        ] {
            assert!(MacAddress::parse("mac", bad).is_err(), "{bad}");
        }
        let random = MacAddress::random();
        assert!(random.as_str().starts_with("52:54:00:"));
        assert_eq!(MacAddress::parse("mac", random.as_str()), Ok(random));
    }
}
