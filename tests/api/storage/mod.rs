//! StorageService on libvirt's test driver (`test:///default`, which has a running
//! directory pool `default-pool` and keeps volumes in memory): every call, its happy
//! path and each refusal. The test driver neither resizes nor streams volumes: those
//! run on QEMU (qemu::storage).

mod pools;
mod refusals;
mod volumes;
