//! Attack and acceptance tests for the JWT validation layer.
//!
//! Every attack asserts the exact [`TokenError`] variant. Tokens are minted
//! with `jsonwebtoken` itself (same `rust_crypto` backend) from the fixed,
//! test-only keys in `tests/keys/`.

use std::time::Duration;

use authstate_axum::validation::{
    Algorithm, ConfigError, EmbeddedKeyHeader, KeyError, KeySet, KeySource, KeyType,
    NoCustomClaims, Segment, StaticKeys, TokenError, ValidatedToken, Validator, ValidatorBuilder,
    VerificationKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://issuer.example";
const AUD: &str = "orders-api";
const HMAC_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const HMAC_SECRET_2: &[u8] = b"fedcba9876543210fedcba9876543210";

const RSA_PRIV: &str = include_str!("keys/rsa_private.pem");
const RSA_PUB: &str = include_str!("keys/rsa_public.pem");
const RSA2_PRIV: &str = include_str!("keys/rsa2_private.pem");
const RSA1024_PUB: &str = include_str!("keys/rsa1024_public.pem");
const EC256_PRIV: &str = include_str!("keys/ec256_private.pem");
const EC256_PUB: &str = include_str!("keys/ec256_public.pem");
const EC384_PRIV: &str = include_str!("keys/ec384_private.pem");
const EC384_PUB: &str = include_str!("keys/ec384_public.pem");
const ED_PRIV: &str = include_str!("keys/ed25519_private.pem");
const ED_PUB: &str = include_str!("keys/ed25519_public.pem");

type Res = Result<(), Box<dyn std::error::Error>>;

// ---------------------------------------------------------------- helpers --

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(v: &Value) -> String {
    b64(v.to_string().as_bytes())
}

fn claims() -> Value {
    json!({
        "sub": "alice",
        "jti": "tok-1",
        "iat": NOW - 10,
        "exp": NOW + 300,
        "iss": ISS,
        "aud": AUD,
    })
}

fn claims_with(key: &str, value: Value) -> Value {
    let mut c = claims();
    c[key] = value;
    c
}

fn claims_without(key: &str) -> Value {
    let mut c = claims();
    if let Value::Object(m) = &mut c {
        m.remove(key);
    }
    c
}

fn hmac_key() -> EncodingKey {
    EncodingKey::from_secret(HMAC_SECRET).expect("hmac key")
}
fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIV.as_bytes()).expect("rsa key")
}
fn ec256_key() -> EncodingKey {
    EncodingKey::from_ec_pem(EC256_PRIV.as_bytes()).expect("ec256 key")
}
fn ec384_key() -> EncodingKey {
    EncodingKey::from_ec_pem(EC384_PRIV.as_bytes()).expect("ec384 key")
}
fn ed_key() -> EncodingKey {
    EncodingKey::from_ed_pem(ED_PRIV.as_bytes()).expect("ed key")
}

/// Signs an arbitrary header / payload JSON with `alg`, bypassing the
/// `Header` type so tests can put anything in the header.
fn sign_raw(header: &Value, payload: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = format!("{}.{}", b64_json(header), b64_json(payload));
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("sign");
    format!("{input}.{sig}")
}

fn header(alg: &str, kid: Option<&str>) -> Value {
    let mut h = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        h["kid"] = json!(kid);
    }
    h
}

fn hs256(payload: &Value) -> String {
    sign_raw(
        &header("HS256", Some("hs")),
        payload,
        &hmac_key(),
        Algorithm::HS256,
    )
}

fn base_builder() -> ValidatorBuilder {
    Validator::builder().issuer(ISS).audience(AUD)
}

fn hs_validator() -> Validator {
    base_builder()
        .algorithms([Algorithm::HS256])
        .key(
            VerificationKey::hmac(HMAC_SECRET)
                .expect("secret")
                .with_kid("hs"),
        )
        .build()
        .expect("valid config")
}

fn rsa_validator() -> Validator {
    base_builder()
        .algorithms([Algorithm::RS256])
        .key(
            VerificationKey::rsa_pem(RSA_PUB)
                .expect("rsa pub")
                .with_kid("rsa"),
        )
        .build()
        .expect("valid config")
}

fn check(v: &Validator, token: &str) -> Result<ValidatedToken<NoCustomClaims>, TokenError> {
    v.validate_at(token, NOW)
}

fn err(v: &Validator, token: &str) -> TokenError {
    match check(v, token) {
        Ok(t) => panic!("token unexpectedly accepted: {:?}", t.claims),
        Err(e) => e,
    }
}

// ------------------------------------------------------ positive per key --

#[test]
fn accepts_hs256() -> Res {
    let v = hs_validator();
    let t = check(&v, &hs256(&claims()))?;
    assert_eq!(t.algorithm, Algorithm::HS256);
    assert_eq!(t.kid.as_deref(), Some("hs"));
    assert_eq!(t.claims.sub, "alice");
    assert_eq!(t.claims.jti.as_deref(), Some("tok-1"));
    assert_eq!(t.claims.iat, NOW - 10);
    assert_eq!(t.claims.exp, NOW + 300);
    assert_eq!(t.claims.iss.as_deref(), Some(ISS));
    assert_eq!(t.claims.aud, vec![AUD.to_owned()]);
    Ok(())
}

#[test]
fn accepts_rs256_and_ps256() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::RS256, Algorithm::PS256])
        .key(VerificationKey::rsa_pem(RSA_PUB)?.with_kid("rsa"))
        .build()?;
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let name = format!("{alg:?}");
        let t = sign_raw(&header(&name, Some("rsa")), &claims(), &rsa_key(), alg);
        assert_eq!(check(&v, &t)?.algorithm, alg);
    }
    Ok(())
}

#[test]
fn accepts_es256() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::ES256])
        .key(VerificationKey::ec_pem(EC256_PUB)?.with_kid("p256"))
        .build()?;
    let t = sign_raw(
        &header("ES256", Some("p256")),
        &claims(),
        &ec256_key(),
        Algorithm::ES256,
    );
    assert_eq!(check(&v, &t)?.algorithm, Algorithm::ES256);
    Ok(())
}

#[test]
fn accepts_es384() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::ES384])
        .key(VerificationKey::ec_pem(EC384_PUB)?.with_kid("p384"))
        .build()?;
    let t = sign_raw(
        &header("ES384", Some("p384")),
        &claims(),
        &ec384_key(),
        Algorithm::ES384,
    );
    assert_eq!(check(&v, &t)?.algorithm, Algorithm::ES384);
    Ok(())
}

#[test]
fn accepts_eddsa() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::EdDSA])
        .key(VerificationKey::ed25519_pem(ED_PUB)?.with_kid("ed"))
        .build()?;
    let t = sign_raw(
        &header("EdDSA", Some("ed")),
        &claims(),
        &ed_key(),
        Algorithm::EdDSA,
    );
    assert_eq!(check(&v, &t)?.algorithm, Algorithm::EdDSA);
    Ok(())
}

#[test]
fn from_pem_detects_key_types() -> Res {
    assert_eq!(VerificationKey::from_pem(RSA_PUB)?.key_type(), KeyType::Rsa);
    assert_eq!(
        VerificationKey::from_pem(EC256_PUB)?.key_type(),
        KeyType::EcP256
    );
    assert_eq!(
        VerificationKey::from_pem(EC384_PUB)?.key_type(),
        KeyType::EcP384
    );
    assert_eq!(
        VerificationKey::from_pem(ED_PUB)?.key_type(),
        KeyType::Ed25519
    );
    Ok(())
}

fn jwk_json(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let jwk = Jwk::from_encoding_key(key, alg).expect("jwk");
    let mut v = serde_json::to_value(jwk).expect("jwk json");
    v["kid"] = json!(kid);
    v["use"] = json!("sig");
    v
}

fn jwks_document() -> String {
    json!({"keys": [
        jwk_json(&rsa_key(), Algorithm::RS256, "rsa-2024"),
        jwk_json(&ec256_key(), Algorithm::ES256, "p256-2024"),
        jwk_json(&ec384_key(), Algorithm::ES384, "p384-2024"),
        jwk_json(&ed_key(), Algorithm::EdDSA, "ed-2024"),
        // an encryption key, routinely found in real JWKS: skipped
        {"kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "kid": "enc", "n": "AQAB", "e": "AQAB"},
    ]})
    .to_string()
}

#[test]
fn accepts_each_key_type_from_jwks_by_kid() -> Res {
    let v = base_builder()
        .algorithms([
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ])
        .jwks_json(jwks_document())
        .require_kid(true)
        .build()?;
    let cases = [
        ("RS256", "rsa-2024", rsa_key(), Algorithm::RS256),
        ("ES256", "p256-2024", ec256_key(), Algorithm::ES256),
        ("ES384", "p384-2024", ec384_key(), Algorithm::ES384),
        ("EdDSA", "ed-2024", ed_key(), Algorithm::EdDSA),
    ];
    for (name, kid, key, alg) in &cases {
        let t = sign_raw(&header(name, Some(kid)), &claims(), key, *alg);
        let ok = check(&v, &t)?;
        assert_eq!(ok.kid.as_deref(), Some(*kid));
        assert_eq!(ok.algorithm, *alg);
    }
    // the JWKS pins each key to its alg: the RSA key (alg RS256 in the JWK)
    // does not verify for a kid-bearing token of a different family
    let t = sign_raw(
        &header("ES256", Some("rsa-2024")),
        &claims(),
        &ec256_key(),
        Algorithm::ES256,
    );
    assert_eq!(err(&v, &t), TokenError::KeyAlgorithmMismatch);
    Ok(())
}

#[test]
fn accepts_single_jwk_and_oct_jwks() -> Res {
    let rsa =
        VerificationKey::from_jwk_json(&jwk_json(&rsa_key(), Algorithm::RS256, "r").to_string())?;
    assert_eq!(rsa.key_type(), KeyType::Rsa);
    assert_eq!(rsa.kid(), Some("r"));
    assert_eq!(rsa.algorithm(), Some(Algorithm::RS256));

    let jwk: Jwk = serde_json::from_value(jwk_json(&ed_key(), Algorithm::EdDSA, "e"))?;
    assert_eq!(
        VerificationKey::from_jwk(&jwk)?.key_type(),
        KeyType::Ed25519
    );

    let doc = json!({"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64(HMAC_SECRET)}]});
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .jwks_json(doc.to_string())
        .build()?;
    check(&v, &hs256(&claims()))?;
    Ok(())
}

#[test]
fn key_rotation_selects_by_kid_and_tries_all_without_kid() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .keys([
            VerificationKey::hmac(HMAC_SECRET)?.with_kid("old"),
            VerificationKey::hmac(HMAC_SECRET_2)?.with_kid("new"),
        ])
        .build()?;
    let new_key = EncodingKey::from_secret(HMAC_SECRET_2)?;
    let t_new = sign_raw(
        &header("HS256", Some("new")),
        &claims(),
        &new_key,
        Algorithm::HS256,
    );
    let t_old = sign_raw(
        &header("HS256", Some("old")),
        &claims(),
        &hmac_key(),
        Algorithm::HS256,
    );
    check(&v, &t_new)?;
    check(&v, &t_old)?;
    // naming the wrong one of two valid keys fails
    let t_swapped = sign_raw(
        &header("HS256", Some("old")),
        &claims(),
        &new_key,
        Algorithm::HS256,
    );
    assert_eq!(err(&v, &t_swapped), TokenError::InvalidSignature);
    // without kid every HMAC key is tried
    let t_nokid = sign_raw(
        &header("HS256", None),
        &claims(),
        &new_key,
        Algorithm::HS256,
    );
    check(&v, &t_nokid)?;
    Ok(())
}

#[derive(Debug, Deserialize, PartialEq)]
struct AppClaims {
    tenant: String,
    #[serde(default)]
    beta: bool,
}

#[test]
fn custom_claims_and_role_claims() -> Res {
    let v = hs_validator();
    let mut c = claims();
    c["tenant"] = json!("acme");
    c["ver"] = json!(4);
    c["fam"] = json!("77");
    c["role"] = json!("admin");
    c["roles"] = json!(["editor"]);
    c["scope"] = json!("orders:read orders:write");
    let t: ValidatedToken<AppClaims> = v.validate_at(&hs256(&c), NOW)?;
    assert_eq!(
        t.custom,
        AppClaims {
            tenant: "acme".into(),
            beta: false
        }
    );
    assert_eq!(t.claims.ver, Some(4));
    assert_eq!(t.claims.fam, Some(77));
    assert_eq!(
        t.claims.roles,
        ["admin", "editor", "orders:read", "orders:write"]
    );

    let wrong: Result<ValidatedToken<AppClaims>, _> = v.validate_at(&hs256(&claims()), NOW);
    assert_eq!(wrong.err(), Some(TokenError::CustomClaims));
    Ok(())
}

#[test]
fn validate_uses_the_system_clock() -> Res {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    )?;
    let v = hs_validator();
    let mut c = claims();
    c["iat"] = json!(now);
    c["exp"] = json!(now + 60);
    v.validate::<NoCustomClaims>(&hs256(&c))?;
    c["exp"] = json!(now - 120);
    assert_eq!(
        v.validate::<NoCustomClaims>(&hs256(&c)).err(),
        Some(TokenError::Expired)
    );
    Ok(())
}

#[test]
fn rfc9068_typ_accepted_in_all_spellings() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .require_typ("at+jwt")
        .build()?;
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let t = sign_raw(
            &json!({"alg":"HS256","typ":typ}),
            &claims(),
            &hmac_key(),
            Algorithm::HS256,
        );
        check(&v, &t)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- attacks --

#[test]
fn alg_none_rejected_in_every_casing() {
    let v = hs_validator();
    for none in ["none", "None", "NONE", "nOnE", "NoNe"] {
        let unsigned = format!(
            "{}.{}.",
            b64_json(&json!({"alg": none})),
            b64_json(&claims())
        );
        assert_eq!(err(&v, &unsigned), TokenError::AlgorithmNone, "{none}");
        // even with a "signature" attached
        let with_sig = format!("{unsigned}{}", b64(b"sig"));
        assert_eq!(err(&v, &with_sig), TokenError::AlgorithmNone, "{none}");
    }
}

#[test]
fn hs256_signed_with_rsa_public_key_rejected_by_allow_list() -> Res {
    let forged_key = EncodingKey::from_secret(RSA_PUB.as_bytes())?;
    let t = sign_raw(
        &header("HS256", Some("rsa")),
        &claims(),
        &forged_key,
        Algorithm::HS256,
    );
    assert_eq!(
        err(&rsa_validator(), &t),
        TokenError::AlgorithmNotAllowed(Algorithm::HS256)
    );
    Ok(())
}

#[test]
fn hs256_signed_with_rsa_public_key_rejected_even_if_hs256_allowed() -> Res {
    // Both families allowed (mixed deployment): the RSA key is still never
    // used as an HMAC secret.
    let v = base_builder()
        .algorithms([Algorithm::RS256, Algorithm::HS256])
        .key(VerificationKey::rsa_pem(RSA_PUB)?.with_kid("rsa"))
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .build()?;
    let forged_key = EncodingKey::from_secret(RSA_PUB.as_bytes())?;
    let named = sign_raw(
        &header("HS256", Some("rsa")),
        &claims(),
        &forged_key,
        Algorithm::HS256,
    );
    assert_eq!(err(&v, &named), TokenError::KeyAlgorithmMismatch);
    let unnamed = sign_raw(
        &header("HS256", None),
        &claims(),
        &forged_key,
        Algorithm::HS256,
    );
    assert_eq!(err(&v, &unnamed), TokenError::InvalidSignature);
    Ok(())
}

#[test]
fn algorithm_outside_allow_list_rejected() {
    let v = rsa_validator();
    for alg in [Algorithm::RS512, Algorithm::PS256] {
        let t = sign_raw(
            &header(&format!("{alg:?}"), Some("rsa")),
            &claims(),
            &rsa_key(),
            alg,
        );
        assert_eq!(err(&v, &t), TokenError::AlgorithmNotAllowed(alg));
    }
    let t = sign_raw(
        &header("ES256", Some("rsa")),
        &claims(),
        &ec256_key(),
        Algorithm::ES256,
    );
    assert_eq!(
        err(&v, &t),
        TokenError::AlgorithmNotAllowed(Algorithm::ES256)
    );
    // unknown / wrongly cased names
    for alg in ["hs256", "RS1", "ES512", "HS256 "] {
        let t = format!(
            "{}.{}.{}",
            b64_json(&json!({"alg": alg})),
            b64_json(&claims()),
            b64(b"x")
        );
        assert_eq!(err(&v, &t), TokenError::UnsupportedAlgorithm, "{alg}");
    }
}

#[test]
fn es256_token_cannot_use_p384_key() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::ES256, Algorithm::ES384])
        .key(VerificationKey::ec_pem(EC256_PUB)?.with_kid("p256"))
        .key(VerificationKey::ec_pem(EC384_PUB)?.with_kid("p384"))
        .build()?;
    let t = sign_raw(
        &header("ES256", Some("p384")),
        &claims(),
        &ec256_key(),
        Algorithm::ES256,
    );
    assert_eq!(err(&v, &t), TokenError::KeyAlgorithmMismatch);
    Ok(())
}

#[test]
fn wrong_key_rejected() -> Res {
    let other = EncodingKey::from_rsa_pem(RSA2_PRIV.as_bytes())?;
    let t = sign_raw(
        &header("RS256", Some("rsa")),
        &claims(),
        &other,
        Algorithm::RS256,
    );
    assert_eq!(err(&rsa_validator(), &t), TokenError::InvalidSignature);

    let other_secret = EncodingKey::from_secret(HMAC_SECRET_2)?;
    let t = sign_raw(
        &header("HS256", Some("hs")),
        &claims(),
        &other_secret,
        Algorithm::HS256,
    );
    assert_eq!(err(&hs_validator(), &t), TokenError::InvalidSignature);
    Ok(())
}

#[test]
fn tampered_payload_rejected() {
    let t = hs256(&claims());
    let mut parts: Vec<&str> = t.split('.').collect();
    let forged = b64_json(&claims_with("sub", json!("admin")));
    parts[1] = &forged;
    assert_eq!(
        err(&hs_validator(), &parts.join(".")),
        TokenError::InvalidSignature
    );
}

#[test]
fn embedded_jwk_header_rejected() -> Res {
    // The attacker signs with their own key and ships its public half in the
    // header, hoping the verifier trusts it.
    let attacker = EncodingKey::from_rsa_pem(RSA2_PRIV.as_bytes())?;
    let attacker_jwk = serde_json::to_value(Jwk::from_encoding_key(&attacker, Algorithm::RS256)?)?;
    let mut h = header("RS256", Some("rsa"));
    h["jwk"] = attacker_jwk;
    let t = sign_raw(&h, &claims(), &attacker, Algorithm::RS256);
    assert_eq!(
        err(&rsa_validator(), &t),
        TokenError::EmbeddedKey(EmbeddedKeyHeader::Jwk)
    );

    // jku / x5u / x5c likewise, even on otherwise valid tokens
    for (param, value, which) in [
        (
            "jku",
            json!("https://evil.example/jwks.json"),
            EmbeddedKeyHeader::Jku,
        ),
        (
            "x5u",
            json!("https://evil.example/cert.pem"),
            EmbeddedKeyHeader::X5u,
        ),
        ("x5c", json!(["MIIB"]), EmbeddedKeyHeader::X5c),
    ] {
        let mut h = header("RS256", Some("rsa"));
        h[param] = value;
        let t = sign_raw(&h, &claims(), &rsa_key(), Algorithm::RS256);
        assert_eq!(err(&rsa_validator(), &t), TokenError::EmbeddedKey(which));
    }
    Ok(())
}

#[test]
fn unknown_kid_rejected() {
    let t = sign_raw(
        &header("HS256", Some("nope")),
        &claims(),
        &hmac_key(),
        Algorithm::HS256,
    );
    assert_eq!(err(&hs_validator(), &t), TokenError::UnknownKid);
}

#[test]
fn missing_kid_rejected_when_required() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .require_kid(true)
        .build()?;
    let t = sign_raw(
        &header("HS256", None),
        &claims(),
        &hmac_key(),
        Algorithm::HS256,
    );
    assert_eq!(err(&v, &t), TokenError::MissingKid);
    Ok(())
}

#[test]
fn expired_rejected() {
    let v = hs_validator();
    // beyond the default 30 s leeway
    let t = hs256(&claims_with("exp", json!(NOW - 31)));
    assert_eq!(err(&v, &t), TokenError::Expired);
    // inside the leeway still accepted
    let t = hs256(&claims_with("exp", json!(NOW - 29)));
    assert!(check(&v, &t).is_ok());
}

#[test]
fn leeway_is_configurable() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .leeway(Duration::ZERO)
        .build()?;
    assert_eq!(
        err(&v, &hs256(&claims_with("exp", json!(NOW)))),
        TokenError::Expired
    );
    assert!(check(&v, &hs256(&claims_with("exp", json!(NOW + 1)))).is_ok());
    Ok(())
}

#[test]
fn nbf_in_future_rejected() {
    let v = hs_validator();
    let t = hs256(&claims_with("nbf", json!(NOW + 3600)));
    assert_eq!(err(&v, &t), TokenError::NotYetValid);
    assert!(check(&v, &hs256(&claims_with("nbf", json!(NOW)))).is_ok());
}

#[test]
fn iat_in_future_rejected() {
    let t = hs256(&claims_with("iat", json!(NOW + 3600)));
    assert_eq!(err(&hs_validator(), &t), TokenError::IssuedInFuture);
}

#[test]
fn missing_exp_rejected() {
    let t = hs256(&claims_without("exp"));
    assert_eq!(err(&hs_validator(), &t), TokenError::MissingClaim("exp"));
}

#[test]
fn missing_sub_rejected() {
    let t = hs256(&claims_without("sub"));
    assert_eq!(err(&hs_validator(), &t), TokenError::MissingClaim("sub"));
}

#[test]
fn missing_jti_rejected() {
    let t = hs256(&claims_without("jti"));
    assert_eq!(err(&hs_validator(), &t), TokenError::MissingClaim("jti"));
}

#[test]
fn missing_iat_rejected_by_default_and_optional_on_request() -> Res {
    let t = hs256(&claims_without("iat"));
    assert_eq!(err(&hs_validator(), &t), TokenError::MissingClaim("iat"));
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .require_iat(false)
        .build()?;
    assert_eq!(
        check(&v, &t)?.claims.iat,
        0,
        "absent iat is fail-closed: the epoch"
    );
    Ok(())
}

#[test]
fn exp_as_string_rejected() {
    let v = hs_validator();
    let t = hs256(&claims_with("exp", json!((NOW + 300).to_string())));
    assert_eq!(err(&v, &t), TokenError::InvalidClaimType("exp"));
}

#[test]
fn wrong_claim_types_rejected_naming_the_claim() {
    let v = hs_validator();
    let cases = [
        ("exp", json!(1.7e9), "exp"),
        ("exp", json!((NOW + 300) as f64 + 0.5), "exp"),
        ("nbf", json!("0"), "nbf"),
        ("iat", json!([NOW]), "iat"),
        ("sub", json!(42), "sub"),
        ("iss", json!({"url": ISS}), "iss"),
        ("aud", json!(12), "aud"),
        ("aud", json!([AUD, false]), "aud"),
        ("jti", json!(7), "jti"),
        ("ver", json!("1"), "ver"),
        ("fam", json!(true), "fam"),
        ("roles", json!("admin"), "roles"),
        ("scope", json!(["read"]), "scope"),
    ];
    for (claim, value, named) in cases {
        let t = hs256(&claims_with(claim, value.clone()));
        assert_eq!(
            err(&v, &t),
            TokenError::InvalidClaimType(named),
            "{claim} = {value}"
        );
    }
}

#[test]
fn wrong_iss_rejected() {
    let t = hs256(&claims_with("iss", json!("https://evil.example")));
    assert_eq!(err(&hs_validator(), &t), TokenError::InvalidIssuer);
    let t = hs256(&claims_without("iss"));
    assert_eq!(err(&hs_validator(), &t), TokenError::MissingClaim("iss"));
}

#[test]
fn wrong_aud_rejected() {
    let v = hs_validator();
    let t = hs256(&claims_with("aud", json!("other-api")));
    assert_eq!(err(&v, &t), TokenError::InvalidAudience);
    let t = hs256(&claims_with("aud", json!(["a", "b"])));
    assert_eq!(err(&v, &t), TokenError::InvalidAudience);
    let t = hs256(&claims_with("aud", json!(["a", AUD])));
    assert!(check(&v, &t).is_ok());
}

#[test]
fn waived_issuer_and_audience_ignore_values_but_check_types() -> Res {
    let v = Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .waive_issuer()
        .waive_audience()
        .build()?;
    check(&v, &hs256(&claims_with("iss", json!("anyone"))))?;
    check(&v, &hs256(&claims_without("aud")))?;
    assert_eq!(
        err(&v, &hs256(&claims_with("aud", json!(1)))),
        TokenError::InvalidClaimType("aud")
    );
    Ok(())
}

#[test]
fn oversized_token_rejected() {
    let v = hs_validator();
    // garbage: rejected on length alone, nothing decoded
    let garbage = "!".repeat(8 * 1024 + 1);
    assert_eq!(err(&v, &garbage), TokenError::TooLong);
    // a validly signed but padded-out token
    let big = hs256(&claims_with("pad", json!("x".repeat(9000))));
    assert_eq!(err(&v, &big), TokenError::TooLong);
}

#[test]
fn wrong_segment_count_rejected() {
    let v = hs_validator();
    let t = hs256(&claims());
    let parts: Vec<&str> = t.split('.').collect();
    for bad in [
        String::new(),
        parts[0].to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{t}.extra"),
        format!("{t}.a.b"), // JWE compact has five segments
    ] {
        assert_eq!(err(&v, &bad), TokenError::SegmentCount, "{bad}");
    }
}

#[test]
fn bad_base64_rejected() {
    let v = hs_validator();
    let t = hs256(&claims());
    let parts: Vec<&str> = t.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    // padding, standard alphabet, whitespace, non-ASCII in the header
    for bad_h in [
        format!("{h}="),
        format!("{h}+"),
        format!(" {h}"),
        format!("{h}é"),
    ] {
        assert_eq!(
            err(&v, &format!("{bad_h}.{p}.{s}")),
            TokenError::Base64(Segment::Header)
        );
    }
    assert_eq!(
        err(&v, &format!("{h}.{p}.{s}=")),
        TokenError::Base64(Segment::Signature)
    );
    // a correctly signed payload segment that is not base64url
    let input = format!("{h}.{p}=");
    let sig =
        jsonwebtoken::crypto::sign(input.as_bytes(), &hmac_key(), Algorithm::HS256).expect("sign");
    assert_eq!(
        err(&v, &format!("{input}.{sig}")),
        TokenError::Base64(Segment::Payload)
    );
    // an unsigned forged payload with bad base64 is a signature failure first
    assert_eq!(
        err(&v, &format!("{h}.{p}=.{s}")),
        TokenError::InvalidSignature
    );
}

#[test]
fn non_object_or_duplicate_member_json_rejected() {
    let v = hs_validator();
    let sig = b64(b"sig");
    for bad in ["[]", "\"HS256\"", "{", "{\"alg\":\"HS256\"} x"] {
        let t = format!("{}.{}.{sig}", b64(bad.as_bytes()), b64_json(&claims()));
        assert_eq!(err(&v, &t), TokenError::Json(Segment::Header), "{bad}");
    }
    // duplicate alg: parser-differential bait
    let dup = br#"{"alg":"HS256","kid":"hs","alg":"none"}"#;
    let t = format!("{}.{}.{sig}", b64(dup), b64_json(&claims()));
    assert_eq!(err(&v, &t), TokenError::Json(Segment::Header));

    // duplicate sub in a correctly signed payload
    let h = b64_json(&header("HS256", Some("hs")));
    let p = b64(format!(
        r#"{{"sub":"alice","sub":"admin","jti":"j","iat":{},"exp":{},"iss":"{ISS}","aud":"{AUD}"}}"#,
        NOW,
        NOW + 60
    )
    .as_bytes());
    let input = format!("{h}.{p}");
    let s =
        jsonwebtoken::crypto::sign(input.as_bytes(), &hmac_key(), Algorithm::HS256).expect("sign");
    assert_eq!(
        err(&v, &format!("{input}.{s}")),
        TokenError::Json(Segment::Payload)
    );
}

#[test]
fn unknown_crit_rejected() {
    let v = hs_validator();
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x")] {
        let mut h = header("HS256", Some("hs"));
        h["crit"] = crit.clone();
        h["exp"] = json!(NOW);
        let t = sign_raw(&h, &claims(), &hmac_key(), Algorithm::HS256);
        assert_eq!(err(&v, &t), TokenError::CriticalHeader, "{crit}");
    }
}

#[test]
fn wrong_typ_rejected() -> Res {
    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(HMAC_SECRET)?.with_kid("hs"))
        .require_typ("application/at+jwt")
        .build()?;
    for typ in [json!("JWT"), json!("id+jwt"), json!("application/jwt")] {
        let t = sign_raw(
            &json!({"alg":"HS256","typ":typ}),
            &claims(),
            &hmac_key(),
            Algorithm::HS256,
        );
        assert_eq!(err(&v, &t), TokenError::WrongType, "{typ}");
    }
    let t = sign_raw(
        &json!({"alg":"HS256"}),
        &claims(),
        &hmac_key(),
        Algorithm::HS256,
    );
    assert_eq!(err(&v, &t), TokenError::WrongType);
    let t = sign_raw(
        &json!({"alg":"HS256","typ":5}),
        &claims(),
        &hmac_key(),
        Algorithm::HS256,
    );
    assert_eq!(err(&v, &t), TokenError::InvalidHeader("typ"));
    Ok(())
}

#[test]
fn categories_are_short_and_static() {
    let cases = [
        (TokenError::TooLong, "malformed"),
        (TokenError::Base64(Segment::Payload), "malformed"),
        (TokenError::AlgorithmNone, "algorithm"),
        (
            TokenError::AlgorithmNotAllowed(Algorithm::HS256),
            "algorithm",
        ),
        (TokenError::KeyAlgorithmMismatch, "algorithm"),
        (TokenError::CriticalHeader, "header"),
        (TokenError::EmbeddedKey(EmbeddedKeyHeader::Jwk), "header"),
        (TokenError::UnknownKid, "key"),
        (TokenError::InvalidSignature, "signature"),
        (TokenError::Expired, "expired"),
        (TokenError::NotYetValid, "not yet valid"),
        (TokenError::MissingClaim("sub"), "claims"),
        (TokenError::InvalidIssuer, "issuer"),
        (TokenError::InvalidAudience, "audience"),
    ];
    for (e, cat) in cases {
        assert_eq!(e.category(), cat, "{e:?}");
    }
}

#[test]
fn errors_never_echo_token_contents() {
    let v = hs_validator();
    let marker = "SECRETMARKER";
    let tokens = [
        hs256(&claims_with("sub", json!(42))),
        hs256(&claims_with("iss", json!(marker))),
        hs256(&claims_with("aud", json!(marker))),
        sign_raw(
            &header("HS256", Some(marker)),
            &claims(),
            &hmac_key(),
            Algorithm::HS256,
        ),
        format!(
            "{}.{}.x",
            b64_json(&json!({"alg": marker})),
            b64_json(&claims())
        ),
    ];
    for t in tokens {
        let e = err(&v, &t);
        assert!(!e.to_string().contains(marker));
        assert!(!format!("{e:?}").contains(marker));
    }
}

// ---------------------------------------------------------- configuration --

fn config_err(b: ValidatorBuilder) -> ConfigError {
    match b.build() {
        Ok(v) => panic!("configuration unexpectedly accepted: {v:?}"),
        Err(e) => e,
    }
}

fn hs_key() -> VerificationKey {
    VerificationKey::hmac(HMAC_SECRET).expect("secret")
}

#[test]
fn config_requires_algorithms_and_keys() {
    assert_eq!(
        config_err(base_builder().key(hs_key())),
        ConfigError::NoAlgorithms
    );
    assert_eq!(
        config_err(base_builder().algorithms([Algorithm::HS256])),
        ConfigError::NoKeys
    );
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::HS256])
                .jwks_json(r#"{"keys":[]}"#)
        ),
        ConfigError::NoKeys
    );
}

#[test]
fn config_rejects_key_family_outside_allow_list() -> Res {
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::RS256])
                .key(hs_key().with_kid("hs"))
        ),
        ConfigError::KeyMatchesNoAlgorithm {
            key: "\"hs\"".into()
        }
    );
    // a P-384 key cannot serve an ES256-only allow-list
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::ES256])
                .key(VerificationKey::ec_pem(EC384_PUB)?)
        ),
        ConfigError::KeyMatchesNoAlgorithm { key: "#0".into() }
    );
    // an allowed algorithm nobody can verify
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::HS256, Algorithm::RS256])
                .key(hs_key())
        ),
        ConfigError::AlgorithmWithoutKey(Algorithm::RS256)
    );
    // an algorithm pin contradicting the key type
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::HS256])
                .key(hs_key().with_algorithm(Algorithm::RS256))
        ),
        ConfigError::Key(KeyError::AlgorithmForKeyType(Algorithm::RS256))
    );
    Ok(())
}

#[test]
fn config_requires_issuer_and_audience_or_waiver() {
    let b = || {
        Validator::builder()
            .algorithms([Algorithm::HS256])
            .key(hs_key())
    };
    assert_eq!(
        config_err(b().audience(AUD)),
        ConfigError::IssuerNotConfigured
    );
    assert_eq!(
        config_err(b().issuer(ISS)),
        ConfigError::AudienceNotConfigured
    );
    assert_eq!(
        config_err(b().issuer(ISS).waive_issuer().audience(AUD)),
        ConfigError::IssuerConflict
    );
    assert_eq!(
        config_err(b().issuer(ISS).audience(AUD).waive_audience()),
        ConfigError::AudienceConflict
    );
    assert_eq!(
        config_err(b().issuer("").audience(AUD)),
        ConfigError::EmptyIssuerOrAudience
    );
    assert!(b().waive_issuer().waive_audience().build().is_ok());
}

#[test]
fn config_denylist_requires_jti() {
    let b = || base_builder().algorithms([Algorithm::HS256]).key(hs_key());
    assert_eq!(
        config_err(b().require_jti(false)),
        ConfigError::DenylistRequiresJti
    );
    assert!(b().require_jti(false).jti_denylist(false).build().is_ok());
}

#[test]
fn config_rejects_weak_or_wrong_keys() {
    assert_eq!(
        VerificationKey::hmac(b"short").unwrap_err(),
        KeyError::HmacSecretTooShort { len: 5, min: 32 }
    );
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::HS256, Algorithm::HS512])
                .key(hs_key())
        ),
        ConfigError::WeakHmacSecret {
            key: "#0".into(),
            algorithm: Algorithm::HS512,
            min: 64
        }
    );
    assert_eq!(
        VerificationKey::rsa_pem(RSA_PRIV).unwrap_err(),
        KeyError::PrivateKey
    );
    assert_eq!(
        VerificationKey::from_pem(EC256_PRIV).unwrap_err(),
        KeyError::PrivateKey
    );
    assert_eq!(
        VerificationKey::rsa_pem(RSA1024_PUB).unwrap_err(),
        KeyError::RsaModulusSize { bits: 1024 }
    );
    assert_eq!(
        VerificationKey::rsa_pem(EC256_PUB).unwrap_err(),
        KeyError::InvalidPem
    );
    assert_eq!(
        VerificationKey::ec_pem(ED_PUB).unwrap_err(),
        KeyError::InvalidPem
    );
    assert_eq!(
        VerificationKey::from_pem("not a pem").unwrap_err(),
        KeyError::InvalidPem
    );
}

#[test]
fn config_rejects_duplicate_kids_and_bad_jwks() {
    let b = || base_builder().algorithms([Algorithm::HS256]);
    assert_eq!(
        config_err(b().key(hs_key().with_kid("a")).key(hs_key().with_kid("a"))),
        ConfigError::DuplicateKid("a".into())
    );
    assert_eq!(
        config_err(b().key(hs_key().with_kid(""))),
        ConfigError::Key(KeyError::EmptyKid)
    );
    assert_eq!(
        config_err(b().jwks_json("[]")),
        ConfigError::Key(KeyError::InvalidJwks)
    );
    assert_eq!(
        config_err(b().jwks_json(r#"{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}"#)),
        ConfigError::Key(KeyError::HmacSecretTooShort { len: 5, min: 32 })
    );
    assert_eq!(
        config_err(
            b().jwks_json(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}"#)
        ),
        ConfigError::Key(KeyError::PrivateJwk)
    );
}

#[test]
fn config_bounds() {
    let b = || base_builder().algorithms([Algorithm::HS256]).key(hs_key());
    assert_eq!(
        config_err(b().leeway(Duration::from_secs(301))),
        ConfigError::LeewayTooLarge { secs: 301 }
    );
    assert_eq!(
        config_err(b().max_token_len(0)),
        ConfigError::MaxTokenLength(0)
    );
    assert_eq!(config_err(b().require_typ("")), ConfigError::InvalidTyp);
    assert_eq!(
        config_err(b().require_typ("application/")),
        ConfigError::InvalidTyp
    );
    assert_eq!(
        config_err(b().require_typ("at jwt")),
        ConfigError::InvalidTyp
    );
}

#[derive(Debug)]
struct Rotating(std::sync::RwLock<std::sync::Arc<KeySet>>);

impl KeySource for Rotating {
    fn key_set(&self) -> std::sync::Arc<KeySet> {
        match self.0.read() {
            Ok(guard) => std::sync::Arc::clone(&guard),
            Err(poisoned) => std::sync::Arc::clone(&poisoned.into_inner()),
        }
    }
}

#[test]
fn custom_key_source_is_consulted_per_token() -> Res {
    let source = std::sync::Arc::new(Rotating(std::sync::RwLock::new(std::sync::Arc::new(
        KeySet::new([hs_key().with_kid("hs")])?,
    ))));

    #[derive(Debug)]
    struct Shared(std::sync::Arc<Rotating>);
    impl KeySource for Shared {
        fn key_set(&self) -> std::sync::Arc<KeySet> {
            self.0.key_set()
        }
    }

    let v = base_builder()
        .algorithms([Algorithm::HS256])
        .key_source(Shared(std::sync::Arc::clone(&source)))
        .build()?;
    let t = hs256(&claims());
    check(&v, &t)?;
    // rotate the key out: the same token now names an unknown kid
    *source.0.write().map_err(|_| "poisoned")? = std::sync::Arc::new(KeySet::new([
        VerificationKey::hmac(HMAC_SECRET_2)?.with_kid("hs2"),
    ])?);
    assert_eq!(err(&v, &t), TokenError::UnknownKid);

    // static keys and a custom source together are refused
    assert_eq!(
        config_err(
            base_builder()
                .algorithms([Algorithm::HS256])
                .key(hs_key())
                .key_source(StaticKeys::new(KeySet::new([hs_key()])?))
        ),
        ConfigError::ConflictingKeySources
    );
    Ok(())
}

#[test]
fn validator_is_cheaply_shareable() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Validator>();
    let v = hs_validator();
    let t = hs256(&claims());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let v = v.clone();
            let t = t.clone();
            std::thread::spawn(move || v.validate_at::<NoCustomClaims>(&t, NOW).is_ok())
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap_or(false));
    }
}

// ------------------------------------------------------------ no panics --

fn fuzz_validators() -> &'static [Validator] {
    static VALIDATORS: std::sync::OnceLock<Vec<Validator>> = std::sync::OnceLock::new();
    VALIDATORS.get_or_init(|| {
        vec![
            hs_validator(),
            base_builder()
                .algorithms([
                    Algorithm::RS256,
                    Algorithm::ES256,
                    Algorithm::ES384,
                    Algorithm::EdDSA,
                ])
                .jwks_json(jwks_document())
                .build()
                .expect("jwks config"),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,300}") {
        for v in fuzz_validators() {
            prop_assert!(v.validate_at::<NoCustomClaims>(&s, NOW).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        for v in fuzz_validators() {
            prop_assert!(v.validate_at::<NoCustomClaims>(&s, NOW).is_err());
        }
    }

    #[test]
    fn jwt_shaped_garbage_never_panics(
        h in proptest::collection::vec(any::<u8>(), 0..120),
        p in proptest::collection::vec(any::<u8>(), 0..200),
        s in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let token = format!("{}.{}.{}", b64(&h), b64(&p), b64(&s));
        for v in fuzz_validators() {
            prop_assert!(v.validate_at::<NoCustomClaims>(&token, NOW).is_err());
        }
    }

    #[test]
    fn random_headers_with_every_alg_never_panic(
        alg in prop::sample::select(vec![
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "EdDSA", "none", "NONE", "", "ES512",
        ]),
        kid in prop::option::of(prop::sample::select(vec![
            "hs", "rsa-2024", "p256-2024", "p384-2024", "ed-2024", "enc", "x",
        ])),
        sig in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut h = json!({"alg": alg});
        if let Some(kid) = kid {
            h["kid"] = json!(kid);
        }
        let token = format!("{}.{}.{}", b64_json(&h), b64_json(&claims()), b64(&sig));
        for v in fuzz_validators() {
            prop_assert!(v.validate_at::<NoCustomClaims>(&token, NOW).is_err());
        }
    }

    #[test]
    fn signed_random_payloads_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        json_claim in prop::sample::select(vec!["exp", "nbf", "iat", "sub", "jti", "iss", "aud", "ver", "fam", "role", "roles", "scope"]),
        json_value in prop_oneof![
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,20}".prop_map(|s| json!(s)),
            Just(json!(null)),
            Just(json!([1, "a", null])),
            Just(json!({"a": 1})),
        ],
    ) {
        let v = hs_validator();
        // raw random bytes as a correctly signed payload
        let h = b64_json(&header("HS256", Some("hs")));
        let input = format!("{h}.{}", b64(&payload));
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &hmac_key(), Algorithm::HS256)
            .expect("sign");
        let _ = v.validate_at::<NoCustomClaims>(&format!("{input}.{sig}"), NOW);
        // a correctly signed payload with one claim replaced by a random value
        let t = hs256(&claims_with(json_claim, json_value));
        let _ = v.validate_at::<NoCustomClaims>(&t, NOW);
        let _ = v.validate_at::<NoCustomClaims>(&t, i64::MIN);
        let _ = v.validate_at::<NoCustomClaims>(&t, i64::MAX);
    }

    #[test]
    fn single_character_mutations_of_a_valid_token_are_rejected(
        index in any::<prop::sample::Index>(),
        replacement in prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ".chars().collect::<Vec<_>>()
        ),
    ) {
        let v = hs_validator();
        let token = hs256(&claims());
        let mut chars: Vec<char> = token.chars().collect();
        let i = index.index(chars.len());
        prop_assume!(chars[i] != replacement);
        chars[i] = replacement;
        let mutated: String = chars.into_iter().collect();
        // Mutating the last character of a base64url segment can flip only
        // unused trailing bits; strict decoding rejects that too.
        prop_assert!(v.validate_at::<NoCustomClaims>(&mutated, NOW).is_err());
    }
}
