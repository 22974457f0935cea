//! Keyed digests of token ids and subjects.
//!
//! The denylist stores an 8-byte SipHash-1-3 digest of each `jti` instead of
//! the string: bounded memory per entry. A collision can only make the
//! denylist answer "revoked" for a token that was not (entries are merged by
//! keeping the later `exp`), never the other way round, and the per-state
//! random key keeps an attacker from aiming for one.
//!
//! Subjects are identified by a 16-byte SipHash-2-4 digest. Here a collision
//! would merge two subjects' records, so the digest is the 128-bit keyed PRF
//! output: with a secret random key, finding two subjects that collide is as
//! hard as breaking SipHash-2-4.

use siphasher::sip::SipHasher13;
use siphasher::sip128::{Hasher128, SipHasher24};
use std::hash::Hasher;

/// A subject's identity inside the state: its keyed 128-bit digest. Four
/// `u32`s rather than a `u128` keep the alignment at 4, which keeps a subject
/// record at 28 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubjectKey(pub(crate) [u32; 4]);

impl SubjectKey {
    /// The hash the subject tables index by.
    pub(crate) fn table_hash(self) -> u64 {
        u64::from(self.0[0]) | (u64::from(self.0[1]) << 32)
    }

    /// Which shard the subject lives in.
    pub(crate) fn shard(self, mask: usize) -> usize {
        self.0[2] as usize & mask
    }
}

/// The keyed digest functions of one state.
#[derive(Debug)]
pub(crate) struct Digester {
    keys: [u64; 4],
}

impl Digester {
    pub(crate) fn new(keys: [u64; 4]) -> Self {
        Self { keys }
    }

    pub(crate) fn jti(&self, jti: &str) -> u64 {
        let mut hasher = SipHasher13::new_with_keys(self.keys[0], self.keys[1]);
        hasher.write(jti.as_bytes());
        hasher.finish()
    }

    pub(crate) fn subject(&self, subject: &str) -> SubjectKey {
        let mut hasher = SipHasher24::new_with_keys(self.keys[2], self.keys[3]);
        hasher.write(subject.as_bytes());
        let h = hasher.finish128().as_u128();
        // Truncating casts split the 128-bit digest into its four words.
        #[allow(clippy::cast_possible_truncation)]
        SubjectKey([
            h as u32,
            (h >> 32) as u32,
            (h >> 64) as u32,
            (h >> 96) as u32,
        ])
    }
}

/// Which denylist shard a `jti` digest lives in: bits that neither the
/// table's bucket index (low bits) nor its control byte (top seven) use.
pub(crate) fn jti_shard(digest: u64, mask: usize) -> usize {
    (digest >> 40) as usize & mask
}
