//! The installation's send rate through a relay (`[relay] rate = "14/s"`): providers refuse, or
//! silently queue, mail sent faster than the account allows (Amazon SES starts at 14 messages a
//! second). Each message waits for its slot before MAIL FROM; slots are spaced evenly, so a
//! burst never goes out faster than the rate. The rate is the account's, shared by every node:
//! each node takes its share ([`Pace::share_with`], the live nodes counted at each heartbeat).

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Messages per period, as written in settings: `14/s`, `100/min`, `5000/h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub messages: u32,
    pub per: Duration,
}

impl Rate {
    /// The gap between two messages.
    pub fn interval(self) -> Duration {
        self.per / self.messages.max(1)
    }
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "rate {s:?}: expected messages per period, e.g. \"14/s\", \"100/min\", \"5000/h\""
            )
        };
        let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let messages: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            "d" | "day" => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        if messages == 0 {
            return Err(format!("rate {s:?}: must allow at least one message"));
        }
        Ok(Rate { messages, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            3600 => "h",
            _ => "d",
        };
        write!(f, "{}/{unit}", self.messages)
    }
}

/// Hands out send slots at this node's share of a [`Rate`], shared by every connection of
/// the node.
#[derive(Debug)]
pub struct Pace {
    interval: Duration,
    /// The sending nodes the rate is shared by (at least 1).
    nodes: AtomicU32,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    pub fn new(rate: Rate) -> Self {
        Self {
            interval: rate.interval(),
            nodes: AtomicU32::new(1),
            next: Mutex::new(None),
        }
    }

    /// Share the rate with `nodes` sending nodes in all (this one included): each sends at
    /// most rate / nodes, so together they keep to the rate.
    pub fn share_with(&self, nodes: u32) {
        self.nodes.store(nodes.max(1), Ordering::Relaxed);
    }

    /// The nodes the rate is shared by now.
    pub fn nodes(&self) -> u32 {
        self.nodes.load(Ordering::Relaxed)
    }

    /// Take the next slot: when this message may go.
    pub fn reserve(&self) -> Instant {
        let interval = self.interval * self.nodes();
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + interval);
        at
    }

    /// Wait for this message's slot.
    pub async fn wait(&self) {
        tokio::time::sleep_until(self.reserve()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_as_written_in_settings() {
        let r: Rate = "14/s".parse().unwrap();
        assert_eq!((r.messages, r.per), (14, Duration::from_secs(1)));
        assert_eq!(r.to_string(), "14/s");
        let r: Rate = "100/min".parse().unwrap();
        assert_eq!(r.interval(), Duration::from_millis(600));
        assert_eq!("5000/h".parse::<Rate>().unwrap().to_string(), "5000/h");
        for bad in ["", "14", "x/s", "14/fortnight", "0/s", "-1/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} accepted");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_interval() {
        let pace = Pace::new("10/s".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..5 {
            pace.wait().await;
        }
        // Slots at 0, 100, 200, 300, 400 ms.
        assert_eq!(t0.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn nodes_share_the_rate() {
        let pace = Pace::new("10/s".parse().unwrap());
        pace.share_with(2);
        let t0 = Instant::now();
        for _ in 0..5 {
            pace.wait().await;
        }
        // Two nodes at 10/s together: 5/s each, slots at 0, 200, 400, 600, 800 ms.
        assert_eq!(t0.elapsed(), Duration::from_millis(800));
        // Alone again (0 counts as 1: this node is always one of them).
        pace.share_with(0);
        assert_eq!(pace.nodes(), 1);
    }
}
