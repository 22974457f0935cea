//! One model per invariant. Each scenario builds a small state (one shard, a
//! manual clock), runs a few threads of operations, and asserts its invariant
//! with [`crate::ensure!`]; the checker runs it under every schedule it
//! explores. `scale` is 1 under loom (at most 4 threads, so exhaustive search
//! stays small) and larger under shuttle (more threads, async tasks).
//!
//! The same scenario, with the state built with the invariant's fault switch,
//! is its negative control: the checker must find a schedule that fails.
//!
//! What the models do not cover is listed in `INVARIANTS.md` and the README:
//! the properties of the real `std` primitives (fairness, the memory model of
//! `SeqCst` under loom), and anything beyond the small scenarios below, which
//! the property tests and linearizability checks of `proptests/` explore.

use crate::ensure;
use crate::rt::{self, Arc, AtomicBool, AtomicUsize, Event, Ordering};
use crate::trace::step;
use authstate::{
    AuthState, Fault, ManualClock, RedeemError, RefreshFacts, Rejection, Role, Roles, TokenFacts,
    UnixTime, Version,
};

/// When the scenarios' clocks start.
pub const T0: i64 = 1_000;

/// One model: an invariant, the fault that breaks it, and its body.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// The invariant's id, as in `INVARIANTS.md`.
    pub id: &'static str,
    /// The invariant's name.
    pub name: &'static str,
    /// The fault switch of its negative control.
    pub fault: Fault,
    /// The body, given the fault to switch on (if any) and the scale.
    pub run: fn(Option<Fault>, usize),
}

/// Every scenario, in invariant order.
pub const ALL: [Scenario; 8] = [
    Scenario {
        id: "I1",
        name: "visibility",
        fault: Fault::LaggingDenylist,
        run: i1_visibility,
    },
    Scenario {
        id: "I2",
        name: "revocation barrier",
        fault: Fault::UnregisteredGuard,
        run: i2_revocation_barrier,
    },
    Scenario {
        id: "I3",
        name: "downgrade barrier",
        fault: Fault::RoleFromToken,
        run: i3_downgrade_barrier,
    },
    Scenario {
        id: "I4",
        name: "versions",
        fault: Fault::VersionLoadThenStore,
        run: i4_versions,
    },
    Scenario {
        id: "I5",
        name: "sweep safety",
        fault: Fault::ClockBeforeLookup,
        run: i5_sweep_safety,
    },
    Scenario {
        id: "I6",
        name: "refresh one-time use",
        fault: Fault::RedeemCheckThenMark,
        run: i6_refresh_one_time_use,
    },
    Scenario {
        id: "I7",
        name: "progress",
        fault: Fault::BarrierWrongGeneration,
        run: i7_progress,
    },
    Scenario {
        id: "I8",
        name: "cutoffs",
        fault: Fault::CutoffReadModifyWrite,
        run: i8_cutoffs,
    },
];

/// The scenario of invariant `id`.
pub fn by_id(id: &str) -> Option<Scenario> {
    ALL.iter().copied().find(|s| s.id.eq_ignore_ascii_case(id))
}

fn admin() -> Roles {
    Roles::from(Role::new(0).unwrap_or_else(|| unreachable!()))
}

fn user() -> Roles {
    Roles::from(Role::new(1).unwrap_or_else(|| unreachable!()))
}

fn state(fault: Option<Fault>) -> (AuthState, ManualClock) {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let mut builder = AuthState::builder().clock(clock.clone()).shards(1);
    if let Some(fault) = fault {
        builder = builder.fault(fault);
    }
    (builder.build(), clock)
}

/// An access token of `subject` with id `jti`, issued at [`T0`], valid for
/// 100 s, carrying `ver` if given.
fn token<'a>(subject: &'a str, jti: &'a str, ver: Option<u32>, roles: Roles) -> TokenFacts<'a> {
    TokenFacts {
        subject,
        jti: Some(jti),
        issued_at: UnixTime::from_secs(T0),
        expires_at: UnixTime::from_secs(T0 + 100),
        version: ver.map(Version),
        family: None,
        roles,
    }
}

/// I1: a check or guard that starts after a revocation returned never admits
/// the revoked authority.
pub fn i1_visibility(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let revoked = Arc::new(AtomicBool::new(false));
    let revoker = {
        let (state, revoked) = (state.clone(), Arc::clone(&revoked));
        rt::spawn(move || {
            let _ = state.revoke_token("a", UnixTime::from_secs(T0 + 100));
            step("T1", "revoke_token(a) returned", ());
            // Release: the flag publishes "returned" to the reader below.
            revoked.store(true, Ordering::Release);
        })
    };
    let subject_revoker = (scale >= 1).then(|| {
        let state = state.clone();
        rt::spawn(move || {
            let version = state.revoke_subject("bob").map(|r| r.value());
            step("T2", "revoke_subject(bob) returned", version);
            let checked = state.check(&token("bob", "b", Some(0), Roles::EMPTY));
            step("T2", "check(bob, ver 0)", checked);
            ensure!(
                checked.is_err(),
                "bob's ver-0 token admitted after revoke_subject returned"
            );
        })
    });
    // Family revocation and `revoke_all`, each followed by a check in the
    // revoking thread: the check starts after the revocation returned.
    let other_revoker = (scale > 2).then(|| {
        let state = state.clone();
        let family = state
            .issue_family("carol", UnixTime::from_secs(T0 + 1_000))
            .family;
        rt::spawn(move || {
            let _ = state.revoke_family("carol", family).is_passed();
            step("T3", "revoke_family(carol) returned", ());
            let checked = state.check(&TokenFacts {
                family: Some(family),
                ..token("carol", "c", Some(0), Roles::EMPTY)
            });
            step("T3", "check(carol's family token)", checked);
            ensure!(
                checked == Err(Rejection::FamilyRevoked),
                "family token admitted after revoke_family returned"
            );
            let _ = state
                .revoke_issued_before(UnixTime::from_secs(T0))
                .is_passed();
            step("T3", "revoke_issued_before(T0) returned", ());
            let checked = state.check(&token("dave", "d", Some(0), Roles::EMPTY));
            step("T3", "check(dave, iat T0)", checked);
            ensure!(
                checked.is_err(),
                "token issued at T0 admitted after revoke_issued_before(T0) returned"
            );
        })
    });
    // Acquire: pairs with the store above.
    let after = revoked.load(Ordering::Acquire);
    let checked = state.check(&token("alice", "a", Some(0), Roles::EMPTY));
    step(
        "T0",
        format!("check(a), revoke seen returned: {after}"),
        checked,
    );
    let guarded = state
        .guard(&token("alice", "a", Some(0), Roles::EMPTY), Roles::EMPTY)
        .map(drop);
    step("T0", "guard(a)", guarded);
    if after {
        ensure!(
            checked == Err(Rejection::Revoked),
            "check admitted a token revoked before it started"
        );
        ensure!(
            guarded == Err(Rejection::Revoked),
            "guard admitted a token revoked before it started"
        );
    }
    rt::join(revoker);
    subject_revoker
        .into_iter()
        .chain(other_revoker)
        .for_each(rt::join);
    let checked = state.check(&token("alice", "a", Some(0), Roles::EMPTY));
    step("T0", "check(a) after join", checked);
    ensure!(
        checked == Err(Rejection::Revoked),
        "check admitted a revoked token after the revocation returned"
    );
}

/// I2: once a revocation's completion is observed, no guard under the
/// revoked authority is live, and none is admitted later. Completion is
/// awaited as a future with the checker's `block_on`.
pub fn i2_revocation_barrier(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let live = Arc::new(AtomicUsize::new(0));
    // The guarded actions are async tasks that hold their guard across an
    // await, as a handler does.
    let holders: Vec<_> = (1..=scale)
        .map(|i| {
            let (state, live) = (state.clone(), Arc::clone(&live));
            rt::spawn_task(async move {
                let name = format!("T{i}");
                match state.guard(&token("alice", "a", Some(0), Roles::EMPTY), Roles::EMPTY) {
                    Ok(guard) => {
                        // SeqCst: the action's "live" mark and the revoker's
                        // read of it are ordered by the barrier, not by this
                        // counter; SeqCst keeps the counter itself out of the
                        // question.
                        live.fetch_add(1, Ordering::SeqCst);
                        step(
                            &name,
                            "guard(a) admitted; action running across an await",
                            (),
                        );
                        rt::yield_task().await;
                        live.fetch_sub(1, Ordering::SeqCst);
                        step(&name, "action done; dropping guard", ());
                        drop(guard);
                    }
                    Err(e) => step(&name, "guard(a)", Err::<(), _>(e)),
                }
            })
        })
        .collect();
    let revocation = state.revoke_token("a", UnixTime::from_secs(T0 + 100));
    step("T0", "revoke_token(a) returned", ());
    rt::block_on(std::future::IntoFuture::into_future(revocation));
    let still_live = live.load(Ordering::SeqCst);
    step("T0", "barrier passed; live actions", still_live);
    ensure!(
        still_live == 0,
        "{still_live} guarded action(s) live after the revocation's barrier passed"
    );
    let late = state
        .guard(&token("alice", "a", Some(0), Roles::EMPTY), Roles::EMPTY)
        .map(drop);
    step("T0", "guard(a) after the barrier", late);
    ensure!(
        late == Err(Rejection::Revoked),
        "guard admitted after the barrier passed"
    );
    holders.into_iter().for_each(rt::join_task);
}

/// I3: once `set_role`'s completion is observed, no guard that required a
/// role the subject no longer holds is live or admitted later.
pub fn i3_downgrade_barrier(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let _ = state.set_role("alice", admin().union(user()));
    let live_admin = Arc::new(AtomicUsize::new(0));
    let holders: Vec<_> = (1..=scale)
        .map(|i| {
            let (state, live) = (state.clone(), Arc::clone(&live_admin));
            rt::spawn(move || {
                let name = format!("T{i}");
                let facts = token("alice", "a", Some(0), admin());
                match state.guard(&facts, admin()) {
                    Ok(guard) => {
                        live.fetch_add(1, Ordering::SeqCst); // SeqCst: as in I2
                        step(&name, "guard(a, requires admin) admitted", ());
                        rt::yield_now();
                        live.fetch_sub(1, Ordering::SeqCst);
                        step(&name, "admin action done; dropping guard", ());
                        drop(guard);
                    }
                    Err(e) => step(&name, "guard(a, requires admin)", Err::<(), _>(e)),
                }
            })
        })
        .collect();
    state.set_role("alice", user()).wait();
    let still_live = live_admin.load(Ordering::SeqCst);
    step(
        "T0",
        "set_role(alice, user) barrier passed; live admin actions",
        still_live,
    );
    ensure!(
        still_live == 0,
        "{still_live} admin action(s) live after the downgrade's barrier passed"
    );
    let late = state
        .guard(&token("alice", "a", Some(0), admin()), admin())
        .map(drop);
    step("T0", "guard(a, requires admin) after downgrade", late);
    ensure!(
        late.is_err(),
        "admin guard admitted after the downgrade completed"
    );
    holders.into_iter().for_each(rt::join);
}

/// I4: versions never decrease; `k` concurrent `revoke_subject` calls return
/// `k` distinct, increasing versions.
pub fn i4_versions(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let k = scale + 1;
    let revokers: Vec<_> = (1..=k)
        .map(|i| {
            let state = state.clone();
            rt::spawn(move || {
                let version = state.revoke_subject("bob").map(|r| r.value().0);
                step(&format!("T{i}"), "revoke_subject(bob)", version);
                version.unwrap_or(0)
            })
        })
        .collect();
    let mut versions: Vec<u32> = revokers.into_iter().map(rt::join).collect();
    versions.sort_unstable();
    let current = state.current_version("bob");
    step("T0", "current_version(bob)", current);
    let expected: Vec<u32> = (1..=u32::try_from(k).unwrap_or(u32::MAX)).collect();
    ensure!(
        versions == expected,
        "versions returned {versions:?}, expected {expected:?} (lost update)"
    );
    ensure!(
        current.0 as usize == k,
        "final version {current} after {k} revocations"
    );
}

/// I5: a sweep running concurrently with checks never lets a revoked,
/// unexpired token through.
pub fn i5_sweep_safety(fault: Option<Fault>, scale: usize) {
    let (state, clock) = state(fault);
    // Expires one second after the start: the sweeper moves the clock there.
    let facts = TokenFacts {
        expires_at: UnixTime::from_secs(T0 + 1),
        ..token("alice", "a", Some(0), Roles::EMPTY)
    };
    let _ = state.revoke_token("a", facts.expires_at);
    let sweeper = {
        let (state, clock) = (state.clone(), clock.clone());
        rt::spawn(move || {
            clock.set(UnixTime::from_secs(T0 + 1));
            step("T1", "clock -> T0+1 (token a now expired)", ());
            let report = state.sweep(16);
            step("T1", "sweep", report.removed);
        })
    };
    for round in 0..scale {
        let checked = state.check(&facts);
        step("T0", format!("check(a) #{round}"), checked);
        ensure!(
            checked.is_err(),
            "revoked token admitted while the sweep removed its entry"
        );
    }
    rt::join(sweeper);
}

/// I6: of `k` concurrent redemptions of one refresh token at most one
/// succeeds; any reuse leaves every token of the family revoked, the
/// winner's successor included.
pub fn i6_refresh_one_time_use(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let grant = state.issue_family("alice", UnixTime::from_secs(T0 + 1_000));
    let family = grant.family;
    let redeemers: Vec<_> = (1..=scale + 1)
        .map(|i| {
            let state = state.clone();
            rt::spawn(move || {
                let presented = RefreshFacts {
                    subject: "alice",
                    family,
                    generation: 0,
                    expires_at: UnixTime::from_secs(T0 + 1_000),
                };
                let result = state.redeem(&presented, UnixTime::from_secs(T0 + 2_000));
                step(
                    &format!("T{i}"),
                    "redeem(gen 0)",
                    result.as_ref().map_err(RedeemError::reason),
                );
                result.map_err(|e| e.reason())
            })
        })
        .collect();
    let results: Vec<_> = redeemers.into_iter().map(rt::join).collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    ensure!(
        winners.len() <= 1,
        "{} concurrent redemptions of one refresh token succeeded",
        winners.len()
    );
    let reused = results.contains(&Err("refresh_reuse"));
    ensure!(
        reused,
        "a second redemption of a redeemed token was not detected as reuse"
    );
    if let Some(winner) = winners.first() {
        let successor = RefreshFacts {
            subject: "alice",
            family,
            generation: winner.generation,
            expires_at: UnixTime::from_secs(T0 + 2_000),
        };
        let later = state.redeem(&successor, UnixTime::from_secs(T0 + 3_000));
        step(
            "T0",
            "redeem(winner's successor)",
            later.as_ref().map_err(RedeemError::reason),
        );
        ensure!(
            later.is_err(),
            "the winner's successor was redeemable after reuse was detected"
        );
    }
    let access = TokenFacts {
        family: Some(family),
        ..token("alice", "a", Some(0), Roles::EMPTY)
    };
    let checked = state.check(&access);
    step("T0", "check(access token of the family)", checked);
    ensure!(
        checked == Err(Rejection::FamilyRevoked),
        "access token of a reused family admitted"
    );
}

/// I7: no deadlock; a revocation completes once the guards that existed at
/// its write are dropped, however many new guards arrive meanwhile.
pub fn i7_progress(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let done = Arc::new(Event::new());
    let old_holder = {
        let state = state.clone();
        rt::spawn(move || {
            match state.guard(&token("alice", "a", Some(0), Roles::EMPTY), Roles::EMPTY) {
                Ok(guard) => {
                    step("T1", "guard(ver 0) admitted", ());
                    drop(guard);
                    step("T1", "guard(ver 0) dropped", ());
                }
                Err(e) => step("T1", "guard(ver 0)", Err::<(), _>(e)),
            }
        })
    };
    // New authority: tokens of the version the revocation creates. Each
    // holds its guard until the revocation has completed.
    let new_holders: Vec<_> = (2..=scale + 1)
        .map(|i| {
            let (state, done) = (state.clone(), Arc::clone(&done));
            rt::spawn(move || {
                let name = format!("T{i}");
                match state.guard(&token("alice", "n", Some(1), Roles::EMPTY), Roles::EMPTY) {
                    Ok(guard) => {
                        step(
                            &name,
                            "guard(ver 1) admitted; holding until the revocation completes",
                            (),
                        );
                        done.wait();
                        drop(guard);
                    }
                    Err(e) => step(&name, "guard(ver 1)", Err::<(), _>(e)),
                }
            })
        })
        .collect();
    match state.revoke_subject("alice") {
        Ok(revocation) => {
            step(
                "T0",
                "revoke_subject(alice) returned; waiting for its barrier",
                revocation.value(),
            );
            revocation.wait();
            step("T0", "barrier passed", ());
        }
        Err(e) => step("T0", "revoke_subject(alice)", Err::<(), _>(e)),
    }
    done.set();
    rt::join(old_holder);
    new_holders.into_iter().for_each(rt::join);
}

/// I8: concurrent updates of the global and subject cutoffs never lower the
/// effective cutoff.
pub fn i8_cutoffs(fault: Option<Fault>, scale: usize) {
    let (state, _) = state(fault);
    let high = {
        let state = state.clone();
        rt::spawn(move || {
            let _ = state.revoke_issued_before(UnixTime::from_secs(T0 + 20));
            step("T1", "revoke_issued_before(T0+20)", ());
        })
    };
    let low = {
        let state = state.clone();
        rt::spawn(move || {
            let _ = state.revoke_issued_before(UnixTime::from_secs(T0 + 10));
            step("T2", "revoke_issued_before(T0+10)", ());
        })
    };
    let subject_side = (scale > 1).then(|| {
        let state = state.clone();
        rt::spawn(move || {
            let _ = state.revoke_subject_issued_before("carol", UnixTime::from_secs(T0 + 30));
            step("T3", "revoke_subject_issued_before(carol, T0+30)", ());
        })
    });
    if scale > 1 {
        let _ = state.revoke_subject_issued_before("carol", UnixTime::from_secs(T0 + 25));
        step("T0", "revoke_subject_issued_before(carol, T0+25)", ());
    }
    rt::join(high);
    rt::join(low);
    let issued_between = TokenFacts {
        issued_at: UnixTime::from_secs(T0 + 15),
        expires_at: UnixTime::from_secs(T0 + 1_000),
        ..token("alice", "a", Some(0), Roles::EMPTY)
    };
    let checked = state.check(&issued_between);
    step("T0", "check(iat T0+15)", checked);
    ensure!(
        checked == Err(Rejection::IssuedBeforeCutoff),
        "global cutoff lowered below T0+20"
    );
    if let Some(t) = subject_side {
        rt::join(t);
        let carol = TokenFacts {
            issued_at: UnixTime::from_secs(T0 + 28),
            expires_at: UnixTime::from_secs(T0 + 1_000),
            ..token("carol", "c", None, Roles::EMPTY)
        };
        let checked = state.check(&carol);
        step("T0", "check(carol, no ver, iat T0+28)", checked);
        ensure!(
            checked == Err(Rejection::IssuedBeforeCutoff),
            "subject cutoff lowered below T0+30"
        );
    }
}
