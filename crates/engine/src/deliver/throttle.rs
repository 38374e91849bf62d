//! Adaptive pacing per receiving provider: when a receiver answers that we send too fast (a
//! `4.7.x` rate limit — the classifier's `speeding`), this node stops sending to it for a while
//! and then comes back slowly, instead of retrying every message into the same refusal (which
//! big receivers count against the sender's reputation); when it refuses a connection because
//! we hold too many (`toomanyconn`, a `421` at connect), the node goes down to one connection
//! at a time to it, without a pause.
//!
//! Receivers are grouped by the MX host that answered, not by the recipient's domain:
//! `outlook.com` and a company on Microsoft 365 share `*.protection.outlook.com`, so a slow-down
//! from one applies to both. The group is the MX host's last two labels (`google.com`,
//! `outlook.com`, `yahoodns.net`); a recipient domain is mapped to its group once an attempt
//! has reached one of its MX hosts.
//!
//! Each slow-down doubles the pause (1 min, 2, 4 … at most 30 min); once the pause is over the
//! group gets one connection at a time until it has accepted [`RECOVERY`] messages per level,
//! each success lowering the level by one step. Per node, in memory: a restart starts afresh.

use std::collections::HashMap;
use std::sync::Mutex;

/// The first pause; each further slow-down doubles it, up to [`MAX_PAUSE_MS`].
pub const FIRST_PAUSE_MS: i64 = 60_000;
pub const MAX_PAUSE_MS: i64 = 30 * 60_000;
/// Messages a group must accept, per level, before it is back to full speed.
pub const RECOVERY: u32 = 20;

/// Why a group is paused, as shown with the waiting deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    pub group: String,
    pub until_ms: i64,
    /// The receiver's reply that asked for it.
    pub reply: String,
}

impl Paused {
    /// The waiting deliveries' reason: `paused for gmail.com: the receiver asked us to slow
    /// down (421 4.7.0 …); trying again at …`.
    pub fn reason(&self) -> String {
        format!(
            "paused for {}: the receiver asked us to slow down ({}); trying again at {}",
            self.group,
            self.reply,
            crate::reports::ms_to_rfc3339(self.until_ms)
        )
    }
}

#[derive(Debug, Clone)]
struct Group {
    /// Slow-downs not yet worked off (0: full speed).
    level: u32,
    until_ms: i64,
    reply: String,
    /// Messages accepted since the level last changed.
    accepted: u32,
}

/// This node's pacing state (shared by its delivery jobs).
#[derive(Debug, Default)]
pub struct Throttles {
    groups: Mutex<HashMap<String, Group>>,
    /// Recipient domain → group, learned from the MX hosts that answered.
    domains: Mutex<HashMap<String, String>>,
}

/// The group of an MX host: its last two labels, lower-cased (`mx.inbox.test` → `inbox.test`);
/// an address (a relay given by IP) is its own group.
pub fn group_of(mx_host: &str) -> String {
    let host = mx_host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    let labels: Vec<&str> = host.rsplit('.').take(2).collect();
    labels.into_iter().rev().collect::<Vec<_>>().join(".")
}

impl Throttles {
    fn group(&self, domain: &str) -> String {
        self.domains
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(domain)
            .cloned()
            .unwrap_or_else(|| domain.to_ascii_lowercase())
    }

    /// Remember that `domain`'s mail is answered by `mx_host`.
    pub fn learn(&self, domain: &str, mx_host: &str) {
        let g = group_of(mx_host);
        if g.is_empty() {
            return;
        }
        self.domains
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(domain.to_ascii_lowercase(), g);
    }

    /// The receiver of `domain` (answered by `mx_host`) asked us to slow down with `reply`:
    /// with `pause`, no message for a while (a rate limit); without, one connection at a time
    /// (too many connections).
    pub fn slow_down(
        &self,
        domain: &str,
        mx_host: Option<&str>,
        reply: &str,
        pause: bool,
        now_ms: i64,
    ) {
        if let Some(mx) = mx_host {
            self.learn(domain, mx);
        }
        let group = self.group(domain);
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let g = groups.entry(group).or_insert(Group {
            level: 0,
            until_ms: 0,
            reply: String::new(),
            accepted: 0,
        });
        // Several connections refused at once are one slow-down, not several.
        if g.until_ms > now_ms {
            return;
        }
        // Several connections refused at once are one step down, not several.
        if !pause && g.level > 0 && g.accepted == 0 {
            return;
        }
        g.level = (g.level + 1).min(16);
        if pause {
            let pause = (FIRST_PAUSE_MS << (g.level - 1).min(10)).min(MAX_PAUSE_MS);
            g.until_ms = now_ms + pause;
        }
        g.reply = reply.chars().take(200).collect();
        g.accepted = 0;
    }

    /// A message to `domain` was accepted: the recovery moves on.
    pub fn accepted(&self, domain: &str) {
        let group = self.group(domain);
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(g) = groups.get_mut(&group) {
            g.accepted += 1;
            if g.accepted >= RECOVERY {
                g.accepted = 0;
                g.level = g.level.saturating_sub(1);
                if g.level == 0 {
                    groups.remove(&group);
                }
            }
        }
    }

    /// Whether `domain`'s group is paused now, and why.
    pub fn paused(&self, domain: &str, now_ms: i64) -> Option<Paused> {
        let group = self.group(domain);
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups
            .get(&group)
            .filter(|g| g.until_ms > now_ms)
            .map(|g| Paused {
                group: group.clone(),
                until_ms: g.until_ms,
                reply: g.reply.clone(),
            })
    }

    /// Whether `domain`'s group is recovering (one connection at a time): its group's name.
    pub fn recovering(&self, domain: &str) -> Option<String> {
        let group = self.group(domain);
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.get(&group).filter(|g| g.level > 0).map(|_| group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_mx_host() {
        assert_eq!(group_of("gmail-smtp-in.l.google.com."), "google.com");
        assert_eq!(
            group_of("contoso-com.mail.protection.outlook.com"),
            "outlook.com"
        );
        assert_eq!(group_of("MX.Inbox.Test"), "inbox.test");
        let t = Throttles::default();
        t.learn("contoso.com", "contoso-com.mail.protection.outlook.com");
        t.slow_down(
            "hotmail.com",
            Some("hotmail-com.olc.protection.outlook.com"),
            "421 4.7.0 slow down",
            true,
            0,
        );
        // One slow-down pauses every domain of the group, and no other.
        assert!(t.paused("contoso.com", 1).is_some());
        assert!(t.paused("gmail.com", 1).is_none());
        let p = t.paused("hotmail.com", 1).unwrap();
        assert_eq!(
            (p.group.as_str(), p.until_ms),
            ("outlook.com", FIRST_PAUSE_MS)
        );
        assert!(p.reason().starts_with(
            "paused for outlook.com: the receiver asked us to slow down (421 4.7.0 slow down)"
        ));
    }

    #[test]
    fn pauses_double_and_recovery_is_gradual() {
        let t = Throttles::default();
        t.slow_down("a.test", None, "421", true, 0);
        // A second refusal during the pause is the same slow-down.
        t.slow_down("a.test", None, "421", true, 10);
        assert_eq!(t.paused("a.test", 1).unwrap().until_ms, FIRST_PAUSE_MS);
        assert!(t.paused("a.test", FIRST_PAUSE_MS).is_none());
        t.slow_down("a.test", None, "421", true, FIRST_PAUSE_MS);
        assert_eq!(
            t.paused("a.test", FIRST_PAUSE_MS).unwrap().until_ms,
            FIRST_PAUSE_MS + 2 * FIRST_PAUSE_MS
        );
        // Level 2: one connection until 2 × RECOVERY messages were accepted.
        for _ in 0..RECOVERY {
            t.accepted("a.test");
        }
        assert!(t.recovering("a.test").is_some());
        for _ in 0..RECOVERY {
            t.accepted("a.test");
        }
        assert!(t.recovering("a.test").is_none());
        // Long runs of slow-downs are capped.
        for i in 0..20 {
            t.slow_down("b.test", None, "421", true, i * MAX_PAUSE_MS);
        }
        let p = t.paused("b.test", 19 * MAX_PAUSE_MS).unwrap();
        assert_eq!(p.until_ms, 20 * MAX_PAUSE_MS);
        // Too many connections: one at a time from now on, no pause; a burst of such refusals
        // is one step.
        t.slow_down(
            "c.test",
            Some("192.0.2.7"),
            "421 4.7.0 Too many connections",
            false,
            0,
        );
        t.slow_down(
            "c.test",
            Some("192.0.2.7"),
            "421 4.7.0 Too many connections",
            false,
            0,
        );
        assert!(t.paused("c.test", 1).is_none());
        assert_eq!(t.recovering("c.test").as_deref(), Some("192.0.2.7"));
        for _ in 0..RECOVERY {
            t.accepted("c.test");
        }
        assert!(t.recovering("c.test").is_none());
    }
}
