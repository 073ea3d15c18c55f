//! OpenConsole's refusals before any console opens, on the test driver: a stream that
//! does not start with `open`, a malformed domain, a domain with no console. (The
//! console itself needs a hypervisor: see qemu::console.)

use tokio_stream::StreamExt;
use tonic::Code;
use virtplane::grpc::pb::{
    self, console_input::Input, console_service_client::ConsoleServiceClient,
};

use crate::support::{TEST_DRIVER, TestApp, TestOptions};

async fn open_with(app: &TestApp, messages: Vec<pb::ConsoleInput>) -> tonic::Status {
    let mut client = ConsoleServiceClient::new(app.channel.clone());
    let reply = client.open_console(tokio_stream::iter(messages)).await;
    match reply {
        Err(status) => status,
        Ok(stream) => match stream.into_inner().next().await {
            Some(Ok(message)) => panic!("no console opens here: {message:?}"),
            Some(Err(status)) => status,
            None => panic!("the stream ended without a status"),
        },
    }
}

fn open(domain: &str) -> pb::ConsoleInput {
    pb::ConsoleInput {
        input: Some(Input::Open(pb::ConsoleOpen {
            domain: domain.into(),
            ..Default::default()
        })),
    }
}

#[tokio::test]
async fn a_stream_that_does_not_start_with_open_is_refused_saying_so() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let data_first = open_with(
        &app,
        vec![pb::ConsoleInput {
            input: Some(Input::Data(b"ls\n".to_vec())),
        }],
    )
    .await;
    assert_eq!(data_first.code(), Code::InvalidArgument, "{data_first:?}");
    assert!(
        data_first
            .message()
            .contains("first ConsoleInput must be `open`"),
        "{}",
        data_first.message()
    );

    let empty = open_with(&app, vec![]).await;
    assert_eq!(empty.code(), Code::InvalidArgument, "{empty:?}");
    assert!(
        empty.message().contains("before `open`"),
        "{}",
        empty.message()
    );

    let nameless = open_with(&app, vec![open("")]).await;
    assert_eq!(nameless.code(), Code::InvalidArgument, "{nameless:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_domain_without_a_console_or_unknown_is_not_found() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    // The test driver's running domain "test" has no console or serial device.
    let bare = open_with(&app, vec![open("test")]).await;
    assert_eq!(bare.code(), Code::NotFound, "{bare:?}");
    assert!(
        bare.message().contains("no console or serial device"),
        "{}",
        bare.message()
    );
    let unknown = open_with(&app, vec![open("no-such-domain")]).await;
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    app.stop().await;
}
