//! loom and shuttle models of `authstate`'s invariants (`INVARIANTS.md`),
//! their negative controls, and the `cargo verify` report.
//!
//! * [`scenarios`]: one model per invariant, shared by both checkers;
//! * [`runner`]: runs a scenario under loom or shuttle and captures a failing
//!   execution's interleaving ([`trace`]) and replay command;
//! * [`report`]: the report's rows and their JSON form.
//!
//! Build with `--features loom` or `--features shuttle` (not both): the
//! feature switches the core's primitives too. `tests/loom.rs` and
//! `tests/shuttle.rs` assert that every invariant holds and that every
//! negative control is caught; `src/bin/verify.rs` is `cargo verify`.

pub mod report;

#[cfg(any(feature = "loom", feature = "shuttle"))]
pub mod rt;
#[cfg(any(feature = "loom", feature = "shuttle"))]
pub mod runner;
#[cfg(any(feature = "loom", feature = "shuttle"))]
pub mod scenarios;
#[cfg(any(feature = "loom", feature = "shuttle"))]
pub mod trace;

/// Iterations per shuttle scenario in the full run (and in CI).
pub const SHUTTLE_ITERATIONS: usize = 10_000;
/// Iterations per shuttle scenario in `cargo verify -- --quick`.
pub const SHUTTLE_ITERATIONS_QUICK: usize = 1_000;
/// The most shuttle executions a negative control may need to be caught.
pub const SHUTTLE_CATCH_BUDGET: usize = 10_000;
/// The seed of every shuttle run, so a report is reproducible.
pub const SHUTTLE_SEED: u64 = 0x5eed_a075_7a7e;
