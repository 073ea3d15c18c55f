//! DomainService against libvirt's in-process test driver: every method's happy path
//! and each error code a client must be able to rely on.

mod lifecycle;
mod listing;
mod refusals;
mod reset_and_autostart;
