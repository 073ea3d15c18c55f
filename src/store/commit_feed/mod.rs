//! Which hosts just committed lifecycle events, and what, heard through PostgreSQL's
//! LISTEN/NOTIFY, so that a watch of another host's events gets them as they are
//! committed instead of reading the database on a timer.

mod announcement;
mod listener;

pub use announcement::Announced;
pub(super) use announcement::encode;
pub use listener::CommitWatch;
pub(super) use listener::{CHANNEL, CommitFeed};
