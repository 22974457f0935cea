//! Shared fixtures of the `authstate` benchmarks.
//!
//! Everything a measured loop touches is generated here, before any timing
//! starts: subject ids, token ids, the probe stream, the signed JWTs. A probe
//! is two indices, and [`Workload::facts`] turns it into borrowed
//! [`TokenFacts`] without allocating, so every contender (the `AuthState`
//! and each peer) is fed the same keys through the same code path.
//!
//! The peers are what a service would otherwise write: a denylist map of
//! `jti` strings to `exp` plus a map of subject strings to a version record,
//! checked the same way as [`AuthState::check`] (denylist, expiry from the
//! wall clock, version, claimed roles against live roles).

use authstate::{AuthState, Authorization, Rejection, Roles, TokenFacts, UnixTime, Version};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub mod jwt;
pub mod peers;

/// How many probes a stream holds (a power of two, so loops mask the index).
pub const STREAM: usize = 1 << 20;

/// The fraction of checks that present a denylisted token, when there is one.
pub const REVOKED_FRACTION: f64 = 0.001;

/// The default number of subject records and of denylist entries.
pub const MILLION: usize = 1_000_000;

/// A small, fast, seedable generator (SplitMix64): the fixtures must not
/// depend on a `rand` version, and the measured loops use it to make fresh
/// token ids without allocating.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 uniformly distributed bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next 128 uniformly distributed bits.
    #[inline]
    pub fn next_u128(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }

    /// A uniform index below `n` (Lemire's multiply-shift; `n > 0`).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `true` with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < p
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Writes a 22-character base64url token id (128 random bits, the usual
/// `jti` shape) into `buf`, without allocating.
#[inline]
pub fn token_id_into(bits: u128, buf: &mut [u8; 22]) -> &str {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte = BASE64URL[((bits >> (6 * i)) & 63) as usize];
    }
    // Every byte is ASCII from the alphabet above.
    std::str::from_utf8(buf).unwrap_or_default()
}

/// A 22-character base64url token id.
pub fn token_id(bits: u128) -> String {
    let mut buf = [0u8; 22];
    token_id_into(bits, &mut buf).to_owned()
}

/// A subject id in the shape of a UUID (36 characters).
pub fn subject_id(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Seconds since the epoch from the wall clock, as the peers read it.
#[inline]
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Length of a subject id ([`subject_id`]).
pub const SUBJECT_LEN: usize = 36;
/// Length of a token id ([`token_id`]).
pub const JTI_LEN: usize = 22;
const STRIDE: usize = SUBJECT_LEN + JTI_LEN;

/// The keys of one benchmark run, shared by every contender.
#[derive(Debug)]
pub struct Workload {
    /// Subject ids (UUID-shaped), uniformly random.
    pub subjects: Vec<String>,
    /// Each subject's live roles (also the roles its tokens claim).
    pub roles: Vec<Roles>,
    /// Token ids never revoked: entry `i` of a stream presents `live[i]`.
    pub live: Vec<String>,
    /// Token ids to denylist, in the order they are denylisted.
    pub denied: Vec<String>,
    /// The `iat` of every token.
    pub issued_at: UnixTime,
    /// The `exp` of every token (an hour from now).
    pub expires_at: UnixTime,
}

/// A stream of [`STREAM`] checks, laid out as a request path sees them: the
/// claims of each token side by side in one contiguous buffer read in order,
/// like claims just decoded from the request. Only the state's own tables are
/// random accesses; the inputs are not.
#[derive(Debug)]
pub struct Stream {
    /// Entry `i`: the subject id then the token id, [`SUBJECT_LEN`] +
    /// [`JTI_LEN`] bytes.
    text: String,
    roles: Vec<Roles>,
    issued_at: UnixTime,
    expires_at: UnixTime,
}

impl Stream {
    /// The facts of entry `i` (wrapping): borrowed, no allocation.
    #[inline]
    pub fn facts(&self, i: usize) -> TokenFacts<'_> {
        let i = i & (STREAM - 1);
        let (subject, jti) = self.text[i * STRIDE..(i + 1) * STRIDE].split_at(SUBJECT_LEN);
        TokenFacts {
            subject,
            jti: Some(jti),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            version: Some(Version(0)),
            family: None,
            roles: self.roles[i],
        }
    }
}

impl Workload {
    /// `subjects` subject ids, [`STREAM`] live token ids and `denied` token
    /// ids to denylist, all drawn from `seed`.
    pub fn new(subjects: usize, denied: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let now = unix_now();
        let subject_ids: Vec<String> = (0..subjects).map(|_| subject_id(rng.next_u128())).collect();
        // One to four of the first four roles, as a token would claim them.
        let roles = (0..subjects)
            .map(|_| Roles::from_bits(1 + (rng.next_u64() % 15) as u32))
            .collect();
        let live = (0..STREAM).map(|_| token_id(rng.next_u128())).collect();
        let denied = (0..denied).map(|_| token_id(rng.next_u128())).collect();
        Self {
            subjects: subject_ids,
            roles,
            live,
            denied,
            issued_at: UnixTime::from_secs(now - 10),
            expires_at: UnixTime::from_secs(now + 3600),
        }
    }

    /// A stream of [`STREAM`] checks: subjects uniform, and with
    /// `denied_active > 0` a fraction [`REVOKED_FRACTION`] presenting one of
    /// the first `denied_active` denylisted tokens (uniformly), the rest a
    /// live token (entry `i` presents `live[i]`).
    pub fn stream(&self, denied_active: usize, seed: u64) -> Stream {
        let mut rng = Rng::new(seed);
        let mut text = String::with_capacity(STREAM * STRIDE);
        let mut roles = Vec::with_capacity(STREAM);
        for i in 0..STREAM {
            let subject = rng.below(self.subjects.len());
            let jti = if denied_active > 0 && rng.chance(REVOKED_FRACTION) {
                &self.denied[rng.below(denied_active)]
            } else {
                &self.live[i]
            };
            text.push_str(&self.subjects[subject]);
            text.push_str(jti);
            roles.push(self.roles[subject]);
        }
        assert_eq!(text.len(), STREAM * STRIDE, "fixed-width ids");
        Stream {
            text,
            roles,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }

    /// Gives every subject its roles in `state`.
    pub fn load_subjects(&self, state: &AuthState) {
        for (subject, roles) in self.subjects.iter().zip(&self.roles) {
            let _ = state.set_role(subject, *roles);
        }
    }

    /// Denylists `denied[range]` in `state`.
    pub fn load_denied(&self, state: &AuthState, range: std::ops::Range<usize>) {
        for jti in &self.denied[range] {
            let _ = state.revoke_token(jti, self.expires_at);
        }
    }
}

/// The decision the peers share with [`AuthState::check`] once the denylist
/// and the clock have been consulted.
#[inline]
pub fn decide(facts: &TokenFacts<'_>, record: PeerRecord) -> Result<Authorization, Rejection> {
    if let Some(token) = facts.version
        && token.0 != record.version
    {
        return Err(Rejection::StaleVersion {
            token,
            current: Version(record.version),
        });
    }
    let live = Roles::from_bits(record.roles);
    let missing = facts.roles.difference(live);
    if !missing.is_empty() {
        return Err(Rejection::RoleNoLongerHeld { missing });
    }
    Ok(Authorization {
        subject_version: Version(record.version),
        live_roles: live,
    })
}

/// The per-subject record the peers keep: version, roles and a not-before
/// cutoff, as plain fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerRecord {
    /// The subject's version.
    pub version: u32,
    /// The subject's live roles' bits.
    pub roles: u32,
    /// The subject's not-before cutoff in seconds.
    pub cutoff: i64,
}

/// Time left until `exp` (seconds since the epoch), zero if past.
pub fn until(exp: i64) -> Duration {
    Duration::from_secs(u64::try_from(exp - unix_now()).unwrap_or(0))
}

/// What the benchmark reports say about the machine they ran on.
pub mod host {
    /// The CPU model and how many CPUs this process may use.
    pub fn machine() -> String {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_else(|| "unknown CPU".into());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        format!("{model}, {cpus} CPUs available")
    }

    /// The CPU pressure's 10-second average as ", CPU pressure avg10=N%",
    /// or nothing where the kernel does not report it.
    pub fn pressure() -> String {
        std::fs::read_to_string("/proc/pressure/cpu")
            .ok()
            .and_then(|s| {
                s.lines().next().and_then(|l| {
                    l.split(' ')
                        .find(|f| f.starts_with("avg10="))
                        .map(str::to_owned)
                })
            })
            .map_or_else(String::new, |p| format!(", CPU pressure {p}%"))
    }

    /// Busy and total ticks of the whole machine, from `/proc/stat`.
    pub fn machine_ticks() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let v: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let get = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal
        let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
        (busy, busy + get(3) + get(4))
    }

    /// The 1, 5 and 15 minute load averages.
    pub fn loadavg() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::all_peers;

    #[test]
    fn every_contender_agrees_with_authstate() {
        if let Some(checker) = authstate::sync::MODEL_CHECKER {
            eprintln!(
                "skipped: the core is built for {checker}, whose primitives work only inside its models"
            );
            return;
        }
        let workload = Workload::new(2_000, 500, 7);
        let state = AuthState::new();
        workload.load_subjects(&state);
        workload.load_denied(&state, 0..500);
        let peers = all_peers();
        for peer in &peers {
            peer.load(&workload, 0..500);
        }
        let stream = workload.stream(500, 9);
        let mut revoked = 0;
        for i in 0..20_000 {
            let facts = stream.facts(i);
            let expected = state.check(&facts);
            revoked += usize::from(expected == Err(Rejection::Revoked));
            for peer in &peers {
                assert_eq!(peer.check(&facts), expected, "{}", peer.name());
            }
        }
        assert!(revoked > 0 && revoked < 100, "{revoked}");
    }

    #[test]
    fn token_ids_are_22_base64url_chars() {
        let id = token_id(u128::MAX - 12345);
        assert_eq!(id.len(), JTI_LEN);
        assert!(id.bytes().all(|b| BASE64URL.contains(&b)));
        assert_eq!(subject_id(1).len(), SUBJECT_LEN);
    }
}
