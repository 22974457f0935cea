//! Linearizability of a real [`authstate::AuthState`] under concurrency.
//!
//! Workers (OS threads, or tasks on a multi-threaded tokio runtime) run
//! random operation mixes on one state; every operation is recorded with its
//! invocation and return [`std::time::Instant`]. The history is then checked
//! against the sequential [`crate::spec::Spec`]: is there one order of the
//! operations, consistent with real time, in which the spec produces every
//! observed result? Every operation, `check` and `guard` included, is one
//! atomic step of the spec.
//!
//! * [`checker`]: the search, a memoized Wing-Gong search over (operations
//!   linearized, spec state), generic over the [`checker::Model`]; tested on
//!   hand-written histories.
//! * [`history`]: the recorded operations, the model that replays them on the
//!   spec, partitioning by subject, and the report of a failure: a table per
//!   thread of each operation's invocation and return time (µs) and result.
//! * [`workload`]: the operation mixes ([`Profile`]) and the drivers.
//!
//! Histories are split by subject when every operation belongs to one
//! subject ([`History::partitions`]); each `jti` is minted for one subject
//! only, so that `revoke_token` partitions too. The operations that span
//! subjects (`revoke_all`, `revoke_issued_before`) run in their own,
//! unpartitioned profile ([`Profile::Global`]).
//!
//! The clock is a `ManualClock` stopped at [`T0`] during concurrent runs, and
//! the sweep is not run concurrently: the sweep is incremental by design (one
//! lock per chunk and shard), not one atomic step, and its race with the
//! clock is covered by the state-machine test and the loom and shuttle
//! models. `revoke_family` is always called by the family's owner (see
//! [`crate::state_machine::COMPARE_FOREIGN_FAMILY_BARRIERS`]).
//!
//! To make races likely on few cores, every other OS-thread history runs in
//! *lockstep*: two workers (one per core) spin on a barrier before each
//! operation and draw the same kind of operation, so that two
//! `revoke_subject`s, two redemptions of one refresh token, or two cutoff
//! raises really start together.
//!
//! # Scaling
//!
//! The environment variable `AUTHSTATE_LIN_HISTORIES` sets how many histories
//! each clean run records and checks, per runtime (default in
//! `tests/linearizability.rs`); `AUTHSTATE_LIN_SEED` fixes the seed of the
//! random choices (the interleavings stay the scheduler's).
//!
//! # What it catches, and what it cannot
//!
//! Measured by the teeth tests in `tests/linearizability.rs`:
//!
//! * `VersionLoadThenStore` (I4): two concurrent `revoke_subject`s return the
//!   same version ([`Profile::Versions`], which has no refresh families, so
//!   that the fault path's missing family revocation cannot give it away).
//! * `RedeemCheckThenMark` (I6): two concurrent redemptions of one refresh
//!   token both rotate ([`Profile::Refresh`]).
//! * `CutoffReadModifyWrite` (I8), through the subject cutoff: a concurrent
//!   lower raise overwrites a higher one, and a later check accepts a token
//!   the higher cutoff refused ([`Profile::Cutoffs`]; the rarest catch, tens
//!   to a few hundred histories).
//! * `LaggingDenylist` (I1), `RoleFromToken` (I3): visible in any history,
//!   sequential or not.
//! * `UnregisteredGuard` (I2), `BarrierWrongGeneration` (I7): through the
//!   recorded `is_passed` of revocation handles while guards come and go.
//!
//! It cannot reveal `ClockBeforeLookup` (I5): that needs a clock advance and
//! a complete sweep between two adjacent reads inside one check (a window of
//! nanoseconds), and the clock is stopped here so that checks are
//! comparable. The global-cutoff half of `CutoffReadModifyWrite` is a window
//! of nanoseconds between an atomic load and store, hit only by chance; the
//! subject-cutoff half (a read lock, then a write lock) is what gets caught.

pub mod checker;
pub mod history;
pub mod workload;

pub use history::{Call, History, NotLinearizable, Recorded, Ret};
pub use workload::{
    LinFailure, LinStats, Profile, Runtime, T0, Workload, record, run_linearizability,
};
