//! Guards and the revocation barrier.
//!
//! # The algorithm
//!
//! Every subject shard has a guard table behind a `Mutex`: a slab of the live
//! guards, each stamped with a sequence number from the table's counter, and
//! the waiters to wake when one is released.
//!
//! * **Admission.** A guard is admitted while its admitter holds the read
//!   locks of everything it decided on (the `jti`'s denylist shard, the
//!   subject's shard) and is inserted into its subject's table before those
//!   locks are released.
//! * **Revocation.** A revocation makes its write under the write lock of what
//!   it changes, and, still holding it, reads the counter of every table whose
//!   guards it may affect: the *bound*. Every guard admitted before the write
//!   finished its insertion before the write lock was granted, so it has a
//!   sequence number below the bound; every guard admitted after the write saw
//!   the new state and was refused (I1), or is under a new authority.
//! * **Completion.** The barrier has passed when no live guard with a sequence
//!   number below the bound matches the revoked authority (I2, I3). Guards
//!   admitted later get numbers at or above the bound, so they never delay it:
//!   a steady stream of new guards cannot starve a revoker (I7). Once the
//!   condition holds it holds forever, so shards are waited for one by one.
//!
//! This is SRCU's grace period with a sequence number per reader instead of a
//! pair of counters: precise (only guards under the revoked authority are
//! waited for) and with no grace period waiting for another.
//!
//! Waiting is by blocking ([`Revocation::wait`], on the table's `Condvar`) or
//! by polling [`Revocation`] as a `Future`: wakers are kept in the table and
//! woken, after the mutex is released, when a guard is dropped.

use crate::digest::SubjectKey;
use crate::error::BarrierTimeout;
use crate::facts::{Authorization, FamilyId, Roles};
use crate::state::Inner;
use crate::sync::{self, Arc, Condvar, Mutex};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// What a live guard was admitted under: enough to decide whether a
/// revocation concerns it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GuardEntry {
    pub(crate) seq: u64,
    pub(crate) subject: SubjectKey,
    pub(crate) jti: Option<u64>,
    pub(crate) family: Option<FamilyId>,
    pub(crate) issued_at: i64,
    /// When the token's refresh family began, if it names one: `revoke_all`
    /// ends the families it predates, and with them their guards.
    pub(crate) family_issued_at: Option<i64>,
    pub(crate) has_version: bool,
    /// The roles the admission relied on: those required plus those claimed.
    pub(crate) authority: Roles,
}

/// Which guards a revocation withdraws authority from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Matcher {
    /// Guards of one `jti` digest.
    Token(u64),
    /// All guards of one subject.
    Subject(SubjectKey),
    /// Guards of one subject that rely on a role outside `Roles`.
    SubjectRoles(SubjectKey, Roles),
    /// Guards of one subject's tokens without `ver` issued at or before the cutoff.
    SubjectIssuedBefore(SubjectKey, i64),
    /// Guards of one refresh family.
    Family(FamilyId),
    /// Guards of any token issued, or of any family begun, at or before the
    /// cutoff.
    IssuedBefore(i64),
}

impl Matcher {
    fn matches(self, guard: &GuardEntry) -> bool {
        match self {
            Matcher::Token(jti) => guard.jti == Some(jti),
            Matcher::Subject(subject) => guard.subject == subject,
            Matcher::SubjectRoles(subject, roles) => {
                guard.subject == subject && !guard.authority.is_subset(roles)
            }
            Matcher::SubjectIssuedBefore(subject, cutoff) => {
                guard.subject == subject && !guard.has_version && guard.issued_at <= cutoff
            }
            Matcher::Family(family) => guard.family == Some(family),
            Matcher::IssuedBefore(cutoff) => {
                guard.issued_at <= cutoff || guard.family_issued_at.is_some_and(|t| t <= cutoff)
            }
        }
    }
}

/// One subject shard's live guards.
#[derive(Debug, Default)]
pub(crate) struct GuardTable {
    next_seq: u64,
    slots: Vec<Option<GuardEntry>>,
    free: Vec<u32>,
    wakers: Vec<Waker>,
    sleepers: usize,
}

impl GuardTable {
    /// Inserts a guard; returns its slot.
    pub(crate) fn admit(&mut self, mut entry: GuardEntry) -> u32 {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = Some(entry);
            slot
        } else {
            self.slots.push(Some(entry));
            // A table holds at most one slot per concurrently live guard; four
            // billion live guards in one shard is not a state we can reach.
            u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
        }
    }

    /// The bound a revocation captures: guards admitted so far are below it.
    pub(crate) fn bound(&self) -> u64 {
        self.next_seq
    }

    /// How many live guards below `bound` match `matcher`.
    fn pending(&self, bound: u64, matcher: Matcher) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|g| g.seq < bound && matcher.matches(g))
            .count()
    }

    fn release(&mut self, slot: u32) -> (Vec<Waker>, bool) {
        if let Some(entry) = self.slots.get_mut(slot as usize)
            && entry.take().is_some()
        {
            self.free.push(slot);
        }
        (std::mem::take(&mut self.wakers), self.sleepers > 0)
    }
}

/// A subject shard's guard table and the condition variable its blocking
/// waiters sleep on.
#[derive(Debug)]
pub(crate) struct Guards {
    pub(crate) table: Mutex<GuardTable>,
    released: Condvar,
}

impl Default for Guards {
    fn default() -> Self {
        Self {
            table: Mutex::new(GuardTable::default()),
            released: Condvar::new(),
        }
    }
}

/// Admission to one sensitive action, held for as long as the action runs.
///
/// While a guard is live, a revocation of the authority it was admitted under
/// does not complete; dropping it lets the revocation's barrier pass. A guard
/// is `Send` and `'static`, so it can be held across `.await`.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::{AuthState, Roles, TokenFacts, UnixTime};
/// let state = AuthState::new();
/// let now = state.now();
/// let facts = TokenFacts {
///     subject: "alice",
///     jti: Some("t1"),
///     issued_at: now,
///     expires_at: now.saturating_add_secs(300),
///     version: None,
///     family: None,
///     roles: Roles::EMPTY,
/// };
/// let guard = state.guard(&facts, Roles::EMPTY).unwrap();
/// let revocation = state.revoke_token("t1", facts.expires_at);
/// assert!(!revocation.is_passed()); // the guard is still live
/// drop(guard);
/// revocation.wait();
/// # });
/// ```
#[must_use = "a guard admits the action only while it is held"]
pub struct Guard {
    pub(crate) registration: Option<Registration>,
    pub(crate) authorization: Authorization,
}

impl Guard {
    /// What the admission decided on: the subject's version and live roles
    /// at the moment the guard was admitted.
    pub fn authorization(&self) -> Authorization {
        self.authorization
    }
}

pub(crate) struct Registration {
    pub(crate) inner: Arc<Inner>,
    pub(crate) shard: usize,
    pub(crate) slot: u32,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("shard", &self.registration.as_ref().map(|r| r.shard))
            .finish_non_exhaustive()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(reg) = self.registration.take() else {
            return;
        };
        let guards = reg.inner.guards(reg.shard);
        let (wakers, sleepers) = guards.table.lock().release(reg.slot);
        // Woken after the table's mutex is released: no foreign code runs
        // under the crate's locks.
        if sleepers {
            guards.released.notify_all();
        }
        for waker in wakers {
            waker.wake();
        }
    }
}

/// Which tables a barrier waits on, with the bound captured in each.
#[derive(Debug)]
pub(crate) enum Scope {
    /// Nothing to wait for (for example, a role upgrade).
    Nothing,
    /// One subject shard.
    Shard { shard: usize, bound: u64 },
    /// Every shard, with one bound each.
    All(Box<[u64]>),
}

impl Scope {
    fn len(&self) -> usize {
        match self {
            Scope::Nothing => 0,
            Scope::Shard { .. } => 1,
            Scope::All(bounds) => bounds.len(),
        }
    }

    fn get(&self, i: usize) -> (usize, u64) {
        match self {
            Scope::Nothing => (0, 0),
            Scope::Shard { shard, bound } => (*shard, *bound),
            Scope::All(bounds) => (i, bounds[i]),
        }
    }
}

/// The handle a revocation returns: its result, and its barrier.
///
/// The state change took effect before the handle was returned (I1). The
/// barrier *passes* once every guard admitted under the withdrawn authority
/// before the change has been dropped (I2, I3); guards admitted later never
/// delay it (I7). Observe it by blocking ([`Revocation::wait`],
/// [`Revocation::wait_timeout`]), by polling ([`Revocation::is_passed`]), or
/// by `.await`ing the handle (through [`IntoFuture`]), which works on any
/// executor.
///
/// ```
/// # authstate::sync::doc_example(|| {
/// use authstate::AuthState;
/// let state = AuthState::new();
/// let version = state.revoke_subject("bob").unwrap().wait();
/// assert_eq!(version.0, 1);
/// # });
/// ```
#[must_use = "dropping a revocation's handle is fine, but then nothing waits for its barrier"]
pub struct Revocation<T: Copy = ()> {
    value: T,
    inner: Arc<Inner>,
    matcher: Matcher,
    scope: Scope,
    /// Scope entries already seen passed (the condition is stable).
    passed: usize,
}

impl<T: Copy> fmt::Debug for Revocation<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocation")
            .field("matcher", &self.matcher)
            .field("scope", &self.scope)
            .field("passed", &self.passed)
            .finish_non_exhaustive()
    }
}

impl<T: Copy> Revocation<T> {
    pub(crate) fn new(value: T, inner: Arc<Inner>, matcher: Matcher, scope: Scope) -> Self {
        Self {
            value,
            inner,
            matcher,
            scope,
            passed: 0,
        }
    }

    /// The revocation's result (for example the subject's new version).
    pub fn value(&self) -> T {
        self.value
    }

    /// The bound to compare guards with in scope entry `i`. A barrier that
    /// waits for the wrong generation (the `BarrierWrongGeneration` fault)
    /// compares with the table's current counter, so it waits for guards
    /// admitted after the write as well.
    fn bound(&self, table: &GuardTable, captured: u64) -> u64 {
        if self.inner.fault(crate::Fault::BarrierWrongGeneration) {
            table.bound()
        } else {
            captured
        }
    }

    fn pending_in(&self, i: usize) -> usize {
        let (shard, bound) = self.scope.get(i);
        let table = self.inner.guards(shard).table.lock();
        table.pending(self.bound(&table, bound), self.matcher)
    }

    /// How many guards under the withdrawn authority are still live.
    pub fn live_guards(&self) -> usize {
        (self.passed..self.scope.len())
            .map(|i| self.pending_in(i))
            .sum()
    }

    /// Whether the barrier has passed.
    pub fn is_passed(&self) -> bool {
        (self.passed..self.scope.len()).all(|i| self.pending_in(i) == 0)
    }

    /// Blocks until the barrier has passed and returns the result.
    pub fn wait(mut self) -> T {
        for i in self.passed..self.scope.len() {
            let (shard, bound) = self.scope.get(i);
            let guards = self.inner.guards(shard);
            let mut table = guards.table.lock();
            while table.pending(self.bound(&table, bound), self.matcher) > 0 {
                table.sleepers += 1;
                table = guards.released.wait(table);
                table.sleepers -= 1;
            }
        }
        self.passed = self.scope.len();
        self.value
    }

    /// Blocks until the barrier has passed or `timeout` has elapsed; on
    /// timeout, reports how many guards are still live. The handle stays
    /// usable either way.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<(), BarrierTimeout> {
        let deadline = sync::deadline_after(timeout);
        while self.passed < self.scope.len() {
            let (shard, bound) = self.scope.get(self.passed);
            let guards = self.inner.guards(shard);
            let mut table = guards.table.lock();
            while table.pending(self.bound(&table, bound), self.matcher) > 0 {
                let left = deadline.map_or(timeout, |d| {
                    d.saturating_duration_since(std::time::Instant::now())
                });
                if left.is_zero() {
                    drop(table);
                    return Err(BarrierTimeout {
                        live_guards: self.live_guards(),
                    });
                }
                table.sleepers += 1;
                table = guards.released.wait_timeout(table, left);
                table.sleepers -= 1;
            }
            self.passed += 1;
        }
        Ok(())
    }
}

/// The future of a [`Revocation`]'s barrier, from `.await` or
/// [`IntoFuture::into_future`]: ready with the revocation's value once the
/// barrier has passed. It needs no particular runtime: guards wake it when
/// they are dropped.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Completion<T: Copy = ()>(Revocation<T>);

impl<T: Copy + Unpin> IntoFuture for Revocation<T> {
    type Output = T;
    type IntoFuture = Completion<T>;

    fn into_future(self) -> Completion<T> {
        Completion(self)
    }
}

impl<T: Copy + Unpin> Future for Completion<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut self.0;
        // Cloned (and, if unused, dropped) outside the table's mutex: a
        // waker's clone and drop are the executor's code.
        let mut waker = Some(cx.waker().clone());
        while this.passed < this.scope.len() {
            let (shard, bound) = this.scope.get(this.passed);
            let mut table = this.inner.guards(shard).table.lock();
            if table.pending(this.bound(&table, bound), this.matcher) > 0 {
                if !table.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    table.wakers.extend(waker.take());
                }
                drop(table);
                return Poll::Pending;
            }
            drop(table);
            this.passed += 1;
        }
        Poll::Ready(this.value)
    }
}
