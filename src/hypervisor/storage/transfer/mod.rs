//! Volume contents in and out: non-blocking libvirt streams driven by the event loop,
//! through bounded pipes, with a count and a SHA-256 of what moved.

mod download;
mod download_pipe;
mod stream_end;
mod tally;
mod upload;
mod upload_pipe;

pub use download::VolumeDownload;
pub use upload::VolumeUpload;
