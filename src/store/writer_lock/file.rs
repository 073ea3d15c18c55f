//! SQLite's writer lock: an exclusive `flock` on `<database file>.lock`, the file
//! holding its holder's description for whoever waits.

use std::{
    fs::TryLockError,
    io::{Read, Seek, Write},
};

use super::{backend::Held, holder::describe_self, lock::LockError};

pub(super) fn try_lock_file(
    path: &std::path::Path,
    hostname: &str,
) -> Result<Result<Held, String>, LockError> {
    let failed = |e: std::io::Error| LockError::Failed(format!("{}: {e}", path.display()));
    // The first start creates the database's folder, as opening the database would.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {
            let holder = format!("{} hostname={hostname}\n", describe_self());
            file.set_len(0).map_err(failed)?;
            file.rewind().map_err(failed)?;
            file.write_all(holder.as_bytes()).map_err(failed)?;
            file.sync_data().map_err(failed)?;
            Ok(Ok(Held::File(file)))
        }
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            Ok(Err(if holder.is_empty() {
                format!(
                    "lock file {} held by a process that wrote no details",
                    path.display()
                )
            } else {
                format!("{holder}, lock file {}", path.display())
            }))
        }
        Err(TryLockError::Error(e)) => Err(failed(e)),
    }
}
