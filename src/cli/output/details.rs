//! The `google.rpc.Status` a failed call may carry in `grpc-status-details-bin`, read
//! for the `reason` of its `google.rpc.ErrorInfo`.

use prost::Message;

const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// `google.rpc.Status`, the fields a client reads.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// `google.rpc.ErrorInfo`.
#[derive(Clone, PartialEq, Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(btree_map = "string, string", tag = "3")]
    metadata: std::collections::BTreeMap<String, String>,
}

/// The `reason` of the first ErrorInfo in a status's details, if it has one.
pub(crate) fn error_reason(details: &[u8]) -> Option<String> {
    if details.is_empty() {
        return None;
    }
    let status = RpcStatus::decode(details).ok()?;
    status
        .details
        .iter()
        .filter(|any| any.type_url == ERROR_INFO)
        .find_map(|any| ErrorInfo::decode(any.value.as_slice()).ok())
        .map(|info| info.reason)
        .filter(|reason| !reason.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_read_from_an_error_info_among_other_details() {
        let info = ErrorInfo {
            reason: "DOMAIN_NOT_FOUND".into(),
            domain: "virtplane.v1".into(),
            metadata: [("domain".to_owned(), "web".to_owned())].into(),
        };
        let status = RpcStatus {
            code: 5,
            message: "no domain web".into(),
            details: vec![
                prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.ResourceInfo".into(),
                    value: vec![10, 1, b'x'],
                },
                prost_types::Any {
                    type_url: ERROR_INFO.into(),
                    value: info.encode_to_vec(),
                },
            ],
        };
        assert_eq!(
            error_reason(&status.encode_to_vec()).as_deref(),
            Some("DOMAIN_NOT_FOUND")
        );
    }

    #[test]
    fn no_details_no_reason() {
        assert_eq!(error_reason(&[]), None);
        assert_eq!(error_reason(&[0xff, 0xff]), None);
    }
}
