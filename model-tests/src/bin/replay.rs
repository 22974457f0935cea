//! Replays a failing shuttle schedule written by `cargo verify` or the
//! shuttle suite, and prints the failing execution's interleaving.
//!
//! `cargo run --release -p model-tests --features shuttle --bin replay -- I4 --fault target/verify/shuttle-negative_i4-shuttle-pct/schedule.txt`

#[cfg(feature = "shuttle")]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [id, mode, path] = args.as_slice() else {
        eprintln!("usage: replay <I1..I8> --fault|--no-fault <schedule file>");
        std::process::exit(2);
    };
    let Some(scenario) = model_tests::scenarios::by_id(id) else {
        eprintln!("unknown invariant {id}: expected I1..I8");
        std::process::exit(2);
    };
    let fault = (mode == "--fault").then_some(scenario.fault);
    std::panic::set_hook(Box::new(|_| {}));
    match model_tests::runner::shuttle_replay(&scenario, fault, std::path::Path::new(path)) {
        Ok(()) => println!("{id}: the schedule ran to completion without a violation"),
        Err(trace) => {
            println!("{id}: {trace}");
            std::process::exit(1);
        }
    }
}

#[cfg(not(feature = "shuttle"))]
fn main() {
    eprintln!("replay needs --features shuttle");
    std::process::exit(2);
}
