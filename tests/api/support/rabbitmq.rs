//! The shared RabbitMQ: `rabbitmqctl`, and a memory alarm that is always lifted.

use std::time::{Duration, Instant};

/// Runs `rabbitmqctl` and returns its output, whatever its exit code.
pub fn rabbitmqctl(args: &[&str]) -> std::process::Output {
    std::process::Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs (make test installs RabbitMQ)")
}

/// The broker's status as JSON.
fn status() -> serde_json::Value {
    let out = rabbitmqctl(&["status", "--formatter", "json"]);
    assert!(
        out.status.success(),
        "rabbitmqctl status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("rabbitmqctl status prints JSON")
}

fn memory_alarm_on(status: &serde_json::Value) -> bool {
    status["alarms"]
        .as_array()
        .is_some_and(|alarms| alarms.iter().any(|a| a.to_string().contains("memory")))
}

/// The broker in a memory alarm (it blocks every publishing connection on the broker,
/// not only the service's) until dropped, also when the test fails.
pub struct MemoryAlarm {
    /// `rabbitmqctl set_vm_memory_high_watermark` arguments that restore the setting.
    restore: Vec<String>,
}

impl MemoryAlarm {
    /// Sets a watermark below what the broker uses and waits until the alarm is on.
    pub fn raise() -> MemoryAlarm {
        let setting = status()["vm_memory_high_watermark_setting"].clone();
        let restore = match (setting["relative"].as_f64(), setting["absolute"].as_u64()) {
            // A tiny relative value is an alarm an earlier, killed run left behind.
            (Some(relative), _) if relative >= 0.05 => vec![relative.to_string()],
            (None, Some(absolute)) => vec!["absolute".to_owned(), absolute.to_string()],
            // RabbitMQ's default.
            _ => vec!["0.4".to_owned()],
        };
        let alarm = MemoryAlarm { restore };
        let out = rabbitmqctl(&["set_vm_memory_high_watermark", "0.0001"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        wait_until("the memory alarm is raised", || memory_alarm_on(&status()));
        alarm
    }
}

impl Drop for MemoryAlarm {
    fn drop(&mut self) {
        let mut args = vec!["set_vm_memory_high_watermark"];
        args.extend(self.restore.iter().map(String::as_str));
        let out = rabbitmqctl(&args);
        if !out.status.success() {
            eprintln!(
                "cannot restore the broker's memory watermark ({args:?}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        if !std::thread::panicking() {
            wait_until(
                "the memory alarm is cleared",
                || !memory_alarm_on(&status()),
            );
        }
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `rabbitmqctl` and fails the test if it fails.
pub fn rabbitmqctl_ok(args: &[&str]) {
    let out = rabbitmqctl(args);
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
