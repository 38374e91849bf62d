//! A campaign's spam score as rspamd gives it (`[check] rspamd_url`, its HTTP API `/checkv2`),
//! for the pre-send check: the message as the first contact would get it, signed, with the
//! envelope and the sending IP and name a receiver would see.

use std::collections::BTreeMap;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use serde::Deserialize;

/// The most of rspamd's answer read (a verdict with every symbol is a few KB).
const MAX_ANSWER: usize = 1024 * 1024;

/// What a receiver would know of the message's arrival besides the message.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// The sending IP (`[delivery] source_ips`) when Herald delivers itself (not through a
    /// relay); None: left for rspamd to judge without.
    pub ip: Option<std::net::IpAddr>,
    /// The EHLO name (`[delivery] helo_name`).
    pub helo: String,
    /// The name receivers find for the client: the EHLO name when Herald delivers itself (its
    /// PTR, which `herald ips` checks), the relay's host through a relay.
    pub hostname: String,
    /// The return path.
    pub mail_from: String,
    pub rcpt_to: String,
}

/// rspamd's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamScore {
    pub score: f64,
    /// The score at which rspamd rejects.
    pub required_score: f64,
    /// `no action`, `greylist`, `add header`, `rewrite subject`, `soft reject`, `reject`.
    pub action: String,
    /// The rules that matched with a score, highest first.
    pub symbols: Vec<Symbol>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub score: f64,
    pub description: String,
}

#[derive(Deserialize)]
struct Answer {
    score: f64,
    required_score: f64,
    action: String,
    #[serde(default)]
    symbols: BTreeMap<String, AnswerSymbol>,
}

#[derive(Deserialize)]
struct AnswerSymbol {
    #[serde(default)]
    score: f64,
    #[serde(default)]
    description: String,
}

/// rspamd's answer read (a non-JSON or error answer is an error naming it).
pub fn parse(body: &[u8]) -> Result<SpamScore, String> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| {
        format!(
            "rspamd's answer is not a verdict ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )
    })?;
    let mut symbols: Vec<Symbol> = a
        .symbols
        .into_iter()
        .filter(|(_, s)| s.score != 0.0)
        .map(|(name, s)| Symbol {
            name,
            score: s.score,
            description: s.description,
        })
        .collect();
    symbols.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.name.cmp(&y.name)));
    Ok(SpamScore {
        score: a.score,
        required_score: a.required_score,
        action: a.action,
        symbols,
    })
}

/// `url` without any `user:password@` part, for messages.
fn shown(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            let authority = &rest[..host_end];
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{}", &rest[host_end..])
        }
        None => url.to_string(),
    }
}

/// POST `message` to rspamd at `base` (`http://127.0.0.1:11333`) and read its verdict, within
/// `timeout`.
pub async fn score(
    base: &str,
    message: Vec<u8>,
    envelope: &Envelope,
    timeout: Duration,
) -> Result<SpamScore, String> {
    let url = format!("{}/checkv2", base.trim_end_matches('/'));
    let named = shown(&url);
    let client = crate::webhooks::post::http_client(timeout, None)
        .map_err(|e| format!("TLS for rspamd: {e}"))?;
    let mut request = hyper::Request::post(&url)
        .header("Helo", &envelope.helo)
        .header("Hostname", &envelope.hostname)
        .header("From", &envelope.mail_from)
        .header("Rcpt", &envelope.rcpt_to);
    if let Some(ip) = envelope.ip {
        request = request.header("IP", ip.to_string());
    }
    let request = request
        .body(Full::new(Bytes::from(message)))
        .map_err(|e| format!("the request to {named} could not be built: {e}"))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("rspamd at {named} did not answer: {e}"))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| format!("reading rspamd's answer: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "rspamd at {named} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        parse(&body)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("rspamd at {named} did not answer within {timeout:?}"))?
}

/// What rspamd's verdict (or its absence) means for the campaign, in the pre-send check's terms.
pub fn finding(result: &Result<SpamScore, String>) -> crate::api_types::CheckFinding {
    use crate::api_types::{CheckFinding, CheckSeverity};
    let s = match result {
        Ok(s) => s,
        Err(e) => {
            return CheckFinding {
                code: "spam_score_unavailable".into(),
                severity: CheckSeverity::Warning,
                text: format!("The spam score could not be read: {e}"),
                fix: Some("check [check] rspamd_url and that rspamd runs there".into()),
            };
        }
    };
    let severity = match s.action.as_str() {
        "reject" | "soft reject" => CheckSeverity::Problem,
        "add header" | "rewrite subject" | "greylist" => CheckSeverity::Warning,
        _ => CheckSeverity::Info,
    };
    let verdict = match s.action.as_str() {
        "reject" => "it would refuse the message".to_string(),
        "soft reject" => "it would refuse the message for now".to_string(),
        "add header" | "rewrite subject" => {
            "it would mark the message as spam (a receiver files such mail in Junk)".to_string()
        }
        "greylist" => {
            "it would delay the message (greylisting), a sign it is close to spam".to_string()
        }
        other => format!("its action: {other}"),
    };
    let top: Vec<String> = s
        .symbols
        .iter()
        .filter(|x| x.score > 0.0)
        .take(5)
        .map(|x| {
            if x.description.is_empty() {
                format!("{} +{:.1}", x.name, x.score)
            } else {
                format!("{} +{:.1} ({})", x.name, x.score, x.description)
            }
        })
        .collect();
    let adding = if top.is_empty() {
        String::new()
    } else {
        format!(" What adds most: {}.", top.join("; "))
    };
    CheckFinding {
        code: "spam_score".into(),
        severity,
        text: format!(
            "rspamd scores the message {:.1} (it refuses mail from {:.1}): {verdict}.{adding}",
            s.score, s.required_score
        ),
        fix: (severity != CheckSeverity::Info).then(|| {
            "change what the rules above name (content, links, headers), then check again; \
             receivers' filters differ from this rspamd, but they weigh the same signals"
                .to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_types::CheckSeverity;

    const ANSWER: &str = r#"{"is_skipped":false,"score":10.7,"required_score":15.0,
        "action":"add header","symbols":{
        "ARC_NA":{"name":"ARC_NA","score":0.0,"description":"ARC signature absent"},
        "MIME_HTML_ONLY":{"name":"MIME_HTML_ONLY","score":0.2,"description":"Messages that have only HTML part"},
        "SPAMMY":{"name":"SPAMMY","score":8.0,"description":"A subject asking to be junked"}}}"#;

    #[test]
    fn the_verdict_reads_and_words_itself() {
        let s = parse(ANSWER.as_bytes()).unwrap();
        assert_eq!((s.score, s.action.as_str()), (10.7, "add header"));
        // Only the rules that scored, highest first.
        let names: Vec<&str> = s.symbols.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["SPAMMY", "MIME_HTML_ONLY"]);
        let f = finding(&Ok(s.clone()));
        assert_eq!(
            (f.code.as_str(), f.severity),
            ("spam_score", CheckSeverity::Warning)
        );
        assert!(
            f.text
                .starts_with("rspamd scores the message 10.7 (it refuses mail from 15.0)")
        );
        assert!(
            f.text
                .contains("SPAMMY +8.0 (A subject asking to be junked)"),
            "{}",
            f.text
        );

        let calm = SpamScore {
            action: "no action".into(),
            score: 1.0,
            ..s.clone()
        };
        assert_eq!(finding(&Ok(calm)).severity, CheckSeverity::Info);
        let refused = SpamScore {
            action: "reject".into(),
            ..s
        };
        assert_eq!(finding(&Ok(refused)).severity, CheckSeverity::Problem);
        let down = finding(&Err("rspamd at http://x/checkv2 did not answer".into()));
        assert_eq!(
            (down.code.as_str(), down.severity),
            ("spam_score_unavailable", CheckSeverity::Warning)
        );
        assert!(
            parse(b"<html>no</html>")
                .unwrap_err()
                .contains("not a verdict")
        );
    }
}
