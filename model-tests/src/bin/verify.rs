//! `cargo verify`: the verification report.
//!
//! Builds and runs `verify-worker` once under loom and once under shuttle
//! (the two checkers replace the core's primitives, so they cannot share one
//! build), then prints, for every invariant and checker, the executions
//! explored, the wall time and the verdict; and for every negative control,
//! whether it was caught, after how many executions, the counterexample's
//! interleaving and the command that replays it.
//!
//! `cargo verify [--quick] [--json PATH]` (also accepted after `--`)

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Instant;

struct Options {
    quick: bool,
    json: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo verify -- --quick` reaches here with the separator.
            "--" => {}
            "--quick" => options.quick = true,
            "--json" => options.json = Some(args.next().ok_or("--json needs a path")?),
            "--help" | "-h" => {
                return Err("usage: cargo verify [-- --quick] [-- --json PATH]".to_owned());
            }
            other => return Err(format!("unknown argument {other}; try --help")),
        }
    }
    Ok(options)
}

fn run_worker(feature: &str, quick: bool) -> Result<Vec<Value>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("== {feature}: building and running the models");
    let mut command = Command::new(cargo);
    command.args([
        "run",
        "--release",
        "--locked",
        "--quiet",
        "-p",
        "model-tests",
        "--features",
        feature,
        "--bin",
        "verify-worker",
        "--",
    ]);
    if quick {
        command.arg("--quick");
        // The quick report bounds loom's preemptions (unless the caller chose
        // a bound); the full report explores every interleaving.
        if feature == "loom" && std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
            command.env("LOOM_MAX_PREEMPTIONS", "2");
        }
    }
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("the {feature} worker failed ({})", output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad worker output {l}: {e}")))
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut runs = Vec::new();
    for feature in ["loom", "shuttle"] {
        match run_worker(feature, options.quick) {
            Ok(mut r) => runs.append(&mut r),
            Err(message) => {
                eprintln!("error: {message}");
                std::process::exit(2);
            }
        }
    }
    let (negatives, invariants): (Vec<Value>, Vec<Value>) =
        runs.into_iter().partition(|r| r.get("fault").is_some());

    println!();
    println!(
        "authstate verification report{}",
        if options.quick { " (quick)" } else { "" }
    );
    println!();
    println!("Invariants");
    println!(
        "  {:<3} {:<15} {:>11} {:>9}  verdict",
        "id", "checker", "executions", "seconds"
    );
    let mut problems = 0;
    for run in &invariants {
        let verdict = text(run, "verdict");
        if verdict != "holds" {
            problems += 1;
        }
        println!(
            "  {:<3} {:<15} {:>11} {:>9.2}  {}",
            text(run, "id"),
            text(run, "checker"),
            run["executions"].as_u64().unwrap_or(0),
            run["seconds"].as_f64().unwrap_or(0.0),
            verdict
        );
    }
    println!();
    println!("Negative controls (each fault must be caught by loom and by shuttle-pct)");
    println!(
        "  {:<3} {:<15} {:<7} {:>9}  fault",
        "id", "checker", "caught", "after"
    );
    for run in &negatives {
        let caught = run["caught"].as_bool().unwrap_or(false);
        let required = matches!(text(run, "checker"), "loom" | "shuttle-pct");
        if !caught && required {
            problems += 1;
        }
        println!(
            "  {:<3} {:<15} {:<7} {:>9}  {}",
            text(run, "id"),
            text(run, "checker"),
            if caught {
                "yes"
            } else if required {
                "NO"
            } else {
                "no"
            },
            if caught {
                run["executions_to_catch"].to_string()
            } else {
                format!("{}+", run["executions"])
            },
            text(run, "fault")
        );
    }
    println!();
    println!("Counterexamples (one line per step: thread, operation -> observed)");
    for run in negatives
        .iter()
        .filter(|r| r["caught"].as_bool() == Some(true))
    {
        println!();
        println!(
            "  {} · {} · {}",
            text(run, "id"),
            text(run, "checker"),
            text(run, "fault")
        );
        for line in text(run, "trace").lines() {
            println!("      {line}");
        }
    }
    for run in invariants.iter().filter(|r| r.get("trace").is_some()) {
        println!();
        println!("  VIOLATION {} · {}", text(run, "id"), text(run, "checker"));
        for line in text(run, "trace").lines() {
            println!("      {line}");
        }
    }
    println!();
    let holds = invariants
        .iter()
        .filter(|r| text(r, "verdict") == "holds")
        .count();
    let caught = negatives
        .iter()
        .filter(|r| r["caught"].as_bool() == Some(true))
        .count();
    println!(
        "Summary: {holds}/{} invariant runs hold; {caught}/{} negative-control runs caught; {:.0}s in all",
        invariants.len(),
        negatives.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = options.json {
        let report =
            serde_json::json!({ "invariants": invariants, "negative_controls": negatives });
        let written = serde_json::to_string_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|s| std::fs::write(&path, s).map_err(|e| e.to_string()));
        match written {
            Ok(()) => println!("JSON report written to {path}"),
            Err(e) => {
                eprintln!("error: cannot write {path}: {e}");
                std::process::exit(2);
            }
        }
    }
    if problems > 0 {
        println!("FAILED: {problems} run(s) not as expected");
        std::process::exit(1);
    }
}
