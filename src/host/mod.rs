//! The host: its enabled state, set by operators and by the service itself, and the
//! heartbeat that tells the fleet sharing the database that its agent is alive.

mod controller;
mod heartbeat;
mod settings;

pub use controller::{HostController, HostError};
pub use heartbeat::{HeartbeatStats, beat_periodically};
pub use settings::Settings;
