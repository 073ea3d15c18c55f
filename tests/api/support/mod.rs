//! Test helpers: the app in-process on port 0 with its scratch folder and clients,
//! typed options, fixtures, waits, and the daemons the tests run against.

pub mod amqp;
pub mod app;
pub mod binary;
pub mod ctl;
pub mod database;
pub mod events;
pub mod fixtures;
pub mod http_server;
pub mod libvirtd;
pub mod logs;
pub mod metrics;
pub mod options;
pub mod pki;
pub mod postgres;
pub mod prometheus;
pub mod qemu;
pub mod rabbitmq;
pub mod receiver;
pub mod sinks;
pub mod storage;
pub mod wait;

pub use app::{Scratch, TestApp};
pub use binary::Binary;
pub use ctl::{CtlChild, ctl, ctl_with};
pub use fixtures::{TEST_DRIVER, domain_xml, unique_name, write_domain_xml};
pub use logs::capture_logs;
pub use options::{Role, TestOptions};
pub use sinks::{Broker, Webhook};
pub use wait::{eventually, within};
