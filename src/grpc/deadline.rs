//! The client's deadline, from the `grpc-timeout` header.
//!
//! tonic's server answers `CANCELLED` itself once the header's time has passed, and the
//! client gives up at the same moment: a handler that honours the deadline answers a
//! little before it, so that its own answer (`DEADLINE_EXCEEDED`, or a batch's
//! per-message results) is the one the client gets.

use std::time::Duration;

use tokio::time::Instant;
use tonic::metadata::MetadataMap;

/// The most kept back for the answer to travel.
const MAX_MARGIN: Duration = Duration::from_millis(500);

/// When the handler must answer, if the client set a deadline.
pub(crate) fn answer_by(metadata: &MetadataMap) -> Option<Instant> {
    let timeout = parse(metadata.get("grpc-timeout")?.to_str().ok()?)?;
    // A deadline too far to represent is no deadline.
    Instant::now().checked_add(timeout - (timeout / 5).min(MAX_MARGIN))
}

/// `grpc-timeout`: at most 8 digits and a unit (gRPC over HTTP/2).
fn parse(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values_parse_by_their_unit_and_bad_ones_are_ignored() {
        assert_eq!(parse("1S"), Some(Duration::from_secs(1)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("1000000u"), Some(Duration::from_secs(1)));
        for bad in ["", "S", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
