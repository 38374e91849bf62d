use super::*;
use herald_store::ListMessage;

fn list(fields: &[&str]) -> ListRecord {
    ListRecord {
        id: herald_store::ListId(1),
        list: NewList {
            name: "News".into(),
            slug: Some("news".into()),
            description: String::new(),
            opt_in: OptIn::Double,
            form_fields: fields.iter().map(|f| f.to_string()).collect(),
            from_name: None,
            from_address: Some("news@sender.test".into()),
            confirmation: None,
            welcome: None,
        },
        created_at_ms: 0,
        subscribed: 0,
        pending: 0,
        unsubscribed: 0,
    }
}

#[test]
fn forms_keep_only_the_lists_fields_and_name_what_is_wrong() {
    let l = list(&["first_name"]);
    let form = |email: &str, fields: &[(&str, &str)]| SignUpForm {
        email: email.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let (a, f) = parse_form(
        &l,
        &form(
            " Eve@Example.test ",
            &[("first_name", " Eve "), ("admin", "1")],
        ),
    )
    .expect("valid");
    assert_eq!(a.key(), "eve@example.test");
    assert_eq!(f.get("first_name").and_then(|v| v.as_str()), Some("Eve"));
    assert!(!f.contains_key("admin"));
    assert!(matches!(
        parse_form(&l, &form("", &[])),
        Err(AudienceError::BadEmail(_))
    ));
    assert!(matches!(
        parse_form(&l, &form("not an address", &[])),
        Err(AudienceError::BadEmail(_))
    ));
    let long = "x".repeat(257);
    match parse_form(&l, &form("a@b.test", &[("first_name", &long)])) {
        Err(AudienceError::BadField { field, .. }) => assert_eq!(field, "first_name"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_form(&l, &form("a@b.test", &[("first_name", "a\r\nBcc: x")])),
        Err(AudienceError::BadField { .. })
    ));
}

#[test]
fn field_names() {
    for ok in ["first_name", "city", "a1"] {
        assert!(check_field_name(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "1a",
        "first name",
        "email",
        "t",
        "website",
        "naïve",
        &"a".repeat(41),
    ] {
        assert!(check_field_name(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn a_lists_own_confirmation_must_carry_the_link_and_compile() {
    let ok = ListMessage {
        subject: "Confirm {{ list.name }}".into(),
        html: "<p><a href=\"{{ confirm_url }}\">Yes</a></p>".into(),
        text: None,
    };
    assert!(
        check_message(CampaignKind::Confirmation, &ok, "News")
            .await
            .is_ok()
    );
    let no_link = ListMessage {
        html: "<p>Hello</p>".into(),
        ..ok.clone()
    };
    assert!(
        check_message(CampaignKind::Confirmation, &no_link, "News")
            .await
            .unwrap_err()
            .to_string()
            .contains("{{ confirm_url }}")
    );
    let text_without_link = ListMessage {
        text: Some("Hello".into()),
        ..ok.clone()
    };
    assert!(
        check_message(CampaignKind::Confirmation, &text_without_link, "News")
            .await
            .is_err()
    );
    let two_lines = ListMessage {
        subject: "a\r\nBcc: x@y".into(),
        ..ok.clone()
    };
    assert!(
        check_message(CampaignKind::Confirmation, &two_lines, "News")
            .await
            .is_err()
    );
    let broken = ListMessage {
        html: "<p>{{ confirm_url }} {% if %}</p>".into(),
        ..ok.clone()
    };
    assert!(
        check_message(CampaignKind::Confirmation, &broken, "News")
            .await
            .unwrap_err()
            .to_string()
            .contains("html")
    );
    let needs_a_field = ListMessage {
        subject: "Hi {{ contact.first_name }}".into(),
        ..ok.clone()
    };
    assert!(
        check_message(CampaignKind::Confirmation, &needs_a_field, "News")
            .await
            .unwrap_err()
            .to_string()
            .contains("default")
    );
    let with_default = ListMessage {
        subject: "Hi {{ contact.first_name | default(\"there\") }}".into(),
        ..ok.clone()
    };
    assert!(
        check_message(CampaignKind::Confirmation, &with_default, "News")
            .await
            .is_ok()
    );
    // The link only in a comment, or in a branch never taken, is no link; `{{- confirm_url -}}`
    // is one.
    for (html, ok_) in [
        ("<p>{# {{ confirm_url }} #}</p>", false),
        ("<p>{% if false %}{{ confirm_url }}{% endif %}</p>", false),
        ("<p><a href=\"{{- confirm_url -}}\">Yes</a></p>", true),
    ] {
        let c = ListMessage {
            html: html.into(),
            ..ok.clone()
        };
        assert_eq!(
            check_message(CampaignKind::Confirmation, &c, "News")
                .await
                .is_ok(),
            ok_,
            "{html}"
        );
    }
    let list = list(&[]);
    let c = list_campaign(
        &ListRecord {
            list: NewList {
                confirmation: Some(ok.clone()),
                ..list.list.clone()
            },
            ..list.clone()
        },
        CampaignKind::Confirmation,
        1,
    )
    .unwrap();
    assert_eq!((c.subject.as_str(), c.text), (ok.subject.as_str(), None));
    assert_eq!(
        list_campaign(&list, CampaignKind::Confirmation, 1)
            .unwrap()
            .subject,
        built_in_confirmation().subject
    );
}

#[tokio::test]
async fn a_welcome_needs_no_link_but_a_subject_and_html_and_a_sender() {
    let parts = |subject: Option<&str>, html: Option<&str>| MessageParts {
        subject: subject.map(Into::into),
        html: html.map(Into::into),
        text: None,
    };
    // A welcome has no built-in text: a new one names what is missing.
    let no_html = merged_message(CampaignKind::Welcome, None, parts(Some("Hi"), None), "News")
        .await
        .unwrap_err()
        .to_string();
    assert!(no_html.starts_with("welcome message:") && no_html.contains("--welcome-html"));
    assert!(
        merged_message(
            CampaignKind::Welcome,
            None,
            parts(None, Some("<p>Hi</p>")),
            "News"
        )
        .await
        .unwrap_err()
        .to_string()
        .contains("--welcome-subject")
    );
    let w = merged_message(
        CampaignKind::Welcome,
        None,
        parts(
            Some("Welcome to {{ list.name }}"),
            Some("<p>Hi {{ contact.first_name | default(\"there\") }}: <a href=\"{{ preferences_url }}\">your settings</a></p>"),
        ),
        "News",
    )
    .await
    .unwrap()
    .expect("a welcome");
    // Changing the subject keeps the HTML; nothing given keeps everything.
    let renamed = merged_message(
        CampaignKind::Welcome,
        Some(w.clone()),
        parts(Some("Hello"), None),
        "News",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (renamed.subject.as_str(), &renamed.html),
        ("Hello", &w.html)
    );
    assert_eq!(
        merged_message(
            CampaignKind::Welcome,
            Some(w.clone()),
            parts(None, None),
            "News"
        )
        .await
        .unwrap(),
        None
    );
    // Its templates are checked as a confirmation's are, without the link.
    let broken = merged_message(
        CampaignKind::Welcome,
        Some(w.clone()),
        parts(Some("Hi {{ contact.first_name }}"), None),
        "News",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        broken.starts_with("welcome message:") && broken.contains("default"),
        "{broken}"
    );
    let l = list(&[]);
    let greeted = ListRecord {
        list: NewList {
            welcome: Some(w.clone()),
            ..l.list.clone()
        },
        ..l.clone()
    };
    let c = list_campaign(&greeted, CampaignKind::Welcome, 1).unwrap();
    assert_eq!(
        (
            c.name.as_str(),
            c.subject.as_str(),
            c.track_opens,
            c.track_clicks
        ),
        ("Welcome: News", w.subject.as_str(), true, true)
    );
    assert!(
        list_campaign(&l, CampaignKind::Welcome, 1).is_err(),
        "no welcome to carry"
    );
}
