//! What a transfer moved: the bytes counted and digested (SHA-256) as they pass.

use ring::digest;

use crate::model::TransferSummary;

/// The SHA-256 of the bytes a transfer moved, and their count.
#[derive(Clone)]
pub(super) struct Tally {
    bytes: u64,
    digest: digest::Context,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally").field("bytes", &self.bytes).finish()
    }
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            bytes: 0,
            digest: digest::Context::new(&digest::SHA256),
        }
    }
}

impl Tally {
    pub(super) fn add(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.digest.update(data);
    }

    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(super) fn summary(&self) -> TransferSummary {
        TransferSummary {
            bytes: self.bytes,
            sha256: crate::hex::encode(self.digest.clone().finish().as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_and_digests_what_it_was_given_in_pieces() {
        let mut tally = Tally::default();
        tally.add(b"ab");
        tally.add(b"c");
        assert_eq!(
            tally.summary(),
            TransferSummary {
                bytes: 3,
                sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into()
            }
        );
    }
}
