//! A provider webhook post is untrusted (anyone can post to the URL): verifying and reading it
//! never panics, whatever the body and headers.
#![no_main]
use herald_mail::webhooks::{HookRequest, HookSecret, Provider, read_verified, verify_and_parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the header values' split; the rest is the body.
    let (head, body) = data.split_at(data.len().min(64));
    let text = String::from_utf8_lossy(head).to_string();
    let header = |_: &str| Some(text.clone());
    let req = HookRequest {
        header: &header,
        body,
        now_s: 1_800_000_000,
    };
    let secrets = [
        (Provider::Mailgun, HookSecret::HmacKey(b"k".to_vec())),
        (
            Provider::Postmark,
            HookSecret::Basic {
                username: "u".into(),
                password: "p".into(),
            },
        ),
        (Provider::Brevo, HookSecret::Bearer(text.clone())),
        (
            Provider::Ses,
            HookSecret::Sns {
                topic_arns: vec!["arn:aws:sns:us-east-1:123456789012:t".into()],
                pinned: Vec::new(),
            },
        ),
    ];
    for (p, s) in &secrets {
        let _ = verify_and_parse(*p, s, &req);
    }
    // What follows a good signature, for every provider.
    for p in Provider::ALL {
        let _ = read_verified(p, body, 1_800_000_000);
    }
});
