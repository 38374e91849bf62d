//! Bulk changes to the suppression list from a file: `herald suppressions import FILE
//! [--reason R | --remove]` and the Suppressions page's upload. The file is a CSV with an
//! `email` column (other columns ignored) or one address per line; a bad line is reported with
//! its number and skipped, and never costs a good one.

use std::io::Read;

use herald_domain::{EmailAddress, SuppressionReason};
use herald_store::{Store, Suppression};
use serde::Serialize;

use super::{ImportError, MAX_REJECTED_DETAILS, MAX_REJECTED_VALUE, Rejected, header_key};

/// What to do with every address of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Put them on the list with this reason.
    Add(SuppressionReason),
    /// Lift them.
    Remove,
}

/// What a bulk change did (`suppressions import --json`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct BulkSuppressionReport {
    /// Put on the list.
    pub added: u64,
    /// On the list already (left as they were).
    pub already: u64,
    /// Lifted.
    pub removed: u64,
    /// Asked to lift but not on the list.
    pub not_listed: u64,
    pub rejected: Vec<Rejected>,
    /// All rejected lines, including those past the detail limit.
    pub rejected_count: u64,
}

/// Apply `action` to every address `input` holds, recorded with `source`.
pub async fn suppress_csv<S: Store>(
    store: &S,
    input: impl Read,
    action: BulkAction,
    source: &str,
    now_ms: i64,
) -> Result<BulkSuppressionReport, ImportError> {
    let (keys, rejected, rejected_count) = addresses(input)?;
    let mut report = BulkSuppressionReport {
        rejected,
        rejected_count,
        ..Default::default()
    };
    for key in keys {
        match action {
            BulkAction::Add(reason) => {
                let added = store
                    .add_suppression(&Suppression {
                        email_key: key,
                        reason,
                        source: source.to_string(),
                        created_at_ms: now_ms,
                    })
                    .await?;
                if added {
                    report.added += 1;
                } else {
                    report.already += 1;
                }
            }
            BulkAction::Remove => {
                if store.remove_suppression(&key, source, now_ms).await? {
                    report.removed += 1;
                } else {
                    report.not_listed += 1;
                }
            }
        }
    }
    Ok(report)
}

type Parsed = (Vec<String>, Vec<Rejected>, u64);

/// The file's addresses (each once, normalised) and its rejected lines.
fn addresses(input: impl Read) -> Result<Parsed, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut keys = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut rejected = Vec::new();
    let mut rejected_count = 0u64;
    let mut column: Option<usize> = None;
    let mut reject = |line: u64, value: &str, reason: String, rejected: &mut Vec<Rejected>| {
        rejected_count += 1;
        if rejected.len() < MAX_REJECTED_DETAILS {
            rejected.push(Rejected {
                line,
                value: value.chars().take(MAX_REJECTED_VALUE).collect(),
                reason,
            });
        }
    };
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                reject(line, "", format!("unreadable: {e}"), &mut rejected);
                continue;
            }
        };
        let line = record.position().map_or(line, |p| p.line());
        if column.is_none() {
            // The first line: a header naming `email`, or already an address (column 1).
            if let Some(at) = record.iter().position(|h| header_key(h) == "email") {
                column = Some(at);
                continue;
            }
            column = Some(0);
        }
        let value = record.get(column.unwrap_or(0)).unwrap_or("");
        if value.is_empty() {
            continue;
        }
        match EmailAddress::parse(value) {
            Ok(a) => {
                let key = a.key();
                if seen.insert(key.clone()) {
                    keys.push(key);
                }
            }
            Err(e) => reject(line, value, format!("not an address: {e}"), &mut rejected),
        }
    }
    Ok((keys, rejected, rejected_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_email_column_or_one_address_per_line() {
        let (keys, rejected, n) = addresses(
            "name,Email\nAnn,Ann@Example.com\nBob,not-one\n,\nAnn,ann@example.com\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(keys, ["ann@example.com"]);
        assert_eq!(
            (n, rejected[0].line, rejected[0].value.as_str()),
            (1, 3, "not-one")
        );
        let (keys, _, n) = addresses("eve@example.org\nzed@example.net\n".as_bytes()).unwrap();
        assert_eq!((keys.len(), n), (2, 0));
    }
}
