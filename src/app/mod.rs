//! Wiring: builds every part from the configuration, runs the servers and the
//! background tasks, and stops them in a deliberate order within one deadline.

mod build;
mod run;
mod serve;
mod standby;
mod tasks;

pub use build::App;
