//! Segments (design §6b): saved, named rules over contacts (`herald_domain::segment`), counted
//! before sending, and a campaign's audience narrowed by one and/or minus another.

use herald_domain::segment::{self, Rule};
use herald_store::{AudienceFilter, SegmentRecord, Store};
use schemars::JsonSchema;
use serde::Serialize;

use super::AudienceError;
use crate::reports::ms_to_rfc3339;

/// The longest segment name.
const MAX_NAME: usize = 100;

/// A segment as the CLI's `--json` and the API show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SegmentView {
    pub name: String,
    pub rule: String,
    /// Contacts it selects now.
    pub count: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// Parse `rule` and check that the lists it names exist.
pub async fn check_rule<S: Store>(store: &S, rule: &str) -> Result<Rule, AudienceError> {
    let parsed = segment::parse(rule).map_err(|e| AudienceError::BadRule(e.to_string()))?;
    let mut names = Vec::new();
    lists_named(&parsed, &mut names);
    if !names.is_empty() {
        let lists = store.lists().await?;
        for n in names {
            if !lists.iter().any(|(l, _)| l == n) {
                return Err(AudienceError::BadRule(format!(
                    "rule: there is no list {n:?} (`herald lists list` shows them)"
                )));
            }
        }
    }
    Ok(parsed)
}

fn lists_named<'a>(r: &'a Rule, out: &mut Vec<&'a str>) {
    match r {
        Rule::And(a, b) | Rule::Or(a, b) => {
            lists_named(a, out);
            lists_named(b, out);
        }
        Rule::Not(a) => lists_named(a, out),
        Rule::List(n) => out.push(n),
        _ => {}
    }
}

fn check_name(name: &str) -> Result<&str, AudienceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AudienceError::BadSegmentName);
    }
    Ok(name)
}

async fn view<S: Store>(
    store: &S,
    r: SegmentRecord,
    now_ms: i64,
) -> Result<SegmentView, AudienceError> {
    let count = match segment::parse(&r.rule) {
        Ok(rule) => {
            store
                .segment_count(&AudienceFilter {
                    include: Some(rule),
                    now_ms,
                    ..AudienceFilter::default()
                })
                .await?
        }
        // Saved rules were checked; a rule that no longer parses counts nobody.
        Err(_) => 0,
    };
    Ok(SegmentView {
        name: r.name,
        rule: r.rule,
        count,
        created_at: ms_to_rfc3339(r.created_at_ms),
        updated_at: ms_to_rfc3339(r.updated_at_ms),
    })
}

/// The saved segment `name`.
pub async fn find<S: Store>(store: &S, name: &str) -> Result<SegmentRecord, AudienceError> {
    store
        .segment_records()
        .await?
        .into_iter()
        .find(|s| s.name == name.trim())
        .ok_or_else(|| AudienceError::UnknownSegment(name.trim().to_string()))
}

/// Save a new segment; its count.
pub async fn create<S: Store>(
    store: &S,
    name: &str,
    rule: &str,
    now_ms: i64,
) -> Result<SegmentView, AudienceError> {
    let name = check_name(name)?;
    check_rule(store, rule).await?;
    if !store.create_segment(name, rule.trim(), now_ms).await? {
        return Err(AudienceError::SegmentTaken(name.to_string()));
    }
    view(store, find(store, name).await?, now_ms).await
}

/// Change a segment's rule and/or name.
pub async fn update<S: Store>(
    store: &S,
    name: &str,
    rule: Option<&str>,
    rename: Option<&str>,
    now_ms: i64,
) -> Result<SegmentView, AudienceError> {
    let old = find(store, name).await?;
    let new_name = match rename {
        Some(n) => check_name(n)?.to_string(),
        None => old.name.clone(),
    };
    let rule = match rule {
        Some(r) => {
            check_rule(store, r).await?;
            r.trim().to_string()
        }
        None => old.rule.clone(),
    };
    if new_name != old.name
        && store
            .segment_records()
            .await?
            .iter()
            .any(|s| s.name == new_name)
    {
        return Err(AudienceError::SegmentTaken(new_name));
    }
    if !store
        .update_segment(&old.name, &new_name, &rule, now_ms)
        .await?
    {
        return Err(AudienceError::UnknownSegment(old.name));
    }
    view(store, find(store, &new_name).await?, now_ms).await
}

pub async fn delete<S: Store>(store: &S, name: &str) -> Result<(), AudienceError> {
    if !store.delete_segment(name.trim()).await? {
        return Err(AudienceError::UnknownSegment(name.trim().to_string()));
    }
    Ok(())
}

/// Every segment with its count now.
pub async fn list<S: Store>(store: &S, now_ms: i64) -> Result<Vec<SegmentView>, AudienceError> {
    Ok(page(store, None, usize::MAX, now_ms).await?.0)
}

/// Up to `limit` segments by name, after `after`, each counted now (only those: counting is
/// the cost), and the next page's cursor (its last name; None on the last page).
pub async fn page<S: Store>(
    store: &S,
    after: Option<&str>,
    limit: usize,
    now_ms: i64,
) -> Result<(Vec<SegmentView>, Option<String>), AudienceError> {
    let mut records = store.segment_records().await?;
    records.sort_by(|a, b| a.name.cmp(&b.name));
    records.retain(|r| after.is_none_or(|a| r.name.as_str() > a));
    let next = (records.len() > limit).then(|| records[limit - 1].name.clone());
    records.truncate(limit);
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        out.push(view(store, r, now_ms).await?);
    }
    Ok((out, next))
}

/// What a rule selects now: how many, and the first few addresses.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RuleCount {
    pub rule: String,
    pub count: u64,
    /// Up to 10 of them, by when they became contacts.
    pub sample: Vec<String>,
}

/// Count the contacts `rule` selects now (`segments count`, the API, the builder's preview).
pub async fn count<S: Store>(
    store: &S,
    rule: &str,
    now_ms: i64,
) -> Result<RuleCount, AudienceError> {
    let parsed = check_rule(store, rule).await?;
    let filter = AudienceFilter {
        include: Some(parsed),
        now_ms,
        ..AudienceFilter::default()
    };
    let count = store.segment_count(&filter).await?;
    let sample = store
        .segment_page(&filter, 0, 10)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    Ok(RuleCount {
        rule: rule.trim().to_string(),
        count,
        sample,
    })
}

/// Who a campaign goes to: the subscribed members of its list and of its other lists (each
/// person once), narrowed by its segment, minus its exclusion and its excluded lists
/// (`campaign audience`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CampaignAudience {
    pub campaign: String,
    /// Its own list (its messages' List-Id).
    pub list: String,
    /// The other lists it goes to, by name.
    pub also_lists: Vec<String>,
    pub segment: Option<String>,
    pub exclude: Option<String>,
    /// Lists whose subscribed members it keeps out (`not_sent: excluded`), by name.
    pub exclude_lists: Vec<String>,
    /// Subscribed members it would be sent to now (before the suppression list).
    pub recipients: u64,
    /// Subscribed members the segment selects that the exclusion or an excluded list keeps
    /// out (`not_sent: excluded`).
    pub excluded: u64,
}

/// What changes a campaign's audience: `None` keeps; for a segment `Some(None)` clears and
/// `Some(Some(name))` sets (the segment's rule is copied as it is now); for lists `Some(names)`
/// replaces (empty: none).
#[derive(Debug, Clone, Default)]
pub struct AudienceChange {
    pub segment: Option<Option<String>>,
    pub exclude: Option<Option<String>>,
    pub also_lists: Option<Vec<String>>,
    pub exclude_lists: Option<Vec<String>>,
}

impl AudienceChange {
    /// Nothing to change: only count.
    pub fn is_empty(&self) -> bool {
        self.segment.is_none()
            && self.exclude.is_none()
            && self.also_lists.is_none()
            && self.exclude_lists.is_none()
    }
}

/// The most lists a campaign goes to besides its own, and the most it keeps out.
pub const MAX_LISTS: usize = 50;

/// Count a campaign's audience now.
pub async fn campaign_audience<S: Store>(
    store: &S,
    id: herald_store::CampaignId,
    now_ms: i64,
) -> Result<CampaignAudience, AudienceError> {
    let c = store
        .campaign(id)
        .await?
        .ok_or_else(|| AudienceError::UnknownCampaign(id.to_string()))?;
    let parse = |s: &Option<(String, String)>| -> Result<Option<Rule>, AudienceError> {
        s.as_ref()
            .map(|(_, r)| segment::parse(r).map_err(|e| AudienceError::BadRule(e.to_string())))
            .transpose()
    };
    let mut lists = vec![c.list];
    lists.extend(c.also_lists.iter().map(|l| l.0));
    let selected = AudienceFilter {
        include: parse(&c.segment)?,
        lists,
        now_ms,
        ..AudienceFilter::default()
    };
    let recipients = store
        .segment_count(&AudienceFilter {
            exclude: parse(&c.exclude)?,
            exclude_lists: c.exclude_lists.iter().map(|l| l.0).collect(),
            ..selected.clone()
        })
        .await?;
    let excluded = if c.exclude.is_some() || !c.exclude_lists.is_empty() {
        store
            .segment_count(&selected)
            .await?
            .saturating_sub(recipients)
    } else {
        0
    };
    let names = |l: Vec<(herald_store::ListId, String)>| l.into_iter().map(|(_, n)| n).collect();
    Ok(CampaignAudience {
        campaign: id.to_string(),
        list: c.list_name,
        also_lists: names(c.also_lists),
        segment: c.segment.map(|s| s.0),
        exclude: c.exclude.map(|s| s.0),
        exclude_lists: names(c.exclude_lists),
        recipients,
        excluded,
    })
}

/// `own`'s other lists and excluded lists, checked: the campaign's own list is not kept out,
/// no list is both; the own list among the others is left out (it is its list already).
type Lists = Vec<(herald_store::ListId, String)>;
fn both_ways(
    own: herald_store::ListId,
    also: Lists,
    out: Lists,
) -> Result<(Lists, Lists), AudienceError> {
    if let Some((_, name)) = out.iter().find(|(l, _)| *l == own) {
        return Err(AudienceError::BadRule(format!(
            "--exclude-list {name:?}: it is the campaign's own list"
        )));
    }
    if let Some((_, name)) = out.iter().find(|l| also.contains(l)) {
        return Err(AudienceError::BadRule(format!(
            "list {name:?} is both among the lists it goes to and those it keeps out"
        )));
    }
    let also = also.into_iter().filter(|(l, _)| *l != own).collect();
    Ok((also, out))
}

/// A template that does not render for a list's members is the user's to fix; a database
/// failure is not.
fn render_refusal(e: crate::campaign::CampaignError) -> AudienceError {
    match e {
        crate::campaign::CampaignError::Store(e) => AudienceError::Store(e),
        other => AudienceError::BadRule(other.to_string()),
    }
}

/// The other and excluded lists of a draft about to be created from `input` (`campaign create
/// --also-list/--exclude-list`, the API's `also_lists`/`exclude_lists`), checked before it is
/// created (known, not both ways, its own list not kept out, its templates render for their
/// members), so a refusal creates nothing. Store them with [`attach_lists`].
pub async fn lists_for_new<S: Store>(
    store: &S,
    input: &crate::campaign::CampaignInput,
    also_lists: &[String],
    exclude_lists: &[String],
) -> Result<(Lists, Lists), AudienceError> {
    if also_lists.is_empty() && exclude_lists.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let also = resolve_lists(store, also_lists, "--also-list").await?;
    let out = resolve_lists(store, exclude_lists, "--exclude-list").await?;
    // An unknown own list is `create`'s to refuse, in its words.
    let Some(own) = store.find_list(input.list.trim()).await? else {
        return Ok((also, out));
    };
    let (also, out) = both_ways(own, also, out)?;
    crate::campaign::check_renders_for(store, input, &also)
        .await
        .map_err(render_refusal)?;
    Ok((also, out))
}

/// Give the draft just created the lists [`lists_for_new`] checked. Should that fail (the
/// database), the draft is deleted again: a create that is refused leaves nothing behind.
pub async fn attach_lists<S: Store>(
    store: &S,
    id: herald_store::CampaignId,
    (also, out): &(Lists, Lists),
    now_ms: i64,
) -> Result<(), AudienceError> {
    if also.is_empty() && out.is_empty() {
        return Ok(());
    }
    let ids = |l: &Lists| l.iter().map(|l| l.0).collect::<Vec<_>>();
    let (also_ids, out_ids) = (ids(also), ids(out));
    let setting = herald_store::AudienceSetting {
        also_lists: &also_ids,
        exclude_lists: &out_ids,
        ..herald_store::AudienceSetting::default()
    };
    let attached = store.set_campaign_audience(id, &setting, now_ms).await;
    if !matches!(attached, Ok(true))
        && let Err(e) = store.delete_draft(id, now_ms).await
    {
        tracing::warn!(campaign = id.0, error = %e, "deleting the draft whose lists were refused");
    }
    match attached {
        Ok(true) => Ok(()),
        Ok(false) => Err(AudienceError::CampaignStarted(id.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Lists by name (each once, in the order given), at most [`MAX_LISTS`]; `flag` names the
/// option in the error.
pub async fn resolve_lists<S: Store>(
    store: &S,
    names: &[String],
    flag: &str,
) -> Result<Vec<(herald_store::ListId, String)>, AudienceError> {
    if names.len() > MAX_LISTS {
        return Err(AudienceError::BadRule(format!(
            "{flag}: at most {MAX_LISTS} lists"
        )));
    }
    let mut out: Vec<(herald_store::ListId, String)> = Vec::new();
    for name in names {
        let name = name.trim();
        let id = store
            .find_list(name)
            .await?
            .ok_or_else(|| AudienceError::UnknownList(name.to_string()))?;
        if !out.iter().any(|(l, _)| *l == id) {
            out.push((id, name.to_string()));
        }
    }
    Ok(out)
}

/// A campaign's (segment name, rule) as the store takes it.
pub fn as_refs(s: &Option<(String, String)>) -> Option<(&str, &str)> {
    s.as_ref().map(|(n, r)| (n.as_str(), r.as_str()))
}

/// Narrow (or widen again) a draft's audience by saved segments, add lists to it or keep
/// lists out; its count after. Lists it gains are checked as `create` checks its own: the
/// templates must render for their members.
pub async fn set_campaign_audience<S: Store>(
    store: &S,
    id: herald_store::CampaignId,
    change: &AudienceChange,
    now_ms: i64,
) -> Result<CampaignAudience, AudienceError> {
    let c = store
        .campaign(id)
        .await?
        .ok_or_else(|| AudienceError::UnknownCampaign(id.to_string()))?;
    async fn resolve<S: Store>(
        store: &S,
        change: &Option<Option<String>>,
        now: Option<(String, String)>,
    ) -> Result<Option<(String, String)>, AudienceError> {
        Ok(match change {
            None => now,
            Some(None) => None,
            Some(Some(name)) => {
                let s = find(store, name).await?;
                Some((s.name, s.rule))
            }
        })
    }
    let segment = resolve(store, &change.segment, c.segment.clone()).await?;
    let exclude = resolve(store, &change.exclude, c.exclude.clone()).await?;
    // The lists they name must still exist (a list renamed since would select nobody).
    for (name, rule) in segment.iter().chain(exclude.iter()) {
        check_rule(store, rule)
            .await
            .map_err(|e| AudienceError::BadRule(format!("segment {name:?}: {e}")))?;
    }
    let also = match &change.also_lists {
        Some(names) => resolve_lists(store, names, "--also-list").await?,
        None => c.also_lists.clone(),
    };
    let out = match &change.exclude_lists {
        Some(names) => resolve_lists(store, names, "--exclude-list").await?,
        None => c.exclude_lists.clone(),
    };
    let (also, out) = both_ways(c.list, also, out)?;
    let gained: Vec<_> = also
        .iter()
        .filter(|l| !c.also_lists.contains(l))
        .cloned()
        .collect();
    crate::campaign::check_renders_for(store, &crate::campaign::input_of(&c), &gained)
        .await
        .map_err(render_refusal)?;
    let ids = |l: &[(herald_store::ListId, String)]| l.iter().map(|l| l.0).collect::<Vec<_>>();
    let (also_ids, out_ids) = (ids(&also), ids(&out));
    let setting = herald_store::AudienceSetting {
        segment: as_refs(&segment),
        exclude: as_refs(&exclude),
        also_lists: &also_ids,
        exclude_lists: &out_ids,
    };
    if !store.set_campaign_audience(id, &setting, now_ms).await? {
        return Err(AudienceError::CampaignStarted(id.to_string()));
    }
    campaign_audience(store, id, now_ms).await
}
