//! Deliverability health: how the installation's mail is doing per sending domain and per
//! receiving provider (Gmail, Microsoft, Yahoo, Apple, others, grouped by the MX host each
//! attempt reached), day by day, against the thresholds Gmail and Yahoo publish for bulk
//! senders, with the seed mailboxes' placement per provider and the connected domains' last
//! re-verification. One read of the `health_daily` rollup the store's triggers keep, so it costs
//! the same at 1M recipients as at 100 (`herald bench report` prints it).

use std::collections::BTreeMap;

use herald_store::{HealthRow, Store, StoreError};
use schemars::JsonSchema;
use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

/// Gmail's recommended most: spam reports per delivered message (Postmaster Tools).
pub const SPAM_RATE_WATCH: f64 = 0.001;
/// Gmail's and Yahoo's bulk-sender limit: above it, mail is junked or refused.
pub const SPAM_RATE_LIMIT: f64 = 0.003;
/// Bounces per message decided that deserve a look at the list, and that receivers treat as a
/// sign of a bought or stale list.
pub const BOUNCE_RATE_WATCH: f64 = 0.02;
pub const BOUNCE_RATE_LIMIT: f64 = 0.05;
/// Fewer messages decided than this: rates are shown, not judged.
pub const MIN_JUDGED: u64 = 100;

/// The limits the verdicts use.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Thresholds {
    pub spam_rate_watch: f64,
    pub spam_rate_limit: f64,
    pub bounce_rate_watch: f64,
    pub bounce_rate_limit: f64,
    pub min_judged: u64,
}

/// What happened to one group's mail in the period.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct HealthFigures {
    /// Messages a receiver (or the relay) decided on: delivered + relayed + bounced at once.
    pub sent: u64,
    pub delivered: u64,
    /// Accepted by the relay; the recipient's side not reported yet.
    pub relayed: u64,
    /// Refused at once (the SMTP reply).
    pub bounced: u64,
    /// Accepted, then bounced by a later report (a DSN, a provider's event).
    pub late_bounces: u64,
    /// Attempts refused for now (tried again later).
    pub deferrals: u64,
    /// Of those, deferrals for our pace (the receiver asked us to slow down).
    pub throttled: u64,
    /// Attempts Herald could not make (a broken template, an unusable key).
    pub failed: u64,
    /// Spam reports (feedback loops, provider events).
    pub complaints: u64,
    /// delivered / sent; `null` when nothing was sent.
    pub delivery_rate: Option<f64>,
    /// (bounced + late bounces) / sent.
    pub bounce_rate: Option<f64>,
    /// complaints / (delivered + relayed): the spam rate Gmail and Yahoo hold senders to.
    pub complaint_rate: Option<f64>,
    /// `ok`, `watch` (above the recommended level), `over` (above the limit) or `too_few`
    /// (fewer than `min_judged` messages: not judged).
    pub verdict: String,
    /// Why, in words, one line per finding.
    pub why: Vec<String>,
}

/// One sending domain's or receiving provider's figures.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HealthGroup {
    pub name: String,
    #[serde(flatten)]
    pub figures: HealthFigures,
}

/// One campaign's part of the period (its page lists the recipients behind each number).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CampaignHealth {
    pub id: String,
    pub name: String,
    pub sender: String,
    #[serde(flatten)]
    pub figures: HealthFigures,
}

/// One UTC day.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct HealthDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub delivered: u64,
    pub bounced: u64,
    pub deferrals: u64,
    pub complaints: u64,
}

/// Where the seed mailboxes of one provider found the copies.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct SeedHealth {
    pub provider: String,
    pub inbox: u64,
    pub junk: u64,
    pub other: u64,
    pub missing: u64,
    /// inbox / all placed; `null` when none was placed.
    pub inbox_rate: Option<f64>,
}

/// A connected domain's last re-verification by `serve`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainHealth {
    pub domain: String,
    pub ok: bool,
    /// What fails and what receivers will do because of it; empty when `ok`.
    pub problems: String,
    pub checked_at: String,
}

/// `herald health --json`, `GET /api/v1/health`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HealthReport {
    /// The first UTC day counted (`YYYY-MM-DD`).
    pub since: String,
    pub days: u32,
    pub thresholds: Thresholds,
    pub overall: HealthFigures,
    /// Per sending domain (the From address's domain).
    pub senders: Vec<HealthGroup>,
    /// Per receiving provider: gmail, microsoft, yahoo, apple, other; relay (sent through a
    /// relay: the recipient's side is the relay's to report), sandbox (captured).
    pub providers: Vec<HealthGroup>,
    pub daily: Vec<HealthDay>,
    pub seeds: Vec<SeedHealth>,
    pub campaigns: Vec<CampaignHealth>,
    pub domains: Vec<DomainHealth>,
}

/// Raw counts of one group, before the rates.
#[derive(Default)]
struct Tally {
    delivered: u64,
    relayed: u64,
    bounced: u64,
    late_bounces: u64,
    deferrals: u64,
    throttled: u64,
    failed: u64,
    complaints: u64,
}

impl Tally {
    fn add(&mut self, kind: &str, n: u64) {
        let slot = match kind {
            "delivered" => &mut self.delivered,
            "relayed" => &mut self.relayed,
            "bounced" => &mut self.bounced,
            "async_bounce" => &mut self.late_bounces,
            "deferred" => &mut self.deferrals,
            "throttled" => &mut self.throttled,
            "failed" => &mut self.failed,
            "complaint" => &mut self.complaints,
            _ => return,
        };
        *slot += n;
    }

    fn figures(&self) -> HealthFigures {
        let sent = self.delivered + self.relayed + self.bounced;
        let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        let mut f = HealthFigures {
            sent,
            delivered: self.delivered,
            relayed: self.relayed,
            bounced: self.bounced,
            late_bounces: self.late_bounces,
            deferrals: self.deferrals,
            throttled: self.throttled,
            failed: self.failed,
            complaints: self.complaints,
            delivery_rate: rate(self.delivered, sent),
            bounce_rate: rate(self.bounced + self.late_bounces, sent),
            complaint_rate: rate(self.complaints, self.delivered + self.relayed),
            verdict: String::new(),
            why: Vec::new(),
        };
        judge(&mut f);
        f
    }
}

fn percent(r: f64) -> String {
    format!("{:.2} %", r * 100.0)
}

/// A rate as the CLI and the page show it (`0.25 %`), or a dash when there is none.
pub fn rate_text(r: Option<f64>) -> String {
    r.map(percent).unwrap_or_else(|| "–".into())
}

/// The verdict and its reasons, from the rates against the published thresholds.
fn judge(f: &mut HealthFigures) {
    if f.throttled > 0 {
        f.why.push(format!(
            "{} deferrals because of our pace: the receiver asked us to slow down (Herald paused \
             and retried; many mean the volume grew faster than the reputation)",
            f.throttled
        ));
    }
    if f.sent < MIN_JUDGED {
        f.verdict = "too_few".into();
        f.why.push(format!(
            "fewer than {MIN_JUDGED} messages decided: the rates are shown, not judged"
        ));
        return;
    }
    let mut level = 0;
    if let Some(r) = f.complaint_rate {
        if r >= SPAM_RATE_LIMIT {
            level = 2;
            f.why.push(format!(
                "spam reports {} of delivered, at or above the 0.3 % Gmail and Yahoo enforce: \
                 expect Junk and refusals; mail only people who asked, make unsubscribing easy",
                percent(r)
            ));
        } else if r >= SPAM_RATE_WATCH {
            level = 1;
            f.why.push(format!(
                "spam reports {} of delivered, above the 0.1 % Gmail recommends staying under",
                percent(r)
            ));
        }
    }
    if let Some(r) = f.bounce_rate {
        if r >= BOUNCE_RATE_LIMIT {
            level = 2;
            f.why.push(format!(
                "bounces {} of sent: receivers read this as an old or bought list; check where \
                 the addresses came from (hard bounces are already suppressed)",
                percent(r)
            ));
        } else if r >= BOUNCE_RATE_WATCH {
            level = level.max(1);
            f.why
                .push(format!("bounces {} of sent, above 2 %", percent(r)));
        }
    }
    f.verdict = ["ok", "watch", "over"][level].into();
}

fn day_name(day: i64) -> String {
    crate::reports::ms_to_rfc3339(day * DAY_MS)
        .get(..10)
        .unwrap_or_default()
        .to_string()
}

/// The From address's domain, lower case.
fn sender_of(from: &str) -> String {
    herald_domain::address::domain_part(from).to_ascii_lowercase()
}

/// The health of the last `days` UTC days (today included) as of `now_ms`.
pub async fn health<S: Store>(
    store: &S,
    days: u32,
    now_ms: i64,
) -> Result<HealthReport, StoreError> {
    let days = days.clamp(1, 366);
    let since_day = now_ms.div_euclid(DAY_MS) - i64::from(days) + 1;
    let rows = store.health_rows(since_day).await?;
    let domains = store.domain_checks().await?;
    Ok(build(rows, domains, since_day, days))
}

fn build(
    rows: Vec<HealthRow>,
    domains: Vec<herald_store::DomainCheck>,
    since_day: i64,
    days: u32,
) -> HealthReport {
    let mut overall = Tally::default();
    let mut senders: BTreeMap<String, Tally> = BTreeMap::new();
    let mut providers: BTreeMap<String, Tally> = BTreeMap::new();
    let mut campaigns: BTreeMap<herald_store::CampaignId, (String, String, Tally)> =
        BTreeMap::new();
    let mut daily: BTreeMap<i64, HealthDay> = BTreeMap::new();
    let mut seeds: BTreeMap<String, SeedHealth> = BTreeMap::new();
    for r in rows {
        if let Some(bucket) = r.kind.strip_prefix("seed:") {
            let s = seeds.entry(r.provider.clone()).or_default();
            match bucket {
                "inbox" => s.inbox += r.n,
                "junk" => s.junk += r.n,
                "missing" => s.missing += r.n,
                _ => s.other += r.n,
            }
            continue;
        }
        overall.add(&r.kind, r.n);
        senders
            .entry(sender_of(&r.from_address))
            .or_default()
            .add(&r.kind, r.n);
        providers
            .entry(r.provider.clone())
            .or_default()
            .add(&r.kind, r.n);
        campaigns
            .entry(r.campaign)
            .or_insert_with(|| {
                (
                    r.campaign_name.clone(),
                    sender_of(&r.from_address),
                    Tally::default(),
                )
            })
            .2
            .add(&r.kind, r.n);
        let d = daily.entry(r.day).or_insert_with(|| HealthDay {
            day: day_name(r.day),
            ..HealthDay::default()
        });
        match r.kind.as_str() {
            "delivered" | "relayed" => d.delivered += r.n,
            "bounced" | "async_bounce" => d.bounced += r.n,
            "deferred" => d.deferrals += r.n,
            "complaint" => d.complaints += r.n,
            _ => {}
        }
    }
    let groups = |m: BTreeMap<String, Tally>| {
        let mut g: Vec<HealthGroup> = m
            .into_iter()
            .map(|(name, t)| HealthGroup {
                name,
                figures: t.figures(),
            })
            .collect();
        g.sort_by(|a, b| {
            b.figures
                .sent
                .cmp(&a.figures.sent)
                .then(a.name.cmp(&b.name))
        });
        g
    };
    HealthReport {
        since: day_name(since_day),
        days,
        thresholds: Thresholds {
            spam_rate_watch: SPAM_RATE_WATCH,
            spam_rate_limit: SPAM_RATE_LIMIT,
            bounce_rate_watch: BOUNCE_RATE_WATCH,
            bounce_rate_limit: BOUNCE_RATE_LIMIT,
            min_judged: MIN_JUDGED,
        },
        overall: overall.figures(),
        senders: groups(senders),
        providers: groups(providers),
        daily: daily.into_values().collect(),
        seeds: seeds
            .into_iter()
            .map(|(provider, mut s)| {
                let placed = s.inbox + s.junk + s.other + s.missing;
                s.inbox_rate = (placed > 0).then(|| s.inbox as f64 / placed as f64);
                s.provider = provider;
                s
            })
            .collect(),
        campaigns: campaigns
            .into_iter()
            .rev()
            .map(|(id, (name, sender, t))| CampaignHealth {
                id: id.to_string(),
                name,
                sender,
                figures: t.figures(),
            })
            .collect(),
        domains: domains
            .into_iter()
            .map(|d| DomainHealth {
                domain: d.domain,
                ok: d.ok,
                problems: d.problems,
                checked_at: crate::reports::ms_to_rfc3339(d.checked_at_ms),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_store::CampaignId;

    fn row(day: i64, provider: &str, kind: &str, n: u64) -> HealthRow {
        HealthRow {
            day,
            campaign: CampaignId(1),
            campaign_name: "C".into(),
            from_address: "news@Sender.example".into(),
            provider: provider.into(),
            kind: kind.into(),
            n,
        }
    }

    #[test]
    fn rates_are_judged_against_the_published_thresholds() {
        // 1,000 decided at Gmail: 2 spam reports (0.2 %: watch), 10 bounces (1 %).
        let r = build(
            vec![
                row(10, "gmail", "delivered", 990),
                row(10, "gmail", "bounced", 10),
                row(11, "gmail", "complaint", 2),
                row(11, "gmail", "deferred", 7),
                row(11, "gmail", "throttled", 3),
                // 200 at Yahoo with 1 spam report (0.5 %: over) and 12 bounces (6 %: over).
                row(10, "yahoo", "delivered", 188),
                row(10, "yahoo", "bounced", 8),
                row(11, "yahoo", "async_bounce", 4),
                row(11, "yahoo", "complaint", 1),
                // 10 at Apple: too few to judge.
                row(11, "apple", "delivered", 10),
                row(11, "yahoo", "seed:junk", 1),
                row(11, "gmail", "seed:inbox", 1),
            ],
            Vec::new(),
            10,
            2,
        );
        let p = |name: &str| r.providers.iter().find(|g| g.name == name).unwrap();
        assert_eq!(p("gmail").figures.verdict, "watch");
        assert_eq!(p("gmail").figures.complaint_rate, Some(2.0 / 990.0));
        assert!(
            p("gmail")
                .figures
                .why
                .iter()
                .any(|w| w.contains("3 deferrals because of our pace"))
        );
        assert_eq!(p("yahoo").figures.verdict, "over");
        assert_eq!(p("yahoo").figures.bounce_rate, Some(12.0 / 196.0));
        assert_eq!(
            p("yahoo").figures.why.len(),
            2,
            "{:?}",
            p("yahoo").figures.why
        );
        assert_eq!(p("apple").figures.verdict, "too_few");
        assert_eq!(r.providers[0].name, "gmail", "the biggest first");
        assert_eq!(r.senders.len(), 1);
        assert_eq!(r.senders[0].name, "sender.example");
        assert_eq!(r.senders[0].figures.sent, 1000 + 196 + 10);
        assert_eq!(r.overall.complaints, 3);
        assert_eq!(r.daily.len(), 2);
        assert_eq!(r.daily[0].day, "1970-01-11");
        assert_eq!(r.daily[1].bounced, 4);
        assert_eq!(r.since, "1970-01-11");
        let seeds: Vec<(&str, u64, u64)> = r
            .seeds
            .iter()
            .map(|s| (s.provider.as_str(), s.inbox, s.junk))
            .collect();
        assert_eq!(seeds, vec![("gmail", 1, 0), ("yahoo", 0, 1)]);
        assert_eq!(r.campaigns.len(), 1);
    }
}
