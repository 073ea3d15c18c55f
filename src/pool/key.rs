//! What pools are keyed by.

/// What pools are keyed by: normalised connection parameters.
pub trait PoolKey: Clone + Eq + std::hash::Hash + Send + Sync + 'static {
    /// The key as people may see it: credentials replaced by `***`.
    fn redacted(&self) -> String;
}
