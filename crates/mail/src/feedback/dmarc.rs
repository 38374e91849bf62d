//! DMARC aggregate reports (RFC 7489 §7.2), read with mail-auth and summarised.
//!
//! Archives are opened here, not by mail-auth: its reader decompresses every entry of a zip in
//! turn, so a 41 KB archive of 200 entries pointing at one compressed block cost ~11 s of CPU
//! inside the feedback loop. Here a message gets one decompression [`Budget`] for all its
//! attachments, and a zip must hold exactly one entry (RFC 7489 §7.2.1.1: one report per
//! archive) whose declared size fits what is left of it.

use std::io::{Cursor, Read};

use mail_auth::report::{DmarcResult, Report};
use mail_parser::{Message, PartType};
use serde::Serialize;

/// Decompressed bytes one message may produce, across all its attachments (zip and gzip
/// bombs stop here). Real aggregate reports are kilobytes to a few megabytes.
pub const MAX_DECOMPRESSED: u64 = 32 * 1024 * 1024;
/// Records one report may hold: a big sender's daily report from one receiver has hundreds;
/// 17 bytes of `<record></record>` each would otherwise be millions of rows per message.
pub const MAX_RECORDS: usize = 10_000;
/// The longest period one report may cover (receivers report daily; some weekly).
pub const MAX_PERIOD_SECS: u64 = 31 * 86_400;
/// Text kept per field of a report (names, ids, addresses).
const MAX_FIELD: usize = 256;

/// What is left of one message's decompression allowance.
#[derive(Debug)]
pub struct Budget {
    left: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            left: MAX_DECOMPRESSED,
        }
    }
}

impl Budget {
    /// Bytes this message may still inflate.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// Count `n` inflated bytes against the allowance; past it, nothing is left.
    fn charge(&mut self, n: u64) -> Result<(), DmarcError> {
        if n > self.left {
            self.left = 0;
            return Err(DmarcError::TooLarge);
        }
        self.left -= n;
        Ok(())
    }

    /// Read `r` to the end within the allowance; None (and nothing left) past it.
    fn read(&mut self, r: impl Read) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        r.take(self.left.saturating_add(1))
            .read_to_end(&mut buf)
            .ok()?;
        if buf.len() as u64 > self.left {
            self.left = 0;
            return None;
        }
        self.left -= buf.len() as u64;
        Some(buf)
    }
}

/// What a DMARC aggregate report says, in numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmarcSummary {
    pub org: String,
    pub domain: String,
    /// The published policy: none, quarantine, reject.
    pub policy: String,
    pub records: usize,
    pub messages: u64,
    /// Messages whose DKIM or SPF result was an aligned pass (RFC 7489 §6.6.2).
    pub dmarc_pass: u64,
    pub dmarc_fail: u64,
    /// Messages per disposition the receiver applied (none, quarantine, reject, pass).
    pub dispositions: Vec<(String, u64)>,
}

/// One aggregate report, whole: who sent it, for which domain and period, and one row per
/// source IP and result the receiver saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmarcReport {
    /// The reporting organisation (`google.com`, `Yahoo`…).
    pub org: String,
    /// The reporter's contact address.
    pub email: String,
    /// The reporter's id of this report (a report mailed twice has the same one).
    pub report_id: String,
    /// The period the report covers, UNIX seconds.
    pub begin: u64,
    pub end: u64,
    /// The domain whose policy the receiver applied (the From domain).
    pub domain: String,
    /// The policy the receiver found published: none, quarantine, reject (`unspecified` when
    /// the report leaves it out).
    pub policy: String,
    pub subdomain_policy: String,
    pub rows: Vec<DmarcRow>,
}

/// One `<record>`: messages from one source IP with one set of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmarcRow {
    /// The sending server's address as the receiver saw it ("" when the report omits it).
    pub source_ip: String,
    pub count: u64,
    /// What the receiver did: none, quarantine, reject, pass, unspecified.
    pub disposition: String,
    /// DMARC's own view of DKIM and SPF: `pass` only when aligned with the From domain.
    pub dkim: String,
    pub spf: String,
    pub header_from: String,
    pub envelope_from: String,
    /// The raw DKIM results (each signature's domain, selector, result).
    pub dkim_results: Vec<AuthResult>,
    /// The raw SPF results (the domain checked, result; no selector).
    pub spf_results: Vec<AuthResult>,
}

/// One DKIM signature's or SPF check's result, before alignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuthResult {
    pub domain: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    pub result: String,
}

impl DmarcRow {
    /// DMARC passes when DKIM or SPF passes aligned (RFC 7489 §6.6.2).
    pub fn passes(&self) -> bool {
        self.dkim == "pass" || self.spf == "pass"
    }
}

impl DmarcReport {
    /// The report in numbers (what `bounce classify` prints and the corpus checks).
    pub fn summary(&self) -> DmarcSummary {
        let mut pass = 0u64;
        let mut fail = 0u64;
        let mut dispositions: Vec<(String, u64)> = Vec::new();
        for r in &self.rows {
            if r.passes() {
                pass += r.count;
            } else {
                fail += r.count;
            }
            match dispositions.iter_mut().find(|(k, _)| *k == r.disposition) {
                Some((_, c)) => *c += r.count,
                None => dispositions.push((r.disposition.clone(), r.count)),
            }
        }
        dispositions.sort();
        DmarcSummary {
            org: self.org.clone(),
            domain: self.domain.clone(),
            policy: self.policy.clone(),
            records: self.rows.len(),
            messages: pass + fail,
            dmarc_pass: pass,
            dmarc_fail: fail,
            dispositions,
        }
    }
}

/// Why a file or attachment is not a report Herald can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DmarcError {
    #[error(
        "not a DMARC aggregate report: no <feedback> XML, gzip or zip (or an email carrying one)"
    )]
    NotAReport,
    #[error("it decompresses to more than {} MiB", MAX_DECOMPRESSED >> 20)]
    TooLarge,
    #[error("the zip archive is not readable or holds more than one file ({0})")]
    Archive(String),
    #[error("the gzip data is not readable")]
    Gzip,
    #[error("the report's XML is not a DMARC aggregate report: {0}")]
    Xml(String),
    #[error("the report holds more than {MAX_RECORDS} records ({0})")]
    TooManyRecords(usize),
    #[error("the report's {0}")]
    BadField(String),
}

/// A field as kept: control characters (NUL included: PostgreSQL text refuses it, terminals
/// obey escapes) removed, at most [`MAX_FIELD`] characters.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_FIELD)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The policy domain as a host name (the rules addresses' domains follow), lower-case ASCII.
fn policy_domain(s: &str) -> Result<String, DmarcError> {
    herald_domain::address::normalise_domain(s.trim())
        .ok()
        .filter(|d| d.contains('.'))
        .ok_or_else(|| {
            DmarcError::BadField(format!("policy domain {:?} is not a domain name", clean(s)))
        })
}

/// A name from mail-auth's enums, as reports spell it (`Pass` → `pass`).
fn word(v: impl std::fmt::Debug) -> String {
    format!("{v:?}").to_ascii_lowercase()
}

fn of_report(report: &Report) -> Result<DmarcReport, DmarcError> {
    let (begin, end) = (report.date_range_begin(), report.date_range_end());
    if begin > end || end - begin > MAX_PERIOD_SECS {
        return Err(DmarcError::BadField(format!(
            "period {begin}..{end} is not a period of at most 31 days"
        )));
    }
    let rows = report
        .records()
        .iter()
        .map(|r| DmarcRow {
            source_ip: r.source_ip().map(|ip| ip.to_string()).unwrap_or_default(),
            count: u64::from(r.count()),
            disposition: word(r.action_disposition()),
            dkim: dmarc_word(r.dmarc_dkim_result()),
            spf: dmarc_word(r.dmarc_spf_result()),
            header_from: clean(&r.header_from().to_ascii_lowercase()),
            envelope_from: clean(&r.envelope_from().to_ascii_lowercase()),
            dkim_results: r
                .dkim_auth_result()
                .iter()
                .map(|a| AuthResult {
                    domain: clean(&a.domain().to_ascii_lowercase()),
                    selector: clean(a.selector()),
                    result: word(a.result()),
                })
                .collect(),
            spf_results: r
                .spf_auth_result()
                .iter()
                .map(|a| AuthResult {
                    domain: clean(&a.domain().to_ascii_lowercase()),
                    selector: String::new(),
                    result: word(a.result()),
                })
                .collect(),
        })
        .collect();
    Ok(DmarcReport {
        org: clean(report.org_name()),
        email: clean(report.email()),
        report_id: clean(report.report_id()),
        begin,
        end,
        domain: policy_domain(report.domain())?,
        policy: word(report.p()),
        subdomain_policy: word(report.sp()),
        rows,
    })
}

fn dmarc_word(r: DmarcResult) -> String {
    match r {
        DmarcResult::Pass => "pass".into(),
        DmarcResult::Fail => "fail".into(),
        DmarcResult::Unspecified => "none".into(),
    }
}

/// A bare report file: XML, gzip or zip, decompressed within `budget`.
pub fn from_attachment_bytes(raw: &[u8], budget: &mut Budget) -> Option<DmarcReport> {
    read_attachment(raw, budget).ok()
}

/// [`from_attachment_bytes`], saying why it is not a report.
pub fn read_attachment(raw: &[u8], budget: &mut Budget) -> Result<DmarcReport, DmarcError> {
    let xml = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut buf = Vec::new();
        let limit = budget.left;
        flate2::read::GzDecoder::new(raw)
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|_| DmarcError::Gzip)?;
        budget.charge(buf.len() as u64)?;
        buf
    } else if raw.starts_with(b"PK\x03\x04") {
        let mut archive = zip::ZipArchive::new(Cursor::new(raw))
            .map_err(|e| DmarcError::Archive(e.to_string()))?;
        // One report per archive; several entries are refused unread (a bomb's shape).
        if archive.len() != 1 {
            return Err(DmarcError::Archive(format!("{} entries", archive.len())));
        }
        let file = archive
            .by_index(0)
            .map_err(|e| DmarcError::Archive(e.to_string()))?;
        if file.size() > budget.left {
            return Err(DmarcError::TooLarge);
        }
        budget.read(file).ok_or(DmarcError::TooLarge)?
    } else {
        let head = String::from_utf8_lossy(&raw[..raw.len().min(512)]).to_ascii_lowercase();
        if !(head.trim_start().starts_with("<?xml") || head.contains("<feedback")) {
            return Err(DmarcError::NotAReport);
        }
        raw.to_vec()
    };
    parse_xml(&xml)
}

/// Reporters write result words in any case ("Pass", "FAIL"), and some send invalid UTF-8:
/// normalise both before mail-auth reads the XML.
fn parse_xml(xml: &[u8]) -> Result<DmarcReport, DmarcError> {
    let text = String::from_utf8_lossy(xml);
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(open) = rest.find('>') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let end = rest.find('<').unwrap_or(rest.len());
        let value = &rest[..end];
        const WORDS: &[&str] = &[
            "pass",
            "fail",
            "none",
            "neutral",
            "softfail",
            "temperror",
            "permerror",
            "policy",
            "quarantine",
            "reject",
        ];
        if WORDS.iter().any(|w| value.trim().eq_ignore_ascii_case(w)) {
            out.push_str(&value.to_ascii_lowercase());
        } else {
            out.push_str(value);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    // Counted before mail-auth builds them all.
    let records = out.matches("<record>").count() + out.matches("<record ").count();
    if records > MAX_RECORDS {
        return Err(DmarcError::TooManyRecords(records));
    }
    of_report(&Report::parse_xml(out.as_bytes()).map_err(DmarcError::Xml)?)
}

/// A report mailed as an attachment (XML, gzip or zip, recognised by content), every part
/// decompressed from the one `budget`.
pub(super) fn from_message(message: &Message<'_>, budget: &mut Budget) -> Option<DmarcReport> {
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    let has_attachment = message.attachment_count() > 0;
    if !(has_attachment || subject.contains("report domain")) {
        return None;
    }
    message.parts.iter().find_map(|part| match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => from_attachment_bytes(b, budget),
        PartType::Text(t) => from_attachment_bytes(t.as_bytes(), budget),
        _ => None,
    })
}

/// A file an operator gives `herald dmarc import`: a report (XML, gzip, zip) or an email
/// carrying one. The error says why it is not one (the first report-like part's problem).
pub fn read_file(raw: &[u8]) -> Result<DmarcReport, DmarcError> {
    let mut budget = Budget::default();
    match read_attachment(raw, &mut budget) {
        Err(DmarcError::NotAReport) => {}
        other => return other,
    }
    let message = super::parse_untrusted(raw).ok_or(DmarcError::NotAReport)?;
    let mut first_error = DmarcError::NotAReport;
    for part in &message.parts {
        let bytes: &[u8] = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b,
            PartType::Text(t) => t.as_bytes(),
            _ => continue,
        };
        match read_attachment(bytes, &mut budget) {
            Ok(r) => return Ok(r),
            Err(DmarcError::NotAReport) => {}
            Err(e) => {
                if first_error == DmarcError::NotAReport {
                    first_error = e;
                }
            }
        }
    }
    Err(first_error)
}

#[cfg(test)]
mod bombs {
    use super::*;
    use std::io::Write;

    const REPORT: &str = include_str!("../../../../testdata/corpora/dmarc/dmarcviewer__yahoo.xml");

    /// A zip whose `entries` central-directory records all point at one deflated `content`
    /// (the overlapping-entries bomb when `entries` > 1).
    fn zip(content: &[u8], entries: usize) -> Vec<u8> {
        let mut deflated = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
        deflated.write_all(content).expect("deflate");
        let data = deflated.finish().expect("deflate");
        let mut crc = flate2::Crc::new();
        crc.update(content);
        let (crc, csize, usize_) = (crc.sum(), data.len() as u32, content.len() as u32);
        let name = b"report.xml";
        let mut out = Vec::new();
        let header = |out: &mut Vec<u8>, central: bool| {
            if central {
                out.extend(0x0201_4b50u32.to_le_bytes());
                out.extend(20u16.to_le_bytes());
            } else {
                out.extend(0x0403_4b50u32.to_le_bytes());
            }
            out.extend(20u16.to_le_bytes()); // version needed
            out.extend(0u16.to_le_bytes()); // flags
            out.extend(8u16.to_le_bytes()); // deflate
            out.extend([0u8; 4]); // time, date
            out.extend(crc.to_le_bytes());
            out.extend(csize.to_le_bytes());
            out.extend(usize_.to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes()); // extra
            if central {
                out.extend([0u8; 12]); // comment, disk, attributes
                out.extend(0u32.to_le_bytes()); // local header at 0
            }
            out.extend(name);
        };
        header(&mut out, false);
        out.extend(&data);
        let cd_start = out.len() as u32;
        for _ in 0..entries {
            header(&mut out, true);
        }
        let cd_size = out.len() as u32 - cd_start;
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend((entries as u16).to_le_bytes());
        out.extend((entries as u16).to_le_bytes());
        out.extend(cd_size.to_le_bytes());
        out.extend(cd_start.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn one_entry_reads_and_many_are_refused_unread() {
        let mut budget = Budget::default();
        let ok = from_attachment_bytes(&zip(REPORT.as_bytes(), 1), &mut budget);
        assert!(ok.is_some(), "a one-report archive is read");
        assert_eq!(budget.left, MAX_DECOMPRESSED - REPORT.len() as u64);

        // 200 entries over one block of 4 MiB: refused before any byte is inflated.
        let block = vec![b' '; 4 << 20];
        let bomb = zip(&block, 200);
        let mut budget = Budget::default();
        let started = std::time::Instant::now();
        assert_eq!(from_attachment_bytes(&bomb, &mut budget), None);
        assert_eq!(budget.left, MAX_DECOMPRESSED, "nothing was decompressed");
        println!(
            "zip bomb ({} bytes, 200 entries) refused in {:?}",
            bomb.len(),
            started.elapsed()
        );
    }

    #[test]
    fn hostile_reports_are_refused_or_cleaned() {
        let many = REPORT.replacen(
            "<record>",
            &format!("{}<record>", "<record></record>".repeat(MAX_RECORDS + 1)),
            1,
        );
        assert_eq!(
            read_file(many.as_bytes()),
            Err(DmarcError::TooManyRecords(MAX_RECORDS + 2))
        );
        let odd = REPORT.replacen("<org_name>", "<org_name>a\u{0}\u{1b}[31m", 1);
        let r = read_file(odd.as_bytes()).expect("still a report");
        assert!(!r.org.chars().any(char::is_control), "{:?}", r.org);
        let bad_domain = REPORT.replacen("<domain>", "<domain>x y.", 1);
        assert!(matches!(
            read_file(bad_domain.as_bytes()),
            Err(DmarcError::BadField(_))
        ));
    }

    #[test]
    fn one_budget_per_message() {
        // A single entry inflating past the allowance stops at it.
        let big = vec![b' '; (MAX_DECOMPRESSED + 1) as usize];
        let mut budget = Budget::default();
        assert_eq!(from_attachment_bytes(&zip(&big, 1), &mut budget), None);
        // Whatever a message has used is gone for its other attachments.
        let mut budget = Budget { left: 100 };
        assert_eq!(
            from_attachment_bytes(&zip(REPORT.as_bytes(), 1), &mut budget),
            None
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        gz.write_all(REPORT.as_bytes()).expect("gzip");
        let gz = gz.finish().expect("gzip");
        assert_eq!(from_attachment_bytes(&gz, &mut Budget { left: 100 }), None);
        assert!(from_attachment_bytes(&gz, &mut Budget::default()).is_some());
    }
}
