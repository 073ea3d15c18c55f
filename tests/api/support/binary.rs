//! The real `virtplane` binary as a child process, its log lines on a channel.

use std::time::Duration;

/// The real `virtplane` binary, running, with its log lines on a channel.
pub struct Binary {
    /// Taken by a wait; a binary dropped without one (a failed test) is killed.
    child: Option<std::process::Child>,
    /// The API address it announced.
    pub addr: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Binary {
    /// Starts the binary with `args` and `env` and waits for "virtplane serving".
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Binary {
        Binary::start_until(args, env, "virtplane serving").0
    }

    /// Starts the binary and waits for a log line containing `marker` that names the
    /// API address (`addr=`); returns it with that line.
    pub fn start_until(args: &[&str], env: &[(&str, &str)], marker: &str) -> (Binary, String) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_virtplane"))
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let line = lines
            .iter()
            .find(|line| line.contains(marker))
            .unwrap_or_else(|| panic!("no log line contains {marker:?}"));
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .map(str::to_owned)
            .expect("the line names the address");
        (
            Binary {
                child: Some(child),
                addr,
                lines,
            },
            line,
        )
    }

    /// Waits (off the runtime) up to `timeout` for a log line containing `marker`.
    pub async fn line_containing(&self, marker: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match tokio::task::block_in_place(|| {
                self.lines
                    .recv_timeout(left.min(Duration::from_millis(200)))
            }) {
                Ok(line) if line.contains(marker) => return Some(line),
                Ok(_) => {}
                Err(_) if left.is_zero() => return None,
                Err(_) => tokio::task::yield_now().await,
            }
        }
    }

    fn take(&mut self) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
        let child = self.child.take().expect("waited for once");
        let lines = std::mem::replace(&mut self.lines, std::sync::mpsc::channel().1);
        (child, lines)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Like [`Binary::wait`], but a process still running after `limit` is killed and
    /// the test fails: it hung.
    pub async fn wait_within(mut self, limit: Duration) -> (std::process::ExitStatus, Vec<String>) {
        let (mut child, lines) = self.take();
        tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + limit;
            let status = loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    break status;
                }
                if std::time::Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    let seen: Vec<String> = lines.try_iter().collect();
                    panic!("still running {limit:?} after the signal; its last lines: {seen:#?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let rest =
                std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(5)).ok()).collect();
            (status, rest)
        })
        .await
        .expect("the process ended in time")
    }

    /// Waits for the process off the runtime (clients in the test must be able to
    /// answer the server's GOAWAY), then for its last log lines.
    pub async fn wait(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let (mut child, lines) = self.take();
        tokio::task::spawn_blocking(move || {
            let status = child.wait().expect("wait");
            let rest =
                std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(5)).ok()).collect();
            (status, rest)
        })
        .await
        .expect("join")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
