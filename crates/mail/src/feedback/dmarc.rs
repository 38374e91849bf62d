//! DMARC aggregate reports (RFC 7489 §7.2), read with mail-auth and summarised.

use std::io::{Cursor, Read};

use mail_auth::report::{ActionDisposition, DmarcResult, Report};
use mail_parser::Message;
use serde::Serialize;

/// Largest decompressed report read (zip and gzip bombs stop here).
const MAX_XML: u64 = 32 * 1024 * 1024;

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

fn summarise(report: &Report) -> DmarcSummary {
    let mut pass = 0u64;
    let mut fail = 0u64;
    let mut dispositions: Vec<(String, u64)> = Vec::new();
    for r in report.records() {
        let n = u64::from(r.count());
        if r.dmarc_dkim_result() == DmarcResult::Pass || r.dmarc_spf_result() == DmarcResult::Pass {
            pass += n;
        } else {
            fail += n;
        }
        let d = match r.action_disposition() {
            ActionDisposition::None => "none",
            ActionDisposition::Pass => "pass",
            ActionDisposition::Quarantine => "quarantine",
            ActionDisposition::Reject => "reject",
            ActionDisposition::Unspecified => "unspecified",
        };
        match dispositions.iter_mut().find(|(k, _)| k == d) {
            Some((_, c)) => *c += n,
            None => dispositions.push((d.to_string(), n)),
        }
    }
    dispositions.sort();
    DmarcSummary {
        org: report.org_name().to_string(),
        domain: report.domain().to_string(),
        policy: format!("{:?}", report.p()).to_ascii_lowercase(),
        records: report.records().len(),
        messages: pass + fail,
        dmarc_pass: pass,
        dmarc_fail: fail,
        dispositions,
    }
}

fn read_capped(r: impl Read) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_XML).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// A bare report file: XML, gzip or zip.
pub(super) fn from_attachment_bytes(raw: &[u8]) -> Option<DmarcSummary> {
    let xml = if raw.starts_with(&[0x1f, 0x8b]) {
        read_capped(flate2::read::GzDecoder::new(raw))?
    } else if raw.starts_with(b"PK\x03\x04") {
        let mut archive = zip::ZipArchive::new(Cursor::new(raw)).ok()?;
        let file = archive.by_index(0).ok()?;
        read_capped(file)?
    } else {
        let head = String::from_utf8_lossy(&raw[..raw.len().min(512)]).to_ascii_lowercase();
        if !(head.trim_start().starts_with("<?xml") || head.contains("<feedback")) {
            return None;
        }
        raw.to_vec()
    };
    parse_xml(&xml)
}

/// Reporters write result words in any case ("Pass", "FAIL"), and some send invalid UTF-8:
/// normalise both before mail-auth reads the XML.
fn parse_xml(xml: &[u8]) -> Option<DmarcSummary> {
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
    Report::parse_xml(out.as_bytes())
        .ok()
        .map(|r| summarise(&r))
}

/// A report mailed as an attachment.
pub(super) fn from_message(raw: &[u8], message: &Message<'_>) -> Option<DmarcSummary> {
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    let has_attachment = message.attachment_count() > 0;
    if !(has_attachment || subject.contains("report domain")) {
        return None;
    }
    Report::parse_rfc5322(raw, MAX_XML as usize)
        .ok()
        .map(|r| summarise(&r))
}
