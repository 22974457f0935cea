//! The benchmark runner: one run, one table of targets.
//!
//! ```text
//! scripts/bench [--quick] [--mode in-process|http]
//! ```
//!
//! Every number in the table comes from this process, measured against a
//! named baseline in the same run with the same keys. The runner does its own
//! timing (criterion's benches in `benches/benches/` give per-function detail):
//!
//! * throughput numbers are medians over many rounds of fixed-size batches
//!   (about a millisecond each), the contenders of a section interleaved
//!   round by round so that machine noise falls on all of them alike;
//! * latency percentiles time each operation on its own with `Instant` (the
//!   timer's own cost, printed, is inside every sample of both conditions
//!   being compared);
//! * memory comes from the `memory` binary (a counting global allocator),
//!   run as a child process first so no timed loop runs under that allocator.
//!
//! Modes: `in-process` (default) measures the library. The HTTP benchmark is
//! its own binary (`src/bin/http.rs`, `scripts/bench --mode http`), which
//! prints its own table of targets; `--mode http` here only points there.
#![allow(missing_docs, reason = "benchmark binary")]

use authstate::{AuthState, Clock, ManualClock, Roles, TokenFacts, UnixTime};
use authstate_benches::jwt::Jwt;
use authstate_benches::peers::{DashPeer, MokaPeer, PapayaPeer, Peer, RwLockPeer};
use authstate_benches::{MILLION, Rng, STREAM, Stream, Workload, token_id_into, unix_now};
use std::fmt::Write as _;
use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- settings

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    InProcess,
    /// Served by the `http` binary; this runner only points there.
    Http,
}

#[derive(Clone, Debug)]
struct Config {
    quick: bool,
    mode: Mode,
    /// Rounds of the interleaved batch measurements.
    rounds: usize,
    /// Target length of one batch.
    batch: Duration,
    /// Timed `revoke_token` calls (per contender).
    revokes: usize,
    /// Sweep: expired entries removed per repetition, and repetitions.
    sweep_entries: usize,
    sweep_reps: usize,
    /// Scaling: seconds per point, and repetitions (interleaved).
    scaling_secs: f64,
    scaling_reps: usize,
    /// Latency: length of one block, and blocks per condition (interleaved).
    latency_block: Duration,
    latency_blocks: usize,
}

impl Config {
    fn parse() -> Result<Self, String> {
        let mut quick = false;
        let mut mode = Mode::InProcess;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--mode" => {
                    mode = match args.next().as_deref() {
                        Some("in-process") => Mode::InProcess,
                        Some("http") => Mode::Http,
                        other => return Err(format!("--mode in-process|http, not {other:?}")),
                    }
                }
                "-h" | "--help" => {
                    return Err("usage: scripts/bench [--quick] [--mode in-process|http]".into());
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(if quick {
            Config {
                quick,
                mode,
                rounds: 100,
                batch: Duration::from_millis(1),
                revokes: 50_000,
                sweep_entries: 100_000,
                sweep_reps: 3,
                scaling_secs: 1.0,
                scaling_reps: 3,
                latency_block: Duration::from_millis(500),
                latency_blocks: 4,
            }
        } else {
            Config {
                quick,
                mode,
                rounds: 400,
                batch: Duration::from_millis(2),
                revokes: 200_000,
                sweep_entries: 200_000,
                sweep_reps: 5,
                scaling_secs: 3.0,
                scaling_reps: 5,
                latency_block: Duration::from_secs(2),
                latency_blocks: 6,
            }
        })
    }
}

// ------------------------------------------------------------------ report

/// One target row of the final table.
struct Target {
    name: String,
    limit: String,
    measured: String,
    baseline: String,
    ratio: String,
    met: Option<bool>,
}

/// Everything a run found: detail sections as they finish, then the targets.
#[derive(Default)]
struct Report {
    targets: Vec<Target>,
}

impl Report {
    fn target(
        &mut self,
        name: impl Into<String>,
        limit: impl Into<String>,
        measured: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        met: Option<bool>,
    ) {
        self.targets.push(Target {
            name: name.into(),
            limit: limit.into(),
            measured: measured.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            met,
        });
    }

    fn print(&self) {
        println!("\n## Targets (one run)\n");
        println!("| target | limit | measured | named baseline, same run | ratio | verdict |");
        println!("|---|---|---|---|---|---|");
        for t in &self.targets {
            let verdict = match t.met {
                Some(true) => "MET",
                Some(false) => "MISSED",
                None => "n/a",
            };
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                t.name, t.limit, t.measured, t.baseline, t.ratio, verdict
            );
        }
        let missed = self.targets.iter().filter(|t| t.met == Some(false)).count();
        let met = self.targets.iter().filter(|t| t.met == Some(true)).count();
        println!("\n{met} met, {missed} missed");
    }
}

fn ns(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} µs", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.2} µs", v / 1000.0)
    } else {
        format!("{v:.1} ns")
    }
}

fn progress(started: Instant, what: &str) {
    eprintln!("[{:>6.1}s] {what}", started.elapsed().as_secs_f64());
}

// ------------------------------------------------------- batch measurement

/// A contender of an interleaved measurement: `run(start, n)` performs `n`
/// operations on probes `start..start + n`.
struct Case<'a> {
    name: String,
    run: Box<dyn FnMut(usize, usize) + 'a>,
    batch: usize,
    cursor: usize,
    samples: Vec<f64>,
}

impl<'a> Case<'a> {
    fn new(name: impl Into<String>, run: impl FnMut(usize, usize) + 'a) -> Self {
        Self {
            name: name.into(),
            run: Box::new(run),
            batch: 1,
            cursor: 0,
            samples: Vec::new(),
        }
    }

    fn median(&self) -> f64 {
        percentile_f64(&self.samples, 0.5)
    }
}

fn percentile_f64(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Calibrates each case's batch to `target`, then runs `rounds` rounds, each
/// one batch of every case (order alternating), recording ns per operation.
fn interleaved(cases: &mut [Case<'_>], rounds: usize, target: Duration) {
    for case in cases.iter_mut() {
        let mut n = 1;
        loop {
            let t = Instant::now();
            (case.run)(case.cursor, n);
            case.cursor += n;
            let elapsed = t.elapsed();
            if elapsed >= target / 4 || n >= 1 << 24 {
                let per_op = elapsed.as_secs_f64() / n as f64;
                case.batch = ((target.as_secs_f64() / per_op) as usize).max(1);
                break;
            }
            n *= 2;
        }
    }
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..cases.len()).collect()
        } else {
            (0..cases.len()).rev().collect()
        };
        for i in order {
            let case = &mut cases[i];
            let t = Instant::now();
            (case.run)(case.cursor, case.batch);
            let elapsed = t.elapsed();
            case.cursor += case.batch;
            case.samples
                .push(elapsed.as_nanos() as f64 / case.batch as f64);
        }
    }
}

fn print_cases(title: &str, cases: &[Case<'_>], reference: f64, reference_name: &str) {
    println!("\n### {title}\n");
    println!("| contender | median | p10..p90 of batches | ratio to {reference_name} |");
    println!("|---|---|---|---|");
    for c in cases {
        println!(
            "| {} | {} | {}..{} | {:.2}x |",
            c.name,
            ns(c.median()),
            ns(percentile_f64(&c.samples, 0.1)),
            ns(percentile_f64(&c.samples, 0.9)),
            c.median() / reference
        );
    }
}

fn check_loop<'a>(
    stream: &'a Stream,
    check: impl Fn(&TokenFacts<'_>) -> bool + 'a,
) -> impl FnMut(usize, usize) + 'a {
    move |start, n| {
        for i in start..start + n {
            let facts = stream.facts(i);
            black_box(check(black_box(&facts)));
        }
    }
}

/// A 128 MiB cyclic chain of indices in scrambled order (a full-period
/// linear congruential step): following it is one dependent, unprefetchable
/// memory read per step, the cost a lookup pays per cache line it misses.
fn pointer_chain() -> Vec<u32> {
    const N: usize = 1 << 25;
    (0..N)
        .map(|i| (i.wrapping_mul(0x5851_F42D).wrapping_add(0x1405_7B7F) & (N - 1)) as u32)
        .collect()
}

// ----------------------------------------------------- per-op measurement

/// Exact nanosecond histogram up to 1 ms, then a list.
struct Hist {
    counts: Vec<u64>,
    over: Vec<u64>,
    total: u64,
}

const HIST_NS: usize = 1_000_000;

impl Hist {
    fn new() -> Self {
        Self {
            counts: vec![0; HIST_NS],
            over: Vec::new(),
            total: 0,
        }
    }

    #[inline]
    fn record(&mut self, ns: u64) {
        self.total += 1;
        match self.counts.get_mut(ns as usize) {
            Some(c) => *c += 1,
            None => self.over.push(ns),
        }
    }

    fn percentile(&mut self, p: f64) -> f64 {
        let rank = ((self.total as f64 * p).ceil() as u64).clamp(1, self.total.max(1));
        let mut seen = 0;
        for (ns, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return ns as f64;
            }
        }
        self.over.sort_unstable();
        let i = (rank - seen - 1) as usize;
        self.over.get(i).copied().unwrap_or(0) as f64
    }

    fn max(&self) -> f64 {
        self.over
            .iter()
            .copied()
            .max()
            .or_else(|| self.counts.iter().rposition(|&c| c > 0).map(|i| i as u64))
            .unwrap_or(0) as f64
    }
}

/// Median cost of one `Instant::now()` + `elapsed()` pair.
fn timer_overhead() -> f64 {
    let mut samples: Vec<f64> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            black_box(t.elapsed()).as_nanos() as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

// ------------------------------------------------------------------ memory

struct Memory {
    rows: Vec<(String, String, f64)>,
}

impl Memory {
    fn get(&self, what: &str, who: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|(w, c, _)| w == what && c == who)
            .map(|r| r.2)
    }
}

/// Runs the sibling `memory` binary (building it first if `cargo run` did
/// not) and parses its `MEM` lines.
fn measure_memory(entries: usize) -> Result<Memory, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let memory = exe.with_file_name(format!("memory{}", std::env::consts::EXE_SUFFIX));
    let profile_is_release = exe.parent().is_some_and(|d| d.ends_with("release"));
    // Always (re)build through cargo when run by cargo, so the binary matches
    // this source; outside cargo, use what is there.
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--locked",
            "-p",
            "authstate-benches",
            "--bin",
            "memory",
        ]);
        if profile_is_release {
            build.arg("--release");
        }
        let status = build.status().map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err("cargo build of the memory binary failed".into());
        }
    }
    let out = Command::new(&memory)
        .args(["--entries", &entries.to_string()])
        .output()
        .map_err(|e| format!("{}: {e}", memory.display()))?;
    if !out.status.success() {
        return Err(format!(
            "memory binary failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            (parts.next()? == "MEM").then_some(())?;
            let what = parts.next()?.to_owned();
            let who = parts.next()?.to_owned();
            let bytes = parts.next()?.parse().ok()?;
            Some((what, who, bytes))
        })
        .collect();
    Ok(Memory { rows })
}

// ----------------------------------------------------------------- scaling

/// A per-thread operation: `(thread, facts) -> outcome`.
type ThreadOp<'a> = dyn Fn(usize, &TokenFacts<'_>) -> bool + Sync + 'a;
/// A per-thread revocation: `(thread, jti)`.
type ThreadRevoke<'a> = dyn Fn(usize, &str) + Sync + 'a;

/// CPU time (user + system) in clock ticks from a `/proc/.../stat` file;
/// with `children`, plus that of waited-for children.
fn cpu_ticks(path: &str, children: bool) -> u64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0;
    };
    // Fields after the command's closing parenthesis start at field 3.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(1)
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let field = |n: usize| fields.get(n - 4).copied().unwrap_or(0);
    field(14) + field(15) + if children { field(16) + field(17) } else { 0 }
}

/// `USER_HZ`: the unit of the tick counts in `/proc` (100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// One scaling measurement.
#[derive(Clone, Copy, Debug, Default)]
struct Point {
    /// Operations per wall-clock second, all threads together.
    rate: f64,
    /// Operations per CPU second the threads actually received.
    per_cpu: f64,
    /// CPU seconds received per thread per wall second (1.0: a whole core each).
    share: f64,
}

/// `threads` threads, each doing 9,999 checks then one revocation of a fresh
/// token, for `secs` seconds.
fn throughput(
    threads: usize,
    secs: f64,
    stream: &Stream,
    check: &ThreadOp<'_>,
    revoke: &ThreadRevoke<'_>,
) -> Point {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    let totals = Mutex::new((0.0, 0.0, 0.0));
    std::thread::scope(|s| {
        for t in 0..threads {
            let (stop, start, totals) = (&stop, &start, &totals);
            s.spawn(move || {
                let mut rng = Rng::new(0xfeed_0000 + t as u64 + (unix_now() as u64) * 64);
                let mut buf = [0u8; 22];
                let mut index = t * (STREAM / threads);
                let mut ops: u64 = 0;
                start.wait();
                let ticks = cpu_ticks("/proc/thread-self/stat", false);
                let began = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..1000 {
                        ops += 1;
                        if ops.is_multiple_of(10_000) {
                            revoke(t, token_id_into(rng.next_u128(), &mut buf));
                        } else {
                            let facts = stream.facts(index);
                            black_box(check(t, black_box(&facts)));
                            index += 1;
                        }
                    }
                }
                let wall = began.elapsed().as_secs_f64();
                let cpu =
                    (cpu_ticks("/proc/thread-self/stat", false) - ticks) as f64 / TICKS_PER_SEC;
                let mut totals = totals.lock().unwrap_or_else(|p| p.into_inner());
                totals.0 += ops as f64 / wall;
                totals.1 += ops as f64;
                totals.2 += cpu.max(1.0 / TICKS_PER_SEC);
            });
        }
        start.wait();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let (rate, ops, cpu) = totals.into_inner().unwrap_or_else(|p| p.into_inner());
    Point {
        rate,
        per_cpu: ops / cpu,
        share: cpu / (threads as f64 * secs),
    }
}

// ----------------------------------------------------------------- latency

/// What runs beside the timed checks during a latency block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writes {
    None,
    RevokeAndSweep,
    RevokeOnly,
    SweepOnly,
}

impl Writes {
    fn revokes(self) -> bool {
        matches!(self, Writes::RevokeAndSweep | Writes::RevokeOnly)
    }

    fn sweeps(self) -> bool {
        matches!(self, Writes::RevokeAndSweep | Writes::SweepOnly)
    }
}

struct LatencyRun {
    writes: Writes,
    hist: Hist,
    revoked: u64,
    swept: u64,
    secs: f64,
}

/// Times single checks in blocks of `config.latency_block`, cycling through
/// `conditions` `config.latency_blocks` times. While a block runs, one thread
/// revokes 10,000 fresh tokens per second (each expiring a second later) and
/// another calls `sweep` every `sweep_every`, as the condition says.
fn latency_under_writes(
    config: &Config,
    stream: &Stream,
    conditions: &[Writes],
    check: &(dyn Fn(&TokenFacts<'_>) -> bool + Sync),
    revoke: &(dyn Fn(&str, i64) + Sync),
    sweep: &(dyn Fn() -> u64 + Sync),
    sweep_every: Duration,
) -> Vec<LatencyRun> {
    let mut runs: Vec<LatencyRun> = conditions
        .iter()
        .map(|&writes| LatencyRun {
            writes,
            hist: Hist::new(),
            revoked: 0,
            swept: 0,
            secs: 0.0,
        })
        .collect();
    let mut index = 0;
    for _ in 0..config.latency_blocks {
        for run in &mut runs {
            let stop = AtomicBool::new(false);
            let revoked = AtomicU64::new(0);
            let swept = AtomicU64::new(0);
            let began = Instant::now();
            let seed = 0xdead_0000 ^ unix_now() as u64 ^ index as u64;
            std::thread::scope(|s| {
                if run.writes.revokes() {
                    s.spawn(|| {
                        let mut rng = Rng::new(seed);
                        let mut buf = [0u8; 22];
                        let start = Instant::now();
                        let mut done: u64 = 0;
                        while !stop.load(Ordering::Relaxed) {
                            let due = (start.elapsed().as_secs_f64() * 10_000.0) as u64;
                            while done < due {
                                revoke(token_id_into(rng.next_u128(), &mut buf), unix_now() + 1);
                                done += 1;
                            }
                            std::thread::sleep(Duration::from_micros(500));
                        }
                        revoked.fetch_add(done, Ordering::Relaxed);
                    });
                }
                if run.writes.sweeps() {
                    s.spawn(|| {
                        // First sweep a quarter period in, so short blocks see one.
                        let mut next = Instant::now() + sweep_every / 4;
                        while !stop.load(Ordering::Relaxed) {
                            let now = Instant::now();
                            if now >= next {
                                swept.fetch_add(sweep(), Ordering::Relaxed);
                                next += sweep_every;
                            } else {
                                std::thread::sleep((next - now).min(Duration::from_millis(5)));
                            }
                        }
                    });
                }
                let deadline = Instant::now() + config.latency_block;
                while Instant::now() < deadline {
                    for _ in 0..4096 {
                        let facts = stream.facts(index);
                        index += 1;
                        let t = Instant::now();
                        let r = check(black_box(&facts));
                        let elapsed = t.elapsed();
                        black_box(r);
                        run.hist.record(elapsed.as_nanos() as u64);
                    }
                }
                stop.store(true, Ordering::Relaxed);
            });
            run.secs += began.elapsed().as_secs_f64();
            run.revoked += revoked.into_inner();
            run.swept += swept.into_inner();
        }
    }
    runs
}

// -------------------------------------------------------------------- main

fn main() -> ExitCode {
    let config = match Config::parse() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match config.mode {
        Mode::InProcess => {
            let mut report = Report::default();
            in_process(&config, &mut report);
            report.print();
            ExitCode::SUCCESS
        }
        Mode::Http => {
            eprintln!(
                "--mode http runs the `http` binary: scripts/bench --mode http \
                 (or cargo run --release -p authstate-benches --bin http)"
            );
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::too_many_lines, reason = "one linear script of sections")]
fn in_process(config: &Config, report: &mut Report) {
    let started = Instant::now();
    let machine_at_start = authstate_benches::host::machine_ticks();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "# authstate benchmarks ({} mode)\n",
        if config.quick { "quick" } else { "full" }
    );
    println!("- machine: {}", authstate_benches::host::machine());
    println!(
        "- load average at start: {}{}",
        authstate_benches::host::loadavg(),
        authstate_benches::host::pressure()
    );
    let overhead = timer_overhead();
    println!("- one Instant::now() + elapsed() pair: {}", ns(overhead));

    // Memory first, in its own process, before anything else is resident.
    progress(started, "memory (child process)");
    let memory = measure_memory(MILLION);

    progress(started, "generating keys");
    let workload = Workload::new(MILLION, MILLION, 0x5eed_0001);
    let stream_0 = workload.stream(0, 0x5eed_0010);
    let stream_10k = workload.stream(10_000, 0x5eed_0011);
    let stream_1m = workload.stream(MILLION, 0x5eed_0012);
    let chain = pointer_chain();
    let clock = authstate::SystemClock::new();

    progress(started, "loading 1M subjects into every contender");
    let state = &AuthState::new();
    workload.load_subjects(state);
    let rw = RwLockPeer::default();
    let dash = DashPeer::default();
    let papaya = PapayaPeer::default();
    let moka = MokaPeer::default();
    let peers: [&dyn Peer; 4] = [&rw, &dash, &papaya, &moka];
    for p in peers {
        p.load(&workload, 0..0);
    }
    moka.subjects.run_pending_tasks();

    // ---- check at 0, 10k and 1M denylisted tokens
    let mut check_by_size = Vec::new();
    let mut loaded = 0;
    let mut at_1m: Vec<(String, f64)> = Vec::new();
    for (size, stream) in [(0, &stream_0), (10_000, &stream_10k), (MILLION, &stream_1m)] {
        progress(
            started,
            &format!("denylisting up to {size} tokens in every contender"),
        );
        workload.load_denied(state, loaded..size);
        for p in peers {
            p.load_denied(&workload, loaded..size);
        }
        moka.deny.run_pending_tasks();
        loaded = size;
        progress(started, &format!("check, {size} denylisted"));
        let hot = stream.facts(0);
        let mut cases = vec![
            Case::new(
                "AuthState::check",
                check_loop(stream, |f| state.check(f).is_ok()),
            ),
            Case::new(
                "RwLock<HashMap> check",
                check_loop(stream, |f| rw.check(f).is_ok()),
            ),
            Case::new(
                "DashMap check",
                check_loop(stream, |f| dash.check(f).is_ok()),
            ),
            Case::new(
                "papaya check",
                check_loop(stream, |f| papaya.check(f).is_ok()),
            ),
            Case::new("moka check", check_loop(stream, |f| moka.check(f).is_ok())),
            Case::new(
                "bare papaya get (denylist only)",
                check_loop(stream, |f| {
                    papaya.bare_get(f.jti.unwrap_or_default()).is_some()
                }),
            ),
            Case::new(
                "AuthState::check, one token repeated (cache-hot)",
                move |_, n| {
                    for _ in 0..n {
                        black_box(state.check(black_box(&hot)).is_ok());
                    }
                },
            ),
            Case::new(
                "SystemClock::now() alone (the check's clock read)",
                |_, n| {
                    for _ in 0..n {
                        black_box(clock.now());
                    }
                },
            ),
            Case::new("one dependent random read, 128 MiB", {
                let mut at = 0u32;
                let chain = &chain;
                move |_, n| {
                    for _ in 0..n {
                        at = chain[at as usize];
                    }
                    black_box(at);
                }
            }),
        ];
        interleaved(&mut cases, config.rounds, config.batch);
        let reference = cases[0].median();
        check_by_size.push((size, reference));
        print_cases(
            &format!("check with {size} denylisted tokens, 1M subjects (ns per check)"),
            &cases,
            reference,
            "AuthState::check",
        );
        if size == MILLION {
            at_1m = cases.iter().map(|c| (c.name.clone(), c.median())).collect();
        }
    }
    let get = |name: &str| {
        at_1m
            .iter()
            .find(|(n, _)| n == name)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    let check_1m = get("AuthState::check");
    let check_hot = get("AuthState::check, one token repeated (cache-hot)");
    let rw_check = get("RwLock<HashMap> check");
    let papaya_get = get("bare papaya get (denylist only)");
    let dram = get("one dependent random read, 128 MiB");

    progress(started, "signing JWTs");
    let jwt = Jwt::new(&stream_1m, 1024);
    progress(started, "check vs jsonwebtoken decode+verify");
    let mut cases = vec![
        Case::new(
            "AuthState::check",
            check_loop(&stream_1m, |f| state.check(f).is_ok()),
        ),
        Case::new("jsonwebtoken HS256 decode+verify", |start, n| {
            for i in start..start + n {
                black_box(jwt.decode_hs256(i));
            }
        }),
        Case::new("jsonwebtoken ES256 decode+verify", |start, n| {
            for i in start..start + n {
                black_box(jwt.decode_es256(i));
            }
        }),
    ];
    interleaved(&mut cases, config.rounds / 2, config.batch);
    let check_jwt = cases[0].median();
    let hs256 = cases[1].median();
    let es256 = cases[2].median();
    print_cases(
        "check against JWT decoding (1M denylisted)",
        &cases,
        check_jwt,
        "AuthState::check",
    );
    drop(cases);

    // ---- guard
    progress(started, "guard admit+drop");
    let hot = stream_0.facts(0);
    let mut cases = vec![
        Case::new(
            "AuthState::check (stream without denylisted tokens)",
            check_loop(&stream_0, |f| state.check(f).is_ok()),
        ),
        Case::new(
            "AuthState::guard admit+drop",
            check_loop(&stream_0, |f| state.guard(f, f.roles).is_ok()),
        ),
        Case::new(
            "AuthState::check, one token repeated (cache-hot)",
            move |_, n| {
                for _ in 0..n {
                    black_box(state.check(black_box(&hot)).is_ok());
                }
            },
        ),
        Case::new(
            "AuthState::guard admit+drop, one token repeated (cache-hot)",
            move |_, n| {
                for _ in 0..n {
                    black_box(state.guard(black_box(&hot), hot.roles).is_ok());
                }
            },
        ),
    ];
    interleaved(&mut cases, config.rounds, config.batch);
    let guard_check = cases[0].median();
    let guard = cases[1].median();
    let guard_hot = cases[3].median() - cases[2].median();
    print_cases(
        "guard, uncontended, 1M denylisted",
        &cases,
        guard_check,
        "AuthState::check",
    );
    drop(cases);

    // ---- set_role
    progress(started, "set_role");
    let mut cases = vec![
        Case::new("AuthState::set_role", |start, n| {
            for i in start..start + n {
                let p = stream_0.facts(i);
                // Toggles role 5, which no token claims: about half the calls
                // are downgrades (they capture a barrier bound).
                let roles = Roles::from_bits(p.roles.bits() | (((i & 1) as u32) << 5));
                drop(black_box(state.set_role(p.subject, roles)));
            }
        }),
        Case::new("RwLock<HashMap> insert record", |start, n| {
            for i in start..start + n {
                let p = stream_0.facts(i);
                let roles = p.roles.bits() | (((i & 1) as u32) << 5);
                rw.set_record(
                    p.subject,
                    authstate_benches::PeerRecord {
                        version: 0,
                        roles,
                        cutoff: 0,
                    },
                );
            }
        }),
    ];
    interleaved(&mut cases, config.rounds / 2, config.batch);
    let set_role = cases[0].median();
    print_cases(
        "set_role on existing subjects (1M)",
        &cases,
        set_role,
        "AuthState::set_role",
    );
    drop(cases);

    // ---- revoke_token, no live guards: per-call latency
    progress(started, "revoke_token latency");
    let exp = workload.expires_at.as_secs();
    let mut rng = Rng::new(0x5eed_0020 ^ unix_now() as u64);
    let mut buf = [0u8; 22];
    let mut ours = Vec::with_capacity(config.revokes);
    let mut naive = Vec::with_capacity(config.revokes);
    for block in 0..2 * config.revokes / 1000 {
        for _ in 0..1000 {
            let jti = token_id_into(rng.next_u128(), &mut buf);
            if block % 2 == 0 {
                let t = Instant::now();
                drop(black_box(state.revoke_token(jti, workload.expires_at)));
                ours.push(t.elapsed().as_nanos() as f64);
            } else {
                let t = Instant::now();
                rw.revoke(jti, exp);
                naive.push(t.elapsed().as_nanos() as f64);
            }
        }
    }
    let pct = |v: &[f64], p| percentile_f64(v, p);
    let revoke_p50 = pct(&ours, 0.5);
    let revoke_p99 = pct(&ours, 0.99);
    let naive_p99 = pct(&naive, 0.99);
    println!(
        "\n### revoke_token, no live guards, 1M+ denylisted (one call per sample, timer included)\n"
    );
    println!("| contender | p50 | p99 | p99.9 | max | samples |");
    println!("|---|---|---|---|---|---|");
    for (name, v) in [
        ("AuthState::revoke_token", &ours),
        ("RwLock<HashMap> insert", &naive),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            ns(pct(v, 0.5)),
            ns(pct(v, 0.99)),
            ns(pct(v, 0.999)),
            ns(pct(v, 1.0)),
            v.len()
        );
    }

    // ---- sweep throughput
    progress(started, "sweep throughput");
    let (sweep_ns, naive_sweep_ns) = {
        let clock = ManualClock::new(UnixTime::from_secs(unix_now()));
        let swept_state = AuthState::builder().clock(clock.clone()).build();
        workload.load_denied(&swept_state, 0..MILLION);
        let mut ours = Vec::new();
        let mut naive = Vec::new();
        for _ in 0..config.sweep_reps {
            let exp = clock.now().as_secs() + 1;
            for _ in 0..config.sweep_entries {
                let jti = token_id_into(rng.next_u128(), &mut buf);
                let _ = swept_state.revoke_token(jti, UnixTime::from_secs(exp));
                rw.revoke(jti, unix_now() - 1);
            }
            clock.advance_secs(2);
            let t = Instant::now();
            let mut removed = 0;
            while removed < config.sweep_entries {
                let r = swept_state.sweep(1 << 16);
                assert!(r.work > 0, "sweep made no progress");
                removed += r.removed;
            }
            ours.push(t.elapsed().as_nanos() as f64 / config.sweep_entries as f64);
            let t = Instant::now();
            let removed = rw.sweep();
            naive.push(t.elapsed().as_nanos() as f64 / removed.max(1) as f64);
        }
        (percentile_f64(&ours, 0.5), percentile_f64(&naive, 0.5))
    };
    println!(
        "\n### sweep: removing {} expired entries from a denylist of 1M live ones (median of {})\n",
        config.sweep_entries, config.sweep_reps
    );
    println!("| contender | per removed entry | entries/s | ratio to AuthState::sweep |");
    println!("|---|---|---|---|");
    println!(
        "| AuthState::sweep (budget 65536 per call) | {} | {:.1} M/s | 1.00x |",
        ns(sweep_ns),
        1000.0 / sweep_ns
    );
    println!(
        "| RwLock<HashMap> retain (write-locked, scans all) | {} | {:.1} M/s | {:.2}x |",
        ns(naive_sweep_ns),
        1000.0 / naive_sweep_ns,
        naive_sweep_ns / sweep_ns
    );

    // ---- scaling
    progress(started, "scaling: building the control states");
    // Control: the same check on one state per thread, nothing shared. Its
    // efficiency is what this machine gives a memory-bound loop.
    let controls: Vec<AuthState> = (1..cpus.min(4))
        .map(|_| {
            let s = AuthState::new();
            workload.load_subjects(&s);
            workload.load_denied(&s, 0..MILLION);
            s
        })
        .collect();
    let control = |t: usize| {
        if t == 0 {
            state
        } else {
            &controls[(t - 1) % controls.len()]
        }
    };
    let revoke_exp = workload.expires_at;
    let contenders: Vec<(&str, Box<ThreadOp<'_>>, Box<ThreadRevoke<'_>>)> = vec![
        (
            "AuthState (shared)",
            Box::new(|_, f| state.check(f).is_ok()),
            Box::new(|_, j| drop(state.revoke_token(j, revoke_exp))),
        ),
        (
            "control: AuthState per thread, nothing shared",
            Box::new(|t, f| control(t).check(f).is_ok()),
            Box::new(|t, j| drop(control(t).revoke_token(j, revoke_exp))),
        ),
        (
            "RwLock<HashMap>",
            Box::new(|_, f| rw.check(f).is_ok()),
            Box::new(|_, j| rw.revoke(j, exp)),
        ),
        (
            "papaya",
            Box::new(|_, f| papaya.check(f).is_ok()),
            Box::new(|_, j| papaya.revoke(j, exp)),
        ),
        (
            "SystemClock::now() alone (shared clock)",
            Box::new(|_, _| clock.now().as_secs() > 0),
            Box::new(|_, _| ()),
        ),
    ];
    progress(started, "scaling");
    // A run counts when its threads got at least 90% of a CPU each: below
    // that, other processes took the cores and the run measures them, not
    // the contender. Such runs are repeated, at most `scaling_reps` extra
    // times per point; if no run counts, all are used and the table says so.
    const MIN_SHARE: f64 = 0.9;
    let mut points = vec![vec![Vec::new(); cpus]; contenders.len()];
    let mut discarded = vec![vec![0usize; cpus]; contenders.len()];
    for _ in 0..config.scaling_reps {
        for threads in 1..=cpus {
            for (c, (_, check, revoke)) in contenders.iter().enumerate() {
                for attempt in 0..=config.scaling_reps {
                    let point = throughput(
                        threads,
                        config.scaling_secs,
                        &stream_1m,
                        &**check,
                        &**revoke,
                    );
                    let counts = point.share >= MIN_SHARE;
                    points[c][threads - 1].push((point, counts));
                    if counts || attempt == config.scaling_reps {
                        break;
                    }
                    discarded[c][threads - 1] += 1;
                }
            }
        }
    }
    println!(
        "\n### scaling: 99.99% checks, 0.01% revocations, 1M denylisted ({:.1} s per point, median of {})\n",
        config.scaling_secs, config.scaling_reps
    );
    println!(
        "Efficiency = throughput at {cpus} threads / ({cpus} x throughput at 1). Per CPU second: the same \
         with each run's throughput divided by the CPU time its threads actually got (from \
         /proc/thread-self/stat, 10 ms ticks). CPU share: CPU seconds per thread per wall second at \
         {cpus} threads. Runs whose threads got less than {MIN_SHARE} of a CPU each (other processes \
         running) are repeated and left out of the medians; \"left out\" counts them.\n"
    );
    let mut header = String::from("| contender |");
    let mut rule = String::from("|---|");
    for t in 1..=cpus {
        let _ = write!(header, " {t} thread{} |", if t == 1 { "" } else { "s" });
        rule.push_str("---|");
    }
    let _ = write!(
        header,
        " efficiency at {cpus} | per CPU second | CPU share | left out |"
    );
    rule.push_str("---|---|---|---|");
    println!("{header}\n{rule}");
    let mut efficiency = Vec::new();
    for (c, (name, _, _)) in contenders.iter().enumerate() {
        let med = |t: usize, f: fn(&Point) -> f64| {
            let runs = &points[c][t];
            let counted: Vec<f64> = runs.iter().filter(|r| r.1).map(|r| f(&r.0)).collect();
            if counted.is_empty() {
                percentile_f64(&runs.iter().map(|r| f(&r.0)).collect::<Vec<_>>(), 0.5)
            } else {
                percentile_f64(&counted, 0.5)
            }
        };
        let rates: Vec<f64> = (0..cpus).map(|t| med(t, |p| p.rate)).collect();
        let eff = rates[cpus - 1] / (cpus as f64 * rates[0]);
        let cpu_eff = med(cpus - 1, |p| p.per_cpu) / med(0, |p| p.per_cpu);
        let share = med(cpus - 1, |p| p.share);
        efficiency.push((eff, rates[0], rates[cpus - 1], cpu_eff, share));
        let left_out: usize = discarded[c].iter().sum();
        let mut row = format!("| {name} |");
        for m in &rates {
            let _ = write!(row, " {:.2} Mops/s |", m / 1e6);
        }
        let _ = write!(
            row,
            " {:.0}% | {:.0}% | {:.2} | {left_out} |",
            eff * 100.0,
            cpu_eff * 100.0,
            share
        );
        println!("{row}");
    }
    drop(contenders);
    drop(controls);

    // ---- latency under writes
    progress(started, "latency under writes (AuthState)");
    let ours = latency_under_writes(
        config,
        &stream_1m,
        &[
            Writes::None,
            Writes::RevokeAndSweep,
            Writes::RevokeOnly,
            Writes::SweepOnly,
        ],
        &|f| state.check(f).is_ok(),
        &|j, e| drop(state.revoke_token(j, UnixTime::from_secs(e))),
        &|| state.sweep(4096).removed as u64,
        Duration::from_millis(10),
    );
    progress(started, "latency under writes (RwLock<HashMap>)");
    let theirs = latency_under_writes(
        config,
        &stream_1m,
        &[Writes::None, Writes::RevokeAndSweep],
        &|f| rw.check(f).is_ok(),
        &|j, e| rw.revoke(j, e),
        &|| rw.sweep() as u64,
        Duration::from_secs(1),
    );
    println!(
        "\n### check latency under writes: one check per sample, timer included; {} blocks of {:?} per condition, interleaved\n",
        config.latency_blocks, config.latency_block
    );
    println!(
        "| contender | writes beside the checks | p50 | p99 | p99.9 | max | samples | revoked/s | swept | p99.9 ratio to no writes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut lat = Vec::new();
    for (name, runs, sweep_desc) in [
        ("AuthState", ours, "sweep(4096) every 10 ms"),
        ("RwLock<HashMap>", theirs, "retain every 1 s"),
    ] {
        let mut quiet_p999 = f64::NAN;
        for mut run in runs {
            let p = [
                run.hist.percentile(0.5),
                run.hist.percentile(0.99),
                run.hist.percentile(0.999),
            ];
            if run.writes == Writes::None {
                quiet_p999 = p[2];
            }
            let what = match run.writes {
                Writes::None => "none".to_owned(),
                Writes::RevokeAndSweep => format!("10k revocations/s + {sweep_desc}"),
                Writes::RevokeOnly => "10k revocations/s only".to_owned(),
                Writes::SweepOnly => format!("{sweep_desc} only"),
            };
            println!(
                "| {name} | {what} | {} | {} | {} | {} | {} | {:.0} | {} | {:.2}x |",
                ns(p[0]),
                ns(p[1]),
                ns(p[2]),
                ns(run.hist.max()),
                run.hist.total,
                run.revoked as f64 / run.secs,
                run.swept,
                p[2] / quiet_p999
            );
            lat.push((name, run.writes, p));
        }
    }

    // ---- targets
    report.target(
        "check, 1M denylisted + 1M subjects, median",
        "≤ 100 ns",
        format!("{} (cache-hot: {})", ns(check_1m), ns(check_hot)),
        format!(
            "one dependent random read {}; RwLock<HashMap> check {} ({:.2}x)",
            ns(dram),
            ns(rw_check),
            check_1m / rw_check
        ),
        format!("{:.2} reads", check_1m / dram),
        Some(check_1m <= 100.0),
    );
    report.target(
        "check vs bare papaya get",
        "≤ 2x",
        ns(check_1m),
        format!("papaya `pin().get(jti)`, 1M entries, {}", ns(papaya_get)),
        format!("{:.2}x", check_1m / papaya_get),
        Some(check_1m / papaya_get <= 2.0),
    );
    report.target(
        "check vs HS256 decode+verify",
        "≤ 5%",
        ns(check_jwt),
        format!("jsonwebtoken HS256 {} (ES256 {})", ns(hs256), ns(es256)),
        format!(
            "{:.1}% (ES256: {:.2}%)",
            100.0 * check_jwt / hs256,
            100.0 * check_jwt / es256
        ),
        Some(check_jwt / hs256 <= 0.05),
    );
    report.target(
        "guard admit+drop, uncontended, median",
        "≤ 150 ns",
        format!(
            "{} (cache-hot: guard costs {} over check)",
            ns(guard),
            ns(guard_hot)
        ),
        format!("AuthState::check, same stream, {}", ns(guard_check)),
        format!("{:.2}x", guard / guard_check),
        Some(guard <= 150.0),
    );
    report.target(
        "revoke_token, no live guards, p99",
        "≤ 10 µs",
        format!("{} (p50 {})", ns(revoke_p99), ns(revoke_p50)),
        format!("RwLock<HashMap> insert p99 {}", ns(naive_p99)),
        format!("{:.2}x", revoke_p99 / naive_p99),
        Some(revoke_p99 <= 10_000.0),
    );
    match &memory {
        Ok(mem) => {
            for (what, label) in [
                ("denylist", "bytes per denylist entry"),
                ("subjects", "bytes per subject record"),
            ] {
                let ours = mem.get(what, "AuthState").unwrap_or(f64::NAN);
                let base = mem.get(what, "RwLock<HashMap>").unwrap_or(f64::NAN);
                let others: Vec<String> = ["DashMap", "papaya", "moka"]
                    .iter()
                    .filter_map(|p| mem.get(what, p).map(|b| format!("{p} {b:.0} B")))
                    .collect();
                report.target(
                    format!("{label}, 1M entries"),
                    "≤ 64 B",
                    format!("{ours:.1} B"),
                    format!("RwLock<HashMap> {base:.1} B ({})", others.join(", ")),
                    format!("{:.2}x", ours / base),
                    Some(ours <= 64.0),
                );
            }
        }
        Err(e) => report.target(
            "memory per entry",
            "≤ 64 B",
            format!("failed: {e}"),
            "",
            "",
            None,
        ),
    }
    let (eff, one, all, cpu_eff, share) = efficiency[0];
    report.target(
        format!("scaling efficiency at {cpus} threads (99.99% checks)"),
        "≥ 70%",
        format!(
            "{:.0}% ({:.2} → {:.2} Mops/s; per CPU second {:.0}%; CPU share {:.2})",
            eff * 100.0,
            one / 1e6,
            all / 1e6,
            cpu_eff * 100.0,
            share
        ),
        format!(
            "control, nothing shared, {:.0}% (per CPU second {:.0}%); RwLock<HashMap> {:.0}%",
            efficiency[1].0 * 100.0,
            efficiency[1].3 * 100.0,
            efficiency[2].0 * 100.0
        ),
        format!("{:.2}x of control", eff / efficiency[1].0),
        (cpus > 1).then_some(eff >= 0.70),
    );
    let find = |writes| {
        lat.iter()
            .find(|(n, w, _)| *n == "AuthState" && *w == writes)
            .map(|r| r.2)
    };
    if let (Some(q), Some(w)) = (find(Writes::None), find(Writes::RevokeAndSweep)) {
        report.target(
            "check p99.9 under 10k revocations/s + sweep",
            "≤ 2x without writes",
            format!("{} (p50 {}, p99 {})", ns(w[2]), ns(w[0]), ns(w[1])),
            format!(
                "same, no writes: {} (p50 {}, p99 {})",
                ns(q[2]),
                ns(q[0]),
                ns(q[1])
            ),
            format!("{:.2}x", w[2] / q[2]),
            Some(w[2] / q[2] <= 2.0),
        );
    }
    println!(
        "\n- AuthState::check at 0 / 10k / 1M denylisted: {}",
        check_by_size
            .iter()
            .map(|(s, v)| format!("{s}: {}", ns(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "- load average at end: {}{}",
        authstate_benches::host::loadavg(),
        authstate_benches::host::pressure()
    );
    let (busy, total) = authstate_benches::host::machine_ticks();
    let ours = cpu_ticks("/proc/self/stat", true) as f64;
    let (busy, total) = (
        (busy - machine_at_start.0) as f64,
        (total - machine_at_start.1).max(1) as f64,
    );
    println!(
        "- CPU use during the run, as a share of all {cpus} CPUs: this benchmark {:.0}%, other processes {:.0}%",
        100.0 * ours / total,
        100.0 * (busy - ours).max(0.0) / total
    );
    println!("- wall time: {:.0} s", started.elapsed().as_secs_f64());
}
