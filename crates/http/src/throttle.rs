//! Password checks a stranger cannot turn into a flood.
//!
//! argon2 is slow and takes ~19 MiB per check on purpose; run without a limit, 128 clients
//! guessing at once took the process to 7.5 GB. So:
//! - at most `concurrency` checks run at once (one per CPU), on threads of their own, and at
//!   most `queue` more wait for a turn; past that the answer is `429` at once, without hashing.
//!   Own threads, not tokio's blocking pool: the allocator keeps each thread's 19 MiB after the
//!   check, and the blocking pool would spread checks over up to 512 threads (3.9 GB held);
//!   a fixed few threads keep reusing the same memory;
//! - failures are counted per client network (an IPv4 address, an IPv6 /64) and per account;
//!   past a threshold each further failure blocks that key for twice as long as the last
//!   (1 s, 2 s, 4 s … up to `max_backoff`), answered `429` with `Retry-After` and no hashing.
//!   A success clears the account and the address. Counts are forgotten after `window`.
//!
//! Pure bookkeeping with the time passed in, so the rules are table-tested below.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_domain::connections::network;
use tokio::sync::Semaphore;

/// The login limits (`[http] login_*`).
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Password checks running at once.
    pub concurrency: usize,
    /// Password checks waiting for a turn; more are refused at once.
    pub queue: usize,
    /// Failures from one network before it is slowed down.
    pub failures_per_ip: u32,
    /// Failures for one account before it is slowed down.
    pub failures_per_account: u32,
    /// The longest a key is blocked after a failure.
    pub max_backoff: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            concurrency: cpus,
            queue: cpus * 4,
            failures_per_ip: 10,
            failures_per_account: 5,
            max_backoff: Duration::from_secs(15 * 60),
            window: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Net(IpAddr),
    Account(String),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last_ms: i64,
    blocked_until_ms: i64,
}

/// Keys remembered at most; past this, keys that are not blocked are forgotten first.
const MAX_KEYS: usize = 100_000;

/// Why a login attempt is not checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address or account failed too often: come back after this many seconds.
    Backoff { retry_after_s: u64 },
    /// Too many checks are running and waiting.
    Busy,
}

/// The login throttle shared by every login request.
pub struct LoginGuard {
    limits: LoginLimits,
    checks: Arc<Semaphore>,
    pool: Mutex<std::sync::mpsc::Sender<Job>>,
    waiting: Arc<AtomicUsize>,
    failures: Mutex<HashMap<Key, Failures>>,
    /// Networks each account logged in from (when): the account's own backoff does not lock
    /// them out, so a stranger's guesses cannot keep the owner from logging in.
    known: Mutex<HashMap<(String, IpAddr), i64>>,
}

/// How long a network stays known to an account after a successful login.
const KNOWN_FOR_MS: i64 = 30 * 24 * 3600 * 1000;

type Job = Box<dyn FnOnce() + Send>;

/// `n` threads running password checks; they end when the sender is dropped.
fn start_pool(n: usize) -> std::sync::mpsc::Sender<Job> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..n.max(1) {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("herald-password-{i}"))
            .spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "starting a password-check thread");
        }
    }
    tx
}

impl LoginGuard {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            checks: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            pool: Mutex::new(start_pool(limits.concurrency)),
            limits,
            waiting: Arc::new(AtomicUsize::new(0)),
            failures: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
        }
    }

    fn keys(ip: IpAddr, account: &str) -> [Key; 2] {
        [
            Key::Net(network(ip)),
            Key::Account(account.trim().to_ascii_lowercase()),
        ]
    }

    /// Whether `ip` or `account` must wait before trying again (no password is checked).
    pub fn blocked(&self, ip: IpAddr, account: &str, now_ms: i64) -> Option<Refusal> {
        let known = self.is_known(ip, account, now_ms);
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let until = Self::keys(ip, account)
            .iter()
            .filter(|k| !(known && matches!(k, Key::Account(_))))
            .filter_map(|k| map.get(k))
            .map(|f| f.blocked_until_ms)
            .max()?;
        (until > now_ms).then(|| Refusal::Backoff {
            retry_after_s: ((until - now_ms) as u64).div_ceil(1000).max(1),
        })
    }

    /// Record a wrong password; returns the wait it imposes, if any.
    pub fn failed(&self, ip: IpAddr, account: &str, now_ms: i64) -> Option<Refusal> {
        let window_ms = self.limits.window.as_millis() as i64;
        let max_ms = self.limits.max_backoff.as_millis() as i64;
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, f| f.blocked_until_ms > now_ms);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        let mut longest = 0i64;
        for key in Self::keys(ip, account) {
            let threshold = match key {
                Key::Net(_) => self.limits.failures_per_ip,
                Key::Account(_) => self.limits.failures_per_account,
            };
            let f = map.entry(key).or_insert(Failures {
                count: 0,
                last_ms: now_ms,
                blocked_until_ms: 0,
            });
            if now_ms - f.last_ms > window_ms {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.last_ms = now_ms;
            if f.count >= threshold.max(1) {
                let doublings = (f.count - threshold.max(1)).min(30);
                let wait = 1000i64.saturating_mul(1 << doublings).min(max_ms);
                f.blocked_until_ms = now_ms + wait;
                longest = longest.max(wait);
            }
        }
        (longest > 0).then(|| Refusal::Backoff {
            retry_after_s: (longest as u64).div_ceil(1000).max(1),
        })
    }

    /// A correct password: the account and the address start afresh, and the network is known
    /// to the account from now on.
    pub fn succeeded(&self, ip: IpAddr, account: &str, now_ms: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in Self::keys(ip, account) {
            map.remove(&key);
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= MAX_KEYS {
            known.retain(|_, at| now_ms - *at < KNOWN_FOR_MS);
            if known.len() >= MAX_KEYS {
                known.clear();
            }
        }
        known.insert((account.trim().to_ascii_lowercase(), network(ip)), now_ms);
    }

    fn is_known(&self, ip: IpAddr, account: &str, now_ms: i64) -> bool {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(&(account.trim().to_ascii_lowercase(), network(ip)))
            .is_some_and(|at| now_ms - at < KNOWN_FOR_MS)
    }

    /// Run `check` (an argon2 verification) on a password thread when a turn is free; `Busy`
    /// when too many are running and waiting already. The turn and the place in the queue are
    /// held by the job itself until the hash is done, so a client that hangs up does not free
    /// them early; a job whose client is gone before it starts is skipped.
    pub async fn check<F>(&self, check: F) -> Result<bool, Refusal>
    where
        F: FnOnce() -> bool + Send + 'static,
    {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        let leave = Leave(self.waiting.clone());
        if queued >= self.limits.concurrency + self.limits.queue {
            return Err(Refusal::Busy);
        }
        let Ok(turn) = self.checks.clone().acquire_owned().await else {
            return Err(Refusal::Busy);
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _held = (turn, leave);
            if !tx.is_closed() {
                let _ = tx.send(check());
            }
        });
        let sent = self
            .pool
            .lock()
            .map_err(|_| Refusal::Busy)?
            .send(job)
            .is_ok();
        if !sent {
            return Err(Refusal::Busy);
        }
        Ok(rx.await.unwrap_or(false))
    }
}

struct Leave(Arc<AtomicUsize>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> LoginGuard {
        LoginGuard::new(LoginLimits {
            concurrency: 1,
            queue: 1,
            failures_per_ip: 4,
            failures_per_account: 2,
            max_backoff: Duration::from_secs(60),
            window: Duration::from_secs(3600),
        })
    }

    #[test]
    fn failures_back_off_per_account_and_network() {
        let g = guard();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        assert_eq!(g.failed(ip, "a@x.test", 0), None);
        assert_eq!(g.blocked(ip, "a@x.test", 0), None);
        // The account's second failure: 1 s, then 2 s, 4 s…
        assert_eq!(
            g.failed(ip, "A@x.test", 10),
            Some(Refusal::Backoff { retry_after_s: 1 })
        );
        assert!(g.blocked(other, "a@x.test", 500).is_some(), "per account");
        assert_eq!(g.blocked(other, "b@x.test", 500), None, "other accounts");
        assert_eq!(g.blocked(ip, "a@x.test", 1010), None, "expired");
        assert_eq!(
            g.failed(ip, "a@x.test", 2000),
            Some(Refusal::Backoff { retry_after_s: 2 })
        );
        // The network's own threshold (4) blocks other accounts from it too.
        g.failed(ip, "c@x.test", 5000);
        assert!(g.blocked(ip, "d@x.test", 5001).is_some(), "per network");
        assert_eq!(g.blocked(other, "d@x.test", 5001), None);
        // Capped.
        for i in 0..40 {
            g.failed(ip, "a@x.test", 10_000 + i);
        }
        assert_eq!(
            g.blocked(other, "a@x.test", 10_040),
            Some(Refusal::Backoff { retry_after_s: 60 })
        );
        g.succeeded(ip, "a@x.test", 10_040);
        assert_eq!(g.blocked(ip, "a@x.test", 10_040), None);
        // A stranger's guesses block the account for strangers, not for the network its owner
        // logged in from.
        let stranger: IpAddr = "198.51.100.9".parse().expect("ip");
        for i in 0..5 {
            g.failed(stranger, "a@x.test", 20_000 + i);
        }
        assert!(g.blocked(other, "a@x.test", 20_010).is_some());
        assert_eq!(
            g.blocked(ip, "a@x.test", 20_010),
            None,
            "the owner's network"
        );
    }

    #[test]
    fn an_ipv6_host_is_its_64() {
        let g = guard();
        for i in 0..4u16 {
            let ip = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, i, i, i));
            g.failed(ip, &format!("u{i}@x.test"), 0);
        }
        let same64: IpAddr = "2001:db8:1:2::99".parse().expect("ip");
        let other64: IpAddr = "2001:db8:1:3::99".parse().expect("ip");
        assert!(g.blocked(same64, "new@x.test", 1).is_some());
        assert_eq!(g.blocked(other64, "new@x.test", 1), None);
    }

    #[tokio::test]
    async fn checks_beyond_the_queue_are_refused_without_hashing() {
        let g = Arc::new(guard());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let mut running = Vec::new();
        for _ in 0..2 {
            let (g, rx) = (g.clone(), rx.clone());
            running.push(tokio::spawn(async move {
                g.check(move || {
                    let _ = rx.lock().map(|r| r.recv());
                    true
                })
                .await
            }));
        }
        // One runs, one waits: the third is refused at once.
        while g.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(g.check(|| true).await, Err(Refusal::Busy));
        tx.send(()).expect("send");
        tx.send(()).expect("send");
        for r in running {
            assert_eq!(r.await.expect("join"), Ok(true));
        }
        assert_eq!(g.check(|| false).await, Ok(false));
    }
}
