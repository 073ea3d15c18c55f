//! DomainService against libvirt's in-process test driver: every method's happy path
//! and each error code a client must be able to rely on.

mod define_options;
mod graceful_shutdown;
mod labels;
mod lifecycle;
mod listing;
mod refusals;
mod reset_and_autostart;
mod resources;
mod save_restore;
