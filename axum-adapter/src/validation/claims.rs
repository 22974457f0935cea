//! Claim extraction and checking on the raw payload JSON.
//!
//! The payload is parsed into a `serde_json` map (duplicate top-level names
//! rejected) *after* the signature has been verified, and every standard claim
//! is type-checked here so that the error names the offending claim.
//!
//! # Type policy
//!
//! * `exp`, `nbf`, `iat` are NumericDates and must be JSON **integers**
//!   (whole seconds) in `0..=253402300799` (year 9999). Strings are
//!   [`TokenError::InvalidClaimType`]; so are numbers written with a fraction
//!   or an exponent (`1.7e9`, `1700000000.5`, even `1700000000.0`).
//!   RFC 7519 allows fractional NumericDates, but every issuer this crate
//!   targets emits integers, and rounding a fraction would have to pick a
//!   direction for `exp` (later = more permissive), `nbf` and `iat` (the
//!   core's revocation cutoffs compare `iat`); rejecting avoids that choice
//!   entirely. Out-of-range integers are [`TokenError::InvalidClaimValue`].
//! * `sub`, `jti`, `iss` must be non-empty JSON strings.
//! * `aud` must be a string or an array of strings.
//! * `ver` must be an integer in `0..=u32::MAX`.
//! * `fam` must be a non-negative integer or a canonical decimal string
//!   (digits only, no sign, no leading zeros) fitting `u64`.
//! * `role` must be a string, `roles` an array of strings, `scope` a
//!   space-separated string; all three are merged into
//!   [`StandardClaims::roles`] (order kept, duplicates and empty names
//!   dropped).
//! * JSON `null` is a wrong type, not absence.
//!
//! # Check order
//!
//! Presence and types of all standard claims first, then `exp`, `nbf`,
//! `iat` against the clock, then `iss`, then `aud`.

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::error::TokenError;

/// Largest accepted NumericDate: 9999-12-31T23:59:59Z. Keeps all time
/// arithmetic far away from overflow.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// The registered and authstate-specific claims of a validated token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardClaims {
    /// `sub`: the subject (required, non-empty).
    pub sub: String,
    /// `jti`: the token id (required unless `require_jti(false)`).
    pub jti: Option<String>,
    /// `iat`: issued-at, seconds since the epoch. Required by default; when
    /// `require_iat(false)` is configured and the claim is absent this is
    /// `0` (the epoch), which is fail-closed for the core's
    /// issued-before-cutoff revocation: such a token is older than any
    /// cutoff.
    pub iat: i64,
    /// `exp`: expiry, seconds since the epoch (required).
    pub exp: i64,
    /// `nbf`: not-before, seconds since the epoch.
    pub nbf: Option<i64>,
    /// `iss`: the issuer.
    pub iss: Option<String>,
    /// `aud`: the audiences (a single string becomes a one-element vector).
    pub aud: Vec<String>,
    /// `ver`: the subject's permission version the token was minted at.
    pub ver: Option<u32>,
    /// `fam`: the refresh-token family id.
    pub fam: Option<u64>,
    /// Union of `role`, `roles` and the space-separated `scope`, in that
    /// order, without duplicates or empty names.
    pub roles: Vec<String>,
}

/// A custom-claims type that accepts any payload and keeps nothing; use it
/// when only [`StandardClaims`] are needed: `validator.validate::<NoCustomClaims>(token)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NoCustomClaims;

impl<'de> Deserialize<'de> for NoCustomClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Ok(NoCustomClaims)
    }
}

/// Claim-related settings of a validator.
#[derive(Debug, Clone)]
pub(crate) struct ClaimRules {
    pub(crate) require_jti: bool,
    pub(crate) require_iat: bool,
    /// `None` = waived.
    pub(crate) issuers: Option<Vec<String>>,
    /// `None` = waived.
    pub(crate) audiences: Option<Vec<String>>,
    pub(crate) leeway: i64,
}

fn numeric_date(map: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, TokenError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (0..=MAX_NUMERIC_DATE).contains(&v) => Ok(Some(v)),
            Some(_) => Err(TokenError::InvalidClaimValue(name)),
            None if n.is_u64() => Err(TokenError::InvalidClaimValue(name)),
            None => Err(TokenError::InvalidClaimType(name)),
        },
        Some(_) => Err(TokenError::InvalidClaimType(name)),
    }
}

fn string(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>, TokenError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err(TokenError::InvalidClaimValue(name)),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::InvalidClaimType(name)),
    }
}

fn audiences(map: &Map<String, Value>) -> Result<Option<Vec<String>>, TokenError> {
    const AUD: &str = "aud";
    match map.get(AUD) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(TokenError::InvalidClaimType(AUD)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(TokenError::InvalidClaimType(AUD)),
    }
}

/// Non-float, non-negative integer as u64, with type/value distinction.
fn unsigned(n: &Number, name: &'static str) -> Result<u64, TokenError> {
    match n.as_u64() {
        Some(v) => Ok(v),
        None if n.is_i64() => Err(TokenError::InvalidClaimValue(name)),
        None => Err(TokenError::InvalidClaimType(name)),
    }
}

fn version(map: &Map<String, Value>) -> Result<Option<u32>, TokenError> {
    const VER: &str = "ver";
    match map.get(VER) {
        None => Ok(None),
        Some(Value::Number(n)) => u32::try_from(unsigned(n, VER)?)
            .map(Some)
            .map_err(|_| TokenError::InvalidClaimValue(VER)),
        Some(_) => Err(TokenError::InvalidClaimType(VER)),
    }
}

fn family(map: &Map<String, Value>) -> Result<Option<u64>, TokenError> {
    const FAM: &str = "fam";
    match map.get(FAM) {
        None => Ok(None),
        Some(Value::Number(n)) => unsigned(n, FAM).map(Some),
        Some(Value::String(s)) => {
            let canonical = !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'));
            if !canonical {
                return Err(TokenError::InvalidClaimValue(FAM));
            }
            s.parse::<u64>()
                .map(Some)
                .map_err(|_| TokenError::InvalidClaimValue(FAM))
        }
        Some(_) => Err(TokenError::InvalidClaimType(FAM)),
    }
}

fn roles(map: &Map<String, Value>) -> Result<Vec<String>, TokenError> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        if !name.is_empty() && !out.iter().any(|r| r == name) {
            out.push(name.to_owned());
        }
    };
    match map.get("role") {
        None => {}
        Some(Value::String(s)) => push(s),
        Some(_) => return Err(TokenError::InvalidClaimType("role")),
    }
    match map.get("roles") {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => push(s),
                    _ => return Err(TokenError::InvalidClaimType("roles")),
                }
            }
        }
        Some(_) => return Err(TokenError::InvalidClaimType("roles")),
    }
    match map.get("scope") {
        None => {}
        Some(Value::String(s)) => s.split(' ').for_each(&mut push),
        Some(_) => return Err(TokenError::InvalidClaimType("scope")),
    }
    Ok(out)
}

/// Extracts and checks the standard claims. `now` is seconds since the epoch.
pub(crate) fn extract(
    map: &Map<String, Value>,
    rules: &ClaimRules,
    now: i64,
) -> Result<StandardClaims, TokenError> {
    // 1. presence and types
    let exp = numeric_date(map, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let nbf = numeric_date(map, "nbf")?;
    let iat = match numeric_date(map, "iat")? {
        Some(iat) => iat,
        None if rules.require_iat => return Err(TokenError::MissingClaim("iat")),
        None => 0,
    };
    let sub = string(map, "sub")?.ok_or(TokenError::MissingClaim("sub"))?;
    let jti = string(map, "jti")?;
    if rules.require_jti && jti.is_none() {
        return Err(TokenError::MissingClaim("jti"));
    }
    let iss = string(map, "iss")?;
    let aud = audiences(map)?;
    let ver = version(map)?;
    let fam = family(map)?;
    let roles = roles(map)?;

    // 2. time
    if exp.saturating_add(rules.leeway) <= now {
        return Err(TokenError::Expired);
    }
    if let Some(nbf) = nbf
        && nbf.saturating_sub(rules.leeway) > now
    {
        return Err(TokenError::NotYetValid);
    }
    if iat.saturating_sub(rules.leeway) > now {
        return Err(TokenError::IssuedInFuture);
    }

    // 3. issuer
    if let Some(accepted) = &rules.issuers {
        let iss = iss.as_deref().ok_or(TokenError::MissingClaim("iss"))?;
        if !accepted.iter().any(|a| a == iss) {
            return Err(TokenError::InvalidIssuer);
        }
    }

    // 4. audience (RFC 7519 §4.1.3: one of ours must be present)
    if let Some(accepted) = &rules.audiences {
        let aud = aud.as_deref().ok_or(TokenError::MissingClaim("aud"))?;
        if !aud.iter().any(|a| accepted.contains(a)) {
            return Err(TokenError::InvalidAudience);
        }
    }

    Ok(StandardClaims {
        sub,
        jti,
        iat,
        exp,
        nbf,
        iss,
        aud: aud.unwrap_or_default(),
        ver,
        fam,
        roles,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn rules() -> ClaimRules {
        ClaimRules {
            require_jti: true,
            require_iat: true,
            issuers: Some(vec!["iss".into()]),
            audiences: Some(vec!["api".into()]),
            leeway: 30,
        }
    }

    fn base() -> Value {
        json!({"sub":"alice","jti":"j1","iat":NOW,"exp":NOW + 60,"iss":"iss","aud":"api"})
    }

    fn run(v: Value) -> Result<StandardClaims, TokenError> {
        run_with(v, &rules())
    }

    fn run_with(v: Value, rules: &ClaimRules) -> Result<StandardClaims, TokenError> {
        match v {
            Value::Object(m) => extract(&m, rules, NOW),
            _ => unreachable!("test payloads are objects"),
        }
    }

    fn with(key: &str, value: Value) -> Value {
        let mut v = base();
        v[key] = value;
        v
    }

    fn without(key: &str) -> Value {
        let mut v = base();
        if let Value::Object(m) = &mut v {
            m.remove(key);
        }
        v
    }

    #[test]
    fn accepts_base() {
        let c = run(base()).expect("valid");
        assert_eq!(c.sub, "alice");
        assert_eq!(c.aud, vec!["api".to_owned()]);
    }

    #[test]
    fn numeric_date_types() {
        assert_eq!(
            run(with("exp", json!("1800000000"))),
            Err(TokenError::InvalidClaimType("exp"))
        );
        assert_eq!(
            run(with("exp", json!(1_800_000_000.5))),
            Err(TokenError::InvalidClaimType("exp"))
        );
        assert_eq!(
            run(with("exp", json!(1_800_000_000.0))),
            Err(TokenError::InvalidClaimType("exp"))
        );
        assert_eq!(
            run(with("exp", json!(u64::MAX))),
            Err(TokenError::InvalidClaimValue("exp"))
        );
        assert_eq!(
            run(with("nbf", json!(-1))),
            Err(TokenError::InvalidClaimValue("nbf"))
        );
        assert_eq!(
            run(with("iat", json!(null))),
            Err(TokenError::InvalidClaimType("iat"))
        );
        assert_eq!(
            run(with("iat", json!(true))),
            Err(TokenError::InvalidClaimType("iat"))
        );
    }

    #[test]
    fn string_claim_types() {
        assert_eq!(
            run(with("sub", json!(42))),
            Err(TokenError::InvalidClaimType("sub"))
        );
        assert_eq!(
            run(with("sub", json!(""))),
            Err(TokenError::InvalidClaimValue("sub"))
        );
        assert_eq!(
            run(with("iss", json!(["iss"]))),
            Err(TokenError::InvalidClaimType("iss"))
        );
        assert_eq!(
            run(with("aud", json!(7))),
            Err(TokenError::InvalidClaimType("aud"))
        );
        assert_eq!(
            run(with("aud", json!(["api", 7]))),
            Err(TokenError::InvalidClaimType("aud"))
        );
        assert_eq!(
            run(with("jti", json!({}))),
            Err(TokenError::InvalidClaimType("jti"))
        );
    }

    #[test]
    fn missing_claims() {
        assert_eq!(run(without("exp")), Err(TokenError::MissingClaim("exp")));
        assert_eq!(run(without("sub")), Err(TokenError::MissingClaim("sub")));
        assert_eq!(run(without("jti")), Err(TokenError::MissingClaim("jti")));
        assert_eq!(run(without("iat")), Err(TokenError::MissingClaim("iat")));
        assert_eq!(run(without("iss")), Err(TokenError::MissingClaim("iss")));
        assert_eq!(run(without("aud")), Err(TokenError::MissingClaim("aud")));
    }

    #[test]
    fn optional_iat_and_jti() {
        let mut r = rules();
        r.require_iat = false;
        r.require_jti = false;
        let mut v = without("iat");
        if let Value::Object(m) = &mut v {
            m.remove("jti");
        }
        let c = run_with(v, &r).expect("valid");
        assert_eq!(c.iat, 0);
        assert_eq!(c.jti, None);
    }

    #[test]
    fn time_checks_with_leeway() {
        assert!(run(with("exp", json!(NOW - 29))).is_ok());
        assert_eq!(run(with("exp", json!(NOW - 30))), Err(TokenError::Expired));
        assert!(run(with("nbf", json!(NOW + 30))).is_ok());
        assert_eq!(
            run(with("nbf", json!(NOW + 31))),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            run(with("iat", json!(NOW + 31))),
            Err(TokenError::IssuedInFuture)
        );
    }

    #[test]
    fn issuer_and_audience() {
        assert_eq!(
            run(with("iss", json!("other"))),
            Err(TokenError::InvalidIssuer)
        );
        assert_eq!(
            run(with("aud", json!(["x", "y"]))),
            Err(TokenError::InvalidAudience)
        );
        assert_eq!(
            run(with("aud", json!([]))),
            Err(TokenError::InvalidAudience)
        );
        assert!(run(with("aud", json!(["x", "api"]))).is_ok());
        let mut r = rules();
        r.issuers = None;
        r.audiences = None;
        assert!(run_with(with("iss", json!("other")), &r).is_ok());
    }

    #[test]
    fn version_family_roles() {
        let mut v = base();
        v["ver"] = json!(3);
        v["fam"] = json!("18446744073709551615");
        v["role"] = json!("admin");
        v["roles"] = json!(["editor", "admin", ""]);
        v["scope"] = json!("read  write editor");
        let c = run(v).expect("valid");
        assert_eq!(c.ver, Some(3));
        assert_eq!(c.fam, Some(u64::MAX));
        assert_eq!(c.roles, ["admin", "editor", "read", "write"]);

        assert_eq!(
            run(with("ver", json!(u64::from(u32::MAX) + 1))),
            Err(TokenError::InvalidClaimValue("ver"))
        );
        assert_eq!(
            run(with("ver", json!("3"))),
            Err(TokenError::InvalidClaimType("ver"))
        );
        assert_eq!(
            run(with("ver", json!(-1))),
            Err(TokenError::InvalidClaimValue("ver"))
        );
        assert_eq!(run(with("fam", json!(7))).map(|c| c.fam), Ok(Some(7)));
        for bad in ["", "007", "+7", "-7", " 7", "7a", "18446744073709551616"] {
            assert_eq!(
                run(with("fam", json!(bad))),
                Err(TokenError::InvalidClaimValue("fam")),
                "{bad:?}"
            );
        }
        assert_eq!(
            run(with("fam", json!(1.5))),
            Err(TokenError::InvalidClaimType("fam"))
        );
        assert_eq!(
            run(with("roles", json!("admin"))),
            Err(TokenError::InvalidClaimType("roles"))
        );
        assert_eq!(
            run(with("roles", json!([1]))),
            Err(TokenError::InvalidClaimType("roles"))
        );
        assert_eq!(
            run(with("scope", json!(["a"]))),
            Err(TokenError::InvalidClaimType("scope"))
        );
        assert_eq!(
            run(with("role", json!(1))),
            Err(TokenError::InvalidClaimType("role"))
        );
    }
}
