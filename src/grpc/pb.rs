//! Generated protobuf types and service stubs of `virtplane.v1`, and their descriptors.
#![allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]

tonic::include_proto!("virtplane.v1");

/// The API's descriptors, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("virtplane_descriptor");
