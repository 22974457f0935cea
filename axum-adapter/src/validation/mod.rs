//! Strict JWT validation on `jsonwebtoken` 12 with the pure-Rust
//! `rust_crypto` backend.
//!
//! Build a [`Validator`] once with [`Validator::builder`], share it (it is a
//! cheap `Clone` around an `Arc`, `Send + Sync`), and call
//! [`Validator::validate`] per request.
//!
//! # Pipeline
//!
//! 1. Length: tokens longer than the configured maximum (8 KiB by default)
//!    are rejected before anything is decoded.
//! 2. Shape: exactly three `.`-separated segments, each strict unpadded
//!    base64url.
//! 3. Header: decoded and parsed as a JSON object (duplicate member names
//!    rejected) and checked by this crate, not by `jsonwebtoken`: see
//!    [`header`](self#header-policy) below.
//! 4. Key selection from configuration only: by `kid` when the token has one
//!    (an unknown `kid` is rejected), otherwise every configured key whose
//!    type matches the algorithm. A key is only ever used with the algorithms
//!    of its own [`KeyType`].
//! 5. Signature verification through the `rust_crypto` provider.
//! 6. Payload: decoded and parsed *after* the signature check; standard
//!    claims type-checked and checked against the clock, issuer and audience
//!    (see [`claims`](self#claim-policy)); then the custom claims type is
//!    deserialized from the same payload.
//!
//! # Header policy
//!
//! * `alg` is checked against the configured allow-list; `none` in any
//!   letter case is always refused.
//! * Any `crit` is refused: this crate implements no JWS extensions.
//! * `jwk`, `jku`, `x5u`, `x5c` are refused: keys come from configuration.
//! * `typ` can be required (e.g. `at+jwt`, RFC 9068), compared
//!   case-insensitively with an optional `application/` prefix.
//!
//! # Claim policy
//!
//! `exp` and `sub` are always required; `jti` and `iat` are required by
//! default. NumericDates must be integers: strings and fractional numbers are
//! typed rejections naming the claim. See [`StandardClaims`] and the
//! `claims` module source for the full type table.
//!
//! # Crypto backend
//!
//! `jsonwebtoken` 12 needs an explicit backend. This crate enables
//! `rust_crypto` (pure Rust: no C toolchain, no cmake) and calls
//! `jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER` directly, so neither
//! a missing nor a different process-wide provider can make validation panic
//! or change its behaviour. [`ValidatorBuilder::build`] also installs it as
//! the process default if none is set.

mod claims;
mod config;
mod error;
mod header;
mod json;
mod keys;

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use claims::{MAX_NUMERIC_DATE, NoCustomClaims, StandardClaims};
pub use config::{
    DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, MAX_LEEWAY, MAX_MAX_TOKEN_LEN, MIN_MAX_TOKEN_LEN,
    ValidatorBuilder,
};
pub use error::{ConfigError, EmbeddedKeyHeader, KeyError, Segment, TokenError};
pub use jsonwebtoken::Algorithm;
pub use keys::{
    KeySet, KeySource, KeyType, MAX_RSA_BITS, MIN_HMAC_SECRET_LEN, MIN_RSA_BITS, StaticKeys,
    VerificationKey,
};

use claims::ClaimRules;

/// A token that passed validation.
///
/// Authentic and well formed, not yet authorized: hand
/// [`claims`](Self::claims) to the core (`authstate::AuthState::check`) to
/// learn whether it is still allowed *now*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedToken<C> {
    /// The verified algorithm (always on the allow-list).
    pub algorithm: Algorithm,
    /// The header `kid`, if the token named its key.
    pub kid: Option<String>,
    /// The standard claims.
    pub claims: StandardClaims,
    /// The application's custom claims, deserialized from the same payload.
    pub custom: C,
}

/// A configured, immutable JWT validator. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    algorithms: Vec<Algorithm>,
    keys: Arc<dyn KeySource>,
    rules: ClaimRules,
    max_token_len: usize,
    require_kid: bool,
    /// Normalized (lowercase, no `application/` prefix).
    typ: Option<String>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Validator")
            .field("algorithms", &i.algorithms)
            .field("keys", &i.keys)
            .field("issuers", &i.rules.issuers)
            .field("audiences", &i.rules.audiences)
            .field("leeway_secs", &i.rules.leeway)
            .field("require_jti", &i.rules.require_jti)
            .field("require_iat", &i.rules.require_iat)
            .field("require_kid", &i.require_kid)
            .field("typ", &i.typ)
            .field("max_token_len", &i.max_token_len)
            .finish()
    }
}

/// Current time in whole seconds since the epoch (0 if the clock is before
/// the epoch).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn b64(segment: &str, which: Segment) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Base64(which))
}

impl Validator {
    /// Starts a [`ValidatorBuilder`].
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::new()
    }

    /// The algorithm allow-list.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    /// The maximum accepted token length in bytes.
    pub fn max_token_len(&self) -> usize {
        self.inner.max_token_len
    }

    /// Validates `token` (the bare compact JWS, without a `Bearer ` prefix)
    /// against the system clock.
    ///
    /// # Errors
    /// A [`TokenError`] naming the first check that failed. Never panics,
    /// whatever the input.
    pub fn validate<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<ValidatedToken<C>, TokenError> {
        self.validate_at(token, unix_now())
    }

    /// Like [`validate`](Self::validate) with an explicit "now" in seconds
    /// since the epoch, e.g. the core's `AuthState::now()` so that the
    /// validator and the core share one clock.
    ///
    /// # Errors
    /// As for [`validate`](Self::validate).
    pub fn validate_at<C: DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<ValidatedToken<C>, TokenError> {
        let result = self.run(token, now);
        if let Err(e) = &result {
            tracing::debug!(category = e.category(), reason = %e, "JWT rejected");
        }
        result
    }

    fn run<C: DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<ValidatedToken<C>, TokenError> {
        let inner = &*self.inner;

        // 1. length, before any decoding
        if token.len() > inner.max_token_len {
            return Err(TokenError::TooLong);
        }

        // 2. shape
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::SegmentCount);
        };

        // 3. header
        let header_bytes = b64(h, Segment::Header)?;
        let header_map =
            json::parse_object(&header_bytes).ok_or(TokenError::Json(Segment::Header))?;
        let header = header::check(&header_map, &inner.algorithms, inner.typ.as_deref())?;
        let signature = b64(s, Segment::Signature)?;
        let signing_input = token
            .get(..h.len() + 1 + p.len())
            .ok_or(TokenError::SegmentCount)?
            .as_bytes();

        // 4. + 5. key selection and signature
        self.verify(&header, signing_input, signature)?;

        // 6. payload, only now that it is authentic
        let payload_bytes = b64(p, Segment::Payload)?;
        let payload =
            json::parse_object(&payload_bytes).ok_or(TokenError::Json(Segment::Payload))?;
        let claims = claims::extract(&payload, &inner.rules, now)?;
        let custom = serde_json::from_value::<C>(Value::Object(payload))
            .map_err(|_| TokenError::CustomClaims)?;

        Ok(ValidatedToken {
            algorithm: header.alg,
            kid: header.kid,
            claims,
            custom,
        })
    }

    fn verify(
        &self,
        header: &header::CheckedHeader,
        signing_input: &[u8],
        signature: Vec<u8>,
    ) -> Result<(), TokenError> {
        let alg = header.alg;
        let set = self.inner.keys.key_set();
        match header.kid.as_deref() {
            Some(kid) => {
                let Some(key) = set.get(kid) else {
                    self.inner.keys.on_unknown_kid(kid);
                    return Err(TokenError::UnknownKid);
                };
                if !key.accepts(alg) {
                    return Err(TokenError::KeyAlgorithmMismatch);
                }
                if verify_with(key, alg, signing_input, &signature) {
                    Ok(())
                } else {
                    Err(TokenError::InvalidSignature)
                }
            }
            None => {
                if self.inner.require_kid {
                    return Err(TokenError::MissingKid);
                }
                let mut any = false;
                for key in set.iter().filter(|k| k.accepts(alg)) {
                    any = true;
                    if verify_with(key, alg, signing_input, &signature) {
                        return Ok(());
                    }
                }
                Err(if any {
                    TokenError::InvalidSignature
                } else {
                    TokenError::NoKeyForAlgorithm
                })
            }
        }
    }
}

/// Verifies with the pinned `rust_crypto` provider. The caller guarantees
/// `key.accepts(alg)`; the verifier's own algorithm is checked again.
fn verify_with(key: &VerificationKey, alg: Algorithm, message: &[u8], signature: &Vec<u8>) -> bool {
    debug_assert!(key.accepts(alg));
    if !key.accepts(alg) {
        return false;
    }
    match (keys::provider().verifier_factory)(&alg, key.decoding_key()) {
        Ok(verifier) => verifier.algorithm() == alg && verifier.verify(message, signature).is_ok(),
        Err(_) => {
            // Keys are validated at load time; this indicates a bug, not an attack.
            tracing::warn!(
                ?alg,
                kid = key.kid(),
                "configured key rejected by crypto provider"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn validator_is_send_sync() {
        assert_send_sync::<Validator>();
        assert_send_sync::<TokenError>();
        assert_send_sync::<ConfigError>();
    }
}
