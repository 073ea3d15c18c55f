//! Domain lifecycle events: taken from libvirt's callbacks, persisted in batches,
//! reconciled against libvirt after every connect, and fanned out to watchers.

mod hub;
mod recorder;
mod settings;
mod state;

pub use hub::EventHub;
pub use recorder::{EventStats, LifecycleRecorder, ReconcileTrigger};
pub use settings::Settings;
pub use state::{Change, KnownDomains, apply, reconcile};
