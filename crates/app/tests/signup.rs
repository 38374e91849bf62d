//! People join lists by themselves (issue: the audience): the hosted sign-up form of a double
//! opt-in list, the confirmation message delivered by the recipient world's Postfix into
//! Dovecot's Maildir, its link confirming, and the next campaign reaching the confirmed person
//! and not the one who never confirmed. Bad input (a forged link, a bot, a malformed address)
//! changes nothing.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Herald, Serve, captured, free_port, hidden, http, recipient, wait_for, world_env};

/// Message files (Maildir new/ or cur/, not Dovecot's index files) under `dir` containing `needle`.
fn messages_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let in_maildir = p
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "new" || n == "cur");
            if p.is_dir() {
                stack.push(p);
            } else if in_maildir
                && std::fs::read(&p)
                    .map(|b| String::from_utf8_lossy(&b).contains(needle))
                    .unwrap_or(false)
            {
                out.push(p);
            }
        }
    }
    out
}

fn form_post(port: u16, path: &str, body: &str) -> common::HttpReply {
    http(
        port,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body),
    )
}

/// Fill the hosted form (waiting out the minimum fill time) and post it.
fn sign_up(port: u16, slug: &str, fields: &str) -> common::HttpReply {
    let page = http(port, "GET", &format!("/s/{slug}"), &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    let t = hidden(&page.body, "t");
    std::thread::sleep(Duration::from_millis(1100));
    form_post(
        port,
        &format!("/s/{slug}"),
        &format!("t={t}&website=&{fields}"),
    )
}

#[test]
fn a_sign_up_confirmed_from_the_mailbox_gets_the_next_campaign_and_an_unconfirmed_one_does_not() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "sender.test")
        .env("HERALD__DELIVERY__COMMAND_TIMEOUT", "10s")
        .env("HERALD__LISTS__MIN_FILL", "1s");
    let mail = PathBuf::from(&w["WORLD_MAIL"]);

    // The confirmation sender is held to the From gate, as a campaign's From is.
    let refused = h.run(&[
        "lists",
        "create",
        "World news",
        "--opt-in",
        "double",
        "--from",
        "News <news@sender.test>",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not connected"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let domain = h.json(&["domain", "add", "sender.test", "--selector", "s1", "--json"]);
    common::publish(&common::dnsmasq_lines(&domain));
    let bad = h.run(&["lists", "create", "World news", "--opt-in", "double"]);
    assert_eq!(bad.status.code(), Some(2), "double opt-in needs --from");
    let list = h.json(&[
        "lists",
        "create",
        "World news",
        "--opt-in",
        "double",
        "--fields",
        "first_name",
        "--from",
        "News <news@sender.test>",
        "--json",
    ]);
    assert_eq!(list["slug"], "world-news", "{list:#}");
    assert_eq!(
        list["form_url"],
        format!("http://127.0.0.1:{port}/s/world-news")
    );
    // A member imported before is subscribed (the importer vouches for consent).
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nbob@inbox.test,Bob\n").unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "World news",
    ]);

    let _serve = Serve(
        h.command(&["serve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the HTTP server", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });

    // The hosted form asks for what the list says, with a honeypot.
    let page = http(port, "GET", "/s/world-news", &[], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"first_name\"") && page.body.contains("name=\"website\""));
    assert_eq!(http(port, "GET", "/s/no-such-list", &[], None).status, 404);

    // Bad input: a bot's instant post, a bot filling the honeypot, a bad address, no token.
    let t = hidden(&page.body, "t");
    let quick = form_post(
        port,
        "/s/world-news",
        &format!("t={t}&email=eve%40inbox.test"),
    );
    assert_eq!(quick.status, 422, "posted at once");
    let bot = sign_up(
        port,
        "world-news",
        "email=carol%40inbox.test&website=http%3A%2F%2Fspam",
    );
    // The honeypot is the second `website` value; the form decoder keeps the last one.
    assert_eq!(bot.status, 200, "a bot is answered as a person would be");
    let malformed = sign_up(port, "world-news", "email=eve%40&first_name=Eve");
    assert_eq!(malformed.status, 422);
    assert!(malformed.body.contains("email:"), "{}", malformed.body);
    assert!(
        malformed.body.contains("value=\"Eve\""),
        "what was typed is kept"
    );
    let forged = form_post(port, "/s/world-news", "t=AAAA&email=eve%40inbox.test");
    assert_eq!(forged.status, 400);
    let shown = h.json(&["lists", "show", "World news", "--json"]);
    assert_eq!(
        (&shown["subscribed"], &shown["pending"]),
        (&serde_json::json!(1), &serde_json::json!(0)),
        "nothing stored from bad posts: {shown:#}"
    );

    // Alice confirms; Dave never does.
    let ok = sign_up(
        port,
        "world-news",
        "email=Alice%40inbox.test&first_name=Alicia",
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("check your inbox"), "{}", ok.body);
    let again = sign_up(
        port,
        "world-news",
        "email=bob%40inbox.test&first_name=Mallory",
    );
    assert_eq!(
        (again.status, again.body.contains("check your inbox")),
        (200, true),
        "an existing member's sign-up reads the same (nothing revealed)"
    );
    let dave = sign_up(port, "world-news", "email=dave%40inbox.test");
    assert_eq!(dave.status, 200);
    let shown = h.json(&["lists", "show", "World news", "--json"]);
    assert_eq!(shown["pending"], 2, "{shown:#}");

    // The confirmation message, delivered by Postfix into Alice's Maildir.
    let file = wait_for(
        "the confirmation in alice's Maildir",
        Duration::from_secs(30),
        || {
            // The world's Maildirs outlive a run: this run's message is the one with its port.
            messages_containing(
                &mail.join("inbox.test/alice"),
                &format!("127.0.0.1:{port}/s/confirm/"),
            )
            .into_iter()
            .next()
        },
    );
    let raw = std::fs::read(&file).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        msg.subject(),
        Some("Please confirm your subscription to World news")
    );
    assert!(
        String::from_utf8_lossy(&raw).contains("DKIM-Signature:"),
        "signed like any campaign message"
    );
    assert!(
        msg.header("List-Unsubscribe").is_none(),
        "a confirmation is the answer to the person's request, not list mail"
    );
    // Its campaign is the list's, not one a user can pause or cancel.
    let carrier = msg
        .header_raw("X-Herald-Campaign")
        .unwrap()
        .trim()
        .to_string();
    for what in ["pause", "cancel"] {
        let out = h.run(&["campaign", what, &carrier]);
        assert_ne!(out.status.code(), Some(0), "campaign {what} {carrier}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("confirmation messages"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = msg.body_text(0).unwrap().to_string();
    let prefix = format!("http://127.0.0.1:{port}");
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{prefix}/s/confirm/")))
        .unwrap_or_else(|| panic!("no {prefix}/s/confirm/ link in {text}"))
        .to_string();
    let path = link.strip_prefix(&prefix).unwrap();
    // Bob, already subscribed, got no confirmation message.
    assert!(
        messages_containing(
            &mail.join("inbox.test/bob"),
            &format!("127.0.0.1:{port}/s/confirm/")
        )
        .is_empty()
    );

    // Opening the link (as a scanner would) confirms nothing; the button does.
    let opened = http(port, "GET", path, &[], None);
    assert_eq!(opened.status, 200);
    assert!(
        opened.body.contains(&format!("action=\"{path}\"")),
        "{}",
        opened.body
    );
    assert_eq!(
        h.json(&["lists", "show", "World news", "--json"])["pending"],
        2
    );
    let mut tampered = path.to_string();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(form_post(port, &tampered, "").status, 404, "a forged link");
    let confirmed = form_post(port, path, "");
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(
        confirmed.body.contains("You are subscribed"),
        "{}",
        confirmed.body
    );
    let shown = h.json(&["lists", "show", "World news", "--json"]);
    assert_eq!(
        (&shown["subscribed"], &shown["pending"]),
        (&serde_json::json!(2), &serde_json::json!(1)),
        "{shown:#}"
    );

    // The next campaign: Alice (with the name she gave) and Bob get it, Dave does not.
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Hello {{ contact.first_name }}</p>").unwrap();
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "First issue",
        "--list",
        "World news",
        "--from",
        "News <news@sender.test>",
        "--subject",
        &format!("Issue {port} for {{{{ contact.first_name | default(\"you\") }}}}"),
        "--html",
        html.to_str().unwrap(),
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = h.json(&[
        "campaign",
        "send",
        &id,
        "--wait",
        "--wait-timeout",
        "60s",
        "--json",
    ]);
    assert_eq!(
        recipient(&report, "Alice@inbox.test")["state"],
        "delivered",
        "{report:#}"
    );
    assert_eq!(recipient(&report, "bob@inbox.test")["state"], "delivered");
    let dave = recipient(&report, "dave@inbox.test");
    assert_eq!(
        (dave["state"].as_str(), dave["reason"].as_str()),
        (Some("not_sent"), Some("pending_confirmation")),
        "{report:#}"
    );
    wait_for(
        "the campaign in alice's Maildir",
        Duration::from_secs(30),
        || {
            messages_containing(
                &mail.join("inbox.test/alice"),
                &format!("Issue {port} for Alicia"),
            )
            .into_iter()
            .next()
        },
    );
    wait_for(
        "the campaign in bob's Maildir",
        Duration::from_secs(30),
        || {
            messages_containing(
                &mail.join("inbox.test/bob"),
                &format!("Issue {port} for Bob"),
            )
            .into_iter()
            .next()
        },
    );
    assert!(
        messages_containing(&mail.join("inbox.test/bob"), "Mallory").is_empty(),
        "a stranger's sign-up did not rename a member"
    );
    assert!(
        messages_containing(&mail.join("inbox.test/dave"), &format!("Issue {port} for")).is_empty()
    );
    // The confirmation campaign is not among the user's campaigns.
    let campaigns = h.json(&["campaign", "list", "--json"]);
    assert_eq!(
        campaigns["campaigns"].as_array().map(Vec::len),
        Some(1),
        "{campaigns:#}"
    );
}

/// The path of the preference-centre link in the captured message to `to` with `subject`.
fn preferences_path(data: &Path, port: u16, to: &str, subject: &str) -> String {
    let raw = captured(data, to, subject);
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap().to_string();
    let prefix = format!("http://127.0.0.1:{port}");
    let at = html
        .find(&format!("{prefix}/p/"))
        .unwrap_or_else(|| panic!("no {prefix}/p/ link in {html}"));
    html[at + prefix.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// Create a campaign to `list` and send it; the report.
fn send(h: &Herald, tmp: &Path, list: &str, subject: &str) -> serde_json::Value {
    let html = tmp.join("p.html");
    std::fs::write(
        &html,
        "<p>Hello {{ contact.first_name }}</p><p><a href=\"{{ preferences_url }}\">Your preferences</a></p>",
    )
    .unwrap();
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        subject,
        "--list",
        list,
        "--from",
        "News <news@sender.invalid>",
        "--subject",
        subject,
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.json(&[
        "campaign",
        "send",
        &id,
        "--wait",
        "--wait-timeout",
        "60s",
        "--json",
    ])
}

fn state(report: &serde_json::Value, email: &str) -> (String, String) {
    let r = recipient(report, email);
    (
        r["state"].as_str().unwrap_or("").to_string(),
        r["reason"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn the_preference_centre_and_a_list_only_unsubscribe_leave_one_list_and_keep_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s")
        .env("HERALD__LISTS__UNSUBSCRIBE", "list");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        format!(
            "email,first_name\nann@a.invalid,Ann\nbob@b.invalid,Bob\ncy@c.invalid,{}\n",
            "y".repeat(300)
        ),
    )
    .unwrap();
    for list in ["Sports", "Cooking"] {
        h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", list]);
    }
    h.ok(&["lists", "update", "Sports", "--fields", "first_name"]);
    let cooking = h.json(&["lists", "show", "Cooking", "--json"])["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let _serve = common::serve_sandbox(&h, port);

    let first = send(&h, tmp.path(), "Sports", "Sports 1");
    assert_eq!(state(&first, "ann@a.invalid").0, "delivered", "{first:#}");
    let path = preferences_path(&data, port, "ann@a.invalid", "Sports 1");
    assert!(
        path.starts_with("/p/"),
        "{path}: not rewritten into a click redirect"
    );

    // The page lists both lists, ticked, and the field the lists ask for.
    let page = http(port, "GET", &path, &[], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ann@a.invalid"), "{}", page.body);
    assert_eq!(page.body.matches(" checked>").count(), 2, "{}", page.body);
    assert!(
        page.body
            .contains("name=\"field_first_name\" value=\"Ann\"")
    );
    let mut tampered = path.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(http(port, "GET", &tampered, &[], None).status, 404);
    let long = "x".repeat(300);
    let refused = form_post(
        port,
        &path,
        &format!("action=save&list={cooking}&field_first_name={long}"),
    );
    assert_eq!(refused.status, 422, "an oversized field changes nothing");

    // Ann keeps Cooking only, and gives another name.
    let saved = form_post(
        port,
        &path,
        &format!("action=save&list={cooking}&field_first_name=Annie"),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Saved."));
    assert_eq!(saved.body.matches(" checked>").count(), 1, "{}", saved.body);

    // Bob's one-click unsubscribe (RFC 8058) from a Sports message leaves Sports only.
    let raw = captured(&data, "bob@b.invalid", "Sports 1");
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let unsub = msg
        .header_raw("List-Unsubscribe")
        .unwrap()
        .split(['<', '>'])
        .find(|p| p.starts_with("http"))
        .unwrap()
        .to_string();
    let unsub_path = unsub
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let one_click = form_post(port, unsub_path, "List-Unsubscribe=One-Click");
    assert_eq!(one_click.status, 200, "{}", one_click.body);

    let sports = send(&h, tmp.path(), "Sports", "Sports 2");
    assert_eq!(
        state(&sports, "ann@a.invalid"),
        ("not_sent".into(), "unsubscribed".into()),
        "{sports:#}"
    );
    assert_eq!(
        state(&sports, "bob@b.invalid"),
        ("not_sent".into(), "unsubscribed".into()),
        "{sports:#}"
    );
    let cooking_report = send(&h, tmp.path(), "Cooking", "Cooking 1");
    assert_eq!(state(&cooking_report, "ann@a.invalid").0, "delivered");
    assert_eq!(state(&cooking_report, "bob@b.invalid").0, "delivered");
    let raw = captured(&data, "ann@a.invalid", "Cooking 1");
    assert!(
        String::from_utf8_lossy(&raw).contains("Hello Annie"),
        "the field changed in the preference centre"
    );
    let why = h.json(&[
        "why",
        first["campaign"]["id"].as_str().unwrap_or_default(),
        "ann@a.invalid",
        "--json",
    ]);
    assert!(why.to_string().contains("unsubscribed"), "{why:#}");
    // Leaving Sports from a Sports message is that message's unsubscribe in its report.
    let report = h.json(&[
        "campaign",
        "report",
        first["campaign"]["id"].as_str().unwrap_or_default(),
        "--json",
    ]);
    assert_eq!(
        report["counts"]["unsubscribed"], 2,
        "ann and bob: {report:#}"
    );

    // Cy's name came from an import, longer than a form allows: leaving a list still works (only
    // changed fields are checked), and the name stays as it was.
    let cy = preferences_path(&data, port, "cy@c.invalid", "Sports 1");
    let left = form_post(
        port,
        &cy,
        &format!(
            "action=save&list={cooking}&field_first_name={}",
            "y".repeat(300)
        ),
    );
    assert_eq!(left.status, 200, "{}", left.body);
    assert_eq!(left.body.matches(" checked>").count(), 1);
    // Suppressed for another reason: shown as not mailed, the lists as they stand.
    h.ok(&[
        "suppressions",
        "add",
        "cy@c.invalid",
        "--reason",
        "complained",
    ]);
    let page = http(port, "GET", &cy, &[], None);
    assert!(
        page.body.contains("We do not send email to this address"),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches(" checked>").count(), 1, "{}", page.body);
    let shown = h.json(&["contacts", "show", "cy@c.invalid", "--json"]);
    assert_eq!(
        shown["contact"]["fields"]["first_name"]
            .as_str()
            .map(str::len),
        Some(300)
    );

    // A list an operator took Bob off is not offered back in his preference centre.
    let bob = preferences_path(&data, port, "bob@b.invalid", "Sports 1");
    assert!(http(port, "GET", &bob, &[], None).body.contains("Cooking"));
    h.ok(&["contacts", "remove", "bob@b.invalid", "--list", "Cooking"]);
    let page = http(port, "GET", &bob, &[], None);
    assert!(!page.body.contains("Cooking"), "{}", page.body);
    let tried = form_post(port, &bob, &format!("action=save&list={cooking}"));
    assert_eq!(tried.status, 200);
    let shown = h.json(&["contacts", "show", "bob@b.invalid", "--json"]);
    assert!(
        shown["contact"]["memberships"]
            .to_string()
            .contains(r#"{"list":"Cooking","status":"unsubscribed"}"#),
        "{shown:#}"
    );

    // Everything: no list gets Ann any more; ticking Cooking again brings her back to it only.
    let all = form_post(port, &path, "action=everything");
    assert_eq!(all.status, 200);
    assert!(
        all.body.contains("unsubscribed from everything"),
        "{}",
        all.body
    );
    let report = send(&h, tmp.path(), "Cooking", "Cooking 2");
    assert_eq!(
        state(&report, "ann@a.invalid"),
        ("not_sent".into(), "unsubscribed".into())
    );
    let back = form_post(port, &path, &format!("action=save&list={cooking}"));
    assert_eq!(back.status, 200);
    let report = send(&h, tmp.path(), "Cooking", "Cooking 3");
    assert_eq!(state(&report, "ann@a.invalid").0, "delivered", "{report:#}");
    let report = send(&h, tmp.path(), "Sports", "Sports 3");
    assert_eq!(
        state(&report, "ann@a.invalid"),
        ("not_sent".into(), "unsubscribed".into())
    );
}

#[test]
fn contacts_are_added_shown_edited_taken_off_a_list_and_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    h.ok(&["lists", "create", "Club"]);
    let added = h.json(&[
        "contacts",
        "add",
        "Ann@X.invalid",
        "--list",
        "Club",
        "--field",
        "first_name=Ann",
        "--json",
    ]);
    assert_eq!(
        (&added["status"], &added["before"]),
        (&serde_json::json!("subscribed"), &serde_json::Value::Null),
        "{added:#}"
    );
    let again = h.json(&[
        "contacts",
        "add",
        "ann@x.invalid",
        "--list",
        "Club",
        "--json",
    ]);
    assert_eq!(again["before"], "subscribed");
    // Bad input names the problem and changes nothing.
    for (args, says) in [
        (
            vec!["contacts", "add", "not-an-address", "--list", "Club"],
            "email",
        ),
        (
            vec![
                "contacts",
                "add",
                "b@x.invalid",
                "--list",
                "Club",
                "--field",
                "noequals",
            ],
            "NAME=VALUE",
        ),
        (
            vec![
                "contacts",
                "add",
                "b@x.invalid",
                "--list",
                "Club",
                "--field",
                "bad name=1",
            ],
            "field name",
        ),
        (
            vec![
                "contacts",
                "add",
                "b@x.invalid",
                "--list",
                "Club",
                "--confirm",
            ],
            "--from",
        ),
        (
            vec!["contacts", "add", "b@x.invalid", "--list", "Nope"],
            "unknown list",
        ),
        (
            vec!["contacts", "edit", "nobody@x.invalid", "--field", "a=1"],
            "no contact",
        ),
    ] {
        let out = h.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    h.ok(&[
        "contacts",
        "edit",
        "ann@x.invalid",
        "--field",
        "city=Oslo",
        "--unset",
        "first_name",
    ]);
    let shown = h.json(&["contacts", "show", "ann@x.invalid", "--json"]);
    assert_eq!(
        shown["contact"]["fields"],
        serde_json::json!({"city": "Oslo"}),
        "{shown:#}"
    );
    assert_eq!(
        shown["contact"]["memberships"],
        serde_json::json!([{"list": "Club", "status": "subscribed"}])
    );
    assert_eq!(shown["consents"][0]["source"], "cli", "{shown:#}");

    h.ok(&["contacts", "remove", "ann@x.invalid", "--list", "Club"]);
    let shown = h.json(&["contacts", "show", "ann@x.invalid", "--json"]);
    assert_eq!(shown["contact"]["memberships"][0]["status"], "unsubscribed");
    let back = h.run(&["contacts", "add", "ann@x.invalid", "--list", "Club"]);
    assert_eq!(
        back.status.code(),
        Some(2),
        "an operator does not put back someone who left"
    );
    assert!(String::from_utf8_lossy(&back.stderr).contains("left list"));

    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name,city\nbob@x.invalid,Bob,\"Rome, Italy\"\ncy@x.invalid,Cy,\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "Club",
    ]);
    h.ok(&["suppressions", "add", "cy@x.invalid"]);
    let out = h.run(&["contacts", "export", "--list", "Club"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "email,status,suppressed,consent_source,consent_at,confirmed_at,created_at,city,first_name"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].starts_with("Ann@x.invalid,unsubscribed,,cli,"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("bob@x.invalid,subscribed,,,,,")
            && lines[2].ends_with(",\"Rome, Italy\",Bob"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("cy@x.invalid,subscribed,suppressed,"),
        "{text}"
    );
    let all: serde_json::Value =
        serde_json::from_slice(&h.run(&["contacts", "export", "--json"]).stdout).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all:#}");
    assert_eq!(all[1]["fields"]["city"], "Rome, Italy");
    assert_eq!(
        all[0]["lists"][0],
        serde_json::json!({"list": "Club", "status": "unsubscribed"})
    );

    // Moving from another tool: its `status` column carries over.
    let moved = tmp.path().join("moved.csv");
    std::fs::write(
        &moved,
        "email,status,first_name\ndee@x.invalid,unsubscribed,Dee\neli@x.invalid,cleaned,Eli\n\
         fay@x.invalid,complained,Fay\ngus@x.invalid,Subscribed,Gus\nhal@x.invalid,weird,Hal\n",
    )
    .unwrap();
    let report = h.json(&[
        "contacts",
        "import",
        moved.to_str().unwrap(),
        "--list",
        "Club",
        "--json",
    ]);
    assert_eq!(
        (
            &report["imported"],
            &report["unsubscribed"],
            &report["suppressed"]
        ),
        (
            &serde_json::json!(4),
            &serde_json::json!(1),
            &serde_json::json!(2)
        ),
        "{report:#}"
    );
    assert_eq!(report["rejected"][0]["line"], 6, "{report:#}");
    assert!(
        report["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("\"status\"")
    );
    let all: serde_json::Value = serde_json::from_slice(
        &h.run(&["contacts", "export", "--list", "Club", "--json"])
            .stdout,
    )
    .unwrap();
    let of = |email: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("{email} in {all:#}"))
    };
    assert_eq!(of("dee@x.invalid")["lists"][0]["status"], "unsubscribed");
    assert_eq!(of("eli@x.invalid")["suppressed"], "previously_bounced");
    assert_eq!(of("fay@x.invalid")["suppressed"], "complained");
    assert_eq!(of("gus@x.invalid")["lists"][0]["status"], "subscribed");
    assert_eq!(of("gus@x.invalid")["suppressed"], serde_json::Value::Null);
    assert_eq!(
        of("dee@x.invalid")["fields"],
        serde_json::json!({"first_name": "Dee"})
    );
}

#[test]
fn the_sign_up_benchmark_signs_everyone_up_and_queues_each_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    // Its own temporary store whatever the backend; only what it did is asserted, not speed.
    let f = h.json(&[
        "bench",
        "signup",
        "--signups",
        "200",
        "--connections",
        "4",
        "--json",
    ]);
    assert_eq!(
        (&f["signups"], &f["pending"], &f["confirmations_queued"]),
        (
            &serde_json::json!(200),
            &serde_json::json!(200),
            &serde_json::json!(200)
        ),
        "{f:#}"
    );
    assert!(f["signups_per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_api_lists_lists_and_adds_contacts_as_the_cli_does() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    h.ok(&["lists", "create", "Club", "--fields", "first_name"]);
    common::add_user(&h, "admin@x.invalid", "admin");
    common::add_user(&h, "viewer@x.invalid", "viewer");
    let admin = common::bearer(&h, "admin@x.invalid");
    let viewer = common::bearer(&h, "viewer@x.invalid");
    let _serve = common::serve_sandbox(&h, port);
    let json = [("Content-Type", "application/json")];
    let post = |auth: &str, body: &str| {
        http(
            port,
            "POST",
            "/api/v1/contacts",
            &[json[0], ("Authorization", auth)],
            Some(body),
        )
    };

    let lists = http(
        port,
        "GET",
        "/api/v1/lists",
        &[("Authorization", &viewer)],
        None,
    );
    assert_eq!(lists.status, 200, "{}", lists.body);
    let lists: serde_json::Value = serde_json::from_str(&lists.body).unwrap();
    assert_eq!(lists["lists"][0]["name"], "Club");
    assert_eq!(
        lists["lists"][0]["form_url"],
        format!("http://127.0.0.1:{port}/s/club")
    );

    let body = r#"{"email": "eve@x.invalid", "list": "Club", "fields": {"first_name": "Eve"}}"#;
    assert_eq!(post(&viewer, body).status, 403, "a viewer cannot add");
    let added = post(&admin, body);
    assert_eq!(added.status, 201, "{}", added.body);
    let again = post(&admin, body);
    assert_eq!(again.status, 200, "already subscribed");
    for (bad, says) in [
        (
            r#"{"email": "eve@x.invalid", "list": "Nope"}"#,
            "unknown list",
        ),
        (r#"{"email": "nope", "list": "Club"}"#, "email"),
        (
            r#"{"email": "f@x.invalid", "list": "Club", "fields": {"bad name": "1"}}"#,
            "field name",
        ),
        (
            r#"{"email": "f@x.invalid", "list": "Club", "confirm": true}"#,
            "--from",
        ),
    ] {
        let r = post(&admin, bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body.contains(says), "{bad}: {}", r.body);
    }
    h.ok(&["contacts", "remove", "eve@x.invalid", "--list", "Club"]);
    assert_eq!(post(&admin, body).status, 409, "left the list");
    let shown = h.json(&["contacts", "show", "eve@x.invalid", "--json"]);
    assert_eq!(shown["contact"]["fields"]["first_name"], "Eve");
    assert_eq!(
        shown["consents"][0]["source"], "api:admin@x.invalid",
        "{shown:#}"
    );
    let export = h.run(&["contacts", "export", "--list", "Club"]);
    assert_eq!(
        String::from_utf8_lossy(&export.stdout).lines().count(),
        2,
        "the bad posts added nobody"
    );
    // The contact's page shows the standing per list and the consent record.
    let cookie = common::session_cookie(port, "viewer@x.invalid");
    let page = http(
        port,
        "GET",
        "/contacts/eve@x.invalid",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<td>Club</td><td>unsubscribed</td>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<td>api:admin@x.invalid</td>"),
        "{}",
        page.body
    );
}

/// `POST /api/v1/public/subscribe`: a site's server signs visitors up as the hosted form does —
/// the same answer whatever the standing, the visitor's IP and agent in the consent record, no
/// CORS headers, the list's fields only.
#[test]
fn a_site_signs_visitors_up_through_the_api_as_the_form_does() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        .env("HERALD__TRACKING__IP", "full");
    h.ok(&["lists", "create", "Club", "--fields", "first_name"]);
    common::add_user(&h, "site@x.invalid", "viewer");
    let token = common::bearer(&h, "site@x.invalid");
    let _serve = common::serve_sandbox(&h, port);
    let subscribe = |body: &str| {
        http(
            port,
            "POST",
            "/api/v1/public/subscribe",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &token),
                ("Origin", "https://elsewhere.example"),
            ],
            Some(body),
        )
    };
    let body = r#"{"list": "club", "email": "Vi@x.invalid", "fields": {"first_name": "Vi", "admin": "yes"}, "ip": "203.0.113.9", "user_agent": "Mozilla/5.0 Site"}"#;
    let first = subscribe(body);
    assert_eq!(first.status, 202, "{}", first.body);
    assert!(
        first.header("access-control-allow-origin").is_none(),
        "no CORS"
    );
    let again = subscribe(body);
    assert_eq!(
        (again.status, &again.body),
        (202, &first.body),
        "the same answer"
    );
    let shown = h.json(&["contacts", "show", "vi@x.invalid", "--json"]);
    assert_eq!(shown["contact"]["fields"]["first_name"], "Vi", "{shown:#}");
    assert!(
        shown["contact"]["fields"]["admin"].is_null(),
        "only the list's fields: {shown:#}"
    );
    let c = &shown["consents"][0];
    assert_eq!(
        (&c["source"], &c["ip"], &c["user_agent"]),
        (
            &serde_json::json!("api:site@x.invalid"),
            &serde_json::json!("203.0.113.9"),
            &serde_json::json!("Mozilla/5.0 Site")
        ),
        "{shown:#}"
    );
    for (bad, status) in [
        (r#"{"list": "nope", "email": "a@x.invalid"}"#, 422),
        (r#"{"list": "club", "email": "not an address"}"#, 422),
    ] {
        assert_eq!(subscribe(bad).status, status, "{bad}");
    }
    let r = http(
        port,
        "POST",
        "/api/v1/public/subscribe",
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(r.status, 401, "a token is needed");
}
