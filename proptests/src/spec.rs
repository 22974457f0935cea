//! An executable, sequential specification of [`authstate::AuthState`].
//!
//! [`Spec`] is what `AuthState` means, written as plain single-threaded code:
//! ordered maps and sets keyed by the strings the caller passes (no digests,
//! no shards, no locks, no atomics). Every operation is one step from one
//! state to the next. The property tests run random operation sequences on
//! both and compare every result (`tests/state_machine.rs`); the
//! linearizability checker searches, for each concurrent history, for one
//! order of these steps that explains every result (`tests/linearizability.rs`).
//!
//! The spec was written from the documented behaviour of the public API, not
//! from `core/src/transitions.rs`; where the two disagree, one of them is
//! wrong and the tests say where.
//!
//! # Reading guide: anchors
//!
//! Each section below starts with a comment line `// SPEC-<id>: <title>`, a
//! stable anchor that `INVARIANTS.md` links to (`grep -n '^ *// SPEC-I4:'`
//! finds exactly the section's header):
//!
//! | anchor        | invariant | what it specifies |
//! |---------------|-----------|-------------------|
//! | `SPEC-MODEL`  | (all)     | the state, the clock, expiry |
//! | `SPEC-I1`     | I1        | `check`, the order of refusals, `revoke_token`: a revocation holds for every later check |
//! | `SPEC-I2`     | I2        | `guard` admission and drop; which guards a barrier waits for |
//! | `SPEC-I3`     | I3        | live roles: `set_role`, role refusals, a downgrade's barrier |
//! | `SPEC-I4`     | I4        | `revoke_subject`: every call returns a new, distinct version |
//! | `SPEC-I5`     | I5        | `sweep`: removes only what no check needs any more |
//! | `SPEC-I6`     | I6        | refresh families: rotation, one-time use, reuse detection |
//! | `SPEC-I7`     | I7        | barriers: guards admitted after a revocation never delay it |
//! | `SPEC-I8`     | I8        | not-before cutoffs: global and per subject, never lowered |
//!
//! # Assumptions
//!
//! * Times are whole seconds in `1..=u32::MAX` (the core stores subject
//!   cutoffs in 32 bits, saturating; the tests stay far inside that range).
//! * Token ids and subjects are compared as strings; the core compares keyed
//!   64- and 128-bit digests, whose collisions the tests do not try to hit.
//! * Family ids are fresh: [`Spec::issue_family`] hands out 1, 2, 3, ... like
//!   the core does sequentially; [`Spec::issue_family_as`] accepts any id never
//!   handed out before (concurrent calls may return ids out of order).

use authstate::{
    Authorization, FamilyId, RefreshFacts, RefreshGrant, Rejection, Roles, StateError, TokenFacts,
    UnixTime, Version,
};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------
// SPEC-MODEL: the state, the clock, expiry
// ---------------------------------------------------------------------------

/// How a [`Spec`] is configured: the same knobs as `AuthStateBuilder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecConfig {
    /// The clock's reading at the start.
    pub start: UnixTime,
    /// Tolerance for `exp`, in seconds (`AuthStateBuilder::leeway`).
    pub leeway_secs: i64,
    /// Refresh overlap window in seconds, `None` for off (the default of
    /// `AuthStateBuilder::refresh_overlap`).
    pub refresh_overlap_secs: Option<i64>,
}

/// What the spec knows about one subject. A subject never written to has
/// the default: version 0, no roles, no cutoff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubjectState {
    /// Bumped by every `revoke_subject`.
    pub version: Version,
    /// The live roles: the only roles any decision uses.
    pub roles: Roles,
    /// Not-before cutoff for this subject's tokens without `ver`.
    pub cutoff: Option<UnixTime>,
}

/// One refresh family.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FamilyState {
    /// The subject the family was issued to.
    pub owner: String,
    /// When the family (the login) began.
    pub issued_at: UnixTime,
    /// The generation that may be redeemed next.
    pub generation: u32,
    /// Revoked by logout or by reuse.
    pub revoked: bool,
    /// The latest expiry of any token of the family; the sweep removes the
    /// family once this has passed.
    pub expires_at: UnixTime,
    /// When the family last rotated (or was issued): start of the overlap window.
    pub rotated_at: UnixTime,
}

/// The identity of an admitted guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuardId(pub u64);

/// What a live guard was admitted under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GuardState {
    /// The token's subject.
    pub subject: String,
    /// The token's `jti`, if any.
    pub jti: Option<String>,
    /// The token's refresh family, if any.
    pub family: Option<FamilyId>,
    /// The token's `iat`.
    pub issued_at: UnixTime,
    /// When the token's family began, if it names one.
    pub family_issued_at: Option<UnixTime>,
    /// Whether the token carries `ver`.
    pub has_version: bool,
    /// The roles the admission relied on: required plus claimed.
    pub authority: Roles,
}

/// The authority a revocation withdraws: which guards its barrier waits for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Withdrawn {
    /// Nothing (a role upgrade).
    Nothing,
    /// Guards of tokens with this `jti`, whatever their subject.
    Token(String),
    /// Every guard of the subject.
    Subject(String),
    /// Guards of the subject that rely on a role outside the new live roles.
    SubjectRoles(String, Roles),
    /// Guards of the subject's tokens without `ver` issued at or before the cutoff.
    SubjectIssuedBefore(String, UnixTime),
    /// The subject's guards of tokens naming the family.
    Family(String, FamilyId),
    /// Guards of any token issued, or of any family begun, at or before the
    /// cutoff.
    IssuedBefore(UnixTime),
}

/// A revocation's barrier: the live guards it waits for, captured at the
/// revocation (I2, I7).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Barrier {
    /// What was withdrawn.
    pub withdrawn: Withdrawn,
    /// The guards that were live and admitted under it at the revocation.
    pub waits_for: BTreeSet<GuardId>,
}

/// A revocation's outcome: its value and its barrier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Revoked<T> {
    /// The result (for example the new version).
    pub value: T,
    /// The barrier.
    pub barrier: Barrier,
}

/// Why a refresh token was not redeemed (`authstate::RedeemError`, with the
/// barrier of a reuse as a [`Barrier`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SpecRedeemError {
    /// Reuse: the family is now revoked; the barrier waits for its guards.
    Reused(Barrier),
    /// The family was already revoked.
    FamilyRevoked,
    /// The presented refresh token has expired.
    Expired,
    /// No such family for this subject (never issued to it, or swept).
    UnknownFamily,
}

/// What a sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Denylist entries removed.
    pub removed: usize,
    /// Refresh families removed.
    pub families_removed: usize,
}

/// The sequential specification: the whole observable state of an
/// `AuthState`, and every operation as a step on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spec {
    now: UnixTime,
    leeway: i64,
    refresh_overlap: Option<i64>,
    /// `jti` -> the latest `exp` it was revoked with.
    denylist: BTreeMap<String, UnixTime>,
    subjects: BTreeMap<String, SubjectState>,
    global_cutoff: Option<UnixTime>,
    families: BTreeMap<FamilyId, FamilyState>,
    /// Every family id ever handed out (ids are never reused, even after a sweep).
    issued: BTreeSet<FamilyId>,
    next_family: u64,
    guards: BTreeMap<GuardId, GuardState>,
    next_guard: u64,
}

impl Spec {
    /// An empty state: no revocations, no roles, no families, no guards.
    pub fn new(config: SpecConfig) -> Self {
        Self {
            now: config.start,
            leeway: config.leeway_secs,
            refresh_overlap: config.refresh_overlap_secs,
            denylist: BTreeMap::new(),
            subjects: BTreeMap::new(),
            global_cutoff: None,
            families: BTreeMap::new(),
            issued: BTreeSet::new(),
            next_family: 1,
            guards: BTreeMap::new(),
            next_guard: 0,
        }
    }

    /// The clock's reading.
    pub fn now(&self) -> UnixTime {
        self.now
    }

    /// Moves the clock forward (`ManualClock::advance_secs`); it never goes back.
    pub fn advance(&mut self, secs: i64) {
        self.now = self.now.saturating_add_secs(secs.max(0));
    }

    /// Expiry, for access and refresh tokens, denylist entries and families
    /// alike: `now >= exp + leeway`.
    pub fn is_expired(&self, expires_at: UnixTime) -> bool {
        self.now >= expires_at.saturating_add_secs(self.leeway)
    }

    fn subject(&self, subject: &str) -> SubjectState {
        self.subjects.get(subject).copied().unwrap_or_default()
    }

    /// The record of `subject`, created on first write (which is what
    /// [`Spec::subject_count`] counts).
    fn subject_mut(&mut self, subject: &str) -> &mut SubjectState {
        self.subjects.entry(subject.to_owned()).or_default()
    }

    /// How many subjects have been written to (`set_role`, `revoke_subject`,
    /// `revoke_subject_issued_before`); reads never create one.
    pub fn subject_count(&self) -> usize {
        self.subjects.len()
    }

    // -----------------------------------------------------------------------
    // SPEC-I1: check, the order of refusals, revoke_token
    //
    // A revocation changes the state in its one step, so every check after
    // it (in the sequence) sees it. The refusals are tried in this order and
    // the first that applies is the answer: revoked, expired, family, global
    // cutoff, version (tokens with `ver`) or subject cutoff (tokens without),
    // roles claimed but not live.
    // -----------------------------------------------------------------------

    /// Whether `jti` is on the denylist.
    pub fn is_denylisted(&self, jti: Option<&str>) -> bool {
        jti.is_some_and(|jti| self.denylist.contains_key(jti))
    }

    /// How many `jti`s are on the denylist.
    pub fn denylist_len(&self) -> usize {
        self.denylist.len()
    }

    /// Point-of-use validation: [`Spec::decide`] with the denylist's answer.
    pub fn check(&self, facts: &TokenFacts<'_>) -> Result<Authorization, Rejection> {
        self.decide(facts, self.is_denylisted(facts.jti))
    }

    /// The decision, given whether the token's `jti` is denylisted: the
    /// refusals in the order above, then the live state it was decided on.
    pub fn decide(
        &self,
        facts: &TokenFacts<'_>,
        denylisted: bool,
    ) -> Result<Authorization, Rejection> {
        if denylisted {
            return Err(Rejection::Revoked);
        }
        if self.is_expired(facts.expires_at) {
            return Err(Rejection::Expired);
        }
        if let Some(id) = facts.family {
            // A family is usable only while it exists, belongs to the token's
            // subject, is not revoked, and began after the global cutoff.
            let cutoff = self.global_cutoff;
            let live = self.families.get(&id).is_some_and(|f| {
                f.owner == facts.subject && !f.revoked && cutoff.is_none_or(|c| f.issued_at > c)
            });
            if !live {
                return Err(Rejection::FamilyRevoked);
            }
        }
        // I8: cutoffs refuse `iat <= cutoff`.
        if self.global_cutoff.is_some_and(|c| facts.issued_at <= c) {
            return Err(Rejection::IssuedBeforeCutoff);
        }
        let record = self.subject(facts.subject);
        match facts.version {
            // Tokens with `ver` live exactly as long as the subject's version.
            Some(token) if token != record.version => {
                return Err(Rejection::StaleVersion {
                    token,
                    current: record.version,
                });
            }
            Some(_) => {}
            // Tokens without `ver` are governed by the subject's cutoff.
            None if record.cutoff.is_some_and(|c| facts.issued_at <= c) => {
                return Err(Rejection::IssuedBeforeCutoff);
            }
            None => {}
        }
        // I3: claimed roles must all be live.
        let missing = facts.roles.difference(record.roles);
        if !missing.is_empty() {
            return Err(Rejection::RoleNoLongerHeld { missing });
        }
        Ok(Authorization {
            subject_version: record.version,
            live_roles: record.roles,
        })
    }

    /// Denylists `jti` until `expires_at`. Revoking again keeps the later of
    /// the two expiries: a revocation is never shortened.
    pub fn revoke_token(&mut self, jti: &str, expires_at: UnixTime) -> Revoked<()> {
        let exp = self.denylist.entry(jti.to_owned()).or_insert(expires_at);
        *exp = (*exp).max(expires_at);
        self.revoked((), Withdrawn::Token(jti.to_owned()))
    }

    // -----------------------------------------------------------------------
    // SPEC-I2: guards
    //
    // `guard` admits an action iff `check` accepts the token and every
    // required role is live; the admitted guard stays live until dropped. A
    // revocation's barrier passes once every guard that was live at the
    // revocation and is covered by the withdrawn authority has been dropped.
    // -----------------------------------------------------------------------

    /// Admits one action under a fresh [`GuardId`].
    pub fn guard(&mut self, facts: &TokenFacts<'_>, required: Roles) -> Result<GuardId, Rejection> {
        let id = GuardId(self.next_guard);
        self.next_guard += 1;
        self.guard_as(id, facts, required)
    }

    /// Admits one action under the caller's `id` (which must not be live):
    /// the linearizability checker names guards by the operation that made
    /// them, so that every order it tries agrees on the names.
    pub fn guard_as(
        &mut self,
        id: GuardId,
        facts: &TokenFacts<'_>,
        required: Roles,
    ) -> Result<GuardId, Rejection> {
        let authorization = self.check(facts)?;
        // I3: the required roles are judged against the live roles.
        let missing = required.difference(authorization.live_roles);
        if !missing.is_empty() {
            return Err(Rejection::InsufficientRole { missing });
        }
        self.guards.insert(
            id,
            GuardState {
                subject: facts.subject.to_owned(),
                jti: facts.jti.map(str::to_owned),
                family: facts.family,
                issued_at: facts.issued_at,
                family_issued_at: facts
                    .family
                    .and_then(|f| self.families.get(&f))
                    .map(|f| f.issued_at),
                has_version: facts.version.is_some(),
                authority: required.union(facts.roles),
            },
        );
        Ok(id)
    }

    /// Drops a guard; returns whether it was live.
    pub fn drop_guard(&mut self, id: GuardId) -> bool {
        self.guards.remove(&id).is_some()
    }

    /// How many guards are live.
    pub fn live_guard_count(&self) -> usize {
        self.guards.len()
    }

    /// Whether `withdrawn` covers a guard.
    pub fn covers(&self, withdrawn: &Withdrawn, guard: &GuardState) -> bool {
        match withdrawn {
            Withdrawn::Nothing => false,
            Withdrawn::Token(jti) => guard.jti.as_deref() == Some(jti),
            Withdrawn::Subject(subject) => guard.subject == *subject,
            Withdrawn::SubjectRoles(subject, roles) => {
                guard.subject == *subject && !guard.authority.is_subset(*roles)
            }
            Withdrawn::SubjectIssuedBefore(subject, cutoff) => {
                guard.subject == *subject && !guard.has_version && guard.issued_at <= *cutoff
            }
            Withdrawn::Family(subject, family) => {
                guard.subject == *subject && guard.family == Some(*family)
            }
            // `revoke_all` also ends the families it predates (SPEC-I6).
            Withdrawn::IssuedBefore(cutoff) => {
                guard.issued_at <= *cutoff || guard.family_issued_at.is_some_and(|t| t <= *cutoff)
            }
        }
    }

    // -----------------------------------------------------------------------
    // SPEC-I7: barriers wait only for what was live at the revocation
    //
    // The set a barrier waits for is fixed when the revocation happens.
    // Guards admitted later are never in it, so a stream of new admissions
    // cannot keep a barrier from passing; once passed, it stays passed.
    // -----------------------------------------------------------------------

    fn revoked<T>(&self, value: T, withdrawn: Withdrawn) -> Revoked<T> {
        let waits_for = self
            .guards
            .iter()
            .filter(|(_, g)| self.covers(&withdrawn, g))
            .map(|(id, _)| *id)
            .collect();
        Revoked {
            value,
            barrier: Barrier {
                withdrawn,
                waits_for,
            },
        }
    }

    /// How many guards the barrier still waits for.
    pub fn live_guards(&self, barrier: &Barrier) -> usize {
        barrier
            .waits_for
            .iter()
            .filter(|id| self.guards.contains_key(id))
            .count()
    }

    /// Whether the barrier has passed (`Revocation::is_passed`).
    pub fn is_passed(&self, barrier: &Barrier) -> bool {
        self.live_guards(barrier) == 0
    }

    // -----------------------------------------------------------------------
    // SPEC-I3: live roles
    //
    // Roles written in a token never grant anything: `check` refuses a token
    // claiming a role that is not live, `guard` requires the action's roles
    // to be live. A downgrade's barrier waits for the subject's guards that
    // relied on a role outside the new set; an upgrade waits for nothing.
    // -----------------------------------------------------------------------

    /// Replaces the subject's live roles.
    pub fn set_role(&mut self, subject: &str, roles: Roles) -> Revoked<()> {
        let record = self.subject_mut(subject);
        let old = std::mem::replace(&mut record.roles, roles);
        let withdrawn = if old.is_subset(roles) {
            Withdrawn::Nothing
        } else {
            Withdrawn::SubjectRoles(subject.to_owned(), roles)
        };
        self.revoked((), withdrawn)
    }

    /// The subject's live roles (empty for an unknown subject).
    pub fn live_roles(&self, subject: &str) -> Roles {
        self.subject(subject).roles
    }

    // -----------------------------------------------------------------------
    // SPEC-I4: versions
    //
    // `revoke_subject` moves the version to the next value and returns it, so
    // `k` revocations of one subject return `k` distinct versions. It also
    // raises the subject's cutoff to now, for its tokens without `ver`, and
    // revokes every refresh family of the subject (log out everywhere includes
    // the refresh tokens). The version is never wrapped.
    // -----------------------------------------------------------------------

    /// Logs the subject out everywhere; returns the new version.
    pub fn revoke_subject(&mut self, subject: &str) -> Result<Revoked<Version>, StateError> {
        let now = self.now;
        let record = self.subject_mut(subject);
        let next = record
            .version
            .0
            .checked_add(1)
            .ok_or(StateError::VersionExhausted)?;
        record.version = Version(next);
        record.cutoff = Some(record.cutoff.map_or(now, |c| c.max(now)));
        for family in self.families.values_mut().filter(|f| f.owner == subject) {
            family.revoked = true;
        }
        Ok(self.revoked(Version(next), Withdrawn::Subject(subject.to_owned())))
    }

    /// The subject's current version (0 for an unknown subject).
    pub fn current_version(&self, subject: &str) -> Version {
        self.subject(subject).version
    }

    // -----------------------------------------------------------------------
    // SPEC-I8: not-before cutoffs
    //
    // A cutoff refuses tokens with `iat <= cutoff`. The global cutoff applies
    // to every token; a subject's cutoff only to its tokens without `ver`.
    // Both only ever rise: raising to a lower value changes nothing (but the
    // barrier still waits for the covered guards). The global cutoff also
    // ends the refresh families that began at or before it, when they are
    // next presented for redemption (see I6 below).
    // -----------------------------------------------------------------------

    /// Raises the global cutoff.
    pub fn revoke_issued_before(&mut self, cutoff: UnixTime) -> Revoked<()> {
        self.global_cutoff = Some(self.global_cutoff.map_or(cutoff, |c| c.max(cutoff)));
        self.revoked((), Withdrawn::IssuedBefore(cutoff))
    }

    /// Raises the global cutoff to now: every token issued so far is refused.
    pub fn revoke_all(&mut self) -> Revoked<()> {
        self.revoke_issued_before(self.now)
    }

    /// Raises the subject's cutoff for its tokens without `ver`.
    pub fn revoke_subject_issued_before(&mut self, subject: &str, cutoff: UnixTime) -> Revoked<()> {
        let record = self.subject_mut(subject);
        record.cutoff = Some(record.cutoff.map_or(cutoff, |c| c.max(cutoff)));
        self.revoked(
            (),
            Withdrawn::SubjectIssuedBefore(subject.to_owned(), cutoff),
        )
    }

    // -----------------------------------------------------------------------
    // SPEC-I6: refresh families
    //
    // A family's refresh tokens are redeemed one generation at a time.
    // Presenting the current generation rotates (the next one is issued);
    // presenting any other generation is reuse, which revokes the family, its
    // refresh tokens and the access tokens that name it. With an overlap
    // window, the immediately previous generation presented within the window
    // after the rotation gets the current generation again (the family's
    // expiry is extended to the re-issued token's). Refusals in order:
    // unknown family (or not the subject's), revoked, token expired.
    //
    // A family that began at or before the global cutoff (`revoke_all`) is
    // ended by the cutoff itself: its refresh tokens are refused and access
    // tokens naming it get `FamilyRevoked`. Logging the subject out
    // everywhere (`revoke_subject`) revokes all of the subject's families.
    // Revoking a family as a subject that does not own it changes nothing
    // and waits for nothing.
    // -----------------------------------------------------------------------

    /// Starts a family with the next sequential id.
    pub fn issue_family(&mut self, subject: &str, expires_at: UnixTime) -> RefreshGrant {
        let id = FamilyId(self.next_family);
        self.issue_family_as(subject, expires_at, id)
            .expect("the next sequential id is fresh")
    }

    /// Starts a family with the implementation's choice of `id`; `None` if
    /// that id was handed out before (ids are never reused).
    pub fn issue_family_as(
        &mut self,
        subject: &str,
        expires_at: UnixTime,
        id: FamilyId,
    ) -> Option<RefreshGrant> {
        if !self.issued.insert(id) {
            return None;
        }
        self.next_family = self.next_family.max(id.0.saturating_add(1));
        let family = FamilyState {
            owner: subject.to_owned(),
            issued_at: self.now,
            generation: 0,
            revoked: false,
            expires_at,
            rotated_at: self.now,
        };
        self.families.insert(id, family);
        Some(RefreshGrant {
            family: id,
            generation: 0,
        })
    }

    /// Keeps the family's record (and so its revocation) until an access
    /// token of it expiring at `expires_at` has expired. Only the owner can.
    pub fn extend_family(&mut self, subject: &str, family: FamilyId, expires_at: UnixTime) {
        if let Some(f) = self
            .families
            .get_mut(&family)
            .filter(|f| f.owner == subject)
        {
            f.expires_at = f.expires_at.max(expires_at);
        }
    }

    /// Redeems a refresh token.
    pub fn redeem(
        &mut self,
        facts: &RefreshFacts<'_>,
        successor_expires_at: UnixTime,
    ) -> Result<RefreshGrant, SpecRedeemError> {
        let (now, leeway, overlap) = (self.now, self.leeway, self.refresh_overlap);
        let cutoff = self.global_cutoff;
        let family = self
            .families
            .get_mut(&facts.family)
            .filter(|f| f.owner == facts.subject)
            .ok_or(SpecRedeemError::UnknownFamily)?;
        if cutoff.is_some_and(|c| family.issued_at <= c) {
            family.revoked = true;
        }
        if family.revoked {
            return Err(SpecRedeemError::FamilyRevoked);
        }
        if now >= facts.expires_at.saturating_add_secs(leeway) {
            return Err(SpecRedeemError::Expired);
        }
        let grant = |generation| RefreshGrant {
            family: facts.family,
            generation,
        };
        if facts.generation == family.generation {
            let Some(next) = family.generation.checked_add(1) else {
                // Never wrapped back to a redeemed generation: the family ends.
                family.revoked = true;
                return Err(SpecRedeemError::FamilyRevoked);
            };
            family.generation = next;
            family.rotated_at = now;
            family.expires_at = family.expires_at.max(successor_expires_at);
            return Ok(grant(next));
        }
        let previous = facts.generation.checked_add(1) == Some(family.generation);
        let in_window = overlap.is_some_and(|w| now < family.rotated_at.saturating_add_secs(w));
        if previous && in_window {
            family.expires_at = family.expires_at.max(successor_expires_at);
            return Ok(grant(family.generation));
        }
        family.revoked = true;
        Err(SpecRedeemError::Reused(
            self.revoked(
                (),
                Withdrawn::Family(facts.subject.to_owned(), facts.family),
            )
            .barrier,
        ))
    }

    /// Revokes the subject's family (logout); a family that is not the
    /// subject's is left alone. The barrier waits for the subject's guards
    /// under the family either way: guards of a family that was swept
    /// meanwhile still act under it, and a subject has no guards under
    /// another subject's family.
    pub fn revoke_family(&mut self, subject: &str, family: FamilyId) -> Revoked<()> {
        if let Some(f) = self
            .families
            .get_mut(&family)
            .filter(|f| f.owner == subject)
        {
            f.revoked = true;
            self.revoked((), Withdrawn::Family(subject.to_owned(), family))
        } else {
            self.revoked((), Withdrawn::Nothing)
        }
    }

    /// The current generation of a family, if it exists (for test drivers
    /// that want to present a current or a stale refresh token).
    pub fn family(&self, family: FamilyId) -> Option<&FamilyState> {
        self.families.get(&family)
    }

    // -----------------------------------------------------------------------
    // SPEC-I5: the sweep
    //
    // The sweep removes denylist entries and families that have expired at
    // the sweep's reading of the clock, and nothing else. No check changes
    // from refused to accepted because of it: a removed entry's token (if
    // revoked with its own `exp` or later) is already refused as expired.
    // Only the reason may change, from `Revoked` to `Expired`. A swept
    // family is unknown from then on: `redeem` says so, and an access token
    // naming it is refused (`FamilyRevoked`), which is why the issuer
    // registers every access token's `exp` with `extend_family`.
    // -----------------------------------------------------------------------

    /// Removes what has expired.
    pub fn sweep(&mut self) -> Swept {
        let (now, leeway) = (self.now, self.leeway);
        let expired = |exp: UnixTime| now >= exp.saturating_add_secs(leeway);
        let (deny_before, families_before) = (self.denylist.len(), self.families.len());
        self.denylist.retain(|_, exp| !expired(*exp));
        self.families.retain(|_, f| !expired(f.expires_at));
        Swept {
            removed: deny_before - self.denylist.len(),
            families_removed: families_before - self.families.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authstate::Role;

    fn spec() -> Spec {
        Spec::new(SpecConfig {
            start: UnixTime::from_secs(1_000),
            leeway_secs: 0,
            refresh_overlap_secs: None,
        })
    }

    fn token<'a>(subject: &'a str, jti: &'a str, version: Option<Version>) -> TokenFacts<'a> {
        TokenFacts {
            subject,
            jti: Some(jti),
            issued_at: UnixTime::from_secs(990),
            expires_at: UnixTime::from_secs(1_010),
            version,
            family: None,
            roles: Roles::EMPTY,
        }
    }

    #[test]
    fn barrier_waits_only_for_covered_guards_live_at_the_revocation() {
        let mut s = spec();
        let a = s
            .guard(&token("alice", "a1", Some(Version(0))), Roles::EMPTY)
            .unwrap();
        let b = s
            .guard(&token("bob", "b1", Some(Version(0))), Roles::EMPTY)
            .unwrap();
        let r = s.revoke_subject("alice").unwrap();
        assert_eq!(r.value, Version(1));
        assert_eq!(r.barrier.waits_for, BTreeSet::from([a]));
        assert!(!s.is_passed(&r.barrier));
        // A guard admitted later (new version) is not waited for (I7).
        let _c = s
            .guard(&token("alice", "a2", Some(Version(1))), Roles::EMPTY)
            .unwrap();
        s.drop_guard(b);
        assert!(!s.is_passed(&r.barrier));
        s.drop_guard(a);
        assert!(s.is_passed(&r.barrier));
    }

    #[test]
    fn refusal_order_and_roles() {
        let mut s = spec();
        let admin = Roles::from(Role::new(0).unwrap());
        let _ = s.set_role("alice", admin);
        let mut t = token("alice", "a1", Some(Version(0)));
        t.roles = admin;
        assert!(s.check(&t).is_ok());
        assert_eq!(
            s.guard(&t, Roles::from(Role::new(1).unwrap())),
            Err(Rejection::InsufficientRole {
                missing: Roles::from(Role::new(1).unwrap())
            })
        );
        let _ = s.set_role("alice", Roles::EMPTY);
        assert_eq!(
            s.check(&t),
            Err(Rejection::RoleNoLongerHeld { missing: admin })
        );
        let _ = s.revoke_subject("alice");
        assert!(matches!(s.check(&t), Err(Rejection::StaleVersion { .. })));
        let _ = s.revoke_all();
        assert_eq!(s.check(&t), Err(Rejection::IssuedBeforeCutoff));
        s.advance(10);
        assert_eq!(s.check(&t), Err(Rejection::Expired));
        let _ = s.revoke_token("a1", t.expires_at);
        assert_eq!(s.check(&t), Err(Rejection::Revoked));
        // The sweep removes the entry; the token stays refused, as expired.
        assert_eq!(s.sweep().removed, 1);
        assert_eq!(s.check(&t), Err(Rejection::Expired));
    }

    #[test]
    fn refresh_rotation_and_reuse() {
        let mut s = spec();
        let exp = UnixTime::from_secs(2_000);
        let grant = s.issue_family("alice", exp);
        assert_eq!(grant.family, FamilyId(1));
        let presented = |generation| RefreshFacts {
            subject: "alice",
            family: grant.family,
            generation,
            expires_at: exp,
        };
        assert_eq!(s.redeem(&presented(0), exp).unwrap().generation, 1);
        assert!(matches!(
            s.redeem(&presented(0), exp),
            Err(SpecRedeemError::Reused(_))
        ));
        assert_eq!(
            s.redeem(&presented(1), exp),
            Err(SpecRedeemError::FamilyRevoked)
        );
        let other = RefreshFacts {
            subject: "bob",
            ..presented(1)
        };
        assert_eq!(s.redeem(&other, exp), Err(SpecRedeemError::UnknownFamily));
        assert_eq!(s.issue_family_as("bob", exp, FamilyId(1)), None);
    }
}
