//! `ListDomains` over 1,000 domains against one bulk-stats round trip per page.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use virt::connect::Connect;
use virtplane::{
    grpc::pb::{self, ReadConsistency, domain_service_client::DomainServiceClient},
    hypervisor::{ListDomainStats, Operation},
};

use super::{Service, row};

const DOMAINS: usize = 1000;
const PAGE: i32 = 100;
const ROUNDS: u32 = 50;

pub(crate) async fn thousand_domains(service: &Service, uri: &str) {
    let other = Arc::new(Connect::open(Some(uri)).expect("another libvirt client"));
    let defining = Arc::clone(&other);
    tokio::task::spawn_blocking(move || {
        for i in 0..DOMAINS {
            let xml = format!(
                "<domain type='test'><name>bulk-{i:04}</name><memory>65536</memory>\
                 <os><type>hvm</type></os></domain>"
            );
            defining.define_domain_xml(&xml).expect("define");
        }
    })
    .await
    .expect("define domains");
    let mut client = DomainServiceClient::connect(service.addr.clone())
        .await
        .expect("client");
    // The definitions arrive as events; wait until the inventory holds them all.
    let total = DOMAINS + 1;
    let deadline = Instant::now() + Duration::from_secs(120);
    while walk(&mut client, ReadConsistency::Cached).await.0 < total {
        assert!(
            Instant::now() < deadline,
            "the inventory never saw every domain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let bulk = {
        let conn = Arc::clone(&other);
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                let sampled = ListDomainStats.call(&conn).expect("bulk stats");
                assert_eq!(sampled.len(), total);
            }
            started.elapsed() / ROUNDS
        })
        .await
        .expect("bulk")
    };
    row(
        &format!("one bulk-stats round trip, {total} domains"),
        &format!("{:>8.2} ms", ms(bulk)),
    );

    let started = Instant::now();
    for _ in 0..ROUNDS {
        page(&mut client, ReadConsistency::Cached, String::new()).await;
    }
    let first_page = started.elapsed() / ROUNDS;
    row(
        "ListDomains, a page of 100",
        &format!(
            "{:>8.2} ms  {:.3}x one bulk round trip",
            ms(first_page),
            ratio(first_page, bulk)
        ),
    );
    for (label, consistency, rounds) in [
        (
            "ListDomains, all in pages of 100",
            ReadConsistency::Cached,
            ROUNDS,
        ),
        (
            "ListDomains LIVE, all in pages of 100",
            ReadConsistency::Live,
            3,
        ),
    ] {
        let started = Instant::now();
        let mut pages = 0;
        for _ in 0..rounds {
            pages = walk(&mut client, consistency).await.1;
        }
        let walk_time = started.elapsed() / rounds;
        row(
            &format!("{label} ({pages} pages)"),
            &format!(
                "{:>8.2} ms  {:.3}x one bulk round trip per page",
                ms(walk_time),
                ratio(walk_time, bulk * pages)
            ),
        );
    }
}

/// Every domain, page by page: how many, in how many pages.
async fn walk(
    client: &mut DomainServiceClient<tonic::transport::Channel>,
    consistency: ReadConsistency,
) -> (usize, u32) {
    let (mut count, mut pages, mut token) = (0, 0, String::new());
    loop {
        let reply = page(client, consistency, token).await;
        count += reply.domains.len();
        pages += 1;
        if reply.next_page_token.is_empty() {
            return (count, pages);
        }
        token = reply.next_page_token;
    }
}

async fn page(
    client: &mut DomainServiceClient<tonic::transport::Channel>,
    consistency: ReadConsistency,
    page_token: String,
) -> pb::ListDomainsResponse {
    client
        .list_domains(pb::ListDomainsRequest {
            page_size: PAGE,
            page_token,
            consistency: consistency.into(),
            ..Default::default()
        })
        .await
        .expect("ListDomains")
        .into_inner()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
