//! The proto's canonical JSON mapping (lowerCamelCase names, enums by name, 64-bit
//! integers as strings, default values left out), as grpcurl prints it: each message
//! is re-read as a dynamic message of the descriptor set the build records.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage};

use super::{Proto, node::Node};
use crate::{cli::error::CliError, grpc::pb};

fn pool() -> Result<&'static DescriptorPool, CliError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| CliError::Other(format!("the API's descriptors do not load: {e}")))
}

/// `message` as JSON text in the proto's JSON mapping, its fields in the proto's order;
/// `pretty` spreads it over indented lines.
pub(crate) fn to_json<M: Proto>(message: &M, pretty: bool) -> Result<String, CliError> {
    let descriptor = pool()?
        .get_message_by_name(M::NAME)
        .ok_or_else(|| CliError::Other(format!("no descriptor for {}", M::NAME)))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| CliError::Other(format!("{}: {e}", M::NAME)))?;
    let text = if pretty {
        serde_json::to_string_pretty(&dynamic)
    } else {
        serde_json::to_string(&dynamic)
    };
    text.map_err(|e| CliError::Other(format!("{}: {e}", M::NAME)))
}

/// `message` in the proto's JSON mapping, as a tree for the YAML writer.
pub(crate) fn to_node<M: Proto>(message: &M) -> Result<Node, CliError> {
    Node::parse(&to_json(message, false)?).map_err(|e| CliError::Other(format!("{}: {e}", M::NAME)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_camel_case_and_enums_are_names() {
        let domain = pb::Domain {
            name: "web".into(),
            state: pb::DomainState::Running as i32,
            memory_kib: 131_072,
            has_managed_save: true,
            ..Default::default()
        };
        assert_eq!(
            to_json(&domain, false).expect("encodes"),
            r#"{"name":"web","state":"DOMAIN_STATE_RUNNING","memoryKib":"131072","hasManagedSave":true}"#
        );
    }

    #[test]
    fn timestamps_are_rfc_3339() {
        let event = pb::LifecycleEvent {
            id: 7,
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            ..Default::default()
        };
        assert_eq!(
            to_json(&event, false).expect("encodes"),
            r#"{"id":"7","occurredAt":"2023-11-14T22:13:20Z"}"#
        );
    }
}
