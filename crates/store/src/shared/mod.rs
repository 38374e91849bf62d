//! Store code shared by the SQLite and PostgreSQL backends: one macro per file, expanded by
//! each backend's file of the same name (the SQL is the same; the dialect differences come from
//! `sqlite::dialect` and `postgres::dialect`).

pub(crate) mod audience;
pub(crate) mod campaigns;
pub(crate) mod contacts;
pub(crate) mod domains;
pub(crate) mod feedback;
pub(crate) mod privacy;
pub(crate) mod reports;
pub(crate) mod seeds;
pub(crate) mod segments;
pub(crate) mod store;
pub(crate) mod users;

/// A batch of outcomes as the two JSON parameters `record_outcomes` binds on both backends:
/// the attempts to append and the delivery updates. Each batch travels as one JSON parameter:
/// constant SQL (one cached statement) and one bind instead of thousands.
pub(crate) fn outcome_json(batch: &[crate::OutcomeRecord]) -> crate::Result<(String, String)> {
    let corrupt = |e: serde_json::Error| crate::StoreError::Corrupt(e.to_string());
    let mut attempts = Vec::with_capacity(batch.len() * 700);
    let mut updates = Vec::with_capacity(batch.len() * 80);
    attempts.push(b'[');
    updates.push(b'[');
    for o in batch {
        if let Some((outcome, ev)) = &o.attempt {
            if attempts.len() > 1 {
                attempts.push(b',');
            }
            let evidence = serde_json::to_string(ev).map_err(corrupt)?;
            let row = (
                o.delivery.0,
                o.campaign.0,
                outcome,
                &o.reason,
                ms(ev.started_at),
                ms(ev.ended_at),
                evidence,
            );
            serde_json::to_writer(&mut attempts, &row).map_err(corrupt)?;
        }
        if updates.len() > 1 {
            updates.push(b',');
        }
        let row = (
            o.delivery.0,
            o.state.as_str(),
            &o.reason,
            o.hard as i64,
            o.attempt.is_some() as i64,
            o.next_attempt_at_ms,
            o.attempt.as_ref().map(|(_, ev)| ms(ev.started_at)),
            o.at_ms,
        );
        serde_json::to_writer(&mut updates, &row).map_err(corrupt)?;
    }
    attempts.push(b']');
    updates.push(b']');
    Ok((
        String::from_utf8_lossy(&attempts).into_owned(),
        String::from_utf8_lossy(&updates).into_owned(),
    ))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Whether `s` can be compared with stored text. PostgreSQL text cannot hold a NUL (the query
/// fails), and no stored address, key or id contains one: a lookup or search with a NUL in it
/// matches nothing, on both backends alike.
pub(crate) fn matchable(s: &str) -> bool {
    !s.contains('\0')
}
