//! State-machine property tests: random operation sequences on a real
//! `AuthState` and on the executable spec, every result compared (see
//! `proptests::state_machine`).
//!
//! `PROPTEST_CASES` sets the number of cases (default 4096 in release
//! builds, 1024 in debug builds). A failure is shrunk to a minimal sequence
//! and its seed persisted in `proptests/proptest-regressions/state_machine.txt`,
//! which is replayed first on every later run.

use authstate::Fault;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use proptests::state_machine::{MAX_OPS, case_strategy, check_case, run_state_machine};
use proptests::{env_count, skip_under_model_checker};

/// 4096 cases in release builds, 1024 in debug builds (the workspace's
/// plain `cargo test`).
fn default_cases() -> usize {
    if cfg!(debug_assertions) { 1_024 } else { 4_096 }
}

/// Cases for each teeth run: far more than any of the caught faults needs.
const TEETH_CASES: u32 = 2_000;

#[test]
fn real_state_matches_the_spec() {
    if skip_under_model_checker("real_state_matches_the_spec") {
        return;
    }
    let config = Config {
        cases: u32::try_from(env_count("PROPTEST_CASES", default_cases())).unwrap_or(u32::MAX),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/state_machine.txt",
        ))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case_strategy(MAX_OPS), |case| {
        check_case(None, &case).map_err(TestCaseError::fail)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn clean_programmatic_run_passes() {
    if skip_under_model_checker("clean_programmatic_run_passes") {
        return;
    }
    if let Err(failure) = run_state_machine(None, TEETH_CASES) {
        panic!("{failure}");
    }
}

/// The faults a single-threaded history reveals: each must make the
/// state-machine test fail.
#[test]
fn teeth_sequential_faults_are_caught() {
    if skip_under_model_checker("teeth_sequential_faults_are_caught") {
        return;
    }
    for fault in [
        Fault::LaggingDenylist,
        Fault::RoleFromToken,
        Fault::UnregisteredGuard,
        Fault::BarrierWrongGeneration,
    ] {
        match run_state_machine(Some(fault), TEETH_CASES) {
            Ok(()) => panic!("the state machine missed {fault:?} ({})", fault.describe()),
            Err(failure) => eprintln!("{fault:?} caught:\n{failure}\n"),
        }
    }
}

/// The race faults behave like the correct code when nothing interleaves;
/// the state-machine test must not fail on them (they are the
/// linearizability checker's and the model checkers' job).
#[test]
fn teeth_race_faults_are_out_of_sequential_reach() {
    if skip_under_model_checker("teeth_race_faults_are_out_of_sequential_reach") {
        return;
    }
    // Sequentially, the load-then-store version bump is the correct bump:
    // only a concurrent history can tell them apart.
    for fault in [
        Fault::RedeemCheckThenMark,
        Fault::CutoffReadModifyWrite,
        Fault::ClockBeforeLookup,
        Fault::VersionLoadThenStore,
    ] {
        if let Err(failure) = run_state_machine(Some(fault), 500) {
            panic!("{fault:?} changed single-threaded behaviour:\n{failure}");
        }
    }
}
