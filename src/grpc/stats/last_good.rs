//! The last full sample of each running domain: what a domain that libvirt could not
//! sample this time (busy with another job) is answered with, marked stale and aged,
//! never dropped.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Instant,
};

use crate::{hypervisor::Sampled, model::DomainStats};

/// Each running domain's last full sample and when it was taken, by UUID.
#[derive(Debug, Default)]
pub(super) struct LastGood {
    samples: Mutex<HashMap<String, (DomainStats, Instant)>>,
}

impl LastGood {
    /// Keeps the full samples, and answers a running domain that came back with its
    /// state only, after a full sample of it was seen, with that sample, stale. (A
    /// domain never sampled in full is answered as libvirt gave it: some drivers
    /// sample nothing more.) With `every_domain`, samples of domains no longer listed
    /// are forgotten, so the map holds the host's domains only.
    pub(super) fn settle(&self, sampled: Vec<Sampled>, every_domain: bool) -> Vec<DomainStats> {
        let now = Instant::now();
        let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        if every_domain {
            let listed: std::collections::HashSet<&str> =
                sampled.iter().map(|s| s.stats.uuid.as_str()).collect();
            samples.retain(|uuid, _| listed.contains(uuid.as_str()));
        }
        sampled
            .into_iter()
            .map(|Sampled { stats, sampled }| {
                if stats.state.is_off() {
                    // Counters start again with the next boot.
                    samples.remove(&stats.uuid);
                    return stats;
                }
                if sampled {
                    samples.insert(stats.uuid.clone(), (stats.clone(), now));
                    return stats;
                }
                match samples.get(&stats.uuid) {
                    Some((last, at)) => DomainStats {
                        state: stats.state,
                        stale: true,
                        age_ms: u64::try_from(now.duration_since(*at).as_millis())
                            .unwrap_or(u64::MAX),
                        ..last.clone()
                    },
                    None => stats,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DomainState;

    fn sample(uuid: &str, cpu: u64, sampled: bool) -> Sampled {
        let mut stats = DomainStats {
            uuid: uuid.into(),
            name: uuid.into(),
            state: DomainState::Running,
            cpu: Default::default(),
            vcpu: Default::default(),
            balloon: Default::default(),
            blocks: Vec::new(),
            interfaces: Vec::new(),
            stale: false,
            age_ms: 0,
        };
        stats.cpu.time_ns = cpu;
        Sampled { stats, sampled }
    }

    #[test]
    fn a_busy_domain_gets_its_last_good_values_marked_stale() {
        let last = LastGood::default();
        let first = last.settle(vec![sample("a", 10, true)], true);
        assert!(!first[0].stale);
        let busy = last.settle(vec![sample("a", 0, false)], true);
        assert!(busy[0].stale);
        assert_eq!(busy[0].cpu.time_ns, 10, "the last good value");
        let never = last.settle(vec![sample("b", 0, false)], true);
        assert!(!never[0].stale, "never sampled in full: as libvirt gave it");
        assert!(
            last.samples.lock().expect("lock").get("a").is_none(),
            "a is gone"
        );
    }
}
