//! Adaptive pacing per receiving provider: when a receiver answers that we send too fast (see
//! [`signal`]: a rate limit of the sender, not of one recipient's mailbox), this node stops
//! sending to it for a while and then comes back slowly, instead of retrying every message into
//! the same refusal (which big receivers count against the sender's reputation); when it refuses
//! a connection because we hold too many, the node goes down to one connection at a time to it,
//! without a pause.
//!
//! Receivers are grouped by the MX host that answered, not by the recipient's domain:
//! `outlook.com` and a company on Microsoft 365 share `*.protection.outlook.com`, so a slow-down
//! from one applies to both. The group is the MX host's registrable part (`google.com`,
//! `outlook.com`, `yahoodns.net`, `example.co.uk`); a recipient domain is mapped to its group as
//! soon as its MX hosts are known.
//!
//! Each slow-down doubles the pause (1 min, 2, 4 … at most 30 min); once the pause is over the
//! group gets one connection at a time until it has accepted [`RECOVERY`] messages per level,
//! each success lowering the level by one step. Per node, in memory: a restart starts afresh.

use std::collections::HashMap;
use std::sync::Mutex;

use herald_domain::Reply;

/// The first pause; each further slow-down doubles it, up to [`MAX_PAUSE_MS`].
pub const FIRST_PAUSE_MS: i64 = 60_000;
pub const MAX_PAUSE_MS: i64 = 30 * 60_000;
/// Messages a group must accept, per level, before it is back to full speed.
pub const RECOVERY: u32 = 20;
/// Refusals this soon after a step down are the same episode (connections opened before it).
pub const SAME_EPISODE_MS: i64 = 10_000;

/// What a refusal asks of the sender as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Send nothing for a while: we send too fast.
    Pause,
    /// Fewer connections: we hold too many.
    OneConnection,
}

/// Whether a temporary refusal (its classified `reason`, `reply` and SMTP `stage`) is about the
/// sender's pace rather than one recipient: `4.7.28` (the big receivers' "rate limited"), or a
/// rate limit in words (`speeding`) that is not about one mailbox (`4.2.x`, "receiving mail too
/// quickly": one busy inbox must not pause a whole provider); or too many connections
/// (`toomanyconn`) refused before any transaction, or saying "connection".
pub fn signal(reason: Option<&str>, reply: Option<&Reply>, stage: Option<&str>) -> Option<Signal> {
    let enhanced = reply.and_then(|r| r.enhanced.as_deref()).unwrap_or("");
    let text = reply
        .map(|r| r.text().to_ascii_lowercase())
        .unwrap_or_default();
    if reply.is_some_and(|r| !r.is_transient()) {
        return None;
    }
    if enhanced == "4.7.28" {
        return Some(Signal::Pause);
    }
    let one_mailbox =
        enhanced.starts_with("4.2.") || text.contains("receiving mail") || text.contains("mailbox");
    match reason {
        Some("speeding") if !one_mailbox => Some(Signal::Pause),
        Some("toomanyconn")
            if matches!(stage, Some("connect" | "greeting" | "ehlo"))
                || text.contains("connection") =>
        {
            Some(Signal::OneConnection)
        }
        _ => None,
    }
}

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

#[derive(Debug, Clone, Default)]
struct Group {
    /// Slow-downs not yet worked off (0: full speed).
    level: u32,
    until_ms: i64,
    reply: String,
    /// Messages accepted since the level last changed.
    accepted: u32,
    /// When the level last went up.
    stepped_ms: i64,
}

/// This node's pacing state (shared by its delivery jobs).
#[derive(Debug, Default)]
pub struct Throttles {
    groups: Mutex<HashMap<String, Group>>,
    /// Recipient domain → group, learned from the MX hosts that answered.
    domains: Mutex<HashMap<String, String>>,
}

/// The group of an MX host: its last two labels, lower-cased (`mx.inbox.test` → `inbox.test`),
/// three under a country's second-level domains (`mx.example.co.uk` → `example.co.uk`, not
/// every `co.uk`); an address (a relay given by IP) is its own group. (A small rule, not the
/// public suffix list: a group too narrow only paces less.)
pub fn group_of(mx_host: &str) -> String {
    let host = mx_host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    let labels: Vec<&str> = host.rsplit('.').collect();
    let second_level = labels.len() > 2
        && labels[0].len() == 2
        && matches!(
            labels[1],
            "co" | "com" | "net" | "org" | "ne" | "or" | "ac" | "gov" | "edu" | "gen" | "ltd"
        );
    let n = if second_level { 3 } else { 2 };
    labels
        .into_iter()
        .take(n)
        .rev()
        .collect::<Vec<_>>()
        .join(".")
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

    /// The receiver group of `domain` as far as known before a lookup: learned from an MX host
    /// that answered, a big provider's own domain, or else the domain's own registrable part.
    pub fn known_group(&self, domain: &str) -> Option<String> {
        let learned = self
            .domains
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&domain.to_ascii_lowercase())
            .cloned();
        learned
            .or_else(|| super::limits::well_known_group(domain).map(str::to_string))
            // A domain that is its own receiver (mx1.example-corp.com for example-corp.com).
            .or_else(|| Some(group_of(domain)))
    }

    /// Remember that `domain`'s mail is answered by `mx_host`. A slow-down recorded under the
    /// domain itself before (no host was known) moves to the group.
    pub fn learn(&self, domain: &str, mx_host: &str) {
        let g = group_of(mx_host);
        let domain = domain.to_ascii_lowercase();
        if g.is_empty() || g == domain {
            return;
        }
        let known = self
            .domains
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(domain.clone(), g.clone());
        if known.as_deref() == Some(g.as_str()) {
            return;
        }
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = groups.remove(&domain) {
            let into = groups.entry(g).or_default();
            if old.level > into.level {
                into.level = old.level;
                into.accepted = old.accepted;
            }
            if old.until_ms > into.until_ms {
                into.until_ms = old.until_ms;
                into.reply = old.reply;
            }
            into.stepped_ms = into.stepped_ms.max(old.stepped_ms);
        }
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
        let g = groups.entry(group).or_default();
        // Several connections refused at once (during the pause, or opened before it) are one
        // slow-down, not several.
        if g.until_ms > now_ms || (g.level > 0 && now_ms - g.stepped_ms < SAME_EPISODE_MS) {
            return;
        }
        g.stepped_ms = now_ms;
        g.level = (g.level + 1).min(16);
        if pause {
            let pause = (FIRST_PAUSE_MS << (g.level - 1).min(10)).min(MAX_PAUSE_MS);
            g.until_ms = now_ms + pause;
        }
        g.reply = reply.chars().take(200).collect();
        g.accepted = 0;
    }

    /// A message to `domain` was accepted: the recovery moves on (not while paused: what a
    /// connection opened before the pause still gets through is no recovery).
    pub fn accepted(&self, domain: &str, now_ms: i64) {
        let group = self.group(domain);
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(g) = groups.get_mut(&group).filter(|g| g.until_ms <= now_ms) {
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
        assert_eq!(group_of("mx.example.co.uk"), "example.co.uk");
        assert_eq!(group_of("mfsmax.docomo.ne.jp"), "docomo.ne.jp");
        assert_eq!(group_of("192.0.2.7"), "192.0.2.7");
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
        // What gets through during the pause (a connection opened before it) is no recovery.
        for _ in 0..RECOVERY {
            t.accepted("a.test", 100);
        }
        assert!(t.recovering("a.test").is_some());
        assert!(t.paused("a.test", FIRST_PAUSE_MS).is_none());
        t.slow_down("a.test", None, "421", true, FIRST_PAUSE_MS);
        assert_eq!(
            t.paused("a.test", FIRST_PAUSE_MS).unwrap().until_ms,
            FIRST_PAUSE_MS + 2 * FIRST_PAUSE_MS
        );
        // Refused again once that pause is over: a third step, four minutes.
        t.slow_down("a.test", None, "421", true, 3 * FIRST_PAUSE_MS);
        assert_eq!(
            t.paused("a.test", 3 * FIRST_PAUSE_MS).unwrap().until_ms,
            7 * FIRST_PAUSE_MS
        );
        // Level 3: one connection until RECOVERY messages were accepted per level.
        let after = 100 * FIRST_PAUSE_MS;
        for _ in 0..2 * RECOVERY {
            t.accepted("a.test", after);
        }
        // (Two levels worked off, one to go.)
        assert!(t.recovering("a.test").is_some());
        for _ in 0..RECOVERY {
            t.accepted("a.test", after);
        }
        assert!(t.recovering("a.test").is_none());
        // Long runs of slow-downs are capped.
        for i in 0..20 {
            t.slow_down("b.test", None, "421", true, i * MAX_PAUSE_MS);
        }
        let p = t.paused("b.test", 19 * MAX_PAUSE_MS).unwrap();
        assert_eq!(p.until_ms, 20 * MAX_PAUSE_MS);
    }

    #[test]
    fn too_many_connections_is_one_connection_at_a_time() {
        let t = Throttles::default();
        let refuse = |at| {
            t.slow_down(
                "c.test",
                Some("192.0.2.7"),
                "421 4.7.0 Too many connections",
                false,
                at,
            )
        };
        // A burst of such refusals is one step, even with an acceptance in between.
        refuse(0);
        t.accepted("c.test", 1);
        refuse(2);
        assert!(t.paused("c.test", 3).is_none());
        assert_eq!(t.recovering("c.test").as_deref(), Some("192.0.2.7"));
        for _ in 0..RECOVERY {
            t.accepted("c.test", 10);
        }
        assert!(t.recovering("c.test").is_none());
        // Recorded under the domain before its hosts were known, then moved to the group.
        t.slow_down("d.test", None, "421 4.7.0 Too many connections", false, 0);
        t.learn("d.test", "mx.dmail.test");
        assert_eq!(t.recovering("d.test").as_deref(), Some("dmail.test"));
        t.learn("e.test", "mx2.dmail.test");
        assert_eq!(t.recovering("e.test").as_deref(), Some("dmail.test"));
    }

    #[test]
    fn only_the_senders_pace_is_a_signal() {
        let r = |code: u16, enh: &str, text: &str| Reply {
            code,
            enhanced: Some(enh.to_string()).filter(|e| !e.is_empty()),
            lines: vec![text.to_string()],
        };
        let gmail = r(
            421,
            "4.7.28",
            "Gmail has detected an unusual rate of unsolicited mail",
        );
        assert_eq!(
            signal(Some("spamdetected"), Some(&gmail), Some("rcpt")),
            Some(Signal::Pause)
        );
        let rate = r(
            421,
            "4.7.0",
            "Try again later, closing connection: rate limited",
        );
        assert_eq!(
            signal(Some("speeding"), Some(&rate), Some("rcpt")),
            Some(Signal::Pause)
        );
        // One busy mailbox is not the provider's pace.
        let mailbox = r(
            450,
            "4.2.1",
            "The user you are trying to contact is receiving mail too quickly",
        );
        assert_eq!(signal(Some("speeding"), Some(&mailbox), Some("rcpt")), None);
        let conns = r(421, "4.7.0", "Too many connections from your address");
        assert_eq!(
            signal(Some("toomanyconn"), Some(&conns), Some("connect")),
            Some(Signal::OneConnection)
        );
        // Too many recipients in one message is not about connections; a permanent refusal
        // and greylisting are no signal at all.
        let rcpts = r(452, "4.5.3", "Too many recipients");
        assert_eq!(
            signal(Some("toomanyconn"), Some(&rcpts), Some("rcpt")),
            None
        );
        let hard = r(550, "5.7.28", "rate limited");
        assert_eq!(signal(Some("speeding"), Some(&hard), Some("rcpt")), None);
        let grey = r(451, "4.7.1", "Greylisted, try again");
        assert_eq!(signal(Some("systemerror"), Some(&grey), Some("rcpt")), None);
    }
}
