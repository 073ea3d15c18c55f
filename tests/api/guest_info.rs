//! GetGuestInfo on the test driver, which fakes a guest: its interface from each
//! source and its hostname; what the driver cannot report is named, not invented.

use tonic::Code;
use virtplane::grpc::pb::{self, AddressSource};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

#[tokio::test]
async fn a_running_guests_addresses_and_hostname_come_back_from_each_source() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    for source in [
        AddressSource::Unspecified,
        AddressSource::Lease,
        AddressSource::Agent,
        AddressSource::Arp,
    ] {
        let info = app
            .guests
            .get_guest_info(pb::GetGuestInfoRequest {
                domain: "test".into(),
                address_source: source.into(),
            })
            .await
            .expect("guest info")
            .into_inner();
        assert_eq!(info.hostname, "testhost");
        let iface = info.interfaces.first().expect("an interface");
        assert_eq!(iface.mac, "aa:bb:cc:dd:ee:ff", "{source:?}");
        assert_eq!(
            iface
                .addresses
                .first()
                .map(|a| (a.address.as_str(), a.prefix, a.ipv6)),
            Some(("192.168.122.3", 24, false)),
            "{source:?}"
        );
        assert!(
            info.unsupported
                .iter()
                .any(|u| u.starts_with("os, timezone, users, filesystems")),
            "{:?}",
            info.unsupported
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_guest_that_is_not_running_or_unknown_or_a_bad_source_is_refused() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let off = unique_name("guest-off");
    app.define(&off).await;
    for (domain, source, code) in [
        (off.as_str(), 0, Code::FailedPrecondition),
        ("nowhere-at-all", 0, Code::NotFound),
        ("", 0, Code::InvalidArgument),
        ("test", 42, Code::InvalidArgument),
    ] {
        let status = app
            .guests
            .get_guest_info(pb::GetGuestInfoRequest {
                domain: domain.into(),
                address_source: source,
            })
            .await
            .expect_err(domain);
        assert_eq!(status.code(), code, "{domain}: {}", status.message());
    }
    app.stop().await;
}
