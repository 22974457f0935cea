//! Criterion: the state's other operations at 1M subjects and 1M denylisted
//! tokens: guard admit+drop, `revoke_token` with no live guards, `set_role`,
//! and sweep throughput.
//!
//! `cargo bench -p authstate-benches --bench ops [-- FILTER]`
#![allow(missing_docs, reason = "benchmark binary")]

use authstate::{AuthState, Clock, ManualClock, Roles, UnixTime};
use authstate_benches::{MILLION, Rng, Workload, token_id_into, unix_now};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

/// Expired entries per sweep measurement.
const SWEPT: usize = 50_000;

fn ops(c: &mut Criterion) {
    let workload = Workload::new(MILLION, MILLION, 0x5eed_0001);
    let state = AuthState::new();
    workload.load_subjects(&state);
    workload.load_denied(&state, 0..MILLION);
    let stream = workload.stream(0, 0x5eed_0010);

    let mut g = c.benchmark_group("guard");
    let mut i = 0usize;
    g.bench_function("admit+drop, uncontended", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let facts = stream.facts(i);
            black_box(state.guard(black_box(&facts), facts.roles).is_ok())
        });
    });
    g.finish();

    let mut g = c.benchmark_group("revoke_token");
    let mut rng = Rng::new(0x5eed_0020);
    let mut buf = [0u8; 22];
    g.bench_function("no live guards, fresh jti", |b| {
        b.iter(|| {
            let jti = token_id_into(rng.next_u128(), &mut buf);
            drop(black_box(state.revoke_token(jti, workload.expires_at)));
        });
    });
    g.finish();

    let mut g = c.benchmark_group("set_role");
    g.bench_function("toggle an unclaimed role (half downgrades)", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let facts = stream.facts(i);
            let roles = Roles::from_bits(facts.roles.bits() | (((i & 1) as u32) << 5));
            drop(black_box(state.set_role(facts.subject, roles)));
        });
    });
    g.finish();

    let mut g = c.benchmark_group("sweep");
    g.throughput(Throughput::Elements(SWEPT as u64))
        .sample_size(10);
    g.bench_function("remove 50k expired entries", |b| {
        b.iter_batched(
            || {
                let clock = ManualClock::new(UnixTime::from_secs(unix_now()));
                let swept = AuthState::builder().clock(clock.clone()).build();
                let exp = UnixTime::from_secs(clock.now().as_secs() + 1);
                for _ in 0..SWEPT {
                    let _ = swept.revoke_token(token_id_into(rng.next_u128(), &mut buf), exp);
                }
                clock.advance_secs(2);
                swept
            },
            |swept| {
                let mut removed = 0;
                while removed < SWEPT {
                    removed += swept.sweep(1 << 16).removed;
                }
                swept
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = ops
}
criterion_main!(benches);
