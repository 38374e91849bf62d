//! DMARC aggregate reports: kept once per reporter, report id and domain; summed per domain
//! and source IP over a period; listed newest first with their totals.

use super::*;
use herald_store::*;

const DAY: i64 = 86_400_000;

/// A source's ip, messages, DMARC pass, DKIM and SPF aligned, quarantined, rejected, reporters.
type Figures<'a> = (&'a str, u64, u64, u64, u64, u64, u64, u64);

fn row(ip: &str, messages: i64, dkim: &str, spf: &str, disposition: &str) -> NewDmarcRow {
    NewDmarcRow {
        source_ip: ip.into(),
        messages,
        disposition: disposition.into(),
        dkim: dkim.into(),
        spf: spf.into(),
        header_from: "example.com".into(),
        envelope_from: "bounces.example.com".into(),
        dkim_results: r#"[{"domain":"example.com","selector":"h1","result":"pass"}]"#.into(),
        spf_results: r#"[{"domain":"bounces.example.com","result":"pass"}]"#.into(),
    }
}

fn report(
    org: &str,
    id: &str,
    domain: &str,
    end_ms: i64,
    rows: Vec<NewDmarcRow>,
) -> NewDmarcReport {
    NewDmarcReport {
        org: org.into(),
        email: format!("dmarc@{org}"),
        report_id: id.into(),
        domain: domain.into(),
        policy: "none".into(),
        subdomain_policy: "none".into(),
        begin_ms: end_ms - DAY,
        end_ms,
        received_ms: end_ms + 1000,
        source: "mail".into(),
        rows,
    }
}

async fn dmarc_scenario(store: AnyStore) {
    let backend = store.backend();
    let t = 100 * DAY;
    let google = report(
        "google.com",
        "g-1",
        "example.com",
        t,
        vec![
            row("192.0.2.1", 40, "pass", "pass", "none"),
            row("203.0.113.7", 3, "fail", "fail", "quarantine"),
        ],
    );
    assert!(store.record_dmarc(&google).await.unwrap(), "{backend}");
    // The same report again (mailed twice, or mailed and imported): kept once.
    assert!(!store.record_dmarc(&google).await.unwrap(), "{backend}");
    // Another reporter; a second domain; an old report outside the period; a big report
    // (over one INSERT's worth of rows).
    let many: Vec<NewDmarcRow> = (0..1_200)
        .map(|i| {
            row(
                &format!("198.51.{}.{}", i / 250, i % 250),
                1,
                "none",
                "fail",
                "reject",
            )
        })
        .collect();
    for r in [
        report(
            "Yahoo",
            "y-1",
            "example.com",
            t - DAY,
            vec![
                row("192.0.2.1", 10, "pass", "fail", "none"),
                row("203.0.113.7", 2, "fail", "fail", "reject"),
            ],
        ),
        report("google.com", "g-2", "other.example", t, many),
        report(
            "google.com",
            "g-old",
            "example.com",
            t - 60 * DAY,
            vec![row("192.0.2.1", 1000, "fail", "fail", "none")],
        ),
    ] {
        assert!(store.record_dmarc(&r).await.unwrap(), "{backend}");
    }
    let since = t - 30 * DAY;

    let sources = store.dmarc_sources("example.com", since).await.unwrap();
    let got: Vec<Figures> = sources
        .iter()
        .map(|s| {
            (
                s.source_ip.as_str(),
                s.messages,
                s.dmarc_pass,
                s.dkim_pass,
                s.spf_pass,
                s.quarantined,
                s.rejected,
                s.reporters,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("192.0.2.1", 50, 50, 50, 40, 0, 0, 2),
            ("203.0.113.7", 5, 0, 0, 0, 3, 2, 2),
        ],
        "{backend}: the old report is outside the period, the duplicate not counted"
    );
    assert_eq!(sources[0].first_ms, t - 2 * DAY, "{backend}");
    assert_eq!(sources[0].last_ms, t, "{backend}");
    assert_eq!(sources[0].header_from, "example.com");

    let all = store.dmarc_sources("", since).await.unwrap();
    assert_eq!(all.len(), 2 + 1_200, "{backend}: every domain");
    assert!(
        all.iter()
            .filter(|s| s.domain == "other.example")
            .all(|s| s.messages == 1 && s.rejected == 1 && s.dmarc_pass == 0),
        "{backend}"
    );

    let reporters = store.dmarc_reporters("example.com", since).await.unwrap();
    let got: Vec<(&str, u64, u64, i64, i64, &str)> = reporters
        .iter()
        .map(|r| {
            (
                r.org.as_str(),
                r.reports,
                r.messages,
                r.first_ms,
                r.last_ms,
                r.policy.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("google.com", 1, 43, t - DAY, t, "none"),
            ("Yahoo", 1, 12, t - 2 * DAY, t - DAY, "none")
        ],
        "{backend}: per reporter, the biggest first; the old report outside the period"
    );
    // Over all time and domains: google.com's two reports on example.com are one reporter.
    let all = store.dmarc_reporters("", 0).await.unwrap();
    let google = all
        .iter()
        .find(|r| r.domain == "example.com" && r.org == "google.com")
        .unwrap();
    assert_eq!((google.reports, google.messages), (2, 1043), "{backend}");
    assert_eq!(all.len(), 3, "{backend}");

    // Reports whose period ended before the cut are forgotten with their rows.
    assert_eq!(
        store.prune_dmarc(t - 30 * DAY).await.unwrap(),
        1,
        "{backend}"
    );
    let all = store.dmarc_reporters("", 0).await.unwrap();
    let google = all
        .iter()
        .find(|r| r.domain == "example.com" && r.org == "google.com")
        .unwrap();
    assert_eq!((google.reports, google.messages), (1, 43), "{backend}");
    assert_eq!(
        store.dmarc_sources("example.com", 0).await.unwrap()[0].messages,
        50,
        "{backend}: the pruned report's rows are gone"
    );
}

#[tokio::test]
async fn dmarc_reports_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    dmarc_scenario(sqlite).await;
    let db = PgDb::create().await;
    dmarc_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
