//! The one place that knows which synchronization primitives are real.
//!
//! Every other module imports `crate::sync::...` and never names `std::sync`,
//! `loom` or `shuttle` itself. Three back ends:
//!
//! * default: `std::sync` (futex-based `Mutex`/`RwLock`/`Condvar` on Linux);
//! * feature `loom`: loom's instrumented primitives, explored exhaustively;
//! * feature `shuttle`: shuttle's instrumented primitives, explored randomly.
//!
//! The wrappers below hide the one difference that matters to callers, lock
//! poisoning. The only foreign code that runs while one of the crate's locks
//! is held is [`crate::Clock::now`] (whose contract is to return promptly);
//! wakers are cloned and woken outside the locks. Every critical section
//! leaves the state consistent at each statement, so a poisoned lock carries
//! no broken invariant and is simply recovered.
//!
//! The mocked back ends also pin the crate's other nondeterminism: the digest
//! key and the first refresh-family id are fixed, so a failing schedule replays
//! to the same values.

#[cfg(all(feature = "loom", feature = "shuttle"))]
compile_error!("features `loom` and `shuttle` are mutually exclusive: enable at most one");

#[cfg(feature = "loom")]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicI64, AtomicU64};
    pub(crate) use loom::sync::{
        Arc, Condvar, Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard,
        RwLockWriteGuard,
    };
    pub(crate) const CHECKER: Option<&str> = Some("loom");
}

#[cfg(feature = "shuttle")]
mod imp {
    pub(crate) use shuttle::sync::atomic::{AtomicI64, AtomicU64};
    pub(crate) use shuttle::sync::{
        Condvar, Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard,
        RwLockWriteGuard,
    };
    // shuttle instruments the operations that synchronize, not reference counts:
    // its documentation asks for `std::sync::Arc`.
    pub(crate) use std::sync::Arc;
    pub(crate) const CHECKER: Option<&str> = Some("shuttle");
}

#[cfg(not(any(feature = "loom", feature = "shuttle")))]
mod imp {
    pub(crate) use std::sync::atomic::{AtomicI64, AtomicU64};
    pub(crate) use std::sync::{
        Arc, Condvar, Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard,
        RwLockWriteGuard,
    };
    pub(crate) const CHECKER: Option<&str> = None;
}

pub(crate) use imp::{Arc, AtomicI64, AtomicU64, MutexGuard, RwLockReadGuard, RwLockWriteGuard};
pub(crate) use std::sync::atomic::Ordering;

/// The model checker this build's primitives belong to: `None` in normal
/// builds, `Some("loom")` or `Some("shuttle")` when the matching feature is on.
///
/// Primitives of a model checker only work inside that checker's model.
/// Crates that depend on `authstate` and run ordinary tests can consult this
/// constant when cargo's feature unification has switched the core under them
/// (for example `cargo test --workspace --features loom`).
pub const MODEL_CHECKER: Option<&str> = imp::CHECKER;

/// A mutex whose `lock` never reports poisoning (see the module docs).
#[derive(Debug)]
pub(crate) struct Mutex<T>(imp::RawMutex<T>);

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(imp::RawMutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A reader-writer lock whose guards never report poisoning.
#[derive(Debug)]
pub(crate) struct RwLock<T>(imp::RawRwLock<T>);

impl<T> RwLock<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(imp::RawRwLock::new(value))
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A condition variable paired with [`Mutex`].
#[derive(Debug)]
pub(crate) struct Condvar(imp::Condvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Self(imp::Condvar::new())
    }

    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits at most `timeout`. loom does not model time: under loom this
    /// waits for a notification like [`Condvar::wait`].
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: std::time::Duration,
    ) -> MutexGuard<'a, T> {
        match self.0.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

/// Keys for the keyed digests. Random per [`crate::AuthState`] in normal
/// builds (drawn from std's per-process hash seed), fixed under a model checker
/// so that a replayed schedule sees the same digests.
pub(crate) fn digest_keys() -> [u64; 4] {
    #[cfg(any(feature = "loom", feature = "shuttle"))]
    {
        [
            0x0706_0504_0302_0100,
            0x0f0e_0d0c_0b0a_0908,
            0x1716_1514_1312_1110,
            0x1f1e_1d1c_1b1a_1918,
        ]
    }
    #[cfg(not(any(feature = "loom", feature = "shuttle")))]
    {
        use std::hash::{BuildHasher, Hasher};
        let state = std::collections::hash_map::RandomState::new();
        let mut keys = [0u64; 4];
        for (i, key) in keys.iter_mut().enumerate() {
            let mut hasher = state.build_hasher();
            hasher.write_usize(i);
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            *key = hasher.finish();
        }
        keys
    }
}

/// The deadline of a timed wait. Under loom, whose condition variables do not
/// time out, the deadline only bounds the loop that re-checks it.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(timeout)
}

/// Runs a documentation example: directly in normal builds, inside a
/// one-thread model when a checker's primitives are compiled in (they work
/// only inside a model), so the examples pass under every feature set.
#[doc(hidden)]
pub fn doc_example(example: impl Fn() + Send + Sync + 'static) {
    #[cfg(feature = "loom")]
    loom::model(example);
    #[cfg(feature = "shuttle")]
    shuttle::check_random(example, 1);
    #[cfg(not(any(feature = "loom", feature = "shuttle")))]
    example();
}
