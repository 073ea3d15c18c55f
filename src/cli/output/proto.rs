//! The message types the CLI prints, with their full names in the descriptor set.

use crate::grpc::pb;

/// A generated message whose descriptor the JSON and YAML output look up by name.
pub(crate) trait Proto: prost::Message + Sized {
    /// The message's full name, `virtplane.v1.Domain`.
    const NAME: &'static str;
}

macro_rules! protos {
    ($($ty:ident),* $(,)?) => {
        $(
            impl Proto for pb::$ty {
                const NAME: &'static str = concat!("virtplane.v1.", stringify!($ty));
            }
        )*
    };
}

protos!(
    AttachDeviceResponse,
    ConsoleOpened,
    DeleteSnapshotResponse,
    DeleteStoragePoolResponse,
    DeleteVolumeResponse,
    DetachDeviceResponse,
    Devices,
    Domain,
    DomainStats,
    DownloadVolumeEnd,
    GetDomainXmlResponse,
    GuestInfo,
    Host,
    HostCapacity,
    LifecycleEvent,
    ListBrokersResponse,
    ListDomainStatsResponse,
    ListDomainsResponse,
    ListHostsResponse,
    ListLifecycleEventsResponse,
    ListNetworkLeasesResponse,
    ListNetworksResponse,
    ListPoolsResponse,
    ListSnapshotsResponse,
    ListStoragePoolsResponse,
    ListVolumesResponse,
    ListWebhookDeliveriesResponse,
    ListWebhooksResponse,
    Network,
    PublishResponse,
    ShutdownDomainResponse,
    Snapshot,
    StoragePool,
    UndefineDomainResponse,
    UndefineNetworkResponse,
    UploadVolumeResponse,
    Volume,
);
