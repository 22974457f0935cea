//! Checks on the raw, decoded JOSE header.
//!
//! Done on the header JSON itself, before any key is chosen or any signature
//! verified, so that `jsonwebtoken`'s `Header` type (which knows about and
//! would deserialize `jwk`, `jku`, `x5u`, ...) never decides anything.
//!
//! # Policy
//!
//! * `alg` must be a string. `none` in any letter case is
//!   [`TokenError::AlgorithmNone`]; names other than the exact JWA names are
//!   [`TokenError::UnsupportedAlgorithm`]; a known name off the allow-list is
//!   [`TokenError::AlgorithmNotAllowed`].
//! * `crit`: no JWS extensions are supported, so a token carrying `crit` in
//!   any form is [`TokenError::CriticalHeader`] (RFC 7515 §4.1.11 requires
//!   rejecting tokens whose critical extensions are not understood).
//! * `jwk`, `jku`, `x5u`, `x5c`: keys come from configuration only; a token
//!   carrying any of them is [`TokenError::EmbeddedKey`] rather than silently
//!   ignored, so a confused or malicious issuer is noticed.
//! * `b64`: meaningless without `crit`; anything but `true` is
//!   [`TokenError::InvalidHeader`] so no library downstream can interpret an
//!   unencoded payload differently.
//! * `typ` must be a string when present. When a type is required it is
//!   compared case-insensitively, with an optional `application/` prefix
//!   (RFC 7515 §4.1.9), so `at+jwt`, `AT+JWT` and `application/at+jwt` all
//!   match a configured `at+jwt` (RFC 9068).
//! * `kid` must be a non-empty string when present.
//! * Other members are ignored.

use std::str::FromStr;

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::error::{EmbeddedKeyHeader, TokenError};

/// The header facts the validator needs after checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedHeader {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// Normalizes a media type for `typ` comparison: strips an
/// `application/` prefix (case-insensitively) and lowercases.
pub(crate) fn normalize_typ(typ: &str) -> String {
    const PREFIX: &str = "application/";
    let stripped = match typ.get(..PREFIX.len()) {
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => typ.get(PREFIX.len()..).unwrap_or(""),
        _ => typ,
    };
    stripped.to_ascii_lowercase()
}

pub(crate) fn check(
    header: &Map<String, Value>,
    allowed: &[Algorithm],
    required_typ: Option<&str>,
) -> Result<CheckedHeader, TokenError> {
    let alg = match header.get("alg") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(TokenError::InvalidHeader("alg")),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(TokenError::AlgorithmNone);
    }
    let alg = Algorithm::from_str(alg).map_err(|_| TokenError::UnsupportedAlgorithm)?;
    if !allowed.contains(&alg) {
        return Err(TokenError::AlgorithmNotAllowed(alg));
    }

    if header.contains_key("crit") {
        return Err(TokenError::CriticalHeader);
    }
    for param in EmbeddedKeyHeader::ALL {
        if header.contains_key(param.name()) {
            return Err(TokenError::EmbeddedKey(param));
        }
    }
    match header.get("b64") {
        None | Some(Value::Bool(true)) => {}
        Some(_) => return Err(TokenError::InvalidHeader("b64")),
    }

    let typ = match header.get("typ") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(TokenError::InvalidHeader("typ")),
    };
    if let Some(required) = required_typ {
        match typ {
            Some(typ) if normalize_typ(typ) == required => {}
            _ => return Err(TokenError::WrongType),
        }
    }

    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(TokenError::InvalidHeader("kid")),
    };

    Ok(CheckedHeader { alg, kid })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(v: Value, typ: Option<&str>) -> Result<CheckedHeader, TokenError> {
        match v {
            Value::Object(m) => check(&m, &[Algorithm::HS256], typ),
            _ => unreachable!("test headers are objects"),
        }
    }

    #[test]
    fn alg_rules() {
        for none in ["none", "None", "NONE", "nOnE"] {
            assert_eq!(
                run(json!({"alg": none}), None),
                Err(TokenError::AlgorithmNone)
            );
        }
        assert_eq!(
            run(json!({"alg": "hs256"}), None),
            Err(TokenError::UnsupportedAlgorithm)
        );
        assert_eq!(
            run(json!({"alg": "RS256"}), None),
            Err(TokenError::AlgorithmNotAllowed(Algorithm::RS256))
        );
        assert_eq!(
            run(json!({"alg": ["HS256"]}), None),
            Err(TokenError::InvalidHeader("alg"))
        );
        assert_eq!(run(json!({}), None), Err(TokenError::InvalidHeader("alg")));
    }

    #[test]
    fn typ_rules() {
        let ok = |t: &str| run(json!({"alg":"HS256","typ":t}), Some("at+jwt")).is_ok();
        assert!(ok("at+jwt"));
        assert!(ok("AT+JWT"));
        assert!(ok("application/at+jwt"));
        assert!(ok("Application/AT+JWT"));
        assert!(!ok("JWT"));
        assert!(!ok("application/jwt"));
        assert_eq!(
            run(json!({"alg":"HS256"}), Some("at+jwt")),
            Err(TokenError::WrongType)
        );
        assert_eq!(
            run(json!({"alg":"HS256","typ":1}), None),
            Err(TokenError::InvalidHeader("typ"))
        );
        assert_eq!(normalize_typ("application/"), "");
        assert_eq!(normalize_typ("app"), "app");
    }

    #[test]
    fn other_params() {
        assert_eq!(
            run(json!({"alg":"HS256","b64":false}), None),
            Err(TokenError::InvalidHeader("b64"))
        );
        assert!(run(json!({"alg":"HS256","b64":true}), None).is_ok());
        assert_eq!(
            run(json!({"alg":"HS256","kid":""}), None),
            Err(TokenError::InvalidHeader("kid"))
        );
        assert_eq!(
            run(json!({"alg":"HS256","kid":5}), None),
            Err(TokenError::InvalidHeader("kid"))
        );
        assert_eq!(
            run(json!({"alg":"HS256","crit":[]}), None),
            Err(TokenError::CriticalHeader)
        );
        assert_eq!(
            run(json!({"alg":"HS256","x5c":["AAAA"]}), None),
            Err(TokenError::EmbeddedKey(EmbeddedKeyHeader::X5c))
        );
        assert_eq!(
            run(json!({"alg":"HS256","kid":"k","x5t":"abc"}), None).map(|h| h.kid),
            Ok(Some("k".to_owned()))
        );
    }
}
