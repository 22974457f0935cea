//! [`ValidatorBuilder`]: configuration that fails fast.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jsonwebtoken::crypto::CryptoProvider;

use super::claims::ClaimRules;
use super::error::ConfigError;
use super::header::normalize_typ;
use super::keys::{KeySet, KeySource, StaticKeys, VerificationKey, hmac_min_len};
use super::{Inner, Validator};

/// Default leeway for `exp`, `nbf` and `iat`: 30 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Largest accepted leeway: 300 seconds.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// Default maximum token length: 8 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
/// Smallest configurable maximum token length.
pub const MIN_MAX_TOKEN_LEN: usize = 256;
/// Largest configurable maximum token length: 64 KiB.
pub const MAX_MAX_TOKEN_LEN: usize = 64 * 1024;

/// Builds a [`Validator`]. Nothing is checked until [`build`](Self::build),
/// which rejects every insecure or unusable configuration with a typed
/// [`ConfigError`].
///
/// Required: an algorithm allow-list, at least one key, and for both issuer
/// and audience either a value or an explicit waiver.
///
/// Defaults: leeway 30 s, max token length 8 KiB, `jti` required and jti
/// denylisting assumed (the core revokes single tokens by `jti`), `iat`
/// required, `kid` optional, no `typ` requirement.
#[derive(Debug)]
#[must_use]
pub struct ValidatorBuilder {
    algorithms: Vec<Algorithm>,
    keys: Vec<VerificationKey>,
    jwks: Vec<String>,
    source: Option<Arc<dyn KeySource>>,
    issuers: Vec<String>,
    waive_issuer: bool,
    audiences: Vec<String>,
    waive_audience: bool,
    leeway: Duration,
    max_token_len: usize,
    require_jti: bool,
    jti_denylist: bool,
    require_iat: bool,
    require_kid: bool,
    typ: Option<String>,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        Self {
            algorithms: Vec::new(),
            keys: Vec::new(),
            jwks: Vec::new(),
            source: None,
            issuers: Vec::new(),
            waive_issuer: false,
            audiences: Vec::new(),
            waive_audience: false,
            leeway: DEFAULT_LEEWAY,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            require_jti: true,
            jti_denylist: true,
            require_iat: true,
            require_kid: false,
            typ: None,
        }
    }
}

impl ValidatorBuilder {
    /// A builder with the defaults described on the type.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds algorithms to the allow-list. The token header's `alg` must be on
    /// this list; it never selects anything by itself.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        for alg in algorithms {
            if !self.algorithms.contains(&alg) {
                self.algorithms.push(alg);
            }
        }
        self
    }

    /// Adds one verification key.
    pub fn key(mut self, key: VerificationKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds several verification keys (for rotation: old and new side by
    /// side, told apart by `kid`).
    pub fn keys(mut self, keys: impl IntoIterator<Item = VerificationKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Adds the keys of a JWKS document given as JSON text; parsed by
    /// [`build`](Self::build) (see [`KeySet::from_jwks_json`]).
    pub fn jwks_json(mut self, json: impl Into<String>) -> Self {
        self.jwks.push(json.into());
        self
    }

    /// Uses a custom [`KeySource`] (for example a future JWKS fetcher)
    /// instead of static keys. Mutually exclusive with `key`, `keys` and
    /// `jwks_json`.
    pub fn key_source(mut self, source: impl KeySource) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Accepts tokens whose `iss` equals this value (may be called several
    /// times to accept several issuers). Comparison is exact.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Explicitly disables the issuer check. `iss`, if present, is still
    /// type-checked.
    pub fn waive_issuer(mut self) -> Self {
        self.waive_issuer = true;
        self
    }

    /// Accepts tokens whose `aud` contains this value (may be called several
    /// times). Comparison is exact.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Explicitly disables the audience check. `aud`, if present, is still
    /// type-checked.
    pub fn waive_audience(mut self) -> Self {
        self.waive_audience = true;
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat` (whole seconds;
    /// default 30 s, at most 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Maximum token length in bytes, checked before any decoding (default
    /// 8 KiB, accepted range 256 B ..= 64 KiB).
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// Whether `jti` is required (default `true`). Turning it off also
    /// requires [`jti_denylist(false)`](Self::jti_denylist).
    pub fn require_jti(mut self, required: bool) -> Self {
        self.require_jti = required;
        self
    }

    /// Declares whether single tokens are revoked by `jti` (the core's
    /// `revoke_token`; default `true`). While on, `jti` must be required:
    /// a token without `jti` could not be revoked individually.
    pub fn jti_denylist(mut self, enabled: bool) -> Self {
        self.jti_denylist = enabled;
        self
    }

    /// Whether `iat` is required (default `true`). The core's
    /// revoke-everything-before cutoffs compare `iat`; without it a token is
    /// treated as issued at the epoch (see [`StandardClaims::iat`](super::StandardClaims::iat)).
    pub fn require_iat(mut self, required: bool) -> Self {
        self.require_iat = required;
        self
    }

    /// Whether tokens must name their key with `kid` (default `false`).
    /// Without `kid`, every key of the right type is tried in turn; requiring
    /// it bounds verification to a single key per token.
    pub fn require_kid(mut self, required: bool) -> Self {
        self.require_kid = required;
        self
    }

    /// Requires the header `typ` to equal `typ`, compared case-insensitively
    /// and ignoring an `application/` prefix; e.g. `"at+jwt"` for RFC 9068
    /// access tokens (then `at+jwt` and `application/at+jwt` both match).
    pub fn require_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Checks the configuration and builds the validator.
    ///
    /// Also makes sure the `rust_crypto` provider is available: this crate
    /// verifies with that provider directly, and installs it as the process
    /// default if no default exists, so no later `jsonwebtoken` call in the
    /// process can panic for lack of a provider.
    ///
    /// # Errors
    /// A [`ConfigError`] describing the first problem found.
    pub fn build(self) -> Result<Validator, ConfigError> {
        ensure_crypto_provider();

        if self.algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithms);
        }

        let source: Arc<dyn KeySource> = match self.source {
            Some(source) => {
                if !self.keys.is_empty() || !self.jwks.is_empty() {
                    return Err(ConfigError::ConflictingKeySources);
                }
                source
            }
            None => {
                let mut keys = self.keys;
                for json in &self.jwks {
                    keys.extend(KeySet::from_jwks_json(json)?.iter().cloned());
                }
                Arc::new(StaticKeys::new(KeySet::new(keys)?))
            }
        };
        check_keys(&source.key_set(), &self.algorithms)?;

        let issuers = audience_like(
            self.issuers,
            self.waive_issuer,
            ConfigError::IssuerNotConfigured,
            ConfigError::IssuerConflict,
        )?;
        let audiences = audience_like(
            self.audiences,
            self.waive_audience,
            ConfigError::AudienceNotConfigured,
            ConfigError::AudienceConflict,
        )?;

        if self.jti_denylist && !self.require_jti {
            return Err(ConfigError::DenylistRequiresJti);
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge {
                secs: self.leeway.as_secs(),
            });
        }
        if !(MIN_MAX_TOKEN_LEN..=MAX_MAX_TOKEN_LEN).contains(&self.max_token_len) {
            return Err(ConfigError::MaxTokenLength(self.max_token_len));
        }
        let typ = match self.typ {
            None => None,
            Some(typ) => {
                let normalized = normalize_typ(&typ);
                if normalized.is_empty() || typ.chars().any(char::is_whitespace) {
                    return Err(ConfigError::InvalidTyp);
                }
                Some(normalized)
            }
        };

        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX);
        Ok(Validator {
            inner: Arc::new(Inner {
                algorithms: self.algorithms,
                keys: source,
                rules: ClaimRules {
                    require_jti: self.require_jti,
                    require_iat: self.require_iat,
                    issuers,
                    audiences,
                    leeway,
                },
                max_token_len: self.max_token_len,
                require_kid: self.require_kid,
                typ,
            }),
        })
    }
}

/// Resolves a "configured or explicitly waived" setting.
fn audience_like(
    values: Vec<String>,
    waived: bool,
    missing: ConfigError,
    conflict: ConfigError,
) -> Result<Option<Vec<String>>, ConfigError> {
    match (values.is_empty(), waived) {
        (true, true) => Ok(None),
        (true, false) => Err(missing),
        (false, true) => Err(conflict),
        (false, false) => {
            if values.iter().any(String::is_empty) {
                return Err(ConfigError::EmptyIssuerOrAudience);
            }
            Ok(Some(values))
        }
    }
}

/// Every key must serve some allowed algorithm, every allowed algorithm must
/// have a key, and HMAC secrets must be long enough for the HS algorithms
/// they may verify.
fn check_keys(set: &KeySet, algorithms: &[Algorithm]) -> Result<(), ConfigError> {
    if set.is_empty() {
        return Err(ConfigError::NoKeys);
    }
    for (index, key) in set.iter().enumerate() {
        let mut usable = algorithms
            .iter()
            .copied()
            .filter(|a| key.accepts(*a))
            .peekable();
        if usable.peek().is_none() {
            return Err(ConfigError::KeyMatchesNoAlgorithm {
                key: key.label(index),
            });
        }
        if let Some(len) = key.hmac_len() {
            for alg in usable {
                let min = hmac_min_len(alg);
                if len < min {
                    return Err(ConfigError::WeakHmacSecret {
                        key: key.label(index),
                        algorithm: alg,
                        min,
                    });
                }
            }
        }
    }
    for alg in algorithms {
        if !set.iter().any(|k| k.accepts(*alg)) {
            return Err(ConfigError::AlgorithmWithoutKey(*alg));
        }
    }
    Ok(())
}

/// Installs the `rust_crypto` provider as the process default when there is
/// none. Never panics; if another provider is already the default it is left
/// alone (this crate does not use the default for its own verification).
fn ensure_crypto_provider() {
    if CryptoProvider::try_get_default().is_none()
        && jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
            .install_default()
            .is_err()
    {
        tracing::debug!("jsonwebtoken crypto provider installed concurrently by someone else");
    }
}
