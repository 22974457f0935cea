//! Runs a scenario under the checker this build was compiled for, and turns
//! what happened into a [`Run`]: executions explored, wall time, and, when an
//! execution failed, the message, the interleaving and how to replay it.

use crate::report::{Checker, Failure, Run};
use crate::scenarios::Scenario;
use crate::trace;
use authstate::Fault;
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs `check` and captures the first failing execution.
fn capture(
    checker: Checker,
    scenario: &Scenario,
    fault: Option<Fault>,
    replay: String,
    check: impl FnOnce(),
) -> Run {
    trace::reset_executions();
    let started = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(check));
    let seconds = started.elapsed().as_secs_f64();
    let executions = trace::executions();
    let failure = outcome.err().map(|payload| Failure {
        message: panic_message(&*payload),
        executions_to_fail: executions,
        trace: trace::steps(),
        replay,
    });
    Run {
        id: scenario.id,
        name: scenario.name,
        checker,
        fault: fault.map(|f| f.describe()),
        executions,
        seconds,
        failure,
    }
}

/// Where failing schedules and checkpoints are written.
pub fn out_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("AUTHSTATE_VERIFY_OUT").map_or_else(
        || {
            let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest
                .parent()
                .unwrap_or(manifest)
                .join("target")
                .join("verify")
        },
        std::path::PathBuf::from,
    );
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn test_name(scenario: &Scenario, fault: Option<Fault>) -> String {
    let id = scenario.id.to_ascii_lowercase();
    if fault.is_some() {
        format!("negative_{id}")
    } else {
        format!("{id}_holds")
    }
}

/// Explores `scenario` exhaustively with loom (bounded by
/// `LOOM_MAX_PREEMPTIONS` if set).
#[cfg(feature = "loom")]
pub fn loom(scenario: &Scenario, fault: Option<Fault>) -> Run {
    let mut builder = loom::model::Builder::new();
    // Unoptimized builds (a plain `cargo test --workspace --features loom`)
    // explore with at most 2 preemptions unless told otherwise; release
    // builds, which the suite and `cargo verify` use, explore everything.
    if cfg!(debug_assertions)
        && builder.preemption_bound.is_none()
        && std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none()
    {
        builder.preemption_bound = Some(2);
    }
    let body = scenario.run;
    let replay = format!(
        "LOOM_CHECKPOINT_INTERVAL=1 LOOM_CHECKPOINT_FILE={}/{}-loom.json cargo test --release -p model-tests --features loom --test loom -- {} --exact --nocapture  (run twice: the first run records, the second resumes at the failing execution and prints it)",
        out_dir().display(),
        test_name(scenario, fault),
        test_name(scenario, fault),
    );
    capture(Checker::Loom, scenario, fault, replay, move || {
        builder.check(move || {
            trace::begin_execution();
            body(fault, 1);
            trace::conclude();
        });
    })
}

/// The shuttle schedulers.
#[cfg(feature = "shuttle")]
#[derive(Clone, Copy, Debug)]
pub enum Schedule {
    /// Probabilistic concurrency testing with bug depth 3.
    Pct,
    /// Uniformly random scheduling.
    Random,
}

/// Runs `scenario` for `iterations` shuttle executions with `schedule`.
/// A failing schedule is written under [`out_dir`].
#[cfg(feature = "shuttle")]
pub fn shuttle(
    scenario: &Scenario,
    fault: Option<Fault>,
    schedule: Schedule,
    iterations: usize,
    seed: u64,
) -> Run {
    use shuttle::scheduler::{PctScheduler, RandomScheduler};
    let checker = match schedule {
        Schedule::Pct => Checker::ShuttlePct,
        Schedule::Random => Checker::ShuttleRandom,
    };
    // shuttle installs its failure hook once per process, with the
    // persistence settings of the first run, so every run writes into one
    // pool; the schedule a failing run added is then moved to the run's own
    // folder. One shuttle run at a time per process keeps that exact.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pool = out_dir().join("shuttle-schedules");
    let _ = std::fs::create_dir_all(&pool);
    let listing = |dir: &std::path::Path| -> std::collections::BTreeSet<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let before = listing(&pool);
    let dir = out_dir().join(format!(
        "shuttle-{}-{}",
        test_name(scenario, fault),
        checker.name()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let schedule_file = dir.join("schedule.txt");
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::File(Some(pool.clone()));
    let body = scenario.run;
    let replay = format!(
        "cargo run --release -p model-tests --features shuttle --bin replay -- {} {} {}",
        scenario.id,
        if fault.is_some() {
            "--fault"
        } else {
            "--no-fault"
        },
        schedule_file.display()
    );
    let scale = 3;
    let f = move || {
        trace::begin_execution();
        body(fault, scale);
        trace::conclude();
    };
    let run = capture(checker, scenario, fault, replay, move || match schedule {
        Schedule::Pct => {
            shuttle::Runner::new(PctScheduler::new_from_seed(seed, 3, iterations), config).run(f);
        }
        Schedule::Random => {
            shuttle::Runner::new(RandomScheduler::new_from_seed(seed, iterations), config).run(f);
        }
    });
    if run.failure.is_some()
        && let Some(written) = listing(&pool).difference(&before).next()
    {
        let _ = std::fs::rename(written, &schedule_file);
    }
    run
}

/// Replays a schedule written by a failing shuttle run.
#[cfg(feature = "shuttle")]
pub fn shuttle_replay(
    scenario: &Scenario,
    fault: Option<Fault>,
    path: &std::path::Path,
) -> Result<(), String> {
    let body = scenario.run;
    let path = path.to_owned();
    let outcome = panic::catch_unwind(AssertUnwindSafe(move || {
        shuttle::replay_from_file(
            move || {
                trace::begin_execution();
                body(fault, 3);
                trace::conclude();
            },
            path,
        );
    }));
    outcome.map_err(|payload| {
        let mut text = panic_message(&*payload);
        for line in trace::steps() {
            text.push_str("\n  ");
            text.push_str(&line);
        }
        text
    })
}
