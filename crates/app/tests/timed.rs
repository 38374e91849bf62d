//! What Herald does when time passes, on the application in-process
//! (`herald_testkit::app::spawn_app`) with a clock the test moves: a deferred recipient is
//! retried when its retry is due and expires after `[delivery] expiry`; a campaign scheduled
//! for tomorrow goes out tomorrow, each recipient once with two nodes running (that only one
//! node takes a due schedule is the store's test of `take_due_schedules`); in each recipient's local
//! time, the last zone's copy waits for its morning; a sign-up form wants its minimum fill
//! time and a confirmation link stops working after `[lists] confirm_within`; a preference-centre
//! link after `[lists] preferences_within`, an unsubscribe link never. Hours and days
//! pass in milliseconds: nothing here sleeps for the clock.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use herald_app::startup::App;
use herald_domain::DeliveryState;
use herald_engine::campaign::{self, CampaignInput, TrackingSwitches};
use herald_engine::reports::{CampaignReport, RecipientReport, campaign_report};
use herald_store::CampaignId;
use herald_store::prelude::*;
use herald_testkit::Script;
use herald_testkit::app::{AppOptions, TestApp, spawn_app_with, spawn_node};
use time::OffsetDateTime;
use time::macros::datetime;

/// Where every test's clock starts: noon UTC on 10 March 2027 (far from the system's clock, so
/// a part still reading that one shows).
const NOON: OffsetDateTime = datetime!(2027-03-10 12:00 UTC);

/// An installation whose clock starts at [`NOON`], sending through the scripted peer.
async fn spawn_at_noon() -> TestApp {
    spawn_app_with(AppOptions {
        start: Some(NOON),
        ..AppOptions::default()
    })
    .await
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Import `emails` (and their other columns: `header` names them) into list `all`.
async fn import(app: &App, header: &str, rows: &[&str]) {
    let csv = format!("{header}\n{}\n", rows.join("\n"));
    herald_engine::contacts::import_csv(
        &app.store,
        app.erasure_key().await.unwrap(),
        Box::new(std::io::Cursor::new(csv.into_bytes())),
        "all",
        |_| {},
        app.clock.now_ms(),
    )
    .await
    .unwrap();
}

/// A draft to list `all` (the From gate overridden: no DNS here).
async fn draft(app: &App, name: &str) -> CampaignId {
    draft_with(app, name, "<p>Hello</p>").await
}

async fn draft_with(app: &App, name: &str, html: &str) -> CampaignId {
    campaign::create(
        &app.store,
        &CampaignInput {
            name: name.into(),
            list: "all".into(),
            from: "Ann <ann@sender.example>".into(),
            subject: "Hello {{ contact.first_name | default(\"there\") }}".into(),
            html: html.into(),
            text: None,
            gate_override: Some("tests: no DNS".into()),
            reply_to: None,
            tracking: TrackingSwitches {
                seeds: false,
                ..TrackingSwitches::default()
            },
        },
        app.clock.now_ms(),
    )
    .await
    .unwrap()
}

async fn report(app: &App, id: CampaignId) -> CampaignReport {
    campaign_report(&app.store, id, true)
        .await
        .unwrap()
        .unwrap()
}

fn recipient<'a>(r: &'a CampaignReport, email: &str) -> &'a RecipientReport {
    r.recipients
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|x| x.email == email)
        .unwrap_or_else(|| panic!("{email} is not a recipient"))
}

/// Poll (real time, every 50 ms, at most 20 s) until `f` holds for the campaign's report.
async fn until(
    app: &App,
    id: CampaignId,
    what: &str,
    f: impl Fn(&CampaignReport) -> bool,
) -> CampaignReport {
    let start = std::time::Instant::now();
    loop {
        let r = report(app, id).await;
        if f(&r) {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: {:#?}",
            r.counts
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn state_of(r: &CampaignReport, email: &str) -> DeliveryState {
    recipient(r, email).state
}

fn ms(t: OffsetDateTime) -> i64 {
    herald_engine::ms(t)
}

fn rfc3339(t: OffsetDateTime) -> String {
    herald_engine::reports::ms_to_rfc3339(ms(t))
}

/// A few real poll intervals of the node (nothing is due: nothing may happen in them).
async fn let_the_node_look() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_recipient_is_retried_when_due_and_expires_after_the_expiry() {
    let start = NOON;
    let t = spawn_app_with(AppOptions {
        start: Some(start),
        delivery: "retry_schedule = [\"10m\", \"30m\"]\nexpiry = \"2h\"".into(),
        ..AppOptions::default()
    })
    .await;
    let app = &t.app;
    import(
        app,
        "email",
        &["fine@example.com", "slow@example.com", "never@example.com"],
    )
    .await;
    let busy = Script::Rcpt(451, "4.2.1", "Mailbox busy, try again later");
    t.peer.script("slow@example.com", busy.clone());
    t.peer.script("never@example.com", busy);
    let id = draft(app, "retries").await;
    herald_app::commands::start_send(app, id).await.unwrap();

    let r = until(app, id, "the first attempts", |r| {
        r.counts.relayed == 1 && r.counts.deferred == 2
    })
    .await;
    let slow = recipient(&r, "slow@example.com");
    assert_eq!(slow.attempts, 1);
    assert_eq!(
        slow.next_attempt_at.as_deref(),
        Some(rfc3339(start + 10 * MINUTE).as_str()),
        "the first retry is ten minutes after the attempt, by the installation's clock"
    );
    assert_eq!(
        slow.evidence.as_ref().unwrap().at,
        rfc3339(start),
        "evidence is stamped by the installation's clock"
    );

    // Nine minutes on: not due yet, nothing is tried.
    t.advance(9 * MINUTE);
    let_the_node_look().await;
    assert_eq!(
        recipient(&report(app, id).await, "slow@example.com").attempts,
        1
    );

    // Ten: both are tried again; the mailbox is free now for one of them.
    t.peer.script("slow@example.com", Script::Accept);
    t.advance(MINUTE + Duration::from_secs(1));
    let r = until(app, id, "the retries", |r| {
        recipient(r, "never@example.com").attempts == 2
            && state_of(r, "slow@example.com") == DeliveryState::Relayed
    })
    .await;
    assert_eq!(recipient(&r, "slow@example.com").attempts, 2);
    let never = recipient(&r, "never@example.com");
    assert_eq!(never.state, DeliveryState::Deferred);
    assert_eq!(
        never.next_attempt_at.as_deref(),
        Some(rfc3339(start + 40 * MINUTE + Duration::from_secs(1)).as_str()),
        "then thirty minutes"
    );

    // Past the expiry (two hours after the first attempt): the next refusal ends it.
    t.advance(2 * HOUR);
    let r = until(app, id, "the expiry", |r| {
        state_of(r, "never@example.com") == DeliveryState::Expired
    })
    .await;
    assert_eq!(recipient(&r, "never@example.com").attempts, 3);
    assert_eq!(t.peer.count_for("fine@example.com"), 1);
    assert_eq!(t.peer.count_for("slow@example.com"), 1);
    assert_eq!(t.peer.count_for("never@example.com"), 0);
    t.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_scheduled_for_tomorrow_goes_out_tomorrow_once_with_two_nodes_running() {
    const N: usize = 30;
    let start = NOON;
    // Two nodes on one database: PostgreSQL, as several nodes need.
    let cluster = tempfile::tempdir().unwrap();
    let database = format!(
        "[database]\nurl = {:?}\n",
        common::pg_database(cluster.path())
    );
    let first = spawn_app_with(AppOptions {
        start: Some(start),
        settings: database.clone(),
        node: "n1".into(),
        ..AppOptions::default()
    })
    .await;
    let second = spawn_node(
        &first,
        AppOptions {
            settings: String::new(),
            node: "n2".into(),
            ..AppOptions::default()
        },
    )
    .await;
    let app = &first.app;
    let emails: Vec<String> = (0..N).map(|i| format!("s{i}@example.com")).collect();
    let rows: Vec<&str> = emails.iter().map(String::as_str).collect();
    import(app, "email", &rows).await;
    let id = draft(app, "tomorrow").await;
    let due = start + 24 * HOUR;
    herald_app::commands::schedule_campaign(app, id, ms(due), Some("UTC"))
        .await
        .unwrap();

    // An hour before: still scheduled, nothing sent.
    first.advance(23 * HOUR);
    let_the_node_look().await;
    let r = report(app, id).await;
    assert_eq!(r.campaign.status, "scheduled");
    assert!(
        first.peer.received.lock().unwrap().is_empty(),
        "sent before its time"
    );

    // Its time: everyone once, across both nodes.
    first.advance(HOUR);
    let r = until(app, id, "the scheduled send", |r| {
        r.counts.relayed == N as u64
    })
    .await;
    assert_eq!(
        r.campaign.started_at.as_deref(),
        Some(rfc3339(due).as_str())
    );
    for e in &emails {
        assert_eq!(first.peer.count_for(e), 1, "{e} once");
    }
    // Started: it cannot be unscheduled any more.
    let refused = herald_app::commands::unschedule_campaign(app, id).await;
    assert!(refused.is_err(), "{refused:?}");
    second.stop().await.unwrap();
    first.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_local_time_the_last_zone_gets_its_copy_when_its_morning_comes() {
    // Noon UTC on 10 March 2027: 09:00 that day was yesterday 19:00 UTC on Kiritimati
    // (UTC+14) and is 20:00 UTC in Pago Pago (UTC-11).
    let t = spawn_at_noon().await;
    let app = &t.app;
    import(
        app,
        "email,timezone",
        &[
            "early@example.com,Pacific/Kiritimati",
            "late@example.com,Pacific/Pago_Pago",
        ],
    )
    .await;
    let id = draft(app, "morning").await;
    herald_app::commands::schedule_local_time(app, id, "2027-03-10T09:00".parse().unwrap(), None)
        .await
        .unwrap();
    let r = until(app, id, "the early one", |r| r.counts.relayed == 1).await;
    assert_eq!(state_of(&r, "early@example.com"), DeliveryState::Relayed);
    let late = recipient(&r, "late@example.com");
    assert_eq!(late.state, DeliveryState::Queued);
    assert_eq!(
        late.next_attempt_at.as_deref(),
        Some("2027-03-10T20:00:00.000Z"),
        "09:00 in Pago Pago"
    );

    t.advance(7 * HOUR + 59 * MINUTE);
    let_the_node_look().await;
    assert_eq!(
        t.peer.count_for("late@example.com"),
        0,
        "not before its morning"
    );

    t.advance(MINUTE);
    let r = until(app, id, "the late one", |r| r.counts.relayed == 2).await;
    assert_eq!(
        recipient(&r, "late@example.com")
            .evidence
            .as_ref()
            .unwrap()
            .at,
        "2027-03-10T20:00:00.000Z"
    );
    assert_eq!(t.peer.count_for("late@example.com"), 1);
    t.stop().await.unwrap();
}

/// One request to the node's HTTP server (off the runtime's threads: the helper blocks).
async fn http(
    t: &TestApp,
    method: &'static str,
    path: String,
    form: Option<String>,
) -> common::HttpReply {
    let port = t.listening.http.port();
    tokio::task::spawn_blocking(move || {
        let headers: &[(&str, &str)] = match form {
            Some(_) => &[("Content-Type", "application/x-www-form-urlencoded")],
            None => &[],
        };
        common::http(port, method, &path, headers, form.as_deref())
    })
    .await
    .unwrap()
}

/// The confirmation link (its path) in the last message the peer accepted for `to`.
fn confirm_path(t: &TestApp, to: &str) -> String {
    let received = t.peer.received.lock().unwrap();
    let (_, raw) = received
        .iter()
        .rev()
        .find(|(rcpts, _)| rcpts.iter().any(|r| r == to))
        .unwrap_or_else(|| panic!("no message to {to}"));
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let text = msg.body_text(0).unwrap().to_string();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&t.url("/s/confirm/")))
        .unwrap_or_else(|| panic!("no confirmation link in {text}"));
    link.strip_prefix(&t.base_url).unwrap().to_string()
}

/// Fill the hosted form of list `news` as `email`: posted at once, it is refused (the minimum
/// fill time, 2 s by default, has not passed); two seconds later it is taken.
async fn sign_up(t: &TestApp, email: &str) {
    let page = http(t, "GET", "/s/news".into(), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form = format!(
        "t={}&website=&email={email}",
        common::hidden(&page.body, "t")
    );
    let quick = http(t, "POST", "/s/news".into(), Some(form.clone())).await;
    assert_eq!(quick.status, 422, "{}", quick.body);
    assert!(quick.body.contains("That was quick"), "{}", quick.body);
    t.advance(Duration::from_secs(2));
    let done = http(t, "POST", "/s/news".into(), Some(form)).await;
    assert_eq!(done.status, 200, "{}", done.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_wants_its_fill_time_and_a_confirmation_link_its_window() {
    let t = spawn_at_noon().await;
    let app = &t.app;
    herald_engine::audience::create_list(
        &app.store,
        herald_engine::audience::ListInput {
            name: Some("News".into()),
            slug: Some("news".into()),
            opt_in: Some(herald_domain::OptIn::Double),
            from: Some("Ann <ann@sender.example>".into()),
            ..Default::default()
        },
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    sign_up(&t, "early@example.com").await;
    sign_up(&t, "late@example.com").await;
    let begun = std::time::Instant::now();
    while t.peer.received.lock().unwrap().len() < 2 {
        assert!(
            begun.elapsed() < Duration::from_secs(20),
            "no confirmation messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let early = confirm_path(&t, "early@example.com");
    let late = confirm_path(&t, "late@example.com");

    // Six days on, the early one confirms.
    t.advance(6 * 24 * HOUR);
    let page = http(&t, "GET", early.clone(), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let done = http(&t, "POST", early, Some(String::new())).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("You are subscribed"), "{}", done.body);
    let consents = app.store.consents("early@example.com").await.unwrap();
    assert_eq!(
        consents
            .iter()
            .map(|c| c.confirmed_at_ms)
            .collect::<Vec<_>>(),
        vec![Some(app.clock.now_ms())],
        "confirmed now, by the installation's clock"
    );

    // A day and a minute later, past `confirm_within` (seven days), the late one's link is dead
    // and they stay unconfirmed.
    t.advance(24 * HOUR + MINUTE);
    for (method, body) in [("GET", None), ("POST", Some(String::new()))] {
        let r = http(&t, method, late.clone(), body).await;
        assert_eq!(r.status, 404, "{method}: {}", r.body);
        assert!(r.body.contains("does not work any more"), "{}", r.body);
    }
    let consents = app.store.consents("late@example.com").await.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].confirmed_at_ms, None);
    t.stop().await.unwrap();
}

/// The path of the link to `route` (`/p/`, `/u/`) in the HTML of the last message to `to`.
fn link_path(t: &TestApp, to: &str, route: &str) -> String {
    let received = t.peer.received.lock().unwrap();
    let (_, raw) = received
        .iter()
        .rev()
        .find(|(rcpts, _)| rcpts.iter().any(|r| r == to))
        .unwrap_or_else(|| panic!("no message to {to}"));
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let html = msg.body_html(0).unwrap().to_string();
    let prefix = format!("href=\"{}", t.url(route));
    let at = html
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {route} link in {html}"))
        + "href=\"".len();
    let url = html[at..].split('"').next().unwrap();
    url.strip_prefix(&t.base_url).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preference_link_works_for_ninety_days_and_an_unsubscribe_link_for_ever() {
    let t = spawn_at_noon().await;
    let app = &t.app;
    import(app, "email", &["pat@example.com"]).await;
    let id = draft_with(
        app,
        "links",
        r#"<p><a href="{{ preferences_url }}">Your preferences</a>
           <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"#,
    )
    .await;
    herald_app::commands::start_send(app, id).await.unwrap();
    until(app, id, "the message", |r| r.counts.relayed == 1).await;
    let preferences = link_path(&t, "pat@example.com", "/p/");
    let unsubscribe = link_path(&t, "pat@example.com", "/u/");

    t.advance(89 * 24 * HOUR);
    let r = http(&t, "GET", preferences.clone(), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("pat@example.com"), "{}", r.body);

    // Past `[lists] preferences_within` (90 days): neither shown nor saved.
    t.advance(2 * 24 * HOUR);
    for (method, body) in [
        ("GET", None),
        ("POST", Some("action=everything".to_string())),
    ] {
        let r = http(&t, method, preferences.clone(), body).await;
        assert_eq!(r.status, 410, "{method}: {}", r.body);
        assert!(r.body.contains("does not work any more"), "{}", r.body);
    }
    let r = report(app, id).await;
    assert_eq!(r.counts.unsubscribed, 0, "the expired link changed nothing");
    // The unsubscribe link still works.
    let r = http(&t, "GET", unsubscribe.clone(), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http(&t, "POST", unsubscribe, Some(String::new())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    until(app, id, "the unsubscribe", |r| r.counts.unsubscribed == 1).await;
    t.stop().await.unwrap();
}

/// The health figures count per UTC day by the installation's clock: a send today and one two
/// days later are two days, and a one-day window holds only the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_each_day_by_the_installations_clock() {
    use herald_engine::reports::health::health;
    let t = spawn_at_noon().await;
    let app = &t.app;
    import(
        app,
        "email",
        &["ann@example.com", "bo@example.com", "gone@example.com"],
    )
    .await;
    t.peer.script(
        "gone@example.com",
        Script::Rcpt(550, "5.1.1", "No such user"),
    );
    let first = draft(app, "monday").await;
    herald_app::commands::start_send(app, first).await.unwrap();
    until(app, first, "the first send", |r| {
        r.counts.relayed == 2 && r.counts.bounced == 1
    })
    .await;
    t.advance(48 * HOUR);
    let second = draft(app, "wednesday").await;
    herald_app::commands::start_send(app, second).await.unwrap();
    // The address that bounced for good is not tried again (not sent, not counted).
    until(app, second, "the second send", |r| {
        r.counts.relayed == 2 && r.counts.not_sent == 1
    })
    .await;

    let now = app.clock.now_ms();
    let today = health(&app.store, 1, now).await.unwrap();
    assert_eq!(today.since, "2027-03-12");
    assert_eq!(
        (
            today.overall.sent,
            today.overall.relayed,
            today.overall.bounced
        ),
        (2, 2, 0),
        "{today:#?}"
    );
    assert_eq!(
        today
            .campaigns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["wednesday"]
    );
    let three = health(&app.store, 3, now).await.unwrap();
    assert_eq!(
        three
            .daily
            .iter()
            .map(|d| (d.day.as_str(), d.delivered, d.bounced))
            .collect::<Vec<_>>(),
        vec![("2027-03-10", 2, 1), ("2027-03-12", 2, 0)]
    );
    // Through the test kit's relay: the recipient's provider is the relay's to report.
    let providers: Vec<(&str, u64)> = three
        .providers
        .iter()
        .map(|g| (g.name.as_str(), g.figures.sent))
        .collect();
    assert_eq!(providers, vec![("relay", 5)]);
    assert_eq!(three.senders[0].name, "sender.example");
    assert_eq!(three.overall.bounce_rate, Some(1.0 / 5.0));
    assert_eq!(
        three.overall.verdict, "too_few",
        "5 messages are not judged"
    );
    t.stop().await.unwrap();
}

/// A new From domain warming up at 3 then 5 messages a day: 3 go on its first day and the rest
/// wait queued, unattempted, with the reason and tomorrow's time; 5 more the next day; past the
/// schedule, all the rest. Each recipient once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warmup_sends_each_days_allowance_and_keeps_the_rest_queued() {
    const N: usize = 10;
    let t = spawn_app_with(AppOptions {
        start: Some(NOON),
        delivery: "warmup = [3, 5]".into(),
        ..AppOptions::default()
    })
    .await;
    let app = &t.app;
    let emails: Vec<String> = (0..N).map(|i| format!("w{i}@example.com")).collect();
    let rows: Vec<&str> = emails.iter().map(String::as_str).collect();
    import(app, "email", &rows).await;
    let id = draft(app, "warm").await;
    herald_app::commands::start_send(app, id).await.unwrap();

    let midnight = NOON + 12 * HOUR;
    let waiting = |r: &CampaignReport, day: u32, cap: u32| {
        let queued: Vec<&RecipientReport> = r
            .recipients
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|x| x.state == DeliveryState::Queued)
            .collect();
        for q in &queued {
            let reason = q.reason.as_deref().unwrap_or_default();
            assert!(
                reason.contains(&format!(
                    "warm-up: sender.example is on day {day} of its warm-up schedule, {cap} messages a day"
                )),
                "{reason}"
            );
            assert_eq!(q.attempts, 0, "waiting, not attempted");
        }
        queued.len()
    };
    // Day one: three, and the rest wait for midnight.
    until(app, id, "the first day's three", |r| r.counts.relayed == 3).await;
    let_the_node_look().await;
    let r = report(app, id).await;
    assert_eq!(r.counts.relayed, 3, "{:#?}", r.counts);
    assert_eq!(waiting(&r, 1, 3), N - 3);
    let first_waiting = r
        .recipients
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|x| x.state == DeliveryState::Queued)
        .unwrap();
    assert_eq!(
        first_waiting.next_attempt_at.as_deref(),
        Some(rfc3339(midnight).as_str())
    );
    assert_eq!(r.campaign.status, "sending");

    // Day two: five more.
    t.advance(12 * HOUR);
    until(app, id, "the second day's five", |r| r.counts.relayed == 8).await;
    let_the_node_look().await;
    let r = report(app, id).await;
    assert_eq!(r.counts.relayed, 8, "{:#?}", r.counts);
    assert_eq!(waiting(&r, 2, 5), N - 8);

    // Day three, past the schedule: the rest.
    t.advance(24 * HOUR);
    until(app, id, "the rest", |r| r.counts.relayed == N as u64).await;
    for e in &emails {
        assert_eq!(t.peer.count_for(e), 1, "{e} once");
    }
    t.stop().await.unwrap();
}

/// A spam-complaint rate past Gmail's 0.3 % stops the next send until someone gives the reason
/// (recorded on the campaign); nothing of the refused campaign is queued meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_rate_past_three_in_a_thousand_stops_the_next_send_until_a_reason_is_given() {
    const N: usize = 250;
    let t = spawn_at_noon().await;
    let app = &t.app;
    let emails: Vec<String> = (0..N).map(|i| format!("c{i}@example.com")).collect();
    let rows: Vec<&str> = emails.iter().map(String::as_str).collect();
    import(app, "email", &rows).await;
    let first = draft(app, "first").await;
    herald_app::commands::start_send(app, first).await.unwrap();
    until(app, first, "the first campaign", |r| {
        r.counts.relayed == N as u64
    })
    .await;
    // One complaint in 250: 0.4 %.
    let one = app.store.recipients(first, 0, 1).await.unwrap()[0].id;
    app.store
        .record_engagement(&[herald_store::EngagementRecord {
            delivery: one,
            kind: herald_domain::EventKind::Complaint,
            at_ms: app.clock.now_ms(),
            detail: r#"{"feedback_type":"abuse"}"#.into(),
        }])
        .await
        .unwrap();

    let next = draft(app, "next").await;
    let refused = herald_app::commands::start_send(app, next)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("was not sent") && refused.contains("--despite-complaints"),
        "{refused}"
    );
    let r = report(app, next).await;
    assert_eq!(r.campaign.status, "draft");
    assert_eq!(r.counts.recipients, 0, "nothing queued: {:#?}", r.counts);

    herald_app::commands::start_send_despite(
        app,
        next,
        Some("the complaint came from a test address".into()),
    )
    .await
    .unwrap();
    let r = until(app, next, "the send despite the rate", |r| {
        r.counts.relayed == N as u64
    })
    .await;
    assert_eq!(
        r.campaign.complaint_override.as_deref(),
        Some("the complaint came from a test address")
    );
    t.stop().await.unwrap();
}
