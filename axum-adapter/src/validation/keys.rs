//! Verification keys, key sets and the [`KeySource`] seam.
//!
//! Every key is typed by its [`KeyType`] when it is loaded, and a key is only
//! ever used with the algorithms of its own type:
//!
//! | key type            | algorithms                  |
//! |---------------------|-----------------------------|
//! | [`KeyType::Hmac`]   | `HS256`, `HS384`, `HS512`   |
//! | [`KeyType::Rsa`]    | `RS256/384/512`, `PS256/384/512` |
//! | [`KeyType::EcP256`] | `ES256`                     |
//! | [`KeyType::EcP384`] | `ES384`                     |
//! | [`KeyType::Ed25519`]| `EdDSA`                     |
//!
//! This is what defeats algorithm-confusion attacks such as an `HS256` token
//! "signed" with an RSA public key used as an HMAC secret: the RSA key is
//! never handed to an HMAC verifier, whatever the token header says.
//!
//! Keys are loaded from PEM (public keys only), from a JWK or from a JWKS
//! document, and are validated eagerly (curve points decoded, RSA modulus size
//! and exponent checked, HMAC secret length checked) so that a bad key fails
//! at startup, not on the first request.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::error::{ConfigError, KeyError};

/// The crypto backend this crate pins. Using the `rust_crypto` provider
/// directly (instead of the process-wide default) means a different provider
/// installed by another crate can neither change our verification nor make it
/// panic.
pub(crate) fn provider() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
}

/// Smallest accepted HMAC secret, in bytes (the HS256 hash size).
pub const MIN_HMAC_SECRET_LEN: usize = 32;
/// Smallest accepted RSA modulus, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest accepted RSA modulus, in bits (bounds verification cost; also the
/// `rsa` crate's own limit).
pub const MAX_RSA_BITS: usize = 8192;
/// Largest accepted RSA public exponent (the `rsa` crate's own limit, so a
/// key accepted here is never refused at verification time).
const MAX_RSA_EXPONENT: u64 = (1 << 33) - 1;

/// The type of a verification key, which fixes the algorithms it may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Shared HMAC secret; verifies `HS256`, `HS384`, `HS512`.
    Hmac,
    /// RSA public key; verifies `RS256/384/512` and `PS256/384/512`.
    Rsa,
    /// ECDSA P-256 public key; verifies `ES256` only.
    EcP256,
    /// ECDSA P-384 public key; verifies `ES384` only.
    EcP384,
    /// Ed25519 public key; verifies `EdDSA` only.
    Ed25519,
}

impl KeyType {
    /// Whether a key of this type may verify tokens signed with `alg`.
    pub const fn supports(self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (
                KeyType::Hmac,
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
            ) | (
                KeyType::Rsa,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (KeyType::EcP256, Algorithm::ES256)
                | (KeyType::EcP384, Algorithm::ES384)
                | (KeyType::Ed25519, Algorithm::EdDSA)
        )
    }
}

/// Minimum HMAC secret length for an HS algorithm (RFC 7518 §3.2: at least
/// the hash output size).
pub(crate) const fn hmac_min_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => MIN_HMAC_SECRET_LEN,
    }
}

/// One trusted verification key.
///
/// Construct with [`hmac`](Self::hmac), the PEM constructors or
/// [`from_jwk`](Self::from_jwk); name it with [`with_kid`](Self::with_kid) and
/// optionally pin it to one algorithm with
/// [`with_algorithm`](Self::with_algorithm). `Debug` output never contains key
/// material.
#[derive(Clone)]
pub struct VerificationKey {
    kid: Option<String>,
    key_type: KeyType,
    algorithm: Option<Algorithm>,
    decoding: DecodingKey,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("key_type", &self.key_type)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    fn new(key_type: KeyType, decoding: DecodingKey) -> Self {
        Self {
            kid: None,
            key_type,
            algorithm: None,
            decoding,
        }
    }

    /// An HMAC shared secret (raw bytes, not base64).
    ///
    /// # Errors
    /// [`KeyError::HmacSecretTooShort`] if shorter than 32 bytes. The builder
    /// additionally requires 48 / 64 bytes if `HS384` / `HS512` is allowed
    /// for this key.
    pub fn hmac(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(KeyError::HmacSecretTooShort {
                len: secret.len(),
                min: MIN_HMAC_SECRET_LEN,
            });
        }
        let decoding =
            DecodingKey::from_secret(secret).map_err(|_| KeyError::HmacSecretTooShort {
                len: secret.len(),
                min: MIN_HMAC_SECRET_LEN,
            })?;
        Ok(Self::new(KeyType::Hmac, decoding))
    }

    /// An RSA public key in PEM form (`PUBLIC KEY` / SPKI or
    /// `RSA PUBLIC KEY` / PKCS#1).
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`] for private keys, [`KeyError::InvalidPem`]
    /// for anything that is not an RSA public key,
    /// [`KeyError::RsaModulusSize`] / [`KeyError::RsaExponent`] for weak or
    /// absurd parameters.
    pub fn rsa_pem(pem: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let pem = pem.as_ref();
        check_public_pem_label(pem)?;
        let decoding = DecodingKey::from_rsa_pem(pem).map_err(|_| KeyError::InvalidPem)?;
        let der = decoding
            .try_get_as_bytes()
            .map_err(|_| KeyError::InvalidPem)?;
        let (n, e) = (provider().key_utils.rsa_pub_components_from_public_key)(der)
            .map_err(|_| KeyError::InvalidPem)?;
        check_rsa_components(&n, &e)?;
        Ok(Self::new(KeyType::Rsa, decoding))
    }

    /// An EC public key (P-256 or P-384) in PEM form (`PUBLIC KEY` / SPKI).
    /// The curve is detected from the key.
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`], [`KeyError::InvalidPem`] or
    /// [`KeyError::InvalidEcKey`].
    pub fn ec_pem(pem: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let pem = pem.as_ref();
        check_public_pem_label(pem)?;
        let decoding = DecodingKey::from_ec_pem(pem).map_err(|_| KeyError::InvalidPem)?;
        let point = decoding
            .try_get_as_bytes()
            .map_err(|_| KeyError::InvalidPem)?;
        let key_type = ec_point_curve(point)?;
        Self::checked(key_type, decoding)
    }

    /// An Ed25519 public key in PEM form (`PUBLIC KEY` / SPKI).
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`], [`KeyError::InvalidPem`] or
    /// [`KeyError::InvalidEd25519Key`].
    pub fn ed25519_pem(pem: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let pem = pem.as_ref();
        check_public_pem_label(pem)?;
        let decoding = DecodingKey::from_ed_pem(pem).map_err(|_| KeyError::InvalidPem)?;
        let raw = decoding
            .try_get_as_bytes()
            .map_err(|_| KeyError::InvalidPem)?;
        ed25519_from_raw(raw)
    }

    /// A public key in PEM form whose type (RSA, EC P-256/P-384, Ed25519) is
    /// detected from the document.
    ///
    /// # Errors
    /// As for the typed PEM constructors.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let pem = pem.as_ref();
        check_public_pem_label(pem)?;
        if DecodingKey::from_rsa_pem(pem).is_ok() {
            Self::rsa_pem(pem)
        } else if DecodingKey::from_ec_pem(pem).is_ok() {
            Self::ec_pem(pem)
        } else if DecodingKey::from_ed_pem(pem).is_ok() {
            Self::ed25519_pem(pem)
        } else {
            Err(KeyError::InvalidPem)
        }
    }

    /// A key from a JSON Web Key (RFC 7517) given as JSON text.
    ///
    /// Supported: `kty` `RSA`, `EC` (`P-256`, `P-384`), `OKP` (`Ed25519`) and
    /// `oct`. The JWK's `kid` and `alg` become the key's id and algorithm
    /// pin. Keys with `use` other than `sig`, `key_ops` without `verify`, or
    /// private members are refused.
    ///
    /// # Errors
    /// [`KeyError::InvalidJwk`], [`KeyError::UnsupportedJwk`],
    /// [`KeyError::PrivateJwk`], [`KeyError::JwkAlgorithmMismatch`] or a key
    /// validation error.
    pub fn from_jwk_json(json: &str) -> Result<Self, KeyError> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(map)) => key_from_jwk_map(&map),
            _ => Err(KeyError::InvalidJwk("not a JSON object")),
        }
    }

    /// A key from a [`jsonwebtoken::jwk::Jwk`]. Same rules as
    /// [`from_jwk_json`](Self::from_jwk_json).
    ///
    /// # Errors
    /// As for [`from_jwk_json`](Self::from_jwk_json).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        match serde_json::to_value(jwk) {
            Ok(Value::Object(map)) => key_from_jwk_map(&map),
            _ => Err(KeyError::InvalidJwk("not a JSON object")),
        }
    }

    /// Names this key. Tokens whose header `kid` equals this value select
    /// this key (and only this key).
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Pins this key to a single algorithm (which must belong to the key's
    /// type; checked by the builder). Without a pin the key may verify every
    /// *allowed* algorithm of its type.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = Some(algorithm);
        self
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The algorithm this key is pinned to, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm
    }

    /// Whether this key may verify a token signed with `alg` (type match and
    /// pin match; the allow-list is checked separately).
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.key_type.supports(alg) && self.algorithm.is_none_or(|pinned| pinned == alg)
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Length of the HMAC secret, for HMAC keys.
    pub(crate) fn hmac_len(&self) -> Option<usize> {
        match self.key_type {
            KeyType::Hmac => self.decoding.try_get_as_bytes().ok().map(<[u8]>::len),
            _ => None,
        }
    }

    /// A label for configuration errors: the kid or `#<index>`.
    pub(crate) fn label(&self, index: usize) -> String {
        match &self.kid {
            Some(kid) => format!("{kid:?}"),
            None => format!("#{index}"),
        }
    }

    /// Checks that the provider can build a verifier for this key (decodes
    /// curve points etc.).
    fn checked(key_type: KeyType, decoding: DecodingKey) -> Result<Self, KeyError> {
        let (alg, err) = match key_type {
            KeyType::EcP256 => (Algorithm::ES256, KeyError::InvalidEcKey),
            KeyType::EcP384 => (Algorithm::ES384, KeyError::InvalidEcKey),
            KeyType::Ed25519 => (Algorithm::EdDSA, KeyError::InvalidEd25519Key),
            KeyType::Hmac | KeyType::Rsa => return Ok(Self::new(key_type, decoding)),
        };
        if (provider().verifier_factory)(&alg, &decoding).is_err() {
            return Err(err);
        }
        Ok(Self::new(key_type, decoding))
    }

    fn check_config(&self) -> Result<(), KeyError> {
        if self.kid.as_deref() == Some("") {
            return Err(KeyError::EmptyKid);
        }
        if let Some(alg) = self.algorithm
            && !self.key_type.supports(alg)
        {
            return Err(KeyError::AlgorithmForKeyType(alg));
        }
        Ok(())
    }
}

/// Refuses private keys and certificates; a verifier needs public keys only.
fn check_public_pem_label(pem: &[u8]) -> Result<(), KeyError> {
    let text = std::str::from_utf8(pem).map_err(|_| KeyError::InvalidPem)?;
    let start = text.find("-----BEGIN ").ok_or(KeyError::InvalidPem)? + "-----BEGIN ".len();
    let rest = text.get(start..).ok_or(KeyError::InvalidPem)?;
    let end = rest.find("-----").ok_or(KeyError::InvalidPem)?;
    let label = rest.get(..end).ok_or(KeyError::InvalidPem)?;
    if label.contains("PRIVATE") {
        return Err(KeyError::PrivateKey);
    }
    match label {
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Ok(()),
        _ => Err(KeyError::InvalidPem),
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

fn check_rsa_components(n: &[u8], e: &[u8]) -> Result<(), KeyError> {
    let n = strip_leading_zeros(n);
    let bits = match n.first() {
        Some(top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    };
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(KeyError::RsaModulusSize { bits });
    }
    if n.last().is_none_or(|low| low % 2 == 0) {
        return Err(KeyError::RsaModulus);
    }
    let e = strip_leading_zeros(e);
    if e.is_empty() || e.len() > 8 {
        return Err(KeyError::RsaExponent);
    }
    let mut value: u64 = 0;
    for b in e {
        value = (value << 8) | u64::from(*b);
    }
    if !(3..=MAX_RSA_EXPONENT).contains(&value) || value.is_multiple_of(2) {
        return Err(KeyError::RsaExponent);
    }
    Ok(())
}

/// Determines the curve of a SEC1-encoded EC point from its length.
fn ec_point_curve(point: &[u8]) -> Result<KeyType, KeyError> {
    match (point.len(), point.first()) {
        (65, Some(4)) | (33, Some(2 | 3)) => Ok(KeyType::EcP256),
        (97, Some(4)) | (49, Some(2 | 3)) => Ok(KeyType::EcP384),
        _ => Err(KeyError::InvalidEcKey),
    }
}

fn ed25519_from_raw(raw: &[u8]) -> Result<VerificationKey, KeyError> {
    // The provider slices `[..32]`: never hand it anything but exactly 32 bytes.
    if raw.len() != 32 {
        return Err(KeyError::InvalidEd25519Key);
    }
    VerificationKey::checked(KeyType::Ed25519, DecodingKey::from_ed_der(raw))
}

fn jwk_str<'a>(
    map: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, KeyError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::InvalidJwk(name)),
    }
}

fn jwk_b64(map: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let s = jwk_str(map, name)?.ok_or(KeyError::InvalidJwk(name))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| KeyError::InvalidJwk(name))
}

fn key_from_jwk_map(map: &Map<String, Value>) -> Result<VerificationKey, KeyError> {
    let kty = jwk_str(map, "kty")?.ok_or(KeyError::InvalidJwk("kty"))?;
    if let Some(key_use) = jwk_str(map, "use")?
        && key_use != "sig"
    {
        return Err(KeyError::UnsupportedJwk("use"));
    }
    if let Some(ops) = map.get("key_ops") {
        let Value::Array(ops) = ops else {
            return Err(KeyError::InvalidJwk("key_ops"));
        };
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err(KeyError::UnsupportedJwk("key_ops"));
        }
    }
    let algorithm = match jwk_str(map, "alg")? {
        None => None,
        Some(name) => Some(Algorithm::from_str(name).map_err(|_| KeyError::UnsupportedJwk("alg"))?),
    };
    let kid = jwk_str(map, "kid")?;
    if kid == Some("") {
        return Err(KeyError::InvalidJwk("kid"));
    }

    let has_private = |names: &[&str]| names.iter().any(|n| map.contains_key(*n));
    let key = match kty {
        "RSA" => {
            if has_private(&["d", "p", "q", "dp", "dq", "qi", "oth"]) {
                return Err(KeyError::PrivateJwk);
            }
            let n = jwk_b64(map, "n")?;
            let e = jwk_b64(map, "e")?;
            check_rsa_components(&n, &e)?;
            VerificationKey::new(
                KeyType::Rsa,
                DecodingKey::from_rsa_raw_components(
                    strip_leading_zeros(&n),
                    strip_leading_zeros(&e),
                ),
            )
        }
        "EC" => {
            if has_private(&["d"]) {
                return Err(KeyError::PrivateJwk);
            }
            let (key_type, size) = match jwk_str(map, "crv")? {
                Some("P-256") => (KeyType::EcP256, 32),
                Some("P-384") => (KeyType::EcP384, 48),
                Some(_) => return Err(KeyError::UnsupportedJwk("crv")),
                None => return Err(KeyError::InvalidJwk("crv")),
            };
            let x = jwk_b64(map, "x")?;
            let y = jwk_b64(map, "y")?;
            if x.len() != size || y.len() != size {
                return Err(KeyError::InvalidEcKey);
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            VerificationKey::checked(key_type, DecodingKey::from_ec_der(&point))?
        }
        "OKP" => {
            if has_private(&["d"]) {
                return Err(KeyError::PrivateJwk);
            }
            match jwk_str(map, "crv")? {
                Some("Ed25519") => {}
                Some(_) => return Err(KeyError::UnsupportedJwk("crv")),
                None => return Err(KeyError::InvalidJwk("crv")),
            }
            ed25519_from_raw(&jwk_b64(map, "x")?)?
        }
        "oct" => VerificationKey::hmac(jwk_b64(map, "k")?)?,
        _ => return Err(KeyError::UnsupportedJwk("kty")),
    };

    if let Some(alg) = algorithm
        && !key.key_type.supports(alg)
    {
        return Err(KeyError::JwkAlgorithmMismatch);
    }
    let key = match kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    };
    Ok(match algorithm {
        Some(alg) => key.with_algorithm(alg),
        None => key,
    })
}

/// An immutable, validated set of verification keys with unique `kid`s.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

impl KeySet {
    /// Builds a key set.
    ///
    /// # Errors
    /// [`ConfigError::DuplicateKid`] if two keys share a `kid`, or
    /// [`ConfigError::Key`] for an empty `kid` or an algorithm pin that
    /// contradicts the key type.
    pub fn new(keys: impl IntoIterator<Item = VerificationKey>) -> Result<Self, ConfigError> {
        let keys: Vec<VerificationKey> = keys.into_iter().collect();
        let mut seen = HashSet::new();
        for key in &keys {
            key.check_config()?;
            if let Some(kid) = key.kid()
                && !seen.insert(kid)
            {
                return Err(ConfigError::DuplicateKid(kid.to_owned()));
            }
        }
        Ok(Self { keys })
    }

    /// Parses a JWKS document (`{"keys": [...]}`, RFC 7517 §5).
    ///
    /// Keys this crate cannot verify with (encryption keys, `use` other than
    /// `sig`, unsupported `kty` / `crv` / `alg` such as `RSA-OAEP` or `P-521`)
    /// are skipped, because real-world JWKS documents routinely contain them.
    /// A key of a supported type that is malformed or carries private
    /// material is an error: that is a broken document, not an unknown
    /// extension.
    ///
    /// # Errors
    /// [`ConfigError::Key`] with [`KeyError::InvalidJwks`] or a per-key
    /// error, or [`ConfigError::DuplicateKid`].
    pub fn from_jwks_json(json: &str) -> Result<Self, ConfigError> {
        let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(json) else {
            return Err(KeyError::InvalidJwks.into());
        };
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(KeyError::InvalidJwks.into());
        };
        let mut keys = Vec::with_capacity(entries.len());
        for entry in entries {
            let Value::Object(map) = entry else {
                return Err(KeyError::InvalidJwks.into());
            };
            match key_from_jwk_map(map) {
                Ok(key) => keys.push(key),
                Err(KeyError::UnsupportedJwk(what)) => {
                    tracing::debug!(unsupported = what, "skipping JWKS entry");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Self::new(keys)
    }

    /// The key with this `kid`, if any.
    pub fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }

    /// All keys, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &VerificationKey> {
        self.keys.iter()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Where a [`Validator`](super::Validator) gets its keys from.
///
/// This is the seam for key rotation and for network JWKS fetching (not
/// implemented here). The validator calls [`key_set`](Self::key_set) once per
/// token and works on that snapshot, so an implementation can swap in a new
/// [`KeySet`] atomically (for example behind an `RwLock<Arc<KeySet>>` or an
/// `ArcSwap`) while requests are in flight. A fetching implementation should
/// refresh in the background and must never block the request path.
///
/// Whatever a source returns, the validator still enforces the algorithm
/// allow-list and the key-type/algorithm pairing on every token, so a source
/// cannot widen what is accepted.
pub trait KeySource: Send + Sync + fmt::Debug + 'static {
    /// The current snapshot of trusted keys. Must be cheap (an `Arc` clone).
    fn key_set(&self) -> Arc<KeySet>;

    /// Hint that a token named a `kid` absent from the current snapshot.
    ///
    /// A fetching source may use this to schedule a *rate-limited* refresh
    /// (the `kid` is attacker-controlled). Must not block. The default does
    /// nothing.
    fn on_unknown_kid(&self, kid: &str) {
        let _ = kid;
    }
}

/// A [`KeySource`] that always returns the same [`KeySet`]. This is what the
/// builder uses for keys given with `key`, `keys` and `jwks_json`.
#[derive(Debug, Clone)]
pub struct StaticKeys(Arc<KeySet>);

impl StaticKeys {
    /// Wraps a key set.
    pub fn new(keys: KeySet) -> Self {
        Self(Arc::new(keys))
    }
}

impl KeySource for StaticKeys {
    fn key_set(&self) -> Arc<KeySet> {
        Arc::clone(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_types_pair_only_with_their_algorithms() {
        use Algorithm::*;
        let all = [
            HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,
        ];
        for alg in all {
            let expected = match alg {
                HS256 | HS384 | HS512 => KeyType::Hmac,
                RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => KeyType::Rsa,
                ES256 => KeyType::EcP256,
                ES384 => KeyType::EcP384,
                _ => KeyType::Ed25519,
            };
            for kt in [
                KeyType::Hmac,
                KeyType::Rsa,
                KeyType::EcP256,
                KeyType::EcP384,
                KeyType::Ed25519,
            ] {
                assert_eq!(kt.supports(alg), kt == expected, "{kt:?} / {alg:?}");
            }
        }
    }

    #[test]
    fn short_ed25519_jwk_is_an_error_not_a_panic() {
        let err = VerificationKey::from_jwk_json(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#)
            .unwrap_err();
        assert_eq!(err, KeyError::InvalidEd25519Key);
    }

    #[test]
    fn ec_point_not_on_curve_is_rejected() {
        let zeros = URL_SAFE_NO_PAD.encode([0u8; 32]);
        let json = format!(r#"{{"kty":"EC","crv":"P-256","x":"{zeros}","y":"{zeros}"}}"#);
        assert_eq!(
            VerificationKey::from_jwk_json(&json).unwrap_err(),
            KeyError::InvalidEcKey
        );
    }

    #[test]
    fn rsa_parameter_checks() {
        assert_eq!(
            check_rsa_components(&[0xff; 128], &[1, 0, 1]),
            Err(KeyError::RsaModulusSize { bits: 1024 })
        );
        assert_eq!(check_rsa_components(&[0xff; 256], &[1, 0, 1]), Ok(()));
        assert_eq!(
            check_rsa_components(&[0xfe; 256], &[1, 0, 1]),
            Err(KeyError::RsaModulus)
        );
        assert_eq!(
            check_rsa_components(&[0xff; 256], &[3, 0, 0, 0, 1]),
            Err(KeyError::RsaExponent)
        );
        assert_eq!(
            check_rsa_components(&[0xff; 256], &[2]),
            Err(KeyError::RsaExponent)
        );
        assert_eq!(
            check_rsa_components(&[0xff; 256], &[1]),
            Err(KeyError::RsaExponent)
        );
    }

    #[test]
    fn jwks_skips_unsupported_entries() {
        let json = r#"{"keys":[
            {"kty":"RSA","use":"enc","n":"x","e":"AQAB","kid":"enc"},
            {"kty":"EC","crv":"P-521","x":"x","y":"y","kid":"p521"},
            {"kty":"oct","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE","kid":"h"}
        ]}"#;
        let set = KeySet::from_jwks_json(json).expect("jwks");
        assert_eq!(set.len(), 1);
        assert!(set.get("h").is_some());
    }

    #[test]
    fn jwk_with_private_members_is_refused() {
        let json = r#"{"kty":"OKP","crv":"Ed25519","x":"x","d":"d"}"#;
        assert_eq!(
            VerificationKey::from_jwk_json(json).unwrap_err(),
            KeyError::PrivateJwk
        );
    }
}
