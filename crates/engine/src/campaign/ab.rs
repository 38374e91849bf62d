//! A/B tests (issue 19): a campaign's subject or content in two to four variants. When the send
//! starts, a share of the audience gets each variant (the test group, picked in an order no one
//! chose); the rest wait. After the test's time, the variant that more people opened (or
//! clicked) — a person, never a machine: link scanners and privacy proxies do not vote — wins,
//! and the rest get it. Exactly one node picks the winner; the figures it won on are kept.

use herald_store::{AbFigures, Campaign, CampaignId, Store, StoreError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CampaignError;

/// The most variants besides the campaign's own content (B, C, D).
pub const MAX_VARIANTS: usize = 3;
/// The reason the rest of the audience waits with.
pub const WAITING: &str = "waiting for the A/B test's winner";

/// One variant besides the campaign's own content: what it changes (at least one part).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AbVariant {
    /// Its subject (a template, as the campaign's); none: the campaign's.
    #[schemars(extend("maxLength" = 2000))]
    pub subject: Option<String>,
    /// Its HTML (a template); none: the campaign's.
    pub html: Option<String>,
    /// Its plain-text part (a template); none: the campaign's (or derived from the HTML).
    pub text: Option<String>,
}

/// What picks the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AbMetric {
    /// The share of delivered copies a person opened.
    Opens,
    /// The share of delivered copies a person clicked in.
    Clicks,
}

impl AbMetric {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "opens" => Some(Self::Opens),
            "clicks" => Some(Self::Clicks),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opens => "opens",
            Self::Clicks => "clicks",
        }
    }
}

/// A campaign's A/B test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbTest {
    /// The variants besides the campaign's own content (which is A): B, then C, D.
    pub variants: Vec<AbVariant>,
    /// The share of the audience each variant goes to in the test, in percent (20: A to 20 %,
    /// B to 20 %, the winner to the other 60 %).
    pub share_pct: u32,
    pub metric: AbMetric,
    /// How long after the start the winner is picked.
    pub wait_ms: i64,
}

/// A variant's name: A (the campaign's own content), B, C, D.
pub fn variant_name(v: u32) -> String {
    char::from(b'A' + (v.min(25) as u8)).to_string()
}

impl AbTest {
    /// A test as the CLI, the API and the campaign's page give it: the share per variant
    /// (default 20 %), the metric (`opens`, the default, or `clicks`) and the wait (`4h`, the
    /// default); checked ([`AbTest::check`]).
    pub fn from_parts(
        variants: Vec<AbVariant>,
        share_pct: Option<u32>,
        metric: Option<&str>,
        wait: Option<&str>,
    ) -> Result<AbTest, CampaignError> {
        let bad = |why: String| CampaignError::BadAbTest(why);
        let metric = match metric.map(str::trim).filter(|m| !m.is_empty()) {
            None => AbMetric::Opens,
            Some(m) => {
                AbMetric::parse(m).ok_or_else(|| bad(format!("metric {m:?}: opens or clicks")))?
            }
        };
        let wait = wait
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .unwrap_or("4h");
        let wait_ms = humantime::parse_duration(wait)
            .map_err(|_| bad(format!("wait {wait:?}: a duration like 4h or 90m")))?
            .as_millis();
        let test = AbTest {
            variants,
            share_pct: share_pct.unwrap_or(20),
            metric,
            wait_ms: i64::try_from(wait_ms).unwrap_or(i64::MAX),
        };
        test.check()?;
        Ok(test)
    }

    /// Read a campaign's test (None: it has none, or its text no longer reads — logged).
    pub fn of(c: &Campaign) -> Option<AbTest> {
        let text = c.ab.as_deref()?;
        match serde_json::from_str(text) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(campaign = c.id.0, error = %e, "unreadable A/B test");
                None
            }
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// How many variants in all (A included).
    pub fn count(&self) -> u32 {
        self.variants.len() as u32 + 1
    }

    /// Refuse a test that cannot run, saying why.
    pub fn check(&self) -> Result<(), CampaignError> {
        let bad = |why: String| Err(CampaignError::BadAbTest(why));
        if self.variants.is_empty() || self.variants.len() > MAX_VARIANTS {
            return bad(format!(
                "give 1 to {MAX_VARIANTS} variants besides the campaign's own content"
            ));
        }
        for (i, v) in self.variants.iter().enumerate() {
            let name = variant_name(i as u32 + 1);
            if v.subject.is_none() && v.html.is_none() && v.text.is_none() {
                return bad(format!(
                    "variant {name} changes nothing: give it a subject, HTML or text"
                ));
            }
            if v.subject.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return bad(format!("variant {name}'s subject is empty"));
            }
            if v.subject
                .as_deref()
                .is_some_and(|s| s.chars().count() > 2000)
            {
                return bad(format!("variant {name}'s subject is over 2000 characters"));
            }
            if v.html.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return bad(format!("variant {name}'s HTML is empty"));
            }
        }
        if self.share_pct == 0
            || self
                .share_pct
                .checked_mul(self.count())
                .is_none_or(|all| all > 100)
        {
            return bad(format!(
                "the share per variant is 1 to {} % ({} variants)",
                100 / self.count(),
                self.count()
            ));
        }
        if !(1_000..=30 * 86_400_000).contains(&self.wait_ms) {
            return bad("the winner is picked 1 s to 30 days after the start".into());
        }
        Ok(())
    }

    /// Campaign `c` as variant `v` sends it (0: as it is).
    pub fn apply(&self, c: &Campaign, v: u32) -> Campaign {
        let mut out = c.clone();
        if let Some(var) = v.checked_sub(1).and_then(|i| self.variants.get(i as usize)) {
            if let Some(s) = &var.subject {
                out.subject = s.clone();
            }
            if let Some(h) = &var.html {
                out.html = h.clone();
                // A variant's HTML without its own text gets a text part derived from it.
                out.text = var.text.clone();
            }
            if let Some(t) = &var.text {
                out.text = Some(t.clone());
            }
        }
        out
    }
}

/// One variant's figures and rates, as the report shows them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AbVariantReport {
    /// A, B, C or D.
    pub name: String,
    pub subject: String,
    /// Its recipients in the test group.
    pub recipients: u64,
    /// Delivered or relayed.
    pub delivered: u64,
    /// Opened by a person (machine opens never count).
    pub opened: u64,
    pub clicked: u64,
    /// Of delivered, in percent (one decimal).
    pub open_rate: f64,
    pub click_rate: f64,
}

/// A campaign's A/B test in its report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AbReport {
    /// `opens` or `clicks`.
    pub metric: String,
    /// Percent of the audience per variant in the test.
    pub share_pct: u32,
    /// How long after the start the winner is picked (`4h`).
    pub wait: String,
    /// When the winner is (or was) picked; null before the send starts.
    pub decide_at: Option<String>,
    /// The winner's name once picked.
    pub winner: Option<String>,
    /// Why it won, in words.
    pub why: Option<String>,
    pub variants: Vec<AbVariantReport>,
}

fn rate(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 * 1000.0 / of as f64).round() / 10.0
    }
}

/// The winner among `variants` variants by `metric`, and why in words. The highest rate of
/// delivered copies wins; a tie, or a test where nothing was delivered, goes to the earliest
/// variant (A: the campaign as written).
pub fn pick_winner(figures: &[AbFigures], variants: u32, metric: AbMetric) -> (u32, String) {
    let score = |f: &AbFigures| match metric {
        AbMetric::Opens => (f.opened, f.delivered),
        AbMetric::Clicks => (f.clicked, f.delivered),
    };
    let mut best: Option<(u32, u64, u64)> = None;
    for v in 0..variants {
        let (n, of) = figures
            .iter()
            .find(|f| f.variant == v)
            .map(score)
            .unwrap_or((0, 0));
        let better = match best {
            None => true,
            // n/of > bn/bof, without division (u128: no overflow).
            Some((_, bn, bof)) => {
                of > 0
                    && (bof == 0
                        || u128::from(n) * u128::from(bof) > u128::from(bn) * u128::from(of))
            }
        };
        if better {
            best = Some((v, n, of));
        }
    }
    // Nothing opened (or clicked) anywhere: the campaign as written, whatever was delivered.
    let (v, n, of) = best.filter(|(_, n, _)| *n > 0).unwrap_or((0, 0, 0));
    let what = match metric {
        AbMetric::Opens => "opened by a person",
        AbMetric::Clicks => "clicked by a person",
    };
    let why = if n == 0 {
        format!(
            "no variant was {what} yet: {} (the campaign as written) goes to the rest",
            variant_name(0)
        )
    } else {
        format!(
            "{} was {what} most: {n} of {of} delivered ({} %)",
            variant_name(v),
            rate(n, of)
        )
    };
    (v, why)
}

/// Pick the winner of every A/B test whose time has come, and send the rest the winner; the
/// campaigns decided by this call, with their winners. Safe on several nodes: each winner is
/// recorded once.
pub async fn decide_due<S: Store>(
    store: &S,
    now_ms: i64,
) -> Result<Vec<(CampaignId, u32)>, StoreError> {
    let mut out = Vec::new();
    for id in store.ab_due(now_ms).await? {
        match decide_one(store, id, now_ms).await {
            Ok(Some(w)) => out.push((id, w)),
            Ok(None) => {}
            // One campaign's trouble does not hold up the others.
            Err(e) => tracing::warn!(campaign = id.0, error = %e, "deciding an A/B test failed"),
        }
    }
    Ok(out)
}

/// Decide one due test: the winner, or None when another node did.
async fn decide_one<S: Store>(
    store: &S,
    id: CampaignId,
    now_ms: i64,
) -> Result<Option<u32>, StoreError> {
    let Some(c) = store.campaign(id).await? else {
        return Ok(None);
    };
    let figures = store.ab_figures(id).await?;
    let (winner, why) = match AbTest::of(&c) {
        Some(test) => {
            // Every variant that was sent counts, as many as the test had.
            let variants = figures
                .iter()
                .map(|f| f.variant + 1)
                .max()
                .unwrap_or(0)
                .max(test.count());
            pick_winner(&figures, variants, test.metric)
        }
        // Unreadable: the rest must not wait for ever.
        None => (
            0,
            "the test could not be read: A (the campaign as written) goes to the rest".into(),
        ),
    };
    let result = serde_json::json!({
        "why": why,
        "figures": figures.iter().map(|f| serde_json::json!({
            "variant": variant_name(f.variant), "recipients": f.recipients,
            "delivered": f.delivered, "opened": f.opened, "clicked": f.clicked,
        })).collect::<Vec<_>>(),
    })
    .to_string();
    if store.decide_ab(id, winner, &result, now_ms).await? {
        tracing::info!(campaign = id.0, winner = %variant_name(winner), %why, "A/B test decided");
        return Ok(Some(winner));
    }
    Ok(None)
}

/// A campaign's A/B test as its report shows it (None: it has none).
pub async fn report<S: Store>(store: &S, c: &Campaign) -> Result<Option<AbReport>, StoreError> {
    let Some(test) = AbTest::of(c) else {
        return Ok(None);
    };
    let figures = if c.ab_decide_at_ms.is_some() {
        store.ab_figures(c.id).await?
    } else {
        Vec::new()
    };
    let why = c
        .ab_result
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .and_then(|v| v["why"].as_str().map(str::to_string));
    Ok(Some(AbReport {
        metric: test.metric.as_str().into(),
        share_pct: test.share_pct,
        wait: humantime::format_duration(std::time::Duration::from_millis(
            test.wait_ms.max(0) as u64
        ))
        .to_string(),
        decide_at: c.ab_decide_at_ms.map(crate::reports::ms_to_rfc3339),
        winner: c.ab_winner.map(variant_name),
        why,
        variants: (0..test.count())
            .map(|v| {
                let f = figures.iter().find(|f| f.variant == v);
                let n = |g: fn(&AbFigures) -> u64| f.map(g).unwrap_or(0);
                let delivered = n(|f| f.delivered);
                AbVariantReport {
                    name: variant_name(v),
                    subject: test.apply(c, v).subject,
                    recipients: n(|f| f.recipients),
                    delivered,
                    opened: n(|f| f.opened),
                    clicked: n(|f| f.clicked),
                    open_rate: rate(n(|f| f.opened), delivered),
                    click_rate: rate(n(|f| f.clicked), delivered),
                }
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(variant: u32, delivered: u64, opened: u64, clicked: u64) -> AbFigures {
        AbFigures {
            variant,
            recipients: delivered,
            delivered,
            opened,
            clicked,
        }
    }

    #[test]
    fn the_best_rate_wins_and_a_tie_goes_to_the_campaign_as_written() {
        let figs = [f(0, 100, 20, 1), f(1, 50, 15, 0)];
        assert_eq!(
            pick_winner(&figs, 2, AbMetric::Opens).0,
            1,
            "30 % beats 20 %"
        );
        assert_eq!(pick_winner(&figs, 2, AbMetric::Clicks).0, 0);
        let tie = [f(0, 10, 2, 0), f(1, 20, 4, 0)];
        assert_eq!(pick_winner(&tie, 2, AbMetric::Opens).0, 0);
        let (w, why) = pick_winner(&[], 3, AbMetric::Opens);
        assert_eq!(w, 0);
        assert!(why.contains("no variant"), "{why}");
        let (w, why) = pick_winner(&[f(0, 0, 0, 0), f(2, 4, 1, 0)], 3, AbMetric::Opens);
        assert_eq!((w, why.starts_with("C was opened")), (2, true), "{why}");
        // Delivered but opened by no one, while A's copies were not delivered: still A.
        let (w, why) = pick_winner(&[f(1, 5, 0, 0)], 2, AbMetric::Opens);
        assert_eq!(w, 0, "{why}");
        assert!(why.contains("no variant"), "{why}");
    }

    #[test]
    fn a_test_that_cannot_run_is_refused_with_why() {
        let ok = AbTest {
            variants: vec![AbVariant {
                subject: Some("B".into()),
                ..Default::default()
            }],
            share_pct: 20,
            metric: AbMetric::Opens,
            wait_ms: 3_600_000,
        };
        assert!(ok.check().is_ok());
        let with = |f: &dyn Fn(&mut AbTest)| {
            let mut t = ok.clone();
            f(&mut t);
            t.check().unwrap_err().to_string()
        };
        assert!(with(&|t| t.share_pct = 51).contains("1 to 50 %"));
        assert!(with(&|t| t.share_pct = u32::MAX / 2 + 1).contains("1 to 50 %"));
        assert!(with(&|t| t.variants[0] = AbVariant::default()).contains("changes nothing"));
        assert!(with(&|t| t.variants.clear()).contains("1 to 3 variants"));
        assert!(with(&|t| t.wait_ms = 10).contains("1 s to 30 days"));
    }
}
