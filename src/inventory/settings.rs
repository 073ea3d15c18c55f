//! The inventory's settings.

/// What a read answers while libvirt is unreachable and the inventory cannot follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenStale {
    /// Fail with `UNAVAILABLE`, as a read of libvirt itself would: no client acts on
    /// a view that may be out of date without asking for it.
    #[default]
    Unavailable,
    /// Answer from the inventory as it was when the connection was lost, flagged
    /// `stale`.
    Serve,
}

impl WhenStale {
    /// Parses the configuration's word.
    ///
    /// # Errors
    /// Any other word, with the ones accepted.
    pub fn parse(word: &str) -> Result<Self, String> {
        match word {
            "unavailable" => Ok(WhenStale::Unavailable),
            "serve" => Ok(WhenStale::Serve),
            other => Err(format!(
                "{other:?} is not a choice: \"unavailable\" or \"serve\""
            )),
        }
    }
}

/// How the inventory answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub when_stale: WhenStale,
}
