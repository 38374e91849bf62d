//! `/login?next=…` comes from anyone: what is accepted must be a plain path on this site.
#![no_main]
use herald_http::redirect::local_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let p = local_path(data);
    assert!(p == "/" || p == data);
    assert!(p.starts_with('/') && !p.starts_with("//"));
    assert!(!p.contains(['\\', '\t', '\n', '\r', '\u{b}', ' ']));
    assert!(p.is_ascii());
});
