//! What the corpus and check-set tests share.

/// Right answers out of those scored.
#[derive(Default)]
pub struct Score {
    pub right: usize,
    pub total: usize,
}

impl Score {
    pub fn add(&mut self, ok: bool) {
        self.total += 1;
        self.right += usize::from(ok);
    }
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

/// A bounce's human-readable text alone (no header), given the header a mailer daemon's bounce
/// would have, so it is read as it would arrive.
#[allow(dead_code)] // each test binary compiles this module; not all of them use this
pub fn as_bounce(body: &[u8]) -> Vec<u8> {
    let mut m = b"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n"
        .to_vec();
    m.extend(body);
    m
}
