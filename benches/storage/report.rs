//! The storage bench's measures: CPU time from /proc, each transfer's sample, and
//! the report of the medians against virsh.

use std::time::Duration;

use crate::{ROUNDS, SIZE, qemu};

/// CPU time from /proc, in clock ticks: this process's own (service and client), the
/// virsh processes it waited for, and the daemon's.
pub(crate) struct Cpu {
    daemon: u32,
}

impl Cpu {
    pub(crate) fn of_daemon(daemon: &qemu::QemuDaemon) -> Cpu {
        let pidfile = daemon
            .dir()
            .parent()
            .expect("daemon root")
            .join("libvirtd.pid");
        let pid = std::fs::read_to_string(pidfile).expect("libvirtd's pid file");
        Cpu {
            daemon: pid.trim().parse().expect("a pid"),
        }
    }

    /// utime + stime (fields 14 and 15) or cutime + cstime (16 and 17) of `pid`.
    fn ticks(pid: &str, children: bool) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
        // Fields after the command name, which may hold spaces: the 3rd is field 3.
        let fields: Vec<u64> = stat
            .rsplit(')')
            .next()
            .expect("stat")
            .split_whitespace()
            .skip(11)
            .take(4)
            .map(|f| f.parse().expect("a number"))
            .collect();
        if children {
            fields[2] + fields[3]
        } else {
            fields[0] + fields[1]
        }
    }

    pub(crate) fn service(&self) -> u64 {
        Cpu::ticks("self", false) + Cpu::ticks(&self.daemon.to_string(), false)
    }

    pub(crate) fn virsh(&self) -> u64 {
        Cpu::ticks("self", true) + Cpu::ticks(&self.daemon.to_string(), false)
    }
}

/// One transfer: its time and the CPU ticks it cost.
#[derive(Clone, Copy, Default)]
pub(crate) struct Sample {
    elapsed: Duration,
    ticks: u64,
}

impl Sample {
    pub(crate) fn new(elapsed: Duration, ticks: u64) -> Sample {
        Sample { elapsed, ticks }
    }

    /// CPU seconds per GiB moved (clock ticks are 1/100 s on Linux).
    fn cpu_per_gib(self) -> f64 {
        self.ticks as f64 / 100.0 * f64::from(1 << 30) / SIZE as f64
    }
}

/// Each round's samples: service upload and download with SHA-256, virsh upload
/// and download, service upload and download with CRC32C.
#[derive(Default)]
pub(crate) struct Results(Vec<[Sample; 6]>);

impl Results {
    pub(crate) fn push(&mut self, round: [Sample; 6]) {
        self.0.push(round);
    }

    /// The median of `value` over column `i`.
    fn median(&self, i: usize, value: impl Fn(Sample) -> f64) -> f64 {
        let mut values: Vec<f64> = self.0.iter().map(|r| value(r[i])).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    pub(crate) fn report(&self) {
        println!(
            "virtplane storage benchmark: {} MiB per transfer, {ROUNDS} rounds after one \
             unmeasured, sides taking turns to go first (private QEMU libvirtd, raw volume \
             in a dir pool)\n",
            SIZE >> 20
        );
        for (i, round) in self.0.iter().enumerate() {
            println!(
                "round {}: upload {:.0} / {:.0} / {:.0} MB/s, download {:.0} / {:.0} / {:.0} MB/s \
                 (virtplane SHA-256 / virtplane CRC32C / virsh)",
                i + 1,
                mbps(round[0]),
                mbps(round[4]),
                mbps(round[2]),
                mbps(round[1]),
                mbps(round[5]),
                mbps(round[3])
            );
        }
        println!(
            "\n{:<20} {:>14} {:>14} {:>8}  {:>16} {:>12}  target >= 0.8x",
            "median", "virtplane", "virsh", "ratio", "CPU s/GiB: ours", "virsh's"
        );
        for (name, service, virsh) in [
            ("upload, SHA-256", 0, 2),
            ("upload, CRC32C", 4, 2),
            ("download, SHA-256", 1, 3),
            ("download, CRC32C", 5, 3),
        ] {
            let (s, v) = (self.median(service, mbps), self.median(virsh, mbps));
            let ratio = s / v;
            let (s_cpu, v_cpu) = (
                self.median(service, Sample::cpu_per_gib),
                self.median(virsh, Sample::cpu_per_gib),
            );
            println!(
                "{name:<20} {s:>9.0} MB/s {v:>9.0} MB/s {ratio:>7.2}x  {s_cpu:>16.2} {v_cpu:>12.2}  {}",
                if ratio >= 0.8 { "met" } else { "MISSED" }
            );
        }
    }
}

pub(crate) fn mbps(sample: Sample) -> f64 {
    SIZE as f64 / 1e6 / sample.elapsed.as_secs_f64()
}
