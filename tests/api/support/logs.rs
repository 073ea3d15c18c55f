//! The service's logs: quiet unless TEST_LOG is set, or captured for tests that look
//! for leaks.

/// Everything the service logs from now on, for tests that look for leaks.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a subscriber recording every level of every target (one per test process).
pub fn capture_logs() -> CapturedLogs {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    logs
}

/// Logs only when TEST_LOG is set, so failures can be debugged without noisy runs.
pub fn init_logs() {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};
    if let Ok(spec) = std::env::var("TEST_LOG") {
        let _ = tracing_subscriber::registry()
            .with(virtplane::telemetry::filter_from(Some(spec)))
            .with(tracing_subscriber::fmt::layer().with_test_writer())
            .try_init();
    }
}
