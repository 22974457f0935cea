//! Attack cases against the demo over a real TCP listener: exact status and
//! `WWW-Authenticate` for every case, and no 500 for garbage input.

mod common;

use common::*;
use serde_json::{Value, json};

fn without(mut v: Value, key: &str) -> Value {
    if let Value::Object(m) = &mut v {
        m.remove(key);
    }
    v
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

async fn expect_invalid(addr: std::net::SocketAddr, token: &str, desc: &str, case: &str) {
    let r = get(addr, "/me", Some(token)).await;
    assert_eq!(r.status, 401, "{case}: status");
    assert_eq!(r.challenge(), invalid_token(desc), "{case}: challenge");
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{case}: content type"
    );
    let body = r.json();
    assert_eq!(body["status"], 401, "{case}: problem status");
    assert_eq!(body["detail"], desc, "{case}: problem detail");
    assert!(
        body["type"].is_string() && body["title"].is_string(),
        "{case}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn baseline_forged_token_with_right_key_is_accepted() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let token = sign(&header("HS256"), &access_claims("alice", "admin"), SECRET);
    let r = get(addr, "/me", Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r);
    assert_eq!(r.json()["sub"], "alice");
    assert_eq!(r.json()["role"], "admin");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_token_gets_bare_challenge() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let r = get(addr, "/me", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), format!("Bearer realm=\"{REALM}\""));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    // Another scheme is "no bearer credentials" (RFC 6750 §3.1).
    let r = raw(
        addr,
        "GET",
        "/me",
        &[b"Authorization: Basic YTpi".to_vec()],
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), format!("Bearer realm=\"{REALM}\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_algorithm_and_header_attacks() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let claims = access_claims("alice", "admin");
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = sign(&header(alg), &claims, SECRET);
        expect_invalid(addr, &t, "algorithm", &format!("alg {alg}")).await;
    }
    let t = sign(
        &header("HS256"),
        &claims,
        b"another-secret-of-at-least-32-bytes!!",
    );
    expect_invalid(addr, &t, "signature", "wrong key").await;
    // Key confusion: HS256 "signed" with the RSA public key's PEM bytes. The
    // allow-list is HS256 only and the key is the demo secret, so the
    // signature does not verify.
    let t = sign(
        &header("HS256"),
        &claims,
        include_bytes!("keys/rsa_public.pem"),
    );
    expect_invalid(addr, &t, "signature", "HS256 with RSA public key PEM").await;
    let t = sign(&header("HS512"), &claims, SECRET);
    expect_invalid(addr, &t, "algorithm", "HS512 outside allow-list").await;
    let t = sign(&header("RS256"), &claims, SECRET);
    expect_invalid(addr, &t, "algorithm", "RS256 outside allow-list").await;
    let jwk = json!({"alg": "HS256", "typ": "at+jwt",
        "jwk": {"kty": "oct", "k": b64(b"another-secret-of-at-least-32-bytes!!")}});
    let t = sign(&jwk, &claims, b"another-secret-of-at-least-32-bytes!!");
    expect_invalid(addr, &t, "header", "embedded jwk").await;
    let kid = json!({"alg": "HS256", "typ": "at+jwt", "kid": "nope"});
    let t = sign(&kid, &claims, SECRET);
    expect_invalid(addr, &t, "key", "unknown kid").await;
    let crit = json!({"alg": "HS256", "typ": "at+jwt", "crit": ["exp"], "exp": 1});
    let t = sign(&crit, &claims, SECRET);
    expect_invalid(addr, &t, "header", "unknown crit").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn claim_attacks() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let c = access_claims("alice", "admin");
    let n = now();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "expired",
            with(c.clone(), "exp", json!(n - 3600)),
            "expired",
        ),
        (
            "nbf future",
            with(c.clone(), "nbf", json!(n + 3600)),
            "not yet valid",
        ),
        ("missing exp", without(c.clone(), "exp"), "claims"),
        ("missing sub", without(c.clone(), "sub"), "claims"),
        ("missing jti", without(c.clone(), "jti"), "claims"),
        (
            "exp as string",
            with(c.clone(), "exp", json!((n + 300).to_string())),
            "claims",
        ),
        ("wrong iss", with(c.clone(), "iss", json!("evil")), "issuer"),
        (
            "wrong aud",
            with(c.clone(), "aud", json!("other-api")),
            "audience",
        ),
    ];
    for (case, claims, desc) in cases {
        let t = sign(&header("HS256"), &claims, SECRET);
        expect_invalid(addr, &t, desc, case).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shape_attacks() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let good = sign(&header("HS256"), &access_claims("alice", "admin"), SECRET);
    let mut big = access_claims("alice", "admin");
    big["pad"] = json!("x".repeat(9000));
    let oversized = sign(&header("HS256"), &big, SECRET);
    expect_invalid(addr, &oversized, "malformed", "oversized").await;
    let parts: Vec<&str> = good.split('.').collect();
    expect_invalid(
        addr,
        &format!("{}.{}", parts[0], parts[1]),
        "malformed",
        "2 segments",
    )
    .await;
    expect_invalid(addr, &format!("{good}.x"), "malformed", "4 segments").await;
    let bad_b64 = format!("{}.{}.{}", "!!notbase64", parts[1], parts[2]);
    expect_invalid(addr, &bad_b64, "malformed", "bad base64 header").await;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], "%%%");
    expect_invalid(addr, &bad_sig, "malformed", "bad base64 signature").await;
    // The payload is only decoded after the signature verified, so a
    // tampered payload is a signature failure.
    let bad_payload = format!("{}.{}.{}", parts[0], "!!notbase64", parts[2]);
    expect_invalid(addr, &bad_payload, "signature", "bad base64 payload").await;
    let padded = format!("{}=.{}.{}", parts[0], parts[1], parts[2]);
    expect_invalid(addr, &padded, "malformed", "padded base64").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_type_confusion() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let pair = login(addr, "alice").await;
    // A refresh token is not an access token...
    expect_invalid(addr, &pair.refresh, "header", "refresh as access").await;
    // ...and an access token is not a refresh token.
    let r = post(
        addr,
        "/refresh",
        None,
        Some(json!({"refresh_token": pair.access})),
    )
    .await;
    assert_eq!(r.status, 401);
    // A forged token without typ is refused too.
    let no_typ = sign(
        &json!({"alg": "HS256"}),
        &access_claims("alice", "admin"),
        SECRET,
    );
    expect_invalid(addr, &no_typ, "header", "no typ").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_jti_after_logout() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let pair = login(addr, "bob").await;
    assert_eq!(get(addr, "/me", Some(&pair.access)).await.status, 200);
    let r = post(addr, "/logout", Some(&pair.access), None).await;
    assert_eq!(r.status, 204);
    expect_invalid(addr, &pair.access, "revoked", "revoked jti").await;
    // The family is gone as well: the refresh token no longer works.
    let r = post(
        addr,
        "/refresh",
        None,
        Some(json!({"refresh_token": pair.refresh})),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_version_after_subject_revocation() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let admin = login(addr, "alice").await;
    let bob = login(addr, "bob").await;
    let r = post(addr, "/admin/users/bob/revoke", Some(&admin.access), None).await;
    assert_eq!(r.status, 204);
    // The core's `revoke_subject` also revokes the subject's refresh
    // families, and checks the family before the version.
    expect_invalid(addr, &bob.access, "family_revoked", "revoked subject").await;
    let r = post(
        addr,
        "/refresh",
        None,
        Some(json!({"refresh_token": bob.refresh})),
    )
    .await;
    assert_eq!(r.status, 401);
    // A token forged with the old version (ver 0) is stale too.
    let t = sign(&header("HS256"), &access_claims("bob", "user"), SECRET);
    expect_invalid(addr, &t, "stale_version", "forged old ver").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn downgraded_role_and_insufficient_scope() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let alice = login(addr, "alice").await;
    let carol = login(addr, "carol").await;
    let bob = login(addr, "bob").await;
    // bob never claimed admin: 403 insufficient_scope.
    let r = get(addr, "/admin/audit", Some(&bob.access)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.challenge(),
        format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\"")
    );
    // carol downgraded: her token still claims admin, which she no longer
    // holds, so it is invalid (401 role_no_longer_held), not merely 403.
    let r = post(
        addr,
        "/admin/users/carol/role",
        Some(&alice.access),
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = get(addr, "/admin/audit", Some(&carol.access)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), invalid_token("role_no_longer_held"));
    // A new login as the downgraded user gets 403 on admin routes.
    let carol2 = login(addr, "carol").await;
    assert_eq!(
        get(addr, "/me", Some(&carol2.access)).await.json()["role"],
        "user"
    );
    assert_eq!(
        get(addr, "/admin/audit", Some(&carol2.access)).await.status,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_authorization_headers_never_500() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let invalid_request = |r: &Resp| {
        assert_eq!(r.status, 400, "{r:?}");
        assert!(
            r.challenge().starts_with(&format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_request\""
            )),
            "{r:?}"
        );
    };
    let r = raw(
        addr,
        "GET",
        "/me",
        &[b"Authorization: Bearer \xff\xfe".to_vec()],
        None,
    )
    .await;
    invalid_request(&r);
    let r = raw(
        addr,
        "GET",
        "/me",
        &[b"Authorization: Bearer".to_vec()],
        None,
    )
    .await;
    invalid_request(&r);
    let r = raw(
        addr,
        "GET",
        "/me",
        &[b"Authorization: bearer    ".to_vec()],
        None,
    )
    .await;
    invalid_request(&r);
    let r = raw(
        addr,
        "GET",
        "/me",
        &[b"Authorization: Bearer a b".to_vec()],
        None,
    )
    .await;
    invalid_request(&r);
    let two = [bearer("a.b.c"), bearer("d.e.f")];
    let r = raw(addr, "GET", "/me", &two, None).await;
    invalid_request(&r);
    // Scheme case-insensitive: "bEaReR <garbage>" reaches the validator.
    let r = raw(
        addr,
        "GET",
        "/me",
        &[b"Authorization: bEaReR x.y.z".to_vec()],
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), invalid_token("malformed"));
    // Huge: above the token limit, then above hyper's header limits.
    for len in [10_000usize, 70_000, 1_000_000] {
        let h = format!("Authorization: Bearer {}", "A".repeat(len)).into_bytes();
        let r = raw(addr, "GET", "/me", &[h], None).await;
        assert!(
            r.status == 401 || r.status == 400 || r.status == 431,
            "len {len}: {}",
            r.status
        );
    }
    for junk in [
        &b"Authorization: "[..],
        b"Authorization: Basic x",
        b"Authorization: Bearer ....",
        b"Authorization: Bearer \"quoted\"",
        b"Authorization: Bearer\tx.y.z",
        b"Authorization: Bearer x\x01y",
    ] {
        let r = raw(addr, "GET", "/admin/audit", &[junk.to_vec()], None).await;
        assert!(matches!(r.status, 400 | 401), "{junk:?}: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_bodies_and_routes_never_500() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let problem = |r: &Resp, status: u16| {
        assert_eq!(r.status, status, "{r:?}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    };
    let json_ct = b"Content-Type: application/json".to_vec();
    let r = raw(
        addr,
        "POST",
        "/login",
        std::slice::from_ref(&json_ct),
        Some(b"{not json"),
    )
    .await;
    problem(&r, 400);
    let r = raw(addr, "POST", "/login", &[], Some(b"{}")).await;
    problem(&r, 415);
    let r = raw(
        addr,
        "POST",
        "/login",
        std::slice::from_ref(&json_ct),
        Some(b"{\"username\":1}"),
    )
    .await;
    problem(&r, 422);
    let r = post(
        addr,
        "/login",
        None,
        Some(json!({"username": "alice", "password": "x"})),
    )
    .await;
    problem(&r, 401);
    let r = post(
        addr,
        "/login",
        None,
        Some(json!({"username": "mallory", "password": "demo"})),
    )
    .await;
    problem(&r, 401);
    let alice = login(addr, "alice").await;
    let r = post(
        addr,
        "/admin/users/mallory/revoke",
        Some(&alice.access),
        None,
    )
    .await;
    problem(&r, 404);
    let r = post(
        addr,
        "/admin/users/mallory/role",
        Some(&alice.access),
        Some(json!({"role": "user"})),
    )
    .await;
    problem(&r, 404);
    let r = post(
        addr,
        "/admin/users/bob/role",
        Some(&alice.access),
        Some(json!({"role": "root"})),
    )
    .await;
    problem(&r, 422);
    for q in [
        "hold_ms=2001",
        "hold_ms=-1",
        "hold_ms=abc",
        "hold_ms=99999999999999999999",
    ] {
        let r = post(
            addr,
            &format!("/admin/actions?{q}"),
            Some(&alice.access),
            Some(json!({"note": "x"})),
        )
        .await;
        problem(&r, 400);
    }
    let r = post(
        addr,
        "/admin/actions?hold_ms=0",
        Some(&alice.access),
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(r.json()["seq"].is_u64());
    assert_eq!(get(addr, "/healthz", None).await.status, 200);
    // axum's own 404 / 405 / path rejections are problem+json as well.
    let r = get(addr, "/nope", None).await;
    problem(&r, 404);
    assert_eq!(
        r.json(),
        json!({"type": "about:blank", "title": "Not Found", "status": 404,
            "detail": "no such route"})
    );
    let r = get(addr, "/login", None).await;
    problem(&r, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(
        r.json(),
        json!({"type": "about:blank", "title": "Method Not Allowed", "status": 405,
            "detail": "method not allowed for this route"})
    );
    let r = post(addr, "/healthz", None, None).await;
    problem(&r, 405);
    let r = post(addr, "/admin/users/%FF/revoke", Some(&alice.access), None).await;
    problem(&r, 400);
    assert_eq!(r.json()["detail"], "invalid path parameter");
    let r = post(
        addr,
        "/admin/users/%FF/role",
        Some(&alice.access),
        Some(json!({"role": "user"})),
    )
    .await;
    problem(&r, 400);
    // Bodies above the 16 KiB limit: 413.
    let big = json!({"username": "a".repeat(17 * 1024), "password": "demo"});
    let r = post(addr, "/login", None, Some(big)).await;
    problem(&r, 413);
    assert_eq!(r.json()["detail"], "request body too large");
    // /me shows the live role and the token's ids.
    let me = get(addr, "/me", Some(&alice.access)).await.json();
    let claims = payload(&alice.access);
    assert_eq!(
        me,
        json!({"sub": "alice", "role": "admin", "jti": claims["jti"], "ver": 0})
    );
}
