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
