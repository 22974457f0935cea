//! The interleaving of one execution, as the scenarios saw it.
//!
//! Each step is recorded in a plain `std` thread-local, which the checkers do
//! not instrument: recording adds no scheduling points, so it does not grow
//! the space the checkers explore. Both checkers run all model threads of an
//! execution on the calling OS thread, one at a time, so the order of the
//! recorded steps is the order in which they ran.

use std::cell::{Cell, RefCell};
use std::fmt::{Debug, Display};

thread_local! {
    static STEPS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static EXECUTIONS: Cell<usize> = const { Cell::new(0) };
    static VIOLATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Starts a new execution: clears the steps and counts it.
pub fn begin_execution() {
    STEPS.with(|s| s.borrow_mut().clear());
    VIOLATION.with(|v| v.borrow_mut().take());
    EXECUTIONS.with(|e| e.set(e.get() + 1));
}

/// Resets the execution counter before a run.
pub fn reset_executions() {
    EXECUTIONS.with(|e| e.set(0));
}

/// How many executions have begun since the last reset.
pub fn executions() -> usize {
    EXECUTIONS.with(Cell::get)
}

/// Records one step: which thread, what it did, what it observed.
pub fn step(thread: &str, operation: impl Display, observed: impl Debug) {
    STEPS.with(|s| {
        s.borrow_mut()
            .push(format!("{thread:<4} {operation:<44} -> {observed:?}"))
    });
}

/// The current execution's steps, one line each.
pub fn steps() -> Vec<String> {
    STEPS.with(|s| s.borrow().clone())
}

/// Records the execution's first violation. The execution goes on to join
/// its threads: a panic while other model threads still hold the checker's
/// primitives would abort loom's cleanup instead of reporting.
pub fn violation(message: String) {
    step("!!", "invariant violated", &message);
    VIOLATION.with(|v| {
        v.borrow_mut().get_or_insert(message);
    });
}

/// Ends the execution: fails it if a violation was recorded.
pub fn conclude() {
    if let Some(message) = VIOLATION.with(|v| v.borrow_mut().take()) {
        panic!("invariant violated: {message}");
    }
}

/// Records a violation with `message` if `condition` does not hold.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            $crate::trace::violation(format!($($message)+));
        }
    };
}
