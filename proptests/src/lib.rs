//! Property tests for `authstate`: an executable sequential specification,
//! state-machine tests against it, and a linearizability checker for
//! concurrent histories.
//!
//! * [`spec`]: the specification, one plain single-threaded step per
//!   operation. Read it to learn the semantics; its sections carry the
//!   anchors (`SPEC-I1` ... `SPEC-I8`) that `INVARIANTS.md` links to.
//! * [`state_machine`]: random operation sequences run on a real
//!   [`authstate::AuthState`] and on the spec, every result compared
//!   (`tests/state_machine.rs`).
//! * [`linearizability`]: concurrent histories recorded from OS threads and
//!   from tokio tasks, checked with a Wing-Gong style search against the spec
//!   (`tests/linearizability.rs`).
//!
//! Both checkers can also be run programmatically with one of the core's
//! fault switches on ([`authstate::Fault`]); the teeth tests assert that they
//! then fail.

pub mod linearizability;
pub mod spec;
pub mod state_machine;

/// Whether the core was built for a model checker (cargo feature unification
/// with `--features loom` or `shuttle`): its primitives then only work inside
/// that checker's model, so ordinary tests must not touch an `AuthState`.
/// Prints why the named test is skipped and returns `true` in that case.
pub fn skip_under_model_checker(test: &str) -> bool {
    match authstate::sync::MODEL_CHECKER {
        Some(checker) => {
            eprintln!("{test}: skipped, authstate is built for the {checker} model checker");
            true
        }
        None => false,
    }
}

/// A count from the environment variable `var`, or `default` if it is unset
/// or not a number.
pub fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

use authstate::{FamilyId, RedeemError, Roles, TokenFacts, UnixTime, Version};

/// An access token's facts, owned: what the test drivers mint, keep, and
/// present to both the real state and the spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    /// `sub`.
    pub subject: String,
    /// `jti`.
    pub jti: Option<String>,
    /// `iat`.
    pub issued_at: UnixTime,
    /// `exp`.
    pub expires_at: UnixTime,
    /// `ver`.
    pub version: Option<Version>,
    /// The refresh family it was issued with.
    pub family: Option<FamilyId>,
    /// The roles it claims.
    pub roles: Roles,
}

impl Token {
    /// The borrowed facts the state's API takes.
    pub fn facts(&self) -> TokenFacts<'_> {
        TokenFacts {
            subject: &self.subject,
            jti: self.jti.as_deref(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            version: self.version,
            family: self.family,
            roles: self.roles,
        }
    }
}

/// [`authstate::RedeemError`] and [`spec::SpecRedeemError`] without their
/// barriers, so that outcomes can be compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedeemKind {
    /// Reuse detected; the family is now revoked.
    Reused,
    /// The family was already revoked.
    FamilyRevoked,
    /// The refresh token has expired.
    Expired,
    /// Unknown family for this subject.
    UnknownFamily,
}

impl RedeemKind {
    /// The kind of a real redemption error.
    pub fn of_real(error: &RedeemError) -> Self {
        match error {
            RedeemError::Reused(_) => RedeemKind::Reused,
            RedeemError::FamilyRevoked => RedeemKind::FamilyRevoked,
            RedeemError::Expired => RedeemKind::Expired,
            RedeemError::UnknownFamily => RedeemKind::UnknownFamily,
            // `RedeemError` is non-exhaustive; a new variant must be added here
            // and to the spec before the tests can say anything about it.
            other => panic!("unmodelled redeem error {other:?}"),
        }
    }

    /// The kind of a spec redemption error.
    pub fn of_spec(error: &spec::SpecRedeemError) -> Self {
        match error {
            spec::SpecRedeemError::Reused(_) => RedeemKind::Reused,
            spec::SpecRedeemError::FamilyRevoked => RedeemKind::FamilyRevoked,
            spec::SpecRedeemError::Expired => RedeemKind::Expired,
            spec::SpecRedeemError::UnknownFamily => RedeemKind::UnknownFamily,
        }
    }
}
