//! The README's embedding example, compiled and run.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

#[test]
fn readme_embedding_example() -> Result<(), authstate::Rejection> {
    use authstate::{AuthState, Role, Roles, TokenFacts, Version};

    let state = AuthState::new(); // share it: it is an Arc inside
    let admin = Roles::from(Role::new(0).unwrap());
    let _ = state.set_role("alice", admin); // live roles come from here, never the token
    let now = state.now();
    let facts = TokenFacts {
        subject: "alice",
        jti: Some("t-1"),
        issued_at: now,
        expires_at: now.saturating_add_secs(300),
        version: Some(Version(0)),
        family: None,
        roles: admin,
    };
    let guard = state.guard(&facts, admin)?; // admit one sensitive action

    /* ... the write, across any number of .awaits ... */
    drop(guard);
    state.revoke_token("t-1", facts.expires_at).wait(); // refused from here on; waits out running actions
    Ok(())
}
