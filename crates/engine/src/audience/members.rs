//! Contacts as an operator manages them: add, edit, take off a list, export.

use herald_domain::{EmailAddress, MemberStatus};
use herald_mail::erasure::ErasureKey;
use herald_store::{ListRecord, Store, StoreError};

use super::*;

/// What `contacts add` did.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Added {
    pub email: String,
    pub list: String,
    /// The standing before (`null`: not a member).
    pub before: Option<String>,
    pub status: String,
    /// A confirmation message was queued (`--confirm`).
    pub confirmation_queued: bool,
}

/// A field's value as a person may give it: at most 256 characters, no control characters.
pub(super) fn check_value(field: &str, v: &str) -> Result<(), AudienceError> {
    let why = if v.chars().count() > MAX_FIELD_VALUE {
        "at most 256 characters"
    } else if v.chars().any(char::is_control) {
        "must not contain line breaks or control characters"
    } else {
        return Ok(());
    };
    Err(AudienceError::BadField {
        field: field.to_string(),
        why,
    })
}

pub(super) fn check_values(fields: &[(String, String)]) -> Result<(), AudienceError> {
    for (k, v) in fields {
        check_field_name(k)?;
        check_value(k, v)?;
    }
    Ok(())
}

/// An operator adds a person to a list (CLI, API): subscribed at once, their fields set — or,
/// with `confirm`, pending with a confirmation message (the person's fields then wait for it).
/// Someone who left the list is not put back without `confirm`.
pub async fn add_contact<S: Store>(
    store: &S,
    erasure: &ErasureKey,
    list: &ListRecord,
    (email, fields): (&str, &[(String, String)]),
    confirm: bool,
    source: &str,
    now_ms: i64,
) -> Result<Added, AudienceError> {
    check_values(fields)?;
    let addr =
        EmailAddress::parse(email.trim()).map_err(|e| AudienceError::BadEmail(e.to_string()))?;
    if confirm && list.list.from_address.is_none() {
        return Err(AudienceError::DoubleNeedsFrom);
    }
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.trim().to_string())))
        .collect();
    let form = SignUpForm {
        email: addr.to_string(),
        source: source.to_string(),
        form_text: format!("added by an operator ({source})"),
        ..Default::default()
    };
    let status = if confirm {
        MemberStatus::Pending
    } else {
        MemberStatus::Subscribed
    };
    let done = join(
        store,
        erasure,
        list,
        &form,
        (addr.clone(), map.clone()),
        status,
        now_ms,
    )
    .await?;
    if !confirm && done.status == MemberStatus::Unsubscribed {
        return Err(AudienceError::LeftList(
            addr.to_string(),
            list.list.name.clone(),
        ));
    }
    // The operator's fields apply to an existing contact too (a form's never do).
    if !confirm && !map.is_empty() {
        edit_contact(store, addr.as_str(), fields, &[], now_ms).await?;
    }
    Ok(Added {
        email: addr.to_string(),
        list: list.list.name.clone(),
        before: done.before.map(|b| b.as_str().to_string()),
        status: done.status.as_str().to_string(),
        confirmation_queued: done.confirmation.is_some(),
    })
}

/// The contact with address `email`, with its key.
async fn contact_of<S: Store>(
    store: &S,
    email: &str,
) -> Result<(String, herald_store::ContactRow), AudienceError> {
    let key = EmailAddress::parse(email.trim())
        .map_err(|e| AudienceError::BadEmail(e.to_string()))?
        .key();
    let c = store
        .contact(&key)
        .await?
        .ok_or_else(|| AudienceError::UnknownContact(email.to_string()))?;
    Ok((key, c))
}

/// Set and remove a contact's fields; its fields afterwards.
pub async fn edit_contact<S: Store>(
    store: &S,
    email: &str,
    set: &[(String, String)],
    unset: &[String],
    now_ms: i64,
) -> Result<serde_json::Map<String, serde_json::Value>, AudienceError> {
    check_values(set)?;
    let (key, c) = contact_of(store, email).await?;
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&c.fields).unwrap_or_default();
    for (k, v) in set {
        fields.insert(k.clone(), serde_json::Value::String(v.trim().to_string()));
    }
    for k in unset {
        fields.remove(k);
    }
    store
        .set_contact_fields(
            &key,
            &serde_json::Value::Object(fields.clone()).to_string(),
            now_ms,
        )
        .await?;
    Ok(fields)
}

/// Make a contact's fields exactly `fields`: those given are set, every other is removed (the
/// web UI's edit box). Its fields afterwards.
pub async fn replace_fields<S: Store>(
    store: &S,
    email: &str,
    fields: &[(String, String)],
    now_ms: i64,
) -> Result<serde_json::Map<String, serde_json::Value>, AudienceError> {
    check_values(fields)?;
    let (key, c) = contact_of(store, email).await?;
    let now: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.trim().to_string())))
        .collect();
    let before: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&c.fields).unwrap_or_default();
    if before != now {
        store
            .set_contact_fields(
                &key,
                &serde_json::Value::Object(now.clone()).to_string(),
                now_ms,
            )
            .await?;
    }
    Ok(now)
}

/// Take a contact off a list (they stay a contact; campaigns to it say `not_sent: unsubscribed`).
pub async fn remove_from_list<S: Store>(
    store: &S,
    list: &ListRecord,
    email: &str,
    now_ms: i64,
) -> Result<(), AudienceError> {
    let key = EmailAddress::parse(email.trim())
        .map_err(|e| AudienceError::BadEmail(e.to_string()))?
        .key();
    if !store
        .set_member_status(list.id, &key, MemberStatus::Unsubscribed, now_ms)
        .await?
    {
        return Err(AudienceError::NotMember(
            email.to_string(),
            list.list.name.clone(),
        ));
    }
    Ok(())
}

/// How `contacts export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}
/// Every field name the exported contacts have (one pass over them, page by page).
async fn field_names<S: Store>(
    store: &S,
    list: Option<herald_store::ListId>,
    page_size: u32,
) -> Result<std::collections::BTreeSet<String>, ExportError> {
    let mut names = std::collections::BTreeSet::new();
    let mut after = 0;
    loop {
        let page = store.export_page(list, after, page_size).await?;
        let Some(last) = page.last() else { break };
        after = last.contact_id;
        for r in &page {
            let f: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&r.fields).unwrap_or_default();
            names.extend(f.into_iter().map(|(k, _)| k));
        }
    }
    Ok(names)
}

/// Stream every contact (of `list`, or all) to `out`, a page at a time: CSV (a header row;
/// fields as columns after the fixed ones) or one JSON array. Returns how many were written.
pub async fn export<S: Store, W: std::io::Write>(
    store: &S,
    list: Option<&ListRecord>,
    format: ExportFormat,
    out: W,
) -> Result<u64, ExportError> {
    const PAGE: u32 = 5_000;
    let id = list.map(|l| l.id);
    // CSV needs its columns first: one pass over the field names (bounded by their number).
    let names = if format == ExportFormat::Csv {
        field_names(store, id, PAGE).await?
    } else {
        Default::default()
    };
    let ms = |v: i64| crate::reports::ms_to_rfc3339(v);
    enum Sink<W: std::io::Write> {
        Csv(Box<csv::Writer<W>>),
        Json(W),
    }
    let mut sink = match format {
        ExportFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
        ExportFormat::Json => Sink::Json(out),
    };
    if let Sink::Csv(csv) = &mut sink {
        let mut head = vec![
            "email",
            if list.is_some() { "status" } else { "lists" },
            "suppressed",
            "consent_source",
            "consent_at",
            "confirmed_at",
            "created_at",
        ];
        head.extend(names.iter().map(String::as_str));
        csv.write_record(&head)?;
    }
    let mut n = 0u64;
    let mut after = 0;
    let mut json_started = false;
    loop {
        let page = store.export_page(id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.contact_id;
        for r in &page {
            n += 1;
            let fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&r.fields).unwrap_or_default();
            let memberships = r
                .memberships
                .iter()
                .map(|(l, s)| format!("{l}:{s}"))
                .collect::<Vec<_>>()
                .join("; ");
            let (source, at, confirmed) = match &r.consent {
                Some((s, at, c)) => (s.clone(), ms(*at), c.map(ms).unwrap_or_default()),
                None => Default::default(),
            };
            match &mut sink {
                Sink::Csv(csv) => {
                    let status = match list {
                        Some(_) => r
                            .memberships
                            .first()
                            .map(|(_, s)| s.as_str().to_string())
                            .unwrap_or_default(),
                        None => memberships,
                    };
                    let mut row = vec![
                        r.email.clone(),
                        status,
                        r.suppression.clone().unwrap_or_default(),
                        source,
                        at,
                        confirmed,
                        ms(r.created_at_ms),
                    ];
                    for k in &names {
                        row.push(spreadsheet_safe(match fields.get(k) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(serde_json::Value::Null) | None => String::new(),
                            Some(other) => other.to_string(),
                        }));
                    }
                    csv.write_record(&row)?;
                }
                Sink::Json(w) => {
                    let doc = serde_json::json!({
                        "email": r.email,
                        "lists": r.memberships.iter().map(|(l, s)| serde_json::json!({"list": l, "status": s.as_str()})).collect::<Vec<_>>(),
                        "suppressed": r.suppression,
                        "consent": r.consent.as_ref().map(|(s, at, c)| serde_json::json!({
                            "source": s, "at": ms(*at), "confirmed_at": c.map(ms),
                        })),
                        "created_at": ms(r.created_at_ms),
                        "fields": fields,
                    });
                    w.write_all(if json_started { b",\n" } else { b"[\n" })?;
                    json_started = true;
                    serde_json::to_writer(&mut *w, &doc)?;
                }
            }
        }
    }
    match sink {
        Sink::Json(mut w) => {
            w.write_all(if json_started { b"\n]\n" } else { b"[]\n" })?;
            w.flush()?;
        }
        Sink::Csv(mut csv) => csv.flush()?,
    }
    Ok(n)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first: typed by anyone
/// into a sign-up form) gets a leading `'`, which spreadsheets show as text.
pub(super) fn spreadsheet_safe(v: String) -> String {
    if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}
