//! State-machine property tests: random operation sequences run on a real
//! [`AuthState`] (with a [`ManualClock`]) and on the [`Spec`], comparing
//! every result.
//!
//! A [`Case`] is a [`Setup`] (leeway, refresh overlap, shard count) and a
//! list of [`Op`]s over small pools: three subjects, three roles, the tokens
//! minted so far, the families issued so far, the guards held so far.
//! Operations refer to earlier tokens, guards and families by index (taken
//! modulo the pool's size when the op runs), so that proptest can shrink a
//! failing sequence by dropping operations and the rest still makes sense.
//!
//! After every step, every revocation handle still kept is compared with the
//! spec's barrier (`Revocation::is_passed` and `Revocation::live_guards`);
//! around every sweep, every minted token is checked (I5: no refused token
//! is accepted after it).
//!
//! # What it catches, and what it cannot
//!
//! A single-threaded history reveals the faults whose bug shows without any
//! interleaving (measured by `tests/state_machine.rs`, `teeth_*`):
//!
//! * `LaggingDenylist` (I1): a check right after `revoke_token` accepts.
//! * `UnregisteredGuard` (I2): a barrier passes while the spec still has a
//!   live guard under the withdrawn authority.
//! * `RoleFromToken` (I3): a token claiming a role that is not live is accepted.
//! * `BarrierWrongGeneration` (I7): a barrier that had passed stops passing
//!   once a new matching guard is admitted.
//!
//! It cannot reveal the faults that are races between two threads, since a
//! sequential run never interleaves the two halves of the buggy operation:
//! `VersionLoadThenStore` (I4) and `RedeemCheckThenMark` (I6) behave exactly
//! like the correct code when nothing runs between their read and their
//! write; `CutoffReadModifyWrite` (I8) likewise; and `ClockBeforeLookup` (I5)
//! needs a clock advance and a sweep *between* a check's clock read and its
//! denylist lookup. Those are for the linearizability checker and the loom
//! and shuttle models.

use crate::spec::{Barrier, GuardId, Spec, SpecConfig, SpecRedeemError};
use crate::{RedeemKind, Token};
use authstate::{
    AuthState, FamilyId, Fault, Guard, ManualClock, RefreshFacts, Revocation, Roles, UnixTime,
    Version,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use std::fmt;
use std::time::Duration;

/// The subjects of the pool.
pub const SUBJECTS: [&str; 3] = ["alice", "bob", "carol"];
/// The clock's reading at the start of every case (seconds).
pub const START: i64 = 1_000_000;
/// The roles of the pool: bits 0, 1 and 2.
pub const ROLE_BITS: u32 = 0b111;
/// A family id the state never hands out.
pub const UNKNOWN_FAMILY: FamilyId = FamilyId(999_999);

/// Whether barriers of `revoke_family(subject, family)` for a family that
/// belongs to another subject are compared: such a revocation withdraws
/// nothing, so both the spec's and the core's barriers pass at once.
pub const COMPARE_FOREIGN_FAMILY_BARRIERS: bool = true;

/// How the state is configured for one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// `AuthStateBuilder::leeway`, in seconds.
    pub leeway_secs: i64,
    /// `AuthStateBuilder::refresh_overlap`, in seconds.
    pub refresh_overlap_secs: Option<i64>,
    /// `AuthStateBuilder::shards`.
    pub shards: usize,
}

/// Which version a minted token carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionPick {
    /// The subject's current version.
    Current,
    /// One less than the current version (the current one at version 0).
    Stale,
    /// One more than the current version.
    Ahead,
    /// No `ver` claim (an external identity provider's token).
    Absent,
}

/// Which family a minted token names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyPick {
    /// None.
    NoFamily,
    /// The family issued `n`-th (modulo how many were), whatever its owner.
    Issued(usize),
    /// A family the state never issued.
    Unknown,
}

/// Which generation a redeemed refresh token presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenerationPick {
    /// The family's current generation (a rotation).
    Current,
    /// The previous one (reuse, or a replay within the overlap window).
    Previous,
    /// One that was never issued.
    Next,
    /// The login's token, generation 0.
    First,
}

/// How to mint a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mint {
    /// Index into [`SUBJECTS`].
    pub subject: usize,
    /// Whether the token has a (fresh) `jti`.
    pub jti: bool,
    /// `iat` is this many seconds before now.
    pub issued_back: i64,
    /// `exp` is this many seconds after `iat`.
    pub lifetime: i64,
    /// `ver`.
    pub version: VersionPick,
    /// The family named.
    pub family: FamilyPick,
    /// Role bits claimed.
    pub claims: u32,
    /// Whether the claims are narrowed to the subject's live roles first.
    pub claims_live_only: bool,
}

/// One operation of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Mint a token (test side only: the issuer).
    Mint(Mint),
    /// `check` a minted token.
    Check(usize),
    /// `guard` a minted token with the required role bits; hold the guard.
    Guard {
        /// Token index.
        token: usize,
        /// Required role bits.
        required: u32,
    },
    /// Drop a held guard.
    DropGuard(usize),
    /// `revoke_token` a minted token's `jti`, with its `exp` plus `extra_secs`.
    RevokeToken {
        /// Token index.
        token: usize,
        /// Added to the token's `exp`.
        extra_secs: i64,
    },
    /// `revoke_subject`.
    RevokeSubject(usize),
    /// `set_role` to the given bits.
    SetRole {
        /// Subject index.
        subject: usize,
        /// Role bits.
        roles: u32,
    },
    /// `revoke_all`.
    RevokeAll,
    /// `revoke_issued_before(now + offset)`.
    RevokeIssuedBefore(i64),
    /// `revoke_subject_issued_before(subject, now + offset)`.
    RevokeSubjectIssuedBefore {
        /// Subject index.
        subject: usize,
        /// Offset from now, in seconds.
        offset: i64,
    },
    /// `issue_family(subject, now + lifetime)`.
    IssueFamily {
        /// Subject index.
        subject: usize,
        /// Lifetime of the first refresh token.
        lifetime: i64,
    },
    /// `extend_family`, by the owner or by another subject.
    ExtendFamily {
        /// Family index.
        family: usize,
        /// Called with another subject than the owner.
        foreign: bool,
        /// `now + lifetime` is the access token's expiry.
        lifetime: i64,
    },
    /// `redeem` a refresh token of an issued family.
    Redeem {
        /// Family index.
        family: usize,
        /// Presented by another subject than the owner.
        foreign: bool,
        /// Which generation.
        generation: GenerationPick,
        /// The refresh token's `exp` is now plus this.
        lifetime: i64,
        /// The successor's `exp` is now plus this.
        successor_lifetime: i64,
    },
    /// `revoke_family`, by the owner or by another subject.
    RevokeFamily {
        /// Family index.
        family: usize,
        /// Called with another subject than the owner.
        foreign: bool,
    },
    /// `sweep` with an unlimited budget, once per shard (each call sweeps
    /// every denylist shard but the families of one subject shard).
    Sweep,
    /// Advance the clock.
    Advance(i64),
    /// `live_roles`, `current_version`, `denylist_len`, `subject_count`.
    Observe(usize),
}

/// One generated case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The configuration.
    pub setup: Setup,
    /// The operations, in order.
    pub ops: Vec<Op>,
}

/// The strategy for a [`Setup`].
pub fn setup_strategy() -> impl Strategy<Value = Setup> {
    (
        prop_oneof![Just(0i64), Just(2)],
        prop_oneof![Just(None), Just(Some(5i64))],
        prop_oneof![Just(1usize), Just(4)],
    )
        .prop_map(|(leeway_secs, refresh_overlap_secs, shards)| Setup {
            leeway_secs,
            refresh_overlap_secs,
            shards,
        })
}

fn mint_strategy() -> impl Strategy<Value = Mint> {
    let version = prop_oneof![
        4 => Just(VersionPick::Current),
        1 => Just(VersionPick::Stale),
        1 => Just(VersionPick::Ahead),
        3 => Just(VersionPick::Absent),
    ];
    let family = prop_oneof![
        5 => Just(FamilyPick::NoFamily),
        3 => (0..8usize).prop_map(FamilyPick::Issued),
        1 => Just(FamilyPick::Unknown),
    ];
    (
        0..SUBJECTS.len(),
        prop::bool::weighted(0.8),
        0..5i64,
        1..30i64,
        version,
        family,
        0..=ROLE_BITS,
        prop::bool::weighted(0.7),
    )
        .prop_map(
            |(subject, jti, issued_back, lifetime, version, family, claims, claims_live_only)| {
                Mint {
                    subject,
                    jti,
                    issued_back,
                    lifetime,
                    version,
                    family,
                    claims,
                    claims_live_only,
                }
            },
        )
}

/// The strategy for one [`Op`].
pub fn op_strategy() -> impl Strategy<Value = Op> {
    let subject = 0..SUBJECTS.len();
    let generation = prop_oneof![
        4 => Just(GenerationPick::Current),
        2 => Just(GenerationPick::Previous),
        1 => Just(GenerationPick::Next),
        1 => Just(GenerationPick::First),
    ];
    prop_oneof![
        6 => mint_strategy().prop_map(Op::Mint),
        6 => (0..16usize).prop_map(Op::Check),
        5 => (0..16usize, 0..=ROLE_BITS).prop_map(|(token, required)| Op::Guard { token, required }),
        3 => (0..8usize).prop_map(Op::DropGuard),
        3 => (0..16usize, prop_oneof![Just(0i64), Just(7)])
            .prop_map(|(token, extra_secs)| Op::RevokeToken { token, extra_secs }),
        2 => subject.clone().prop_map(Op::RevokeSubject),
        4 => (subject.clone(), 0..=ROLE_BITS).prop_map(|(subject, roles)| Op::SetRole { subject, roles }),
        1 => Just(Op::RevokeAll),
        1 => (-5..5i64).prop_map(Op::RevokeIssuedBefore),
        2 => (subject.clone(), -5..5i64)
            .prop_map(|(subject, offset)| Op::RevokeSubjectIssuedBefore { subject, offset }),
        3 => (subject.clone(), 1..40i64).prop_map(|(subject, lifetime)| Op::IssueFamily { subject, lifetime }),
        1 => (0..8usize, prop::bool::weighted(0.2), 1..60i64)
            .prop_map(|(family, foreign, lifetime)| Op::ExtendFamily { family, foreign, lifetime }),
        5 => (0..8usize, prop::bool::weighted(0.15), generation, -3..30i64, 1..60i64).prop_map(
            |(family, foreign, generation, lifetime, successor_lifetime)| Op::Redeem {
                family,
                foreign,
                generation,
                lifetime,
                successor_lifetime,
            }
        ),
        2 => (0..8usize, prop::bool::weighted(0.2)).prop_map(|(family, foreign)| Op::RevokeFamily { family, foreign }),
        2 => Just(Op::Sweep),
        3 => prop_oneof![Just(1i64), Just(2), Just(3), Just(5), Just(10), Just(30)].prop_map(Op::Advance),
        1 => subject.prop_map(Op::Observe),
    ]
}

/// The strategy for a [`Case`]: a setup and up to `max_ops` operations.
pub fn case_strategy(max_ops: usize) -> impl Strategy<Value = Case> {
    (
        setup_strategy(),
        prop::collection::vec(op_strategy(), 1..=max_ops),
    )
        .prop_map(|(setup, ops)| Case { setup, ops })
}

/// A real revocation handle, whatever its value type.
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

    fn live_guards(&self) -> usize {
        match self {
            Handle::Unit(r) => r.live_guards(),
            Handle::Version(r) => r.live_guards(),
        }
    }
}

/// A revocation kept for comparison after every later step.
struct Tracked {
    step: usize,
    real: Handle,
    spec: Barrier,
}

/// The real state and the spec, side by side.
pub struct Machine {
    setup: Setup,
    clock: ManualClock,
    real: AuthState,
    spec: Spec,
    tokens: Vec<Token>,
    guards: Vec<(Guard, GuardId)>,
    families: Vec<(FamilyId, usize)>,
    tracked: Vec<Tracked>,
}

fn same<T: PartialEq + fmt::Debug>(what: &str, real: T, spec: T) -> Result<String, String> {
    if real == spec {
        Ok(format!("{real:?}"))
    } else {
        Err(format!("{what}: real {real:?}, spec {spec:?}"))
    }
}

impl Machine {
    /// A fresh state (with `fault` switched on, if any) and a fresh spec.
    pub fn new(setup: Setup, fault: Option<Fault>) -> Self {
        let clock = ManualClock::new(UnixTime::from_secs(START));
        let mut builder = AuthState::builder()
            .clock(clock.clone())
            .leeway(Duration::from_secs(setup.leeway_secs.unsigned_abs()))
            .refresh_overlap(
                setup
                    .refresh_overlap_secs
                    .map(|s| Duration::from_secs(s.unsigned_abs())),
            )
            .shards(setup.shards);
        if let Some(fault) = fault {
            builder = builder.fault(fault);
        }
        Self {
            setup,
            clock,
            real: builder.build(),
            spec: Spec::new(SpecConfig {
                start: UnixTime::from_secs(START),
                leeway_secs: setup.leeway_secs,
                refresh_overlap_secs: setup.refresh_overlap_secs,
            }),
            tokens: Vec::new(),
            guards: Vec::new(),
            families: Vec::new(),
            tracked: Vec::new(),
        }
    }

    fn track(&mut self, step: usize, real: Handle, spec: Barrier) {
        self.tracked.push(Tracked { step, real, spec });
    }

    fn family(&self, index: usize, foreign: bool) -> Option<(FamilyId, &'static str)> {
        let &(id, owner) = self.families.get(index % self.families.len().max(1))?;
        let subject = if foreign {
            (owner + 1) % SUBJECTS.len()
        } else {
            owner
        };
        Some((id, SUBJECTS[subject]))
    }

    fn mint(&self, m: &Mint) -> Token {
        let subject = SUBJECTS[m.subject];
        let current = self.spec.current_version(subject);
        let issued_at = self.spec.now().saturating_add_secs(-m.issued_back);
        let family = match m.family {
            FamilyPick::NoFamily => None,
            FamilyPick::Unknown => Some(UNKNOWN_FAMILY),
            FamilyPick::Issued(i) => self
                .families
                .get(i % self.families.len().max(1))
                .map(|f| f.0),
        };
        let claims = Roles::from_bits(m.claims & ROLE_BITS);
        Token {
            subject: subject.to_owned(),
            jti: m.jti.then(|| format!("t{}", self.tokens.len())),
            issued_at,
            expires_at: issued_at.saturating_add_secs(m.lifetime),
            version: match m.version {
                VersionPick::Current => Some(current),
                VersionPick::Stale => Some(Version(current.0.saturating_sub(1))),
                VersionPick::Ahead => Some(Version(current.0 + 1)),
                VersionPick::Absent => None,
            },
            family,
            roles: if m.claims_live_only {
                Roles::from_bits(claims.bits() & self.spec.live_roles(subject).bits())
            } else {
                claims
            },
        }
    }

    /// Runs one operation on both sides; returns a description of the
    /// (agreeing) outcome, or what disagreed.
    pub fn apply(&mut self, step: usize, op: &Op) -> Result<String, String> {
        let outcome = match *op {
            Op::Mint(ref m) => {
                let token = self.mint(m);
                let described = format!("{token:?}");
                self.tokens.push(token);
                described
            }
            Op::Check(i) => {
                let Some(token) = self.tokens.get(i % self.tokens.len().max(1)) else {
                    return Ok("no token".into());
                };
                same(
                    "check",
                    self.real.check(&token.facts()),
                    self.spec.check(&token.facts()),
                )?
            }
            Op::Guard { token, required } => {
                let Some(token) = self.tokens.get(token % self.tokens.len().max(1)).cloned() else {
                    return Ok("no token".into());
                };
                let required = Roles::from_bits(required & ROLE_BITS);
                let real = self.real.guard(&token.facts(), required);
                let spec = self.spec.guard(&token.facts(), required);
                let described = same(
                    "guard",
                    real.as_ref().map(|_| ()).map_err(|e| *e),
                    spec.map(|_| ()),
                )?;
                if let (Ok(real), Ok(spec)) = (real, spec) {
                    self.guards.push((real, spec));
                }
                described
            }
            Op::DropGuard(i) => {
                if self.guards.is_empty() {
                    return Ok("no guard".into());
                }
                let (real, id) = self.guards.remove(i % self.guards.len());
                drop(real);
                assert!(self.spec.drop_guard(id), "the spec's guard was live");
                format!("dropped {id:?}")
            }
            Op::RevokeToken { token, extra_secs } => {
                let Some(token) = self.tokens.get(token % self.tokens.len().max(1)).cloned() else {
                    return Ok("no token".into());
                };
                let Some(jti) = token.jti.as_deref() else {
                    return Ok("token without jti".into());
                };
                let exp = token.expires_at.saturating_add_secs(extra_secs);
                let real = self.real.revoke_token(jti, exp);
                let spec = self.spec.revoke_token(jti, exp);
                self.track(step, Handle::Unit(real), spec.barrier);
                format!("revoked {jti} until {exp}")
            }
            Op::RevokeSubject(s) => {
                let real = self.real.revoke_subject(SUBJECTS[s]);
                let spec = self.spec.revoke_subject(SUBJECTS[s]);
                let described = same(
                    "revoke_subject",
                    real.as_ref().map(Revocation::value).map_err(|e| *e),
                    spec.as_ref().map(|r| r.value).map_err(|e| *e),
                )?;
                if let (Ok(real), Ok(spec)) = (real, spec) {
                    self.track(step, Handle::Version(real), spec.barrier);
                }
                described
            }
            Op::SetRole { subject, roles } => {
                let roles = Roles::from_bits(roles & ROLE_BITS);
                let real = self.real.set_role(SUBJECTS[subject], roles);
                let spec = self.spec.set_role(SUBJECTS[subject], roles);
                self.track(step, Handle::Unit(real), spec.barrier);
                format!("roles {roles:?}")
            }
            Op::RevokeAll => {
                let real = self.real.revoke_all();
                let spec = self.spec.revoke_all();
                self.track(step, Handle::Unit(real), spec.barrier);
                "cutoff now".into()
            }
            Op::RevokeIssuedBefore(offset) => {
                let cutoff = self.spec.now().saturating_add_secs(offset);
                let real = self.real.revoke_issued_before(cutoff);
                let spec = self.spec.revoke_issued_before(cutoff);
                self.track(step, Handle::Unit(real), spec.barrier);
                format!("cutoff {cutoff}")
            }
            Op::RevokeSubjectIssuedBefore { subject, offset } => {
                let cutoff = self.spec.now().saturating_add_secs(offset);
                let real = self
                    .real
                    .revoke_subject_issued_before(SUBJECTS[subject], cutoff);
                let spec = self
                    .spec
                    .revoke_subject_issued_before(SUBJECTS[subject], cutoff);
                self.track(step, Handle::Unit(real), spec.barrier);
                format!("cutoff {cutoff}")
            }
            Op::IssueFamily { subject, lifetime } => {
                let exp = self.spec.now().saturating_add_secs(lifetime);
                let real = self.real.issue_family(SUBJECTS[subject], exp);
                let spec = self.spec.issue_family(SUBJECTS[subject], exp);
                let described = same("issue_family", real, spec)?;
                self.families.push((real.family, subject));
                described
            }
            Op::ExtendFamily {
                family,
                foreign,
                lifetime,
            } => {
                let Some((id, subject)) = self.family(family, foreign) else {
                    return Ok("no family".into());
                };
                let exp = self.spec.now().saturating_add_secs(lifetime);
                self.real.extend_family(subject, id, exp);
                self.spec.extend_family(subject, id, exp);
                format!("{subject} extends {id} to {exp}")
            }
            Op::Redeem {
                family,
                foreign,
                generation,
                lifetime,
                successor_lifetime,
            } => {
                let (id, subject) = self
                    .family(family, foreign)
                    .unwrap_or((UNKNOWN_FAMILY, SUBJECTS[0]));
                let current = self.spec.family(id).map_or(0, |f| f.generation);
                let facts = RefreshFacts {
                    subject,
                    family: id,
                    generation: match generation {
                        GenerationPick::Current => current,
                        GenerationPick::Previous => current.saturating_sub(1),
                        GenerationPick::Next => current + 1,
                        GenerationPick::First => 0,
                    },
                    expires_at: self.spec.now().saturating_add_secs(lifetime),
                };
                let successor = self.spec.now().saturating_add_secs(successor_lifetime);
                let real = self.real.redeem(&facts, successor);
                let spec = self.spec.redeem(&facts, successor);
                let described = same(
                    "redeem",
                    real.as_ref().map(|g| *g).map_err(RedeemKind::of_real),
                    spec.as_ref().map(|g| *g).map_err(RedeemKind::of_spec),
                )?;
                if let (
                    Err(authstate::RedeemError::Reused(real)),
                    Err(SpecRedeemError::Reused(spec)),
                ) = (real, spec)
                {
                    self.track(step, Handle::Unit(real), spec);
                }
                format!("{facts:?} -> {described}")
            }
            Op::RevokeFamily { family, foreign } => {
                let Some((id, subject)) = self.family(family, foreign) else {
                    return Ok("no family".into());
                };
                let real = self.real.revoke_family(subject, id);
                let spec = self.spec.revoke_family(subject, id);
                if COMPARE_FOREIGN_FAMILY_BARRIERS || !foreign {
                    self.track(step, Handle::Unit(real), spec.barrier);
                }
                format!("{subject} revokes {id}")
            }
            Op::Sweep => {
                let before = self.acceptance()?;
                let (mut removed, mut families_removed) = (0, 0);
                for _ in 0..self.setup.shards {
                    let report = self.real.sweep(usize::MAX);
                    removed += report.removed;
                    families_removed += report.families_removed;
                }
                let spec = self.spec.sweep();
                let described = same(
                    "sweep (removed, families_removed)",
                    (removed, families_removed),
                    (spec.removed, spec.families_removed),
                )?;
                // I5: no refused token is accepted after the sweep (every
                // revocation used the token's own `exp` or later). The other
                // way is allowed: a token naming a family whose record expired
                // (its `exp` never registered with `extend_family`) is refused
                // once the family is swept.
                let after = self.acceptance()?;
                if let Some(i) = (0..before.len()).find(|&i| !before[i] && after[i]) {
                    return Err(format!(
                        "sweep let a refused token through: {:?}",
                        self.tokens[i]
                    ));
                }
                described
            }
            Op::Advance(secs) => {
                self.clock.advance_secs(secs);
                self.spec.advance(secs);
                same("now", self.real.now(), self.spec.now())?
            }
            Op::Observe(s) => {
                let subject = SUBJECTS[s];
                same(
                    "observe (live_roles, current_version, denylist_len, subject_count)",
                    (
                        self.real.live_roles(subject),
                        self.real.current_version(subject),
                        self.real.denylist_len(),
                        self.real.subject_count(),
                    ),
                    (
                        self.spec.live_roles(subject),
                        self.spec.current_version(subject),
                        self.spec.denylist_len(),
                        self.spec.subject_count(),
                    ),
                )?
            }
        };
        self.compare_barriers()?;
        Ok(outcome)
    }

    /// Every minted token's acceptance, real and spec (compared).
    fn acceptance(&self) -> Result<Vec<bool>, String> {
        self.tokens
            .iter()
            .map(|t| {
                let (real, spec) = (self.real.check(&t.facts()), self.spec.check(&t.facts()));
                same(&format!("check of {t:?} around a sweep"), real, spec).map(|_| real.is_ok())
            })
            .collect()
    }

    fn compare_barriers(&self) -> Result<(), String> {
        for t in &self.tracked {
            let real = (t.real.is_passed(), t.real.live_guards());
            let spec = (self.spec.is_passed(&t.spec), self.spec.live_guards(&t.spec));
            if real != spec {
                return Err(format!(
                    "barrier of step {} ({:?}): real (is_passed, live_guards) = {real:?}, spec = {spec:?}",
                    t.step, t.spec
                ));
            }
        }
        Ok(())
    }
}

/// Runs one case; on the first disagreement, returns it with the trace of
/// the steps that led there.
pub fn check_case(fault: Option<Fault>, case: &Case) -> Result<(), String> {
    let mut machine = Machine::new(case.setup, fault);
    let mut trace = Vec::with_capacity(case.ops.len());
    for (step, op) in case.ops.iter().enumerate() {
        match machine.apply(step, op) {
            Ok(outcome) => trace.push(format!("  {step:>3}: {op:?}\n       => {outcome}")),
            Err(disagreement) => {
                trace.push(format!(
                    "  {step:>3}: {op:?}\n       => DISAGREE: {disagreement}"
                ));
                return Err(format!(
                    "step {step}: {disagreement}\nsetup: {:?}\ntrace:\n{}",
                    case.setup,
                    trace.join("\n")
                ));
            }
        }
    }
    Ok(())
}

/// A case the real state and the spec disagree on, shrunk by proptest.
#[derive(Debug)]
pub struct Failure {
    /// The fault switched on, if any.
    pub fault: Option<Fault>,
    /// The minimal failing case.
    pub case: Option<Case>,
    /// What disagreed, with the trace of the minimal case.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "state machine failure (fault: {:?})", self.fault)?;
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The longest operation sequence generated.
pub const MAX_OPS: usize = 48;

/// Runs `cases` random cases with a deterministic seed (and no failure
/// persistence), shrinking a failure to a minimal case: the programmatic form
/// used by the teeth tests.
pub fn run_state_machine(fault: Option<Fault>, cases: u32) -> Result<(), Failure> {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&case_strategy(MAX_OPS), |case| {
        check_case(fault, &case).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, case)) => Err(Failure {
            fault,
            message: reason.message().to_owned(),
            case: Some(case),
        }),
        Err(TestError::Abort(reason)) => Err(Failure {
            fault,
            message: format!("aborted: {}", reason.message()),
            case: None,
        }),
    }
}
