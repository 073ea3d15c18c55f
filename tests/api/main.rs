//! Black-box tests: the real service on a real socket, real gRPC clients, libvirt's
#![allow(
    unreachable_pub,
    reason = "a test binary has no public API; helpers are shared between its modules"
)]
//! test driver in-process and behind a private libvirtd, SQLite and PostgreSQL.

mod access;
mod binary;
mod cli;
mod connection_faults;
mod console;
mod devices;
mod domains;
mod error_details;
mod error_messages;
mod events;
mod fleet;
mod grpcurl;
mod guest_info;
mod host;
mod host_capacity;
mod http_pools;
mod inventory;
mod live_reads;
mod monitoring;
mod networks;
mod notifications;
mod outage;
mod publish;
mod qemu;
mod reconciliation;
mod retention;
mod retries;
mod security;
mod snapshots;
mod stats;
mod storage;
mod support;
mod telemetry;
mod webhooks;
mod writer_lock;
