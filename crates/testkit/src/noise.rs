//! Deterministic pseudo-random inputs for "never panics on garbage" tests (bounded, no deps).
//! The fuzz targets under `fuzz/` explore further; these keep a guard in every test run.

/// xorshift64*: fast, deterministic, good enough to produce hostile bytes.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Bytes biased towards what parsers care about: digits, separators, CR/LF, quotes, '@'.
    pub fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"0123456789 -.,;:@\"<>\r\n\t250-5.1.1 abcXYZ\xff\xfe\xc3\xa9=";
        let len = (self.next_u64() as usize) % (max_len + 1);
        (0..len)
            .map(|_| {
                let r = self.next_u64();
                if r.is_multiple_of(4) {
                    (r >> 8) as u8
                } else {
                    ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                }
            })
            .collect()
    }
}
