//! What the network tests share: network XML with a bridge of its own, and the
//! calls most of them make.

use std::hash::{DefaultHasher, Hash, Hasher};

use virtplane::grpc::pb;

use crate::support::TestApp;

/// A network with a bridge of its own, routed, with DHCP on IPv4 and an IPv6 address.
pub fn network_xml(name: &str, uuid: Option<&str>) -> String {
    let uuid = uuid.map_or(String::new(), |u| format!("<uuid>{u}</uuid>"));
    format!(
        "<network><name>{name}</name>{uuid}<forward mode='route'/>\
         <bridge name='{}'/>\
         <ip address='10.77.0.1' prefix='24'><dhcp>\
         <range start='10.77.0.100' end='10.77.0.199'/></dhcp></ip>\
         <ip family='ipv6' address='fd77::1' prefix='64'/></network>",
        bridge_for(name)
    )
}

/// A bridge name of at most 15 characters (the kernel's limit) unique to `name`.
pub fn bridge_for(name: &str) -> String {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    format!("vpt{:08x}", hasher.finish() as u32)
}

/// Every network, fetched `page_size` at a time.
pub async fn list_all(app: &mut TestApp, page_size: i32) -> Vec<pb::Network> {
    let (mut all, mut page_token) = (Vec::new(), String::new());
    loop {
        let page = app
            .networks
            .list_networks(pb::ListNetworksRequest {
                page_size,
                page_token,
            })
            .await
            .expect("list networks")
            .into_inner();
        all.extend(page.networks);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

/// GetNetwork's answer for `network`.
pub async fn get(app: &mut TestApp, network: &str) -> Result<pb::Network, tonic::Status> {
    app.networks
        .get_network(pb::GetNetworkRequest {
            network: network.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}
