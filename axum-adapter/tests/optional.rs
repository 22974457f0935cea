//! `Option<Authenticated<C>>`: no token is `None`; a token that is present
//! but invalid is still a rejection, never a silent `None`.

mod common;

use authstate::{AuthState, Role, Roles};
use authstate_axum::demo::ISSUER;
use authstate_axum::validation::Algorithm;
use authstate_axum::{Auth, Authenticated, NoCustomClaims, RoleMap, Validator, VerificationKey};
use axum::Router;
use axum::routing::get;
use common::{SECRET, access_claims, header, sign, skip_under_model_checker};
use tokio::net::TcpListener;

async fn whoami(who: Option<Authenticated<NoCustomClaims>>) -> String {
    who.map_or_else(|| "anonymous".to_owned(), |a| a.subject().to_owned())
}

async fn start() -> std::net::SocketAddr {
    let validator = Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(SECRET).expect("key"))
        .issuer(ISSUER)
        .audience(ISSUER)
        .build()
        .expect("validator");
    let state = AuthState::new();
    let admin = Role::new(0).expect("role");
    let _ = state.set_role("alice", Roles::from(admin));
    let auth = Auth::builder(validator, state)
        .roles(RoleMap::new().with("admin", admin).expect("role map"))
        .realm(ISSUER)
        .build()
        .expect("auth");
    let app = Router::new().route("/whoami", get(whoami)).with_state(auth);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn optional_extractor_distinguishes_absent_from_invalid() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;

    let anonymous = common::get(addr, "/whoami", None).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(String::from_utf8_lossy(&anonymous.body), "anonymous");

    let valid = sign(&header("HS256"), &access_claims("alice", "admin"), SECRET);
    let alice = common::get(addr, "/whoami", Some(&valid)).await;
    assert_eq!(alice.status, 200);
    assert_eq!(String::from_utf8_lossy(&alice.body), "alice");

    let forged = sign(
        &header("HS256"),
        &access_claims("alice", "admin"),
        b"another-secret-of-at-least-32-bytes!!",
    );
    let rejected = common::get(addr, "/whoami", Some(&forged)).await;
    assert_eq!(
        rejected.status, 401,
        "a present but invalid token is a rejection"
    );
    assert_eq!(
        rejected.challenge(),
        r#"Bearer realm="authstate-demo", error="invalid_token", error_description="signature""#
    );
}
