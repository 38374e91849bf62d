//! An MJML body comes from any user allowed to write campaigns (CLI, API, compose page): it
//! either renders or is refused with a line inside the document, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Err(e) = herald_mail::mjml::to_html(data) {
        if let Some(line) = e.line {
            assert!(line >= 1 && line <= data.lines().count().max(1) + 1, "{e}");
        }
    }
});
