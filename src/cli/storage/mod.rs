//! `virtplanectl storage`: storage pools and their volumes, uploads and downloads.

mod command;
mod pools;
mod transfer;
mod volumes;

pub(crate) use command::Command;
