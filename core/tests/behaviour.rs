//! Behaviour tests of the core with plain std threads and a [`ManualClock`].
//!
//! Test names carry the invariant they exercise (I1 to I8):
//!
//! * I1: a revocation is visible to every check that starts after it returned;
//! * I2: a revocation's barrier passes only once every guard admitted under
//!   the withdrawn authority has been dropped;
//! * I3: role decisions use the subject's live roles, and a downgrade's
//!   barrier waits for guards that relied on a removed role;
//! * I4: concurrent subject revocations yield distinct versions (no lost update);
//! * I5: the sweep never removes an entry a concurrent check still needs;
//! * I6: a refresh token is redeemed at most once; reuse revokes the family;
//! * I7: guards admitted after a revocation (or under another authority)
//!   never delay its barrier, and no lock cycle can form;
//! * I8: not-before cutoffs never go down.
//!
//! Tests named `regression_*` pin down defects that once existed: a check
//! reading the denylist and the subject under separate locks, "log out
//! everywhere" leaving refresh tokens redeemable, cutoff sentinels at the
//! epoch and beyond 2106, a manual clock wrapping, a replayed refresh grant
//! not extending its family.
//!
//! The model checkers' primitives only work inside their models, so none of
//! this runs when the `loom` or `shuttle` feature is on.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

use authstate::transitions::{FamilyRecord, RedeemStep, SubjectRecord};
use authstate::{
    AuthState, AuthStateBuilder, BarrierTimeout, Clock, FamilyId, Guard, ManualClock, RedeemError,
    RefreshFacts, RefreshGrant, Rejection, Revocation, Role, Roles, StateError, SweepReport,
    TokenFacts, UnixTime, Version,
};
use std::future::{Future, IntoFuture};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// 2023-11-14: an ordinary present-day clock reading.
const T0: i64 = 1_700_000_000;
/// How long a "still blocked?" probe waits.
const SHORT: Duration = Duration::from_millis(20);
/// Upper bound for anything that must complete; generous for loaded CI.
const LONG: Duration = Duration::from_secs(10);

fn at(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs)
}

fn role(index: u8) -> Role {
    Role::new(index).expect("role index below Role::MAX")
}

fn roles(indices: &[u8]) -> Roles {
    indices.iter().map(|&i| role(i)).collect()
}

fn builder(clock: &ManualClock) -> AuthStateBuilder {
    AuthState::builder().clock(clock.clone())
}

/// A state on a manual clock at `T0`, with one shard so that every subject
/// shares a guard table (the strictest setting for I7).
fn one_shard() -> (AuthState, ManualClock) {
    let clock = ManualClock::new(at(T0));
    (builder(&clock).shards(1).build(), clock)
}

/// A state on a manual clock at `T0` with the default shard count.
fn sharded() -> (AuthState, ManualClock) {
    let clock = ManualClock::new(at(T0));
    (builder(&clock).build(), clock)
}

/// A token of `subject` with `jti`, issued now (`T0`), valid for 300 s,
/// carrying version 0, no family and no claimed role.
fn token<'a>(subject: &'a str, jti: &'a str) -> TokenFacts<'a> {
    TokenFacts {
        subject,
        jti: Some(jti),
        issued_at: at(T0),
        expires_at: at(T0 + 300),
        version: Some(Version(0)),
        family: None,
        roles: Roles::EMPTY,
    }
}

/// The same without `ver` (an external identity provider's token).
fn versionless<'a>(subject: &'a str, jti: &'a str) -> TokenFacts<'a> {
    TokenFacts {
        version: None,
        ..token(subject, jti)
    }
}

fn refresh<'a>(subject: &'a str, grant: RefreshGrant, expires_at: i64) -> RefreshFacts<'a> {
    RefreshFacts {
        subject,
        family: grant.family,
        generation: grant.generation,
        expires_at: at(expires_at),
    }
}

fn admit(state: &AuthState, facts: &TokenFacts<'_>) -> Guard {
    state.guard(facts, Roles::EMPTY).expect("guard admitted")
}

/// Asserts that the barrier has not passed and that a short timed wait
/// reports `live` guards.
fn assert_blocked<T: Copy>(revocation: &mut Revocation<T>, live: usize) {
    assert!(
        !revocation.is_passed(),
        "barrier passed with {live} guard(s) live"
    );
    assert_eq!(revocation.live_guards(), live);
    assert_eq!(
        revocation.wait_timeout(SHORT),
        Err(BarrierTimeout { live_guards: live })
    );
}

/// Asserts that the barrier has passed, by every way of observing it.
fn assert_passed<T: Copy>(mut revocation: Revocation<T>) -> T {
    assert!(revocation.is_passed());
    assert_eq!(revocation.live_guards(), 0);
    assert_eq!(revocation.wait_timeout(Duration::ZERO), Ok(()));
    revocation.wait()
}

/// Runs `f` on a thread and fails the test if it has not finished within
/// `LONG`: the deadlock detector of the concurrent tests.
fn within_deadline<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(LONG) {
        Ok(()) => handle.join().expect("worker panicked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no progress within {LONG:?} (deadlock?)")
        }
    }
}

/// A minimal single-future executor: polls on the current thread and parks
/// between wake-ups.
struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Takes anything `.await`able, as `.await` does.
fn block_on<F: IntoFuture>(future: F) -> F::Output {
    let mut future = pin!(future.into_future());
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

/// Polls once with a waker that counts its wake-ups.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Arc<CountingWaker>) -> Poll<F::Output> {
    let waker = Waker::from(Arc::clone(waker));
    std::pin::Pin::new(future).poll(&mut Context::from_waker(&waker))
}

// ---------------------------------------------------------------------------
// Static properties
// ---------------------------------------------------------------------------

const fn assert_send<T: Send>() {}
const fn assert_sync<T: Sync>() {}
const fn assert_static<T: 'static>() {}
const fn assert_clone<T: Clone>() {}

const _: () = {
    assert_send::<Guard>();
    assert_static::<Guard>();
    assert_send::<Revocation>();
    assert_send::<Revocation<Version>>();
    assert_static::<Revocation>();
    // What `.await` on a handle polls.
    assert_send::<<Revocation as IntoFuture>::IntoFuture>();
    assert_send::<<Revocation<Version> as IntoFuture>::IntoFuture>();
    assert_static::<<Revocation as IntoFuture>::IntoFuture>();
    assert_send::<AuthState>();
    assert_sync::<AuthState>();
    assert_clone::<AuthState>();
    assert_static::<AuthState>();
    assert_send::<RedeemError>();
    assert_sync::<RedeemError>();
    assert_send::<Rejection>();
    assert_sync::<Rejection>();
};

#[test]
fn guard_is_send_static_and_can_be_held_across_an_await_point() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    // Moved into an async block that crosses a suspension point, then to
    // another thread: it compiles only because Guard is Send + 'static.
    let future = async move {
        std::future::ready(()).await;
        drop(guard);
    };
    thread::spawn(move || block_on(future)).join().unwrap();
    assert_passed(state.revoke_token("t1", facts.expires_at));
}

#[test]
fn auth_state_clones_share_state() {
    let (state, _) = sharded();
    let other = state.clone();
    drop(other.revoke_token("t1", at(T0 + 300)));
    assert_eq!(state.check(&token("alice", "t1")), Err(Rejection::Revoked));
    assert_eq!(state.denylist_len(), 1);
}

// ---------------------------------------------------------------------------
// check / guard: every rejection
// ---------------------------------------------------------------------------

#[test]
fn check_accepts_valid_token_and_reports_live_state() {
    let (state, _) = sharded();
    state.set_role("alice", roles(&[0, 3])).wait();
    let facts = TokenFacts {
        roles: roles(&[3]),
        ..token("alice", "t1")
    };
    let auth = state.check(&facts).expect("valid");
    assert_eq!(auth.subject_version, Version(0));
    assert_eq!(auth.live_roles, roles(&[0, 3]));
    // A token without jti, version or roles is also fine.
    let bare = TokenFacts {
        jti: None,
        version: None,
        ..token("nobody", "")
    };
    assert!(state.check(&bare).is_ok());
}

#[test]
fn i1_check_rejects_denylisted_jti_as_revoked() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    assert!(state.check(&facts).is_ok());
    drop(state.revoke_token("t1", facts.expires_at));
    assert_eq!(state.check(&facts), Err(Rejection::Revoked));
    assert!(matches!(
        state.guard(&facts, Roles::EMPTY),
        Err(Rejection::Revoked)
    ));
    // Other tokens of the subject are unaffected.
    assert!(state.check(&token("alice", "t2")).is_ok());
    assert_eq!(Rejection::Revoked.reason(), "revoked");
}

#[test]
fn i1_check_rejects_stale_version_after_revoke_subject() {
    let (state, _) = sharded();
    let old = token("alice", "t1");
    let version = state.revoke_subject("alice").unwrap().wait();
    assert_eq!(version, Version(1));
    assert_eq!(state.current_version("alice"), Version(1));
    assert_eq!(
        state.check(&old),
        Err(Rejection::StaleVersion {
            token: Version(0),
            current: Version(1)
        })
    );
    // A token from the future (a version not reached yet) is stale too.
    let ahead = TokenFacts {
        version: Some(Version(7)),
        ..old
    };
    assert!(matches!(
        state.check(&ahead),
        Err(Rejection::StaleVersion { .. })
    ));
    let fresh = TokenFacts {
        version: Some(Version(1)),
        ..old
    };
    assert_eq!(state.check(&fresh).unwrap().subject_version, Version(1));
    // Other subjects keep version 0.
    assert!(state.check(&token("bob", "t9")).is_ok());
}

#[test]
fn i1_revoke_subject_refuses_versionless_tokens_up_to_the_same_second() {
    let (state, clock) = sharded();
    clock.advance_secs(10);
    let now = state.now();
    let earlier = TokenFacts {
        issued_at: at(T0),
        ..versionless("alice", "a")
    };
    let same_second = TokenFacts {
        issued_at: now,
        ..versionless("alice", "b")
    };
    let later = TokenFacts {
        issued_at: now.saturating_add_secs(1),
        ..versionless("alice", "c")
    };
    drop(state.revoke_subject("alice").unwrap());
    assert_eq!(state.check(&earlier), Err(Rejection::IssuedBeforeCutoff));
    assert_eq!(
        state.check(&same_second),
        Err(Rejection::IssuedBeforeCutoff)
    );
    assert!(state.check(&later).is_ok());
}

#[test]
fn i1_global_cutoff_refuses_tokens_issued_up_to_and_including_its_second() {
    let (state, clock) = sharded();
    let before = TokenFacts {
        issued_at: at(T0 - 1),
        ..token("alice", "a")
    };
    let same = token("bob", "b"); // issued at T0
    let after = TokenFacts {
        issued_at: at(T0 + 1),
        ..token("carol", "c")
    };
    // Applies to tokens with and without `ver`.
    let same_unversioned = versionless("dave", "d");
    state.revoke_all().wait(); // cutoff = now = T0
    assert_eq!(state.check(&before), Err(Rejection::IssuedBeforeCutoff));
    assert_eq!(state.check(&same), Err(Rejection::IssuedBeforeCutoff));
    assert_eq!(
        state.check(&same_unversioned),
        Err(Rejection::IssuedBeforeCutoff)
    );
    assert!(state.check(&after).is_ok());
    // An explicit cutoff works the same way.
    clock.advance_secs(5);
    state.revoke_issued_before(at(T0 + 1)).wait();
    assert_eq!(state.check(&after), Err(Rejection::IssuedBeforeCutoff));
    let later = TokenFacts {
        issued_at: at(T0 + 2),
        ..after
    };
    assert!(state.check(&later).is_ok());
}

#[test]
fn i1_subject_cutoff_refuses_versionless_tokens_up_to_its_second_only() {
    let (state, _) = sharded();
    state
        .revoke_subject_issued_before("alice", at(T0 + 10))
        .wait();
    let at_cutoff = TokenFacts {
        issued_at: at(T0 + 10),
        ..versionless("alice", "a")
    };
    let after_cutoff = TokenFacts {
        issued_at: at(T0 + 11),
        ..at_cutoff
    };
    assert_eq!(state.check(&at_cutoff), Err(Rejection::IssuedBeforeCutoff));
    assert_eq!(
        state.check(&versionless("alice", "b")),
        Err(Rejection::IssuedBeforeCutoff)
    );
    assert!(state.check(&after_cutoff).is_ok());
    // Tokens with `ver` are governed by the version, not the subject cutoff.
    assert!(state.check(&token("alice", "c")).is_ok());
    // Other subjects are unaffected.
    assert!(state.check(&versionless("bob", "d")).is_ok());
    assert_eq!(state.current_version("alice"), Version(0));
}

#[test]
fn check_expiry_honours_leeway_boundary() {
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock).leeway(Duration::from_secs(5)).build();
    let facts = TokenFacts {
        expires_at: at(T0 + 10),
        ..token("alice", "t1")
    };
    clock.set(at(T0 + 14)); // exp + leeway - 1
    assert!(state.check(&facts).is_ok());
    clock.set(at(T0 + 15)); // exp + leeway
    assert_eq!(state.check(&facts), Err(Rejection::Expired));
    assert!(matches!(
        state.guard(&facts, Roles::EMPTY),
        Err(Rejection::Expired)
    ));

    // Without leeway the boundary is `exp` itself (RFC 7519: now < exp).
    let (strict, clock) = sharded();
    let facts = TokenFacts {
        expires_at: at(T0 + 1),
        ..token("alice", "t1")
    };
    assert!(strict.check(&facts).is_ok());
    clock.advance_secs(1);
    assert_eq!(strict.check(&facts), Err(Rejection::Expired));

    // Sub-second leeway is truncated to whole seconds.
    let clock = ManualClock::new(at(T0 + 1));
    let half = builder(&clock).leeway(Duration::from_millis(999)).build();
    assert_eq!(half.check(&facts), Err(Rejection::Expired));
}

#[test]
fn i3_check_rejects_claimed_role_no_longer_held() {
    let (state, _) = sharded();
    state.set_role("alice", roles(&[0, 1])).wait();
    let facts = TokenFacts {
        roles: roles(&[0, 1]),
        ..token("alice", "t1")
    };
    assert!(state.check(&facts).is_ok());
    state.set_role("alice", roles(&[0])).wait();
    assert_eq!(
        state.check(&facts),
        Err(Rejection::RoleNoLongerHeld {
            missing: roles(&[1])
        })
    );
    // A subject never given roles holds none.
    let claims = TokenFacts {
        roles: roles(&[5]),
        ..token("mallory", "t2")
    };
    assert_eq!(
        state.check(&claims),
        Err(Rejection::RoleNoLongerHeld {
            missing: roles(&[5])
        })
    );
}

#[test]
fn i3_guard_requires_live_roles_not_claimed_ones() {
    let (state, _) = sharded();
    state.set_role("alice", roles(&[1])).wait();
    let facts = token("alice", "t1"); // claims nothing
    let guard = state.guard(&facts, roles(&[1])).expect("role 1 is live");
    drop(guard);
    let err = state.guard(&facts, roles(&[1, 2])).unwrap_err();
    assert_eq!(
        err,
        Rejection::InsufficientRole {
            missing: roles(&[2])
        }
    );
    assert!(err.is_insufficient_role());
    // check() never asks for required roles.
    assert!(state.check(&facts).is_ok());
    // A token that claims a role does not make it required-and-held.
    let claims = TokenFacts {
        roles: roles(&[2]),
        ..facts
    };
    assert_eq!(
        state.guard(&claims, roles(&[2])).unwrap_err(),
        Rejection::RoleNoLongerHeld {
            missing: roles(&[2])
        }
    );
}

#[test]
fn check_rejects_revoked_unknown_and_foreign_families() {
    let (state, _) = sharded();
    let grant = state.issue_family("alice", at(T0 + 3_600));
    let facts = TokenFacts {
        family: Some(grant.family),
        ..token("alice", "t1")
    };
    assert!(state.check(&facts).is_ok());
    // Unknown family.
    let unknown = TokenFacts {
        family: Some(FamilyId(u64::MAX)),
        ..facts
    };
    assert_eq!(state.check(&unknown), Err(Rejection::FamilyRevoked));
    // Someone else's family.
    let foreign = TokenFacts {
        subject: "bob",
        ..facts
    };
    assert_eq!(state.check(&foreign), Err(Rejection::FamilyRevoked));
    // Revoking with the wrong subject changes nothing.
    state.revoke_family("bob", grant.family).wait();
    assert!(state.check(&facts).is_ok());
    // Revoked family.
    state.revoke_family("alice", grant.family).wait();
    assert_eq!(state.check(&facts), Err(Rejection::FamilyRevoked));
    assert!(matches!(
        state.guard(&facts, Roles::EMPTY),
        Err(Rejection::FamilyRevoked)
    ));
    // The family's refresh token is dead too.
    assert!(matches!(
        state.redeem(&refresh("alice", grant, T0 + 3_600), at(T0 + 7_200)),
        Err(RedeemError::FamilyRevoked)
    ));
}

#[test]
fn rejections_follow_the_documented_order() {
    let (state, clock) = one_shard();
    let grant = state.issue_family("alice", at(T0 + 1));
    state.revoke_family("alice", grant.family).wait();
    state.set_role("alice", Roles::EMPTY).wait();
    let facts = TokenFacts {
        family: Some(grant.family),
        roles: roles(&[4]),
        version: Some(Version(9)),
        expires_at: at(T0 + 5),
        ..token("alice", "t1")
    };
    state.revoke_all().wait();
    drop(state.revoke_token("t1", facts.expires_at));
    // revoked > expired > family > cutoff > version > roles
    assert_eq!(state.check(&facts), Err(Rejection::Revoked));
    let facts = TokenFacts { jti: None, ..facts };
    clock.advance_secs(5);
    assert_eq!(state.check(&facts), Err(Rejection::Expired));
    let facts = TokenFacts {
        expires_at: at(T0 + 500),
        ..facts
    };
    assert_eq!(state.check(&facts), Err(Rejection::FamilyRevoked));
    let facts = TokenFacts {
        family: None,
        ..facts
    };
    assert_eq!(state.check(&facts), Err(Rejection::IssuedBeforeCutoff));
    let facts = TokenFacts {
        issued_at: at(T0 + 1),
        ..facts
    };
    assert!(matches!(
        state.check(&facts),
        Err(Rejection::StaleVersion { .. })
    ));
    let facts = TokenFacts {
        version: Some(Version(0)),
        ..facts
    };
    assert!(matches!(
        state.check(&facts),
        Err(Rejection::RoleNoLongerHeld { .. })
    ));
}

#[test]
fn rejection_reasons_and_messages_are_distinct() {
    let all = [
        Rejection::Revoked,
        Rejection::StaleVersion {
            token: Version(0),
            current: Version(1),
        },
        Rejection::IssuedBeforeCutoff,
        Rejection::Expired,
        Rejection::RoleNoLongerHeld {
            missing: Roles::EMPTY,
        },
        Rejection::InsufficientRole {
            missing: Roles::EMPTY,
        },
        Rejection::FamilyRevoked,
    ];
    let reasons: std::collections::HashSet<_> = all.iter().map(|r| r.reason()).collect();
    let messages: std::collections::HashSet<_> = all.iter().map(|r| r.to_string()).collect();
    assert_eq!(reasons.len(), all.len());
    assert_eq!(messages.len(), all.len());
    assert_eq!(all.iter().filter(|r| r.is_insufficient_role()).count(), 1);
}

// ---------------------------------------------------------------------------
// Barriers: I2, I3, I7
// ---------------------------------------------------------------------------

#[test]
fn i2_revoke_token_waits_for_live_guard() {
    let (state, _) = one_shard();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    let mut revocation = state.revoke_token("t1", facts.expires_at);
    // I1: refused at once, before the barrier passes.
    assert_eq!(state.check(&facts), Err(Rejection::Revoked));
    assert_blocked(&mut revocation, 1);
    drop(guard);
    assert_passed(revocation);
}

#[test]
fn i7_revoke_token_not_delayed_by_other_tokens_or_later_guards() {
    let (state, _) = one_shard();
    let old = token("alice", "t1");
    let other_token = admit(&state, &token("alice", "t2"));
    let other_subject = admit(&state, &token("bob", "t3"));
    let old_guard = admit(&state, &old);
    let mut revocation = state.revoke_token("t1", old.expires_at);
    // Admitted after the revocation, in the same (only) guard table.
    let later = admit(&state, &token("alice", "t4"));
    assert_blocked(&mut revocation, 1);
    drop(old_guard);
    assert_passed(revocation);
    drop((other_token, other_subject, later));
}

#[test]
fn i2_revoke_token_barrier_spans_all_shards() {
    let (state, _) = sharded();
    // A jti is not tied to a subject: the same token id under many subjects
    // lands in many guard tables.
    let subjects: Vec<String> = (0..32).map(|i| format!("user-{i}")).collect();
    let mut guards: Vec<Guard> = subjects
        .iter()
        .map(|s| admit(&state, &token(s, "shared")))
        .collect();
    let mut revocation = state.revoke_token("shared", at(T0 + 300));
    assert_blocked(&mut revocation, 32);
    while guards.len() > 1 {
        guards.pop();
    }
    assert_blocked(&mut revocation, 1);
    guards.clear();
    assert_passed(revocation);
}

#[test]
fn i2_revoke_subject_waits_for_live_guard() {
    let (state, _) = one_shard();
    let old = token("alice", "t1");
    let old_versionless = versionless("alice", "t2");
    let g1 = admit(&state, &old);
    let g2 = admit(&state, &old_versionless);
    let mut revocation = state.revoke_subject("alice").unwrap();
    assert_eq!(revocation.value(), Version(1));
    assert!(matches!(
        state.check(&old),
        Err(Rejection::StaleVersion { .. })
    ));
    assert_blocked(&mut revocation, 2);
    drop(g1);
    assert_blocked(&mut revocation, 1);
    drop(g2);
    assert_eq!(assert_passed(revocation), Version(1));
}

#[test]
fn i7_revoke_subject_not_delayed_by_other_subjects_or_new_version() {
    let (state, clock) = one_shard();
    let bob = admit(&state, &token("bob", "b1"));
    let old = admit(&state, &token("alice", "a1"));
    let mut revocation = state.revoke_subject("alice").unwrap();
    clock.advance_secs(1);
    let new_authority = TokenFacts {
        version: Some(Version(1)),
        issued_at: at(T0 + 1),
        ..token("alice", "a2")
    };
    let new_guard = admit(&state, &new_authority);
    let bob_later = admit(&state, &token("bob", "b2"));
    assert_blocked(&mut revocation, 1);
    drop(old);
    assert_passed(revocation);
    drop((bob, new_guard, bob_later));
}

#[test]
fn i3_set_role_downgrade_waits_for_guards_relying_on_removed_role() {
    let (state, _) = one_shard();
    let (reader, writer) = (0, 1);
    state.set_role("alice", roles(&[reader, writer])).wait();
    let facts = token("alice", "t1");
    let reading = state.guard(&facts, roles(&[reader])).unwrap();
    let writing = state.guard(&facts, roles(&[writer])).unwrap();
    // A guard whose token claims the role relies on it too.
    let claiming = TokenFacts {
        roles: roles(&[writer]),
        ..token("alice", "t2")
    };
    let claimed = state.guard(&claiming, Roles::EMPTY).unwrap();
    let mut downgrade = state.set_role("alice", roles(&[reader]));
    assert_eq!(state.live_roles("alice"), roles(&[reader]));
    // I1/I3: the removed role is refused at once.
    assert_eq!(
        state.guard(&facts, roles(&[writer])).unwrap_err(),
        Rejection::InsufficientRole {
            missing: roles(&[writer])
        }
    );
    assert_blocked(&mut downgrade, 2);
    // I7: a guard relying only on the kept role, old or new, never delays it.
    let later_reading = state.guard(&facts, roles(&[reader])).unwrap();
    drop(writing);
    assert_blocked(&mut downgrade, 1);
    drop(claimed);
    assert_passed(downgrade);
    drop((reading, later_reading));
}

#[test]
fn i3_set_role_upgrade_passes_immediately() {
    let (state, _) = one_shard();
    state.set_role("alice", roles(&[0])).wait();
    let guard = state.guard(&token("alice", "t1"), roles(&[0])).unwrap();
    assert_passed(state.set_role("alice", roles(&[0, 1])));
    // Setting the same roles is not a downgrade either.
    assert_passed(state.set_role("alice", roles(&[0, 1])));
    // But a real downgrade still waits for the old guard.
    let mut downgrade = state.set_role("alice", roles(&[1]));
    assert_blocked(&mut downgrade, 1);
    drop(guard);
    assert_passed(downgrade);
}

#[test]
fn i2_revoke_all_waits_for_guards_issued_before() {
    let (state, clock) = sharded();
    let old = admit(&state, &token("alice", "t1"));
    let old_versionless = admit(&state, &versionless("bob", "t2"));
    clock.advance_secs(10);
    let mut revocation = state.revoke_all(); // cutoff T0 + 10
    let fresh = TokenFacts {
        issued_at: at(T0 + 11),
        ..token("carol", "t3")
    };
    clock.advance_secs(1);
    let later = admit(&state, &fresh);
    assert_blocked(&mut revocation, 2);
    drop(old);
    assert_blocked(&mut revocation, 1);
    drop(old_versionless);
    assert_passed(revocation);
    drop(later);
}

#[test]
fn i7_revoke_issued_before_ignores_guards_issued_after_cutoff() {
    let (state, _) = one_shard();
    let newer = TokenFacts {
        issued_at: at(T0 + 100),
        ..token("alice", "t1")
    };
    let guard = admit(&state, &newer); // admitted before, but issued after the cutoff
    assert_passed(state.revoke_issued_before(at(T0 + 50)));
    drop(guard);
}

#[test]
fn i2_revoke_subject_issued_before_waits_for_versionless_guard_only() {
    let (state, _) = one_shard();
    let unversioned = admit(&state, &versionless("alice", "t1"));
    let versioned = admit(&state, &token("alice", "t2"));
    let newer = admit(
        &state,
        &TokenFacts {
            issued_at: at(T0 + 100),
            ..versionless("alice", "t3")
        },
    );
    let bob = admit(&state, &versionless("bob", "t4"));
    let mut revocation = state.revoke_subject_issued_before("alice", at(T0 + 50));
    assert_blocked(&mut revocation, 1);
    drop(unversioned);
    assert_passed(revocation);
    drop((versioned, newer, bob));
}

#[test]
fn i2_revoke_family_waits_for_family_guard_only() {
    let (state, _) = one_shard();
    let first = state.issue_family("alice", at(T0 + 3_600));
    let second = state.issue_family("alice", at(T0 + 3_600));
    assert_ne!(first.family, second.family);
    let in_family = TokenFacts {
        family: Some(first.family),
        ..token("alice", "t1")
    };
    let other_family = TokenFacts {
        family: Some(second.family),
        ..token("alice", "t2")
    };
    let g1 = admit(&state, &in_family);
    let g2 = admit(&state, &other_family);
    let no_family = admit(&state, &token("alice", "t3"));
    let mut revocation = state.revoke_family("alice", first.family);
    assert_eq!(state.check(&in_family), Err(Rejection::FamilyRevoked));
    assert!(state.check(&other_family).is_ok());
    // A new login after the revocation does not delay it.
    let third = state.issue_family("alice", at(T0 + 3_600));
    let g3 = admit(
        &state,
        &TokenFacts {
            family: Some(third.family),
            ..token("alice", "t4")
        },
    );
    assert_blocked(&mut revocation, 1);
    drop(g1);
    assert_passed(revocation);
    drop((g2, g3, no_family));
}

#[test]
fn i2_refresh_reuse_barrier_waits_for_family_guard() {
    let (state, _) = one_shard();
    let grant = state.issue_family("alice", at(T0 + 3_600));
    let access = TokenFacts {
        family: Some(grant.family),
        ..token("alice", "t1")
    };
    let guard = admit(&state, &access);
    let presented = refresh("alice", grant, T0 + 3_600);
    state
        .redeem(&presented, at(T0 + 7_200))
        .expect("first redemption");
    let Err(RedeemError::Reused(mut revocation)) = state.redeem(&presented, at(T0 + 7_200)) else {
        panic!("second redemption is reuse");
    };
    assert_eq!(state.check(&access), Err(Rejection::FamilyRevoked));
    assert_blocked(&mut revocation, 1);
    drop(guard);
    assert_passed(revocation);
}

#[test]
fn i2_wait_blocks_until_guard_dropped_from_another_thread() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    let revocation = state.revoke_subject("alice").unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let dropper = {
        let dropped = Arc::clone(&dropped);
        thread::spawn(move || {
            thread::sleep(SHORT * 2);
            dropped.store(true, Ordering::SeqCst);
            drop(guard);
        })
    };
    let version = within_deadline("wait", move || revocation.wait());
    assert!(
        dropped.load(Ordering::SeqCst),
        "wait returned before the guard was dropped"
    );
    assert_eq!(version, Version(1));
    dropper.join().unwrap();
}

#[test]
fn i2_wait_timeout_reports_live_guards_and_stays_usable() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guards: Vec<Guard> = (0..3).map(|_| admit(&state, &facts)).collect();
    let mut revocation = state.revoke_token("t1", facts.expires_at);
    let started = Instant::now();
    let err = revocation
        .wait_timeout(Duration::from_millis(30))
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(err, BarrierTimeout { live_guards: 3 });
    assert!(err.to_string().contains('3'));
    // Zero timeout: an immediate answer.
    assert_eq!(
        revocation.wait_timeout(Duration::ZERO),
        Err(BarrierTimeout { live_guards: 3 })
    );
    // A guard dropped from another thread while a timed wait sleeps wakes it.
    let dropper = thread::spawn(move || {
        thread::sleep(SHORT);
        drop(guards);
    });
    assert_eq!(revocation.wait_timeout(LONG), Ok(()));
    dropper.join().unwrap();
    assert_passed(revocation);
}

#[test]
fn wait_timeout_with_huge_duration_does_not_panic() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    let mut revocation = state.revoke_token("t1", facts.expires_at);
    let dropper = thread::spawn(move || {
        thread::sleep(SHORT);
        drop(guard);
    });
    let result = within_deadline("wait_timeout(MAX)", move || {
        revocation.wait_timeout(Duration::MAX)
    });
    assert_eq!(result, Ok(()));
    dropper.join().unwrap();
}

#[test]
fn i2_revocation_future_completes_when_guard_dropped_from_another_thread() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    let revocation = state.revoke_subject("alice").unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let dropper = {
        let dropped = Arc::clone(&dropped);
        thread::spawn(move || {
            thread::sleep(SHORT * 2);
            dropped.store(true, Ordering::SeqCst);
            drop(guard);
        })
    };
    let version = within_deadline("block_on(revocation)", move || block_on(revocation));
    assert!(
        dropped.load(Ordering::SeqCst),
        "future completed before the guard was dropped"
    );
    assert_eq!(version, Version(1));
    dropper.join().unwrap();
}

#[test]
fn i2_revocation_future_is_pending_until_guard_dropped_and_wakes_once_dropped() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    let mut revocation = state.revoke_token("t1", facts.expires_at).into_future();
    let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
    assert!(poll_once(&mut revocation, &waker).is_pending());
    // Polling again with the same waker does not register it twice.
    assert!(poll_once(&mut revocation, &waker).is_pending());
    assert_eq!(waker.0.load(Ordering::SeqCst), 0);
    drop(guard);
    assert_eq!(
        waker.0.load(Ordering::SeqCst),
        1,
        "woken exactly once by the drop"
    );
    assert!(poll_once(&mut revocation, &waker).is_ready());
}

#[test]
fn i2_revocation_future_over_all_shards_completes_after_last_drop() {
    let (state, _) = sharded();
    let subjects: Vec<String> = (0..24).map(|i| format!("user-{i}")).collect();
    let guards: Vec<Guard> = subjects
        .iter()
        .map(|s| admit(&state, &token(s, "t")))
        .collect();
    let revocation = state.revoke_all();
    let dropped = Arc::new(AtomicUsize::new(0));
    let dropper = {
        let dropped = Arc::clone(&dropped);
        thread::spawn(move || {
            for guard in guards {
                thread::sleep(Duration::from_millis(1));
                dropped.fetch_add(1, Ordering::SeqCst);
                drop(guard);
            }
        })
    };
    within_deadline("block_on(revoke_all)", move || block_on(revocation));
    assert_eq!(dropped.load(Ordering::SeqCst), 24);
    dropper.join().unwrap();
}

#[test]
fn revocation_handles_outlive_state_and_dropped_handles_are_harmless() {
    let (state, _) = sharded();
    let facts = token("alice", "t1");
    let guard = admit(&state, &facts);
    let revocation = state.revoke_token("t1", facts.expires_at);
    let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let mut abandoned = state.revoke_subject("alice").unwrap().into_future();
    assert!(poll_once(&mut abandoned, &waker).is_pending());
    drop(abandoned); // its waker stays registered until the next release
    drop(state); // guards and handles keep the shared state alive
    drop(guard);
    assert_passed(revocation);
}

/// Workers repeatedly take guards with `facts` and hold them briefly,
/// counting the live ones; after `revoke` returns and its barrier passes, no
/// guard under the old authority may be live (I2, I3) and no new one may be
/// admitted (I1).
fn stress_barrier<T: Copy>(
    state: &AuthState,
    facts: TokenFacts<'static>,
    required: Roles,
    revoke: impl FnOnce(&AuthState) -> Revocation<T>,
) {
    const WORKERS: usize = 4;
    let live = Arc::new(AtomicUsize::new(0));
    let admitted = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WORKERS + 1));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (state, live, admitted, stop, start) = (
                state.clone(),
                Arc::clone(&live),
                Arc::clone(&admitted),
                Arc::clone(&stop),
                Arc::clone(&start),
            );
            thread::spawn(move || {
                start.wait();
                while !stop.load(Ordering::SeqCst) {
                    if let Ok(guard) = state.guard(&facts, required) {
                        live.fetch_add(1, Ordering::SeqCst);
                        admitted.fetch_add(1, Ordering::SeqCst);
                        thread::yield_now();
                        live.fetch_sub(1, Ordering::SeqCst);
                        drop(guard);
                    } else {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    start.wait();
    // Let some admissions happen first.
    let deadline = Instant::now() + LONG;
    while admitted.load(Ordering::SeqCst) < 20 && Instant::now() < deadline {
        thread::yield_now();
    }
    let mut revocation = revoke(state);
    assert_eq!(
        revocation.wait_timeout(LONG),
        Ok(()),
        "barrier did not pass"
    );
    assert_eq!(
        live.load(Ordering::SeqCst),
        0,
        "a guard under the old authority outlived the barrier"
    );
    let after = admitted.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(5));
    assert_eq!(live.load(Ordering::SeqCst), 0);
    assert_eq!(
        admitted.load(Ordering::SeqCst),
        after,
        "admitted after the revocation"
    );
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn i1_i2_concurrent_guards_never_outlive_revoke_token() {
    for _ in 0..10 {
        let (state, _) = sharded();
        stress_barrier(&state, token("alice", "t1"), Roles::EMPTY, |s| {
            s.revoke_token("t1", at(T0 + 300))
        });
    }
}

#[test]
fn i1_i2_concurrent_guards_never_outlive_revoke_subject() {
    for _ in 0..10 {
        let (state, _) = one_shard();
        stress_barrier(&state, versionless("alice", "t1"), Roles::EMPTY, |s| {
            s.revoke_subject("alice").unwrap()
        });
    }
}

#[test]
fn i1_i3_concurrent_guards_never_outlive_set_role_downgrade() {
    for _ in 0..10 {
        let (state, _) = one_shard();
        state.set_role("alice", roles(&[0, 1])).wait();
        stress_barrier(&state, token("alice", "t1"), roles(&[1]), |s| {
            s.set_role("alice", roles(&[0]))
        });
    }
}

#[test]
fn i1_i2_concurrent_guards_never_outlive_revoke_all() {
    for _ in 0..10 {
        let (state, _) = sharded();
        stress_barrier(
            &state,
            token("alice", "t1"),
            Roles::EMPTY,
            AuthState::revoke_all,
        );
    }
}

#[test]
fn i1_i2_concurrent_guards_never_outlive_revoke_family() {
    for _ in 0..10 {
        let (state, _) = one_shard();
        let grant = state.issue_family("alice", at(T0 + 3_600));
        let facts = TokenFacts {
            family: Some(grant.family),
            ..token("alice", "t1")
        };
        stress_barrier(&state, facts, Roles::EMPTY, |s| {
            s.revoke_family("alice", grant.family)
        });
    }
}

#[test]
fn i7_barrier_not_starved_by_stream_of_new_guards() {
    let (state, _) = one_shard();
    let old = admit(&state, &token("alice", "t0"));
    let revocation = state.revoke_subject("alice").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let churners: Vec<_> = (0..4)
        .map(|i| {
            let (state, stop) = (state.clone(), Arc::clone(&stop));
            thread::spawn(move || {
                let new_authority = TokenFacts {
                    version: Some(Version(1)),
                    ..token("alice", "t1")
                };
                let other = token("bob", "t2");
                let mut held = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    // Always keep a few guards live in the same table.
                    held.push(admit(
                        &state,
                        if i % 2 == 0 { &new_authority } else { &other },
                    ));
                    if held.len() > 3 {
                        drop(held.remove(0));
                    }
                }
            })
        })
        .collect();
    thread::sleep(SHORT);
    drop(old);
    let mut revocation = revocation;
    let result = revocation.wait_timeout(LONG);
    stop.store(true, Ordering::SeqCst);
    for churner in churners {
        churner.join().unwrap();
    }
    assert_eq!(
        result,
        Ok(()),
        "barrier starved by guards admitted after the revocation"
    );
}

#[test]
fn i7_mixed_operations_do_not_deadlock() {
    for shards in [1, 4] {
        let clock = ManualClock::new(at(T0));
        let state = builder(&clock).shards(shards).build();
        within_deadline("mixed operations", move || {
            let subjects = ["alice", "bob", "carol"];
            let threads: Vec<_> = (0..8)
                .map(|t| {
                    let (state, clock) = (state.clone(), clock.clone());
                    thread::spawn(move || {
                        let mut grant = state.issue_family(subjects[t % 3], at(T0 + 1_000_000));
                        for i in 0..300usize {
                            let subject = subjects[(t + i) % 3];
                            let jti = ["j0", "j1", "j2", "j3"][i % 4];
                            let facts = TokenFacts {
                                version: None,
                                issued_at: state.now(),
                                expires_at: state.now().saturating_add_secs(1_000),
                                ..token(subject, jti)
                            };
                            match (t + i) % 10 {
                                0 => drop(state.check(&facts)),
                                1 => {
                                    if let Ok(guard) = state.guard(&facts, Roles::EMPTY) {
                                        thread::yield_now();
                                        drop(guard);
                                    }
                                }
                                2 => state.revoke_token(jti, facts.expires_at).wait(),
                                3 => drop(state.revoke_subject(subject).map(Revocation::wait)),
                                4 => state
                                    .set_role(subject, Roles::from_bits(i as u32 & 3))
                                    .wait(),
                                5 => drop(state.revoke_all()),
                                6 => {
                                    state.sweep(16);
                                    clock.advance_secs(1);
                                }
                                7 => state
                                    .revoke_subject_issued_before(subject, state.now())
                                    .wait(),
                                8 => match state.redeem(
                                    &refresh(subjects[t % 3], grant, T0 + 1_000_000),
                                    at(T0 + 1_000_000),
                                ) {
                                    Ok(next) => grant = next,
                                    Err(RedeemError::Reused(r)) => r.wait(),
                                    Err(_) => {
                                        grant =
                                            state.issue_family(subjects[t % 3], at(T0 + 1_000_000))
                                    }
                                },
                                _ => block_on(state.revoke_family(subject, grant.family)),
                            }
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Deterministic interleavings: a clock that pauses the thread reading it
// ---------------------------------------------------------------------------

/// A manual clock that can stop one named thread inside its next reading,
/// which `check` and `guard` take between the denylist lookup and the
/// subject lookup (I5). That pins an operation in the middle of its lock
/// protocol while another thread acts.
#[derive(Clone, Debug)]
struct PausingClock(Arc<PausingInner>);

type Armed = Option<(String, mpsc::Sender<()>, mpsc::Receiver<()>)>;

#[derive(Debug)]
struct PausingInner {
    now: std::sync::atomic::AtomicI64,
    armed: std::sync::Mutex<Armed>,
}

/// The paused thread's handle: wait until it is paused, then resume it.
struct Pause {
    paused: mpsc::Receiver<()>,
    resume: mpsc::Sender<()>,
}

impl Pause {
    fn wait_paused(&self) {
        self.paused
            .recv_timeout(LONG)
            .expect("the armed thread never read the clock");
    }

    fn resume(self) {
        self.resume.send(()).expect("paused thread gone");
    }
}

impl PausingClock {
    fn new(start: i64) -> Self {
        Self(Arc::new(PausingInner {
            now: std::sync::atomic::AtomicI64::new(start),
            armed: std::sync::Mutex::new(None),
        }))
    }

    fn set(&self, secs: i64) {
        self.0.now.fetch_max(secs, Ordering::SeqCst);
    }

    /// Pauses the next clock reading made by the thread named `thread`.
    fn pause_next_read_on(&self, thread: &str) -> Pause {
        let (paused_tx, paused) = mpsc::channel();
        let (resume, resume_rx) = mpsc::channel();
        *self.0.armed.lock().unwrap() = Some((thread.to_owned(), paused_tx, resume_rx));
        Pause { paused, resume }
    }
}

impl Clock for PausingClock {
    fn now(&self) -> UnixTime {
        let hit = {
            let mut armed = self.0.armed.lock().unwrap();
            let mine =
                matches!(&*armed, Some((name, ..)) if thread::current().name() == Some(name));
            if mine { armed.take() } else { None }
        };
        if let Some((_, paused, resume)) = hit {
            paused.send(()).unwrap();
            resume.recv().unwrap();
        }
        at(self.0.now.load(Ordering::SeqCst))
    }
}

fn spawn_named<R: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> thread::JoinHandle<R> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .unwrap()
}

#[test]
fn i2_revoke_token_waits_out_an_admission_in_progress_and_then_waits_for_its_guard() {
    let clock = PausingClock::new(T0);
    let state = AuthState::builder().clock(clock.clone()).build();
    let pause = clock.pause_next_read_on("admitter");
    let admitter = {
        let state = state.clone();
        spawn_named("admitter", move || {
            state.guard(&token("alice", "t1"), Roles::EMPTY)
        })
    };
    // The admission has looked the jti up and holds its denylist shard.
    pause.wait_paused();
    let (tx, rx) = mpsc::channel();
    let revoker = {
        let state = state.clone();
        thread::spawn(move || tx.send(state.revoke_token("t1", at(T0 + 300))).unwrap())
    };
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "revoke_token returned while an admission of the token was in progress"
    );
    pause.resume();
    let guard = admitter
        .join()
        .unwrap()
        .expect("admitted before the revocation");
    let mut revocation = rx.recv_timeout(LONG).expect("revoke_token returns");
    revoker.join().unwrap();
    // The admission is ordered before the revocation: the barrier waits for it.
    assert_blocked(&mut revocation, 1);
    assert_eq!(state.check(&token("alice", "t1")), Err(Rejection::Revoked));
    drop(guard);
    assert_passed(revocation);
}

#[test]
fn i1_revoke_subject_during_an_admission_is_seen_by_it() {
    let clock = PausingClock::new(T0);
    let state = AuthState::builder().clock(clock.clone()).build();
    let pause = clock.pause_next_read_on("admitter");
    let admitter = {
        let state = state.clone();
        spawn_named("admitter", move || {
            state.guard(&token("alice", "t1"), Roles::EMPTY).map(drop)
        })
    };
    pause.wait_paused();
    // The admission has not read the subject yet: the revocation goes first
    // and has nothing to wait for.
    let revocation = state.revoke_subject("alice").unwrap();
    pause.resume();
    assert_eq!(
        admitter.join().unwrap(),
        Err(Rejection::StaleVersion {
            token: Version(0),
            current: Version(1)
        })
    );
    assert_eq!(assert_passed(revocation), Version(1));
}

#[test]
fn i5_sweep_during_a_check_never_turns_revoked_into_valid() {
    let clock = PausingClock::new(T0);
    let state = AuthState::builder().clock(clock.clone()).build();
    // One revoked token per path, expiring one after the other.
    let paths = [("check", T0 + 10), ("guard", T0 + 20)];
    for (jti, exp) in paths {
        drop(state.revoke_token(jti, at(exp)));
    }
    for (path, exp) in paths {
        let facts = TokenFacts {
            expires_at: at(exp),
            ..token("alice", path)
        };
        let pause = clock.pause_next_read_on(path);
        let checker = {
            let state = state.clone();
            spawn_named(path, move || {
                if path == "check" {
                    state.check(&facts).map(drop)
                } else {
                    state.guard(&facts, Roles::EMPTY).map(drop)
                }
            })
        };
        // The lookup found the entry; the clock has not been read yet.
        pause.wait_paused();
        // The token expires and a sweep runs. On the check path it removes
        // the entry at once; on the guard path it waits for the admission's
        // denylist read lock, so it runs on its own thread.
        clock.set(exp);
        let sweeper = {
            let state = state.clone();
            thread::spawn(move || state.sweep(usize::MAX).removed)
        };
        thread::sleep(Duration::from_millis(10));
        pause.resume();
        let result = checker.join().unwrap();
        assert!(
            matches!(result, Err(Rejection::Revoked | Rejection::Expired)),
            "{path}: {result:?}"
        );
        assert_eq!(sweeper.join().unwrap(), 1, "{path}");
        assert_eq!(state.check(&facts), Err(Rejection::Expired));
    }
    assert_eq!(state.denylist_len(), 0);
}

// ---------------------------------------------------------------------------
// I4: version bumps
// ---------------------------------------------------------------------------

#[test]
fn i4_concurrent_revoke_subject_yields_distinct_versions() {
    const K: usize = 16;
    for shards in [1, 64] {
        let clock = ManualClock::new(at(T0));
        let state = builder(&clock).shards(shards).build();
        let start = Arc::new(Barrier::new(K));
        let threads: Vec<_> = (0..K)
            .map(|_| {
                let (state, start) = (state.clone(), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    state.revoke_subject("alice").unwrap().wait()
                })
            })
            .collect();
        let mut versions: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap().0).collect();
        versions.sort_unstable();
        assert_eq!(versions, (1..=K as u32).collect::<Vec<_>>());
        assert_eq!(state.current_version("alice"), Version(K as u32));
    }
}

#[test]
fn i4_repeated_concurrent_revocations_of_several_subjects_lose_no_update() {
    const K: usize = 8;
    const ROUNDS: usize = 100;
    let (state, _) = one_shard();
    let threads: Vec<_> = (0..K)
        .map(|t| {
            let state = state.clone();
            thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..ROUNDS {
                    let subject = if (t + i) % 2 == 0 { "alice" } else { "bob" };
                    mine.push((subject, state.revoke_subject(subject).unwrap().value().0));
                }
                mine
            })
        })
        .collect();
    let all: Vec<(&str, u32)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    for subject in ["alice", "bob"] {
        let mut versions: Vec<u32> = all
            .iter()
            .filter(|(s, _)| *s == subject)
            .map(|e| e.1)
            .collect();
        let n = versions.len() as u32;
        versions.sort_unstable();
        versions.dedup();
        assert_eq!(versions.len() as u32, n, "{subject}: duplicate version");
        assert_eq!(state.current_version(subject), Version(n));
    }
}

#[test]
fn version_exhaustion_is_an_error_not_a_wrap() {
    // Reaching u32::MAX through AuthState takes four billion revocations, so
    // the transition is exercised directly.
    let mut record = SubjectRecord::with_roles(roles(&[0]));
    record.set_version(Version(u32::MAX - 1));
    assert_eq!(record.revoke(at(T0)), Ok(Version(u32::MAX)));
    let before = record;
    assert_eq!(record.revoke(at(T0 + 1)), Err(StateError::VersionExhausted));
    assert_eq!(record, before, "a failed revoke changes nothing");
    assert_eq!(
        StateError::VersionExhausted.to_string(),
        "subject version exhausted"
    );
}

// ---------------------------------------------------------------------------
// I6: refresh rotation
// ---------------------------------------------------------------------------

#[test]
fn i6_rotation_hands_out_successive_generations() {
    let (state, _) = sharded();
    let mut grant = state.issue_family("alice", at(T0 + 3_600));
    assert_eq!(grant.generation, 0);
    for expected in 1..=5 {
        grant = state
            .redeem(&refresh("alice", grant, T0 + 3_600), at(T0 + 3_600))
            .unwrap();
        assert_eq!(grant.generation, expected);
    }
}

#[test]
fn i6_concurrent_redeem_of_same_token_at_most_one_wins() {
    const K: usize = 8;
    for _ in 0..25 {
        let (state, _) = sharded();
        let grant = state.issue_family("alice", at(T0 + 3_600));
        let access = TokenFacts {
            family: Some(grant.family),
            ..token("alice", "t1")
        };
        let start = Arc::new(Barrier::new(K));
        let threads: Vec<_> = (0..K)
            .map(|_| {
                let (state, start) = (state.clone(), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    state
                        .redeem(&refresh("alice", grant, T0 + 3_600), at(T0 + 7_200))
                        .map_err(|e| e.reason())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<RefreshGrant> = results.iter().filter_map(|r| r.ok()).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert_eq!(winners[0].generation, 1);
        let reused = results
            .iter()
            .filter(|r| *r == &Err("refresh_reuse"))
            .count();
        let revoked = results
            .iter()
            .filter(|r| *r == &Err("family_revoked"))
            .count();
        assert_eq!((reused, revoked), (1, K - 2), "{results:?}");
        // The winner's successor is dead too, and so are the access tokens.
        assert!(matches!(
            state.redeem(&refresh("alice", winners[0], T0 + 7_200), at(T0 + 9_000)),
            Err(RedeemError::FamilyRevoked)
        ));
        assert_eq!(state.check(&access), Err(Rejection::FamilyRevoked));
    }
}

#[test]
fn i6_reuse_of_any_earlier_generation_revokes_the_family() {
    for reused_generation in [0u32, 1, 2] {
        let (state, _) = sharded();
        let first = state.issue_family("alice", at(T0 + 3_600));
        let mut grants = vec![first];
        for _ in 0..3 {
            let last = *grants.last().unwrap();
            grants.push(
                state
                    .redeem(&refresh("alice", last, T0 + 3_600), at(T0 + 3_600))
                    .unwrap(),
            );
        }
        let current = *grants.last().unwrap();
        assert_eq!(current.generation, 3);
        let replayed = grants[reused_generation as usize];
        let Err(RedeemError::Reused(revocation)) =
            state.redeem(&refresh("alice", replayed, T0 + 3_600), at(T0 + 3_600))
        else {
            panic!("generation {reused_generation} reused");
        };
        assert_passed(revocation);
        assert!(matches!(
            state.redeem(&refresh("alice", current, T0 + 3_600), at(T0 + 3_600)),
            Err(RedeemError::FamilyRevoked)
        ));
        // Further reuse reports the revoked family, not reuse again.
        assert!(matches!(
            state.redeem(&refresh("alice", replayed, T0 + 3_600), at(T0 + 3_600)),
            Err(RedeemError::FamilyRevoked)
        ));
    }
}

#[test]
fn i6_future_generation_is_treated_as_reuse() {
    let (state, _) = sharded();
    let grant = state.issue_family("alice", at(T0 + 3_600));
    let forged = RefreshGrant {
        generation: 5,
        ..grant
    };
    assert!(matches!(
        state.redeem(&refresh("alice", forged, T0 + 3_600), at(T0 + 3_600)),
        Err(RedeemError::Reused(_))
    ));
    assert!(matches!(
        state.redeem(&refresh("alice", grant, T0 + 3_600), at(T0 + 3_600)),
        Err(RedeemError::FamilyRevoked)
    ));
}

#[test]
fn i6_redeem_rejects_expired_unknown_and_foreign_tokens_without_revoking() {
    let (state, clock) = sharded();
    let grant = state.issue_family("alice", at(T0 + 100));
    // Another subject presenting alice's family: unknown to them.
    assert!(matches!(
        state.redeem(&refresh("mallory", grant, T0 + 100), at(T0 + 200)),
        Err(RedeemError::UnknownFamily)
    ));
    assert!(matches!(
        state.redeem(
            &refresh(
                "alice",
                RefreshGrant {
                    family: FamilyId(0),
                    generation: 0
                },
                T0 + 100
            ),
            at(T0 + 200)
        ),
        Err(RedeemError::UnknownFamily)
    ));
    // An expired refresh token: nothing changes.
    clock.set(at(T0 + 100));
    assert!(matches!(
        state.redeem(&refresh("alice", grant, T0 + 100), at(T0 + 200)),
        Err(RedeemError::Expired)
    ));
    // The same token with a later exp (e.g. a re-issued one) still rotates:
    // neither of the failures above revoked or advanced the family.
    assert_eq!(
        state
            .redeem(&refresh("alice", grant, T0 + 150), at(T0 + 200))
            .unwrap()
            .generation,
        1
    );
    for (err, reason) in [
        (RedeemError::FamilyRevoked, "family_revoked"),
        (RedeemError::Expired, "expired"),
        (RedeemError::UnknownFamily, "unknown_family"),
    ] {
        assert_eq!(err.reason(), reason);
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn i6_refresh_overlap_replays_within_window_and_revokes_outside() {
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock)
        .refresh_overlap(Some(Duration::from_secs(10)))
        .build();
    let exp = T0 + 3_600;
    let g0 = state.issue_family("alice", at(exp));
    clock.advance_secs(100);
    let g1 = state.redeem(&refresh("alice", g0, exp), at(exp)).unwrap(); // rotated at T0+100
    assert_eq!(g1.generation, 1);
    // Within the window the previous token gets the current generation again
    // and the family does not move.
    clock.set(at(T0 + 109));
    assert_eq!(
        state.redeem(&refresh("alice", g0, exp), at(exp)).unwrap(),
        g1
    );
    // Replaying does not extend the window.
    clock.set(at(T0 + 110));
    assert!(matches!(
        state.redeem(&refresh("alice", g0, exp), at(exp)),
        Err(RedeemError::Reused(_))
    ));
    assert!(matches!(
        state.redeem(&refresh("alice", g1, exp), at(exp)),
        Err(RedeemError::FamilyRevoked)
    ));
}

#[test]
fn i6_refresh_overlap_covers_only_the_immediately_previous_generation() {
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock)
        .refresh_overlap(Some(Duration::from_secs(10)))
        .build();
    let exp = T0 + 3_600;
    let g0 = state.issue_family("alice", at(exp));
    let g1 = state.redeem(&refresh("alice", g0, exp), at(exp)).unwrap();
    let g2 = state.redeem(&refresh("alice", g1, exp), at(exp)).unwrap();
    assert_eq!(
        state.redeem(&refresh("alice", g1, exp), at(exp)).unwrap(),
        g2
    );
    assert!(matches!(
        state.redeem(&refresh("alice", g0, exp), at(exp)),
        Err(RedeemError::Reused(_))
    ));
}

#[test]
fn i6_refresh_overlap_zero_window_is_off() {
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock)
        .refresh_overlap(Some(Duration::ZERO))
        .build();
    let exp = T0 + 3_600;
    let g0 = state.issue_family("alice", at(exp));
    state.redeem(&refresh("alice", g0, exp), at(exp)).unwrap();
    assert!(matches!(
        state.redeem(&refresh("alice", g0, exp), at(exp)),
        Err(RedeemError::Reused(_))
    ));
}

#[test]
fn i6_concurrent_redeem_with_overlap_rotates_exactly_once() {
    const K: usize = 8;
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock)
        .refresh_overlap(Some(Duration::from_secs(30)))
        .build();
    let exp = T0 + 3_600;
    let g0 = state.issue_family("alice", at(exp));
    let start = Arc::new(Barrier::new(K));
    let threads: Vec<_> = (0..K)
        .map(|_| {
            let (state, start) = (state.clone(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                state
                    .redeem(&refresh("alice", g0, exp), at(exp))
                    .map_err(|e| e.reason())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    // Everyone gets generation 1: one rotation, the rest replays.
    assert!(
        results.iter().all(|r| *r
            == Ok(RefreshGrant {
                family: g0.family,
                generation: 1
            })),
        "{results:?}"
    );
    // The family moved exactly once.
    let g1 = RefreshGrant {
        generation: 1,
        ..g0
    };
    assert_eq!(
        state
            .redeem(&refresh("alice", g1, exp), at(exp))
            .unwrap()
            .generation,
        2
    );
}

#[test]
fn transitions_family_record_redeem_is_one_time() {
    let mut family = FamilyRecord::new(at(T0 + 100), at(T0));
    assert_eq!(
        family.redeem(0, at(T0 + 100), at(T0 + 200), at(T0), 0, None),
        RedeemStep::Rotated(1)
    );
    assert_eq!(family.expires_at(), at(T0 + 200));
    assert_eq!(
        family.redeem(0, at(T0 + 100), at(T0 + 200), at(T0), 0, None),
        RedeemStep::Reuse
    );
    assert!(family.is_revoked());
    assert_eq!(
        family.redeem(1, at(T0 + 200), at(T0 + 300), at(T0), 0, None),
        RedeemStep::AlreadyRevoked
    );
    let mut fresh = FamilyRecord::new(at(T0 + 100), at(T0));
    assert_eq!(
        fresh.redeem(0, at(T0 + 100), at(T0 + 200), at(T0 + 100), 0, None),
        RedeemStep::Expired
    );
    assert_eq!(fresh.generation(), 0);
    assert!(!fresh.is_revoked());
}

// ---------------------------------------------------------------------------
// Sweep: I5
// ---------------------------------------------------------------------------

#[test]
fn i5_sweep_removes_only_entries_expired_with_leeway() {
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock).leeway(Duration::from_secs(5)).build();
    for (jti, exp) in [("a", T0 + 10), ("b", T0 + 20), ("c", T0 + 30)] {
        drop(state.revoke_token(jti, at(exp)));
    }
    let facts = |jti, exp| TokenFacts {
        expires_at: at(exp),
        ..token("alice", jti)
    };
    clock.set(at(T0 + 14)); // a: exp + leeway - 1
    assert_eq!(state.sweep(usize::MAX).removed, 0);
    assert_eq!(state.denylist_len(), 3);
    assert_eq!(state.check(&facts("a", T0 + 10)), Err(Rejection::Revoked));
    clock.set(at(T0 + 15)); // a: exp + leeway
    let report = state.sweep(usize::MAX);
    assert_eq!(report.removed, 1);
    assert_eq!(report.work, 1);
    assert_eq!(state.denylist_len(), 2);
    // Removed only once the token is refused as expired anyway.
    assert_eq!(state.check(&facts("a", T0 + 10)), Err(Rejection::Expired));
    assert_eq!(state.check(&facts("b", T0 + 20)), Err(Rejection::Revoked));
    clock.set(at(T0 + 35));
    assert_eq!(state.sweep(usize::MAX).removed, 2);
    assert_eq!(state.denylist_len(), 0);
    assert_eq!(state.sweep(usize::MAX), SweepReport::default());
}

#[test]
fn sweep_work_is_bounded_by_budget() {
    let (state, clock) = sharded();
    for i in 0..1_000 {
        drop(state.revoke_token(&format!("jti-{i}"), at(T0 + 1 + i % 7)));
    }
    clock.set(at(T0 + 100));
    assert_eq!(state.sweep(0).work, 0);
    assert_eq!(state.denylist_len(), 1_000);
    let mut total = 0;
    let mut calls = 0;
    for budget in [1usize, 7, 64, 65, 100, 129].into_iter().cycle() {
        let report = state.sweep(budget);
        assert!(report.work <= budget, "{report:?} over budget {budget}");
        assert!(report.removed <= report.work);
        total += report.removed;
        calls += 1;
        if state.denylist_len() == 0 {
            break;
        }
        assert!(calls < 10_000, "sweep makes no progress");
    }
    assert_eq!(total, 1_000);
}

#[test]
fn sweep_reinsert_with_later_exp_keeps_the_later_exp() {
    let (state, clock) = one_shard();
    let later = TokenFacts {
        expires_at: at(T0 + 100),
        ..token("alice", "t1")
    };
    drop(state.revoke_token("t1", at(T0 + 10)));
    drop(state.revoke_token("t1", at(T0 + 100))); // extends
    drop(state.revoke_token("t1", at(T0 + 20))); // earlier: ignored
    assert_eq!(state.denylist_len(), 1);
    clock.set(at(T0 + 50));
    let report = state.sweep(usize::MAX);
    assert_eq!(report.removed, 0, "{report:?}");
    assert_eq!(
        report.work, 1,
        "the stale heap item for exp T0+10 is examined: {report:?}"
    );
    assert_eq!(state.check(&later), Err(Rejection::Revoked));
    clock.set(at(T0 + 99));
    assert_eq!(state.sweep(usize::MAX).removed, 0);
    assert_eq!(state.check(&later), Err(Rejection::Revoked));
    clock.set(at(T0 + 100));
    assert_eq!(state.sweep(usize::MAX).removed, 1);
    assert_eq!(state.check(&later), Err(Rejection::Expired));
    // Revoked again after being swept: a fresh entry.
    drop(state.revoke_token("t1", at(T0 + 200)));
    assert_eq!(state.denylist_len(), 1);
    assert_eq!(state.sweep(usize::MAX).removed, 0);
}

#[test]
fn sweep_removes_families_only_after_their_latest_expiry() {
    let (state, clock) = one_shard();
    let grant = state.issue_family("alice", at(T0 + 10));
    let access = TokenFacts {
        family: Some(grant.family),
        expires_at: at(T0 + 20),
        ..token("alice", "t1")
    };
    state.extend_family("alice", grant.family, at(T0 + 20));
    // A revoked family is kept until it expires, so its tokens stay refused.
    let revoked = state.issue_family("bob", at(T0 + 30));
    state.revoke_family("bob", revoked.family).wait();
    clock.set(at(T0 + 15));
    assert_eq!(state.sweep(usize::MAX).families_removed, 0);
    assert!(state.check(&access).is_ok());
    assert!(matches!(
        state.redeem(&refresh("alice", grant, T0 + 10), at(T0 + 40)),
        Err(RedeemError::Expired)
    ));
    clock.set(at(T0 + 20));
    assert_eq!(state.sweep(usize::MAX).families_removed, 1);
    assert!(matches!(
        state.redeem(&refresh("alice", grant, T0 + 10), at(T0 + 40)),
        Err(RedeemError::UnknownFamily)
    ));
    assert_eq!(state.check(&access), Err(Rejection::Expired));
    clock.set(at(T0 + 30));
    assert_eq!(state.sweep(usize::MAX).families_removed, 1);
}

#[test]
fn sweep_visits_every_shards_families_in_turn() {
    let (state, clock) = sharded();
    for i in 0..200 {
        let _ = state.issue_family(&format!("user-{i}"), at(T0 + 10));
    }
    clock.set(at(T0 + 10));
    let removed: usize = (0..64)
        .map(|_| state.sweep(usize::MAX).families_removed)
        .sum();
    assert_eq!(removed, 200);
}

#[test]
fn i5_concurrent_sweep_never_readmits_a_revoked_token() {
    const TOKENS: i64 = 40;
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock)
        .leeway(Duration::from_secs(2))
        .shards(4)
        .build();
    let jtis: Arc<Vec<String>> = Arc::new((0..TOKENS).map(|i| format!("t{i}")).collect());
    for (i, jti) in jtis.iter().enumerate() {
        drop(state.revoke_token(jti, at(T0 + 1 + i as i64)));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(4));
    let checkers: Vec<_> = (0..3)
        .map(|_| {
            let (state, jtis, stop, start) = (
                state.clone(),
                Arc::clone(&jtis),
                Arc::clone(&stop),
                Arc::clone(&start),
            );
            thread::spawn(move || {
                let mut checks = 0usize;
                start.wait();
                // At least one full pass, then until the sweeper is done.
                loop {
                    for (i, jti) in jtis.iter().enumerate() {
                        let facts = TokenFacts {
                            expires_at: at(T0 + 1 + i as i64),
                            ..token("alice", jti)
                        };
                        let result = state.check(&facts);
                        assert!(
                            matches!(result, Err(Rejection::Revoked | Rejection::Expired)),
                            "{jti}: {result:?} at {}",
                            state.now()
                        );
                        if let Ok(guard) = state.guard(&facts, Roles::EMPTY) {
                            panic!("{jti}: revoked token admitted: {guard:?}");
                        }
                        checks += 1;
                    }
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                }
                checks
            })
        })
        .collect();
    let sweeper = {
        let (state, clock) = (state.clone(), clock.clone());
        thread::spawn(move || {
            let mut removed = 0;
            start.wait();
            for _ in 0..TOKENS + 4 {
                clock.advance_secs(1);
                for _ in 0..5 {
                    removed += state.sweep(3).removed;
                    thread::sleep(Duration::from_micros(100));
                }
            }
            removed += state.sweep(usize::MAX).removed;
            removed
        })
    };
    let removed = sweeper.join().unwrap();
    stop.store(true, Ordering::SeqCst);
    for checker in checkers {
        assert!(checker.join().unwrap() > 0);
    }
    assert_eq!(removed, TOKENS as usize);
    assert_eq!(state.denylist_len(), 0);
}

// ---------------------------------------------------------------------------
// I8: cutoffs never go down
// ---------------------------------------------------------------------------

#[test]
fn i8_global_cutoff_never_goes_down() {
    let (state, _) = sharded();
    let facts = TokenFacts {
        issued_at: at(T0 + 50),
        ..token("alice", "t1")
    };
    state.revoke_issued_before(at(T0 + 100)).wait();
    assert_eq!(state.check(&facts), Err(Rejection::IssuedBeforeCutoff));
    state.revoke_issued_before(at(T0 + 10)).wait();
    state.revoke_all().wait(); // now = T0 < T0 + 100
    assert_eq!(state.check(&facts), Err(Rejection::IssuedBeforeCutoff));
    let after = TokenFacts {
        issued_at: at(T0 + 101),
        ..facts
    };
    assert!(state.check(&after).is_ok());
}

#[test]
fn i8_subject_cutoff_never_goes_down() {
    let (state, _) = sharded();
    let facts = TokenFacts {
        issued_at: at(T0 + 50),
        ..versionless("alice", "t1")
    };
    state
        .revoke_subject_issued_before("alice", at(T0 + 100))
        .wait();
    state
        .revoke_subject_issued_before("alice", at(T0 + 10))
        .wait();
    drop(state.revoke_subject("alice").unwrap()); // raises to now = T0 only
    assert_eq!(state.check(&facts), Err(Rejection::IssuedBeforeCutoff));
    let after = TokenFacts {
        issued_at: at(T0 + 101),
        ..facts
    };
    assert!(state.check(&after).is_ok());
}

#[test]
fn i8_concurrent_cutoff_raises_keep_the_maximum() {
    const K: i64 = 8;
    for _ in 0..10 {
        let (state, _) = sharded();
        let start = Arc::new(Barrier::new(K as usize));
        let threads: Vec<_> = (0..K)
            .map(|k| {
                let (state, start) = (state.clone(), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    // Interleave high and low values.
                    let value = T0 + if k % 2 == 0 { 1_000 - k } else { k };
                    drop(state.revoke_issued_before(at(value)));
                    drop(state.revoke_subject_issued_before("alice", at(value)));
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let max = T0 + 1_000;
        for (facts, refused) in [
            (
                TokenFacts {
                    issued_at: at(max),
                    ..token("bob", "b")
                },
                true,
            ),
            (
                TokenFacts {
                    issued_at: at(max + 1),
                    ..token("bob", "b")
                },
                false,
            ),
        ] {
            assert_eq!(state.check(&facts).is_err(), refused);
        }
        // The subject cutoff can only be seen above the global one if it is
        // higher; check it on its own through the record's transition.
        let mut record = SubjectRecord::default();
        for value in [T0 + 1_000, T0 + 1, T0 + 999] {
            record.raise_cutoff(at(value));
        }
        assert_eq!(record.cutoff(), Some(at(T0 + 1_000)));
    }
}

// ---------------------------------------------------------------------------
// No panics on any input
// ---------------------------------------------------------------------------

#[test]
fn arbitrary_subjects_and_jtis_do_not_panic() {
    let (state, _) = sharded();
    let huge = "x".repeat(1 << 20);
    let lossy = String::from_utf8_lossy(&[0xff, 0x00, 0xfe, 0x41, 0xc3]).into_owned();
    let all_chars: String = ['\0', '\u{1}', '\u{7f}', '\u{fffd}', '\u{10ffff}', '💥', 'é']
        .iter()
        .collect();
    let inputs: [&str; 5] = ["", &huge, &lossy, &all_chars, "\0"];
    for (i, subject) in inputs.iter().copied().enumerate() {
        for jti in inputs {
            // Unique per subject, so that each starts out not revoked.
            let jti = format!("{jti}{i}");
            let facts = token(subject, &jti);
            assert!(state.check(&facts).is_ok());
            drop(admit(&state, &facts));
            state.revoke_token(&jti, facts.expires_at).wait();
            assert_eq!(state.check(&facts), Err(Rejection::Revoked));
        }
        state.set_role(subject, roles(&[31])).wait();
        assert_eq!(state.live_roles(subject), roles(&[31]));
        let version = state.revoke_subject(subject).unwrap().wait();
        assert_eq!(state.current_version(subject), version);
        state.revoke_subject_issued_before(subject, at(T0)).wait();
        let grant = state.issue_family(subject, at(T0 + 10));
        state.extend_family(subject, grant.family, at(T0 + 20));
        assert!(
            state
                .redeem(&refresh(subject, grant, T0 + 10), at(T0 + 20))
                .is_ok()
        );
        state.revoke_family(subject, grant.family).wait();
    }
    // Distinct subjects stay distinct, including the empty one.
    assert_eq!(state.current_version(""), Version(1));
    assert_eq!(state.current_version("\0"), Version(1));
    assert_eq!(state.current_version("never-seen"), Version(0));
    assert_eq!(state.live_roles("never-seen"), Roles::EMPTY);
    state.sweep(usize::MAX);
}

#[test]
fn extreme_times_in_facts_do_not_panic() {
    let (state, _) = sharded();
    let extremes = [i64::MIN, i64::MIN + 1, -1, 0, 1, T0, i64::MAX - 1, i64::MAX];
    for &iat in &extremes {
        for &exp in &extremes {
            for version in [None, Some(Version(0)), Some(Version(u32::MAX))] {
                let facts = TokenFacts {
                    issued_at: at(iat),
                    expires_at: at(exp),
                    version,
                    ..token("alice", "t1")
                };
                let result = state.check(&facts);
                if exp <= T0 {
                    assert_eq!(result, Err(Rejection::Expired));
                } else if version == Some(Version(u32::MAX)) {
                    assert_eq!(
                        result,
                        Err(Rejection::StaleVersion {
                            token: Version(u32::MAX),
                            current: Version(0)
                        })
                    );
                } else {
                    assert!(result.is_ok(), "{facts:?}: {result:?}");
                }
                drop(state.guard(&facts, Roles::from_bits(u32::MAX)));
            }
        }
    }
}

#[test]
fn extreme_times_in_revocations_do_not_panic() {
    let (state, clock) = sharded();
    let extremes = [i64::MIN, i64::MIN + 1, -1, 0, 1, T0, i64::MAX - 1, i64::MAX];
    for (i, &t) in extremes.iter().enumerate() {
        drop(state.revoke_token(&format!("t{i}"), at(t)));
        drop(state.revoke_subject_issued_before("alice", at(t)));
        let grant = state.issue_family("alice", at(t));
        state.extend_family("alice", grant.family, at(t));
        drop(state.redeem(&refresh("alice", grant, t), at(t)));
    }
    assert_eq!(state.denylist_len(), extremes.len());
    // A denylisted token is refused whatever its exp.
    let facts = TokenFacts {
        expires_at: at(i64::MAX),
        ..token("bob", "t0")
    };
    assert_eq!(state.check(&facts), Err(Rejection::Revoked));
    // Sweep at the present removes the entries that expired in the past.
    let report = state.sweep(usize::MAX);
    assert_eq!(report.removed, 6); // MIN, MIN+1, -1, 0, 1, T0
    drop(state.revoke_issued_before(at(i64::MIN)));
    assert!(
        state.check(&token("bob", "x")).is_ok(),
        "a cutoff at i64::MIN refuses nothing current"
    );
    drop(state.revoke_issued_before(at(i64::MAX)));
    let forever = TokenFacts {
        issued_at: at(i64::MAX),
        ..token("bob", "x")
    };
    assert_eq!(state.check(&forever), Err(Rejection::IssuedBeforeCutoff));
    // The clock at its extremes.
    clock.set(at(i64::MAX));
    assert_eq!(state.now(), at(i64::MAX));
    assert_eq!(state.check(&forever), Err(Rejection::Expired));
    drop(state.revoke_subject("alice").unwrap());
    let grant = state.issue_family("carol", at(i64::MAX));
    // The family began under the i64::MAX cutoff set above: refused as revoked.
    assert!(matches!(
        state.redeem(&refresh("carol", grant, i64::MAX), at(i64::MAX)),
        Err(RedeemError::FamilyRevoked)
    ));
    let report = state.sweep(usize::MAX);
    assert_eq!(report.removed, 2);
    assert_eq!(state.denylist_len(), 0);
    let families: usize = (0..64)
        .map(|_| state.sweep(usize::MAX).families_removed)
        .sum();
    assert!(families >= 1);
}

#[test]
fn clock_at_minimum_does_not_panic() {
    let clock = ManualClock::new(at(i64::MIN));
    let state = builder(&clock).leeway(Duration::MAX).build();
    let facts = TokenFacts {
        issued_at: at(i64::MIN),
        expires_at: at(i64::MIN),
        ..token("alice", "t1")
    };
    // Infinite leeway: nothing ever expires, not even in the sweep.
    assert!(state.check(&facts).is_ok());
    drop(state.revoke_token("t1", at(i64::MIN)));
    assert_eq!(state.sweep(usize::MAX).removed, 0);
    drop(state.revoke_subject("alice").unwrap());
    state.revoke_all().wait();
    assert_eq!(state.check(&facts), Err(Rejection::Revoked));
    clock.advance_secs(-5); // ignored
    assert_eq!(clock.now(), at(i64::MIN));
}

#[test]
fn builder_extremes_do_not_panic() {
    for shards in [0, 1, 3, 1024, 1025, usize::MAX] {
        let clock = ManualClock::new(at(T0));
        let state = builder(&clock)
            .shards(shards)
            .leeway(Duration::MAX)
            .refresh_overlap(Some(Duration::MAX))
            .build();
        let facts = token("alice", "t1");
        let guard = admit(&state, &facts);
        let mut revocation = state.revoke_token("t1", facts.expires_at);
        assert_blocked(&mut revocation, 1);
        drop(guard);
        assert_passed(revocation);
        drop(state.revoke_all());
        // A login in the cutoff's own second is refused; log in a second later.
        clock.advance_secs(1);
        let g0 = state.issue_family("alice", at(T0 + 10));
        let g1 = state
            .redeem(&refresh("alice", g0, T0 + 10), at(T0 + 20))
            .unwrap();
        // Infinite overlap: the previous token is always replayed.
        clock.advance_secs(1_000_000);
        assert_eq!(
            state
                .redeem(&refresh("alice", g0, T0 + 10), at(T0 + 20))
                .unwrap(),
            g1
        );
        state.sweep(usize::MAX);
        assert!(format!("{state:?}").contains("AuthState"));
    }
}

#[test]
fn roles_cover_all_indices_without_overflow() {
    assert!(Role::new(Role::MAX).is_none());
    assert!(Role::new(u8::MAX).is_none());
    let all: Roles = (0..Role::MAX).map(role).collect();
    assert_eq!(all.bits(), u32::MAX);
    assert_eq!(all.iter().count(), 32);
    let (state, _) = sharded();
    state.set_role("alice", all).wait();
    let facts = TokenFacts {
        roles: all,
        ..token("alice", "t1")
    };
    let guard = state.guard(&facts, all).unwrap();
    let mut downgrade = state.set_role("alice", all.difference(roles(&[31])));
    assert_blocked(&mut downgrade, 1);
    drop(guard);
    assert_passed(downgrade);
}

// ---------------------------------------------------------------------------
// Regressions: each test pins down a defect that once existed.
// ---------------------------------------------------------------------------

#[test]
fn regression_subject_cutoff_at_epoch_is_honoured() {
    let (state, _) = sharded();
    let old = TokenFacts {
        issued_at: at(0),
        ..versionless("alice", "t1")
    };
    state.revoke_subject_issued_before("alice", at(0)).wait();
    assert_eq!(state.check(&old), Err(Rejection::IssuedBeforeCutoff));
}

#[test]
fn regression_revoke_subject_after_2106_refuses_versionless_tokens() {
    let clock = ManualClock::new(at(5_000_000_000)); // year 2128
    let state = builder(&clock).build();
    let facts = TokenFacts {
        issued_at: at(4_999_999_990),
        expires_at: at(5_000_000_300),
        ..versionless("alice", "t1")
    };
    assert!(state.check(&facts).is_ok());
    drop(state.revoke_subject("alice").unwrap());
    assert_eq!(state.check(&facts), Err(Rejection::IssuedBeforeCutoff));
}

#[test]
fn regression_manual_clock_advance_never_goes_backwards() {
    let clock = ManualClock::new(at(i64::MAX - 1));
    clock.advance_secs(10);
    assert_eq!(clock.now(), at(i64::MAX));
}

#[test]
fn regression_replayed_grant_extends_family_expiry() {
    let clock = ManualClock::new(at(T0));
    let state = builder(&clock)
        .shards(1)
        .refresh_overlap(Some(Duration::from_secs(10)))
        .build();
    let g0 = state.issue_family("alice", at(T0 + 100));
    let g1 = state
        .redeem(&refresh("alice", g0, T0 + 100), at(T0 + 200))
        .unwrap();
    clock.advance_secs(5);
    // Replay: the caller issues generation 1 again, expiring at T0 + 500.
    assert_eq!(
        state
            .redeem(&refresh("alice", g0, T0 + 100), at(T0 + 500))
            .unwrap(),
        g1
    );
    clock.set(at(T0 + 300));
    state.sweep(usize::MAX);
    // The re-issued token (exp T0 + 500) is still valid, its family is gone.
    assert!(
        state
            .redeem(&refresh("alice", g1, T0 + 500), at(T0 + 900))
            .is_ok()
    );
}

#[test]
fn regression_log_out_everywhere_ends_refresh_families() {
    let (state, _) = sharded();
    let grant = state.issue_family("alice", at(T0 + 3_600));
    drop(state.revoke_subject("alice").unwrap());
    assert!(
        state
            .redeem(&refresh("alice", grant, T0 + 3_600), at(T0 + 7_200))
            .is_err(),
        "a refresh token from before 'log out everywhere' mints new access tokens"
    );
}

#[test]
fn regression_check_decides_on_one_instant_of_denylist_and_subject() {
    let clock = PausingClock::new(T0);
    let state = AuthState::builder().clock(clock.clone()).build();
    let writer = roles(&[1]);
    let facts = TokenFacts {
        roles: writer,
        ..token("alice", "t1")
    };
    assert!(matches!(
        state.check(&facts),
        Err(Rejection::RoleNoLongerHeld { .. })
    ));
    let pause = clock.pause_next_read_on("checker");
    let checker = {
        let state = state.clone();
        spawn_named("checker", move || state.check(&facts).map(drop))
    };
    pause.wait_paused(); // the check found t1 not denylisted
    // revoke_token(t1) returns, then alice is granted the role the token claims.
    let (tx, rx) = mpsc::channel();
    let admin = {
        let state = state.clone();
        thread::spawn(move || {
            drop(state.revoke_token("t1", at(T0 + 300)));
            state.set_role("alice", writer).wait();
            tx.send(()).unwrap();
        })
    };
    let both_returned = rx.recv_timeout(Duration::from_millis(50)).is_ok();
    pause.resume();
    let result = checker.join().unwrap();
    admin.join().unwrap();
    if both_returned {
        // No single instant had t1 live and the role granted: before the
        // revocation the role was missing, after the grant t1 was revoked.
        assert!(result.is_err(), "check admitted a state that never existed");
    }
}
