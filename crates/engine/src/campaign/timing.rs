//! When a campaign goes out: a schedule (an instant, in a zone), or each recipient's local time
//! of day; calling a schedule off.

use herald_store::{CampaignId, Store};

use super::CampaignError;

/// How far ahead a campaign can be scheduled.
pub const MAX_SCHEDULE_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;

/// When a schedule given as `campaign schedule --at T [--tz Z]` starts, in ms since the epoch,
/// and the zone to show it in. `T` is an RFC 3339 time with an offset (`2026-12-10T09:00:00Z`,
/// `…+01:00`: the zone only names how it is shown), or a local date and time
/// (`2026-12-10T09:00`) read in `tz` (default UTC). Daylight-saving gaps and folds resolve as
/// in most calendars: a time that does not exist moves forward by the gap, a repeated one is
/// the first.
pub fn parse_schedule(at: &str, tz: Option<&str>) -> Result<(i64, Option<String>), CampaignError> {
    let bad = |why: String| CampaignError::BadSchedule {
        at: at.to_string(),
        why,
    };
    let zone = match tz {
        Some(name) => Some(jiff::tz::TimeZone::get(name).map_err(|_| {
            bad(format!(
                "unknown time zone {name:?} (an IANA name such as Europe/Warsaw, America/New_York or UTC)"
            ))
        })?),
        None => None,
    };
    let at = at.trim();
    let ms = if let Ok(t) = at.parse::<jiff::Timestamp>() {
        t.as_millisecond()
    } else {
        let civil: jiff::civil::DateTime = at.parse().map_err(|_| {
            bad("expected a date and time such as 2026-12-10T09:00 (with --tz for its zone) or 2026-12-10T09:00:00+01:00".into())
        })?;
        let zone = zone.clone().unwrap_or(jiff::tz::TimeZone::UTC);
        civil
            .to_zoned(zone)
            .map_err(|e| bad(e.to_string()))?
            .timestamp()
            .as_millisecond()
    };
    Ok((ms, tz.map(str::to_string)))
}

/// A schedule's time as it will be shown: RFC 3339 in its zone (`2026-12-10T09:00:00+01:00`),
/// or UTC.
pub fn schedule_local(at_ms: i64, tz: Option<&str>) -> Option<String> {
    let t = jiff::Timestamp::from_millisecond(at_ms).ok()?;
    let zone = tz
        .and_then(|n| jiff::tz::TimeZone::get(n).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    Some(
        t.to_zoned(zone)
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
    )
}

/// Schedule draft `id` to start at `at_ms` (a scheduled one is moved). Refused: a time that has
/// passed or is more than [`MAX_SCHEDULE_AHEAD_MS`] ahead, a campaign whose send started.
pub async fn schedule<S: Store>(
    store: &S,
    id: CampaignId,
    at_ms: i64,
    tz: Option<&str>,
    now_ms: i64,
) -> Result<(), CampaignError> {
    if at_ms <= now_ms {
        return Err(CampaignError::ScheduleOutOfRange(format!(
            "{} has passed (it is {} now, UTC); `herald campaign send {id}` sends at once",
            schedule_local(at_ms, tz).unwrap_or_default(),
            schedule_local(now_ms, None).unwrap_or_default()
        )));
    }
    if at_ms - now_ms > MAX_SCHEDULE_AHEAD_MS {
        return Err(CampaignError::ScheduleOutOfRange(format!(
            "{} is more than a year ahead",
            schedule_local(at_ms, tz).unwrap_or_default()
        )));
    }
    stored_schedule(store, id, at_ms, tz, None, now_ms).await
}

async fn stored_schedule<S: Store>(
    store: &S,
    id: CampaignId,
    at_ms: i64,
    tz: Option<&str>,
    local_time: Option<&str>,
    now_ms: i64,
) -> Result<(), CampaignError> {
    if store
        .schedule_campaign(id, at_ms, tz, local_time, now_ms)
        .await?
    {
        return Ok(());
    }
    refused(store, id, "only a draft can be scheduled").await
}

/// The local date and time every recipient gets a campaign at: the date of `at` (a date,
/// `2026-12-10`, or a date and time whose date counts) at `local_time` (`09:00`).
pub fn parse_local_time(
    at: &str,
    local_time: &str,
) -> Result<jiff::civil::DateTime, CampaignError> {
    let bad = |why: String| CampaignError::BadSchedule {
        at: at.to_string(),
        why,
    };
    let at = at.trim();
    let date: jiff::civil::Date = match at.parse::<jiff::civil::Date>() {
        Ok(d) => d,
        Err(_) => at
            .parse::<jiff::civil::DateTime>()
            .map(|dt| dt.date())
            .map_err(|_| bad("with --local-time, --at is the date: 2026-12-10".into()))?,
    };
    // "9:30" as "09:30".
    let lt = local_time.trim();
    let lt = if lt.find(':') == Some(1) {
        format!("0{lt}")
    } else {
        lt.to_string()
    };
    let time: jiff::civil::Time = lt.parse().map_err(|_| CampaignError::BadSchedule {
        at: local_time.to_string(),
        why: "--local-time is a time of day such as 09:00".into(),
    })?;
    Ok(date.to_datetime(time))
}

/// When a recipient whose contact fields are `fields` gets a campaign sent at `local` in each
/// recipient's own time: in the zone of its `timezone` field (an IANA name), else at its
/// `utc_offset` (`+02:00`, `-5`, `+0530`), else in `default`. Unusable values fall back too.
pub fn local_due(
    local: jiff::civil::DateTime,
    fields: &serde_json::Map<String, serde_json::Value>,
    default: &jiff::tz::TimeZone,
) -> i64 {
    let zone = fields
        .get("timezone")
        .and_then(|v| v.as_str())
        .and_then(|n| jiff::tz::TimeZone::get(n.trim()).ok())
        .or_else(|| {
            fields
                .get("utc_offset")
                .and_then(|v| match v {
                    serde_json::Value::String(s) => parse_offset(s),
                    serde_json::Value::Number(n) => n
                        .as_i64()
                        .filter(|h| (-12..=14).contains(h))
                        .map(|h| h as i32 * 3600),
                    _ => None,
                })
                .and_then(|secs| jiff::tz::Offset::from_seconds(secs).ok())
                .map(jiff::tz::TimeZone::fixed)
        })
        .unwrap_or_else(|| default.clone());
    local
        .to_zoned(zone)
        .or_else(|_| local.to_zoned(default.clone()))
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// `+02:00`, `-05:00`, `+0530`, `-5`, `UTC+2` → seconds east of UTC (within ±14 h).
pub(super) fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let s = s
        .strip_prefix("UTC")
        .or_else(|| s.strip_prefix("GMT"))
        .unwrap_or(s)
        .trim();
    if s.is_empty() {
        return Some(0);
    }
    // Contact data: anything but ASCII digits and signs (a Unicode minus, say) is not an
    // offset — and never a panic on a split inside a character.
    if !s.is_ascii() {
        return None;
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    let secs = sign * (h * 3600 + m * 60);
    // The zones of the world: UTC-12 to UTC+14.
    if !(0..=59).contains(&m) || !(-12 * 3600..=14 * 3600).contains(&secs) {
        return None;
    }
    Some(secs)
}

/// The first and last instants any zone reaches `local` (UTC+14 and UTC-12).
pub fn local_window(local: jiff::civil::DateTime) -> (i64, i64) {
    let at = |hours: i32| {
        jiff::tz::Offset::from_hours(hours as i8)
            .ok()
            .and_then(|o| local.to_zoned(jiff::tz::TimeZone::fixed(o)).ok())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0)
    };
    (at(14), at(-12))
}

/// Schedule draft `id` so each recipient gets it at `local` in their own zone (`default_tz`
/// for contacts without one): `serve` starts it when the first zone reaches that time, and each
/// delivery is due at its recipient's. Refused once every zone has passed it.
pub async fn schedule_local_time<S: Store>(
    store: &S,
    id: CampaignId,
    local: jiff::civil::DateTime,
    default_tz: Option<&str>,
    now_ms: i64,
) -> Result<i64, CampaignError> {
    if store.campaign(id).await?.is_some_and(|c| c.ab.is_some()) {
        return Err(CampaignError::BadAbTest(
            "it has an A/B test, which sends its test group at once and the rest later: it cannot also go out in each recipient's local time (take the test away with `campaign ab ID --off`)".into(),
        ));
    }
    let (first, last) = local_window(local);
    if last <= now_ms {
        return Err(CampaignError::ScheduleOutOfRange(format!(
            "{local} has passed in every time zone; `herald campaign send {id}` sends at once"
        )));
    }
    if first - now_ms > MAX_SCHEDULE_AHEAD_MS {
        return Err(CampaignError::ScheduleOutOfRange(format!(
            "{local} is more than a year ahead"
        )));
    }
    let text = local.strftime("%Y-%m-%dT%H:%M").to_string();
    stored_schedule(
        store,
        id,
        first.max(now_ms),
        default_tz,
        Some(&text),
        now_ms,
    )
    .await?;
    Ok(first.max(now_ms))
}

/// Back to a draft: the scheduled start is called off.
pub async fn unschedule<S: Store>(
    store: &S,
    id: CampaignId,
    now_ms: i64,
) -> Result<(), CampaignError> {
    if store.unschedule_campaign(id, now_ms).await? {
        return Ok(());
    }
    refused(store, id, "it is not scheduled").await
}

/// Why a schedule change did not apply: the campaign is unknown, or its status forbids it.
async fn refused<S: Store>(
    store: &S,
    id: CampaignId,
    what: &'static str,
) -> Result<(), CampaignError> {
    match store.campaign(id).await? {
        None => Err(CampaignError::UnknownCampaign(id)),
        Some(c) => Err(CampaignError::WrongStatus {
            id,
            status: c.status.as_str(),
            what,
        }),
    }
}
