//! Tokens and certificates reloaded on SIGHUP and when their files change.

use std::{sync::Arc, time::Duration};

use tokio::{
    signal::unix::{Signal, SignalKind, signal},
    task::JoinHandle,
};
use tracing::{info, warn};

use super::{Authenticator, ReloadableTls};

/// How often token and certificate files are checked for changes. Kubernetes updates
/// mounted Secrets by swapping a symlink, which no inotify watch on the file sees;
/// polling a few small files is cheap and always right.
const POLL: Duration = Duration::from_secs(2);

/// Reloads tokens and certificates on SIGHUP and when their files change. SIGHUP is
/// always handled: by default it would end the process, and an operator's reload
/// must never do that.
pub fn spawn_reloader(
    auth: Option<Arc<Authenticator>>,
    tls: Option<Arc<ReloadableTls>>,
) -> JoinHandle<()> {
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(stream) => Some(stream),
        Err(e) => {
            warn!(error = %e, "no SIGHUP handler; files are still checked for changes");
            None
        }
    };
    let watches_files = auth.as_ref().is_some_and(|a| !a.files().is_empty()) || tls.is_some();
    tokio::spawn(async move {
        loop {
            let forced = next_reload(&mut hangup, watches_files).await;
            if forced {
                info!("SIGHUP: reloading tokens and certificates");
            }
            // File reads and certificate parsing stay off the runtime's threads.
            let (auth, tls) = (auth.clone(), tls.clone());
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(auth) = &auth {
                    auth.reload();
                }
                if let Some(tls) = &tls {
                    tls.reload(forced);
                }
            })
            .await;
        }
    })
}

/// Waits for the next reload: true on SIGHUP (forced), false when it is time to poll
/// the files (never, when no file is watched).
async fn next_reload(hangup: &mut Option<Signal>, watches_files: bool) -> bool {
    tokio::select! {
        Some(()) = async {
            match hangup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        } => true,
        () = async {
            if watches_files {
                tokio::time::sleep(POLL).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => false,
    }
}
