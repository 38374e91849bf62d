//! DMARC aggregate reports into the store: mailed to `dmarc@` at a return-path domain (the
//! inbound listener hands them over classified) or given to `herald dmarc import`. A report
//! is kept once per reporter, report id and domain, however often it arrives.

use herald_mail::feedback::DmarcReport;
use herald_mail::feedback::dmarc::{DmarcError, read_file};
use herald_store::{NewDmarcReport, NewDmarcRow, Store, StoreError};
use serde::Serialize;

/// What the store keeps of `report`, received at `received_ms` from `source` (`mail` or
/// `file:<name>`).
pub fn record_of(report: &DmarcReport, received_ms: i64, source: &str) -> NewDmarcReport {
    let ms = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let json = |v: &[herald_mail::feedback::dmarc::AuthResult]| {
        serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
    };
    NewDmarcReport {
        org: report.org.clone(),
        email: report.email.clone(),
        report_id: report.report_id.clone(),
        domain: report.domain.clone(),
        policy: report.policy.clone(),
        subdomain_policy: report.subdomain_policy.clone(),
        begin_ms: ms(report.begin),
        end_ms: ms(report.end),
        received_ms,
        source: source.to_string(),
        rows: report
            .rows
            .iter()
            .map(|r| NewDmarcRow {
                source_ip: r.source_ip.clone(),
                messages: i64::try_from(r.count).unwrap_or(i64::MAX),
                disposition: r.disposition.clone(),
                dkim: r.dkim.clone(),
                spf: r.spf.clone(),
                header_from: r.header_from.clone(),
                envelope_from: r.envelope_from.clone(),
                dkim_results: json(&r.dkim_results),
                spf_results: json(&r.spf_results),
            })
            .collect(),
    }
}

/// How long reports are kept (by the end of their period): a year of `--days 366` and a margin.
pub const RETENTION_MS: i64 = 400 * 86_400_000;

/// Why a report is not kept.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error("period ends in the future ({0}): a report is sent after its period")]
    Future(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Keep `report` (received at `received_ms` from `source`); false when it was kept already.
/// A period that ends more than a day after it arrived is refused: a forged report from the
/// future would stay the newest for ever and decide what the page advises.
pub async fn keep<S: Store>(
    store: &S,
    report: &DmarcReport,
    received_ms: i64,
    source: &str,
) -> Result<bool, KeepError> {
    let end_ms = i64::try_from(report.end.saturating_mul(1000)).unwrap_or(i64::MAX);
    if end_ms > received_ms.saturating_add(86_400_000) {
        return Err(KeepError::Future(crate::reports::ms_to_rfc3339(
            end_ms.min(
                // The largest time RFC 3339 can print.
                253_402_300_799_000,
            ),
        )));
    }
    Ok(store
        .record_dmarc(&record_of(report, received_ms, source))
        .await?)
}

/// One file `herald dmarc import` read.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub file: String,
    pub org: String,
    pub report_id: String,
    pub domain: String,
    pub records: usize,
    pub messages: u64,
    /// False when the same report was kept already (imported or mailed before).
    pub new: bool,
}

/// Why a file was not imported (the others still are).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {error}")]
    NotAReport { file: String, error: DmarcError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Read one file (XML, gzip, zip, or an email carrying one) and keep its report.
pub async fn import<S: Store>(
    store: &S,
    file: &str,
    bytes: &[u8],
    now_ms: i64,
) -> Result<Imported, ImportError> {
    let report = read_file(bytes).map_err(|error| ImportError::NotAReport {
        file: file.to_string(),
        error,
    })?;
    let name = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let new = match keep(store, &report, now_ms, &format!("file:{name}")).await {
        Ok(new) => new,
        Err(KeepError::Store(e)) => return Err(e.into()),
        Err(e @ KeepError::Future(_)) => {
            return Err(ImportError::NotAReport {
                file: file.to_string(),
                error: DmarcError::BadField(e.to_string()),
            });
        }
    };
    Ok(Imported {
        file: file.to_string(),
        org: report.org.clone(),
        report_id: report.report_id.clone(),
        domain: report.domain.clone(),
        records: report.rows.len(),
        messages: report.rows.iter().map(|r| r.count).sum(),
        new,
    })
}
