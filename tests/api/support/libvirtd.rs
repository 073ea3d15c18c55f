//! A private libvirtd that hosts only the test driver, in a scratch folder.
//!
//! Killing and restarting it is a real connection loss; its `/default` state
//! resets to the one built-in running domain `test` on every start.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

pub struct Libvirtd {
    dir: TempDir,
    child: Option<Child>,
}

impl Libvirtd {
    /// Starts a daemon and waits until its socket accepts connections.
    pub fn start() -> Libvirtd {
        let mut daemon = Libvirtd::prepare();
        daemon.launch();
        daemon
    }

    /// A daemon's folder and configuration, not yet started: its URI is known, and
    /// nothing answers on it until [`Libvirtd::launch`].
    pub fn prepare() -> Libvirtd {
        // Self-contained (no other support module): the benches include this file.
        let dir = tempfile::Builder::new()
            .prefix("virtplane-test-")
            .tempdir()
            .expect("scratch folder");
        std::fs::create_dir_all(dir.path().join("drivers")).expect("drivers dir");
        std::fs::create_dir_all(dir.path().join("sock")).expect("socket dir");
        std::fs::write(
            dir.path().join("libvirtd.conf"),
            format!(
                "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n",
                dir.path().join("sock").display()
            ),
        )
        .expect("config");
        Libvirtd { dir, child: None }
    }

    /// The URI clients use to reach this daemon's test driver.
    pub fn uri(&self) -> String {
        format!("test+unix:///default?socket={}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock").join("libvirt-sock")
    }

    /// Sends `signal` (e.g. "STOP", "CONT") to the daemon.
    pub fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
    }

    /// SIGKILL: the daemon vanishes without closing anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Starts the daemon again (with fresh test-driver state).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Runs `virsh` against this daemon, as another client behind the service's back.
    pub fn virsh(&self, args: &[&str]) -> String {
        let out = Command::new("virsh")
            .arg("-c")
            .arg(self.uri())
            .args(args)
            .output()
            .expect("virsh runs");
        assert!(
            out.status.success(),
            "virsh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The client connections the daemon's `libvirtd` server holds, as its admin
    /// interface lists them (`virt-admin client-list`).
    pub fn client_count(&self) -> usize {
        let admin = format!(
            "libvirtd:///system?socket={}",
            self.dir
                .path()
                .join("sock")
                .join("libvirt-admin-sock")
                .display()
        );
        let out = Command::new("virt-admin")
            .args(["-c", &admin, "client-list", "libvirtd"])
            .output()
            .expect("virt-admin runs");
        assert!(
            out.status.success(),
            "virt-admin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|line| line.contains("unix"))
            .count()
    }

    /// Starts the daemon and waits until its socket accepts connections.
    pub fn launch(&mut self) {
        let dir = self.dir.path();
        let log = std::fs::File::create(dir.join("libvirtd.log")).expect("log file");
        let child = Command::new(libvirtd_binary())
            .arg("-f")
            .arg(dir.join("libvirtd.conf"))
            .arg("-p")
            .arg(dir.join("libvirtd.pid"))
            // An empty driver folder: the daemon loads no real hypervisor driver.
            .env("LIBVIRT_DRIVER_DIR", dir.join("drivers"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("libvirtd starts (is libvirt-daemon installed? `make test` installs it)");
        self.child = Some(child);
        wait_for_socket(&self.socket(), &dir.join("libvirtd.log"));
    }
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        self.kill();
    }
}

fn libvirtd_binary() -> PathBuf {
    ["/usr/sbin/libvirtd", "/usr/local/sbin/libvirtd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("libvirtd"))
}

fn wait_for_socket(socket: &Path, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "libvirtd did not open {} within 20s; its log:\n{}",
        socket.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
}
