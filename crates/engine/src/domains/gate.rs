//! The From-alignment gate (design §5): a campaign may only be sent From a connected domain
//! whose records verify, or from a subdomain of one (aligned under relaxed DMARC alignment).
//! Plain policy over what `Keyring` and `verify` found; no I/O.

use super::verify::{Status, Verification};

/// Why a From address may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error(
        "the From domain {from_domain} is not connected: its mail would carry no DKIM signature aligned with it, \
         so receivers enforcing DMARC (Gmail, Yahoo, Microsoft) would junk or reject it. \
         Connect it with `herald domain add {from_domain}`, publish the records, and `herald domain verify {from_domain}`"
    )]
    NotConnected { from_domain: String },
    #[error("the From domain {from_domain} is connected through {connected}, but {problems}")]
    NotVerified {
        from_domain: String,
        connected: String,
        problems: String,
    },
}

/// What the record's failure means for mail From that domain.
fn consequence(kind: &str) -> &'static str {
    match kind {
        "dkim" => "receivers cannot verify the DKIM signature, so DMARC fails",
        "spf" => "SPF fails for our sending IPs",
        "dmarc" => "without DMARC, Gmail and Yahoo treat bulk mail as unauthenticated",
        "return_path" => "bounces cannot reach Herald",
        "ptr" => "receivers reject or junk mail from IPs without forward-confirmed reverse DNS",
        _ => "the domain is not fully set up",
    }
}

/// Decide whether mail From `from_domain` may be sent, given the connected domain that would
/// sign it and that domain's verification (`None` when no connected domain covers it).
pub fn check_from(from_domain: &str, connected: Option<&Verification>) -> Result<(), GateError> {
    let Some(v) = connected else {
        return Err(GateError::NotConnected {
            from_domain: from_domain.to_string(),
        });
    };
    match problems(v) {
        None => Ok(()),
        Some(problems) => Err(GateError::NotVerified {
            from_domain: from_domain.to_string(),
            connected: v.domain.clone(),
            problems,
        }),
    }
}

/// Each required record that does not pass, with what receivers will do because of it, in
/// one sentence; `None` when every required record passes.
pub fn problems(v: &Verification) -> Option<String> {
    let failing: Vec<String> = v
        .records
        .iter()
        .filter(|c| c.required && c.status != Status::Pass)
        .map(|c| {
            let what = match c.status {
                Status::Missing => "is missing",
                Status::DnsError => "could not be looked up",
                _ => "is wrong",
            };
            format!(
                "the {} record {} {what} ({})",
                c.kind,
                c.name,
                consequence(c.kind)
            )
        })
        .collect();
    (!failing.is_empty()).then(|| failing.join("; "))
}

#[cfg(test)]
mod tests {
    use super::super::verify::Check;
    use super::*;

    fn v(statuses: &[(&'static str, Status)]) -> Verification {
        Verification {
            domain: "sender.test".into(),
            ok: statuses.iter().all(|(_, s)| *s == Status::Pass),
            next_selector_ready: false,
            records: statuses
                .iter()
                .map(|(kind, status)| Check {
                    kind,
                    name: format!("{kind}.sender.test"),
                    expected: String::new(),
                    found: None,
                    status: *status,
                    why: String::new(),
                    required: true,
                })
                .collect(),
        }
    }

    #[test]
    fn table() {
        let all = v(&[
            ("dkim", Status::Pass),
            ("spf", Status::Pass),
            ("dmarc", Status::Pass),
        ]);
        assert_eq!(check_from("sender.test", Some(&all)), Ok(()));
        assert_eq!(check_from("news.sender.test", Some(&all)), Ok(()));
        assert!(matches!(
            check_from("other.test", None),
            Err(GateError::NotConnected { .. })
        ));
        let e = check_from(
            "sender.test",
            Some(&v(&[("dkim", Status::Pass), ("dmarc", Status::Missing)])),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("dmarc record dmarc.sender.test is missing") && text.contains("Gmail"),
            "{text}"
        );
        let e = check_from("sender.test", Some(&v(&[("dkim", Status::DnsError)]))).unwrap_err();
        assert!(e.to_string().contains("could not be looked up"));
    }
}
