//! The access table against what the server really serves: every method of every
//! service descriptor is in it, and each method answers a reader and an admin token
//! as the table says.

use std::time::Duration;

use bytes::{Buf, BufMut};
use prost::Message;
use tonic::{
    Code, Request, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataValue,
    transport::Channel,
};
use virtplane::grpc::{
    access::{self, Access},
    pb,
};

use crate::support::{Role, TEST_DRIVER, TestApp, TestOptions};

const ADMIN: &str = "admin-token-4d2a9c71e0b3";
const READER: &str = "reader-token-8e5f30a1c6d7";

/// A method as its descriptor describes it.
#[derive(Debug)]
struct Method {
    path: String,
    client_streaming: bool,
    server_streaming: bool,
}

fn served_methods() -> Vec<Method> {
    let sets = [
        pb::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ];
    let mut methods = Vec::new();
    for set in sets {
        let set = prost_types::FileDescriptorSet::decode(set).expect("descriptor set");
        for file in set.file {
            let package = file.package();
            for service in &file.service {
                for method in &service.method {
                    methods.push(Method {
                        path: format!("/{package}.{}/{}", service.name(), method.name()),
                        client_streaming: method.client_streaming(),
                        server_streaming: method.server_streaming(),
                    });
                }
            }
        }
    }
    methods
}

#[test]
fn every_served_method_has_exactly_one_rule_and_every_rule_a_method() {
    let served = served_methods();
    for method in &served {
        assert!(
            access::TABLE.iter().any(|rule| rule.method == method.path),
            "{} is missing from the access table",
            method.path
        );
    }
    for rule in access::TABLE {
        assert!(
            served.iter().any(|m| m.path == rule.method),
            "the access table names {}, which no service serves",
            rule.method
        );
    }
}

/// Sends and receives raw protobuf bytes, so any method can be called.
#[derive(Debug, Clone, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        Ok(Some(bytes.to_vec()))
    }
}

/// Calls `method` with `body` and `token`; the code it answers (`Ok` for a stream
/// the server opened).
async fn call(channel: &Channel, method: &Method, body: Vec<u8>, token: &str) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("ready");
    let path: http::uri::PathAndQuery = method.path.parse().expect("path");
    let auth: MetadataValue<_> = format!("Bearer {token}").parse().expect("metadata");
    let outcome = if method.client_streaming {
        let mut request = Request::new(tokio_stream::iter(vec![body]));
        request.metadata_mut().insert("authorization", auth);
        grpc.streaming(request, path, Raw).await.map(drop)
    } else {
        let mut request = Request::new(body);
        request.metadata_mut().insert("authorization", auth);
        request.set_timeout(Duration::from_secs(10));
        if method.server_streaming {
            grpc.server_streaming(request, path, Raw).await.map(drop)
        } else {
            grpc.unary(request, path, Raw).await.map(drop)
        }
    };
    outcome.err().map_or(Code::Ok, |status| status.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_method_answers_a_reader_and_an_admin_as_the_access_table_says() {
    let options = TestOptions::new(TEST_DRIVER)
        .token("ops", Role::Admin, ADMIN)
        .token("dashboard", Role::Reader, READER);
    let app = TestApp::spawn(options).await;
    let channel = app.channel.clone();

    for method in served_methods() {
        // An empty request: every mutation refuses it (a missing field), so nothing
        // changes, but only after the access check has let it through.
        let needs = access::access_of(&method.path);
        let as_reader = call(&channel, &method, Vec::new(), READER).await;
        let as_admin = call(&channel, &method, Vec::new(), ADMIN).await;
        assert!(
            !matches!(as_admin, Code::PermissionDenied | Code::Unauthenticated),
            "{} refused an admin: {as_admin:?}",
            method.path
        );
        match needs {
            Access::Admin => assert_eq!(
                as_reader,
                Code::PermissionDenied,
                "{} must refuse a reader",
                method.path
            ),
            Access::Read | Access::Open => assert!(
                !matches!(as_reader, Code::PermissionDenied | Code::Unauthenticated),
                "{} refused a reader: {as_reader:?}",
                method.path
            ),
        }
    }

    // A sensitive field: secure XML carries graphics passwords.
    let get_xml = Method {
        path: access::GET_DOMAIN_XML.into(),
        client_streaming: false,
        server_streaming: false,
    };
    let secure = pb::GetDomainXmlRequest {
        domain: "test".into(),
        secure: true,
        inactive: false,
    }
    .encode_to_vec();
    let plain = pb::GetDomainXmlRequest {
        domain: "test".into(),
        secure: false,
        inactive: false,
    }
    .encode_to_vec();
    assert_eq!(
        call(&channel, &get_xml, secure.clone(), READER).await,
        Code::PermissionDenied
    );
    assert_eq!(call(&channel, &get_xml, plain, READER).await, Code::Ok);
    assert_eq!(call(&channel, &get_xml, secure, ADMIN).await, Code::Ok);
    app.stop().await;
}
