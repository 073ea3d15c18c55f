//! Where an answer goes: stdout, as a table or text for people, as JSON or YAML for
//! programs.

use std::io::Write as _;

use super::{Proto, Table, json, yaml};
use crate::cli::error::CliError;

/// The output format chosen with `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Tables and text for people.
    Table,
    /// The proto's JSON mapping (as grpcurl prints it); one object per line for streams.
    Json,
    /// The JSON mapping as YAML; one document per item for streams.
    Yaml,
}

/// Prints answers in the chosen format.
#[derive(Debug)]
pub(crate) struct Printer {
    format: Format,
}

impl Printer {
    pub(crate) fn new(format: Format) -> Self {
        Printer { format }
    }

    /// A list or a resource, as the table `table` makes of it for people.
    pub(crate) fn table<M: Proto>(
        &self,
        message: &M,
        table: impl FnOnce(&M) -> Table,
    ) -> Result<(), CliError> {
        match self.machine(message)? {
            Some(text) => write_stdout(text.as_bytes()),
            None => write_stdout(table(message).render().as_bytes()),
        }
    }

    /// A resource with many or nested fields: YAML for people too.
    pub(crate) fn record<M: Proto>(&self, message: &M) -> Result<(), CliError> {
        let text = match self.machine(message)? {
            Some(text) => text,
            None => yaml::to_yaml(&json::to_node(message)?),
        };
        write_stdout(text.as_bytes())
    }

    /// `text` as it is for people (domain XML), the message for programs.
    pub(crate) fn text<M: Proto>(&self, message: &M, text: &str) -> Result<(), CliError> {
        match self.machine(message)? {
            Some(encoded) => write_stdout(encoded.as_bytes()),
            None if text.ends_with('\n') => write_stdout(text.as_bytes()),
            None => write_stdout(format!("{text}\n").as_bytes()),
        }
    }

    /// A sentence for people ("domain web undefined"), the (often empty) message for
    /// programs.
    pub(crate) fn done<M: Proto>(&self, message: &M, sentence: &str) -> Result<(), CliError> {
        self.text(message, sentence)
    }

    /// One item of a stream, written at once: `line` for people, a JSON object per line
    /// or a YAML document for programs.
    pub(crate) fn item<M: Proto>(
        &self,
        message: &M,
        line: impl FnOnce(&M) -> String,
    ) -> Result<(), CliError> {
        let text = match self.format {
            Format::Table => format!("{}\n", line(message)),
            Format::Json => format!("{}\n", json::to_json(message, false)?),
            Format::Yaml => format!("---\n{}", yaml::to_yaml(&json::to_node(message)?)),
        };
        write_stdout(text.as_bytes())
    }

    /// Whether people read the output (tables, headers, notes).
    pub(crate) fn for_people(&self) -> bool {
        self.format == Format::Table
    }

    /// The message as JSON or YAML, or `None` when people read the output.
    fn machine<M: Proto>(&self, message: &M) -> Result<Option<String>, CliError> {
        Ok(match self.format {
            Format::Table => None,
            Format::Json => Some(format!("{}\n", json::to_json(message, true)?)),
            Format::Yaml => Some(yaml::to_yaml(&json::to_node(message)?)),
        })
    }
}

/// Writes `bytes` to stdout and flushes, so a line watched through a pipe shows at once.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::BrokenPipe,
            _ => CliError::Other(format!("cannot write to stdout: {e}")),
        })
}
