//! Criterion: `AuthState::check` with 0, 10k and 1M denylisted tokens and 1M
//! subjects, beside the peers (same keys, same stream) and jsonwebtoken's
//! HS256 and ES256 decode+verify of the same claims.
//!
//! `cargo bench -p authstate-benches --bench check [-- FILTER]`
#![allow(missing_docs, reason = "benchmark binary")]

use authstate::AuthState;
use authstate_benches::jwt::Jwt;
use authstate_benches::peers::{DashPeer, MokaPeer, PapayaPeer, Peer, RwLockPeer};
use authstate_benches::{MILLION, Stream, Workload};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

/// One contender: its name and `(stream, i) -> admitted` for entry `i`.
type Contender<'a> = (&'a str, &'a dyn Fn(&Stream, usize) -> bool);

fn bench_stream(c: &mut Criterion, group: &str, stream: &Stream, contenders: &[Contender<'_>]) {
    let mut g = c.benchmark_group(group);
    for (name, check) in contenders {
        let mut i = 0usize;
        g.bench_function(*name, |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                black_box(check(stream, i))
            });
        });
    }
    g.finish();
}

fn check(c: &mut Criterion) {
    let workload = Workload::new(MILLION, MILLION, 0x5eed_0001);
    let state = AuthState::new();
    workload.load_subjects(&state);
    let rw = RwLockPeer::default();
    let dash = DashPeer::default();
    let papaya = PapayaPeer::default();
    let moka = MokaPeer::default();
    let peers: [&dyn Peer; 4] = [&rw, &dash, &papaya, &moka];
    for p in peers {
        p.load(&workload, 0..0);
    }
    let mut loaded = 0;
    for (size, label) in [(0, "0"), (10_000, "10k"), (MILLION, "1M")] {
        workload.load_denied(&state, loaded..size);
        for p in peers {
            p.load_denied(&workload, loaded..size);
        }
        moka.deny.run_pending_tasks();
        loaded = size;
        let stream = workload.stream(size, 0x5eed_0010 + size as u64);
        let contenders: [Contender<'_>; 6] = [
            ("AuthState", &|s, i| state.check(&s.facts(i)).is_ok()),
            ("RwLock<HashMap>", &|s, i| rw.check(&s.facts(i)).is_ok()),
            ("DashMap", &|s, i| dash.check(&s.facts(i)).is_ok()),
            ("papaya", &|s, i| papaya.check(&s.facts(i)).is_ok()),
            ("moka", &|s, i| moka.check(&s.facts(i)).is_ok()),
            ("papaya bare get", &|s, i| {
                papaya
                    .bare_get(s.facts(i).jti.unwrap_or_default())
                    .is_some()
            }),
        ];
        bench_stream(
            c,
            &format!("check/denylisted={label}/subjects=1M"),
            &stream,
            &contenders,
        );
        if size == MILLION {
            let jwt = Jwt::new(&stream, 1024);
            let mut g = c.benchmark_group("jsonwebtoken decode+verify");
            let mut i = 0usize;
            g.bench_function("HS256", |b| {
                b.iter(|| {
                    i = i.wrapping_add(1);
                    black_box(jwt.decode_hs256(i))
                });
            });
            g.bench_function("ES256", |b| {
                b.iter(|| {
                    i = i.wrapping_add(1);
                    black_box(jwt.decode_es256(i))
                });
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = check
}
criterion_main!(benches);
