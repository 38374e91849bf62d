//! TXT records from DNS are untrusted: SPF recognition, validation and merging never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = herald_mail::spf::is_spf(&text);
    let _ = herald_mail::spf::validate(&text);
    let _ = herald_mail::spf::merge(&[text.to_string()], &["ip4:192.0.2.10".to_string()]);
});
