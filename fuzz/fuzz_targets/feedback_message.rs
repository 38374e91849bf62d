//! Whatever arrives at the return path is untrusted: classifying it never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let c = herald_mail::feedback::classify_message(data);
    let _ = serde_json::to_string(&c);
    for message in herald_mail::feedback::split_mbox(data) {
        let _ = herald_mail::feedback::classify_message(message);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = herald_mail::feedback::classify_text(text);
        let _ = herald_mail::verp::VerpKey::new(&[0u8; 32]).verify(text);
    }
});
