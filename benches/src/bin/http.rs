//! HTTP benchmark of the axum adapter: three extractors side by side under
//! `wrk`, with and without background revocations.
//!
//! ```text
//! scripts/bench --mode http [--quick]
//! cargo run --release -p authstate-benches --bin http -- [--quick]
//! ```
//!
//! One process serves three routes on `127.0.0.1:0` (axum, a Tokio
//! multi-thread runtime with one worker thread), each returning a 2-byte body:
//!
//! * `/plain`: a hand-written `FromRequestParts` extractor that decodes and
//!   verifies the HS256 token with `jsonwebtoken::decode` and a `Validation`
//!   pinned to the issuer and audience, and consults no state: what services
//!   write today;
//! * `/authenticated`: `authstate_axum::Authenticated<NoCustomClaims>`
//!   (strict validation, then `AuthState::check`);
//! * `/guarded`: `authstate_axum::Guarded<NoCustomClaims, User>` (validation,
//!   then `AuthState::guard` for the live role `user`, held by the handler).
//!
//! `wrk` (Debian's package) drives them from the other CPU with a Lua script
//! rotating among 1,000 tokens of 1,000 subjects (each holding `user` live).
//! Every measurement is preceded by a warm-up; two rounds alternate the route
//! order and the medians are reported, each route as a ratio to `/plain`
//! measured in the same run.
#![allow(missing_docs, reason = "benchmark binary")]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authstate::{AuthState, Role, Roles, UnixTime};
use authstate_axum::validation::{Algorithm, NoCustomClaims, Validator, VerificationKey};
use authstate_axum::{Auth, Authenticated, Guarded, RequiredRole, RoleMap};
use authstate_benches::{Rng, subject_id, token_id, unix_now};
use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::get;
use serde::{Deserialize, Serialize};

const SECRET: &[u8] = b"authstate http benchmark secret, 32+ bytes long";
const ISSUER: &str = "https://issuer.bench.example";
const AUDIENCE: &str = "bench-api";
/// Subjects (and tokens) the load rotates among.
const SUBJECTS: usize = 1_000;
/// Other tokens denylisted before the run (never presented by the load).
const DENYLISTED: usize = 10_000;
/// Background writes per second in the "with writes" condition.
const WRITES_PER_SEC: u64 = 100;
const USER_BIT: u8 = 1;
const CONNECTIONS: usize = 16;

// ------------------------------------------------------------------ config

struct Config {
    quick: bool,
    warmup: Duration,
    measure: Duration,
    rounds: usize,
}

impl Config {
    fn parse() -> Result<Self, String> {
        let mut quick = false;
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "--quick" => quick = true,
                "-h" | "--help" => return Err("usage: scripts/bench --mode http [--quick]".into()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Config {
            quick,
            warmup: Duration::from_secs(2),
            measure: Duration::from_secs(if quick { 3 } else { 8 }),
            rounds: 2,
        })
    }
}

// ------------------------------------------------------------------ server

/// The claims the plain extractor deserializes.
#[derive(Deserialize)]
struct PlainClaims {
    sub: String,
    #[allow(dead_code, reason = "deserialized as a service would")]
    jti: String,
    #[allow(dead_code, reason = "deserialized as a service would")]
    role: String,
}

/// The verification settings of the plain extractor.
struct PlainJwt {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

#[derive(Clone)]
struct AppState {
    auth: Auth,
    plain: Arc<PlainJwt>,
}

impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Auth {
        state.auth.clone()
    }
}

/// What people write today: decode + verify with jsonwebtoken, no state.
struct Plain(PlainClaims);

impl FromRequestParts<AppState> for Plain {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let data =
            jsonwebtoken::decode::<PlainClaims>(token, &state.plain.key, &state.plain.validation)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
        Ok(Plain(data.claims))
    }
}

struct User;

impl RequiredRole for User {
    const NAME: &'static str = "user";
}

async fn plain(Plain(claims): Plain) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

async fn authenticated(auth: Authenticated<NoCustomClaims>) -> &'static str {
    black_box(auth.subject());
    "ok"
}

async fn guarded(guarded: Guarded<NoCustomClaims, User>) -> &'static str {
    black_box(guarded.subject());
    "ok"
}

fn user_role() -> Role {
    Role::new(USER_BIT).unwrap_or_else(|| unreachable!("bit {USER_BIT} < 32"))
}

fn app(state: AuthState) -> Result<Router, String> {
    let validator = Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(SECRET).map_err(|e| e.to_string())?)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .map_err(|e| e.to_string())?;
    let roles = RoleMap::new()
        .with("user", user_role())
        .map_err(|e| e.to_string())?;
    let auth = Auth::builder(validator, state)
        .roles(roles)
        .realm("bench")
        .build()
        .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let plain_jwt = PlainJwt {
        key: jsonwebtoken::DecodingKey::from_secret(SECRET).map_err(|e| e.to_string())?,
        validation,
    };
    Ok(Router::new()
        .route("/plain", get(plain))
        .route("/authenticated", get(authenticated))
        .route("/guarded", get(guarded))
        .with_state(AppState {
            auth,
            plain: Arc::new(plain_jwt),
        }))
}

#[derive(Serialize)]
struct MintClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    jti: &'a str,
    iat: i64,
    exp: i64,
    ver: u32,
    role: &'a str,
}

/// One valid token per subject; each subject gets `user` live.
fn seed(state: &AuthState, rng: &mut Rng) -> Result<Vec<String>, String> {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET).map_err(|e| e.to_string())?;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let now = unix_now();
    let mut tokens = Vec::with_capacity(SUBJECTS);
    for _ in 0..SUBJECTS {
        let sub = subject_id(rng.next_u128());
        let jti = token_id(rng.next_u128());
        drop(state.set_role(&sub, Roles::from(user_role())));
        let claims = MintClaims {
            iss: ISSUER,
            aud: AUDIENCE,
            sub: &sub,
            jti: &jti,
            iat: now - 1,
            exp: now + 3_600,
            ver: state.current_version(&sub).0,
            role: "user",
        };
        tokens.push(jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?);
    }
    let exp = UnixTime::from_secs(now + 3_600);
    for _ in 0..DENYLISTED {
        drop(state.revoke_token(&token_id(rng.next_u128()), exp));
    }
    Ok(tokens)
}

/// The background writer: `WRITES_PER_SEC` writes per second on tokens and
/// subjects the load never presents (8 in 10 `revoke_token` of a fresh token
/// expiring 2 s later, 1 in 10 `set_role`, 1 in 10 `revoke_subject`), each
/// awaited as an admin endpoint would, plus `sweep(4096)` every second.
async fn writer(state: AuthState, done: Arc<AtomicU64>, swept: Arc<AtomicU64>, seed: u64) {
    let mut rng = Rng::new(seed);
    let others: Vec<String> = (0..1_000).map(|_| subject_id(rng.next_u128())).collect();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / WRITES_PER_SEC));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        match n % 10 {
            0 => {
                let sub = &others[rng.below(others.len())];
                let roles = Roles::from(user_role());
                let roles = if rng.chance(0.5) {
                    roles
                } else {
                    roles.with(Role::new(0).unwrap_or_else(|| unreachable!()))
                };
                state.set_role(sub, roles).await;
            }
            5 => {
                let sub = &others[rng.below(others.len())];
                if let Ok(revocation) = state.revoke_subject(sub) {
                    revocation.await;
                }
            }
            _ => {
                let exp = state.now().saturating_add_secs(2);
                state.revoke_token(&token_id(rng.next_u128()), exp).await;
            }
        }
        done.fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(WRITES_PER_SEC) {
            let report = state.sweep(4096);
            swept.fetch_add(report.removed as u64, Ordering::Relaxed);
        }
    }
}

// ------------------------------------------------------------------ wrk

/// The Lua script: requests pre-formatted in `init`, one per token, sent in
/// rotation; `done` prints one machine-readable line.
fn lua_script(tokens: &[String]) -> String {
    let mut s = String::from("local tokens = {\n");
    for t in tokens {
        let _ = writeln!(s, "  \"{t}\",");
    }
    s.push_str(
        r#"}
local reqs = {}
local i = 0
function init(args)
  for k, t in ipairs(tokens) do
    reqs[k] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. t })
  end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %d %d %d %d %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"#,
    );
    s
}

/// One wrk run's result.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    /// Non-2xx responses plus socket errors.
    errors: u64,
    /// Server process CPU seconds per wall second during the run.
    server_cpu: f64,
    /// wrk's CPU seconds per wall second.
    wrk_cpu: f64,
    /// Requests per CPU second the server process received.
    per_server_cpu_sec: f64,
    writes_per_sec: f64,
}

struct Load {
    url: String,
    script: PathBuf,
    /// `taskset -c N` prefix, if pinning works here.
    pin: Option<String>,
}

impl Load {
    fn run(&self, route: &str, secs: Duration) -> Result<Run, String> {
        let url = format!("{}{route}", self.url);
        let duration = format!("{}s", secs.as_secs());
        let script = self.script.display().to_string();
        let conns = CONNECTIONS.to_string();
        let wrk_args = [
            "-t1",
            "-c",
            conns.as_str(),
            "-d",
            duration.as_str(),
            "--latency",
            "-s",
            script.as_str(),
            url.as_str(),
        ];
        let mut cmd = match &self.pin {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu, "wrk"]);
                c
            }
            None => Command::new("wrk"),
        };
        cmd.args(wrk_args);
        let cpu_before = self_cpu_ticks();
        let started = Instant::now();
        let out = cmd.output().map_err(|e| format!("running wrk: {e}"))?;
        let wall = started.elapsed().as_secs_f64();
        let cpu_after = self_cpu_ticks();
        let tick = ticks_per_sec();
        let cpu = (cpu_after.0 - cpu_before.0) as f64 / tick;
        let wrk_cpu = (cpu_after.1 - cpu_before.1) as f64 / tick;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "wrk failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("BENCH-RESULT "))
            .ok_or_else(|| format!("no result line in wrk output:\n{stdout}"))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let [requests, duration_us, p50, p99, status, socket] = v[..] else {
            return Err(format!("bad result line {line:?}"));
        };
        Ok(Run {
            rps: requests as f64 / (duration_us as f64 / 1e6),
            p50_us: p50 as f64,
            p99_us: p99 as f64,
            errors: status + socket,
            server_cpu: cpu / wall,
            wrk_cpu: wrk_cpu / wall,
            per_server_cpu_sec: requests as f64 / cpu.max(1e-9),
            writes_per_sec: 0.0,
        })
    }
}

/// CPU ticks of this process (all threads) and of its waited-for children
/// (wrk), from `/proc/self/stat`.
fn self_cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces): state is 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14 to 17 (1-based) = 11 to 14 here.
    let get = |i: usize| f.get(i).copied().unwrap_or(0);
    (get(11) + get(12), get(13) + get(14))
}

fn ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Pins the calling thread to `cpu` with `taskset` (this thread's id from
/// `/proc/thread-self`). Returns whether it worked.
fn pin_current_thread(cpu: usize) -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return false;
    };
    let Some(tid) = stat.split_whitespace().next() else {
        return false;
    };
    Command::new("taskset")
        .args(["-pc", &cpu.to_string(), tid])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ensure_wrk() -> Result<String, String> {
    let out = Command::new("wrk").arg("--version").output().map_err(|e| {
        format!("wrk not found ({e}); install Debian's package: apt-get install -y wrk")
    })?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    Ok(text
        .lines()
        .next()
        .and_then(|l| l.split(" Copyright").next())
        .unwrap_or("wrk")
        .trim()
        .to_owned())
}

// ------------------------------------------------------------------ report

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} ms", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.2} ms", v / 1000.0)
    } else {
        format!("{v:.0} µs")
    }
}

const ROUTES: [(&str, &str); 3] = [
    ("/plain", "plain jsonwebtoken extractor"),
    ("/authenticated", "Authenticated<NoCustomClaims>"),
    ("/guarded", "Guarded<NoCustomClaims, User>"),
];
const CONDITIONS: [&str; 2] = ["none", "100 revocations/s + sweep every 1 s"];

// ------------------------------------------------------- in-process costs

/// The extractors' own work without HTTP, on the same tokens and state:
/// nanoseconds per token, median of interleaved rounds of one pass over all
/// tokens each. Shows where the server's CPU goes per request.
fn extractor_costs(
    state: &AuthState,
    tokens: &[String],
) -> Result<[(&'static str, f64); 4], String> {
    let validator = Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(SECRET).map_err(|e| e.to_string())?)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET).map_err(|e| e.to_string())?;
    let required = Roles::from(user_role());
    let claimed = Roles::from(user_role());
    let validated: Vec<_> = tokens
        .iter()
        .map(|t| validator.validate::<NoCustomClaims>(t))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut samples: [Vec<f64>; 4] = Default::default();
    let n = tokens.len() as f64;
    for _ in 0..15 {
        let t = Instant::now();
        for tok in tokens {
            black_box(jsonwebtoken::decode::<PlainClaims>(tok, &key, &validation).is_ok());
        }
        samples[0].push(t.elapsed().as_nanos() as f64 / n);
        let t = Instant::now();
        for tok in tokens {
            black_box(
                validator
                    .validate_at::<NoCustomClaims>(tok, state.now().as_secs())
                    .is_ok(),
            );
        }
        samples[1].push(t.elapsed().as_nanos() as f64 / n);
        let t = Instant::now();
        for v in &validated {
            black_box(state.check(&v.claims.token_facts(claimed)).is_ok());
        }
        samples[2].push(t.elapsed().as_nanos() as f64 / n);
        let t = Instant::now();
        for v in &validated {
            black_box(
                state
                    .guard(&v.claims.token_facts(claimed), required)
                    .is_ok(),
            );
        }
        samples[3].push(t.elapsed().as_nanos() as f64 / n);
    }
    let [a, b, c, d] = samples;
    Ok([
        (
            "jsonwebtoken::decode, HS256 + iss/aud (the plain extractor)",
            median(a),
        ),
        (
            "authstate_axum Validator::validate_at (both adapter extractors)",
            median(b),
        ),
        ("AuthState::check (Authenticated)", median(c)),
        ("AuthState::guard admit+drop (Guarded)", median(d)),
    ])
}

// ------------------------------------------------------------------ main

fn main() -> ExitCode {
    let config = match Config::parse() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("http benchmark failed: {msg}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::too_many_lines, reason = "one linear script")]
fn run(config: &Config) -> Result<(), String> {
    let started = Instant::now();
    let machine_at_start = authstate_benches::host::machine_ticks();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wrk_version = ensure_wrk()?;

    let state = AuthState::new();
    let mut rng = Rng::new(0x5EED_4177);
    let tokens = seed(&state, &mut rng)?;
    let router = app(state.clone())?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    runtime.spawn(async move { axum::serve(listener, router).await });

    // Split: the server's one worker thread on CPU 0, wrk on CPU 1.
    let pinned = cpus >= 2
        && runtime
            .block_on(async { tokio::spawn(async { pin_current_thread(0) }).await })
            .unwrap_or(false);
    let dir = std::env::temp_dir().join(format!("authstate-http-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let script = dir.join("rotate.lua");
    std::fs::write(&script, lua_script(&tokens)).map_err(|e| e.to_string())?;
    let load = Load {
        url: format!("http://{addr}"),
        script,
        pin: pinned.then(|| "1".to_owned()),
    };

    println!(
        "# authstate HTTP benchmark ({} mode)\n",
        if config.quick { "quick" } else { "full" }
    );
    println!("- machine: {}", authstate_benches::host::machine());
    println!(
        "- load average at start: {}{}",
        authstate_benches::host::loadavg(),
        authstate_benches::host::pressure()
    );
    println!(
        "- server: axum 0.8 on {addr}, Tokio multi-thread runtime with 1 worker thread{}",
        if pinned {
            " pinned to CPU 0"
        } else {
            " (not pinned)"
        }
    );
    println!(
        "- load: {wrk_version} (Debian package), -t1 -c{CONNECTIONS} --latency{}, \
         Lua script rotating among {SUBJECTS} tokens of {SUBJECTS} subjects (HS256; \
         iss, aud, sub, jti, iat, exp, ver, role `user`, held live); {DENYLISTED} other tokens denylisted",
        if pinned { ", pinned to CPU 1" } else { "" }
    );
    println!(
        "- each measurement: {} s warm-up, then {} s measured; {} rounds, route order \
         and condition order alternating; medians of the rounds",
        config.warmup.as_secs(),
        config.measure.as_secs(),
        config.rounds
    );

    // Sanity: every route answers 200 to a token before timing anything.
    for (route, _) in ROUTES {
        let r = load.run(route, Duration::from_secs(1))?;
        if r.errors > 0 || r.rps < 1.0 {
            return Err(format!(
                "{route}: {} errors in a 1 s check run (expected 0)",
                r.errors
            ));
        }
    }

    let costs = extractor_costs(&state, &tokens)?;

    // runs[condition][route] = one Run per round
    let mut runs = vec![vec![Vec::<Run>::new(); ROUTES.len()]; CONDITIONS.len()];
    let writes = Arc::new(AtomicU64::new(0));
    let swept = Arc::new(AtomicU64::new(0));
    for round in 0..config.rounds {
        let mut conds: Vec<usize> = (0..CONDITIONS.len()).collect();
        let mut order: Vec<usize> = (0..ROUTES.len()).collect();
        if round % 2 == 1 {
            conds.reverse();
            order.reverse();
        }
        for &c in &conds {
            let writer_task = (c == 1).then(|| {
                runtime.spawn(writer(
                    state.clone(),
                    Arc::clone(&writes),
                    Arc::clone(&swept),
                    round as u64 + 1,
                ))
            });
            for &r in &order {
                let (route, _) = ROUTES[r];
                eprintln!(
                    "[{:>6.1}s] round {} / {}, writes: {}, {route}",
                    started.elapsed().as_secs_f64(),
                    round + 1,
                    config.rounds,
                    CONDITIONS[c]
                );
                load.run(route, config.warmup)?;
                let before = writes.load(Ordering::Relaxed);
                let t = Instant::now();
                let mut run = load.run(route, config.measure)?;
                run.writes_per_sec =
                    (writes.load(Ordering::Relaxed) - before) as f64 / t.elapsed().as_secs_f64();
                runs[c][r].push(run);
            }
            if let Some(task) = writer_task {
                task.abort();
            }
        }
    }

    // Medians per (condition, route).
    let med = |c: usize, r: usize, f: fn(&Run) -> f64| median(runs[c][r].iter().map(f).collect());
    println!(
        "\n### HTTP: requests/s and latency per route, {} round(s) of {} s (medians)\n",
        config.rounds,
        config.measure.as_secs()
    );
    println!(
        "| route | background writes | requests/s | p50 | p99 | ratio to plain (req/s) | server CPU | wrk CPU | req per server CPU-s (ratio) | errors | writes/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (c, cond) in CONDITIONS.iter().enumerate() {
        let plain_rps = med(c, 0, |r| r.rps);
        let plain_eff = med(c, 0, |r| r.per_server_cpu_sec);
        for (r, (route, name)) in ROUTES.iter().enumerate() {
            let rps = med(c, r, |x| x.rps);
            let errors: u64 = runs[c][r].iter().map(|x| x.errors).sum();
            let eff = med(c, r, |x| x.per_server_cpu_sec);
            println!(
                "| `{route}` {name} | {cond} | {rps:.0} | {} | {} | {:.1}% | {:.2} | {:.2} | {eff:.0} ({:.1}%) | {errors} | {:.0} |",
                us(med(c, r, |x| x.p50_us)),
                us(med(c, r, |x| x.p99_us)),
                100.0 * rps / plain_rps,
                med(c, r, |x| x.server_cpu),
                med(c, r, |x| x.wrk_cpu),
                100.0 * eff / plain_eff,
                med(c, r, |x| x.writes_per_sec),
            );
        }
    }
    println!(
        "\n- per-round requests/s (plain / Authenticated / Guarded): {}",
        (0..config.rounds)
            .map(|i| {
                CONDITIONS
                    .iter()
                    .enumerate()
                    .map(|(c, _)| {
                        (0..ROUTES.len())
                            .map(|r| format!("{:.0}", runs[c][r][i].rps))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .collect::<Vec<_>>()
                    .join(" (no writes), ")
                    + " (writes)"
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "\n### The extractors' work without HTTP, same tokens and state (ns per token, median of 15 passes)\n"
    );
    println!("| step | ns per token | ratio to jsonwebtoken::decode |");
    println!("|---|---|---|");
    for (name, v) in costs {
        println!("| {name} | {v:.0} ns | {:.2}x |", v / costs[0].1);
    }
    println!(
        "\n- per request (from the table above, no writes): plain {:.1} µs, Authenticated {:.1} µs, Guarded {:.1} µs of server CPU",
        1e6 / med(0, 0, |r| r.per_server_cpu_sec),
        1e6 / med(0, 1, |r| r.per_server_cpu_sec),
        1e6 / med(0, 2, |r| r.per_server_cpu_sec)
    );
    println!(
        "- state at end: {} denylisted, {} swept by the background sweeps",
        state.denylist_len(),
        swept.load(Ordering::Relaxed)
    );
    println!(
        "- load average at end: {}{}",
        authstate_benches::host::loadavg(),
        authstate_benches::host::pressure()
    );
    let (busy, total) = authstate_benches::host::machine_ticks();
    let (busy, total) = (
        (busy - machine_at_start.0) as f64,
        (total - machine_at_start.1).max(1) as f64,
    );
    println!(
        "- CPU use during the run, as a share of all {cpus} CPUs: all processes {:.0}% (server + wrk + others)",
        100.0 * busy / total
    );
    println!("- wall time: {:.0} s", started.elapsed().as_secs_f64());

    println!("\n## Targets (one run)\n");
    println!("| target | limit | measured | named baseline, same run | ratio | verdict |");
    println!("|---|---|---|---|---|---|");
    let mut met = 0;
    let mut missed = 0;
    for (c, cond) in CONDITIONS.iter().enumerate() {
        let (plain_rps, guarded_rps) = (med(c, 0, |r| r.rps), med(c, 2, |r| r.rps));
        let errors: u64 = runs[c].iter().flatten().map(|x| x.errors).sum();
        let ratio = guarded_rps / plain_rps;
        let ok = errors == 0 && ratio >= 0.9;
        if ok {
            met += 1;
        } else {
            missed += 1;
        }
        println!(
            "| HTTP `Guarded` req/s vs plain jsonwebtoken route, writes: {cond} | ≥ 90% | {guarded_rps:.0} req/s (p99 {}) | plain jsonwebtoken extractor {plain_rps:.0} req/s (p99 {}); `Authenticated` {:.0} req/s ({:.1}%) | {:.1}% | {} |",
            us(med(c, 2, |r| r.p99_us)),
            us(med(c, 0, |r| r.p99_us)),
            med(c, 1, |r| r.rps),
            100.0 * med(c, 1, |r| r.rps) / plain_rps,
            100.0 * ratio,
            if ok { "MET" } else { "MISSED" },
        );
    }
    println!("\n{met} met, {missed} missed");
    runtime.shutdown_timeout(Duration::from_secs(1));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
