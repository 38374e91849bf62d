//! Inbound mail is untrusted: the classifier survives truncated, corrupted and hostile versions
//! of real bounces (the cargo-fuzz target `feedback_message` explores further).

use std::path::Path;

use herald_mail::feedback::{classify_message, classify_text, split_mbox};

/// xorshift64*: deterministic, so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    match rng.below(6) {
        0 => v.truncate(rng.below(v.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(16) {
                let i = rng.below(v.len());
                if let Some(b) = v.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
        }
        2 => {
            // Bare LFs, lone CRs and dots where the structure lives.
            let i = rng.below(v.len());
            let junk: &[u8] = [b"\n.\n".as_slice(), b"\r", b"\r\n\r\n--", b"\n\t"][rng.below(4)];
            v.splice(i..i, junk.iter().copied());
        }
        3 => {
            // A huge header line.
            let i = rng.below(v.len());
            let long = vec![b'A'; 100_000];
            v.splice(i..i, long);
        }
        4 => v.extend(std::iter::repeat_n(b'\xff', 1000)),
        _ => {
            let i = rng.below(v.len());
            let j = rng.below(v.len());
            let (a, b) = (i.min(j), i.max(j));
            v.drain(a..b);
        }
    }
    v
}

#[test]
fn mutated_corpus_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpora");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut n = 0;
    for sub in ["dsn", "arf", "dmarc", "smtp-reply"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .expect("corpus")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let raw = std::fs::read(&f).expect("read");
            for _ in 0..5 {
                let m = mutate(&mut rng, &raw);
                let _ = classify_message(&m);
                let _ = classify_text(&String::from_utf8_lossy(&m));
                for message in split_mbox(&[&b"From x\n"[..], &m, b"\n\nFrom y\n", &m].concat()) {
                    let _ = classify_message(message);
                }
                n += 1;
            }
        }
    }
    assert!(n > 2000, "ran {n} mutations");
}

#[test]
fn pathological_inputs() {
    for input in [
        &b""[..],
        b"\r\n\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822;\r\nStatus: 9.9.9.9\r\n--x--",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n",
        b"From: MAILER-DAEMON@x\r\nSubject: Undelivered\r\n\r\n@@@@@@@@ <@> a@ @b 5.1. 550",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        b"PK\x03\x04garbage",
        b"<?xml version=\"1.0\"?><feedback><record>",
    ] {
        let _ = classify_message(input);
    }
    let deep = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n".repeat(2000);
    let _ = classify_message(deep.as_bytes());
}

/// TXT records come from DNS, i.e. from anyone: SPF checking and merging survive mutated and
/// hostile records (the cargo-fuzz target `spf_record` explores further).
#[test]
fn spf_records_from_dns_never_panic() {
    use herald_mail::spf::{is_spf, merge, validate};
    let seeds: [&[u8]; 6] = [
        b"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.com a mx/24 -all",
        b"v=spf1 redirect=_spf.example.com",
        b"v=spf1 exists:%{i}.%{h}._spf.example.com ?all",
        "v=spf1 a:m\u{e9}l.example.com ~all".as_bytes(),
        b"v=spf1 ip4:1.2.3.4//33 ip6:::/129 +-all",
        b"v=spf1",
    ];
    let ours = vec!["ip4:192.0.2.10".to_string()];
    let mut rng = Rng(0x5bf0_0d00_dead_beef);
    for round in 0..3_000 {
        let seed = seeds[round % seeds.len()];
        let bytes = mutate(&mut rng, seed);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = is_spf(&text);
        let _ = validate(&text);
        let _ = merge(std::slice::from_ref(&text), &ours);
        let _ = merge(&[text.clone(), text.clone()], &ours);
    }
}
