//! The loom suite: every invariant holds under exhaustive exploration, and
//! every negative control is caught.
//!
//! Run: `cargo test --release -p model-tests --features loom --test loom`.
//! One model with bounded preemptions:
//! `LOOM_MAX_PREEMPTIONS=3 cargo test --release -p model-tests --features loom --test loom -- i2_holds --exact`.
#![cfg(feature = "loom")]

use model_tests::runner;
use model_tests::scenarios;

macro_rules! loom_models {
    ($($id:literal => $holds:ident, $negative:ident;)*) => {$(
        #[test]
        fn $holds() {
            let scenario = scenarios::by_id($id).expect("scenario exists");
            let run = runner::loom(&scenario, None);
            assert!(run.failure.is_none(), "invariant violated: {}", run.explain());
        }

        #[test]
        fn $negative() {
            let scenario = scenarios::by_id($id).expect("scenario exists");
            let run = runner::loom(&scenario, Some(scenario.fault));
            // The counterexample, for `--nocapture` and the replay command.
            eprintln!("{}", run.explain());
            assert!(run.failure.is_some(), "loom missed the fault '{}': {}", scenario.fault.describe(), run.explain());
        }
    )*};
}

loom_models! {
    "I1" => i1_holds, negative_i1;
    "I2" => i2_holds, negative_i2;
    "I3" => i3_holds, negative_i3;
    "I4" => i4_holds, negative_i4;
    "I5" => i5_holds, negative_i5;
    "I6" => i6_holds, negative_i6;
    "I7" => i7_holds, negative_i7;
    "I8" => i8_holds, negative_i8;
}
