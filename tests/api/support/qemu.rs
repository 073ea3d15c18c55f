//! A private root libvirtd with the QEMU driver (TCG), isolated from every other one,
//! and the guests the QEMU tests run on it.
//!
//! Each [`QemuDaemon`] runs in a mount namespace of its own (`unshare --mount`) where
//! per-daemon folders are bind-mounted over `/etc/libvirt`, `/var/lib/libvirt`,
//! `/run/libvirt`, `/var/cache/libvirt` and `/var/log/libvirt`: a root QEMU driver
//! keeps its state there, so several daemons (and tests) can run at once without
//! sharing domains, and its own `qemu.conf` lets guests start on a machine without
//! virtlogd, cgroups or a security driver. Its socket is in the test's scratch folder.
//!
//! The guests: [`bios_domain_xml`] (SeaBIOS idling, no disk: starts in about a
//! second) and [`busybox_domain_xml`] (Debian's kernel with a busybox initramfs that
//! `scripts/ensure-qemu.sh` builds once: it prints [`READY_LINE`] on its serial
//! console, powers off on the ACPI power button, brings hot-added vCPUs online and
//! runs a shell on `ttyS0`).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use tempfile::TempDir;

/// What the busybox guest prints on its console once it is up.
pub const READY_LINE: &str = "VIRTPLANE-GUEST-READY";

/// The folders a root QEMU driver writes to, each replaced by one under `state/`.
const OVERLAID: [(&str, &str); 5] = [
    ("/etc/libvirt", "etc"),
    ("/var/lib/libvirt", "lib"),
    ("/run/libvirt", "run"),
    ("/var/cache/libvirt", "cache"),
    ("/var/log/libvirt", "log"),
];

/// Guests run as root, unconfined, outside cgroups and without virtlogd: nothing else
/// exists here. `namespaces = [ ]`: QEMU stays in the daemon's mount namespace instead
/// of one of its own, so that namespace holds every process the daemon started.
const QEMU_CONF: &str = "user = \"root\"\n\
    group = \"root\"\n\
    dynamic_ownership = 0\n\
    security_driver = \"none\"\n\
    cgroup_controllers = [ ]\n\
    stdio_handler = \"file\"\n\
    namespaces = [ ]\n";

/// A private libvirtd with the QEMU driver; dropping it destroys its domains and
/// kills it and every QEMU it started.
#[derive(Debug)]
pub struct QemuDaemon {
    dir: TempDir,
    /// `files/` in `dir`: the tests' scratch folder.
    files: PathBuf,
    child: Option<Child>,
    /// The daemon's mount namespace (`mnt:[inode]`): everything in it is ours.
    namespace: Option<PathBuf>,
}

impl QemuDaemon {
    /// Starts a daemon and waits until its QEMU driver answers (the first start on a
    /// machine probes QEMU's capabilities for several seconds; later ones reuse them).
    pub fn start() -> QemuDaemon {
        sweep_orphans();
        let dir = tempfile::Builder::new()
            .prefix("virtplane-test-")
            .tempdir()
            .expect("scratch folder");
        let root = dir.path();
        for sub in ["sock", "files", "state/cache/qemu/capabilities"] {
            std::fs::create_dir_all(root.join(sub)).expect("daemon folder");
        }
        for (_, sub) in OVERLAID {
            std::fs::create_dir_all(root.join("state").join(sub)).expect("state folder");
        }
        std::fs::write(root.join("state/etc/qemu.conf"), QEMU_CONF).expect("qemu.conf");
        std::fs::write(
            root.join("libvirtd.conf"),
            format!(
                "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n",
                root.join("sock").display()
            ),
        )
        .expect("libvirtd.conf");
        std::fs::write(root.join("owner.pid"), std::process::id().to_string()).expect("owner");
        copy_files(
            &capabilities_seed(),
            &root.join("state/cache/qemu/capabilities"),
        );

        let mut daemon = QemuDaemon {
            files: root.join("files"),
            dir,
            child: None,
            namespace: None,
        };
        daemon.launch();
        daemon
    }

    fn launch(&mut self) {
        let root = self.dir.path();
        let log = std::fs::File::create(root.join("libvirtd.log")).expect("log file");
        let mounts: String = OVERLAID
            .iter()
            .map(|(target, sub)| {
                format!("mkdir -p {target} && mount --bind \"$0/state/{sub}\" {target} && ")
            })
            .collect();
        let script = format!(
            "set -e; {mounts}exec {} -f \"$0/libvirtd.conf\" -p \"$0/libvirtd.pid\"",
            libvirtd_binary().display()
        );
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(script)
            .arg(root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("unshare starts (util-linux)");
        let pid = child.id();
        let child = self.child.insert(child);
        wait_for_socket(
            child,
            &root.join("sock/libvirt-sock"),
            &root.join("libvirtd.log"),
        );

        let namespace = std::fs::read_link(format!("/proc/{pid}/ns/mnt")).expect("daemon runs");
        assert_ne!(
            Some(&namespace),
            std::fs::read_link("/proc/self/ns/mnt").ok().as_ref(),
            "libvirtd must run in a mount namespace of its own"
        );
        self.namespace = Some(namespace);

        let ready = self.virsh_output_within(&["version"], Duration::from_secs(180));
        assert!(
            ready.as_ref().is_some_and(|out| out.status.success()),
            "the QEMU driver did not answer (`virsh version`: {}); libvirtd's log:\n{}",
            ready.map_or("timed out after 180 s".into(), |out| {
                String::from_utf8_lossy(&out.stderr).into_owned()
            }),
            std::fs::read_to_string(root.join("libvirtd.log")).unwrap_or_default()
        );
        save_capabilities(&root.join("state/cache/qemu/capabilities"));
    }

    /// The URI clients use to reach this daemon's QEMU driver.
    pub fn uri(&self) -> String {
        format!("qemu+unix:///system?socket={}", self.socket().display())
    }

    /// A scratch folder for disks, save files and console logs (visible to QEMU).
    pub fn dir(&self) -> &Path {
        &self.files
    }

    /// Where the test sees a file of the daemon's own `/var/lib/libvirt`
    /// (`relative` to it, e.g. `dnsmasq/virbr0.status`).
    pub fn lib_path(&self, relative: &str) -> PathBuf {
        self.dir.path().join("state/lib").join(relative)
    }

    /// QEMU's own log for domain `name` (its command line and its errors).
    pub fn qemu_log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("state/log/qemu/{name}.log"))
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock").join("libvirt-sock")
    }

    /// Runs `virsh` against this daemon and asserts it succeeded; returns its stdout.
    pub fn virsh(&self, args: &[&str]) -> String {
        let out = self.virsh_output(args);
        assert!(
            out.status.success(),
            "virsh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `virsh` against this daemon, whatever comes of it (it must end within
    /// two minutes).
    pub fn virsh_output(&self, args: &[&str]) -> Output {
        self.virsh_output_within(args, Duration::from_secs(120))
            .unwrap_or_else(|| panic!("virsh {args:?} still running after 120 s"))
    }

    /// Drops every client connection of the daemon through its admin interface
    /// (`virt-admin client-disconnect`), as a daemon restart would, while its domains
    /// keep running.
    pub fn disconnect_clients(&self) {
        let admin = format!(
            "libvirtd:///system?socket={}",
            self.dir.path().join("sock/libvirt-admin-sock").display()
        );
        let virt_admin = |args: &[&str]| {
            let out = Command::new("virt-admin")
                .args(["-c", &admin])
                .args(args)
                .output()
                .expect("virt-admin runs");
            assert!(
                out.status.success(),
                "virt-admin {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let listed = virt_admin(&["client-list", "libvirtd"]);
        let ids: Vec<String> = listed
            .lines()
            .filter(|line| line.contains("unix"))
            .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
            .collect();
        assert!(!ids.is_empty(), "no client to disconnect:\n{listed}");
        for id in ids {
            virt_admin(&["client-disconnect", "libvirtd", &id]);
        }
    }

    fn virsh_output_within(&self, args: &[&str], timeout: Duration) -> Option<Output> {
        let mut virsh = Command::new("virsh");
        virsh.arg("-c").arg(self.uri()).args(args);
        output_within(virsh, timeout)
    }
}

impl Drop for QemuDaemon {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Running domains are destroyed through libvirt first, so QEMU ends cleanly
        // and the daemon knows; whatever is left is killed below.
        if matches!(child.try_wait(), Ok(None)) {
            let listed = self.virsh_output_within(&["list", "--name"], Duration::from_secs(20));
            for name in listed
                .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
                .unwrap_or_default()
                .lines()
                .filter(|line| !line.trim().is_empty())
            {
                let _ =
                    self.virsh_output_within(&["destroy", name.trim()], Duration::from_secs(30));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        if let Some(namespace) = &self.namespace {
            kill_namespace(namespace);
        }
    }
}

/// The test guest's kernel and initramfs, built by `scripts/ensure-qemu.sh`: the
/// kernel uncompressed (`vmlinux`, booted through its PVH entry: about twice as fast
/// under TCG) when the script could extract it, else `vmlinuz`.
pub fn guest_files() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(
        std::env::var("VIRTPLANE_GUEST_DIR")
            .unwrap_or_else(|_| "/var/cache/virtplane-test-guest".into()),
    );
    let initrd = dir.join("initramfs.gz");
    let kernel = ["vmlinux", "vmlinuz"]
        .iter()
        .map(|file| dir.join(file))
        .find(|kernel| kernel.is_file());
    match kernel {
        Some(kernel) if initrd.is_file() => (kernel, initrd),
        _ => panic!(
            "the QEMU test guest is missing from {}: run `make test` or \
             scripts/ensure-qemu.sh (it installs QEMU and builds the guest once)",
            dir.display()
        ),
    }
}

/// A domain with SeaBIOS only: no disk, network boot without a NIC, so the firmware
/// idles. ACPI is on (PCI hot-plug needs it); 64 MiB, 1 vCPU, a pty serial port, no
/// USB controller.
pub fn bios_domain_xml(name: &str) -> String {
    format!(
        "<domain type='qemu'>\n\
         \x20 <name>{name}</name>\n\
         \x20 <memory unit='MiB'>64</memory>\n\
         \x20 <vcpu>1</vcpu>\n\
         \x20 <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>\n\
         \x20 <features><acpi/></features>\n\
         \x20 <on_poweroff>destroy</on_poweroff>\n\
         \x20 <devices>\n\
         \x20   <controller type='usb' model='none'/>\n\
         \x20   <serial type='pty'/>\n\
         \x20   <console type='pty'/>\n\
         \x20 </devices>\n\
         </domain>\n"
    )
}

/// The BIOS-only domain with an empty qcow2 image `disk` as `vda` (create it with
/// [`create_qcow2`]): it still starts in well under a second, and internal snapshots
/// (disk and memory) need a qcow2 disk.
pub fn bios_with_disk_xml(name: &str, disk: &Path) -> String {
    bios_domain_xml(name).replace(
        "<devices>",
        &format!(
            "<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
            disk.display()
        ),
    )
}

/// Debian's kernel booted directly with the busybox initramfs: the serial console is
/// a pty (for `virsh console` / virDomainOpenConsole) whose output QEMU also writes to
/// `console_log`, started afresh by every QEMU process (start, restore). 1 of 2
/// vCPUs, 192 of 256 MiB, a virtio balloon (libvirt's default), no USB controller
/// (its probe costs the kernel a second under TCG), and `disk` as a virtio qcow2
/// `vda` when given.
pub fn busybox_domain_xml(name: &str, console_log: &Path, disk: Option<&Path>) -> String {
    let (kernel, initrd) = guest_files();
    let disk = disk.map_or(String::new(), |disk| {
        format!(
            "    <disk type='file' device='disk'>\n\
             \x20     <driver name='qemu' type='qcow2'/>\n\
             \x20     <source file='{}'/>\n\
             \x20     <target dev='vda' bus='virtio'/>\n\
             \x20   </disk>\n",
            disk.display()
        )
    });
    format!(
        "<domain type='qemu'>\n\
         \x20 <name>{name}</name>\n\
         \x20 <memory unit='MiB'>256</memory>\n\
         \x20 <currentMemory unit='MiB'>192</currentMemory>\n\
         \x20 <vcpu current='1'>2</vcpu>\n\
         \x20 <os>\n\
         \x20   <type arch='x86_64' machine='pc'>hvm</type>\n\
         \x20   <kernel>{}</kernel>\n\
         \x20   <initrd>{}</initrd>\n\
         \x20   <cmdline>console=ttyS0 quiet</cmdline>\n\
         \x20 </os>\n\
         \x20 <features><acpi/></features>\n\
         \x20 <on_poweroff>destroy</on_poweroff>\n\
         \x20 <on_reboot>restart</on_reboot>\n\
         \x20 <on_crash>destroy</on_crash>\n\
         \x20 <devices>\n\
         \x20   <controller type='usb' model='none'/>\n\
         {disk}\
         \x20   <serial type='pty'>\n\
         \x20     <log file='{}' append='off'/>\n\
         \x20   </serial>\n\
         \x20   <console type='pty'/>\n\
         \x20 </devices>\n\
         </domain>\n",
        kernel.display(),
        initrd.display(),
        console_log.display()
    )
}

/// Creates an empty qcow2 image of `size_mib` MiB.
pub fn create_qcow2(path: &Path, size_mib: u64) {
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(path)
        .arg(format!("{size_mib}M"))
        .output()
        .expect("qemu-img runs (qemu-utils; `make test` installs it)");
    assert!(
        out.status.success(),
        "qemu-img create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until `log` holds a line containing `needle`; on timeout, fails showing the
/// log's tail. (Async: the app under test shares the test's runtime.)
pub async fn wait_for_line(log: &Path, needle: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read(log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        if text.lines().any(|line| line.contains(needle)) {
            return;
        }
        if Instant::now() >= deadline {
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "{needle:?} did not appear in {} within {timeout:?}; its last lines:\n{}",
                log.display(),
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `command` to completion, or kills it after `timeout` (then `None`).
fn output_within(mut command: Command, timeout: Duration) -> Option<Output> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(timeout) {
        Ok(output) => Some(output.expect("command output")),
        Err(_) => {
            signal(pid, "KILL");
            None
        }
    }
}

fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// SIGKILLs every process in mount namespace `namespace` and waits until they are
/// gone (the namespace, and its bind mounts, go with the last one).
fn kill_namespace(namespace: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let members = namespace_members(namespace);
        if members.is_empty() || Instant::now() >= deadline {
            return;
        }
        for pid in members {
            signal(pid, "KILL");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn namespace_members(namespace: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/mnt")).is_ok_and(|ns| ns == namespace)
                // A zombie is gone already; it only waits to be reaped by its parent.
                && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|s| s.starts_with(" Z")))
        })
        .collect()
}

/// Kills the daemons (and their QEMUs) of test processes that died without dropping
/// their [`QemuDaemon`] (e.g. killed on a timeout), and removes their folders.
fn sweep_orphans() {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for pid in entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        if !args.first().is_some_and(|arg| arg.ends_with("libvirtd")) {
            continue;
        }
        let Some(dir) = args
            .iter()
            .skip_while(|arg| *arg != "-f")
            .nth(1)
            .and_then(|conf| Path::new(conf).parent())
        else {
            continue;
        };
        let Ok(owner) = std::fs::read_to_string(dir.join("owner.pid")) else {
            continue;
        };
        if Path::new(&format!("/proc/{}", owner.trim())).exists() {
            continue;
        }
        if let Ok(namespace) = std::fs::read_link(format!("/proc/{pid}/ns/mnt")) {
            kill_namespace(&namespace);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// QEMU's capabilities as libvirt probed them (several seconds per fresh daemon),
/// kept across daemons and runs; libvirt re-probes by itself when they are stale.
fn capabilities_seed() -> PathBuf {
    std::env::temp_dir().join("virtplane-qemu-capabilities")
}

fn copy_files(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for entry in entries.flatten() {
        let _ = std::fs::copy(entry.path(), to.join(entry.file_name()));
    }
}

/// Replaces the seed with `probed` when they differ (a first run, or QEMU changed).
fn save_capabilities(probed: &Path) {
    let read = |dir: &Path| -> Vec<(std::ffi::OsString, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| Some((e.file_name(), std::fs::read(e.path()).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    };
    let seed = capabilities_seed();
    let fresh = read(probed);
    if fresh.is_empty() || read(&seed) == fresh {
        return;
    }
    let staging = seed.with_extension(format!("{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    if std::fs::create_dir_all(&staging).is_err() {
        return;
    }
    copy_files(probed, &staging);
    let _ = std::fs::remove_dir_all(&seed);
    if std::fs::rename(&staging, &seed).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
}

fn libvirtd_binary() -> PathBuf {
    ["/usr/sbin/libvirtd", "/usr/local/sbin/libvirtd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("libvirtd"))
}

fn wait_for_socket(daemon: &mut Child, socket: &Path, log: &Path) {
    let log = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return;
        }
        if let Ok(Some(status)) = daemon.try_wait() {
            panic!(
                "libvirtd (in its mount namespace) exited: {status}; its log:\n{}",
                log()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "libvirtd did not open {} within 30 s; its log:\n{}",
        socket.display(),
        log()
    );
}
