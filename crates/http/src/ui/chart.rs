//! The performance page's chart: deliveries, bounces and opens over time, drawn server-side as
//! SVG from the per-minute counts the store keeps (`campaign_timeline`), so it costs one indexed
//! read at any campaign size and needs no JavaScript.

use herald_engine::reports::ms_to_rfc3339;
use herald_store::TimelinePoint;

/// Bars at most; minutes are merged into wider buckets beyond that.
const MAX_BUCKETS: i64 = 48;
const WIDTH: u32 = 720;
const HEIGHT: u32 = 160;

/// One series' bar in one bucket, in SVG units.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub class: &'static str,
    pub title: String,
}

pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    pub from: String,
    pub to: String,
    /// Minutes per bar.
    pub bucket_minutes: i64,
    pub totals: [u64; 3],
}

/// Which series a timeline kind belongs to: 0 accepted (by the recipient's server, or by the
/// relay), 1 bounced (at once or later), 2 human opens.
fn series(kind: &str) -> Option<usize> {
    match kind {
        "delivered" | "relayed" => Some(0),
        "bounced" | "async_bounce" => Some(1),
        "open" => Some(2),
        _ => None,
    }
}

const NAMES: [(&str, &str); 3] = [
    ("delivered", "accepted"),
    ("bounced", "bounced"),
    ("opened", "opened (by people)"),
];

pub fn build(points: &[TimelinePoint]) -> Option<Chart> {
    let relevant: Vec<(i64, usize, u64)> = points
        .iter()
        .filter_map(|p| series(&p.kind).map(|s| (p.minute, s, p.n)))
        .collect();
    let first = relevant.iter().map(|p| p.0).min()?;
    let last = relevant.iter().map(|p| p.0).max()?;
    let span = last - first + 1;
    let bucket_minutes = (span + MAX_BUCKETS - 1) / MAX_BUCKETS;
    let buckets = ((span + bucket_minutes - 1) / bucket_minutes) as usize;
    let mut sums = vec![[0u64; 3]; buckets];
    let mut totals = [0u64; 3];
    for (minute, s, n) in relevant {
        let b = ((minute - first) / bucket_minutes) as usize;
        sums[b][s] += n;
        totals[s] += n;
    }
    let max = sums
        .iter()
        .flat_map(|b| b.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    // Few buckets (a short send) keep narrow bars rather than a few wall-wide blocks.
    let slot = (WIDTH / buckets as u32).min(30);
    let bar_w = (slot.saturating_sub(2) / 3).max(1);
    let mut bars = Vec::new();
    for (i, b) in sums.iter().enumerate() {
        let at = ms_to_rfc3339((first + i as i64 * bucket_minutes) * 60_000);
        for (s, n) in b.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let h = ((*n as f64 / max as f64) * f64::from(HEIGHT - 10)).ceil() as u32;
            bars.push(Bar {
                x: i as u32 * slot + s as u32 * bar_w,
                y: HEIGHT - h,
                w: bar_w,
                h,
                class: NAMES[s].0,
                title: format!("{at}: {n} {}", NAMES[s].1),
            });
        }
    }
    Some(Chart {
        width: WIDTH,
        height: HEIGHT,
        bars,
        from: ms_to_rfc3339(first * 60_000),
        to: ms_to_rfc3339((last + 1) * 60_000),
        bucket_minutes,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(minute: i64, kind: &str, n: u64) -> TimelinePoint {
        TimelinePoint {
            minute,
            kind: kind.into(),
            n,
        }
    }

    #[test]
    fn buckets_series_and_scale() {
        assert!(build(&[]).is_none());
        assert!(
            build(&[p(5, "deferred", 3)]).is_none(),
            "deferrals are not drawn"
        );
        let c = build(&[
            p(100, "delivered", 10),
            p(100, "bounced", 2),
            p(101, "async_bounce", 1),
            p(101, "open:machine", 50),
            p(199, "open", 5),
        ])
        .unwrap();
        // 100 minutes into at most 48 bars: 3 minutes per bar.
        assert_eq!(c.bucket_minutes, 3);
        assert_eq!(c.totals, [10, 3, 5], "machine opens are not people's");
        let tallest = c.bars.iter().max_by_key(|b| b.h).unwrap();
        assert_eq!(
            (tallest.class, tallest.y + tallest.h),
            ("delivered", c.height)
        );
        assert!(c.bars.iter().all(|b| b.x + b.w <= c.width));
    }
}
