//! The held writer lock: taken by waiting for its holder, released on drop, and
//! reporting when another instance took it over.

use std::{fs::File, time::Duration};

use tokio::sync::watch;

use super::{
    WriterFlag,
    backend::{Backend, RETRY},
};
use crate::store::Settings;

/// Why the writer lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another virtplane instance is the writer for host {hostname:?} on this database \
         ({holder}); gave up after {waited:.1?} (--lock-timeout)"
    )]
    Timeout {
        hostname: String,
        holder: String,
        waited: Duration,
    },
    #[error("cannot take the writer lock: {0}")]
    Failed(String),
}

/// The held writer lock. SQLite's is released when this is dropped; PostgreSQL's when
/// its keeper task, aborted on drop, closes the dedicated connection.
#[derive(Debug)]
pub struct WriterLock {
    pub(super) flag: WriterFlag,
    pub(super) lost: watch::Receiver<Option<String>>,
    pub(super) hold: Hold,
}

#[derive(Debug)]
pub(super) enum Hold {
    File(#[allow(dead_code, reason = "held open: the flock lives as long as the file")] File),
    Session(tokio::task::JoinHandle<()>),
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if let Hold::Session(task) = &self.hold {
            task.abort();
        }
    }
}

impl WriterLock {
    /// Takes the lock for `hostname`, waiting for it (at most `timeout`, if given)
    /// while another instance holds it; `waiting` is called once with the holder.
    ///
    /// # Errors
    /// [`LockError::Timeout`] naming the holder, or the database cannot be reached.
    pub async fn acquire(
        database: &Settings,
        hostname: &str,
        timeout: Option<Duration>,
        mut waiting: impl FnMut(&str) + Send,
    ) -> Result<WriterLock, LockError> {
        let backend = Backend::new(database.url.expose(), hostname)?;
        let started = tokio::time::Instant::now();
        let mut told = false;
        loop {
            match backend.try_take().await? {
                Ok(held) => return Ok(backend.hold(held)),
                Err(holder) => {
                    if timeout.is_some_and(|t| started.elapsed() >= t) {
                        return Err(LockError::Timeout {
                            hostname: hostname.to_owned(),
                            holder,
                            waited: started.elapsed(),
                        });
                    }
                    if !told {
                        waiting(&holder);
                        told = true;
                    }
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    pub(crate) fn flag(&self) -> WriterFlag {
        self.flag.clone()
    }

    /// Resolves with the new holder once this instance lost the lock to another one;
    /// never while it holds it or may take it back.
    pub async fn lost(&self) -> String {
        let mut lost = self.lost.clone();
        // The guard is dropped here, before any other await.
        let holder = lost
            .wait_for(Option::is_some)
            .await
            .map(|holder| holder.clone().unwrap_or_default());
        match holder {
            Ok(holder) => holder,
            // The keeper ended without losing the lock: the service is stopping.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_file_lock_waits_and_names_the_first_holder() {
        let dir = tempfile::tempdir().expect("dir");
        let database = Settings {
            url: crate::secret::Secret::new(format!("sqlite://{}/db.sqlite", dir.path().display())),
            max_connections: 1,
        };
        let first = WriterLock::acquire(&database, "h", None, |_| {})
            .await
            .expect("free");
        let mut told = Vec::new();
        let err = WriterLock::acquire(&database, "h", Some(Duration::from_millis(600)), |holder| {
            told.push(holder.to_owned());
        })
        .await
        .expect_err("held");
        let pid = format!("pid={}", std::process::id());
        assert!(err.to_string().contains(&pid), "{err}");
        assert_eq!(told.len(), 1);
        drop(first);
        let second = WriterLock::acquire(&database, "h", Some(Duration::from_secs(5)), |_| {})
            .await
            .expect("released");
        assert!(second.flag().check().is_ok());
    }
}
