use super::*;

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
