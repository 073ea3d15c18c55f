//! Which character device a console request means, read from the running domain's
//! XML: libvirt opens only pseudo-terminals, and names devices by alias.

use roxmltree::Document;

use crate::hypervisor::{HypervisorError, Missing, xml};

const NAME: &str = "open console";

/// A console or serial device of a running domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleDevice {
    /// libvirt's alias ("serial0", "console1"): the name `virDomainOpenConsole` takes.
    pub alias: String,
    /// The host side of the device: its pseudo-terminal's path while the domain runs.
    /// A console that mirrors a serial port shares that port's path.
    pub path: String,
}

/// One character device as the XML describes it.
#[derive(Debug)]
struct Chardev {
    alias: String,
    source_type: String,
    path: String,
}

/// The device `requested` names (an alias), or the domain's first console (else its
/// first serial port) when `requested` is empty, as libvirt itself picks.
///
/// # Errors
/// `NotFound` naming the devices the domain has, or `FailedPrecondition` for a device
/// that is not a pseudo-terminal.
pub(super) fn resolve(
    domain_xml: &str,
    domain: &str,
    requested: &str,
) -> Result<ConsoleDevice, HypervisorError> {
    let doc = Document::parse(domain_xml)
        .map_err(|e| HypervisorError::internal(NAME, format!("unreadable domain XML: {e}")))?;
    let devices = xml::child(doc.root_element(), "devices");
    let chardevs = |tag: &str| -> Vec<Chardev> {
        devices
            .into_iter()
            .flat_map(|d| d.children().filter(move |n| n.has_tag_name(tag)))
            .map(|n| Chardev {
                alias: xml::child(n, "alias")
                    .and_then(|a| a.attribute("name"))
                    .unwrap_or_default()
                    .to_owned(),
                source_type: n.attribute("type").unwrap_or_default().to_owned(),
                path: xml::child(n, "source")
                    .and_then(|s| s.attribute("path"))
                    .or_else(|| n.attribute("tty"))
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    };
    let consoles = chardevs("console");
    let serials = chardevs("serial");
    let chosen =
        if requested.is_empty() {
            consoles
                .first()
                .or_else(|| serials.first())
                .ok_or_else(|| HypervisorError::NotFound {
                    operation: NAME,
                    missing: Missing::Device(String::new()),
                    message: format!("domain {domain} has no console or serial device"),
                })?
        } else {
            consoles
            .iter()
            .chain(&serials)
            .find(|c| c.alias == requested)
            .ok_or_else(|| {
                let mut known: Vec<&str> = Vec::new();
                for alias in consoles.iter().chain(&serials).map(|c| c.alias.as_str()) {
                    if !alias.is_empty() && !known.contains(&alias) {
                        known.push(alias);
                    }
                }
                HypervisorError::NotFound {
                    operation: NAME,
                    missing: Missing::Device(requested.to_owned()),
                    message: format!(
                        "domain {domain} has no console or serial device {requested:?}; it has: {}",
                        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                    ),
                }
            })?
        };
    if chosen.source_type != "pty" {
        return Err(HypervisorError::FailedPrecondition {
            operation: NAME,
            message: format!(
                "device {:?} of domain {domain} is of type {:?}: only a pty console or serial device can be opened",
                chosen.alias, chosen.source_type
            ),
        });
    }
    Ok(ConsoleDevice {
        alias: chosen.alias.clone(),
        path: chosen.path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = "<domain><devices>\
        <serial type='pty'><source path='/dev/pts/3'/><alias name='serial0'/></serial>\
        <serial type='file'><source path='/tmp/s1.log'/><alias name='serial1'/></serial>\
        <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/><alias name='serial0'/></console>\
        </devices></domain>";

    #[test]
    fn the_first_console_is_chosen_when_none_is_named() {
        let device = resolve(LIVE, "web", "").expect("resolves");
        assert_eq!(
            device,
            ConsoleDevice {
                alias: "serial0".into(),
                path: "/dev/pts/3".into()
            }
        );
    }

    #[test]
    fn a_named_device_is_found_by_alias_and_must_be_a_pty() {
        assert_eq!(
            resolve(LIVE, "web", "serial0").expect("found").path,
            "/dev/pts/3"
        );
        let refused = resolve(LIVE, "web", "serial1").expect_err("a file is no console");
        assert!(matches!(
            refused,
            HypervisorError::FailedPrecondition { .. }
        ));
        assert!(refused.to_string().contains("\"file\""), "{refused}");
    }

    #[test]
    fn an_unknown_device_is_not_found_and_the_known_ones_are_listed() {
        let missing = resolve(LIVE, "web", "console7").expect_err("unknown");
        assert!(matches!(missing, HypervisorError::NotFound { .. }));
        assert!(
            missing.to_string().contains("serial0, serial1"),
            "{missing}"
        );
        let bare = resolve("<domain><devices/></domain>", "web", "").expect_err("none");
        assert!(
            bare.to_string().contains("no console or serial device"),
            "{bare}"
        );
    }
}
