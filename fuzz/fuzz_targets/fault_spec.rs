//! `--fault` spec text → the parser. Nothing may panic, and an accepted spec displays as text
//! that parses back to exactly the same fault: `parse(display(x)) == x`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redline::replay::{engine_faults, FaultSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fault) = FaultSpec::parse(text) {
        let shown = fault.to_string();
        let again = FaultSpec::parse(&shown)
            .unwrap_or_else(|e| panic!("{text:?} displays as {shown:?}, which does not parse: {e}"));
        assert_eq!(again, fault, "{text:?} → {shown:?}");
        let _ = engine_faults(&[fault]);
    }
});
