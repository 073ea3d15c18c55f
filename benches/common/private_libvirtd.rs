//! A libvirtd hosting only the test driver, in a scratch folder: shared as a file by
//! the benches that measure against a daemon (`#[path]`), each using part of it.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub(crate) struct PrivateLibvirtd {
    dir: tempfile::TempDir,
    child: Child,
}

impl PrivateLibvirtd {
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("drivers")).expect("drivers");
        std::fs::write(
            dir.path().join("libvirtd.conf"),
            format!(
                "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n",
                dir.path().display()
            ),
        )
        .expect("config");
        let child = Command::new("/usr/sbin/libvirtd")
            .arg("-f")
            .arg(dir.path().join("libvirtd.conf"))
            .arg("-p")
            .arg(dir.path().join("pid"))
            .env("LIBVIRT_DRIVER_DIR", dir.path().join("drivers"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("libvirtd");
        let socket = dir.path().join("libvirt-sock");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "libvirtd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        PrivateLibvirtd { dir, child }
    }

    pub(crate) fn uri(&self) -> String {
        format!(
            "test+unix:///default?socket={}",
            self.dir.path().join("libvirt-sock").display()
        )
    }
}

impl PrivateLibvirtd {
    /// Kills the daemon, as a crash would.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateLibvirtd {
    fn drop(&mut self) {
        self.kill();
    }
}
