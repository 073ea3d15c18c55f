//! Whether this instance may write, shared by the lock and the store's write paths.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use crate::store::StoreError;

/// Whether this instance may write: shared by the lock and the store's write paths.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriterFlag(Arc<AtomicBool>);

impl WriterFlag {
    /// # Errors
    /// [`StoreError::NotWriter`] while the lock is not held.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if self.0.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(StoreError::NotWriter)
        }
    }

    pub(super) fn set(&self, held: bool) {
        self.0.store(held, Ordering::Release);
    }
}
