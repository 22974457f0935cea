//! Typed outcomes of the state's operations.

use crate::barrier::Revocation;
use crate::facts::{Roles, Version};
use std::fmt;

/// Why a token was refused at the point of use.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::Rejection;
/// assert_eq!(Rejection::Revoked.to_string(), "token revoked");
/// assert!(!Rejection::Revoked.is_insufficient_role());
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The token's `jti` is on the denylist.
    Revoked,
    /// The token's `ver` is not the subject's current version.
    StaleVersion {
        /// The version the token carries.
        token: Version,
        /// The subject's current version.
        current: Version,
    },
    /// The token was issued at or before a not-before cutoff.
    IssuedBeforeCutoff,
    /// The token's `exp` (plus leeway) has passed.
    Expired,
    /// The token claims roles the subject no longer holds.
    RoleNoLongerHeld {
        /// The claimed roles that are no longer held.
        missing: Roles,
    },
    /// The subject's live roles lack a role the action requires.
    InsufficientRole {
        /// The required roles that are not held.
        missing: Roles,
    },
    /// The token's refresh family has been revoked (logout or reuse), or is
    /// unknown to this state.
    FamilyRevoked,
}

impl Rejection {
    /// Whether the token is valid but lacks a required role (HTTP 403 with
    /// `insufficient_scope`), as opposed to being invalid (HTTP 401 with
    /// `invalid_token`).
    pub fn is_insufficient_role(self) -> bool {
        matches!(self, Rejection::InsufficientRole { .. })
    }

    /// A short, stable name for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Revoked => "revoked",
            Rejection::StaleVersion { .. } => "stale_version",
            Rejection::IssuedBeforeCutoff => "issued_before_cutoff",
            Rejection::Expired => "expired",
            Rejection::RoleNoLongerHeld { .. } => "role_no_longer_held",
            Rejection::InsufficientRole { .. } => "insufficient_role",
            Rejection::FamilyRevoked => "family_revoked",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::Revoked => "token revoked",
            Rejection::StaleVersion { .. } => "token version is stale",
            Rejection::IssuedBeforeCutoff => "token issued before a revocation cutoff",
            Rejection::Expired => "token expired",
            Rejection::RoleNoLongerHeld { .. } => "token claims a role no longer held",
            Rejection::InsufficientRole { .. } => "a required role is not held",
            Rejection::FamilyRevoked => "token family revoked",
        })
    }
}

impl std::error::Error for Rejection {}

/// Why a refresh token could not be redeemed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RedeemError {
    /// The token had already been redeemed: reuse. The whole family is now
    /// revoked; the handle completes once guards under it are released.
    Reused(Revocation),
    /// The family was revoked earlier (logout, or an earlier reuse).
    FamilyRevoked,
    /// The refresh token has expired.
    Expired,
    /// No such family for this subject (never issued here, or swept after
    /// expiry).
    UnknownFamily,
}

impl RedeemError {
    /// A short, stable name for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            RedeemError::Reused(_) => "refresh_reuse",
            RedeemError::FamilyRevoked => "family_revoked",
            RedeemError::Expired => "expired",
            RedeemError::UnknownFamily => "unknown_family",
        }
    }
}

impl fmt::Display for RedeemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RedeemError::Reused(_) => "refresh token reused; family revoked",
            RedeemError::FamilyRevoked => "refresh family revoked",
            RedeemError::Expired => "refresh token expired",
            RedeemError::UnknownFamily => "unknown refresh family",
        })
    }
}

impl std::error::Error for RedeemError {}

/// A state change that cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// The subject's version counter is at its maximum; it is never wrapped,
    /// since wrapping would revive old tokens.
    VersionExhausted,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::VersionExhausted => f.write_str("subject version exhausted"),
        }
    }
}

impl std::error::Error for StateError {}

/// A timed wait on a revocation's barrier ran out while guards admitted under
/// the old authority were still live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierTimeout {
    /// How many such guards were still live when the wait gave up.
    pub live_guards: usize,
}

impl fmt::Display for BarrierTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "revocation barrier still waiting for {} guard(s)",
            self.live_guards
        )
    }
}

impl std::error::Error for BarrierTimeout {}
