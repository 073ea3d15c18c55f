//! How answers are shown: human tables, the proto's JSON mapping, YAML; and the error
//! details a status carries.

mod cells;
mod details;
mod json;
mod node;
mod printer;
mod proto;
mod table;
mod yaml;

pub(crate) use cells::{bool_word, bytes, enum_word, kib, time};
pub(crate) use details::error_reason;
pub(crate) use printer::{Format, Printer, write_stdout};
pub(crate) use proto::Proto;
pub(crate) use table::{Table, line};
