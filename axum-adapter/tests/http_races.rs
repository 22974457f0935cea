//! Race tests over a real TCP listener: guarded actions racing revocations,
//! and concurrent refresh-token redemption.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
/// the revocation event, every admitted (201) action is recorded, and the
/// revocation waited for actions that were in flight when it was sent.
fn assert_order(
    events: &[Value],
    revocation_kind: &str,
    target: &str,
    old_authority: impl Fn(&Value) -> bool,
    statuses: &[u16],
    seq_before_revocation: u64,
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
    // Actions admitted before the revocation and still holding their guard
    // (250 ms) when it was sent are recorded after the pre-revocation
    // snapshot and before the revocation event: its barrier waited for them.
    // Without a barrier the revocation would be recorded first and these
    // actions would be late.
    let waited_for = actions
        .iter()
        .filter(|s| **s > seq_before_revocation && **s < rev_seq)
        .count();
    assert!(
        waited_for > 0,
        "no in-flight action between seq {seq_before_revocation} and the revocation {rev_seq}"
    );
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
    let before = max_seq(addr, &carol.access).await;
    let r = post(addr, "/logout", Some(&alice.access), None).await;
    assert_eq!(r.status, 204);
    let statuses = actions.await.expect("actions");
    let events = audit(addr, &carol.access).await;
    assert_order(
        &events,
        "revoke_token",
        "alice",
        |e| e["jti"] == jti,
        &statuses,
        before,
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
    let before = max_seq(addr, &alice.access).await;
    let r = post(addr, "/admin/users/carol/revoke", Some(&alice.access), None).await;
    assert_eq!(r.status, 204);
    let statuses = actions.await.expect("actions");
    let events = audit(addr, &alice.access).await;
    assert_order(
        &events,
        "revoke_subject",
        "carol",
        |e| e["sub"] == "carol",
        &statuses,
        before,
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
    let before = max_seq(addr, &alice.access).await;
    let r = post(
        addr,
        "/admin/users/carol/role",
        Some(&alice.access),
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let statuses = actions.await.expect("actions");
    let events = audit(addr, &alice.access).await;
    assert_order(
        &events,
        "role_change",
        "carol",
        |e| e["sub"] == "carol",
        &statuses,
        before,
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

/// A client that sends a guarded request's headers and withholds its body
/// must not hold a guard: the demo reads the body before admitting the
/// guard, so a revocation of that authority answers at once, and the late
/// request is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn withheld_body_does_not_stall_revocation() {
    if skip_under_model_checker() {
        return;
    }
    let addr = start().await;
    let alice = login(addr, "alice").await;
    let carol = login(addr, "carol").await;
    let body = json!({"note": "late"}).to_string();
    let head = format!(
        "POST /admin/actions HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        carol.access,
        body.len()
    );
    let withheld_since = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // Give the server time to parse the head and run the part extractors.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        post(addr, "/admin/users/carol/revoke", Some(&alice.access), None),
    )
    .await
    .expect("the revocation answers while the body is withheld");
    let elapsed = started.elapsed();
    assert_eq!(r.status, 204, "{r:?}");
    assert!(
        elapsed < Duration::from_secs(1),
        "revocation took {elapsed:?} while a body was withheld"
    );

    // Withhold the body for ~3 s in total, then send it: the guard is
    // admitted only now, under the revoked authority, and refused.
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(withheld_since.elapsed())).await;
    stream.write_all(body.as_bytes()).await.expect("write body");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf))
        .await
        .expect("the late request is answered")
        .expect("read");
    let late = parse(&buf);
    assert_eq!(late.status, 401, "{late:?}");
    assert_eq!(late.challenge(), invalid_token("family_revoked"));

    let events = audit(addr, &alice.access).await;
    assert!(
        !events
            .iter()
            .any(|e| e["kind"] == "action" && e["sub"] == "carol"),
        "{events:?}"
    );
}
