//! Concurrent workloads: random operation mixes driven from OS threads or
//! from tasks on a multi-threaded tokio runtime, recorded into [`History`]s.
//!
//! Arguments are chosen at run time from what the state looks like (the
//! subject's current version and live roles, the families issued so far and
//! the last generation seen of each), through reads that are not recorded:
//! reads change nothing, so leaving them out keeps the history a history of
//! the same run. The clock is a [`ManualClock`] stopped at [`T0`] for the
//! whole run.

use super::history::{Call, History, NotLinearizable, Recorded, Ret};
use crate::spec::SpecConfig;
use crate::{RedeemKind, Token};
use authstate::{
    AuthState, FamilyId, Fault, Guard, ManualClock, RefreshFacts, Revocation, Roles, UnixTime,
    Version,
};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The clock's reading during every concurrent run (seconds).
pub const T0: i64 = 1_000_000;
/// The `exp` of the tokens that are not expired.
const LIVE_EXP: i64 = T0 + 100;
/// A family id the state never hands out.
const UNKNOWN_FAMILY: FamilyId = FamilyId(1_000_000);
/// The most guards one worker holds at a time.
const MAX_HELD: usize = 4;

/// A small, fast, seedable generator (SplitMix64); the seed of a failing
/// history is printed with it.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `true` with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// A mix of operations, each aimed at some invariants' races.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Everything per subject, over two subjects.
    Mixed,
    /// `revoke_subject` storms on one subject (I4).
    Versions,
    /// Redemptions of the same families from every worker (I6).
    Refresh,
    /// Subject cutoff raises and checks of tokens without `ver` (I8).
    Cutoffs,
    /// Guards held, dropped and waited for across revocations (I2, I3, I7).
    Guards,
    /// Mixed plus `revoke_all` and `revoke_issued_before`: not partitioned.
    Global,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 6] = [
        Profile::Mixed,
        Profile::Versions,
        Profile::Refresh,
        Profile::Cutoffs,
        Profile::Guards,
        Profile::Global,
    ];

    /// Weights, in the order of [`Kind::ALL`].
    fn weights(self) -> [u32; 16] {
        match self {
            //                 chk grd drp pas tok sub rol scu gcu all iss ext red fam rls ver
            Profile::Mixed => [5, 4, 3, 3, 2, 2, 2, 1, 0, 0, 2, 1, 3, 1, 1, 1],
            Profile::Versions => [3, 2, 2, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3],
            Profile::Refresh => [2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 8, 1, 0, 0],
            Profile::Cutoffs => [5, 2, 2, 2, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0],
            Profile::Guards => [2, 5, 4, 5, 2, 2, 2, 1, 0, 0, 1, 0, 1, 1, 0, 0],
            Profile::Global => [5, 3, 3, 3, 2, 1, 2, 1, 2, 1, 1, 0, 2, 1, 1, 1],
        }
    }

    fn subjects(self) -> usize {
        match self {
            Profile::Mixed | Profile::Guards | Profile::Global => 2,
            Profile::Versions | Profile::Refresh | Profile::Cutoffs => 1,
        }
    }
}

/// The kinds of operation a worker performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Check,
    Guard,
    DropGuard,
    IsPassed,
    RevokeToken,
    RevokeSubject,
    SetRole,
    SubjectCutoff,
    GlobalCutoff,
    RevokeAll,
    IssueFamily,
    ExtendFamily,
    Redeem,
    RevokeFamily,
    LiveRoles,
    CurrentVersion,
}

impl Kind {
    const ALL: [Kind; 16] = [
        Kind::Check,
        Kind::Guard,
        Kind::DropGuard,
        Kind::IsPassed,
        Kind::RevokeToken,
        Kind::RevokeSubject,
        Kind::SetRole,
        Kind::SubjectCutoff,
        Kind::GlobalCutoff,
        Kind::RevokeAll,
        Kind::IssueFamily,
        Kind::ExtendFamily,
        Kind::Redeem,
        Kind::RevokeFamily,
        Kind::LiveRoles,
        Kind::CurrentVersion,
    ];
}

/// Where the workers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// One OS thread per worker.
    Threads,
    /// One task per worker on a two-worker multi-threaded tokio runtime;
    /// tasks yield between operations and hold guards across the yields.
    Tokio,
}

/// One history to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The operation mix.
    pub profile: Profile,
    /// How many concurrent workers.
    pub workers: usize,
    /// Operations per worker.
    pub ops_per_worker: usize,
    /// The seed of the workers' random choices. The interleaving, and so
    /// the state those choices see, is up to the scheduler: a seed does not
    /// replay a history.
    pub seed: u64,
    /// The fault switched on in the state, if any.
    pub fault: Option<Fault>,
    /// OS threads only: the workers wait for each other (spinning) before
    /// every operation, so that their operations start together and collide.
    pub lockstep: bool,
}

/// A barrier that spins (then yields) instead of sleeping, so that the
/// workers leave it at nearly the same instant.
struct SpinBarrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    fn new(parties: usize) -> Self {
        Self {
            parties,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            spins += 1;
            if spins < 20_000 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

struct FamilyInfo {
    id: FamilyId,
    owner: String,
    last_generation: u32,
    /// Seen revoked by this run's workers (a hint for choosing arguments).
    dead: bool,
}

struct Shared {
    state: AuthState,
    start: Instant,
    subjects: Vec<String>,
    families: Mutex<Vec<FamilyInfo>>,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

enum Handle {
    Unit(Revocation),
    Version(Revocation<Version>),
}

impl Handle {
    fn is_passed(&self) -> bool {
        match self {
            Handle::Unit(r) => r.is_passed(),
            Handle::Version(r) => r.is_passed(),
        }
    }
}

/// One worker: its random choices, the guards and handles it holds, and its
/// part of the history (references to its own earlier operations are by
/// position in `log` until the history is merged).
struct Worker {
    /// How many operations this worker has chosen so far.
    round: u64,
    /// In lockstep: the seed shared by all workers for choosing each round's kind.
    lockstep: Option<u64>,
    thread: usize,
    rng: Rng,
    profile: Profile,
    shared: Arc<Shared>,
    log: Vec<Recorded>,
    guards: Vec<(Guard, usize)>,
    handles: Vec<(Handle, usize)>,
}

impl Worker {
    fn new(
        thread: usize,
        seed: u64,
        profile: Profile,
        shared: Arc<Shared>,
        lockstep: Option<u64>,
    ) -> Self {
        Self {
            round: 0,
            lockstep,
            thread,
            rng: Rng::new(seed),
            profile,
            shared,
            log: Vec::new(),
            guards: Vec::new(),
            handles: Vec::new(),
        }
    }

    fn subject(&mut self) -> String {
        let i = self.rng.below(self.shared.subjects.len());
        self.shared.subjects[i].clone()
    }

    fn token(&mut self) -> Token {
        let subject = self.subject();
        let shared = Arc::clone(&self.shared);
        let state = &shared.state;
        let cutoffs = self.profile == Profile::Cutoffs;
        let jti = self
            .rng
            .percent(75)
            .then(|| format!("{subject}/j{}", self.rng.below(3)));
        let issued_at = if cutoffs {
            // Around the cutoffs being raised in this round.
            // Around the cutoffs raised one or two rounds ago: the gap a lost
            // raise would leave is `T0 + 4 * round + 1`.
            let round = self.round.saturating_sub(1 + self.rng.below(2) as u64);
            T0 + 4 * round as i64 + self.rng.below(3) as i64
        } else {
            T0 + self.rng.pick(&[-5, 0, 3, 6])
        };
        let expires_at = if self.rng.percent(5) {
            T0 - 1
        } else {
            LIVE_EXP
        };
        let version = if cutoffs && self.rng.percent(70) {
            None
        } else {
            match self.rng.below(100) {
                0..50 => Some(state.current_version(&subject)),
                50..65 => Some(Version(self.rng.below(3) as u32)),
                _ => None,
            }
        };
        let family = match self.rng.below(10) {
            0..6 => None,
            6..9 => {
                let families = shared.families.lock().unwrap();
                let own: Vec<FamilyId> = families
                    .iter()
                    .filter(|f| f.owner == subject)
                    .map(|f| f.id)
                    .collect();
                drop(families);
                (!own.is_empty()).then(|| self.rng.pick(&own))
            }
            _ => Some(UNKNOWN_FAMILY),
        };
        let bits = self.rng.below(8) as u32;
        let roles = if self.rng.percent(80) {
            Roles::from_bits(bits & state.live_roles(&subject).bits())
        } else {
            Roles::from_bits(bits)
        };
        Token {
            subject,
            jti,
            issued_at: UnixTime::from_secs(issued_at),
            expires_at: UnixTime::from_secs(expires_at),
            version,
            family,
            roles,
        }
    }

    fn kind(&mut self) -> Kind {
        let weights = self.profile.weights();
        let total: u32 = weights.iter().sum();
        // In lockstep, every worker draws the same kind in the same round.
        let mut roll = match self.lockstep {
            Some(seed) => Rng::new(seed ^ self.round.wrapping_mul(0xA24B_AED4_963E_E407))
                .below(total as usize) as u32,
            None => self.rng.below(total as usize) as u32,
        };
        let mut kind = Kind::Check;
        for (k, w) in Kind::ALL.into_iter().zip(weights) {
            if roll < w {
                kind = k;
                break;
            }
            roll -= w;
        }
        match kind {
            Kind::DropGuard if self.guards.is_empty() => Kind::Guard,
            Kind::Guard if self.guards.len() >= MAX_HELD => Kind::DropGuard,
            Kind::IsPassed if self.handles.is_empty() => Kind::Check,
            k => k,
        }
    }

    /// A family to act on: mostly the newest one still live (so that
    /// workers collide on it), sometimes any.
    fn family(&mut self) -> Option<(FamilyId, String, u32)> {
        let families = self.shared.families.lock().unwrap();
        let newest_live = families.iter().rev().find(|f| !f.dead);
        let f = match newest_live {
            Some(f) if self.rng.percent(80) => f,
            _ if families.is_empty() => return None,
            _ => &families[self.rng.below(families.len())],
        };
        Some((f.id, f.owner.clone(), f.last_generation))
    }

    fn mark_dead(&self, family: FamilyId) {
        let mut families = self.shared.families.lock().unwrap();
        if let Some(f) = families.iter_mut().find(|f| f.id == family) {
            f.dead = true;
        }
    }

    fn record(&mut self, invoke: u64, call: Call, result: Ret) -> usize {
        let ret = self.shared.now_ns();
        self.log.push(Recorded {
            thread: self.thread,
            invoke,
            ret,
            call,
            result,
        });
        self.log.len() - 1
    }

    /// A cutoff that rises with the rounds, different for each worker, so
    /// that workers in step keep raising one subject's cutoff to nearby,
    /// different values.
    fn rising_cutoff(&self) -> i64 {
        T0 + 4 * self.round as i64 + self.thread as i64 % 4
    }

    /// Busy-waits up to 400 ns: in lockstep, the workers' offsets then sweep
    /// across the few tens of nanoseconds in which a race's two halves
    /// interleave, instead of sticking to the barrier's own skew.
    fn jitter(&mut self) {
        let until = self.shared.now_ns() + self.rng.below(400) as u64;
        while self.shared.now_ns() < until {
            std::hint::spin_loop();
        }
    }

    /// Chooses, performs and records one operation.
    fn step(&mut self) {
        let shared = Arc::clone(&self.shared);
        let state = &shared.state;
        let t = UnixTime::from_secs;
        let kind = self.kind();
        self.round += 1;
        match kind {
            Kind::Check => {
                let token = self.token();
                let invoke = shared.now_ns();
                let result = state.check(&token.facts());
                self.record(invoke, Call::Check(token), Ret::Check(result));
            }
            Kind::Guard => {
                let token = self.token();
                let required =
                    Roles::from_bits(self.rng.below(8) as u32 & self.rng.below(8) as u32);
                let invoke = shared.now_ns();
                let result = state.guard(&token.facts(), required);
                let ret = Ret::Guard(result.as_ref().map(|_| ()).map_err(|e| *e));
                let index = self.record(invoke, Call::Guard { token, required }, ret);
                if let Ok(guard) = result {
                    self.guards.push((guard, index));
                }
            }
            Kind::DropGuard => {
                let (guard, admission) = self.guards.remove(self.rng.below(self.guards.len()));
                let invoke = shared.now_ns();
                drop(guard);
                self.record(invoke, Call::DropGuard { admission }, Ret::Unit);
            }
            Kind::IsPassed => {
                let i = self.rng.below(self.handles.len());
                let invoke = shared.now_ns();
                let passed = self.handles[i].0.is_passed();
                let revocation = self.handles[i].1;
                self.record(invoke, Call::IsPassed { revocation }, Ret::Passed(passed));
            }
            Kind::RevokeToken => {
                let subject = self.subject();
                let jti = format!("{subject}/j{}", self.rng.below(3));
                let invoke = shared.now_ns();
                let handle = state.revoke_token(&jti, t(LIVE_EXP));
                let call = Call::RevokeToken {
                    jti,
                    expires_at: t(LIVE_EXP),
                };
                let index = self.record(invoke, call, Ret::Unit);
                self.handles.push((Handle::Unit(handle), index));
            }
            Kind::RevokeSubject => {
                let subject = self.subject();
                let invoke = shared.now_ns();
                let result = state.revoke_subject(&subject);
                let ret = Ret::Version(result.as_ref().map(Revocation::value).map_err(|e| *e));
                let index = self.record(invoke, Call::RevokeSubject(subject), ret);
                if let Ok(handle) = result {
                    self.handles.push((Handle::Version(handle), index));
                }
            }
            Kind::SetRole => {
                let subject = self.subject();
                let roles = Roles::from_bits(self.rng.below(8) as u32);
                let invoke = shared.now_ns();
                let handle = state.set_role(&subject, roles);
                let index = self.record(invoke, Call::SetRole(subject, roles), Ret::Unit);
                self.handles.push((Handle::Unit(handle), index));
            }
            Kind::SubjectCutoff => {
                let subject = self.subject();
                let cutoff = t(if self.profile == Profile::Cutoffs {
                    self.rising_cutoff()
                } else {
                    T0 + self.rng.pick(&[-3, 2, 4, 6, 8])
                });
                let invoke = shared.now_ns();
                let handle = state.revoke_subject_issued_before(&subject, cutoff);
                let index = self.record(
                    invoke,
                    Call::RevokeSubjectIssuedBefore(subject, cutoff),
                    Ret::Unit,
                );
                self.handles.push((Handle::Unit(handle), index));
            }
            Kind::GlobalCutoff => {
                let cutoff = t(T0 + self.rng.pick(&[-3, 0, 2, 4]));
                let invoke = shared.now_ns();
                let handle = state.revoke_issued_before(cutoff);
                let index = self.record(invoke, Call::RevokeIssuedBefore(cutoff), Ret::Unit);
                self.handles.push((Handle::Unit(handle), index));
            }
            Kind::RevokeAll => {
                let invoke = shared.now_ns();
                let handle = state.revoke_all();
                let index = self.record(invoke, Call::RevokeAll, Ret::Unit);
                self.handles.push((Handle::Unit(handle), index));
            }
            Kind::IssueFamily => {
                let subject = self.subject();
                let invoke = shared.now_ns();
                let grant = state.issue_family(&subject, t(LIVE_EXP));
                self.record(
                    invoke,
                    Call::IssueFamily(subject.clone(), t(LIVE_EXP)),
                    Ret::Grant(grant),
                );
                shared.families.lock().unwrap().push(FamilyInfo {
                    id: grant.family,
                    owner: subject,
                    last_generation: 0,
                    dead: false,
                });
            }
            Kind::ExtendFamily => {
                let Some((family, owner, _)) = self.family() else {
                    return;
                };
                let invoke = shared.now_ns();
                state.extend_family(&owner, family, t(LIVE_EXP + 50));
                self.record(
                    invoke,
                    Call::ExtendFamily(owner, family, t(LIVE_EXP + 50)),
                    Ret::Unit,
                );
            }
            Kind::Redeem => {
                let Some((family, owner, last)) = self.family() else {
                    return;
                };
                let subject = if self.rng.percent(10) {
                    self.subject()
                } else {
                    owner
                };
                let generation = match self.rng.below(20) {
                    0..14 => last,
                    14..17 => last.saturating_sub(1),
                    17 => last + 1,
                    _ => 0,
                };
                let expires_at = t(if self.rng.percent(5) {
                    T0 - 1
                } else {
                    LIVE_EXP
                });
                let facts = RefreshFacts {
                    subject: &subject,
                    family,
                    generation,
                    expires_at,
                };
                let invoke = shared.now_ns();
                let result = state.redeem(&facts, t(LIVE_EXP));
                let ret = Ret::Redeem(result.as_ref().map(|g| *g).map_err(RedeemKind::of_real));
                let call = Call::Redeem {
                    subject: subject.clone(),
                    family,
                    generation,
                    expires_at,
                    successor: t(LIVE_EXP),
                };
                let index = self.record(invoke, call, ret);
                match result {
                    Ok(grant) => {
                        let mut families = shared.families.lock().unwrap();
                        if let Some(f) = families.iter_mut().find(|f| f.id == family) {
                            f.last_generation = f.last_generation.max(grant.generation);
                        }
                    }
                    Err(authstate::RedeemError::Reused(handle)) => {
                        self.mark_dead(family);
                        self.handles.push((Handle::Unit(handle), index));
                    }
                    Err(authstate::RedeemError::FamilyRevoked) => self.mark_dead(family),
                    Err(_) => {}
                }
            }
            Kind::RevokeFamily => {
                // Always by the owner: see `state_machine::COMPARE_FOREIGN_FAMILY_BARRIERS`.
                let Some((family, owner, _)) = self.family() else {
                    return;
                };
                let invoke = shared.now_ns();
                let handle = state.revoke_family(&owner, family);
                let index = self.record(invoke, Call::RevokeFamily(owner, family), Ret::Unit);
                self.mark_dead(family);
                self.handles.push((Handle::Unit(handle), index));
            }
            Kind::LiveRoles => {
                let subject = self.subject();
                let invoke = shared.now_ns();
                let roles = state.live_roles(&subject);
                self.record(invoke, Call::LiveRoles(subject), Ret::Roles(roles));
            }
            Kind::CurrentVersion => {
                let subject = self.subject();
                let invoke = shared.now_ns();
                let version = state.current_version(&subject);
                self.record(invoke, Call::CurrentVersion(subject), Ret::Current(version));
            }
        }
    }

    /// The worker's part of the history, and the guards it still holds: the
    /// caller drops those only once every worker is done, since a drop that
    /// another worker could observe would have to be recorded.
    fn finish(self) -> (Vec<Recorded>, Vec<Guard>) {
        (
            self.log,
            self.guards.into_iter().map(|(guard, _)| guard).collect(),
        )
    }
}

/// Records one history of `workload` on `runtime` (`tokio` must be given
/// for [`Runtime::Tokio`]).
pub fn record(
    workload: &Workload,
    runtime: Runtime,
    tokio: Option<&tokio::runtime::Runtime>,
) -> History {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let mut builder = AuthState::builder().clock(clock).shards(4);
    if let Some(fault) = workload.fault {
        builder = builder.fault(fault);
    }
    let shared = Arc::new(Shared {
        state: builder.build(),
        start: Instant::now(),
        subjects: (0..workload.profile.subjects())
            .map(|i| format!("s{i}"))
            .collect(),
        families: Mutex::new(Vec::new()),
    });
    let mut seeds = Rng::new(workload.seed);

    // Setup, sequentially, as worker number `workers`: roles and families.
    let mut setup = Worker::new(
        workload.workers,
        seeds.next_u64(),
        workload.profile,
        Arc::clone(&shared),
        None,
    );
    for _ in 0..shared.subjects.len() {
        let subject = setup.subject();
        let roles = Roles::from_bits(setup.rng.below(8) as u32 | 1);
        let invoke = shared.now_ns();
        let _ = shared.state.set_role(&subject, roles);
        setup.record(invoke, Call::SetRole(subject, roles), Ret::Unit);
    }
    let families = match workload.profile {
        Profile::Refresh => 3,
        // Without families, a version bump has no side effect on them, and
        // what is left to catch is the race itself.
        Profile::Versions => 0,
        _ => 1,
    };
    for _ in 0..families * shared.subjects.len() {
        let subject = setup.subject();
        let invoke = shared.now_ns();
        let grant = shared
            .state
            .issue_family(&subject, UnixTime::from_secs(LIVE_EXP));
        setup.record(
            invoke,
            Call::IssueFamily(subject.clone(), UnixTime::from_secs(LIVE_EXP)),
            Ret::Grant(grant),
        );
        shared.families.lock().unwrap().push(FamilyInfo {
            id: grant.family,
            owner: subject,
            last_generation: 0,
            dead: false,
        });
    }
    let (setup_log, _) = setup.finish();

    let lockstep = (workload.lockstep && runtime == Runtime::Threads).then(|| seeds.next_u64());
    let workers: Vec<Worker> = (0..workload.workers)
        .map(|i| {
            Worker::new(
                i,
                seeds.next_u64(),
                workload.profile,
                Arc::clone(&shared),
                lockstep,
            )
        })
        .collect();
    let ops = workload.ops_per_worker;
    let finished: Vec<(Vec<Recorded>, Vec<Guard>)> = match runtime {
        Runtime::Threads => {
            let start = SpinBarrier::new(workers.len());
            let lockstep = workload.lockstep;
            std::thread::scope(|scope| {
                let handles: Vec<_> = workers
                    .into_iter()
                    .map(|mut worker| {
                        let start = &start;
                        scope.spawn(move || {
                            start.wait();
                            for _ in 0..ops {
                                if lockstep {
                                    start.wait();
                                    worker.jitter();
                                }
                                worker.step();
                            }
                            worker.finish()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("worker panicked"))
                    .collect()
            })
        }
        Runtime::Tokio => {
            let rt = tokio.expect("a tokio runtime for Runtime::Tokio");
            rt.block_on(async {
                let start = Arc::new(tokio::sync::Barrier::new(workers.len()));
                let tasks: Vec<_> = workers
                    .into_iter()
                    .map(|mut worker| {
                        let start = Arc::clone(&start);
                        tokio::spawn(async move {
                            start.wait().await;
                            for _ in 0..ops {
                                worker.step();
                                if worker.rng.percent(50) {
                                    tokio::task::yield_now().await;
                                }
                            }
                            worker.finish()
                        })
                    })
                    .collect();
                let mut logs = Vec::with_capacity(tasks.len());
                for task in tasks {
                    logs.push(task.await.expect("worker task panicked"));
                }
                logs
            })
        }
    };

    // Every worker is done: the guards still held can go now.
    let logs: Vec<Vec<Recorded>> = finished.into_iter().map(|(log, _guards)| log).collect();

    // Merge, turning per-worker references into history indexes.
    let mut merged = Vec::new();
    for log in std::iter::once(setup_log).chain(logs) {
        let base = merged.len();
        merged.extend(log.into_iter().map(|mut op| {
            match &mut op.call {
                Call::DropGuard { admission: i } | Call::IsPassed { revocation: i } => *i += base,
                _ => {}
            }
            op
        }));
    }
    History {
        config: SpecConfig {
            start: UnixTime::from_secs(T0),
            leeway_secs: 0,
            refresh_overlap_secs: None,
        },
        ops: merged,
    }
}

/// A history that failed the check, and how to record it again.
#[derive(Debug)]
pub struct LinFailure {
    /// How many histories had passed before this one.
    pub passed_before: usize,
    /// The workload that produced it.
    pub workload: Workload,
    /// Where it ran.
    pub runtime: Runtime,
    /// What the checker found.
    pub failure: NotLinearizable,
}

impl fmt::Display for LinFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "history #{} ({:?} on {:?})",
            self.passed_before + 1,
            self.workload,
            self.runtime
        )?;
        write!(f, "{}", self.failure)
    }
}

impl std::error::Error for LinFailure {}

/// What a clean run covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinStats {
    /// Histories recorded and checked.
    pub histories: usize,
    /// Operations in them.
    pub operations: usize,
}

/// The configuration budget per partition.
pub const SEARCH_LIMIT: usize = 500_000;

/// Records and checks `histories` histories on `runtime`, cycling through
/// `profiles`, with `fault` switched on (if any); stops at the first history
/// that is not linearizable.
pub fn run_linearizability(
    fault: Option<Fault>,
    runtime: Runtime,
    profiles: &[Profile],
    histories: usize,
    seed: u64,
) -> Result<LinStats, Box<LinFailure>> {
    let tokio = (runtime == Runtime::Tokio).then(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a tokio runtime")
    });
    let mut seeds = Rng::new(seed);
    let mut stats = LinStats::default();
    for n in 0..histories {
        let lockstep = runtime == Runtime::Threads && n % 2 == 1;
        let workload = Workload {
            profile: profiles[n % profiles.len()],
            // In lockstep, one worker per core: they then really run at once.
            workers: if lockstep { 2 } else { 3 },
            ops_per_worker: 24,
            seed: seeds.next_u64(),
            fault,
            lockstep,
        };
        let history = record(&workload, runtime, tokio.as_ref());
        stats.histories += 1;
        stats.operations += history.ops.len();
        if let Err(failure) = history.check(SEARCH_LIMIT) {
            return Err(Box::new(LinFailure {
                passed_before: n,
                workload,
                runtime,
                failure: *failure,
            }));
        }
    }
    Ok(stats)
}
