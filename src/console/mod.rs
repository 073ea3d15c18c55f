//! Serial console sessions: who holds which console, how a session pumps bytes
//! between its client and libvirt, and why it ended.

mod ending;
mod open;
mod registry;
mod session;

pub use ending::Ending;
pub use open::{OpenError, open};
pub use registry::Consoles;
pub use session::Session;
