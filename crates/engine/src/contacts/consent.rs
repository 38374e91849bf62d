//! Consent columns in an import: another tool's record of when and how each person agreed
//! (Mailchimp's `OPTIN_TIME`, `OPTIN_IP`, `CONFIRM_TIME`, `CONFIRM_IP`; or Herald's own names),
//! kept as a consent record on the imported list instead of as personalisation fields.

/// Header keys (after `header_key`) each consent column is known by.
const AT: &[&str] = &["consent_at", "optin_time", "opt_in_time", "consent_date"];
const IP: &[&str] = &["consent_ip", "optin_ip", "opt_in_ip"];
const SOURCE: &[&str] = &["consent_source"];
const TEXT: &[&str] = &["consent_text"];
const CONFIRMED: &[&str] = &["confirmed_at", "confirm_time"];
const CONFIRM_IP: &[&str] = &["confirm_ip"];

/// Longest consent text kept, in bytes (the rest of a field's limit applies to fields).
const MAX_TEXT: usize = 2_000;

/// Where the consent columns are in the header, if present.
#[derive(Debug, Clone, Default)]
pub(super) struct ConsentColumns {
    at: Option<usize>,
    ip: Option<usize>,
    source: Option<usize>,
    text: Option<usize>,
    confirmed: Option<usize>,
    confirm_ip: Option<usize>,
}

/// One row's consent, as the old tool recorded it (the time of the import when it gave none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RowConsent {
    pub(super) at_ms: Option<i64>,
    pub(super) ip: Option<String>,
    pub(super) source: Option<String>,
    pub(super) text: Option<String>,
    pub(super) confirmed_at_ms: Option<i64>,
    pub(super) confirm_ip: Option<String>,
}

impl ConsentColumns {
    pub(super) fn of(headers: &[String]) -> Self {
        let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
        Self {
            at: find(AT),
            ip: find(IP),
            source: find(SOURCE),
            text: find(TEXT),
            confirmed: find(CONFIRMED),
            confirm_ip: find(CONFIRM_IP),
        }
    }

    /// Column `i` is a consent column (not a personalisation field).
    pub(super) fn holds(&self, i: usize) -> bool {
        [
            self.at,
            self.ip,
            self.source,
            self.text,
            self.confirmed,
            self.confirm_ip,
        ]
        .contains(&Some(i))
    }

    /// The row's consent (`None` when every consent column is empty), or the problem:
    /// (column, why).
    pub(super) fn read(
        &self,
        record: &csv::ByteRecord,
        headers: &[String],
    ) -> Result<Option<RowConsent>, String> {
        let value = |col: Option<usize>| -> Result<Option<(String, String)>, String> {
            let Some(i) = col else { return Ok(None) };
            let Some(bytes) = record.get(i) else {
                return Ok(None);
            };
            let v = std::str::from_utf8(bytes)
                .map_err(|_| format!("column {:?} is not valid UTF-8", headers[i]))?
                .trim();
            if v.is_empty() {
                return Ok(None);
            }
            if v.chars().any(char::is_control) || v.len() > MAX_TEXT {
                return Err(format!(
                    "column {:?} must be one line of at most {MAX_TEXT} bytes",
                    headers[i]
                ));
            }
            Ok(Some((headers[i].clone(), v.to_string())))
        };
        let time = |col| -> Result<Option<i64>, String> {
            value(col)?.map(|(name, v)| when(&name, &v)).transpose()
        };
        let ip = |col| -> Result<Option<String>, String> {
            value(col)?
                .map(|(name, v)| {
                    v.parse::<std::net::IpAddr>()
                        .map(|ip| ip.to_string())
                        .map_err(|_| format!("column {name:?} is {v:?}: expected an IP address"))
                })
                .transpose()
        };
        let c = RowConsent {
            at_ms: time(self.at)?,
            ip: ip(self.ip)?,
            source: value(self.source)?.map(|(_, v)| v),
            text: value(self.text)?.map(|(_, v)| v),
            confirmed_at_ms: time(self.confirmed)?,
            confirm_ip: ip(self.confirm_ip)?,
        };
        Ok((c != RowConsent::default()).then_some(c))
    }
}

/// A consent column's time: RFC 3339 (`2024-05-01T10:00:00Z`, any offset), or a date and time
/// without a zone (`2024-05-01 10:00:00`, taken as UTC, as Mailchimp exports them), or a date.
fn when(column: &str, v: &str) -> Result<i64, String> {
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    // A time in a named zone (`2024-05-01T10:00[Europe/Oslo]`): the civil parser below would
    // read it and drop the zone.
    if let Ok(z) = v.parse::<jiff::Zoned>() {
        return Ok(z.timestamp().as_millisecond());
    }
    let civil = v.parse::<jiff::civil::DateTime>().or_else(|_| {
        v.parse::<jiff::civil::Date>()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    });
    civil
        .ok()
        .and_then(|c| c.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_millisecond())
        .ok_or_else(|| {
            format!(
                "column {column:?} is {v:?}: expected a time such as 2024-05-01 10:00:00 (UTC), 2024-05-01T10:00:00+02:00 or 2024-05-01"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(values: &[&str]) -> csv::ByteRecord {
        csv::ByteRecord::from(values.to_vec())
    }

    #[test]
    fn consent_columns_are_read_and_their_mistakes_named() {
        let headers: Vec<String> = [
            "email",
            "optin_time",
            "optin_ip",
            "confirm_time",
            "consent_text",
            "city",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        let cols = ConsentColumns::of(&headers);
        assert!(cols.holds(1) && cols.holds(4) && !cols.holds(0) && !cols.holds(5));
        let c = cols
            .read(
                &record(&[
                    "a@x.test",
                    "2024-05-01 10:00:00",
                    "203.0.113.9",
                    "2024-05-01T12:00:00+02:00",
                    "Weekly tips",
                    "Oslo",
                ]),
                &headers,
            )
            .unwrap()
            .unwrap();
        assert_eq!(c.at_ms, Some(1_714_557_600_000));
        assert_eq!(
            c.confirmed_at_ms,
            Some(1_714_557_600_000),
            "12:00+02:00 is 10:00Z"
        );
        assert_eq!(c.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(c.text.as_deref(), Some("Weekly tips"));
        let day = cols
            .read(
                &record(&["a@x.test", "2024-05-01", "", "", "", ""]),
                &headers,
            )
            .unwrap()
            .unwrap();
        assert_eq!(day.at_ms, Some(1_714_521_600_000));
        let zoned = cols
            .read(
                &record(&["a@x.test", "2024-05-01T12:00[Europe/Oslo]", "", "", "", ""]),
                &headers,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            zoned.at_ms,
            Some(1_714_557_600_000),
            "12:00 in Oslo (CEST) is 10:00Z"
        );
        assert_eq!(
            cols.read(&record(&["a@x.test", "", "", "", "", "Oslo"]), &headers)
                .unwrap(),
            None,
            "no consent columns filled: no record"
        );
        let bad_time = cols
            .read(
                &record(&["a@x.test", "yesterday", "", "", "", ""]),
                &headers,
            )
            .unwrap_err();
        assert!(
            bad_time.contains("\"optin_time\" is \"yesterday\""),
            "{bad_time}"
        );
        let bad_ip = cols
            .read(
                &record(&["a@x.test", "", "not-an-ip", "", "", ""]),
                &headers,
            )
            .unwrap_err();
        assert!(bad_ip.contains("expected an IP address"), "{bad_ip}");
    }
}
