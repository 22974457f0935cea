//! Histories of `AuthState` operations, the [`Model`] that checks them
//! against the [`Spec`], partitioning by subject, and the report of a
//! history that is not linearizable.

use super::checker::{self, Entry, Model, Verdict};
use crate::spec::{Barrier, GuardId, Spec, SpecConfig, SpecRedeemError};
use crate::{RedeemKind, Token};
use authstate::{
    Authorization, FamilyId, RefreshFacts, RefreshGrant, Rejection, Roles, StateError, UnixTime,
    Version,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

/// An operation as invoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `check(token)`.
    Check(Token),
    /// `guard(token, required)`; the guard is held until a [`Call::DropGuard`].
    Guard {
        /// The token.
        token: Token,
        /// The required roles.
        required: Roles,
    },
    /// Dropping the guard admitted by the history's operation `admission`.
    DropGuard {
        /// Index of the [`Call::Guard`] in the history.
        admission: usize,
    },
    /// `is_passed()` on the handle returned by the history's operation `revocation`.
    IsPassed {
        /// Index of the revocation (or reusing redemption) in the history.
        revocation: usize,
    },
    /// `revoke_token(jti, expires_at)`.
    RevokeToken {
        /// The `jti`.
        jti: String,
        /// Its `exp`.
        expires_at: UnixTime,
    },
    /// `revoke_subject(subject)`.
    RevokeSubject(String),
    /// `set_role(subject, roles)`.
    SetRole(String, Roles),
    /// `revoke_subject_issued_before(subject, cutoff)`.
    RevokeSubjectIssuedBefore(String, UnixTime),
    /// `revoke_issued_before(cutoff)`.
    RevokeIssuedBefore(UnixTime),
    /// `revoke_all()`.
    RevokeAll,
    /// `issue_family(subject, expires_at)`.
    IssueFamily(String, UnixTime),
    /// `extend_family(subject, family, expires_at)`.
    ExtendFamily(String, FamilyId, UnixTime),
    /// `redeem(facts, successor_expires_at)`.
    Redeem {
        /// The subject presenting the refresh token.
        subject: String,
        /// Its family.
        family: FamilyId,
        /// Its generation.
        generation: u32,
        /// Its `exp`.
        expires_at: UnixTime,
        /// The successor's `exp`.
        successor: UnixTime,
    },
    /// `revoke_family(subject, family)`.
    RevokeFamily(String, FamilyId),
    /// `live_roles(subject)`.
    LiveRoles(String),
    /// `current_version(subject)`.
    CurrentVersion(String),
}

/// An operation's observed result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ret {
    /// Of `check`.
    Check(Result<Authorization, Rejection>),
    /// Of `guard`.
    Guard(Result<(), Rejection>),
    /// Of operations without a result worth comparing (their barrier is
    /// observed by later [`Call::IsPassed`] operations).
    Unit,
    /// Of `is_passed`.
    Passed(bool),
    /// Of `revoke_subject`.
    Version(Result<Version, StateError>),
    /// Of `issue_family`.
    Grant(RefreshGrant),
    /// Of `redeem`.
    Redeem(Result<RefreshGrant, RedeemKind>),
    /// Of `live_roles`.
    Roles(Roles),
    /// Of `current_version`.
    Current(Version),
}

/// One recorded operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The thread (or task) that ran it.
    pub thread: usize,
    /// Invocation time, nanoseconds since the history's start.
    pub invoke: u64,
    /// Return time, nanoseconds since the history's start.
    pub ret: u64,
    /// What was called.
    pub call: Call,
    /// What it returned.
    pub result: Ret,
}

/// A concurrent history: the recorded operations, and the configuration of
/// the state they ran on.
#[derive(Clone, Debug)]
pub struct History {
    /// The state's configuration (and so the spec's initial state).
    pub config: SpecConfig,
    /// The operations; [`Call::DropGuard`] and [`Call::IsPassed`] refer to
    /// earlier operations by index into this vector.
    pub ops: Vec<Recorded>,
}

/// The model's state: the spec, and the barriers of the revocations
/// linearized so far (by history index), for the `is_passed` calls on their
/// handles.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LinState {
    spec: Spec,
    barriers: BTreeMap<usize, Barrier>,
}

/// The [`Model`] of an `AuthState` history: each checker entry is one
/// operation of the history, by index; every operation is one atomic step of
/// the spec.
pub struct AuthModel<'h> {
    history: &'h History,
}

impl<'h> AuthModel<'h> {
    /// The model of `history`'s operations.
    pub fn new(history: &'h History) -> Self {
        Self { history }
    }
}

fn revoked<T: PartialEq>(
    mut state: LinState,
    index: usize,
    spec_value: T,
    observed: T,
    barrier: Barrier,
) -> Option<LinState> {
    if spec_value != observed {
        return None;
    }
    state.barriers.insert(index, barrier);
    Some(state)
}

impl Model for AuthModel<'_> {
    type State = LinState;
    type Op = usize;

    fn init(&self) -> LinState {
        LinState {
            spec: Spec::new(self.history.config),
            barriers: BTreeMap::new(),
        }
    }

    fn step(&self, state: &LinState, &index: &usize) -> Option<LinState> {
        let op = &self.history.ops[index];
        let mut next = state.clone();
        let spec = &mut next.spec;
        match (&op.call, &op.result) {
            (Call::Check(token), Ret::Check(observed)) => {
                (spec.check(&token.facts()) == *observed).then_some(next)
            }
            (Call::Guard { token, required }, Ret::Guard(observed)) => {
                let admitted = spec.guard_as(GuardId(index as u64), &token.facts(), *required);
                (admitted.map(|_| ()) == *observed).then_some(next)
            }
            (Call::DropGuard { admission }, Ret::Unit) => {
                spec.drop_guard(GuardId(*admission as u64)).then_some(next)
            }
            (Call::IsPassed { revocation }, Ret::Passed(observed)) => {
                let barrier = next.barriers.get(revocation)?;
                (next.spec.is_passed(barrier) == *observed).then_some(next)
            }
            (Call::RevokeToken { jti, expires_at }, Ret::Unit) => {
                let r = spec.revoke_token(jti, *expires_at);
                revoked(next, index, (), (), r.barrier)
            }
            (Call::RevokeSubject(subject), Ret::Version(observed)) => {
                match spec.revoke_subject(subject) {
                    Ok(r) => revoked(next, index, Ok(r.value), *observed, r.barrier),
                    Err(e) => (Err(e) == *observed).then_some(next),
                }
            }
            (Call::SetRole(subject, roles), Ret::Unit) => {
                let r = spec.set_role(subject, *roles);
                revoked(next, index, (), (), r.barrier)
            }
            (Call::RevokeSubjectIssuedBefore(subject, cutoff), Ret::Unit) => {
                let r = spec.revoke_subject_issued_before(subject, *cutoff);
                revoked(next, index, (), (), r.barrier)
            }
            (Call::RevokeIssuedBefore(cutoff), Ret::Unit) => {
                let r = spec.revoke_issued_before(*cutoff);
                revoked(next, index, (), (), r.barrier)
            }
            (Call::RevokeAll, Ret::Unit) => {
                let r = spec.revoke_all();
                revoked(next, index, (), (), r.barrier)
            }
            (Call::IssueFamily(subject, exp), Ret::Grant(observed)) => {
                // The id is the implementation's choice; it must be fresh.
                (spec.issue_family_as(subject, *exp, observed.family) == Some(*observed))
                    .then_some(next)
            }
            (Call::ExtendFamily(subject, family, exp), Ret::Unit) => {
                spec.extend_family(subject, *family, *exp);
                Some(next)
            }
            (
                Call::Redeem {
                    subject,
                    family,
                    generation,
                    expires_at,
                    successor,
                },
                Ret::Redeem(observed),
            ) => {
                let facts = RefreshFacts {
                    subject,
                    family: *family,
                    generation: *generation,
                    expires_at: *expires_at,
                };
                match spec.redeem(&facts, *successor) {
                    Err(SpecRedeemError::Reused(barrier)) => {
                        revoked(next, index, Err(RedeemKind::Reused), *observed, barrier)
                    }
                    other => {
                        (other.map_err(|e| RedeemKind::of_spec(&e)) == *observed).then_some(next)
                    }
                }
            }
            (Call::RevokeFamily(subject, family), Ret::Unit) => {
                let r = spec.revoke_family(subject, *family);
                revoked(next, index, (), (), r.barrier)
            }
            (Call::LiveRoles(subject), Ret::Roles(observed)) => {
                (spec.live_roles(subject) == *observed).then_some(next)
            }
            (Call::CurrentVersion(subject), Ret::Current(observed)) => {
                (spec.current_version(subject) == *observed).then_some(next)
            }
            // A call recorded with a result of the wrong kind: a driver bug.
            (call, result) => panic!("malformed history entry: {call:?} returned {result:?}"),
        }
    }
}

impl History {
    /// The subject whose partition operation `index` belongs to, or `None`
    /// for an operation that spans subjects (`revoke_all`,
    /// `revoke_issued_before`, a `jti` used by several subjects' tokens).
    /// `Some("")` is the partition of a `jti` no token carries.
    pub fn partition_of(&self, index: usize) -> Option<String> {
        match &self.ops[index].call {
            Call::Check(token) | Call::Guard { token, .. } => Some(token.subject.clone()),
            Call::DropGuard { admission: i } | Call::IsPassed { revocation: i } => {
                self.partition_of(*i)
            }
            Call::RevokeToken { jti, .. } => {
                let owners: BTreeSet<&str> = self
                    .ops
                    .iter()
                    .filter_map(|op| match &op.call {
                        Call::Check(t) | Call::Guard { token: t, .. }
                            if t.jti.as_deref() == Some(jti) =>
                        {
                            Some(t.subject.as_str())
                        }
                        _ => None,
                    })
                    .collect();
                match owners.len() {
                    0 => Some(String::new()),
                    1 => owners.first().map(|s| (*s).to_owned()),
                    _ => None,
                }
            }
            Call::RevokeSubject(s)
            | Call::SetRole(s, _)
            | Call::RevokeSubjectIssuedBefore(s, _)
            | Call::IssueFamily(s, _)
            | Call::ExtendFamily(s, _, _)
            | Call::Redeem { subject: s, .. }
            | Call::RevokeFamily(s, _)
            | Call::LiveRoles(s)
            | Call::CurrentVersion(s) => Some(s.clone()),
            Call::RevokeIssuedBefore(_) | Call::RevokeAll => None,
        }
    }

    /// The history split by subject, if every operation belongs to one
    /// subject; otherwise one partition of everything. Linearizability is
    /// local: a history is linearizable iff each subject's sub-history is, as
    /// long as every operation reads and writes only its subject's part of the
    /// state (its record, families, guards and `jti`s). Family ids are global;
    /// their uniqueness is checked separately ([`History::duplicate_family`]).
    pub fn partitions(&self) -> Vec<(Option<String>, Vec<usize>)> {
        let mut parts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in 0..self.ops.len() {
            match self.partition_of(i) {
                Some(subject) => parts.entry(subject).or_default().push(i),
                None => return vec![(None, (0..self.ops.len()).collect())],
            }
        }
        parts.into_iter().map(|(s, ops)| (Some(s), ops)).collect()
    }

    /// A family id handed out twice, if any.
    pub fn duplicate_family(&self) -> Option<FamilyId> {
        let mut seen = BTreeSet::new();
        self.ops.iter().find_map(|op| match op.result {
            Ret::Grant(g) if !seen.insert(g.family) => Some(g.family),
            _ => None,
        })
    }

    /// The checker entries of the operations `ops`.
    pub fn entries(&self, ops: &[usize]) -> Vec<Entry<usize>> {
        ops.iter()
            .map(|&index| Entry {
                invoke: self.ops[index].invoke,
                ret: self.ops[index].ret,
                op: index,
            })
            .collect()
    }

    /// Checks the history: family ids unique, and every partition
    /// linearizable. `limit` bounds the configurations explored per partition.
    pub fn check(&self, limit: usize) -> Result<(), Box<NotLinearizable>> {
        if let Some(family) = self.duplicate_family() {
            return Err(Box::new(NotLinearizable {
                reason: format!("family id {family} was handed out twice"),
                partition: None,
                history: self.clone(),
                outside: BTreeSet::new(),
            }));
        }
        let model = AuthModel::new(self);
        for (partition, ops) in self.partitions() {
            let entries = self.entries(&ops);
            let verdict = checker::check(&model, &entries, limit);
            let (reason, longest) = match verdict {
                Verdict::Linearizable(_) => continue,
                Verdict::NotLinearizable { longest_prefix } => {
                    ("not linearizable".to_owned(), Some(longest_prefix))
                }
                Verdict::Inconclusive { limit } => {
                    (format!("inconclusive after {limit} configurations"), None)
                }
            };
            let inside: BTreeSet<usize> = longest
                .unwrap_or_default()
                .into_iter()
                .map(|e| entries[e].op)
                .collect();
            return Err(Box::new(NotLinearizable {
                reason,
                partition,
                outside: ops
                    .iter()
                    .copied()
                    .filter(|i| !inside.contains(i))
                    .collect(),
                history: self.clone(),
            }));
        }
        Ok(())
    }
}

/// A history the checker rejected, with what it found.
#[derive(Clone, Debug)]
pub struct NotLinearizable {
    /// Why: not linearizable, a duplicate family id, or an exhausted budget.
    pub reason: String,
    /// The subject partition that failed (`None`: the whole history).
    pub partition: Option<String>,
    /// The partition's operations outside the longest linearizable prefix found.
    pub outside: BTreeSet<usize>,
    /// The whole history.
    pub history: History,
}

fn describe_call(call: &Call) -> String {
    fn token(t: &Token) -> String {
        format!(
            "{}/{} iat={} exp={} ver={} fam={} roles={:#b}",
            t.subject,
            t.jti.as_deref().unwrap_or("-"),
            t.issued_at,
            t.expires_at,
            t.version.map_or("-".to_owned(), |v| v.to_string()),
            t.family.map_or("-".to_owned(), |f| f.to_string()),
            t.roles.bits()
        )
    }
    match call {
        Call::Check(t) => format!("check({})", token(t)),
        Call::Guard { token: t, required } => {
            format!("guard({}, req={:#b})", token(t), required.bits())
        }
        Call::DropGuard { admission } => format!("drop(guard of op {admission})"),
        Call::IsPassed { revocation } => format!("is_passed(op {revocation})"),
        Call::RevokeToken { jti, expires_at } => format!("revoke_token({jti}, {expires_at})"),
        Call::RevokeSubject(s) => format!("revoke_subject({s})"),
        Call::SetRole(s, r) => format!("set_role({s}, {:#b})", r.bits()),
        Call::RevokeSubjectIssuedBefore(s, t) => format!("revoke_subject_issued_before({s}, {t})"),
        Call::RevokeIssuedBefore(t) => format!("revoke_issued_before({t})"),
        Call::RevokeAll => "revoke_all()".to_owned(),
        Call::IssueFamily(s, t) => format!("issue_family({s}, {t})"),
        Call::ExtendFamily(s, f, t) => format!("extend_family({s}, {f}, {t})"),
        Call::Redeem {
            subject,
            family,
            generation,
            expires_at,
            successor,
        } => format!(
            "redeem({subject}, fam={family} gen={generation} exp={expires_at}, succ={successor})"
        ),
        Call::RevokeFamily(s, f) => format!("revoke_family({s}, {f})"),
        Call::LiveRoles(s) => format!("live_roles({s})"),
        Call::CurrentVersion(s) => format!("current_version({s})"),
    }
}

fn describe_ret(ret: &Ret) -> String {
    match ret {
        Ret::Check(Ok(a)) => format!(
            "Ok(ver={}, roles={:#b})",
            a.subject_version,
            a.live_roles.bits()
        ),
        Ret::Check(Err(e)) | Ret::Guard(Err(e)) => format!("Err({e:?})"),
        Ret::Guard(Ok(())) => "admitted".to_owned(),
        Ret::Unit => "()".to_owned(),
        Ret::Passed(p) => format!("{p}"),
        Ret::Version(v) => format!("{v:?}"),
        Ret::Grant(g) => format!("fam={} gen={}", g.family, g.generation),
        Ret::Redeem(Ok(g)) => format!("Ok(fam={} gen={})", g.family, g.generation),
        Ret::Redeem(Err(k)) => format!("Err({k:?})"),
        Ret::Roles(r) => format!("{:#b}", r.bits()),
        Ret::Current(v) => format!("{v}"),
    }
}

impl fmt::Display for NotLinearizable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partition = match &self.partition {
            Some(s) => format!("partition of subject {s:?}"),
            None => "whole history".to_owned(),
        };
        writeln!(
            f,
            "{}: {} ({} operations)",
            self.reason,
            partition,
            self.history.ops.len()
        )?;
        writeln!(
            f,
            "times in µs since the history's start; `✗` marks the partition's operations \
             outside the longest linearizable prefix found, `·` operations of other partitions"
        )?;
        let threads: BTreeSet<usize> = self.history.ops.iter().map(|op| op.thread).collect();
        let in_partition =
            |i: usize| self.partition.is_none() || self.history.partition_of(i) == self.partition;
        for thread in threads {
            writeln!(f, "thread {thread}:")?;
            writeln!(
                f,
                "  {:>4}   {:>10} {:>10}  {:<70} result",
                "op", "invoke", "return", "call"
            )?;
            for (i, op) in self
                .history
                .ops
                .iter()
                .enumerate()
                .filter(|(_, op)| op.thread == thread)
            {
                let mark = if !in_partition(i) {
                    '·'
                } else if self.outside.contains(&i) {
                    '✗'
                } else {
                    ' '
                };
                let mut line = String::new();
                let _ = write!(
                    line,
                    "{mark} {i:>4}   {:>10.3} {:>10.3}  {:<70} {}",
                    op.invoke as f64 / 1_000.0,
                    op.ret as f64 / 1_000.0,
                    describe_call(&op.call),
                    describe_ret(&op.result)
                );
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for NotLinearizable {}
