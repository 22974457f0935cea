//! The `jti` denylist: sharded tables of keyed digests with their tokens'
//! expiry, and an incremental sweep.
//!
//! Each shard is a `RwLock` over a hash table of 16-byte entries (digest,
//! `exp`) and a min-heap of the same pairs ordered by expiry. Checks take one
//! shard's read lock for one probe: no global lock, no allocation. The sweep
//! pops expired pairs off a shard's heap under that shard's write lock, at
//! most [`SWEEP_CHUNK`] per lock acquisition, so a check never waits behind
//! more than one chunk.
//!
//! Memory: a table entry is 16 bytes plus one control byte; hashbrown keeps
//! its load between 44% and 87.5%, so 19 to 39 bytes per entry, plus 16 bytes
//! (amortized up to 32) in the heap.

use crate::clock::UnixTime;
use crate::digest::jti_shard;
use crate::sync::RwLock;
use crate::transitions::is_expired;
use hashbrown::HashTable;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The most entries the sweep removes under one write-lock acquisition.
pub const SWEEP_CHUNK: usize = 64;

#[derive(Debug, Default)]
pub(crate) struct DenyShard {
    entries: HashTable<(u64, i64)>,
    expiry: BinaryHeap<Reverse<(i64, u64)>>,
}

impl DenyShard {
    pub(crate) fn contains(&self, digest: u64) -> bool {
        self.entries.find(digest, |e| e.0 == digest).is_some()
    }

    /// Adds `digest`, or extends an existing entry to the later expiry: a
    /// collision may only deny longer, never admit.
    pub(crate) fn insert(&mut self, digest: u64, expires_at: UnixTime) {
        let exp = expires_at.as_secs();
        match self.entries.entry(digest, |e| e.0 == digest, |e| e.0) {
            hashbrown::hash_table::Entry::Occupied(mut entry) => {
                let current = &mut entry.get_mut().1;
                if exp > *current {
                    *current = exp;
                    self.expiry.push(Reverse((exp, digest)));
                }
            }
            hashbrown::hash_table::Entry::Vacant(entry) => {
                entry.insert((digest, exp));
                self.expiry.push(Reverse((exp, digest)));
            }
        }
    }

    /// Pops up to `budget` expired heap items at `now`; returns how many it
    /// popped (the work done) and how many table entries it removed.
    fn sweep(&mut self, now: UnixTime, leeway: i64, budget: usize) -> (usize, usize) {
        let mut popped = 0;
        let mut removed = 0;
        while popped < budget {
            let Some(&Reverse((exp, digest))) = self.expiry.peek() else {
                break;
            };
            if !is_expired(UnixTime::from_secs(exp), now, leeway) {
                break;
            }
            self.expiry.pop();
            popped += 1;
            // The heap may hold a stale, earlier expiry for a digest that was
            // extended since; only the table's own expiry decides.
            if let Ok(entry) = self.entries.find_entry(digest, |e| e.0 == digest)
                && is_expired(UnixTime::from_secs(entry.get().1), now, leeway)
            {
                entry.remove();
                removed += 1;
            }
        }
        (popped, removed)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Shards padded to their own cache lines so readers of neighbouring shards
/// do not contend.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

#[derive(Debug)]
pub(crate) struct Denylist {
    shards: Box<[Padded<RwLock<DenyShard>>]>,
    mask: usize,
}

impl Denylist {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            shards: (0..shards)
                .map(|_| Padded(RwLock::new(DenyShard::default())))
                .collect(),
            mask: shards - 1,
        }
    }

    pub(crate) fn shard(&self, digest: u64) -> &RwLock<DenyShard> {
        &self.shards[jti_shard(digest, self.mask)].0
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Sweeps shard `index` with at most `budget` units of work, in chunks of
    /// [`SWEEP_CHUNK`] per write lock. Returns (work done, entries removed).
    pub(crate) fn sweep_shard(
        &self,
        index: usize,
        now: UnixTime,
        leeway: i64,
        budget: usize,
    ) -> (usize, usize) {
        let (mut work, mut removed) = (0, 0);
        while work < budget {
            let chunk = SWEEP_CHUNK.min(budget - work);
            let (popped, gone) = self.shards[index].0.write().sweep(now, leeway, chunk);
            work += popped;
            removed += gone;
            if popped < chunk {
                break;
            }
        }
        (work, removed)
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.read().len()).sum()
    }
}
