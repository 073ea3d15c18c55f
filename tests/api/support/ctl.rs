//! The real `virtplanectl` binary: one-shot runs off the runtime (the service under
//! test runs on it), and long-running ones whose stdout lines arrive on a channel.

use std::{
    io::{BufRead, Write},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

const BINARY: &str = env!("CARGO_BIN_EXE_virtplanectl");

/// How a run ended and what it printed.
#[derive(Debug)]
pub struct CtlOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The binary with `args`, its environment free of the caller's `VIRTPLANE_*`
/// settings so that only what a test passes counts.
fn command(args: &[String], env: &[(String, String)]) -> Command {
    let mut command = Command::new(BINARY);
    for (key, _) in std::env::vars() {
        if key.starts_with("VIRTPLANE_") {
            command.env_remove(key);
        }
    }
    command.args(args).envs(env.iter().map(|(k, v)| (k, v)));
    command
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// Runs `virtplanectl --addr http://<addr> <args>` to its end.
pub async fn ctl(addr: impl std::fmt::Display, args: &[&str]) -> CtlOutput {
    let mut all = vec!["--addr".to_owned(), format!("http://{addr}")];
    all.extend(owned(args));
    ctl_with(all, Vec::new(), None).await
}

/// Runs `virtplanectl <args>` with `env` added and `stdin` fed in, to its end.
pub async fn ctl_with(
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
) -> CtlOutput {
    tokio::task::spawn_blocking(move || {
        let mut child = command(&args, &env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("virtplanectl starts");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("stdin written");
        }
        drop(input);
        let out = child.wait_with_output().expect("virtplanectl ends");
        CtlOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

/// A long-running `virtplanectl` (a watch): its stdout lines on a channel; killed
/// when dropped.
pub struct CtlChild {
    child: Child,
    /// Its stdin, when started to be typed into.
    input: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// What it wrote to stderr so far, for the message of a failed wait.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl CtlChild {
    pub fn spawn(args: &[&str]) -> CtlChild {
        CtlChild::start(args, Stdio::null())
    }

    /// Like [`CtlChild::spawn`], with a stdin to type into.
    pub fn spawn_interactive(args: &[&str]) -> CtlChild {
        CtlChild::start(args, Stdio::piped())
    }

    fn start(args: &[&str], stdin: Stdio) -> CtlChild {
        let mut child = command(&owned(args), &[])
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("virtplanectl starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (mut pipe, sink) = (child.stderr.take().expect("stderr"), stderr.clone());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 1024];
            while let Ok(read @ 1..) = std::io::Read::read(&mut pipe, &mut buffer) {
                if let Ok(mut text) = sink.lock() {
                    text.push_str(&String::from_utf8_lossy(&buffer[..read]));
                }
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        CtlChild {
            input: child.stdin.take(),
            child,
            lines,
            stderr,
        }
    }

    /// The next line, waiting at most `timeout`; `None` also once the process ended
    /// and every line was read.
    pub async fn next_line(&self, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match self.lines.try_recv() {
                Ok(line) => return Some(line),
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) if std::time::Instant::now() >= deadline => {
                    return None;
                }
                Err(mpsc::TryRecvError::Empty) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// Writes `text` to its stdin.
    pub fn type_text(&mut self, text: &str) {
        let input = self.input.as_mut().expect("started with spawn_interactive");
        input.write_all(text.as_bytes()).expect("typed");
        input.flush().expect("flushed");
    }

    /// Its exit code once it ended, waiting at most `within`; `None` if it still runs.
    pub async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Lines until one contains `marker` (that one included), waiting at most
    /// `timeout` in all; fails the test with the lines seen when none does.
    pub async fn lines_until(&self, marker: &str, timeout: Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_line(left).await {
                Some(line) => {
                    let found = line.contains(marker);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                None => panic!(
                    "no line contains {marker:?} within {timeout:?}; seen: {seen:#?}; stderr: {}",
                    self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
                ),
            }
        }
    }
}

impl Drop for CtlChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
