//! Domains as a table.

use crate::{
    cli::output::{Table, bool_word, enum_word, kib},
    grpc::pb,
};

/// A domain state's word (`RUNNING`).
pub(crate) fn state_word(state: i32) -> String {
    let name = pb::DomainState::try_from(state).ok();
    enum_word(
        name.as_ref().map(pb::DomainState::as_str_name),
        "DOMAIN_STATE_",
        state,
    )
}

/// One row per domain.
pub(crate) fn domain_table<'a>(domains: impl IntoIterator<Item = &'a pb::Domain>) -> Table {
    let mut table = Table::new(&[
        "NAME",
        "STATE",
        "REASON",
        "ID",
        "VCPUS",
        "MEMORY",
        "AUTOSTART",
        "UUID",
    ]);
    for domain in domains {
        table.row(vec![
            domain.name.clone(),
            state_word(domain.state),
            domain.state_reason.clone(),
            if domain.id == 0 {
                "-".to_owned()
            } else {
                domain.id.to_string()
            },
            domain.vcpus.to_string(),
            kib(domain.memory_kib),
            bool_word(domain.autostart),
            domain.uuid.clone(),
        ]);
    }
    table
}

/// Parses a state for `--state`: `running`, `RUNNING` or `DOMAIN_STATE_RUNNING`.
pub(crate) fn parse_state(text: &str) -> Result<pb::DomainState, String> {
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("DOMAIN_STATE_") {
        upper
    } else {
        format!("DOMAIN_STATE_{upper}")
    };
    pb::DomainState::from_str_name(&full).ok_or_else(|| format!("no domain state {text:?}"))
}
