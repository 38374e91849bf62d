//! Addresses come from CSV files and the CLI: parsing must never panic, and an accepted
//! address must be safe in MAIL FROM / RCPT TO and in a header.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(a) = herald_domain::EmailAddress::parse(data) {
        assert!(!a.as_str().contains(['\r', '\n', ' ', '<', '>']));
        assert!(a.domain().is_ascii());
    }
});
