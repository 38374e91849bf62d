//! Stage `contacts`: streaming CSV import into a list.
//!
//! Input: any `Read` of CSV with a header row (`email` required; every other column becomes a
//! personalisation field). Output: an [`ImportReport`].
//! Invariants: the file is never held in memory (rows stream through bounded batches); a bad
//! row is reported with its line and skipped, and never costs a good row.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use herald_domain::EmailAddress;
use std::sync::Arc;

use herald_mail::erasure::ErasureKey;
use herald_store::{NewContact, Store, StoreError};
use serde::Serialize;
use tokio::sync::mpsc;

mod consent;
pub mod suppress;

use consent::{ConsentColumns, RowConsent};

/// Rows per store transaction.
const BATCH: usize = 5_000;
/// Rejected rows kept with their details; past this only the count grows.
const MAX_REJECTED_DETAILS: usize = 10_000;
/// The most a personalisation field may hold. A longer one is a mistake or an attack (one
/// 45 MB field was once accepted); its row is rejected and named.
pub const MAX_FIELD_BYTES: usize = 8 * 1024;
/// The most of a rejected value kept in the report.
const MAX_REJECTED_VALUE: usize = 200;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Rejected {
    pub line: u64,
    pub value: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ImportReport {
    pub imported: u64,
    pub updated: u64,
    pub rejected: Vec<Rejected>,
    /// All rejected rows, including those past the detail limit.
    pub rejected_count: u64,
    pub list: String,
    /// Rows whose `status` column said `unsubscribed`: off this list.
    pub unsubscribed: u64,
    /// Rows whose `status` said `bounced` (or `cleaned`) or `complained`: on the suppression list.
    pub suppressed: u64,
    /// Consent records kept from the consent columns (`consent_at`/`optin_time`, `consent_ip`/
    /// `optin_ip`, `consent_source`, `consent_text`, `confirmed_at`/`confirm_time`,
    /// `confirm_ip`).
    pub consents: u64,
}

/// What a `status` column says about a row (another tool's export).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowStatus {
    Unsubscribed,
    Bounced,
    Complained,
}

/// `None`: subscribed (or empty); `Err`: not a status Herald knows.
fn row_status(v: &str) -> Result<Option<RowStatus>, ()> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "subscribed" | "active" | "enabled" | "confirmed" => Ok(None),
        "unsubscribed" => Ok(Some(RowStatus::Unsubscribed)),
        // Mailchimp calls addresses removed after bounces "cleaned".
        "bounced" | "cleaned" => Ok(Some(RowStatus::Bounced)),
        "complained" => Ok(Some(RowStatus::Complained)),
        _ => Err(()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line 1: no `email` column in the header (found: {0})")]
    NoEmailColumn(String),
    #[error("line 1: the header row is missing or unreadable: {0}")]
    BadHeader(String),
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the CSV reader stopped unexpectedly")]
    ReaderGone,
}

/// Normalise a header name: trimmed, lower case, spaces and dashes as underscores.
fn header_key(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// Pick the delimiter that splits the header line into the most fields.
fn sniff_delimiter(first_line: &[u8]) -> u8 {
    let mut best = (b',', 0);
    for d in [b',', b';', b'\t', b'|'] {
        let mut in_quotes = false;
        let n = first_line
            .iter()
            .filter(|&&b| {
                if b == b'"' {
                    in_quotes = !in_quotes;
                }
                !in_quotes && b == d
            })
            .count();
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// The bytes read ahead but not yet passed by the parser, so a record's exact line can be
/// counted from its start offset. The csv crate's own line counter is off by one with CRLF and
/// its record positions may point at the previous terminator or at skipped blank lines, and
/// users need exact lines. Memory is bounded by the read-ahead (the buffer sizes).
#[derive(Default)]
struct Window {
    base: u64,
    bytes: VecDeque<u8>,
    newlines_before_base: u64,
}

impl Window {
    /// The 1-based line of the first character at or after byte offset `start`.
    fn line_at(&mut self, start: u64) -> u64 {
        while self.base < start {
            match self.bytes.pop_front() {
                Some(b) => {
                    self.newlines_before_base += (b == b'\n') as u64;
                    self.base += 1;
                }
                None => break,
            }
        }
        let leading = self
            .bytes
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .filter(|b| **b == b'\n')
            .count();
        1 + self.newlines_before_base + leading as u64
    }
}

struct Tracked<R> {
    inner: R,
    window: Rc<RefCell<Window>>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.borrow_mut().bytes.extend(&buf[..n]);
        Ok(n)
    }
}

enum Parsed {
    /// Contacts, their statuses and consents (by address key), rejected rows (details, count).
    Batch(
        Vec<NewContact>,
        /// The line of each contact above.
        Vec<u64>,
        Vec<(String, RowStatus)>,
        Vec<(String, RowConsent)>,
        Vec<Rejected>,
        u64,
    ),
    Fatal(ImportError),
}

/// Parse on a blocking thread, sending batches through a bounded channel.
fn parse_rows(input: Box<dyn Read + Send>, erasure: Arc<ErasureKey>, tx: mpsc::Sender<Parsed>) {
    let window = Rc::new(RefCell::new(Window::default()));
    let reader = BufReader::with_capacity(
        256 * 1024,
        Tracked {
            inner: input,
            window: window.clone(),
        },
    );
    let (mut csv, bom, headers, email_col) = match open_csv(reader) {
        Ok(opened) => opened,
        Err(e) => {
            let _ = tx.blocking_send(Parsed::Fatal(e));
            return;
        }
    };
    let status_col = headers.iter().position(|h| h == "status");
    let consent_cols = ConsentColumns::of(&headers);
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = Vec::with_capacity(BATCH);
    let mut statuses = Vec::new();
    let mut consents = Vec::new();
    let mut rejected = Vec::new();
    let mut rejected_n = 0u64;
    let mut record = csv::ByteRecord::new();
    let mut fields = serde_json::Map::new();
    loop {
        let res = csv.read_byte_record(&mut record);
        let start = record
            .position()
            .map(|p| p.byte())
            .unwrap_or_else(|| csv.position().byte());
        let line = window.borrow_mut().line_at(start + bom as u64);
        let mut reject = |mut value: String, reason: String| {
            rejected_n += 1;
            if value.len() > MAX_REJECTED_VALUE {
                let mut end = MAX_REJECTED_VALUE;
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                value.truncate(end);
                value.push('…');
            }
            rejected.push(Rejected {
                line,
                value,
                reason,
            });
        };
        match res {
            Ok(false) => break,
            Err(e) => {
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    let _ = tx.blocking_send(Parsed::Fatal(ImportError::BadHeader(e.to_string())));
                    return;
                }
                reject(String::new(), format!("unreadable CSV row: {e}"));
            }
            Ok(true) => {
                if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue; // blank line
                }
                let cols = Columns {
                    email: email_col,
                    status: status_col,
                    consent: &consent_cols,
                };
                match check_row(&record, &headers, &cols, &mut fields) {
                    Err((value, reason)) => reject(value, reason),
                    Ok((addr, status, consent)) => {
                        if let Some(st) = status {
                            statuses.push((addr.key(), st));
                        }
                        if let Some(c) = consent {
                            consents.push((addr.key(), c));
                        }
                        let key = addr.key();
                        lines.push(line);
                        batch.push(NewContact {
                            email: addr.to_string(),
                            erased_token: Some(erasure.token(&key)),
                            email_key: key,
                            fields: serde_json::Value::Object(std::mem::take(&mut fields))
                                .to_string(),
                        });
                    }
                }
            }
        }
        if batch.len() >= BATCH {
            let b = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            let l = std::mem::replace(&mut lines, Vec::with_capacity(BATCH));
            if tx
                .blocking_send(Parsed::Batch(
                    b,
                    l,
                    std::mem::take(&mut statuses),
                    std::mem::take(&mut consents),
                    std::mem::take(&mut rejected),
                    rejected_n,
                ))
                .is_err()
            {
                return;
            }
            rejected_n = 0;
        }
    }
    let _ = tx.blocking_send(Parsed::Batch(
        batch, lines, statuses, consents, rejected, rejected_n,
    ));
}

/// The CSV reader over `reader` (the delimiter sniffed from the first line; a UTF-8
/// byte-order mark skipped, so the reader's byte offsets are `bom` short), the header keys and
/// the email column.
fn open_csv<R: BufRead>(
    mut reader: R,
) -> Result<(csv::Reader<R>, usize, Vec<String>, usize), ImportError> {
    let buf = reader.fill_buf()?;
    let bom = if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let delimiter = sniff_delimiter(&buf[bom.min(end)..end]);
    reader.consume(bom);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers: Vec<String> = csv
        .byte_headers()
        .map_err(|e| ImportError::BadHeader(e.to_string()))?
        .iter()
        .map(|f| header_key(&String::from_utf8_lossy(f)))
        .collect();
    let Some(email_col) = headers
        .iter()
        .position(|h| matches!(h.as_str(), "email" | "e_mail" | "email_address"))
    else {
        return Err(ImportError::NoEmailColumn(headers.join(", ")));
    };
    Ok((csv, bom, headers, email_col))
}

/// The columns that are not personalisation fields.
struct Columns<'a> {
    email: usize,
    status: Option<usize>,
    consent: &'a ConsentColumns,
}

/// A row's address, its `status` column, its consent columns and its other fields (into
/// `fields`), or why it is rejected: (the email column's value, the reason).
#[allow(clippy::type_complexity)]
fn check_row(
    record: &csv::ByteRecord,
    headers: &[String],
    cols: &Columns<'_>,
    fields: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(EmailAddress, Option<RowStatus>, Option<RowConsent>), (String, String)> {
    let (email_col, status_col) = (cols.email, cols.status);
    let Some(v) = record
        .get(email_col)
        .map(|b| String::from_utf8_lossy(b).into_owned())
    else {
        return Err((String::new(), "no value in the email column".into()));
    };
    if record.len() != headers.len() {
        let why = format!(
            "has {} fields where the header has {}",
            record.len(),
            headers.len()
        );
        return Err((v, why));
    }
    let addr = match EmailAddress::parse(&v) {
        Ok(a) => a,
        Err(e) => return Err((v, format!("invalid email address: {e}"))),
    };
    let status = status_col
        .and_then(|i| record.get(i))
        .map(|b| row_status(&String::from_utf8_lossy(b)))
        .transpose();
    let mut bad_utf8 = None;
    let mut too_long = None;
    fields.clear();
    for (i, f) in record.iter().enumerate() {
        if i == email_col || Some(i) == status_col || cols.consent.holds(i) || f.is_empty() {
            continue;
        }
        if f.len() > MAX_FIELD_BYTES {
            too_long = Some((headers[i].clone(), f.len()));
            continue;
        }
        match std::str::from_utf8(f) {
            Ok(s) if !s.trim().is_empty() => {
                fields.insert(headers[i].clone(), s.trim().into());
            }
            Ok(_) => {}
            Err(_) => bad_utf8 = Some(headers[i].clone()),
        }
    }
    let Ok(status) = status else {
        let got = status_col
            .and_then(|i| record.get(i))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return Err((
            v,
            format!(
                "column \"status\" is {got:?}: expected subscribed, unsubscribed, bounced (or cleaned) or complained"
            ),
        ));
    };
    if let Some((col, n)) = too_long {
        return Err((
            v,
            format!("column {col:?} holds {n} bytes; a field may hold at most {MAX_FIELD_BYTES}"),
        ));
    }
    if let Some(col) = bad_utf8 {
        return Err((v, format!("column {col:?} is not valid UTF-8")));
    }
    let consent = match cols.consent.read(record, headers) {
        Ok(c) => c,
        Err(why) => return Err((v, why)),
    };
    Ok((addr, status.flatten(), consent))
}

/// What the parser makes of `data` (a whole CSV file), without a store: the rows kept, the
/// rows rejected (each with its line and reason), the statuses and consent records read. For
/// the fuzz target (`fuzz/fuzz_targets/csv_import.rs`): any bytes give rows or reasons, never a
/// panic.
pub fn parse_only(data: Vec<u8>) -> Result<(usize, Vec<Rejected>, usize, usize), String> {
    let (tx, mut rx) = mpsc::channel(2);
    let erasure = Arc::new(ErasureKey::new(&[7; 32]));
    let t =
        std::thread::spawn(move || parse_rows(Box::new(std::io::Cursor::new(data)), erasure, tx));
    let (mut kept, mut rejected, mut statuses, mut consents) = (0, Vec::new(), 0, 0);
    while let Some(p) = rx.blocking_recv() {
        match p {
            Parsed::Batch(b, lines, st, c, r, _) => {
                assert_eq!(b.len(), lines.len());
                kept += b.len();
                statuses += st.len();
                consents += c.len();
                rejected.extend(r);
            }
            Parsed::Fatal(e) => return Err(e.to_string()),
        }
    }
    t.join().map_err(|_| "the parser panicked".to_string())?;
    Ok((kept, rejected, statuses, consents))
}

/// Import a CSV stream into `list` (created if needed). `progress` is called with rows done.
pub async fn import_csv<S: Store>(
    store: &S,
    erasure: Arc<ErasureKey>,
    input: Box<dyn Read + Send>,
    list: &str,
    mut progress: impl FnMut(u64),
    now_ms: i64,
) -> Result<ImportReport, ImportError> {
    let list_id = store.ensure_list(list, now_ms).await?;
    let (tx, mut rx) = mpsc::channel(2);
    let parser = tokio::task::spawn_blocking(move || parse_rows(input, erasure, tx));
    let mut report = ImportReport {
        list: list.to_string(),
        ..Default::default()
    };
    let mut rows = 0;
    while let Some(p) = rx.recv().await {
        match p {
            Parsed::Fatal(e) => return Err(e),
            Parsed::Batch(batch, lines, statuses, consents, mut rejected, mut rejected_n) => {
                let c = store.upsert_contacts(list_id, &batch, now_ms).await?;
                // People erased at their request are refused, each named by its line.
                let at_index: std::collections::HashMap<&str, usize> = if c.refused.is_empty() {
                    Default::default()
                } else {
                    batch
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (b.email_key.as_str(), i))
                        .collect()
                };
                for key in &c.refused {
                    if let Some(&i) = at_index.get(key.as_str()) {
                        rejected_n += 1;
                        rejected.push(Rejected {
                            line: lines[i],
                            value: batch[i].email.clone(),
                            reason: "erased at the person's request (contacts erase): never imported again".into(),
                        });
                    }
                }
                rejected.sort_by_key(|r| r.line);
                // Another tool's standing carries over: who left stays out of this list; bounced
                // and complained addresses are suppressed everywhere.
                let at = now_ms;
                for (key, st) in statuses.iter().filter(|(k, _)| !c.refused.contains(k)) {
                    let reason = match st {
                        RowStatus::Unsubscribed => {
                            store
                                .set_member_status(
                                    list_id,
                                    key,
                                    herald_domain::MemberStatus::Unsubscribed,
                                    at,
                                )
                                .await?;
                            report.unsubscribed += 1;
                            continue;
                        }
                        RowStatus::Bounced => herald_domain::SuppressionReason::PreviouslyBounced,
                        RowStatus::Complained => herald_domain::SuppressionReason::Complained,
                    };
                    store
                        .add_suppression(&herald_store::Suppression {
                            email_key: key.clone(),
                            reason,
                            source: format!("import:{list}"),
                            created_at_ms: at,
                        })
                        .await?;
                    report.suppressed += 1;
                }
                // The old tool's consent records, on this list.
                let kept: Vec<herald_store::ImportedConsent> = consents
                    .into_iter()
                    .filter(|(k, _)| !c.refused.contains(k))
                    .map(|(email_key, rc)| herald_store::ImportedConsent {
                        email_key,
                        source: match rc.source {
                            Some(s) => format!("import:{list}: {s}"),
                            None => format!("import:{list}"),
                        },
                        ip: rc.ip,
                        form_text: rc.text.unwrap_or_else(|| {
                            "imported with its consent record from another tool".into()
                        }),
                        at_ms: rc.at_ms.unwrap_or(now_ms),
                        confirmed_at_ms: rc.confirmed_at_ms,
                        confirm_ip: rc.confirm_ip,
                    })
                    .collect();
                report.consents += store.import_consents(list_id, &kept).await?;
                report.imported += c.inserted;
                report.updated += c.updated;
                report.rejected_count += rejected_n;
                let room = MAX_REJECTED_DETAILS.saturating_sub(report.rejected.len());
                report.rejected.extend(rejected.into_iter().take(room));
                rows += (batch.len() - c.refused.len()) as u64 + rejected_n;
                progress(rows);
            }
        }
    }
    parser.await.map_err(|_| ImportError::ReaderGone)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_headers() {
        assert_eq!(sniff_delimiter(b"email;first_name;\"a,b\""), b';');
        assert_eq!(sniff_delimiter(b"email\tname"), b'\t');
        assert_eq!(sniff_delimiter(b"email"), b',');
        assert_eq!(header_key("\u{feff}E-Mail "), "e_mail");
        assert_eq!(header_key("First Name"), "first_name");
    }

    fn lines_of(data: &str) -> Vec<(u64, String)> {
        let window = Rc::new(RefCell::new(Window::default()));
        let input = Tracked {
            inner: data.as_bytes(),
            window: window.clone(),
        };
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_reader(input);
        r.byte_headers().unwrap();
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let start = rec.position().unwrap().byte();
            out.push((
                window.borrow_mut().line_at(start),
                String::from_utf8_lossy(&rec[0]).into_owned(),
            ));
        }
        out
    }

    #[test]
    fn exact_line_numbers_with_lf_crlf_blank_lines_and_quoted_newlines() {
        let want = vec![(2, "x".to_string()), (4, "y".into()), (6, "z".into())];
        assert_eq!(lines_of("a;b\nx;1\n\ny;\"2\n3\"\nz;4"), want);
        assert_eq!(lines_of("a;b\r\nx;1\r\n\r\ny;\"2\r\n3\"\r\nz;4\r\n"), want);
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    #[test]
    fn an_oversized_field_rejects_its_row_and_keeps_the_others() {
        let big = "x".repeat(MAX_FIELD_BYTES + 1);
        let data = format!(
            "email,note\nann@example.test,short\nbob@example.test,{big}\ncy@example.test,ok\n"
        );
        let (tx, mut rx) = mpsc::channel(16);
        let t = std::thread::spawn(move || {
            parse_rows(
                Box::new(std::io::Cursor::new(data)),
                Arc::new(ErasureKey::new(&[7; 32])),
                tx,
            )
        });
        let (mut kept, mut rejected) = (Vec::new(), Vec::new());
        while let Some(p) = rx.blocking_recv() {
            match p {
                Parsed::Batch(b, _, _, _, r, _) => {
                    kept.extend(b.into_iter().map(|c| c.email));
                    rejected.extend(r);
                }
                Parsed::Fatal(e) => panic!("{e}"),
            }
        }
        t.join().expect("parser");
        assert_eq!(kept, ["ann@example.test", "cy@example.test"]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 3);
        assert_eq!(rejected[0].value, "bob@example.test");
        assert!(rejected[0].reason.contains("\"note\""), "{:?}", rejected[0]);
    }
}
