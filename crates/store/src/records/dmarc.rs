//! DMARC aggregate reports, as kept and as read back for `herald dmarc report`.

/// A report to keep ([`crate::areas::DmarcStore::record_dmarc`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDmarcReport {
    pub org: String,
    pub email: String,
    pub report_id: String,
    /// The policy domain, lower-case.
    pub domain: String,
    pub policy: String,
    pub subdomain_policy: String,
    pub begin_ms: i64,
    pub end_ms: i64,
    pub received_ms: i64,
    /// `mail` (through the inbound listener) or `file:<name>` (`herald dmarc import`).
    pub source: String,
    pub rows: Vec<NewDmarcRow>,
}

/// One `<record>` of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDmarcRow {
    pub source_ip: String,
    pub messages: i64,
    pub disposition: String,
    /// DMARC's aligned results: pass, fail, none.
    pub dkim: String,
    pub spf: String,
    pub header_from: String,
    pub envelope_from: String,
    /// JSON arrays of `{domain, selector?, result}`: the raw results before alignment.
    pub dkim_results: String,
    pub spf_results: String,
}

/// Everything the reports of a period say about one source IP sending as one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcSource {
    pub domain: String,
    pub source_ip: String,
    pub messages: u64,
    /// Messages that passed DMARC (DKIM or SPF aligned).
    pub dmarc_pass: u64,
    pub dkim_pass: u64,
    pub spf_pass: u64,
    pub quarantined: u64,
    pub rejected: u64,
    /// How many reporting organisations saw it.
    pub reporters: u64,
    /// One From domain it used (the greatest, when several).
    pub header_from: String,
    /// One of its raw DKIM and SPF result sets (JSON), to say why it failed.
    pub dkim_results: String,
    pub spf_results: String,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// One reporting organisation's reports about one domain in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcReporterRow {
    pub domain: String,
    pub org: String,
    pub email: String,
    pub reports: u64,
    pub messages: u64,
    pub first_ms: i64,
    pub last_ms: i64,
    /// The policy its newest report found published.
    pub policy: String,
}
