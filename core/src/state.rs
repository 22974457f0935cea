//! [`AuthState`]: the shared state, its locks, and the operations on it.
//!
//! # Layout and locks
//!
//! * The denylist: `N` shards by `jti` digest (see [`crate::denylist`]).
//! * The subjects: `N` shards by subject digest, each a `RwLock` over the
//!   subject records and refresh families of that shard, beside the shard's
//!   guard table (see [`crate::barrier`]).
//! * The global not-before cutoff: one `AtomicI64`.
//!
//! Locks are always taken in the order denylist shard, subject shard, guard
//! table, and at most one of each at a time, so no cycle can form (I7).
//! `check` takes two read locks and allocates nothing. Decisions and changes
//! are the pure functions of [`crate::transitions`]; this module only decides
//! what to read under which lock, and in which order.

use crate::barrier::{Guard, GuardEntry, Guards, Matcher, Registration, Revocation, Scope};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::denylist::{Denylist, Padded};
use crate::digest::{Digester, SubjectKey};
use crate::error::{RedeemError, Rejection, StateError};
use crate::facts::{
    Authorization, FamilyId, RefreshFacts, RefreshGrant, Roles, TokenFacts, Version,
};
use crate::faults::Fault;
use crate::sync::{self, Arc, AtomicI64, AtomicU64, Ordering, RwLock};
use crate::transitions::{self, FamilyRecord, FamilyView, RedeemStep, RoleSource, SubjectRecord};
use hashbrown::HashTable;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::time::Duration;

/// Sentinel of the global cutoff before any `revoke_all`.
const NO_CUTOFF: i64 = i64::MIN;

/// The records of one subject shard.
#[derive(Debug, Default)]
pub(crate) struct SubjectTable {
    subjects: HashTable<(SubjectKey, SubjectRecord)>,
    families: HashTable<(FamilyId, SubjectKey, FamilyRecord)>,
    /// The families by expiry, as they were when pushed: the sweep re-pushes
    /// a family whose expiry has been extended since.
    family_expiry: BinaryHeap<Reverse<(i64, u64)>>,
}

fn family_hash(id: FamilyId) -> u64 {
    // Family ids are sequential; spread them over the table's bits.
    id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl SubjectTable {
    fn record(&self, key: SubjectKey) -> SubjectRecord {
        self.subjects
            .find(key.table_hash(), |e| e.0 == key)
            .map_or_else(SubjectRecord::default, |e| e.1)
    }

    fn record_mut(&mut self, key: SubjectKey) -> &mut SubjectRecord {
        let entry = self
            .subjects
            .entry(key.table_hash(), |e| e.0 == key, |e| e.0.table_hash())
            .or_insert_with(|| (key, SubjectRecord::default()));
        &mut entry.into_mut().1
    }

    /// The family `id` if it exists and belongs to `key`.
    fn family(&self, key: SubjectKey, id: FamilyId) -> Option<&FamilyRecord> {
        self.families
            .find(family_hash(id), |e| e.0 == id)
            .filter(|e| e.1 == key)
            .map(|e| &e.2)
    }

    /// Log out everywhere includes the refresh tokens: otherwise a refresh
    /// token minted before the revocation redeems into a fresh access token
    /// with the new version. Called under the same write lock as the version
    /// bump, so I1 holds; the barrier's subject matcher already covers the
    /// families' guards.
    fn end_families_of(&mut self, key: SubjectKey) {
        for (_, owner, family) in self.families.iter_mut() {
            if *owner == key {
                family.revoke();
            }
        }
    }

    /// Removes families expired at `now`, examining at most `budget` heap
    /// items. Returns (work done, families removed).
    fn sweep_families(&mut self, now: UnixTime, leeway: i64, budget: usize) -> (usize, usize) {
        let (mut work, mut removed) = (0, 0);
        while work < budget {
            let Some(&Reverse((exp, id))) = self.family_expiry.peek() else {
                break;
            };
            if !transitions::is_expired(UnixTime::from_secs(exp), now, leeway) {
                break;
            }
            self.family_expiry.pop();
            work += 1;
            let id = FamilyId(id);
            if let Ok(entry) = self.families.find_entry(family_hash(id), |e| e.0 == id) {
                let current = entry.get().2.expires_at();
                if transitions::is_expired(current, now, leeway) {
                    entry.remove();
                    removed += 1;
                } else {
                    self.family_expiry.push(Reverse((current.as_secs(), id.0)));
                }
            }
        }
        (work, removed)
    }

    fn family_mut(&mut self, key: SubjectKey, id: FamilyId) -> Option<&mut FamilyRecord> {
        self.families
            .find_mut(family_hash(id), |e| e.0 == id)
            .filter(|e| e.1 == key)
            .map(|e| &mut e.2)
    }
}

#[derive(Debug)]
pub(crate) struct SubjectShard {
    records: RwLock<SubjectTable>,
    guards: Guards,
}

impl Default for SubjectShard {
    fn default() -> Self {
        Self {
            records: RwLock::new(SubjectTable::default()),
            guards: Guards::default(),
        }
    }
}

/// What `decide_locked` read, for a guard's registration.
struct Decided {
    key: SubjectKey,
    jti: Option<u64>,
    shard: usize,
    family_issued_at: Option<i64>,
}

/// The shared part of an [`AuthState`]; guards and revocation handles keep it
/// alive.
pub(crate) struct Inner {
    denylist: Denylist,
    subjects: Box<[Padded<SubjectShard>]>,
    mask: usize,
    /// Global not-before cutoff in seconds, [`NO_CUTOFF`] if none.
    global_cutoff: AtomicI64,
    clock: Box<dyn Clock>,
    leeway: i64,
    refresh_overlap: Option<i64>,
    digest: Digester,
    next_family: AtomicU64,
    sweep_cursor: AtomicU64,
    #[cfg(feature = "faults")]
    faults: u16,
    /// Denylist writes not yet visible to checks (`Fault::LaggingDenylist`).
    #[cfg(feature = "faults")]
    lagging: crate::sync::Mutex<Vec<(u64, UnixTime)>>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthState")
            .field("shards", &self.subjects.len())
            .field("clock", &self.clock)
            .field("leeway", &self.leeway)
            .field("refresh_overlap", &self.refresh_overlap)
            .finish_non_exhaustive()
    }
}

impl Inner {
    #[inline]
    pub(crate) fn fault(&self, fault: Fault) -> bool {
        #[cfg(feature = "faults")]
        {
            self.faults & fault.bit() != 0
        }
        #[cfg(not(feature = "faults"))]
        {
            let _ = fault;
            false
        }
    }

    pub(crate) fn guards(&self, shard: usize) -> &Guards {
        &self.subjects[shard].0.guards
    }

    fn shard_of(&self, key: SubjectKey) -> usize {
        key.shard(self.mask)
    }

    fn global_cutoff(&self) -> Option<UnixTime> {
        // Relaxed: no other data is published through this atomic, and a
        // check that happens-after the store reads it or a later value
        // (write-read coherence). Guards get their ordering from the subject
        // shard locks that `revoke_issued_before` takes after the store.
        let cutoff = self.global_cutoff.load(Ordering::Relaxed);
        (cutoff != NO_CUTOFF).then_some(UnixTime::from_secs(cutoff))
    }

    fn role_source(&self) -> RoleSource {
        if self.fault(Fault::RoleFromToken) {
            RoleSource::Token
        } else {
            RoleSource::Live
        }
    }

    /// Captures every guard table's bound. Called with the lock that orders
    /// the revocation's write held (see [`crate::barrier`]).
    fn all_bounds(&self) -> Box<[u64]> {
        self.subjects
            .iter()
            .map(|s| s.0.guards.table.lock().bound())
            .collect()
    }

    /// The point-of-use decision, shared by `check` and `guard`: looks up
    /// the denylist, then reads the clock (I5), then the subject's shard, and
    /// hands the decision to `then` while both read locks are still held, so
    /// that the decision sees one instant of the state and a guard admitted
    /// in `then` is ordered against every revocation's write (I1, I2, I3).
    /// Lock order: denylist shard, then subject shard.
    fn decide_locked<R>(
        &self,
        facts: &TokenFacts<'_>,
        then: impl FnOnce(Result<Authorization, Rejection>, &Decided) -> R,
    ) -> R {
        let key = self.digest.subject(facts.subject);
        let jti = facts.jti.map(|jti| self.digest.jti(jti));
        // Fault::ClockBeforeLookup: the early reading that I5 forbids.
        let early = self
            .fault(Fault::ClockBeforeLookup)
            .then(|| self.clock.now());
        let deny = jti.map(|digest| (digest, self.denylist.shard(digest).read()));
        let denylisted = deny
            .as_ref()
            .is_some_and(|(digest, shard)| shard.contains(*digest));
        // I5: the clock is read after the denylist lookup. An entry the sweep
        // removed was expired at the sweep's reading, which is no later than
        // this one, so the token is seen expired here.
        let now = early.unwrap_or_else(|| self.clock.now());
        let shard = self.shard_of(key);
        let table = self.subjects[shard].0.records.read();
        let global_cutoff = self.global_cutoff();
        let family = facts.family.and_then(|id| table.family(key, id));
        // A family is live if it exists, is the subject's, is not revoked and
        // began after the global cutoff (`revoke_all` ends the logins it
        // predates at once, not only at their next redemption).
        let family_view = match (facts.family, family) {
            (None, _) => FamilyView::NotClaimed,
            (Some(_), Some(record)) if record.is_live(global_cutoff) => FamilyView::Live,
            (Some(_), _) => FamilyView::RevokedOrUnknown,
        };
        let decision = transitions::evaluate(
            facts,
            denylisted,
            table.record(key),
            family_view,
            global_cutoff,
            now,
            self.leeway,
            self.role_source(),
        );
        let decided = Decided {
            key,
            jti,
            shard,
            family_issued_at: family.map(|record| record.issued_at().as_secs()),
        };
        let out = then(decision, &decided);
        drop(table);
        drop(deny);
        out
    }
}

/// The revocation and permission state of one service: a `jti` denylist,
/// per-subject versions, live roles and not-before cutoffs, a global cutoff,
/// refresh-token families, and the guards that hold authority at the point
/// of use. Cheap to clone (an `Arc`), `Send` and `Sync`.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{AuthState, Rejection, Role, Roles, TokenFacts, Version};
///
/// let state = AuthState::new();
/// let admin = Roles::from(Role::new(0).unwrap());
/// let _ = state.set_role("alice", admin);
///
/// let now = state.now();
/// let facts = TokenFacts {
///     subject: "alice",
///     jti: Some("token-1"),
///     issued_at: now,
///     expires_at: now.saturating_add_secs(300),
///     version: Some(Version(0)),
///     family: None,
///     roles: admin,
/// };
/// assert!(state.check(&facts).is_ok());
///
/// // A downgrade takes effect at the next point of use.
/// state.set_role("alice", Roles::EMPTY).wait();
/// assert!(matches!(state.check(&facts), Err(Rejection::RoleNoLongerHeld { .. })));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct AuthState {
    inner: Arc<Inner>,
}

/// Configures an [`AuthState`].
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{AuthState, ManualClock, UnixTime};
/// use std::time::Duration;
/// let state = AuthState::builder()
///     .clock(ManualClock::new(UnixTime::from_secs(1_000)))
///     .leeway(Duration::from_secs(5))
///     .shards(16)
///     .build();
/// assert_eq!(state.now(), UnixTime::from_secs(1_000));
/// # });
/// ```
#[derive(Debug)]
pub struct AuthStateBuilder {
    clock: Box<dyn Clock>,
    leeway: Duration,
    shards: usize,
    refresh_overlap: Option<Duration>,
    #[cfg(feature = "faults")]
    faults: u16,
}

impl Default for AuthStateBuilder {
    fn default() -> Self {
        Self {
            clock: Box::new(SystemClock::new()),
            leeway: Duration::ZERO,
            shards: 64,
            refresh_overlap: None,
            #[cfg(feature = "faults")]
            faults: 0,
        }
    }
}

impl AuthStateBuilder {
    /// The clock (default: [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Tolerance for `exp`, in whole seconds (default: none). The same leeway
    /// decides expiry in checks and in the sweep.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The number of shards, rounded up to a power of two between 1 and 1024
    /// (default 64). More shards spread contention; fewer keep models small.
    #[must_use]
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards.clamp(1, 1024).next_power_of_two();
        self
    }

    /// Tolerate the reuse of the immediately previous refresh token for this
    /// long after a rotation (default: off). Within the window, the
    /// previous token gets the current generation again instead of revoking
    /// the family: for clients that lost a rotation's response.
    #[must_use]
    pub fn refresh_overlap(mut self, window: Option<Duration>) -> Self {
        self.refresh_overlap = window;
        self
    }

    /// Switches a fault on (negative controls only).
    #[cfg(feature = "faults")]
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults |= fault.bit();
        self
    }

    /// Builds the state.
    pub fn build(self) -> AuthState {
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let inner = Inner {
            denylist: Denylist::new(self.shards),
            subjects: (0..self.shards)
                .map(|_| Padded(SubjectShard::default()))
                .collect(),
            mask: self.shards - 1,
            global_cutoff: AtomicI64::new(NO_CUTOFF),
            clock: self.clock,
            leeway: secs(self.leeway),
            refresh_overlap: self.refresh_overlap.map(secs),
            digest: Digester::new(sync::digest_keys()),
            next_family: AtomicU64::new(1),
            sweep_cursor: AtomicU64::new(0),
            #[cfg(feature = "faults")]
            faults: self.faults,
            #[cfg(feature = "faults")]
            lagging: crate::sync::Mutex::new(Vec::new()),
        };
        AuthState {
            inner: Arc::new(inner),
        }
    }
}

/// What one [`AuthState::sweep`] call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Units of work spent (expiry-heap items examined).
    pub work: usize,
    /// Denylist entries removed.
    pub removed: usize,
    /// Expired refresh families removed.
    pub families_removed: usize,
}

impl Default for AuthState {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthState {
    /// A state with the default configuration: system clock, no leeway, 64
    /// shards, no refresh overlap.
    pub fn new() -> Self {
        AuthStateBuilder::default().build()
    }

    /// Configures a state.
    pub fn builder() -> AuthStateBuilder {
        AuthStateBuilder::default()
    }

    /// The state's clock reading.
    pub fn now(&self) -> UnixTime {
        self.inner.clock.now()
    }

    /// Point-of-use validation of a token's facts: denylist, expiry, family,
    /// global and subject cutoffs, version, and the claimed roles against the
    /// live ones. Takes two shard read locks; allocates nothing.
    ///
    /// I1: a check that starts after a revocation returned sees it.
    pub fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection> {
        self.inner.decide_locked(facts, |decision, _| decision)
    }

    /// Admits one sensitive action: [`AuthState::check`], plus every role of
    /// `required` held live (never the roles written in the token), and a
    /// [`Guard`] that revocations of this authority wait for.
    ///
    /// The decision and the guard's registration happen under the read locks
    /// of everything decided on, so each revocation is either before the
    /// admission (which then refuses) or after it (and then waits for the
    /// guard): I2, I3.
    pub fn guard(&self, facts: &TokenFacts<'_>, required: Roles) -> Result<Guard, Rejection> {
        let inner = &self.inner;
        // Registered inside the decision, under its read locks: revocations
        // capture their bounds under the write locks of what they change.
        inner.decide_locked(facts, |decision, decided| {
            let authorization = decision?;
            transitions::require(&authorization, required)?;
            if inner.fault(Fault::UnregisteredGuard) {
                return Ok(Guard {
                    registration: None,
                    authorization,
                });
            }
            let slot = inner.guards(decided.shard).table.lock().admit(GuardEntry {
                seq: 0,
                subject: decided.key,
                jti: decided.jti,
                family: facts.family,
                issued_at: facts.issued_at.as_secs(),
                family_issued_at: decided.family_issued_at,
                has_version: facts.version.is_some(),
                authority: required.union(facts.roles),
            });
            Ok(Guard {
                registration: Some(Registration {
                    inner: Arc::clone(inner),
                    shard: decided.shard,
                    slot,
                }),
                authorization,
            })
        })
    }

    /// Denylists the token `jti` until `expires_at` (its `exp`). Returns once
    /// checks refuse it; the handle's barrier passes once guards admitted
    /// with it are dropped.
    pub fn revoke_token(&self, jti: &str, expires_at: UnixTime) -> Revocation {
        let inner = &self.inner;
        let digest = inner.digest.jti(jti);
        let mut shard = inner.denylist.shard(digest).write();
        if inner.fault(Fault::LaggingDenylist) {
            #[cfg(feature = "faults")]
            inner.lagging.lock().push((digest, expires_at));
        } else {
            shard.insert(digest, expires_at);
        }
        let bounds = inner.all_bounds();
        drop(shard);
        Revocation::new(
            (),
            Arc::clone(inner),
            Matcher::Token(digest),
            Scope::All(bounds),
        )
    }

    /// Logs `subject` out everywhere: bumps its version (refusing every token
    /// that carries the old one) and raises its not-before cutoff to now
    /// (refusing its tokens without `ver` issued up to this second). Returns
    /// the new version.
    ///
    /// I4: the version is read and written under one write lock, so `k`
    /// concurrent calls return `k` distinct versions.
    pub fn revoke_subject(&self, subject: &str) -> Result<Revocation<Version>, StateError> {
        let inner = &self.inner;
        let key = inner.digest.subject(subject);
        let shard = inner.shard_of(key);
        let now = inner.clock.now();
        let records = &inner.subjects[shard].0.records;
        let (version, bound) = if inner.fault(Fault::VersionLoadThenStore) {
            let read = records.read().record(key).version();
            let next = Version(read.0.checked_add(1).ok_or(StateError::VersionExhausted)?);
            let mut table = records.write();
            let record = table.record_mut(key);
            record.set_version(next);
            record.raise_cutoff(now);
            table.end_families_of(key);
            (next, inner.guards(shard).table.lock().bound())
        } else {
            let mut table = records.write();
            let version = table.record_mut(key).revoke(now)?;
            table.end_families_of(key);
            (version, inner.guards(shard).table.lock().bound())
        };
        Ok(Revocation::new(
            version,
            Arc::clone(inner),
            Matcher::Subject(key),
            Scope::Shard { shard, bound },
        ))
    }

    /// Replaces `subject`'s live roles. A downgrade's barrier passes once the
    /// guards that relied on a removed role are dropped (I3); an upgrade has
    /// nothing to wait for.
    pub fn set_role(&self, subject: &str, roles: Roles) -> Revocation {
        let inner = &self.inner;
        let key = inner.digest.subject(subject);
        let shard = inner.shard_of(key);
        let mut table = inner.subjects[shard].0.records.write();
        let old = table.record_mut(key).set_roles(roles);
        let scope = if old.is_subset(roles) {
            Scope::Nothing
        } else {
            Scope::Shard {
                shard,
                bound: inner.guards(shard).table.lock().bound(),
            }
        };
        drop(table);
        Revocation::new(
            (),
            Arc::clone(inner),
            Matcher::SubjectRoles(key, roles),
            scope,
        )
    }

    /// `subject`'s live roles (empty for a subject never given any).
    pub fn live_roles(&self, subject: &str) -> Roles {
        let key = self.inner.digest.subject(subject);
        self.inner.subjects[self.inner.shard_of(key)]
            .0
            .records
            .read()
            .record(key)
            .roles()
    }

    /// `subject`'s current version (0 for a subject never revoked).
    pub fn current_version(&self, subject: &str) -> Version {
        let key = self.inner.digest.subject(subject);
        self.inner.subjects[self.inner.shard_of(key)]
            .0
            .records
            .read()
            .record(key)
            .version()
    }

    /// Revokes every token issued up to now: [`AuthState::revoke_issued_before`]
    /// with the current time.
    pub fn revoke_all(&self) -> Revocation {
        self.revoke_issued_before(self.inner.clock.now())
    }

    /// Raises the global not-before cutoff to `cutoff`: every token with
    /// `iat <= cutoff` is refused. The cutoff never goes down (I8).
    pub fn revoke_issued_before(&self, cutoff: UnixTime) -> Revocation {
        let inner = &self.inner;
        let t = cutoff.as_secs().max(NO_CUTOFF + 1);
        if inner.fault(Fault::CutoffReadModifyWrite) {
            // Relaxed, like the correct path; the bug is the gap between the
            // load and the store.
            let current = inner.global_cutoff.load(Ordering::Relaxed);
            if t > current {
                inner.global_cutoff.store(t, Ordering::Relaxed);
            }
        } else {
            // Relaxed: fetch_max is one atomic step in the location's
            // modification order, which is all I8 needs; ordering with the
            // guards comes from the shard locks below.
            inner.global_cutoff.fetch_max(t, Ordering::Relaxed);
        }
        // Each shard's write lock waits out the admissions in progress there
        // (they read the old cutoff and are below the bound); admissions that
        // take the read lock afterwards read the new cutoff.
        let bounds: Box<[u64]> = inner
            .subjects
            .iter()
            .map(|s| {
                let _records = s.0.records.write();
                s.0.guards.table.lock().bound()
            })
            .collect();
        Revocation::new(
            (),
            Arc::clone(inner),
            Matcher::IssuedBefore(t),
            Scope::All(bounds),
        )
    }

    /// Raises `subject`'s not-before cutoff to `cutoff`, for tokens without
    /// `ver` (an external identity provider's "not before" push). Never
    /// lowers it (I8).
    pub fn revoke_subject_issued_before(&self, subject: &str, cutoff: UnixTime) -> Revocation {
        let inner = &self.inner;
        let key = inner.digest.subject(subject);
        let shard = inner.shard_of(key);
        let records = &inner.subjects[shard].0.records;
        let table = if inner.fault(Fault::CutoffReadModifyWrite) {
            let current = records.read().record(key).cutoff();
            let mut table = records.write();
            if current.is_none_or(|c| cutoff > c) {
                table.record_mut(key).set_cutoff(cutoff);
            }
            table
        } else {
            let mut table = records.write();
            table.record_mut(key).raise_cutoff(cutoff);
            table
        };
        // The barrier waits for what this cutoff refuses, as stored: its
        // 32-bit storage rounds only upwards.
        let effective = transitions::stored_subject_cutoff(cutoff);
        let bound = inner.guards(shard).table.lock().bound();
        drop(table);
        Revocation::new(
            (),
            Arc::clone(inner),
            Matcher::SubjectIssuedBefore(key, effective.as_secs()),
            Scope::Shard { shard, bound },
        )
    }

    /// Starts a refresh-token family for `subject` (a login). The first
    /// refresh token is generation 0 and expires at `expires_at`.
    pub fn issue_family(&self, subject: &str, expires_at: UnixTime) -> RefreshGrant {
        let inner = &self.inner;
        let key = inner.digest.subject(subject);
        // Relaxed: ids need only be unique, which the RMW guarantees.
        let id = FamilyId(inner.next_family.fetch_add(1, Ordering::Relaxed));
        let now = inner.clock.now();
        let mut table = inner.subjects[inner.shard_of(key)].0.records.write();
        table.families.insert_unique(
            family_hash(id),
            (id, key, FamilyRecord::new(expires_at, now)),
            |e| family_hash(e.0),
        );
        table
            .family_expiry
            .push(Reverse((expires_at.as_secs(), id.0)));
        RefreshGrant {
            family: id,
            generation: 0,
        }
    }

    /// Records that an access token of `family` expiring at `expires_at` was
    /// issued, so the family's record (and thus its revocation) outlives it.
    pub fn extend_family(&self, subject: &str, family: FamilyId, expires_at: UnixTime) {
        let key = self.inner.digest.subject(subject);
        let mut table = self.inner.subjects[self.inner.shard_of(key)]
            .0
            .records
            .write();
        if let Some(record) = table.family_mut(key, family) {
            record.extend(expires_at);
        }
    }

    /// Redeems a refresh token: rotation with one-time use (I6). The
    /// presented token must be its family's current generation; the returned
    /// grant is the successor's, expiring at `successor_expires_at`.
    /// Presenting an already-redeemed token is reuse: the whole family is
    /// revoked, the successor handed out earlier and the family's access
    /// tokens included.
    pub fn redeem(
        &self,
        facts: &RefreshFacts<'_>,
        successor_expires_at: UnixTime,
    ) -> Result<RefreshGrant, RedeemError> {
        let inner = &self.inner;
        let key = inner.digest.subject(facts.subject);
        let shard = inner.shard_of(key);
        let now = inner.clock.now();
        let records = &inner.subjects[shard].0.records;
        let step = if inner.fault(Fault::RedeemCheckThenMark) {
            // Decide on a snapshot under the read lock...
            let snapshot = {
                let table = records.read();
                let found = table
                    .families
                    .find(family_hash(facts.family), |e| e.0 == facts.family)
                    .filter(|e| e.1 == key)
                    .map(|e| e.2);
                found.ok_or(RedeemError::UnknownFamily)?
            };
            let mut decided = snapshot;
            decided.apply_cutoff(inner.global_cutoff());
            let step = decided.redeem(
                facts.generation,
                facts.expires_at,
                successor_expires_at,
                now,
                inner.leeway,
                inner.refresh_overlap,
            );
            // ...and write the decision under a later write lock.
            let mut table = records.write();
            if let Some(record) = table.family_mut(key, facts.family) {
                *record = decided;
            }
            drop(table);
            step
        } else {
            let mut table = records.write();
            let record = table
                .family_mut(key, facts.family)
                .ok_or(RedeemError::UnknownFamily)?;
            // Log out everything (`revoke_all`) ends the logins it predates.
            record.apply_cutoff(inner.global_cutoff());
            record.redeem(
                facts.generation,
                facts.expires_at,
                successor_expires_at,
                now,
                inner.leeway,
                inner.refresh_overlap,
            )
        };
        let grant = |generation| RefreshGrant {
            family: facts.family,
            generation,
        };
        match step {
            RedeemStep::Rotated(generation) | RedeemStep::Replayed(generation) => {
                Ok(grant(generation))
            }
            RedeemStep::Expired => Err(RedeemError::Expired),
            RedeemStep::AlreadyRevoked => Err(RedeemError::FamilyRevoked),
            RedeemStep::Reuse => Err(RedeemError::Reused(
                self.family_barrier(shard, facts.family),
            )),
        }
    }

    /// Revokes a refresh family (logout): its refresh tokens can no longer be
    /// redeemed and its access tokens are refused. A family that does not
    /// belong to `subject` is left alone, and the barrier passes at once.
    pub fn revoke_family(&self, subject: &str, family: FamilyId) -> Revocation {
        let inner = &self.inner;
        let key = inner.digest.subject(subject);
        let shard = inner.shard_of(key);
        let mut table = inner.subjects[shard].0.records.write();
        // A family that is not this subject's revokes nothing, so its
        // barrier has nothing to wait for.
        let scope = match table.family_mut(key, family) {
            Some(record) => {
                record.revoke();
                Scope::Shard {
                    shard,
                    bound: inner.guards(shard).table.lock().bound(),
                }
            }
            None => Scope::Nothing,
        };
        drop(table);
        Revocation::new((), Arc::clone(inner), Matcher::Family(family), scope)
    }

    /// The barrier of a family revoked by reuse. The revocation was written
    /// under the shard's write lock, already released; capturing the bound
    /// under a fresh write lock is still after the write and before any
    /// admission that could see the family live, since none can any more.
    fn family_barrier(&self, shard: usize, family: FamilyId) -> Revocation {
        let inner = &self.inner;
        let _records = inner.subjects[shard].0.records.write();
        let bound = inner.guards(shard).table.lock().bound();
        Revocation::new(
            (),
            Arc::clone(inner),
            Matcher::Family(family),
            Scope::Shard { shard, bound },
        )
    }

    /// Removes expired refresh families of one subject shard and expired
    /// denylist entries, at most `budget` units of work in all (families take
    /// at most [`crate::SWEEP_CHUNK`] of it), resuming where the previous call
    /// stopped. No lock is held for more than one chunk. Call it periodically
    /// (for example every second with a budget of a few thousand).
    ///
    /// I5: the sweep reads the clock before it removes anything, and removes
    /// only entries expired at that reading.
    pub fn sweep(&self, budget: usize) -> SweepReport {
        let inner = &self.inner;
        #[cfg(feature = "faults")]
        {
            // Taken out in its own statement: a `for` head's temporaries live
            // for the whole loop, and `revoke_token` takes this mutex while
            // holding a denylist shard's write lock.
            let lagging = std::mem::take(&mut *inner.lagging.lock());
            for (digest, exp) in lagging {
                inner.denylist.shard(digest).write().insert(digest, exp);
            }
        }
        let now = inner.clock.now();
        let shards = inner.denylist.shard_count();
        // Relaxed: the cursor only spreads work between calls.
        let start = inner.sweep_cursor.fetch_add(1, Ordering::Relaxed) as usize;
        let mut report = SweepReport::default();
        // Families first, at most one chunk: their shard's write lock is held
        // for no longer than a denylist chunk's.
        {
            let mut table = inner.subjects[start & inner.mask].0.records.write();
            let (work, removed) =
                table.sweep_families(now, inner.leeway, crate::SWEEP_CHUNK.min(budget));
            report.work += work;
            report.families_removed = removed;
        }
        for k in 0..shards {
            if report.work >= budget {
                break;
            }
            let (work, removed) = inner.denylist.sweep_shard(
                (start + k) & inner.mask,
                now,
                inner.leeway,
                budget - report.work,
            );
            report.work += work;
            report.removed += removed;
        }
        report
    }

    /// How many entries the denylist holds (takes every shard's read lock).
    pub fn denylist_len(&self) -> usize {
        self.inner.denylist.len()
    }

    /// How many subject records the state holds (takes every shard's read lock).
    pub fn subject_count(&self) -> usize {
        self.inner
            .subjects
            .iter()
            .map(|s| s.0.records.read().subjects.len())
            .sum()
    }
}
