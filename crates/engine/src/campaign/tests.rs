use super::*;
use herald_domain::SuppressionReason;

#[test]
fn from_forms() {
    let (n, a) = parse_from("Ann Lee <ann@Example.com>").unwrap();
    assert_eq!(
        (n.as_deref(), a.as_str()),
        (Some("Ann Lee"), "ann@example.com")
    );
    let (n, a) = parse_from("\"Shop, Inc.\" <news@shop.test>").unwrap();
    assert_eq!(
        (n.as_deref(), a.as_str()),
        (Some("Shop, Inc."), "news@shop.test")
    );
    assert_eq!(parse_from("news@shop.test").unwrap().0, None);
    assert!(parse_from("Ann <ann>").is_err());
    assert!(parse_from("Ann <ann@x.test").is_err());
    assert!(parse_from("Ann\r\nBcc: x@y.test <a@b.test>").is_err());
}

#[test]
fn schedules_in_zones() {
    let (ms, tz) = parse_schedule("2026-12-10T09:00", Some("Europe/Warsaw")).unwrap();
    assert_eq!(tz.as_deref(), Some("Europe/Warsaw"));
    // 09:00 in Warsaw in December is 08:00 UTC.
    assert_eq!(
        schedule_local(ms, None).as_deref(),
        Some("2026-12-10T08:00:00+00:00")
    );
    assert_eq!(
        schedule_local(ms, Some("Europe/Warsaw")).as_deref(),
        Some("2026-12-10T09:00:00+01:00")
    );
    // In July the same zone is UTC+2.
    let (july, _) = parse_schedule("2026-07-10T09:00", Some("Europe/Warsaw")).unwrap();
    assert_eq!(
        schedule_local(july, None).as_deref(),
        Some("2026-07-10T07:00:00+00:00")
    );
    // No zone: UTC; an offset fixes the instant whatever --tz says.
    assert_eq!(parse_schedule("2026-12-10T08:00", None).unwrap().0, ms);
    assert_eq!(
        parse_schedule("2026-12-10T09:00:00+01:00", Some("Asia/Tokyo"))
            .unwrap()
            .0,
        ms
    );
    let e = parse_schedule("2026-12-10T09:00", Some("Europe/Warsow")).unwrap_err();
    assert!(e.to_string().contains("unknown time zone"), "{e}");
    let e = parse_schedule("next tuesday", None).unwrap_err();
    assert!(e.to_string().contains("2026-12-10T09:00"), "{e}");
    assert!(parse_schedule("2026-02-30T09:00", None).is_err());
}

#[test]
fn local_times_per_recipient() {
    let local = parse_local_time("2026-12-10", "09:00").unwrap();
    let utc = jiff::tz::TimeZone::UTC;
    let f = |k: &str, v: serde_json::Value| {
        let mut m = serde_json::Map::new();
        m.insert(k.into(), v);
        m
    };
    let at = |ms| schedule_local(ms, None).unwrap();
    assert_eq!(
        at(local_due(
            local,
            &f("timezone", "Europe/Warsaw".into()),
            &utc
        )),
        "2026-12-10T08:00:00+00:00"
    );
    assert_eq!(
        at(local_due(
            local,
            &f("timezone", "America/New_York".into()),
            &utc
        )),
        "2026-12-10T14:00:00+00:00"
    );
    assert_eq!(
        at(local_due(local, &f("utc_offset", "+05:30".into()), &utc)),
        "2026-12-10T03:30:00+00:00"
    );
    assert_eq!(
        at(local_due(local, &f("utc_offset", (-3).into()), &utc)),
        "2026-12-10T12:00:00+00:00"
    );
    // Unknown zone, no field: the default zone.
    let warsaw = jiff::tz::TimeZone::get("Europe/Warsaw").unwrap();
    assert_eq!(
        at(local_due(
            local,
            &f("timezone", "Mars/Olympus".into()),
            &warsaw
        )),
        "2026-12-10T08:00:00+00:00"
    );
    assert_eq!(
        at(local_due(local, &serde_json::Map::new(), &utc)),
        "2026-12-10T09:00:00+00:00"
    );
    let (first, last) = local_window(local);
    assert_eq!(at(first), "2026-12-09T19:00:00+00:00");
    assert_eq!(at(last), "2026-12-10T21:00:00+00:00");
    assert_eq!(
        parse_local_time("2026-12-10T17:45", "9:30")
            .unwrap()
            .to_string(),
        "2026-12-10T09:30:00"
    );
    assert!(parse_local_time("2026-12-10", "25:00").is_err());
    // Contact data never panics: a Unicode minus, huge numbers, out-of-range offsets.
    for bad in ["\u{2212}5", "+99", "-13", "+14:30", "x1:00", "1\u{e9}"] {
        assert_eq!(parse_offset(bad), None, "{bad}");
    }
    assert_eq!(
        local_due(local, &f("utc_offset", i64::MAX.into()), &utc),
        local_due(local, &serde_json::Map::new(), &utc)
    );
    assert!(parse_local_time("soon", "09:00").is_err());
}

#[test]
fn eligibility_reasons() {
    let m = |suppression: Option<SuppressionReason>, hard| AudienceMember {
        contact_id: 1,
        email: "a@b.test".into(),
        email_key: "a@b.test".into(),
        fields: "{}".into(),
        suppression,
        hard_bounced_before: hard,
        status: MemberStatus::Subscribed,
        excluded: false,
    };
    assert_eq!(eligibility(&m(None, false)), Ok(()));
    let pending = AudienceMember {
        status: MemberStatus::Pending,
        ..m(None, false)
    };
    assert_eq!(
        eligibility(&pending),
        Err(NotSentReason::PendingConfirmation)
    );
    let left = AudienceMember {
        status: MemberStatus::Unsubscribed,
        ..m(None, false)
    };
    assert_eq!(eligibility(&left), Err(NotSentReason::Unsubscribed));
    assert_eq!(
        eligibility(&m(Some(SuppressionReason::Unsubscribed), false)),
        Err(NotSentReason::Unsubscribed)
    );
    assert_eq!(
        eligibility(&m(Some(SuppressionReason::Erased), false)),
        Err(NotSentReason::Suppressed)
    );
    assert_eq!(
        eligibility(&m(None, true)),
        Err(NotSentReason::PreviouslyBounced)
    );
}
