//! Bytes per denylist entry and per subject record at 1M entries, for
//! `AuthState` and each peer, counted by a global allocator that tracks the
//! bytes currently allocated (`cap::Cap` over the system allocator).
//!
//! Method: generate the keys first (not counted), read the counter, build the
//! structure with `--entries N` entries (default 1,000,000) through its
//! public API with no pre-sizing, read the counter again: the difference
//! divided by N. Counted are the bytes requested from the allocator; the
//! allocator's own per-chunk overhead (8 to 16 bytes per `malloc` chunk in
//! glibc, which the peers pay once per `String` key) is not.
//!
//! Prints one `MEM <what> <contender> <bytes>` line per measurement, which the
//! `bench` runner parses. Lives in its own binary so the counting allocator
//! never sits under a timed loop.
#![allow(missing_docs, reason = "benchmark binary")]

use authstate::AuthState;
use authstate_benches::peers::{DashPeer, MokaPeer, PapayaPeer, Peer, RwLockPeer};
use authstate_benches::{MILLION, PeerRecord, Workload};
use cap::Cap;
use std::alloc::System;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes allocated by `build` and still held by what it returns, per entry.
fn per_entry<T>(entries: usize, build: impl FnOnce() -> T) -> (f64, T) {
    let before = ALLOCATOR.allocated();
    let built = build();
    let after = ALLOCATOR.allocated();
    ((after as f64 - before as f64) / entries as f64, built)
}

fn report(what: &str, contender: &str, bytes: f64) {
    println!("MEM {what} {contender} {bytes:.1}");
}

fn peer<P: Peer + Default>(workload: &Workload, entries: usize, name: &str, settle: impl Fn(&P)) {
    let exp = workload.expires_at.as_secs();
    let (bytes, map) = per_entry(entries, || {
        let p = P::default();
        for jti in &workload.denied {
            p.revoke(jti, exp);
        }
        settle(&p);
        p
    });
    drop(map);
    report("denylist", name, bytes);
    let (bytes, map) = per_entry(entries, || {
        let p = P::default();
        for (subject, roles) in workload.subjects.iter().zip(&workload.roles) {
            p.set_record(
                subject,
                PeerRecord {
                    version: 0,
                    roles: roles.bits(),
                    cutoff: 0,
                },
            );
        }
        settle(&p);
        p
    });
    drop(map);
    report("subjects", name, bytes);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut entries = MILLION;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--entries" => {
                entries = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--entries takes a number");
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let workload = Workload::new(entries, entries, 0x5eed_0003);

    let (bytes, state) = per_entry(entries, || {
        let state = AuthState::new();
        workload.load_denied(&state, 0..entries);
        state
    });
    assert_eq!(state.denylist_len(), entries);
    drop(state);
    report("denylist", "AuthState", bytes);
    let (bytes, state) = per_entry(entries, || {
        let state = AuthState::new();
        workload.load_subjects(&state);
        state
    });
    assert_eq!(state.subject_count(), entries);
    drop(state);
    report("subjects", "AuthState", bytes);

    peer::<RwLockPeer>(&workload, entries, "RwLock<HashMap>", |_| ());
    peer::<DashPeer>(&workload, entries, "DashMap", |_| ());
    peer::<PapayaPeer>(&workload, entries, "papaya", |_| ());
    peer::<MokaPeer>(&workload, entries, "moka", |p| {
        p.deny.run_pending_tasks();
        p.subjects.run_pending_tasks();
    });
}
