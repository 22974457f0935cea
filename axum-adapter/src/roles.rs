//! Mapping role and scope names carried by tokens to the core's role bits.
//!
//! A token says `"roles": ["admin"]` or `"scope": "read write"`; the core
//! works with [`Roles`], a 32-bit set of [`Role`] indexes. A [`RoleMap`] is
//! the service's fixed dictionary between the two.
//!
//! # Unknown names are ignored
//!
//! Names the map does not know are dropped, not rejected. The roles a token
//! claims never grant anything by themselves: the core authorizes against the
//! subject's *live* roles, and rejects a token that claims a role the subject
//! no longer holds. An unknown name therefore cannot widen access, while
//! rejecting it would break every token the moment an identity provider adds
//! a scope this service does not use (OIDC providers routinely add
//! `openid`, `profile`, `offline_access`, ...).
//!
//! Names are compared exactly (case-sensitive), as OAuth scope tokens are.

use std::collections::BTreeMap;

use authstate::{FamilyId, Role, Roles, TokenFacts, UnixTime, Version};

use crate::validation::StandardClaims;

/// A misconfigured [`RoleMap`] entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleMapError {
    /// The bit index is not below [`Role::MAX`].
    #[error("role index {0} is out of range (must be below {max})", max = Role::MAX)]
    IndexOutOfRange(u8),
    /// The name is empty.
    #[error("role name must not be empty")]
    EmptyName,
    /// The name is already mapped.
    #[error("role name {0:?} is mapped twice")]
    DuplicateName(String),
}

/// A fixed dictionary from role / scope names to core [`Role`] bits.
///
/// Several names may map to the same role (aliases such as `admin` and
/// `api:admin`); each name maps to exactly one role.
///
/// ```
/// use authstate::Role;
/// use authstate_axum::RoleMap;
///
/// let map = RoleMap::new()
///     .with_index("admin", 0)?
///     .with_index("write", 1)?
///     .with_index("api:write", 1)?;
/// let roles = map.resolve(["write", "openid", "admin"]);
/// assert!(roles.contains(Role::new(0).unwrap()));
/// assert!(roles.contains(Role::new(1).unwrap()));
/// assert_eq!(roles.iter().count(), 2); // "openid" is ignored
/// # Ok::<(), authstate_axum::RoleMapError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap {
    names: BTreeMap<String, Role>,
}

impl RoleMap {
    /// An empty map (every name is unknown).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name -> role`.
    ///
    /// # Errors
    /// [`RoleMapError::EmptyName`] or [`RoleMapError::DuplicateName`].
    pub fn insert(&mut self, name: impl Into<String>, role: Role) -> Result<(), RoleMapError> {
        let name = name.into();
        if name.is_empty() {
            return Err(RoleMapError::EmptyName);
        }
        if self.names.contains_key(&name) {
            return Err(RoleMapError::DuplicateName(name));
        }
        self.names.insert(name, role);
        Ok(())
    }

    /// Builder form of [`insert`](Self::insert).
    ///
    /// # Errors
    /// As for [`insert`](Self::insert).
    pub fn with(mut self, name: impl Into<String>, role: Role) -> Result<Self, RoleMapError> {
        self.insert(name, role)?;
        Ok(self)
    }

    /// Adds `name -> Role::new(index)`.
    ///
    /// # Errors
    /// [`RoleMapError::IndexOutOfRange`] for `index >= Role::MAX`, or as for
    /// [`insert`](Self::insert).
    pub fn with_index(self, name: impl Into<String>, index: u8) -> Result<Self, RoleMapError> {
        let role = Role::new(index).ok_or(RoleMapError::IndexOutOfRange(index))?;
        self.with(name, role)
    }

    /// The role a name maps to.
    pub fn get(&self, name: &str) -> Option<Role> {
        self.names.get(name).copied()
    }

    /// The set of roles named by `names`; unknown names are ignored.
    pub fn resolve<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Roles {
        names
            .into_iter()
            .filter_map(|name| self.get(name))
            .collect()
    }

    /// The roles a validated token claims (its `role`, `roles` and `scope`
    /// names, resolved through this map).
    pub fn roles_of(&self, claims: &StandardClaims) -> Roles {
        self.resolve(claims.roles.iter().map(String::as_str))
    }

    /// The core's view of a validated token, with claimed roles resolved
    /// through this map.
    pub fn token_facts<'a>(&self, claims: &'a StandardClaims) -> TokenFacts<'a> {
        claims.token_facts(self.roles_of(claims))
    }

    /// Number of mapped names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is mapped.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl StandardClaims {
    /// The core's [`TokenFacts`] for these claims, with the given claimed
    /// roles (usually from [`RoleMap::roles_of`]).
    pub fn token_facts(&self, roles: Roles) -> TokenFacts<'_> {
        TokenFacts {
            subject: &self.sub,
            jti: self.jti.as_deref(),
            issued_at: UnixTime::from_secs(self.iat),
            expires_at: UnixTime::from_secs(self.exp),
            version: self.ver.map(Version),
            family: self.fam.map(FamilyId),
            roles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(i: u8) -> Role {
        Role::new(i).unwrap_or_else(|| unreachable!("test index {i} < 32"))
    }

    #[test]
    fn builds_and_resolves() -> Result<(), RoleMapError> {
        let map = RoleMap::new()
            .with_index("admin", 0)?
            .with_index("write", 1)?
            .with("api:write", role(1))?;
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("admin"), Some(role(0)));
        assert_eq!(map.get("Admin"), None);
        let roles = map.resolve(["api:write", "unknown", ""]);
        assert_eq!(roles, Roles::from(role(1)));
        assert_eq!(map.resolve([]), Roles::EMPTY);
        Ok(())
    }

    #[test]
    fn rejects_bad_entries() {
        assert_eq!(
            RoleMap::new().with_index("x", 32).unwrap_err(),
            RoleMapError::IndexOutOfRange(32)
        );
        assert_eq!(
            RoleMap::new().with_index("", 0).unwrap_err(),
            RoleMapError::EmptyName
        );
        let map = RoleMap::new().with_index("a", 0);
        assert_eq!(
            map.and_then(|m| m.with_index("a", 1)).unwrap_err(),
            RoleMapError::DuplicateName("a".into())
        );
    }

    #[test]
    fn token_facts_bridge() -> Result<(), RoleMapError> {
        let map = RoleMap::new().with_index("admin", 3)?;
        let claims = StandardClaims {
            sub: "alice".into(),
            jti: Some("j".into()),
            iat: 10,
            exp: 20,
            nbf: None,
            iss: None,
            aud: vec![],
            ver: Some(2),
            fam: Some(9),
            roles: vec!["admin".into(), "openid".into()],
        };
        let facts = map.token_facts(&claims);
        assert_eq!(facts.subject, "alice");
        assert_eq!(facts.jti, Some("j"));
        assert_eq!(facts.issued_at, UnixTime::from_secs(10));
        assert_eq!(facts.expires_at, UnixTime::from_secs(20));
        assert_eq!(facts.version, Some(Version(2)));
        assert_eq!(facts.family, Some(FamilyId(9)));
        assert_eq!(facts.roles, Roles::from(role(3)));
        Ok(())
    }
}
