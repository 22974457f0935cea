//! The README's `Guarded` embedding example, compiled and its router built.
#![allow(dead_code)]

use authstate::AuthState;
use authstate_axum::validation::Algorithm;
use authstate_axum::{
    Auth, Guarded, NoCustomClaims, RequiredRole, RoleMap, Validator, VerificationKey,
};
use axum::{Router, routing::post};

struct Admin;
impl RequiredRole for Admin {
    const NAME: &'static str = "admin";
}

// Extraction validates the JWT, checks it against live state and admits a guard.
// A logout, "revoke everywhere" or downgrade of this authority waits until `g` is dropped.
async fn transfer(g: Guarded<NoCustomClaims, Admin>) -> String {
    // ... the sensitive write, across any awaits; `g.recheck()` in long handlers ...
    format!("done by {}", g.subject())
}

fn app(secret: &[u8], state: AuthState) -> Result<Router, Box<dyn std::error::Error>> {
    let validator = Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(secret)?)
        .issuer("me")
        .audience("api")
        .build()?;
    let auth = Auth::builder(validator, state)
        .roles(RoleMap::new().with_index("admin", 0)?)
        .build()?;
    Ok(Router::new()
        .route("/transfer", post(transfer))
        .with_state(auth))
}

#[test]
fn readme_guarded_example_builds_a_router() {
    if authstate::sync::MODEL_CHECKER.is_some() {
        return;
    }
    let router = app(b"a-secret-of-at-least-thirty-two-bytes!!", AuthState::new());
    assert!(router.is_ok());
}
