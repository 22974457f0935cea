//! Typed errors of the validation layer.
//!
//! [`TokenError`] is what a request can cause; [`ConfigError`] and
//! [`KeyError`] are what an operator can cause. None of them ever carries
//! bytes taken from a token: claim and header names are `&'static str`
//! constants of this crate, so `Display`/`Debug` output is safe to log and to
//! return to clients.

use std::fmt;

use jsonwebtoken::Algorithm;

/// The three dot-separated segments of a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// The protected header (first segment).
    Header,
    /// The payload / claims set (second segment).
    Payload,
    /// The signature (third segment).
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Header parameters that would make the token carry or point at its own
/// verification key. They are never honoured; a token carrying one is
/// rejected with [`TokenError::EmbeddedKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbeddedKeyHeader {
    /// `jwk`: an inline JSON Web Key (RFC 7515 §4.1.3).
    Jwk,
    /// `jku`: a URL of a JWK Set (RFC 7515 §4.1.2).
    Jku,
    /// `x5u`: a URL of an X.509 certificate chain (RFC 7515 §4.1.5).
    X5u,
    /// `x5c`: an inline X.509 certificate chain (RFC 7515 §4.1.6).
    X5c,
}

impl EmbeddedKeyHeader {
    /// All embedded-key header parameters, in the order they are checked.
    pub const ALL: [EmbeddedKeyHeader; 4] = [
        EmbeddedKeyHeader::Jwk,
        EmbeddedKeyHeader::Jku,
        EmbeddedKeyHeader::X5u,
        EmbeddedKeyHeader::X5c,
    ];

    /// The JSON member name of this header parameter.
    pub const fn name(self) -> &'static str {
        match self {
            EmbeddedKeyHeader::Jwk => "jwk",
            EmbeddedKeyHeader::Jku => "jku",
            EmbeddedKeyHeader::X5u => "x5u",
            EmbeddedKeyHeader::X5c => "x5c",
        }
    }
}

impl fmt::Display for EmbeddedKeyHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a token was rejected.
///
/// Every variant is cheap (`Copy`) and never echoes token contents.
/// [`TokenError::category`] gives a short, stable, client-safe label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured maximum; nothing was decoded.
    #[error("token exceeds the maximum accepted length")]
    TooLong,
    /// The token does not consist of exactly three `.`-separated segments.
    #[error("token does not have exactly three segments")]
    SegmentCount,
    /// A segment is not strict, unpadded base64url.
    #[error("token {0} segment is not valid unpadded base64url")]
    Base64(Segment),
    /// A segment is not a JSON object (or has duplicate member names).
    #[error("token {0} segment is not a well-formed JSON object")]
    Json(Segment),
    /// A header parameter is missing or has the wrong JSON type or value.
    #[error("token header parameter `{0}` is missing or invalid")]
    InvalidHeader(&'static str),
    /// The header names the `none` algorithm (in any letter case).
    #[error("unsecured tokens (alg none) are not accepted")]
    AlgorithmNone,
    /// The header names an algorithm this crate does not know.
    #[error("token algorithm is not supported")]
    UnsupportedAlgorithm,
    /// The header names a known algorithm that is not on the configured
    /// allow-list.
    #[error("token algorithm {0:?} is not allowed by configuration")]
    AlgorithmNotAllowed(Algorithm),
    /// The key selected by `kid` belongs to a different algorithm family than
    /// the token's `alg` (for example an RSA key named by an `HS256` token).
    #[error("the key named by the token cannot be used with the token algorithm")]
    KeyAlgorithmMismatch,
    /// The header carries a `crit` parameter. No JWS extensions are
    /// supported, so any `crit` is rejected (RFC 7515 §4.1.11).
    #[error("critical header extensions are not supported")]
    CriticalHeader,
    /// The header carries a key or a key location (`jwk`, `jku`, `x5u`,
    /// `x5c`). Keys only ever come from configuration.
    #[error("token header parameter `{0}` (embedded key) is not accepted")]
    EmbeddedKey(EmbeddedKeyHeader),
    /// The header `typ` is missing or is not the configured type.
    #[error("token type (typ) is missing or not accepted")]
    WrongType,
    /// The header has no `kid` but the configuration requires one.
    #[error("token does not name a key (kid) but one is required")]
    MissingKid,
    /// The header `kid` names no configured key.
    #[error("token names an unknown key")]
    UnknownKid,
    /// No configured key can verify the token's algorithm.
    #[error("no configured key can verify the token algorithm")]
    NoKeyForAlgorithm,
    /// The signature does not verify with any candidate key.
    #[error("token signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token is issued in the future")]
    IssuedInFuture,
    /// A required claim is absent.
    #[error("token claim `{0}` is missing")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type (for example `exp` as a string or a
    /// fractional number).
    #[error("token claim `{0}` has the wrong type")]
    InvalidClaimType(&'static str),
    /// A claim has the right JSON type but an unacceptable value (empty
    /// string, out-of-range number, non-canonical decimal, ...).
    #[error("token claim `{0}` has an invalid value")]
    InvalidClaimValue(&'static str),
    /// `iss` is not one of the configured issuers.
    #[error("token issuer is not accepted")]
    InvalidIssuer,
    /// `aud` contains none of the configured audiences.
    #[error("token audience is not accepted")]
    InvalidAudience,
    /// The payload does not deserialize into the application's custom claims
    /// type.
    #[error("token claims do not match the expected custom claims")]
    CustomClaims,
}

impl TokenError {
    /// A short, static, client-safe category name.
    ///
    /// One of `"malformed"`, `"algorithm"`, `"header"`, `"key"`,
    /// `"signature"`, `"expired"`, `"not yet valid"`, `"claims"`, `"issuer"`,
    /// `"audience"`. It names the kind of failure only and never contains
    /// token data.
    pub const fn category(&self) -> &'static str {
        match self {
            TokenError::TooLong
            | TokenError::SegmentCount
            | TokenError::Base64(_)
            | TokenError::Json(_)
            | TokenError::InvalidHeader(_) => "malformed",
            TokenError::AlgorithmNone
            | TokenError::UnsupportedAlgorithm
            | TokenError::AlgorithmNotAllowed(_)
            | TokenError::KeyAlgorithmMismatch => "algorithm",
            TokenError::CriticalHeader | TokenError::EmbeddedKey(_) | TokenError::WrongType => {
                "header"
            }
            TokenError::MissingKid | TokenError::UnknownKid | TokenError::NoKeyForAlgorithm => {
                "key"
            }
            TokenError::InvalidSignature => "signature",
            TokenError::Expired => "expired",
            TokenError::NotYetValid | TokenError::IssuedInFuture => "not yet valid",
            TokenError::MissingClaim(_)
            | TokenError::InvalidClaimType(_)
            | TokenError::InvalidClaimValue(_)
            | TokenError::CustomClaims => "claims",
            TokenError::InvalidIssuer => "issuer",
            TokenError::InvalidAudience => "audience",
        }
    }
}

/// A problem with one piece of key material.
///
/// Produced by the [`VerificationKey`](super::VerificationKey) constructors and
/// by JWK / JWKS parsing. Only ever caused by configuration, never by a
/// request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM document could not be parsed, or is not a public key of the
    /// requested type.
    #[error("PEM document is not a supported public key of the expected type")]
    InvalidPem,
    /// A private key was supplied where a public key is expected. A verifier
    /// never needs the private half; keep it off this host.
    #[error("a private key was supplied; only public keys are accepted for verification")]
    PrivateKey,
    /// The HMAC secret is shorter than the algorithm's hash output
    /// (RFC 7518 §3.2) or shorter than the 32-byte floor.
    #[error("HMAC secret has {len} bytes, at least {min} are required")]
    HmacSecretTooShort {
        /// Length of the supplied secret in bytes.
        len: usize,
        /// Minimum accepted length in bytes.
        min: usize,
    },
    /// The RSA modulus is outside the accepted range (2048..=8192 bits).
    #[error("RSA modulus has {bits} bits, accepted range is 2048..=8192")]
    RsaModulusSize {
        /// Modulus size in bits.
        bits: usize,
    },
    /// The RSA modulus is even (not a valid RSA modulus).
    #[error("RSA modulus is invalid")]
    RsaModulus,
    /// The RSA public exponent is not an odd integer between 3 and 2^33-1.
    #[error("RSA public exponent is invalid")]
    RsaExponent,
    /// The EC public key is not a valid point on a supported curve.
    #[error("EC public key is not a valid P-256 or P-384 point")]
    InvalidEcKey,
    /// The Ed25519 public key is not 32 bytes or not a valid point.
    #[error("Ed25519 public key is invalid")]
    InvalidEd25519Key,
    /// A JWK is structurally invalid. The string names the offending member.
    #[error("JWK is invalid: {0}")]
    InvalidJwk(&'static str),
    /// A JWK uses a key type, curve, algorithm or use this crate does not
    /// verify with.
    #[error("JWK is not supported: {0}")]
    UnsupportedJwk(&'static str),
    /// A JWK contains private key members (`d`, `p`, `q`, ...).
    #[error("JWK contains private key material")]
    PrivateJwk,
    /// The JWK's `alg` member contradicts its key type.
    #[error("JWK alg does not match its key type")]
    JwkAlgorithmMismatch,
    /// The JWKS document is not a JSON object with a `keys` array.
    #[error("JWKS document is not a JSON object with a `keys` array")]
    InvalidJwks,
    /// An algorithm restriction on a key contradicts the key type.
    #[error("algorithm {0:?} cannot be used with this key type")]
    AlgorithmForKeyType(Algorithm),
    /// The `kid` given to a key is empty.
    #[error("key id (kid) must not be empty")]
    EmptyKid,
}

/// A misconfiguration detected by
/// [`ValidatorBuilder::build`](super::ValidatorBuilder::build).
///
/// The builder refuses to produce a [`Validator`](super::Validator) that would
/// be insecure or could not accept any token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The algorithm allow-list is empty.
    #[error("no algorithms allowed: configure the allow-list with `algorithms`")]
    NoAlgorithms,
    /// No verification key was configured (or the key source is empty).
    #[error("no verification keys configured")]
    NoKeys,
    /// Both static keys and a custom key source were configured.
    #[error("configure either static keys / JWKS or a custom key source, not both")]
    ConflictingKeySources,
    /// A key could not be loaded.
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),
    /// A key can be used with none of the allowed algorithms (its family does
    /// not match the allow-list).
    #[error("key {key} matches none of the allowed algorithms")]
    KeyMatchesNoAlgorithm {
        /// The key's `kid`, or `#<index>` when it has none.
        key: String,
    },
    /// An allowed algorithm has no key that could verify it.
    #[error("allowed algorithm {0:?} has no key that can verify it")]
    AlgorithmWithoutKey(Algorithm),
    /// An HMAC key is shorter than the hash output of an allowed HS algorithm
    /// it could be used with.
    #[error("key {key}: HMAC secret too short for {algorithm:?} (need {min} bytes)")]
    WeakHmacSecret {
        /// The key's `kid`, or `#<index>` when it has none.
        key: String,
        /// The HS algorithm the secret is too short for.
        algorithm: Algorithm,
        /// The minimum secret length for that algorithm, in bytes.
        min: usize,
    },
    /// Two keys share the same `kid`.
    #[error("duplicate key id {0:?}")]
    DuplicateKid(String),
    /// Neither an issuer was configured nor issuer checking explicitly
    /// waived with `waive_issuer()`.
    #[error("issuer not configured: call `issuer(..)` or explicitly `waive_issuer()`")]
    IssuerNotConfigured,
    /// Neither an audience was configured nor audience checking explicitly
    /// waived with `waive_audience()`.
    #[error("audience not configured: call `audience(..)` or explicitly `waive_audience()`")]
    AudienceNotConfigured,
    /// An issuer was configured and issuer checking waived at the same time.
    #[error("issuer both configured and waived")]
    IssuerConflict,
    /// An audience was configured and audience checking waived at the same
    /// time.
    #[error("audience both configured and waived")]
    AudienceConflict,
    /// An empty issuer or audience string was configured.
    #[error("issuer and audience values must not be empty")]
    EmptyIssuerOrAudience,
    /// jti-based revocation (denylisting) is on but `jti` is not required,
    /// so a token without `jti` could never be revoked individually.
    #[error("jti denylisting is enabled but `jti` is not required")]
    DenylistRequiresJti,
    /// The leeway exceeds the maximum of 300 seconds.
    #[error("leeway of {secs}s exceeds the maximum of 300s")]
    LeewayTooLarge {
        /// Configured leeway in whole seconds.
        secs: u64,
    },
    /// The maximum token length is outside 256..=65536 bytes.
    #[error("maximum token length {0} is outside 256..=65536 bytes")]
    MaxTokenLength(usize),
    /// The required `typ` value is empty or contains whitespace.
    #[error("required token type (typ) must be a non-empty media type without whitespace")]
    InvalidTyp,
}
