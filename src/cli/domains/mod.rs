//! `virtplanectl domains`: list, read, define, power and change domains.

mod change;
mod command;
mod power;
mod read;
mod table;

pub(crate) use command::Command;
pub(crate) use table::{domain_table, state_word};
