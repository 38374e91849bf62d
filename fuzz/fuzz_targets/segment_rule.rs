//! Segment rules are typed by users (CLI, API, the UI's builder): any text parses to a rule or
//! a column-named error, never a panic, and a rule prints nothing unbounded.
#![no_main]
use herald_domain::segment::{MAX_RULE_BYTES, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    match parse(data) {
        Ok(_) => assert!(data.len() <= MAX_RULE_BYTES),
        Err(e) => assert!(e.column >= 1 && e.column <= data.chars().count() + 1),
    }
});
