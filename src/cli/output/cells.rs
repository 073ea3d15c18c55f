//! Table cells: enum names without their prefix, sizes and times for people.

/// An enum's name without its type prefix (`DOMAIN_STATE_RUNNING` → `RUNNING`); the
/// number when the CLI does not know the value.
pub(crate) fn enum_word(name: Option<&str>, prefix: &str, value: i32) -> String {
    match name {
        Some(name) => name.strip_prefix(prefix).unwrap_or(name).to_owned(),
        None => value.to_string(),
    }
}

/// `yes` or `no`.
pub(crate) fn bool_word(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// A size in KiB in the largest binary unit that keeps it at one or more.
pub(crate) fn kib(value: u64) -> String {
    bytes(value.saturating_mul(1024))
}

/// A size in bytes in the largest binary unit that keeps it at one or more.
pub(crate) fn bytes(value: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut size = value as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 || size.fract() == 0.0 {
        format!("{size:.0} {}", UNITS[unit])
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// A timestamp in RFC 3339; `-` when absent.
pub(crate) fn time(value: Option<&prost_types::Timestamp>) -> String {
    value.map_or_else(|| "-".to_owned(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(kib(131_072), "128 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(0), "0 B");
    }

    #[test]
    fn enum_names_lose_their_prefix() {
        assert_eq!(
            enum_word(Some("DOMAIN_STATE_RUNNING"), "DOMAIN_STATE_", 2),
            "RUNNING"
        );
        assert_eq!(enum_word(None, "DOMAIN_STATE_", 42), "42");
    }
}
