//! Race tests over a real TCP listener: guarded actions racing revocations,
//! and concurrent refresh-token redemption.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const ACTIONS: usize = 40;

/// Fires `ACTIONS` guarded actions with `token`, staggered over ~400 ms,
/// each holding its guard for 250 ms. Returns their statuses.
fn fire_actions(addr: SocketAddr, token: &str) -> tokio::task::JoinHandle<Vec<u16>> {
    let token = token.to_owned();
    tokio::spawn(async move {
        let mut tasks = Vec::new();
        for i in 0..ACTIONS {
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10 * i as u64)).await;
                post(
                    addr,
                    "/admin/actions?hold_ms=250",
                    Some(&token),
                    Some(json!({"note": format!("action {i}")})),
                )
                .await
                .status
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    })
}

async fn audit(addr: SocketAddr, token: &str) -> Vec<Value> {
    let r = get(addr, "/admin/audit", Some(token)).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["events"].as_array().cloned().expect("events")
}

/// The audit proves the order: every action of the old authority is before
/// the revocation event, and every admitted (201) action is recorded.
fn assert_order(
    events: &[Value],
    revocation_kind: &str,
    target: &str,
    old_authority: impl Fn(&Value) -> bool,
    statuses: &[u16],
    revocation_seq_at_response: u64,
) {
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "linear order: {seqs:?}"
    );
    let revocation = events
        .iter()
        .find(|e| e["kind"] == revocation_kind && e["sub"] == target)
        .unwrap_or_else(|| panic!("no {revocation_kind} event in {events:?}"));
    let rev_seq = revocation["seq"].as_u64().expect("seq");
    let actions: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "action" && old_authority(e))
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    let late: Vec<&u64> = actions.iter().filter(|s| **s > rev_seq).collect();
    assert!(
        late.is_empty(),
        "actions after the revocation {rev_seq}: {late:?}"
    );
    // The revocation's response came after all in-flight actions were
    // recorded: when it arrived, the log already held the revocation event
    // and nothing of the old authority came later.
    assert!(revocation_seq_at_response >= rev_seq);
    let ok = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(ok, actions.len(), "every 201 is recorded, nothing else");
    assert!(ok > 0, "some actions were admitted before the revocation");
    assert!(ok < statuses.len(), "some actions were refused after it");
    for s in statuses {
        assert!(matches!(s, 201 | 401 | 403), "unexpected status {s}");
    }
}

async fn max_seq(addr: SocketAddr, token: &str) -> u64 {
    audit(addr, token)
        .await
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_races_guarded_actions() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let alice = login(addr, "alice").await;
    let carol = login(addr, "carol").await;
    let jti = payload(&alice.access)["jti"].clone();
    let actions = fire_actions(addr, &alice.access);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = post(addr, "/logout", Some(&alice.access), None).await;
    assert_eq!(r.status, 204);
    let at_response = max_seq(addr, &carol.access).await;
    let statuses = actions.await.expect("actions");
    let events = audit(addr, &carol.access).await;
    assert_order(
        &events,
        "revoke_token",
        "alice",
        |e| e["jti"] == jti,
        &statuses,
        at_response,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subject_revocation_races_guarded_actions() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let alice = login(addr, "alice").await;
    let carol = login(addr, "carol").await;
    let actions = fire_actions(addr, &carol.access);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = post(addr, "/admin/users/carol/revoke", Some(&alice.access), None).await;
    assert_eq!(r.status, 204);
    let at_response = max_seq(addr, &alice.access).await;
    let statuses = actions.await.expect("actions");
    let events = audit(addr, &alice.access).await;
    assert_order(
        &events,
        "revoke_subject",
        "carol",
        |e| e["sub"] == "carol",
        &statuses,
        at_response,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn downgrade_races_guarded_actions() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let alice = login(addr, "alice").await;
    let carol = login(addr, "carol").await;
    let actions = fire_actions(addr, &carol.access);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = post(
        addr,
        "/admin/users/carol/role",
        Some(&alice.access),
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let at_response = max_seq(addr, &alice.access).await;
    let statuses = actions.await.expect("actions");
    let events = audit(addr, &alice.access).await;
    assert_order(
        &events,
        "role_change",
        "carol",
        |e| e["sub"] == "carol",
        &statuses,
        at_response,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refresh_redemption_has_at_most_one_winner() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let bob = login(addr, "bob").await;
    let alice = login(addr, "alice").await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let refresh = bob.refresh.clone();
        tasks.push(tokio::spawn(async move {
            post(
                addr,
                "/refresh",
                None,
                Some(json!({"refresh_token": refresh})),
            )
            .await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            200 => winners.push(r.json()),
            401 => {}
            s => panic!("unexpected status {s}: {r:?}"),
        }
    }
    assert!(winners.len() <= 1, "{} winners", winners.len());
    // The family is revoked: the old access token, and the winner's pair, are refused.
    let r = get(addr, "/me", Some(&bob.access)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), invalid_token("family_revoked"));
    if let Some(w) = winners.first() {
        let access = w["access_token"].as_str().expect("access");
        let refresh = w["refresh_token"].as_str().expect("refresh");
        let r = get(addr, "/me", Some(access)).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.challenge(), invalid_token("family_revoked"));
        let r = post(
            addr,
            "/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
        assert_eq!(r.status, 401);
    }
    let events = audit(addr, &alice.access).await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "refresh_reuse" && e["sub"] == "bob"),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sequential_rotation_then_reuse() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let bob = login(addr, "bob").await;
    let r = post(
        addr,
        "/refresh",
        None,
        Some(json!({"refresh_token": bob.refresh})),
    )
    .await;
    assert_eq!(r.status, 200);
    let next = r.json();
    let access2 = next["access_token"].as_str().expect("access").to_owned();
    assert_eq!(get(addr, "/me", Some(&access2)).await.status, 200);
    assert_eq!(payload(&access2)["fam"], payload(&bob.access)["fam"]);
    // Replaying the first refresh token is reuse: 401 and the family is revoked.
    let r = post(
        addr,
        "/refresh",
        None,
        Some(json!({"refresh_token": bob.refresh})),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(get(addr, "/me", Some(&access2)).await.status, 401);
    let refresh2 = next["refresh_token"].as_str().expect("refresh");
    let r = post(
        addr,
        "/refresh",
        None,
        Some(json!({"refresh_token": refresh2})),
    )
    .await;
    assert_eq!(r.status, 401);
}
