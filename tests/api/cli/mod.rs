//! `virtplanectl`, the real binary, against the running service: tables and JSON,
//! error lines and exit codes, tokens and TLS, a watch that resumes, completions.

mod access;
mod completions;
mod domains;
mod errors;
mod events;
mod hosts;
mod json;
