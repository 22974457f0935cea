//! The shuttle suite: every invariant holds for `SHUTTLE_ITERATIONS`
//! executions under PCT (depth 3) and under the random scheduler, and every
//! negative control is caught by PCT within `SHUTTLE_CATCH_BUDGET`
//! executions.
//!
//! Run: `cargo test --release -p model-tests --features shuttle --test shuttle`.
#![cfg(feature = "shuttle")]

use model_tests::runner::{self, Schedule};
use model_tests::{SHUTTLE_CATCH_BUDGET, SHUTTLE_ITERATIONS, SHUTTLE_SEED, scenarios};

macro_rules! shuttle_models {
    ($($id:literal => $pct:ident, $random:ident, $negative:ident;)*) => {$(
        #[test]
        fn $pct() {
            let scenario = scenarios::by_id($id).expect("scenario exists");
            let run = runner::shuttle(&scenario, None, Schedule::Pct, SHUTTLE_ITERATIONS, SHUTTLE_SEED);
            assert!(run.failure.is_none(), "invariant violated: {}", run.explain());
            assert_eq!(run.executions, SHUTTLE_ITERATIONS);
        }

        #[test]
        fn $random() {
            let scenario = scenarios::by_id($id).expect("scenario exists");
            let run = runner::shuttle(&scenario, None, Schedule::Random, SHUTTLE_ITERATIONS, SHUTTLE_SEED);
            assert!(run.failure.is_none(), "invariant violated: {}", run.explain());
            assert_eq!(run.executions, SHUTTLE_ITERATIONS);
        }

        #[test]
        fn $negative() {
            let scenario = scenarios::by_id($id).expect("scenario exists");
            let run = runner::shuttle(&scenario, Some(scenario.fault), Schedule::Pct, SHUTTLE_CATCH_BUDGET, SHUTTLE_SEED);
            eprintln!("{}", run.explain());
            assert!(run.failure.is_some(), "shuttle PCT missed the fault '{}' in {} executions", scenario.fault.describe(), run.executions);
        }
    )*};
}

shuttle_models! {
    "I1" => i1_holds_pct, i1_holds_random, negative_i1;
    "I2" => i2_holds_pct, i2_holds_random, negative_i2;
    "I3" => i3_holds_pct, i3_holds_random, negative_i3;
    "I4" => i4_holds_pct, i4_holds_random, negative_i4;
    "I5" => i5_holds_pct, i5_holds_random, negative_i5;
    "I6" => i6_holds_pct, i6_holds_random, negative_i6;
    "I7" => i7_holds_pct, i7_holds_random, negative_i7;
    "I8" => i8_holds_pct, i8_holds_random, negative_i8;
}
