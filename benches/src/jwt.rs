//! The scale: `jsonwebtoken` 12 decoding and verifying tokens with the same
//! claims as the probes (HS256 and ES256, RustCrypto backend).

use crate::Stream;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The ES256 benchmark key pair (PKCS#8 PEM, generated with openssl; see
/// `benches/keys/README.md`).
pub const ES256_PRIVATE_PEM: &[u8] = include_bytes!("../keys/es256-private.pem");
/// The public half of [`ES256_PRIVATE_PEM`].
pub const ES256_PUBLIC_PEM: &[u8] = include_bytes!("../keys/es256-public.pem");

const HS256_SECRET: &[u8] = b"authstate-benches: 32+ bytes of HMAC secret, bench only";

/// The claims of a benchmark token: what `authstate-axum` would read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Subject.
    pub sub: String,
    /// Token id.
    pub jti: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Subject version.
    pub ver: u32,
    /// Role bits.
    pub roles: u32,
}

/// Signed tokens and the keys and validations to decode them.
pub struct Jwt {
    hs_key: DecodingKey,
    es_key: DecodingKey,
    hs_validation: Validation,
    es_validation: Validation,
    /// HS256 tokens, one per entry of the first `n` of the stream.
    pub hs: Vec<String>,
    /// ES256 tokens, one per entry of the first `n` of the stream.
    pub es: Vec<String>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("tokens", &self.hs.len())
            .finish_non_exhaustive()
    }
}

impl Jwt {
    /// Signs the claims of the stream's first `n` entries with both algorithms.
    ///
    /// # Panics
    /// If the benchmark keys do not parse or signing fails.
    pub fn new(stream: &Stream, n: usize) -> Self {
        // Pin the RustCrypto provider, in case feature unification in the
        // workspace enables a second backend (then none is chosen by default).
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let hs_enc = EncodingKey::from_secret(HS256_SECRET).expect("HS256 secret");
        let es_enc = EncodingKey::from_ec_pem(ES256_PRIVATE_PEM).expect("ES256 private key");
        let claims: Vec<Claims> = (0..n)
            .map(|i| {
                let f = stream.facts(i);
                Claims {
                    sub: f.subject.to_owned(),
                    jti: f.jti.unwrap_or_default().to_owned(),
                    iat: f.issued_at.as_secs(),
                    exp: f.expires_at.as_secs(),
                    ver: f.version.map_or(0, |v| v.0),
                    roles: f.roles.bits(),
                }
            })
            .collect();
        let sign = |alg, key: &EncodingKey| -> Vec<String> {
            claims
                .iter()
                .map(|c| jsonwebtoken::encode(&Header::new(alg), c, key).expect("sign"))
                .collect()
        };
        Self {
            hs_key: DecodingKey::from_secret(HS256_SECRET).expect("HS256 secret"),
            es_key: DecodingKey::from_ec_pem(ES256_PUBLIC_PEM).expect("ES256 public key"),
            hs_validation: Validation::new(Algorithm::HS256),
            es_validation: Validation::new(Algorithm::ES256),
            hs: sign(Algorithm::HS256, &hs_enc),
            es: sign(Algorithm::ES256, &es_enc),
        }
    }

    /// Decodes and verifies HS256 token `i` (wrapping).
    ///
    /// # Panics
    /// If the token does not verify (it always does).
    #[inline]
    pub fn decode_hs256(&self, i: usize) -> Claims {
        let token = &self.hs[i % self.hs.len()];
        jsonwebtoken::decode::<Claims>(token, &self.hs_key, &self.hs_validation)
            .expect("HS256 token verifies")
            .claims
    }

    /// Decodes and verifies ES256 token `i` (wrapping).
    ///
    /// # Panics
    /// If the token does not verify (it always does).
    #[inline]
    pub fn decode_es256(&self, i: usize) -> Claims {
        let token = &self.es[i % self.es.len()];
        jsonwebtoken::decode::<Claims>(token, &self.es_key, &self.es_validation)
            .expect("ES256 token verifies")
            .claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_to_the_probe_claims() {
        let workload = crate::Workload::new(100, 0, 3);
        let stream = workload.stream(0, 4);
        let jwt = Jwt::new(&stream, 8);
        for i in 0..8 {
            let facts = stream.facts(i);
            assert_eq!(jwt.decode_hs256(i).jti, facts.jti.unwrap());
            assert_eq!(jwt.decode_es256(i).sub, facts.subject);
        }
    }
}
