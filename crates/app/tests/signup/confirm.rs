//! The hosted form of a double opt-in list, the confirmation through the world, the next campaign.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::common::{Herald, Serve, free_port, http, recipient, wait_for, world_env};

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
        // The minimum fill time is timed.rs's test (the clock moved, not waited for).
        .env("HERALD__LISTS__MIN_FILL", "0s");
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

    // Bad input: a bot filling the honeypot, a bad address, no token (a bot's instant post is
    // timed.rs's test: the minimum fill time is 0 s here).
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
    // The list's own confirmation message from now on: it must carry the link, and Dave's
    // confirmation (queued after the change) is this one, personalised.
    let no_link = tmp.path().join("no-link.html");
    std::fs::write(&no_link, "<p>Hello {{ contact.email }}</p>").unwrap();
    let refused = h.run(&[
        "lists",
        "update",
        "World news",
        "--confirm-html",
        no_link.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("{{ confirm_url }}"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let own = tmp.path().join("confirm.html");
    std::fs::write(
        &own,
        "<p>{{ contact.email }}: <a href=\"{{ confirm_url }}\">join {{ list.name }}</a></p>",
    )
    .unwrap();
    // The world's Maildirs outlive a run: this run's subject carries its port.
    let subject = format!("Join {{{{ list.name }}}}, {{{{ contact.email }}}} (run {port})");
    let updated = h.json(&[
        "lists",
        "update",
        "World news",
        "--confirm-subject",
        &subject,
        "--confirm-html",
        own.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(updated["confirm_subject"], subject.as_str(), "{updated:#}");
    let dave = sign_up(port, "world-news", "email=dave%40inbox.test");
    assert_eq!(dave.status, 200);
    let own_subject = format!("Join World news, dave@inbox.test (run {port})");
    let file = wait_for(
        "dave's confirmation, the list's own",
        Duration::from_secs(30),
        || {
            messages_containing(&mail.join("inbox.test/dave"), &own_subject)
                .into_iter()
                .next()
        },
    );
    let raw = std::fs::read(&file).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.subject(), Some(own_subject.as_str()));
    assert!(
        msg.body_html(0)
            .unwrap()
            .contains(&format!("http://127.0.0.1:{port}/s/confirm/")),
        "the link in the list's own HTML"
    );
    assert!(
        !msg.body_text(0).unwrap().contains("Please confirm"),
        "the text part is derived from the list's own HTML, not the built-in text"
    );
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

    // From now on the list greets whoever it subscribes by their own request.
    let welcome = tmp.path().join("welcome.html");
    std::fs::write(
        &welcome,
        "<p>Glad you are here. <a href=\"{{ unsubscribe_url }}\">Leave</a></p>",
    )
    .unwrap();
    let greeting =
        format!("Welcome aboard, {{{{ contact.first_name | default(\"reader\") }}}} (run {port})");
    h.ok(&[
        "lists",
        "update",
        "World news",
        "--welcome-subject",
        &greeting,
        "--welcome-html",
        welcome.to_str().unwrap(),
    ]);

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

    // Confirmed, Alice is welcomed by the name she gave on the form (her fields were applied
    // when she confirmed), through Postfix into her Maildir, as list mail.
    let welcomed = format!("Welcome aboard, Alicia (run {port})");
    let file = wait_for("alice's welcome", Duration::from_secs(30), || {
        messages_containing(&mail.join("inbox.test/alice"), &welcomed)
            .into_iter()
            .next()
    });
    let raw = std::fs::read(&file).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.subject(), Some(welcomed.as_str()));
    assert!(msg.header("List-Unsubscribe").is_some(), "list mail");
    assert!(String::from_utf8_lossy(&raw).contains("DKIM-Signature:"));
    // A second click welcomes nobody again.
    assert_eq!(form_post(port, path, "").status, 200);

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
    let report = h.sent(&id, "60s");
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
    // Only who confirmed was welcomed, once; the list's own campaigns are not among the user's.
    let welcomes = |who: &str| {
        messages_containing(&mail.join(format!("inbox.test/{who}")), "Welcome aboard")
            .into_iter()
            .filter(|f| {
                String::from_utf8_lossy(&std::fs::read(f).unwrap())
                    .contains(&format!("(run {port})"))
            })
            .count()
    };
    assert_eq!(
        (welcomes("alice"), welcomes("bob"), welcomes("dave")),
        (1, 0, 0)
    );
    let campaigns = h.json(&["campaign", "list", "--json"]);
    assert_eq!(
        campaigns["campaigns"].as_array().map(Vec::len),
        Some(1),
        "{campaigns:#}"
    );
}
