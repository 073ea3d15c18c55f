//! Serial consoles: a non-blocking libvirt stream per console, driven by libvirt's
//! event loop (no thread per console), and the pipe that carries its bytes.

mod device;
mod open;
mod pipe;
mod stream;

pub use device::ConsoleDevice;
pub use open::{ConsoleTarget, OpenConsole, ResolveConsole};
pub use pipe::{StreamEnd, Taken};
pub use stream::ConsoleStream;
