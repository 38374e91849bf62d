//! Scheduled sends (issue 19, item 2), through the CLI, the web UI and the API of two
//! `herald serve` nodes sharing a PostgreSQL database: bad times and zones are refused and
//! change nothing; the web UI schedules in a zone and unschedules; the API schedules and
//! calls off. That a schedule goes out on time, once with two nodes running, is `timed.rs`'s
//! (the clock moved instead of waited for).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{Herald, Serve, free_port, http, pg_database, wait_for};

/// Recipient → copies captured in the sandboxes of `dirs`.
fn captured(dirs: &[PathBuf]) -> HashMap<String, u32> {
    let mut copies = HashMap::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d.join("sandbox")) else {
            continue;
        };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if let Some(to) = text
                .lines()
                .find(|l| l.starts_with("To:"))
                .and_then(|l| l.split('<').nth(1))
                .and_then(|l| l.split('>').next())
            {
                *copies.entry(to.to_ascii_lowercase()).or_insert(0) += 1;
            }
        }
    }
    copies
}

fn rfc3339_in(secs: u64) -> String {
    let t = SystemTime::now() + Duration::from_secs(secs);
    let t = time::OffsetDateTime::from(t).replace_nanosecond(0).unwrap();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn status(h: &Herald, id: &str) -> String {
    h.json(&["campaign", "report", id, "--json"])["campaign"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn serve(h: &Herald, port: u16) -> Serve {
    common::serve_sandbox(h, port)
}

fn prepare(h: &Herald, tmp: &Path, n: usize) -> String {
    let csv = tmp.join("c.csv");
    let mut rows = String::from("email\n");
    for i in 0..n {
        rows.push_str(&format!("s{i}@example.com\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "all"]);
    let html = tmp.join("b.html");
    std::fs::write(&html, "<p>Later</p>").unwrap();
    h.json(&[
        "campaign",
        "create",
        "--name",
        "later",
        "--list",
        "all",
        "--from",
        "Ann <ann@sender.example>",
        "--subject",
        "Later",
        "--html",
        html.to_str().unwrap(),
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn bad_schedules_are_refused_and_the_ui_and_api_schedule_and_call_off() {
    const N: usize = 40;
    let tmp = tempfile::tempdir().unwrap();
    let db = pg_database(&tmp.path().join("cluster"));
    let ports = [free_port(), free_port()];
    let nodes: Vec<(Herald, PathBuf)> = ["n1", "n2"]
        .iter()
        .zip(ports)
        .map(|(name, port)| {
            let data = tmp.path().join(name);
            common::share_erasure_key(&data);
            let h = Herald::new(&data)
                .env("HERALD__DATABASE__URL", &db)
                .env("HERALD__DELIVERY__SANDBOX", "true")
                .env(
                    "HERALD__DELIVERY__HELO_NAME",
                    &format!("{name}.herald.test"),
                )
                .web_only(port);
            (h, data)
        })
        .collect();
    let h = &nodes[0].0;
    let id = prepare(h, tmp.path(), N);

    // Refused, and nothing changes: a time that has passed, an unknown zone, no time at all.
    for (args, says) in [
        (
            vec!["--at", "2020-01-01T09:00"],
            "has passed (it is 20", // … now, UTC
        ),
        (
            vec!["--at", "2030-01-01T09:00", "--tz", "Europe/Warsow"],
            "unknown time zone \"Europe/Warsow\"",
        ),
        (vec!["--at", "tomorrow morning"], "expected a date and time"),
        (vec!["--at", "2099-01-01T09:00"], "more than a year ahead"),
    ] {
        let mut cmd = vec!["campaign", "schedule", id.as_str()];
        cmd.extend(args);
        let out = h.run(&cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{cmd:?}: {err}");
        assert_eq!(status(h, &id), "draft");
    }

    common::add_user(h, "admin@herald.test", "admin");
    let bearer = common::bearer(h, "admin@herald.test");
    let _serve: Vec<Serve> = nodes
        .iter()
        .zip(ports)
        .map(|((h, _), p)| serve(h, p))
        .collect();
    let api = |method: &str, body: Option<&str>| {
        http(
            ports[1],
            method,
            &format!("/api/v1/campaigns/{id}/schedule"),
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };

    // The web UI: schedule in a zone, see it, unschedule.
    let admin = common::session_cookie(ports[0], "admin@herald.test");
    let page = |cookie: &str| {
        http(
            ports[0],
            "GET",
            &format!("/campaigns/{id}"),
            &[("Cookie", cookie)],
            None,
        )
        .body
    };
    let post = |path: &str, form: &str| {
        let csrf = common::hidden(&page(&admin), "csrf");
        let r = http(
            ports[0],
            "POST",
            &format!("/campaigns/{id}/{path}"),
            &[
                ("Cookie", &admin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&format!("csrf={csrf}{form}")),
        );
        assert_eq!(r.status, 303, "{}", r.body);
        http(
            ports[0],
            "GET",
            r.header("location").unwrap(),
            &[("Cookie", &admin)],
            None,
        )
        .body
    };
    // The next 15 January (winter in Warsaw: UTC+1), always within the year ahead.
    let today = time::OffsetDateTime::now_utc().date();
    let mut year = today.year();
    if today >= time::Date::from_calendar_date(year, time::Month::January, 15).unwrap() {
        year += 1;
    }
    let body = post(
        "schedule",
        &format!("&at={year}-01-15T09%3A30&tz=Europe%2FWarsaw"),
    );
    assert!(
        body.contains(&format!(
            "Scheduled for {year}-01-15T09:30:00+01:00 (Europe/Warsaw)"
        )),
        "{body}"
    );
    assert!(body.contains("id=\"unschedule-form\""), "{body}");
    let v = h.json(&["campaign", "report", &id, "--json"]);
    assert_eq!(v["campaign"]["status"], "scheduled");
    assert_eq!(
        v["campaign"]["scheduled_at"],
        format!("{year}-01-15T08:30:00.000Z")
    );
    assert_eq!(v["campaign"]["schedule_tz"], "Europe/Warsaw");
    let body = post("schedule", "&at=2027-02-30T09%3A30&tz=UTC");
    assert!(body.contains("expected a date and time"), "{body}");
    let body = post("unschedule", "");
    assert!(body.contains("Unscheduled: it is a draft again."), "{body}");
    assert_eq!(status(h, &id), "draft");
    // The box for each recipient's own zone: the form's time on its date, everywhere.
    let body = post(
        "schedule",
        &format!("&at={year}-01-15T09%3A30&tz=UTC&local=on"),
    );
    assert!(
        body.contains(&format!(
            "each recipient gets it at {year}-01-15T09:30 in their own time zone"
        )),
        "{body}"
    );
    let v = h.json(&["campaign", "report", &id, "--json"]);
    assert_eq!(
        v["campaign"]["local_time"],
        format!("{year}-01-15T09:30"),
        "{v}"
    );
    let body = post("unschedule", "");
    assert!(body.contains("Unscheduled: it is a draft again."), "{body}");

    // The API: a passed time is a conflict; a future one schedules; DELETE calls it off.
    let r = api("POST", Some(r#"{"at": "2020-01-01T09:00:00Z"}"#));
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api("POST", Some(r#"{"at": "next tuesday"}"#));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("expected a date and time"), "{}", r.body);
    // Without an offset, a local time in `tz` (UTC by default), as the CLI reads it.
    let r = api("POST", Some(r#"{"at": "2030-01-01T09:00"}"#));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body
            .contains("2030-01-01T09:00:00+00:00 is more than a year ahead"),
        "{}",
        r.body
    );
    let r = api("POST", Some(&format!(r#"{{"at": "{}"}}"#, rfc3339_in(600))));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api("DELETE", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["status"],
        "draft"
    );
    let r = api("DELETE", None);
    assert_eq!(r.status, 409, "not scheduled any more: {}", r.body);
    // Going out on time, once with two nodes: tests/timed.rs (in-process, the clock moved).
}

/// `--local-time`: each recipient gets the campaign at that time of day in their own zone.
/// Two contacts at the ends of the world's zones: on the chosen date, 09:00 has passed on
/// Kiritimati (UTC+14) and not yet come on Pago Pago (UTC-11), whatever the hour of the run.
#[test]
fn local_time_sends_each_recipient_at_their_own_nine_oclock() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,timezone\nearly@example.com,Pacific/Kiritimati\nlate@example.com,Pacific/Pago_Pago\n",
    )
    .unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "all"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Good morning</p>").unwrap();
    h.ok(&[
        "campaign",
        "create",
        "--name",
        "morning",
        "--list",
        "all",
        "--from",
        "ann@sender.example",
        "--subject",
        "Morning",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--no-seeds",
    ]);
    // Before 19:00 UTC today's 09:00 has passed at UTC+14 (yesterday 19:00 UTC) and is still
    // ahead at UTC-11 (today 20:00 UTC); later in the day, tomorrow's is.
    let now = time::OffsetDateTime::now_utc();
    let day = if now.hour() < 19 {
        now.date()
    } else {
        now.date().next_day().unwrap()
    };
    let out = h.run(&[
        "campaign",
        "schedule",
        "1",
        "--at",
        &day.to_string(),
        "--local-time",
        "25:00",
    ]);
    assert_eq!(out.status.code(), Some(2), "a time of day that is none");
    let v = h.json(&[
        "campaign",
        "schedule",
        "1",
        "--at",
        &day.to_string(),
        "--local-time",
        "09:00",
        "--json",
    ]);
    assert_eq!(v["local_time"], format!("{day}T09:00"), "{v}");
    let _serve = common::serve_sandbox(&h, port);
    let report = wait_for("the early one delivered", Duration::from_secs(30), || {
        let r = h.json(&["campaign", "report", "1", "--recipients", "--json"]);
        (r["counts"]["delivered"] == 1).then_some(r)
    });
    let rec = |email: &str| {
        report["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["email"] == email)
            .unwrap()
            .clone()
    };
    assert_eq!(rec("early@example.com")["state"], "delivered");
    let late = rec("late@example.com");
    assert_eq!(late["state"], "queued", "{late:#}");
    assert_eq!(
        late["next_attempt_at"],
        format!("{day}T20:00:00.000Z"),
        "09:00 in Pago Pago"
    );
    assert_eq!(report["campaign"]["status"], "sending");
    assert_eq!(report["campaign"]["local_time"], format!("{day}T09:00"));
    let captured = captured(&[tmp.path().join("data")]);
    assert_eq!(
        captured.keys().collect::<Vec<_>>(),
        vec!["early@example.com"]
    );
}
