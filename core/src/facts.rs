//! What the state needs to know about a token, already decoded and
//! signature-checked by the caller (for example `authstate-axum`), and the
//! small value types that describe authority.

use crate::clock::UnixTime;
use std::fmt;
use std::str::FromStr;

/// A subject's version: bumped by every [`crate::AuthState::revoke_subject`].
/// A token that carries a `ver` claim is valid only while it equals the
/// subject's current version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version(pub u32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a refresh-token family (RFC 9700, section 4.14.2): every refresh
/// token obtained by rotating one login shares it, and so do the access tokens
/// issued alongside them.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::FamilyId;
/// let id: FamilyId = "42".parse().unwrap();
/// assert_eq!(id, FamilyId(42));
/// assert_eq!(id.to_string(), "42");
/// assert!("x".parse::<FamilyId>().is_err());
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FamilyId(pub u64);

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for FamilyId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(FamilyId)
    }
}

/// One role or scope, as a bit index below [`Role::MAX`]. The embedding
/// service (or the adapter's role map) decides which name each index means.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::Role;
/// assert!(Role::new(0).is_some());
/// assert!(Role::new(Role::MAX).is_none());
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role(u8);

impl Role {
    /// How many distinct roles a state can tell apart.
    pub const MAX: u8 = 32;

    /// The role with bit `index`, or `None` if `index >= Role::MAX`.
    pub const fn new(index: u8) -> Option<Role> {
        if index < Self::MAX {
            Some(Role(index))
        } else {
            None
        }
    }

    /// The role's bit index.
    pub const fn index(self) -> u8 {
        self.0
    }
}

/// A set of [`Role`]s: the roles a token claims, a subject holds, or an action
/// requires. Thirty-two bits keep a subject record within its memory budget.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{Role, Roles};
/// let admin = Role::new(0).unwrap();
/// let user = Role::new(1).unwrap();
/// let both = Roles::EMPTY.with(admin).with(user);
/// assert!(Roles::from(user).is_subset(both));
/// assert!(!both.is_subset(Roles::from(user)));
/// assert_eq!(both.iter().count(), 2);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Roles(u32);

impl Roles {
    /// No role at all.
    pub const EMPTY: Roles = Roles(0);

    /// The set with the given bits.
    pub const fn from_bits(bits: u32) -> Roles {
        Roles(bits)
    }

    /// The set's bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// This set plus `role`.
    #[must_use]
    pub const fn with(self, role: Role) -> Roles {
        Roles(self.0 | (1 << role.0))
    }

    /// Whether `role` is in the set.
    pub const fn contains(self, role: Role) -> bool {
        self.0 & (1 << role.0) != 0
    }

    /// Whether every role of `self` is in `other`.
    pub const fn is_subset(self, other: Roles) -> bool {
        self.0 & !other.0 == 0
    }

    /// The roles of `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: Roles) -> Roles {
        Roles(self.0 & !other.0)
    }

    /// The roles in either set.
    #[must_use]
    pub const fn union(self, other: Roles) -> Roles {
        Roles(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The roles in the set, lowest index first.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        (0..Role::MAX).filter_map(move |i| (self.0 & (1 << i) != 0).then_some(Role(i)))
    }
}

impl From<Role> for Roles {
    fn from(role: Role) -> Roles {
        Roles::EMPTY.with(role)
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Roles {
        iter.into_iter().fold(Roles::EMPTY, Roles::with)
    }
}

/// The facts of a validated access token that the state decides on. Borrowed,
/// so building one per request allocates nothing.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{Roles, TokenFacts, UnixTime, Version};
/// let facts = TokenFacts {
///     subject: "alice",
///     jti: Some("b0c1d2"),
///     issued_at: UnixTime::from_secs(1_000),
///     expires_at: UnixTime::from_secs(1_300),
///     version: Some(Version(0)),
///     family: None,
///     roles: Roles::EMPTY,
/// };
/// assert_eq!(facts.subject, "alice");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenFacts<'a> {
    /// The `sub` claim.
    pub subject: &'a str,
    /// The `jti` claim. Without one the token cannot be denylisted; subject
    /// revocation and cutoffs still apply.
    pub jti: Option<&'a str>,
    /// The `iat` claim, compared with the not-before cutoffs.
    pub issued_at: UnixTime,
    /// The `exp` claim.
    pub expires_at: UnixTime,
    /// The subject's version when the token was issued (`ver`). Tokens without
    /// it (an external identity provider's) are governed by the subject's
    /// not-before cutoff instead.
    pub version: Option<Version>,
    /// The refresh family the token was issued with, if any.
    pub family: Option<FamilyId>,
    /// The roles the token claims. They never grant anything: every role
    /// decision uses the subject's live roles, and a token claiming a role the
    /// subject no longer holds is rejected.
    pub roles: Roles,
}

/// The facts of a validated refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshFacts<'a> {
    /// The subject the family was issued to.
    pub subject: &'a str,
    /// The family.
    pub family: FamilyId,
    /// The token's position in the family: 0 for the login's token, then one
    /// more per rotation.
    pub generation: u32,
    /// The refresh token's own `exp`.
    pub expires_at: UnixTime,
}

/// What a successful check learned: the subject's live state at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// The subject's current version.
    pub subject_version: Version,
    /// The subject's live roles.
    pub live_roles: Roles,
}

/// A refresh token to hand out: the family and the generation it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshGrant {
    /// The family.
    pub family: FamilyId,
    /// The generation of the token to issue.
    pub generation: u32,
}
