//! The state transitions, in one place and free of locks.
//!
//! Every decision and every change the state makes is a function here over
//! plain values: [`SubjectRecord`], [`FamilyRecord`] and [`evaluate`]. The
//! in-memory [`crate::AuthState`] calls them under its shard locks; a durable
//! or shared store (a database row, a Redis hash updated in a script) can call
//! the same functions inside its own transaction and keep the same semantics.
//!
//! Nothing here reads a clock or takes a lock: callers pass `now`, which is how
//! the order of the clock read against the denylist lookup (I5) stays a
//! property of the caller that the model checkers can see.

use crate::clock::UnixTime;
use crate::error::{Rejection, StateError};
use crate::facts::{Authorization, Roles, TokenFacts, Version};

/// Whether a token with expiry `expires_at` has expired at `now`, with
/// `leeway` seconds of tolerance. RFC 7519 requires the current time to be
/// before `exp`; the denylist sweep uses the same predicate, so it never
/// removes an entry that a check would still need (I5).
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::UnixTime;
/// use authstate::transitions::is_expired;
/// let exp = UnixTime::from_secs(100);
/// assert!(!is_expired(exp, UnixTime::from_secs(99), 0));
/// assert!(is_expired(exp, UnixTime::from_secs(100), 0));
/// assert!(!is_expired(exp, UnixTime::from_secs(104), 5));
/// # });
/// ```
pub fn is_expired(expires_at: UnixTime, now: UnixTime, leeway: i64) -> bool {
    now >= expires_at.saturating_add_secs(leeway)
}

/// Whether a token issued at `issued_at` falls under the not-before `cutoff`.
/// A token issued in the cutoff's own second is refused: seconds cannot tell
/// it from one issued just before the revocation, and refusing is the safe
/// side. A client that logs in again in that second retries a second later.
pub fn is_before_cutoff(issued_at: UnixTime, cutoff: UnixTime) -> bool {
    issued_at <= cutoff
}

/// A subject's record: 12 bytes, so that with its 16-byte key it stays within
/// the 64-byte-per-subject budget at one million subjects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SubjectRecord {
    version: u32,
    roles: Roles,
    /// Not-before cutoff for tokens without `ver`, in seconds since the epoch.
    /// Stored in 32 bits (until 2106); values beyond saturate upwards, which
    /// only refuses more.
    cutoff: u32,
}

impl SubjectRecord {
    /// A record with the given live roles, version 0 and no cutoff.
    pub fn with_roles(roles: Roles) -> Self {
        Self {
            roles,
            ..Self::default()
        }
    }

    /// The current version.
    pub fn version(&self) -> Version {
        Version(self.version)
    }

    /// The live roles.
    pub fn roles(&self) -> Roles {
        self.roles
    }

    /// The subject's not-before cutoff for tokens without `ver`, if one was
    /// ever set.
    pub fn cutoff(&self) -> Option<UnixTime> {
        match self.cutoff {
            0 => None,
            // Saturated: the cutoff asked for was at or beyond `u32::MAX`
            // seconds and is not known exactly, so every `iat` is refused.
            u32::MAX => Some(UnixTime::from_secs(i64::MAX)),
            secs => Some(UnixTime::from_secs(i64::from(secs))),
        }
    }

    /// Log out everywhere (I4): the version moves to the next value, which is
    /// returned, and the cutoff rises to `now` for tokens without `ver`. The
    /// caller makes the read and the write one atomic step.
    pub fn revoke(&mut self, now: UnixTime) -> Result<Version, StateError> {
        self.version = self
            .version
            .checked_add(1)
            .ok_or(StateError::VersionExhausted)?;
        self.raise_cutoff(now);
        Ok(Version(self.version))
    }

    /// Sets the version outright. Only for stores that replay a log and for
    /// the fault switches; normal revocation goes through [`SubjectRecord::revoke`].
    pub fn set_version(&mut self, version: Version) {
        self.version = version.0;
    }

    /// Raises the cutoff to `cutoff`; never lowers it (I8).
    pub fn raise_cutoff(&mut self, cutoff: UnixTime) {
        self.cutoff = self.cutoff.max(saturate_u32(cutoff));
    }

    /// Sets the cutoff outright, lowering it if asked. Only the fault switches
    /// use it.
    pub fn set_cutoff(&mut self, cutoff: UnixTime) {
        self.cutoff = saturate_u32(cutoff);
    }

    /// Replaces the live roles and returns the previous ones.
    pub fn set_roles(&mut self, roles: Roles) -> Roles {
        std::mem::replace(&mut self.roles, roles)
    }
}

/// The stored form of a cutoff: 0 means "none", so a cutoff at or before the
/// epoch is stored as 1, and one beyond `u32::MAX` as `u32::MAX` ("refuse
/// every `iat`"). Both refuse more than asked, never less.
fn saturate_u32(t: UnixTime) -> u32 {
    u32::try_from(t.as_secs().max(1)).unwrap_or(u32::MAX)
}

/// The subject cutoff that asking for `cutoff` actually sets: `cutoff`
/// itself in the range a record stores, rounded upwards outside it (see
/// [`SubjectRecord::raise_cutoff`]).
pub fn stored_subject_cutoff(cutoff: UnixTime) -> UnixTime {
    match saturate_u32(cutoff) {
        u32::MAX => UnixTime::from_secs(i64::MAX),
        secs => UnixTime::from_secs(i64::from(secs)),
    }
}

/// One refresh-token family: the generation that may be redeemed next, and
/// whether the family is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FamilyRecord {
    issued_at: UnixTime,
    generation: u32,
    revoked: bool,
    expires_at: UnixTime,
    rotated_at: UnixTime,
}

/// What one redemption did to a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedeemStep {
    /// The presented token was the current one: the family moved on and the
    /// new generation is to be issued.
    Rotated(u32),
    /// The presented token was the immediately previous one and came within
    /// the overlap window: the current generation is issued again, the family
    /// does not move.
    Replayed(u32),
    /// The presented token had already been redeemed: the family is now
    /// revoked.
    Reuse,
    /// The family was already revoked.
    AlreadyRevoked,
    /// The presented refresh token has expired; nothing changed.
    Expired,
}

impl FamilyRecord {
    /// A new family whose first token (generation 0) expires at `expires_at`.
    pub fn new(expires_at: UnixTime, now: UnixTime) -> Self {
        Self {
            issued_at: now,
            generation: 0,
            revoked: false,
            expires_at,
            rotated_at: now,
        }
    }

    /// When the family (the login) began.
    pub fn issued_at(&self) -> UnixTime {
        self.issued_at
    }

    /// Whether the family's tokens are still honoured: not revoked, and begun
    /// after the global not-before `cutoff`.
    pub fn is_live(&self, cutoff: Option<UnixTime>) -> bool {
        !self.revoked && !cutoff.is_some_and(|c| is_before_cutoff(self.issued_at, c))
    }

    /// Revokes the family if it began at or before the not-before `cutoff`
    /// (`revoke_all`): a refresh token must not outlive the access tokens of
    /// its login. Returns whether the family is now revoked.
    pub fn apply_cutoff(&mut self, cutoff: Option<UnixTime>) -> bool {
        if cutoff.is_some_and(|c| is_before_cutoff(self.issued_at, c)) {
            self.revoked = true;
        }
        self.revoked
    }

    /// The generation that may be redeemed next.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether the family is revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked
    }

    /// The latest expiry of any token issued in the family.
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// Revokes the family.
    pub fn revoke(&mut self) {
        self.revoked = true;
    }

    /// Redeems the token of generation `presented` (I6). The caller makes
    /// this one atomic step: deciding on a snapshot and writing later is the
    /// check-then-mark race that lets two redemptions win.
    pub fn redeem(
        &mut self,
        presented: u32,
        token_expires_at: UnixTime,
        successor_expires_at: UnixTime,
        now: UnixTime,
        leeway: i64,
        overlap: Option<i64>,
    ) -> RedeemStep {
        if self.revoked {
            return RedeemStep::AlreadyRevoked;
        }
        if is_expired(token_expires_at, now, leeway) {
            return RedeemStep::Expired;
        }
        if presented == self.generation {
            let Some(next) = self.generation.checked_add(1) else {
                // A family that has rotated four billion times is ended
                // rather than wrapped back to a redeemed generation.
                self.revoked = true;
                return RedeemStep::AlreadyRevoked;
            };
            self.generation = next;
            self.rotated_at = now;
            self.expires_at = self.expires_at.max(successor_expires_at);
            return RedeemStep::Rotated(next);
        }
        let within_overlap =
            overlap.is_some_and(|window| now < self.rotated_at.saturating_add_secs(window));
        if presented.checked_add(1) == Some(self.generation) && within_overlap {
            // The current generation is issued again, with its own `exp`.
            self.expires_at = self.expires_at.max(successor_expires_at);
            return RedeemStep::Replayed(self.generation);
        }
        self.revoked = true;
        RedeemStep::Reuse
    }

    /// Records that an access token of the family was issued, to keep the
    /// record until that token expires too.
    pub fn extend(&mut self, expires_at: UnixTime) {
        self.expires_at = self.expires_at.max(expires_at);
    }
}

/// What [`evaluate`] needs to know about the subject's family, if the token
/// names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyView {
    /// The token names no family.
    NotClaimed,
    /// The family exists and is live.
    Live,
    /// The family is revoked, or unknown to the state.
    RevokedOrUnknown,
}

/// Where role decisions take their roles from. Only the fault switches ever
/// use [`RoleSource::Token`]: it is the classic bug of trusting the role
/// written in the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleSource {
    /// The subject's live roles (correct).
    Live,
    /// The roles the token claims (the bug).
    Token,
}

/// The point-of-use decision, given what the caller read:
/// `denylisted` (looked up before `now` was read, I5), the subject's record,
/// the family, the global cutoff (`None` before any `revoke_all`) and `now`.
///
/// Order of refusals: revoked, expired, family, version or cutoff, roles.
#[allow(clippy::too_many_arguments)] // each argument is one fact the caller read
pub fn evaluate(
    facts: &TokenFacts<'_>,
    denylisted: bool,
    record: SubjectRecord,
    family: FamilyView,
    global_cutoff: Option<UnixTime>,
    now: UnixTime,
    leeway: i64,
    roles_from: RoleSource,
) -> Result<Authorization, Rejection> {
    if denylisted {
        return Err(Rejection::Revoked);
    }
    if is_expired(facts.expires_at, now, leeway) {
        return Err(Rejection::Expired);
    }
    if family == FamilyView::RevokedOrUnknown {
        return Err(Rejection::FamilyRevoked);
    }
    if global_cutoff.is_some_and(|cutoff| is_before_cutoff(facts.issued_at, cutoff)) {
        return Err(Rejection::IssuedBeforeCutoff);
    }
    match facts.version {
        Some(token) if token != record.version() => {
            return Err(Rejection::StaleVersion {
                token,
                current: record.version(),
            });
        }
        Some(_) => {}
        None => {
            if record
                .cutoff()
                .is_some_and(|cutoff| is_before_cutoff(facts.issued_at, cutoff))
            {
                return Err(Rejection::IssuedBeforeCutoff);
            }
        }
    }
    let live_roles = match roles_from {
        RoleSource::Live => record.roles(),
        RoleSource::Token => facts.roles,
    };
    let missing = facts.roles.difference(live_roles);
    if !missing.is_empty() {
        return Err(Rejection::RoleNoLongerHeld { missing });
    }
    Ok(Authorization {
        subject_version: record.version(),
        live_roles,
    })
}

/// The guard's extra condition over [`evaluate`]: the action's `required`
/// roles must all be live.
pub fn require(authorization: &Authorization, required: Roles) -> Result<(), Rejection> {
    let missing = required.difference(authorization.live_roles);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Rejection::InsufficientRole { missing })
    }
}
