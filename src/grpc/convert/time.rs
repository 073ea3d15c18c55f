//! Timestamps: the API's `google.protobuf.Timestamp` and the service's microseconds.

use crate::model::InvalidArgument;
use tonic::Status;

pub(crate) fn timestamp_from_micros(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// A request's timestamp as microseconds since the epoch.
pub(crate) fn micros_from_timestamp(
    field: &'static str,
    ts: &prost_types::Timestamp,
) -> Result<i64, Status> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(Status::from(InvalidArgument::new(
            field,
            format!("`{field}` has nanos outside 0..1e9"),
        )));
    }
    ts.seconds
        .checked_mul(1_000_000)
        .and_then(|s| s.checked_add(i64::from(ts.nanos / 1_000)))
        .ok_or_else(|| {
            Status::from(InvalidArgument::new(
                field,
                format!("`{field}` is out of range"),
            ))
        })
}
