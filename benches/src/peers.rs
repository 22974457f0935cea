//! The peers: the same revocation state built on the usual maps.
//!
//! Each keeps a denylist (`jti` string to `exp` seconds) and a subject map
//! (subject string to [`PeerRecord`]) and checks a token like
//! [`authstate::AuthState::check`]: denylist first, then expiry against the
//! wall clock, then the subject's version and live roles. Keys are owned
//! `String`s hashed with each map's default hasher (SipHash-1-3 through
//! `RandomState` for all four): what most services write.

use crate::{PeerRecord, Workload, decide, unix_now, until};
use authstate::{Authorization, Rejection, TokenFacts};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A revocation state built on some concurrent map.
pub trait Peer: Send + Sync {
    /// A short name for tables.
    fn name(&self) -> &'static str;

    /// Point-of-use check, with the same outcomes as `AuthState::check` for
    /// the facts the benchmarks generate.
    fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection>;

    /// Denylists `jti` until `exp`.
    fn revoke(&self, jti: &str, exp: i64);

    /// Sets `subject`'s record.
    fn set_record(&self, subject: &str, record: PeerRecord);

    /// Removes expired denylist entries; returns how many went.
    fn sweep(&self) -> usize;

    /// Loads the workload's subjects and `denied[range]`.
    fn load(&self, workload: &Workload, range: std::ops::Range<usize>) {
        for (subject, roles) in workload.subjects.iter().zip(&workload.roles) {
            self.set_record(
                subject,
                PeerRecord {
                    version: 0,
                    roles: roles.bits(),
                    cutoff: 0,
                },
            );
        }
        self.load_denied(workload, range);
    }

    /// Denylists `denied[range]`.
    fn load_denied(&self, workload: &Workload, range: std::ops::Range<usize>) {
        let exp = workload.expires_at.as_secs();
        for jti in &workload.denied[range] {
            self.revoke(jti, exp);
        }
    }
}

#[inline]
fn expired(facts: &TokenFacts<'_>) -> bool {
    unix_now() >= facts.expires_at.as_secs()
}

/// The check every peer makes, given its two lookups: denylist, expiry
/// against the wall clock, then the subject's record.
#[inline]
fn peer_check(
    facts: &TokenFacts<'_>,
    denied: impl FnOnce(&str) -> bool,
    record: impl FnOnce(&str) -> PeerRecord,
) -> Result<Authorization, Rejection> {
    if facts.jti.is_some_and(denied) {
        return Err(Rejection::Revoked);
    }
    if expired(facts) {
        return Err(Rejection::Expired);
    }
    decide(facts, record(facts.subject))
}

/// What most people write: one global `parking_lot::RwLock<HashMap>` per map.
#[derive(Debug, Default)]
pub struct RwLockPeer {
    /// `jti` to `exp`.
    pub deny: RwLock<HashMap<String, i64>>,
    /// Subject to record.
    pub subjects: RwLock<HashMap<String, PeerRecord>>,
}

impl Peer for RwLockPeer {
    fn name(&self) -> &'static str {
        "RwLock<HashMap>"
    }

    #[inline]
    fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection> {
        peer_check(
            facts,
            |jti| self.deny.read().contains_key(jti),
            |subject| {
                self.subjects
                    .read()
                    .get(subject)
                    .copied()
                    .unwrap_or_default()
            },
        )
    }

    fn revoke(&self, jti: &str, exp: i64) {
        let mut deny = self.deny.write();
        let entry = deny.entry(jti.to_owned()).or_insert(exp);
        *entry = (*entry).max(exp);
    }

    fn set_record(&self, subject: &str, record: PeerRecord) {
        self.subjects.write().insert(subject.to_owned(), record);
    }

    fn sweep(&self) -> usize {
        let now = unix_now();
        let mut deny = self.deny.write();
        let before = deny.len();
        deny.retain(|_, exp| *exp > now);
        before - deny.len()
    }
}

/// `dashmap::DashMap` for both maps.
#[derive(Debug, Default)]
pub struct DashPeer {
    /// `jti` to `exp`.
    pub deny: dashmap::DashMap<String, i64>,
    /// Subject to record.
    pub subjects: dashmap::DashMap<String, PeerRecord>,
}

impl Peer for DashPeer {
    fn name(&self) -> &'static str {
        "DashMap"
    }

    #[inline]
    fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection> {
        peer_check(
            facts,
            |jti| self.deny.contains_key(jti),
            |subject| self.subjects.get(subject).map(|r| *r).unwrap_or_default(),
        )
    }

    fn revoke(&self, jti: &str, exp: i64) {
        let mut entry = self.deny.entry(jti.to_owned()).or_insert(exp);
        *entry = (*entry).max(exp);
    }

    fn set_record(&self, subject: &str, record: PeerRecord) {
        self.subjects.insert(subject.to_owned(), record);
    }

    fn sweep(&self) -> usize {
        let now = unix_now();
        let before = self.deny.len();
        self.deny.retain(|_, exp| *exp > now);
        before.saturating_sub(self.deny.len())
    }
}

/// `papaya::HashMap` (lock-free reads) for both maps, pinned per operation.
#[derive(Debug, Default)]
pub struct PapayaPeer {
    /// `jti` to `exp`.
    pub deny: papaya::HashMap<String, i64>,
    /// Subject to record.
    pub subjects: papaya::HashMap<String, PeerRecord>,
}

impl PapayaPeer {
    /// The bare baseline: one `get` of `jti` in the denylist, nothing else.
    #[inline]
    pub fn bare_get(&self, jti: &str) -> Option<i64> {
        self.deny.pin().get(jti).copied()
    }
}

impl Peer for PapayaPeer {
    fn name(&self) -> &'static str {
        "papaya"
    }

    #[inline]
    fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection> {
        peer_check(
            facts,
            |jti| self.deny.pin().contains_key(jti),
            |subject| {
                self.subjects
                    .pin()
                    .get(subject)
                    .copied()
                    .unwrap_or_default()
            },
        )
    }

    fn revoke(&self, jti: &str, exp: i64) {
        // `try_insert`, then `insert` only to extend: a map filled through
        // `update_or_insert` answers later misses about 8x slower (papaya
        // 0.2.5, measured here), which would flatter every ratio against it.
        let deny = self.deny.pin();
        if let Err(occupied) = deny.try_insert(jti.to_owned(), exp)
            && *occupied.current < exp
        {
            deny.insert(jti.to_owned(), exp);
        }
    }

    fn set_record(&self, subject: &str, record: PeerRecord) {
        self.subjects.pin().insert(subject.to_owned(), record);
    }

    fn sweep(&self) -> usize {
        let now = unix_now();
        let deny = self.deny.pin();
        let before = deny.len();
        deny.retain(|_, exp| *exp > now);
        before.saturating_sub(deny.len())
    }
}

/// Per-entry expiry for the moka denylist: an entry lives until its `exp`.
#[derive(Debug)]
pub struct UntilExp;

impl moka::Expiry<String, i64> for UntilExp {
    fn expire_after_create(
        &self,
        _key: &String,
        exp: &i64,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(until(*exp))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        exp: &i64,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(until(*exp))
    }
}

/// `moka::sync::Cache`: the denylist with per-entry expiry through
/// [`moka::Expiry`], the subjects without.
#[derive(Debug)]
pub struct MokaPeer {
    /// `jti` to `exp`, each entry expiring at its `exp`.
    pub deny: moka::sync::Cache<String, i64>,
    /// Subject to record.
    pub subjects: moka::sync::Cache<String, PeerRecord>,
}

impl Default for MokaPeer {
    fn default() -> Self {
        Self {
            deny: moka::sync::Cache::builder().expire_after(UntilExp).build(),
            subjects: moka::sync::Cache::builder().build(),
        }
    }
}

impl Peer for MokaPeer {
    fn name(&self) -> &'static str {
        "moka"
    }

    #[inline]
    fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection> {
        peer_check(
            facts,
            |jti| self.deny.contains_key(jti),
            |subject| self.subjects.get(subject).unwrap_or_default(),
        )
    }

    fn revoke(&self, jti: &str, exp: i64) {
        self.deny
            .entry_by_ref(jti)
            .and_upsert_with(|current| current.map_or(exp, |e| (*e.value()).max(exp)));
    }

    fn set_record(&self, subject: &str, record: PeerRecord) {
        self.subjects.insert(subject.to_owned(), record);
    }

    fn sweep(&self) -> usize {
        let before = self.deny.entry_count();
        self.deny.run_pending_tasks();
        before.saturating_sub(self.deny.entry_count()) as usize
    }
}

/// One of each peer, empty.
pub fn all_peers() -> Vec<Box<dyn Peer>> {
    vec![
        Box::new(RwLockPeer::default()),
        Box::new(DashPeer::default()),
        Box::new(PapayaPeer::default()),
        Box::new(MokaPeer::default()),
    ]
}
