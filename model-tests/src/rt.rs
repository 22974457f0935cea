//! The model checker's primitives, for the scenarios' own threads and flags.
//! Like the core's facade, this is the only module of the crate that names
//! loom or shuttle for them.

#[cfg(feature = "loom")]
mod imp {
    pub use loom::future::block_on;
    pub use loom::sync::atomic::{AtomicBool, AtomicUsize};
    pub use loom::sync::{Arc, Condvar, Mutex};
    pub use loom::thread::{JoinHandle, spawn, yield_now};
}

#[cfg(feature = "shuttle")]
mod imp {
    pub use shuttle::future::block_on;
    pub use shuttle::sync::atomic::{AtomicBool, AtomicUsize};
    pub use shuttle::sync::{Condvar, Mutex};
    pub use shuttle::thread::{JoinHandle, spawn, yield_now};
    pub use std::sync::Arc;
}

pub use imp::*;
pub use std::sync::atomic::Ordering;

/// A one-shot event: `set` once, `wait` until set. Built from the checker's
/// mutex and condition variable, so a wait that can never end is reported
/// by the checker as a deadlock.
#[derive(Debug, Default)]
pub struct Event {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Event {
    /// A new, unset event.
    pub fn new() -> Self {
        Self {
            set: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    /// Sets the event and wakes its waiters.
    pub fn set(&self) {
        *self.set.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Waits until the event is set.
    pub fn wait(&self) {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        while !*set {
            set = self.cv.wait(set).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Joins a model thread, re-raising its panic so the checker sees it.
pub fn join<T>(handle: JoinHandle<T>) -> T {
    match handle.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// An async task: a shuttle task under shuttle; under loom, which has no
/// task executor, a thread that runs the future with `block_on`.
#[derive(Debug)]
pub struct Task(
    #[cfg(feature = "shuttle")] shuttle::future::JoinHandle<()>,
    #[cfg(feature = "loom")] JoinHandle<()>,
);

/// Spawns `future` as a [`Task`].
pub fn spawn_task(future: impl std::future::Future<Output = ()> + Send + 'static) -> Task {
    #[cfg(feature = "shuttle")]
    {
        Task(shuttle::future::spawn(future))
    }
    #[cfg(feature = "loom")]
    {
        Task(spawn(move || block_on(future)))
    }
}

/// Waits for a [`Task`], re-raising its panic.
pub fn join_task(task: Task) {
    #[cfg(feature = "shuttle")]
    if let Err(e) = block_on(task.0) {
        panic!("task failed: {e:?}");
    }
    #[cfg(feature = "loom")]
    join(task.0);
}

/// Yields once to the executor: pending on the first poll, after waking
/// itself, so the scheduler may run something else in between.
pub async fn yield_task() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}
