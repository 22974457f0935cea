//! Runs every model and negative control under the checker this binary was
//! built for and prints one JSON object per run on stdout. `cargo verify`
//! builds and runs it once per checker; see `verify.rs`.

#[cfg(any(feature = "loom", feature = "shuttle"))]
fn main() {
    use model_tests::scenarios::ALL;
    let quick = std::env::args().any(|a| a == "--quick");
    // The negative controls fail on purpose; their panics are captured and
    // reported, not printed.
    std::panic::set_hook(Box::new(|_| {}));
    let emit = |run: model_tests::report::Run| {
        eprintln!(
            "  {:<3} {:<22} {:<15} {:>8} executions {:>8.2}s {}",
            run.id,
            run.fault.map_or("invariant", |_| "negative control"),
            run.checker.name(),
            run.executions,
            run.seconds,
            if run.as_expected() {
                "ok"
            } else {
                "UNEXPECTED"
            }
        );
        println!("{}", run.to_json());
    };
    for scenario in ALL {
        #[cfg(feature = "loom")]
        {
            let _ = quick;
            emit(model_tests::runner::loom(&scenario, None));
            emit(model_tests::runner::loom(&scenario, Some(scenario.fault)));
        }
        #[cfg(feature = "shuttle")]
        {
            use model_tests::runner::{Schedule, shuttle};
            use model_tests::{
                SHUTTLE_CATCH_BUDGET, SHUTTLE_ITERATIONS, SHUTTLE_ITERATIONS_QUICK, SHUTTLE_SEED,
            };
            let iterations = if quick {
                SHUTTLE_ITERATIONS_QUICK
            } else {
                SHUTTLE_ITERATIONS
            };
            for schedule in [Schedule::Pct, Schedule::Random] {
                emit(shuttle(&scenario, None, schedule, iterations, SHUTTLE_SEED));
                emit(shuttle(
                    &scenario,
                    Some(scenario.fault),
                    schedule,
                    SHUTTLE_CATCH_BUDGET,
                    SHUTTLE_SEED,
                ));
            }
        }
    }
}

#[cfg(not(any(feature = "loom", feature = "shuttle")))]
fn main() {
    eprintln!(
        "verify-worker must be built with --features loom or --features shuttle; run `cargo verify` instead"
    );
    std::process::exit(2);
}
