//! DMARC reports arrive as zip and gzip attachments from anyone: reading one must never panic,
//! never inflate past the message's budget, and never read a zip of more than one entry.
#![no_main]
use herald_mail::feedback::dmarc::{Budget, MAX_DECOMPRESSED, from_attachment_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut budget = Budget::default();
    let _ = from_attachment_bytes(data, &mut budget);
    assert!(budget.left() <= MAX_DECOMPRESSED);
    // The same bytes as an attachment of a message, through the whole classifier.
    let _ = herald_mail::feedback::classify_message(data);
});
