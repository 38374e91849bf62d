//! A sign-up form post is untrusted (anyone can post to `/s/{slug}`): decoding it and checking
//! the address and fields never panics, and what it accepts is within the form's limits.
#![no_main]
use herald_domain::OptIn;
use herald_engine::audience::{MAX_FIELD_VALUE, SignUpForm, parse_form};
use herald_store::{ListId, ListRecord, NewList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let list = ListRecord {
        id: ListId(1),
        list: NewList {
            name: "News".into(),
            slug: Some("news".into()),
            description: String::new(),
            opt_in: OptIn::Double,
            form_fields: vec!["first_name".into(), "city".into()],
            from_name: None,
            from_address: Some("news@sender.example".into()),
            confirmation: None,
            welcome: None,
        },
        created_at_ms: 0,
        subscribed: 0,
        pending: 0,
        unsubscribed: 0,
    };
    let email = pairs
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let form = SignUpForm {
        email,
        fields: pairs,
        ..Default::default()
    };
    if let Ok((_, fields)) = parse_form(&list, &form) {
        for (k, v) in &fields {
            assert!(list.list.form_fields.contains(k));
            let v = v.as_str().unwrap_or_default();
            assert!(v.chars().count() <= MAX_FIELD_VALUE && !v.chars().any(char::is_control));
        }
    }
});
