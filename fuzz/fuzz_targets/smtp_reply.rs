//! What a receiving server sends back is untrusted: parse, classify and read the queue id.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(reply) = herald_engine::deliver::smtp::parse_reply(data) {
        let _ = herald_mail::classify_reply(&reply);
        let _ = herald_mail::remote_queue_id(&reply.text());
        let _ = reply.full();
    }
});
