use proptests::linearizability::*;
use authstate::Fault::*;
#[test]
fn survey() {
    let profiles: &[(&str, &[Profile])] = &[("versions", &[Profile::Versions]), ("refresh", &[Profile::Refresh]), ("cutoffs", &[Profile::Cutoffs]), ("global", &[Profile::Global]), ("all", &Profile::ALL)];
    for rt in [Runtime::Threads, Runtime::Tokio] {
    for fault in [VersionLoadThenStore, RedeemCheckThenMark, CutoffReadModifyWrite, ClockBeforeLookup] {
        let mut line = format!("{rt:?} {fault:?}:");
        for (name, ps) in profiles {
            let mut counts = vec![];
            for seed in 0..10 {
                let r = run_linearizability(Some(fault), rt, ps, 400, seed);
                counts.push(match r { Ok(_) => "-".to_string(), Err(f) => (f.passed_before + 1).to_string() });
            }
            line += &format!(" {name}[{}]", counts.join(","));
        }
        println!("{line}");
    }
    }
}
