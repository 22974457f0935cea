//! Adapter properties: the axum adapter `authstate-axum`
//! driven through `tower::ServiceExt::oneshot`, no TCP.
//!
//! 1. [`check_no_5xx`]: arbitrary `Authorization` headers (arbitrary bytes,
//!    `Bearer` + arbitrary tokens, other schemes, several headers, tokens
//!    signed with the demo key but invalid, tokens over the 8 KiB limit) and
//!    arbitrary cookies on `GET /me` and `POST /admin/actions` of the demo
//!    router: the answer is always 400 or 401, never a 5xx and never a panic,
//!    with exactly the RFC 6750 challenge the request calls for (bare
//!    `Bearer realm=...` when there is no bearer token, `error="invalid_request"`
//!    with 400 for a malformed header, `error="invalid_token"` with 401 for a
//!    present invalid token) and a matching RFC 9457 problem body. Also run
//!    on a router reading the token from a cookie as well
//!    ([`TokenSource::BearerOrCookie`]).
//!
//!    No 431: `oneshot` bypasses hyper, which is where header-size limits
//!    live; the adapter itself answers an oversized token with 401
//!    `invalid_token` (`malformed`, the validator's length check).
//! 2. [`check_claims_roundtrip`]: arbitrary valid claims (unicode `sub` and
//!    `jti`, times anywhere in their valid ranges, `ver`, `fam`, roles, custom
//!    claims) signed with the demo validator's key come out of
//!    `Validator::validate_at` and out of an `Authenticated<Profile>` echo
//!    route exactly as they were encoded.
//! 3. Negative controls (teeth): both checkers return `Err` for deliberately
//!    broken routers (a panicking middleware, a responder mapping malformed
//!    tokens to 500, a responder conflating 400 with 401, an echo handler
//!    truncating `sub`), so neither property can pass vacuously.
//!
//! `PROPTEST_CASES` sets the number of cases of every property run (default
//! 256); the negative controls use a fixed seed and their own case count.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use authstate::{AuthState, FamilyId, ManualClock, Roles, UnixTime};
use authstate_axum::demo::{self, ACCESS_TYP, Admin, DEV_SECRET, DemoConfig, ISSUER, REFRESH_TYP};
use authstate_axum::extract::{
    Auth, AuthFailure, AuthRejection, Authenticated, Guarded, RejectionResponder, TokenSource,
};
use authstate_axum::validation::{
    Algorithm, MAX_NUMERIC_DATE, NoCustomClaims, StandardClaims, Validator, VerificationKey,
};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use proptests::skip_under_model_checker;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Cases per property run: `PROPTEST_CASES`, else proptest's default (256).
fn cases() -> u32 {
    Config::default().cases
}

/// Cases for each negative-control run (fixed seed): far more than needed.
const TEETH_CASES: u32 = 256;

/// The cookie the cookie-reading router takes its token from.
const COOKIE: &str = "access_token";

/// The static descriptions of `AuthFailure::InvalidRequest`
/// (`extract.rs`, `bearer`).
const INVALID_REQUEST_DESCRIPTIONS: [&str; 4] = [
    "multiple Authorization headers",
    "Authorization header is not visible ASCII",
    "Bearer credentials are missing",
    "Bearer credentials are not a single token",
];

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A validator configured exactly like the demo's access-token validator
/// (`demo.rs`, `validator`).
fn demo_validator() -> Validator {
    Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(DEV_SECRET.as_bytes()).expect("the dev secret is long enough"))
        .issuer(ISSUER)
        .audience(ISSUER)
        .require_typ(ACCESS_TYP)
        .build()
        .expect("demo validator configuration")
}

/// The demo's signing key. Building a validator first installs the crypto
/// provider `jsonwebtoken::encode` needs.
fn demo_key() -> &'static EncodingKey {
    static KEY: OnceLock<EncodingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let _ = demo_validator();
        EncodingKey::from_secret(DEV_SECRET.as_bytes()).expect("HMAC key")
    })
}

fn sign_with(alg: Algorithm, typ: Option<&str>, payload: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, payload, key).expect("signing a JSON object")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Runs `request` through a clone of `app` on a fresh current-thread
/// runtime; a panic anywhere (handler, extractor, middleware) becomes `Err`.
fn send(app: &Router, request: Request) -> Result<(Response, Vec<u8>), String> {
    let app = app.clone();
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .map(|b| b.to_vec())
                .map_err(|e| format!("reading the body: {e}"));
            bytes.map(|b| (Response::from_parts(parts, Body::empty()), b))
        })
    }));
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "<non-string payload>".to_owned());
            Err(format!("the app panicked: {message}"))
        }
    }
}

// ---------------------------------------------------------------------------
// Property 1: arbitrary credentials never produce a 5xx or a wrong challenge
// ---------------------------------------------------------------------------

/// One generated request.
#[derive(Clone)]
struct AdapterRequest {
    /// `POST /admin/actions` (with `Guarded<_, Admin>`) instead of `GET /me`.
    admin: bool,
    /// The `Authorization` header values, in order (0 to 3 of them).
    authorization: Vec<Vec<u8>>,
    /// The `Cookie` header value, if any.
    cookie: Option<Vec<u8>>,
    /// Send a well-formed JSON body (only meaningful for the admin route).
    body: bool,
}

impl std::fmt::Debug for AdapterRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &[u8]| {
            let s = v.escape_ascii().to_string();
            if s.len() > 200 {
                format!("{}... ({} bytes)", &s[..200], v.len())
            } else {
                s
            }
        };
        let auth: Vec<String> = self.authorization.iter().map(|v| shown(v)).collect();
        f.debug_struct("AdapterRequest")
            .field(
                "route",
                &if self.admin {
                    "POST /admin/actions"
                } else {
                    "GET /me"
                },
            )
            .field("authorization", &auth)
            .field("cookie", &self.cookie.as_deref().map(shown))
            .field("body", &self.body)
            .finish()
    }
}

impl AdapterRequest {
    fn build(&self) -> Request {
        let (method, uri) = if self.admin {
            (Method::POST, "/admin/actions")
        } else {
            (Method::GET, "/me")
        };
        let mut builder = Request::builder().method(method).uri(uri);
        for value in &self.authorization {
            let value = HeaderValue::from_bytes(value).expect("generated values are valid");
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(cookie) = &self.cookie {
            let value = HeaderValue::from_bytes(cookie).expect("generated values are valid");
            builder = builder.header(header::COOKIE, value);
        }
        let body = if self.body {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(r#"{"note":"property test"}"#)
        } else {
            Body::empty()
        };
        builder.body(body).expect("request")
    }
}

/// What the adapter must answer (RFC 6750 §3 and the adapter's documented
/// header rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    /// No bearer token (none, or another scheme): 401, bare challenge.
    Missing,
    /// Malformed `Authorization`: 400 `invalid_request`.
    InvalidRequest,
    /// A token that is present and invalid: 401 `invalid_token`.
    InvalidToken,
}

/// The expectation for one `Authorization` value, as `AuthFailure` documents
/// it: only visible ASCII, SP and HTAB are readable; the scheme ends at the
/// first SP and is compared case-insensitively; `Bearer` needs exactly one
/// token without SP, HTAB or commas.
fn expect_bearer(value: &[u8]) -> Expected {
    let Ok(text) = std::str::from_utf8(value) else {
        return Expected::InvalidRequest;
    };
    if !text.is_ascii() {
        return Expected::InvalidRequest;
    }
    let text = text.trim_matches([' ', '\t']);
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Expected::Missing;
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() || token.contains([' ', '\t', ',']) {
        Expected::InvalidRequest
    } else {
        Expected::InvalidToken
    }
}

/// Whether the `Cookie` value carries a non-empty `name` cookie (first
/// occurrence wins, surrounding double quotes stripped).
fn cookie_has_token(cookie: &[u8], name: &str) -> bool {
    let Ok(text) = std::str::from_utf8(cookie) else {
        return false;
    };
    if !text
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return false;
    }
    text.split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .is_some_and(|(_, v)| !v.trim_matches('"').is_empty())
}

fn expected(request: &AdapterRequest, cookie: Option<&str>) -> Expected {
    match request.authorization.as_slice() {
        [] => match (cookie, &request.cookie) {
            (Some(name), Some(value)) if cookie_has_token(value, name) => Expected::InvalidToken,
            _ => Expected::Missing,
        },
        [one] => expect_bearer(one),
        _ => Expected::InvalidRequest,
    }
}

/// What the router under test is configured with.
#[derive(Clone, Copy, Debug)]
struct Setup {
    /// The `realm` every challenge must carry.
    realm: Option<&'static str>,
    /// The cookie the token is also read from (`BearerOrCookie`), if any.
    cookie: Option<&'static str>,
}

/// The demo router's setup: realm `authstate-demo`, `Authorization` only.
const DEMO_SETUP: Setup = Setup {
    realm: Some(ISSUER),
    cookie: None,
};

/// Checks one response against the expectation.
fn check_response(
    expected: Expected,
    setup: Setup,
    response: &Response,
    body: &[u8],
) -> Result<(), String> {
    let status = response.status();
    if status.is_server_error() {
        return Err(format!("server error {status}"));
    }
    let want_status = match expected {
        Expected::InvalidRequest => StatusCode::BAD_REQUEST,
        Expected::Missing | Expected::InvalidToken => StatusCode::UNAUTHORIZED,
    };
    if status != want_status {
        return Err(format!(
            "status {status}, expected {want_status} ({expected:?})"
        ));
    }

    // The challenge: exactly one, `Bearer` + realm + the right error.
    let challenges: Vec<_> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .collect();
    let [challenge] = challenges.as_slice() else {
        return Err(format!(
            "{} WWW-Authenticate headers, expected 1",
            challenges.len()
        ));
    };
    let challenge = challenge
        .to_str()
        .map_err(|_| "WWW-Authenticate is not visible ASCII".to_owned())?;
    let mut want = String::from("Bearer");
    if let Some(realm) = setup.realm {
        want.push_str(&format!(" realm=\"{realm}\""));
    }
    let code = match expected {
        Expected::Missing => None,
        Expected::InvalidRequest => Some("invalid_request"),
        Expected::InvalidToken => Some("invalid_token"),
    };
    match code {
        None => {
            if challenge != want {
                return Err(format!("challenge {challenge:?}, expected {want:?}"));
            }
        }
        Some(code) => {
            want.push_str(if setup.realm.is_some() { ", " } else { " " });
            want.push_str(&format!("error=\"{code}\", error_description=\""));
            let description = challenge
                .strip_prefix(want.as_str())
                .and_then(|rest| rest.strip_suffix('"'))
                .ok_or_else(|| {
                    format!("challenge {challenge:?}, expected {want:?}<description>\"")
                })?;
            let plain = !description.is_empty()
                && description.len() <= 64
                && description
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
            if !plain {
                return Err(format!("bad error_description {description:?}"));
            }
            if expected == Expected::InvalidRequest
                && !INVALID_REQUEST_DESCRIPTIONS.contains(&description)
            {
                return Err(format!(
                    "unknown invalid_request description {description:?}"
                ));
            }
        }
    }

    // The RFC 9457 body agrees with the status and the challenge.
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type != Some("application/problem+json") {
        return Err(format!("content type {content_type:?}"));
    }
    let problem: Value =
        serde_json::from_slice(body).map_err(|e| format!("problem body is not JSON: {e}"))?;
    if problem["status"] != json!(status.as_u16()) {
        return Err(format!("problem status {} != {status}", problem["status"]));
    }
    let error = problem.get("error").and_then(Value::as_str);
    if error != code {
        return Err(format!("problem error {error:?}, expected {code:?}"));
    }
    Ok(())
}

/// Sends `request` to `app` and checks the answer.
/// Sends `request` to `app` and checks the answer. On success, returns the
/// outcome's class (status and problem `detail`) for the coverage table.
fn check_request(app: &Router, setup: Setup, request: &AdapterRequest) -> Result<String, String> {
    let expected = expected(request, setup.cookie);
    let (response, body) = send(app, request.build())?;
    check_response(expected, setup, &response, &body).map_err(|e| {
        format!(
            "{e}; response {} {:?}, body {}",
            response.status(),
            response.headers().get(header::WWW_AUTHENTICATE),
            String::from_utf8_lossy(&body)
        )
    })?;
    let detail = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|p| p["detail"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(format!(
        "{} {expected:?}: {detail}",
        response.status().as_u16()
    ))
}

/// A byte `http::HeaderValue::from_bytes` accepts: HTAB, visible ASCII, SP,
/// obs-text (0x80-0xFF). Not the other control bytes, not DEL.
fn header_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        12 => 0x20u8..=0x7e,
        1 => Just(b'\t'),
        3 => 0x80u8..=0xff,
    ]
}

/// Valid header-value bytes: any of [`header_byte`], or (half the time) only
/// HTAB, SP and visible ASCII, so that readable values are common too.
fn header_bytes(max: usize) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        vec(header_byte(), 0..=max),
        vec(prop_oneof![15 => 0x20u8..=0x7e, 1 => Just(b'\t')], 0..=max),
    ]
    .boxed()
}

/// Ways to break an otherwise valid, correctly signed demo token.
#[derive(Clone, Copy, Debug)]
enum Break {
    Expired,
    IssuedInFuture,
    NotYetValid,
    PlainJwtTyp,
    RefreshTyp,
    NoTyp,
    WrongIssuer,
    WrongAudience,
    MissingSub,
    EmptySub,
    MissingJti,
    MissingExp,
    StringExp,
    FractionalIat,
    WrongKey,
    Hs384,
    AlgNone,
    DuplicateSub,
    /// The subject holds no roles live, so claiming one is refused by the
    /// core (`role_no_longer_held`).
    RoleNotHeld,
    /// An unknown refresh family (`family_revoked`).
    UnknownFamily,
    /// A version the subject is not at (`stale_version`).
    StaleVersion,
}

const BREAKS: [Break; 21] = [
    Break::Expired,
    Break::IssuedInFuture,
    Break::NotYetValid,
    Break::PlainJwtTyp,
    Break::RefreshTyp,
    Break::NoTyp,
    Break::WrongIssuer,
    Break::WrongAudience,
    Break::MissingSub,
    Break::EmptySub,
    Break::MissingJti,
    Break::MissingExp,
    Break::StringExp,
    Break::FractionalIat,
    Break::WrongKey,
    Break::Hs384,
    Break::AlgNone,
    Break::DuplicateSub,
    Break::RoleNotHeld,
    Break::UnknownFamily,
    Break::StaleVersion,
];

/// A token signed with the demo's key (unless the break says otherwise) and
/// invalid in exactly one way. Subjects are `ghost-...`, never a demo user.
fn broken_token(how: Break, sub: &str, jti: &str, n: u32) -> String {
    let now = system_now();
    let mut claims = json!({
        "iss": ISSUER, "aud": ISSUER, "sub": format!("ghost-{sub}"), "jti": jti,
        "iat": now, "exp": now + 300,
    });
    let mut typ = Some(ACCESS_TYP);
    let mut alg = Algorithm::HS256;
    let other_key;
    let mut key = demo_key();
    match how {
        Break::Expired => claims["exp"] = json!(now - 31 - i64::from(n % 100_000)),
        Break::IssuedInFuture => claims["iat"] = json!(now + 1_000 + i64::from(n % 100_000)),
        Break::NotYetValid => claims["nbf"] = json!(now + 1_000 + i64::from(n % 100_000)),
        Break::PlainJwtTyp => typ = Some("JWT"),
        Break::RefreshTyp => typ = Some(REFRESH_TYP),
        Break::NoTyp => typ = None,
        Break::WrongIssuer => claims["iss"] = json!("someone-else"),
        Break::WrongAudience => claims["aud"] = json!(["another-api"]),
        Break::MissingSub => {
            claims.as_object_mut().map(|m| m.remove("sub"));
        }
        Break::EmptySub => claims["sub"] = json!(""),
        Break::MissingJti => {
            claims.as_object_mut().map(|m| m.remove("jti"));
        }
        Break::MissingExp => {
            claims.as_object_mut().map(|m| m.remove("exp"));
        }
        Break::StringExp => claims["exp"] = json!((now + 300).to_string()),
        Break::FractionalIat => claims["iat"] = json!(now as f64 + 0.5),
        Break::WrongKey => {
            other_key = EncodingKey::from_secret(format!("{DEV_SECRET}-but-not-quite").as_bytes())
                .expect("HMAC key");
            key = &other_key;
        }
        Break::Hs384 => alg = Algorithm::HS384,
        Break::AlgNone => {
            let header = json!({"alg": "none", "typ": ACCESS_TYP});
            return format!(
                "{}.{}.",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes())
            );
        }
        Break::DuplicateSub => {
            // Hand-made: serde_json cannot produce a duplicate member.
            let payload = claims.to_string();
            let payload = format!("{{\"sub\":\"alice\",{}", &payload[1..]);
            let header = json!({"alg": "HS256", "typ": ACCESS_TYP});
            let unsigned = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(payload.as_bytes())
            );
            // A correct signature over the duplicate: only the JSON check can refuse it.
            return sign_raw(&unsigned);
        }
        Break::RoleNotHeld => claims["role"] = json!(["admin", "user"][usize::from(n & 1 == 1)]),
        Break::UnknownFamily => claims["fam"] = json!(u64::from(n) + 1),
        Break::StaleVersion => claims["ver"] = json!(u32::MAX - n % 1_000),
    }
    sign_with(alg, typ, &claims, key)
}

/// HS256 over an already encoded `header.payload`, for payloads serde_json
/// cannot produce.
fn sign_raw(unsigned: &str) -> String {
    let signature = jsonwebtoken::crypto::sign(unsigned.as_bytes(), demo_key(), Algorithm::HS256)
        .expect("HMAC signing");
    format!("{unsigned}.{signature}")
}

/// Something in the token position of `Bearer <token>`.
fn token_strategy() -> BoxedStrategy<Vec<u8>> {
    let segment = prop_oneof![
        vec(any::<u8>(), 0..48).prop_map(|b| b64(&b)),
        prop_oneof![
            Just(r#"{"alg":"none"}"#.to_owned()),
            Just(r#"{"alg":"HS256","typ":"at+jwt"}"#.to_owned()),
            Just(r#"{"alg":"HS256","alg":"none"}"#.to_owned()),
            Just(r#"{"alg":"RS256","typ":"at+jwt"}"#.to_owned()),
            Just(r#"{"alg":"HS256","crit":["b64"]}"#.to_owned()),
            Just(r#"{"alg":"HS256","jku":"https://evil.example/jwks"}"#.to_owned()),
            Just(r#"{"alg":"HS256","kid":""}"#.to_owned()),
            Just(r#"{"alg":"HS256","kid":"nope"}"#.to_owned()),
            Just(r#"{"sub":"alice","exp":99999999999,"role":"admin"}"#.to_owned()),
            Just("[]".to_owned()),
            ".*",
        ]
        .prop_map(|json| b64(json.as_bytes())),
        "[A-Za-z0-9_=+/-]{0,40}",
    ];
    prop_oneof![
        // arbitrary header bytes
        3 => header_bytes(80),
        // b64token-ish (RFC 6750 §2.1 alphabet) with dots
        3 => "[A-Za-z0-9._~+/=-]{1,120}".prop_map(String::into_bytes),
        // JWS-shaped: 1 to 4 segments
        4 => vec(segment, 1..=4).prop_map(|s| s.join(".").into_bytes()),
        // correctly signed, invalid in one way
        5 => (
            proptest::sample::select(&BREAKS[..]),
            "[a-z0-9]{1,12}",
            "[A-Za-z0-9]{1,16}",
            any::<u32>()
        )
            .prop_map(|(how, sub, jti, n)| broken_token(how, &sub, &jti, n).into_bytes()),
        // over the validator's 8 KiB limit (and far over a typical proxy's)
        1 => (8_000usize..24_000, any::<bool>()).prop_map(|(n, dots)| {
            let mut token = "A".repeat(n);
            if dots {
                token.replace_range(10..11, ".");
                token.replace_range(n - 10..n - 9, ".");
            }
            token.into_bytes()
        }),
        1 => Just(Vec::new()),
    ]
    .boxed()
}

/// One `Authorization` value.
fn credentials() -> BoxedStrategy<Vec<u8>> {
    let prefix = prop_oneof![
        8 => Just("Bearer "),
        3 => proptest::sample::select(&["bearer ", "BEARER ", "BeArEr ", "Bearer  "][..]),
        2 => proptest::sample::select(
            &["Bearer\t", " Bearer ", "\tBearer ", "Bearer", "Bearer=", "Bearer,", "Bearerx ", "Bear "][..]
        ),
        2 => proptest::sample::select(&["Basic ", "Digest ", "DPoP ", "Token ", ""][..]),
    ];
    let suffix = prop_oneof![
        8 => Just(""),
        1 => proptest::sample::select(
            &[" ", "\t", "  ", " x", ",x", "\tx", ", Basic abc", " \t", "=", ","][..]
        ),
    ];
    prop_oneof![
        3 => header_bytes(96),
        10 => (prefix, token_strategy(), suffix).prop_map(|(prefix, token, suffix)| {
            let mut value = prefix.as_bytes().to_vec();
            value.extend_from_slice(&token);
            value.extend_from_slice(suffix.as_bytes());
            value
        }),
    ]
    .boxed()
}

/// One `Cookie` value, sometimes carrying the cookie the cookie router reads.
fn cookie_strategy() -> BoxedStrategy<Vec<u8>> {
    let name = proptest::sample::select(
        &[
            COOKIE,
            COOKIE,
            "access_token ",
            "Access_Token",
            "session",
            "",
        ][..],
    );
    let pair = (name, token_strategy(), any::<bool>()).prop_map(|(name, token, quoted)| {
        let mut pair = format!("{name}=").into_bytes();
        if quoted {
            pair.push(b'"');
        }
        pair.extend_from_slice(&token);
        if quoted {
            pair.push(b'"');
        }
        pair
    });
    prop_oneof![
        1 => header_bytes(64),
        3 => vec(pair, 1..=3).prop_map(|pairs| pairs.join(&b"; "[..])),
        1 => proptest::sample::select(
            &["access_token=", "access_token=\"\"", "access_token", "access_token=;x=1", ";;;", "=x"][..]
        )
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
    .boxed()
}

fn request_strategy() -> BoxedStrategy<AdapterRequest> {
    let authorization = prop_oneof![
        2 => Just(Vec::new()),
        12 => vec(credentials(), 1..=1),
        2 => vec(credentials(), 2..=3),
    ];
    (
        any::<bool>(),
        authorization,
        proptest::option::weighted(0.3, cookie_strategy()),
        any::<bool>(),
    )
        .prop_map(|(admin, authorization, cookie, body)| AdapterRequest {
            admin,
            authorization,
            cookie,
            body,
        })
        .boxed()
}

fn runner(cases: u32, deterministic: bool) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    if deterministic {
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    } else {
        TestRunner::new(config)
    }
}

fn check_adapter(
    app: &Router,
    cases: u32,
    setup: Setup,
    deterministic: bool,
) -> Result<(), String> {
    let seen = RefCell::new(BTreeMap::<String, u32>::new());
    let mut runner = runner(cases, deterministic);
    runner
        .run(&request_strategy(), |request| {
            let class = check_request(app, setup, &request).map_err(TestCaseError::fail)?;
            *seen.borrow_mut().entry(class).or_default() += 1;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    // Not vacuous: with enough cases every kind of answer was produced,
    // including invalid tokens refused for several different reasons.
    let seen = seen.into_inner();
    let table: Vec<String> = seen.iter().map(|(k, n)| format!("  {n:6}  {k}")).collect();
    eprintln!("outcomes ({cases} cases):\n{}", table.join("\n"));
    if cases >= 200 {
        for kind in ["Missing", "InvalidRequest", "InvalidToken"] {
            if !seen.keys().any(|k| k.contains(&format!(" {kind}:"))) {
                return Err(format!(
                    "no {kind} case in {cases} cases: the generator is too narrow"
                ));
            }
        }
        let token_reasons = seen.keys().filter(|k| k.contains(" InvalidToken:")).count();
        if token_reasons < 6 {
            return Err(format!(
                "only {token_reasons} invalid_token reasons in {cases} cases: the generator is too narrow"
            ));
        }
    }
    Ok(())
}

/// The property on a router configured like the demo (realm
/// `authstate-demo`, token from `Authorization` only, `GET /me` and
/// `POST /admin/actions`): every generated request is answered 400 or 401
/// with the right challenge and problem body; never 5xx, never a panic.
fn check_no_5xx(app: Router, cases: u32) -> Result<(), String> {
    check_adapter(&app, cases, DEMO_SETUP, false)
}

fn demo_app() -> Router {
    demo::app(&DemoConfig::new(DEV_SECRET.as_bytes().to_vec())).expect("demo app")
}

/// The demo's access-token configuration (validator, roles, realm) on a
/// fresh state, with this token source and responder.
fn demo_like_auth(source: TokenSource, responder: impl RejectionResponder) -> Auth {
    Auth::builder(demo_validator(), AuthState::new())
        .roles(demo::role_map())
        .realm(ISSUER)
        .source(source)
        .responder(responder)
        .build()
        .expect("auth")
}

/// `GET /me` (`Authenticated`) and `POST /admin/actions`
/// (`Guarded<_, Admin>`) as in the demo, on `auth`.
fn demo_like_app(auth: Auth) -> Router {
    async fn me(auth: Authenticated) -> Response {
        Json(json!({"sub": auth.subject()})).into_response()
    }
    async fn action(guarded: Guarded<NoCustomClaims, Admin>) -> Response {
        (StatusCode::CREATED, Json(json!({"sub": guarded.subject()}))).into_response()
    }
    Router::new()
        .route("/me", get(me))
        .route("/admin/actions", post(action))
        .with_state(auth)
}

/// A responder that keeps the default behaviour.
struct Default;

impl RejectionResponder for Default {}

#[test]
fn demo_answers_arbitrary_credentials_with_400_or_401() {
    if skip_under_model_checker("demo_answers_arbitrary_credentials_with_400_or_401") {
        return;
    }
    if let Err(failure) = check_no_5xx(demo_app(), cases()) {
        panic!("{failure}");
    }
}

#[test]
fn cookie_router_answers_arbitrary_credentials_with_400_or_401() {
    if skip_under_model_checker("cookie_router_answers_arbitrary_credentials_with_400_or_401") {
        return;
    }
    let app = demo_like_app(demo_like_auth(
        TokenSource::BearerOrCookie(COOKIE.to_owned()),
        Default,
    ));
    let setup = Setup {
        realm: Some(ISSUER),
        cookie: Some(COOKIE),
    };
    if let Err(failure) = check_adapter(&app, cases(), setup, false) {
        panic!("{failure}");
    }
}

/// Hand-picked edge cases with their exact challenges, on the demo.
#[test]
fn demo_edge_cases_have_exact_challenges() {
    if skip_under_model_checker("demo_edge_cases_have_exact_challenges") {
        return;
    }
    let app = demo_app();
    let bare = "Bearer realm=\"authstate-demo\"";
    let request = |auth: &[&[u8]], cookie: Option<&[u8]>| AdapterRequest {
        admin: false,
        authorization: auth.iter().map(|v| v.to_vec()).collect(),
        cookie: cookie.map(<[u8]>::to_vec),
        body: false,
    };
    let huge = format!("Bearer {}", "A".repeat(20_000));
    let cases: Vec<(AdapterRequest, u16, String)> = vec![
        (request(&[], None), 401, bare.to_owned()),
        (
            request(&[b"Basic YWxpY2U6ZGVtbw=="], None),
            401,
            bare.to_owned(),
        ),
        (request(&[b""], None), 401, bare.to_owned()),
        // The demo reads no cookie: a cookie token is no token.
        (
            request(&[], Some(b"access_token=abc.def.ghi")),
            401,
            bare.to_owned(),
        ),
        (
            request(&[b"Bearer"], None),
            400,
            format!(
                "{bare}, error=\"invalid_request\", error_description=\"Bearer credentials are missing\""
            ),
        ),
        (
            request(&[b"Bearer a b"], None),
            400,
            format!(
                "{bare}, error=\"invalid_request\", error_description=\"Bearer credentials are not a single token\""
            ),
        ),
        (
            request(&[b"Bearer \xff"], None),
            400,
            format!(
                "{bare}, error=\"invalid_request\", error_description=\"Authorization header is not visible ASCII\""
            ),
        ),
        (
            request(&[b"Bearer a", b"Bearer b"], None),
            400,
            format!(
                "{bare}, error=\"invalid_request\", error_description=\"multiple Authorization headers\""
            ),
        ),
        (
            request(&[b"bearer not.a.jwt"], None),
            401,
            format!("{bare}, error=\"invalid_token\", error_description=\"malformed\""),
        ),
        (
            request(&[huge.as_bytes()], None),
            401,
            format!("{bare}, error=\"invalid_token\", error_description=\"malformed\""),
        ),
    ];
    for (request, status, challenge) in cases {
        let (response, _) = send(&app, request.build()).expect("no panic");
        assert_eq!(response.status().as_u16(), status, "{request:?}");
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE),
            Some(&HeaderValue::from_str(&challenge).expect("ASCII")),
            "{request:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Property 2: valid claims survive encode -> validate / extract unchanged
// ---------------------------------------------------------------------------

/// The custom claims of the round trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Profile {
    team: String,
    level: i64,
    quota: u64,
    tags: Vec<String>,
    nick: Option<String>,
    active: bool,
}

/// How the roles are written into the payload; all three must read back as
/// the same list.
#[derive(Clone, Copy, Debug)]
enum RolesEncoding {
    /// `"roles": [..]`.
    Array,
    /// `"role": first, "roles": [rest..]`.
    RoleThenArray,
    /// `"scope": "a b"` (only for names without spaces).
    Scope,
}

/// One generated token: the claims it must read back as, and how to write
/// them.
#[derive(Clone, Debug)]
struct ClaimsCase {
    claims: StandardClaims,
    custom: Profile,
    roles_encoding: RolesEncoding,
    aud_as_string: bool,
    fam_as_string: bool,
}

impl ClaimsCase {
    fn payload(&self) -> Value {
        let c = &self.claims;
        let mut payload = serde_json::to_value(&self.custom).expect("custom claims");
        let map = payload.as_object_mut().expect("a struct is an object");
        map.insert("sub".into(), json!(c.sub));
        if let Some(jti) = &c.jti {
            map.insert("jti".into(), json!(jti));
        }
        map.insert("iat".into(), json!(c.iat));
        map.insert("exp".into(), json!(c.exp));
        if let Some(nbf) = c.nbf {
            map.insert("nbf".into(), json!(nbf));
        }
        if let Some(iss) = &c.iss {
            map.insert("iss".into(), json!(iss));
        }
        let aud = match c.aud.as_slice() {
            [one] if self.aud_as_string => json!(one),
            all => json!(all),
        };
        map.insert("aud".into(), aud);
        if let Some(ver) = c.ver {
            map.insert("ver".into(), json!(ver));
        }
        if let Some(fam) = c.fam {
            let fam = if self.fam_as_string {
                json!(fam.to_string())
            } else {
                json!(fam)
            };
            map.insert("fam".into(), fam);
        }
        match (self.roles_encoding, c.roles.as_slice()) {
            (_, []) => {}
            (RolesEncoding::Array, roles) => {
                map.insert("roles".into(), json!(roles));
            }
            (RolesEncoding::RoleThenArray, [first, rest @ ..]) => {
                map.insert("role".into(), json!(first));
                map.insert("roles".into(), json!(rest));
            }
            (RolesEncoding::Scope, roles) => {
                map.insert("scope".into(), json!(roles.join(" ")));
            }
        }
        payload
    }

    fn token(&self) -> String {
        sign_with(
            Algorithm::HS256,
            Some(ACCESS_TYP),
            &self.payload(),
            demo_key(),
        )
    }
}

/// Arbitrary unicode (any `char`, including controls and NUL), 1 to `max`
/// chars.
fn unicode(max: usize) -> BoxedStrategy<String> {
    vec(any::<char>(), 1..=max)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn profile_strategy() -> BoxedStrategy<Profile> {
    (
        unicode(24),
        any::<i64>(),
        any::<u64>(),
        vec(unicode(12), 0..4),
        proptest::option::of(unicode(12)),
        any::<bool>(),
    )
        .prop_map(|(team, level, quota, tags, nick, active)| Profile {
            team,
            level,
            quota,
            tags,
            nick,
            active,
        })
        .boxed()
}

/// The audiences: the demo's, alone or among arbitrary others.
fn aud_strategy() -> BoxedStrategy<(Vec<String>, bool)> {
    (vec(unicode(12), 0..3), any::<usize>(), any::<bool>())
        .prop_map(|(mut others, at, as_string)| {
            let at = at % (others.len() + 1);
            others.insert(at, ISSUER.to_owned());
            (others, as_string)
        })
        .boxed()
}

/// Pinned clock for the round trip.
const NOW: i64 = 1_700_000_000;
/// The validator's default leeway (30 s).
const LEEWAY: i64 = 30;

/// Arbitrary valid claims for `Validator::validate_at(_, NOW)`: every time
/// anywhere in its valid range (`exp` down to the leeway's edge), arbitrary
/// `ver` / `fam`, arbitrary role names.
fn validator_case() -> BoxedStrategy<ClaimsCase> {
    let times = (
        0..=NOW + LEEWAY,
        NOW - LEEWAY + 1..=MAX_NUMERIC_DATE,
        proptest::option::of(0..=NOW + LEEWAY),
    );
    let roles = (
        vec(unicode(12), 0..5).prop_map(dedup),
        prop_oneof![
            Just(RolesEncoding::Array),
            Just(RolesEncoding::RoleThenArray)
        ],
    );
    (
        (unicode(48), unicode(48)),
        times,
        aud_strategy(),
        (any::<Option<u32>>(), any::<Option<u64>>(), any::<bool>()),
        roles,
        profile_strategy(),
    )
        .prop_map(
            |(
                (sub, jti),
                (iat, exp, nbf),
                (aud, aud_as_string),
                (ver, fam, fam_as_string),
                (roles, roles_encoding),
                custom,
            )| {
                ClaimsCase {
                    claims: StandardClaims {
                        sub,
                        jti: Some(jti),
                        iat,
                        exp,
                        nbf,
                        iss: Some(ISSUER.to_owned()),
                        aud,
                        ver,
                        fam,
                        roles,
                    },
                    custom,
                    roles_encoding,
                    aud_as_string,
                    fam_as_string,
                }
            },
        )
        .boxed()
}

#[test]
fn valid_claims_survive_validate_at_unchanged() {
    if skip_under_model_checker("valid_claims_survive_validate_at_unchanged") {
        return;
    }
    let validator = demo_validator();
    let mut runner = runner(cases(), false);
    let result = runner.run(&validator_case(), |case| {
        let token = case.token();
        let validated = validator
            .validate_at::<Profile>(&token, NOW)
            .map_err(|e| TestCaseError::fail(format!("rejected: {e} ({})", e.category())))?;
        prop_assert_eq!(validated.algorithm, Algorithm::HS256);
        prop_assert_eq!(validated.kid, None);
        prop_assert_eq!(&validated.claims, &case.claims);
        prop_assert_eq!(&validated.custom, &case.custom);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// What the echo route returns.
#[derive(Debug, Deserialize)]
struct Echo {
    sub: String,
    jti: Option<String>,
    iat: i64,
    exp: i64,
    nbf: Option<i64>,
    iss: Option<String>,
    aud: Vec<String>,
    ver: Option<u32>,
    fam: Option<u64>,
    roles: Vec<String>,
    claimed_roles: u32,
    custom: Profile,
}

impl Echo {
    fn claims(&self) -> StandardClaims {
        StandardClaims {
            sub: self.sub.clone(),
            jti: self.jti.clone(),
            iat: self.iat,
            exp: self.exp,
            nbf: self.nbf,
            iss: self.iss.clone(),
            aud: self.aud.clone(),
            ver: self.ver,
            fam: self.fam,
            roles: self.roles.clone(),
        }
    }
}

/// The faithful echo handler.
async fn echo(auth: Authenticated<Profile>) -> Json<Value> {
    let c = auth.claims();
    Json(json!({
        "sub": c.sub, "jti": c.jti, "iat": c.iat, "exp": c.exp, "nbf": c.nbf,
        "iss": c.iss, "aud": c.aud, "ver": c.ver, "fam": c.fam, "roles": c.roles,
        "claimed_roles": auth.claimed_roles().bits(), "custom": auth.custom(),
    }))
}

/// One route-level case: the claims minus what depends on the live state
/// (`ver` and `fam` are filled in from the state when `true`).
#[derive(Clone, Debug)]
struct RouteCase {
    base: ClaimsCase,
    with_ver: bool,
    with_fam: bool,
}

/// Valid claims for the echo route at `NOW` (core leeway 0, so `exp > NOW`),
/// roles from the demo's names.
fn route_case() -> BoxedStrategy<RouteCase> {
    let names = proptest::sample::subsequence(vec!["admin", "user"], 0..=2)
        .prop_shuffle()
        .prop_map(|names| names.into_iter().map(str::to_owned).collect::<Vec<_>>());
    let encoding = prop_oneof![
        Just(RolesEncoding::Array),
        Just(RolesEncoding::RoleThenArray),
        Just(RolesEncoding::Scope),
    ];
    (
        (unicode(48), unicode(48)),
        (
            0..=NOW + LEEWAY,
            NOW + 1..=MAX_NUMERIC_DATE,
            proptest::option::of(0..=NOW + LEEWAY),
        ),
        aud_strategy(),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (names, encoding),
        profile_strategy(),
    )
        .prop_map(
            |(
                (sub, jti),
                (iat, exp, nbf),
                (aud, aud_as_string),
                (with_ver, with_fam, fam_as_string),
                (roles, roles_encoding),
                custom,
            )| {
                RouteCase {
                    base: ClaimsCase {
                        claims: StandardClaims {
                            sub,
                            jti: Some(jti),
                            iat,
                            exp,
                            nbf,
                            iss: Some(ISSUER.to_owned()),
                            aud,
                            ver: None,
                            fam: None,
                            roles,
                        },
                        custom,
                        roles_encoding,
                        aud_as_string,
                        fam_as_string,
                    },
                    with_ver,
                    with_fam,
                }
            },
        )
        .boxed()
}

/// The round-trip property through an axum route: `make_router(auth)` must
/// serve `GET /echo` answering with [`Echo`] JSON. Each case gives the
/// subject its claimed roles live (and a live family / its current version
/// when the token carries them), so the core accepts the token.
fn check_claims_roundtrip(
    make_router: fn(Auth) -> Router,
    cases: u32,
    deterministic: bool,
) -> Result<(), String> {
    let state = AuthState::builder()
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build();
    let roles = demo::role_map();
    let auth = Auth::builder(demo_validator(), state.clone())
        .roles(roles.clone())
        .realm(ISSUER)
        .build()
        .map_err(|e| e.to_string())?;
    let app = make_router(auth);
    let mut runner = runner(cases, deterministic);
    runner
        .run(&route_case(), |case| {
            let mut case = case;
            let claims = &mut case.base.claims;
            let live: Roles = roles.resolve(claims.roles.iter().map(String::as_str));
            let _ = state.set_role(&claims.sub, live);
            if case.with_ver {
                claims.ver = Some(state.current_version(&claims.sub).0);
            }
            if case.with_fam {
                let grant = state.issue_family(&claims.sub, UnixTime::from_secs(claims.exp));
                let FamilyId(fam) = grant.family;
                claims.fam = Some(fam);
            }
            let token = case.base.token();
            let request = Request::builder()
                .uri("/echo")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request");
            let (response, body) = send(&app, request).map_err(TestCaseError::fail)?;
            prop_assert_eq!(
                response.status(),
                StatusCode::OK,
                "challenge {:?}, body {}",
                response.headers().get(header::WWW_AUTHENTICATE),
                String::from_utf8_lossy(&body)
            );
            let echo: Echo = serde_json::from_slice(&body).map_err(|e| {
                TestCaseError::fail(format!("echo {}: {e}", String::from_utf8_lossy(&body)))
            })?;
            prop_assert_eq!(&echo.claims(), &case.base.claims);
            prop_assert_eq!(&echo.custom, &case.base.custom);
            prop_assert_eq!(echo.claimed_roles, live.bits());
            Ok(())
        })
        .map_err(|e| e.to_string())
}

fn echo_router(auth: Auth) -> Router {
    Router::new().route("/echo", get(echo)).with_state(auth)
}

#[test]
fn valid_claims_survive_extraction_unchanged() {
    if skip_under_model_checker("valid_claims_survive_extraction_unchanged") {
        return;
    }
    if let Err(failure) = check_claims_roundtrip(echo_router, cases(), false) {
        panic!("{failure}");
    }
}

// ---------------------------------------------------------------------------
// Negative controls: the checkers fail on broken routers
// ---------------------------------------------------------------------------

/// A "logging" middleware that assumes `Authorization` is UTF-8: panics on
/// obs-text bytes.
async fn panicking_logger(request: Request, next: Next) -> Response {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let scheme = value
            .to_str()
            .expect("Authorization is ASCII")
            .split(' ')
            .next();
        std::hint::black_box(scheme);
    }
    next.run(request).await
}

/// Maps malformed tokens to 500, as if a decode error were a server fault.
struct MalformedIs500;

impl RejectionResponder for MalformedIs500 {
    fn respond(&self, rejection: &AuthRejection) -> Response {
        match rejection.failure() {
            AuthFailure::InvalidToken(e) if e.category() == "malformed" => {
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
            _ => rejection.default_response(),
        }
    }
}

/// Answers a malformed header like an invalid token (401 `invalid_token`
/// instead of 400 `invalid_request`).
struct InvalidRequestAs401;

impl RejectionResponder for InvalidRequestAs401 {
    fn respond(&self, rejection: &AuthRejection) -> Response {
        match rejection.failure() {
            AuthFailure::InvalidRequest(_) => {
                let mut response = rejection.default_response();
                *response.status_mut() = StatusCode::UNAUTHORIZED;
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"authstate-demo\", error=\"invalid_token\", error_description=\"malformed\"",
                    ),
                );
                response
            }
            _ => rejection.default_response(),
        }
    }
}

#[test]
fn teeth_check_no_5xx_fails_on_broken_routers() {
    if skip_under_model_checker("teeth_check_no_5xx_fails_on_broken_routers") {
        return;
    }
    let broken: Vec<(&str, Router)> = vec![
        (
            "panicking middleware",
            demo_app().layer(axum::middleware::from_fn(panicking_logger)),
        ),
        (
            "malformed tokens mapped to 500",
            demo_like_app(demo_like_auth(TokenSource::Bearer, MalformedIs500)),
        ),
        (
            "invalid_request answered as invalid_token",
            demo_like_app(demo_like_auth(TokenSource::Bearer, InvalidRequestAs401)),
        ),
    ];
    for (what, app) in broken {
        match check_adapter(&app, TEETH_CASES, DEMO_SETUP, true) {
            Ok(()) => panic!("{what}: check_no_5xx passed on a broken router"),
            Err(failure) => eprintln!("{what}: caught as expected: {}", first_line(&failure)),
        }
    }
    // The same checker, same seed, passes on the correct routers.
    check_adapter(&demo_app(), TEETH_CASES, DEMO_SETUP, true).expect("demo passes");
    check_adapter(
        &demo_like_app(demo_like_auth(TokenSource::Bearer, Default)),
        TEETH_CASES,
        DEMO_SETUP,
        true,
    )
    .expect("default responder passes");
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    line.get(..300).unwrap_or(line)
}

/// An echo handler that stores `sub` in a 32-byte column.
async fn truncating_echo(auth: Authenticated<Profile>) -> Json<Value> {
    let Json(mut value) = echo(auth).await;
    if let Some(sub) = value["sub"].as_str() {
        let mut end = sub.len().min(32);
        while !sub.is_char_boundary(end) {
            end -= 1;
        }
        value["sub"] = json!(sub[..end].to_owned());
    }
    Json(value)
}

#[test]
fn teeth_claims_roundtrip_fails_on_a_lossy_echo() {
    if skip_under_model_checker("teeth_claims_roundtrip_fails_on_a_lossy_echo") {
        return;
    }
    fn lossy(auth: Auth) -> Router {
        Router::new()
            .route("/echo", get(truncating_echo))
            .with_state(auth)
    }
    match check_claims_roundtrip(lossy, TEETH_CASES, true) {
        Ok(()) => panic!("the round trip passed on a truncating echo"),
        Err(failure) => eprintln!(
            "truncating echo: caught as expected: {}",
            first_line(&failure)
        ),
    }
    check_claims_roundtrip(echo_router, TEETH_CASES, true).expect("faithful echo passes");
}
