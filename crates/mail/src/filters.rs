//! Which mail filter or provider stands behind a recipient's MX (sans-IO, table-tested).
//!
//! "Delivered" means a server said 250. Who that server is decides what happened next: a
//! security gateway accepts and then quarantines, a mailbox provider files into Junk. The MX
//! host names (and the receiving server's greeting or reply text, when recorded) identify the
//! product; each entry says what its acceptance means and where held mail can be found.

use serde::Serialize;

/// A recognised filter product or mailbox provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FilterProduct {
    /// Stable code, e.g. `microsoft365`.
    pub code: &'static str,
    pub name: &'static str,
    /// What a 250 from it means.
    pub accepted_means: &'static str,
    /// Where the user or admin finds held or filtered mail.
    pub quarantine: &'static str,
}

/// (host-name suffixes or words, product). Suffixes are matched on the lower-cased MX name
/// without its trailing dot; words are matched in greeting/reply texts.
const PRODUCTS: &[(&[&str], &[&str], FilterProduct)] = &[
    (
        &[".olc.protection.outlook.com"],
        &[],
        FilterProduct {
            code: "outlook_consumer",
            name: "Outlook.com / Hotmail",
            accepted_means: "Outlook.com accepted it; it may be filed in Junk or silently deleted for a poor sender reputation.",
            quarantine: "the user: the Junk Email folder; there is no admin quarantine for consumer mailboxes",
        },
    ),
    (
        &[".mail.protection.outlook.com", ".protection.outlook.com"],
        &["protection.outlook.com", "microsoft esmtp mail service"],
        FilterProduct {
            code: "microsoft365",
            name: "Microsoft 365 / Exchange Online Protection",
            accepted_means: "Exchange Online Protection accepted it; it can still be put in the Junk Email folder or held in quarantine after that.",
            quarantine: "the user: the Junk Email folder; an admin: Microsoft Defender portal › Email & collaboration › Review › Quarantine (search by Message-ID), and Message trace by Message-ID or sender",
        },
    ),
    (
        &[
            "aspmx.l.google.com",
            ".aspmx.l.google.com",
            "googlemail.com",
            ".google.com",
            ".smtp.goog",
        ],
        &["mx.google.com", "gsmtp"],
        FilterProduct {
            code: "google",
            name: "Google Workspace / Gmail",
            accepted_means: "Google accepted it; Gmail may still put it in Spam, or in a tab other than Primary.",
            quarantine: "the user: Spam (and the Promotions/Updates tabs); a Workspace admin: Admin console › Reporting › Email Log Search by Message-ID, and Apps › Gmail › Manage quarantines",
        },
    ),
    (
        &[".pphosted.com", ".ppe-hosted.com", ".proofpoint.com"],
        &["proofpoint"],
        FilterProduct {
            code: "proofpoint",
            name: "Proofpoint",
            accepted_means: "Proofpoint's gateway accepted it; it scans after accepting and may hold it in quarantine or deliver it with a warning.",
            quarantine: "the user: the Proofpoint end-user digest (daily email); an admin: Proofpoint admin console › Smart Search by Message-ID or sender",
        },
    ),
    (
        &[".mimecast.com", ".mimecast.co.za", ".mimecast-offshore.com"],
        &["mimecast"],
        FilterProduct {
            code: "mimecast",
            name: "Mimecast",
            accepted_means: "Mimecast accepted it; it can hold it for review or in a personal-hold queue before passing it on.",
            quarantine: "the user: Mimecast digest / personal portal (Held messages); an admin: Administration › Message Center › Held Messages, or Message Tracking by sender and time",
        },
    ),
    (
        &[
            ".barracudanetworks.com",
            ".ess.barracudanetworks.com",
            ".cudamail.com",
        ],
        &["barracuda"],
        FilterProduct {
            code: "barracuda",
            name: "Barracuda Email Security",
            accepted_means: "Barracuda accepted it; it may quarantine it or tag it after accepting.",
            quarantine: "the user: the Barracuda quarantine digest; an admin: Email Gateway Defense › Message Log, filter by sender or Message-ID",
        },
    ),
    (
        &[".iphmx.com", ".ironport.com"],
        &["ironport", "cisco"],
        FilterProduct {
            code: "cisco",
            name: "Cisco Secure Email (IronPort)",
            accepted_means: "Cisco Secure Email accepted it; spam and policy quarantines apply after acceptance.",
            quarantine: "the user: the Spam Quarantine notification / end-user portal; an admin: Monitor › Message Tracking by sender, and Spam Quarantine",
        },
    ),
    (
        &[
            ".tmes.trendmicro.com",
            ".tmes.trendmicro.eu",
            ".tmes-anz.trendmicro.com",
            ".in.tmes.trendmicro.com",
        ],
        &["trend micro", "trendmicro"],
        FilterProduct {
            code: "trendmicro",
            name: "Trend Micro Email Security",
            accepted_means: "Trend Micro accepted it; it can quarantine it after scanning.",
            quarantine: "an admin: Trend Micro Email Security › Logs › Mail Tracking, and Operations › Quarantine",
        },
    ),
    (
        &[".hydra.sophos.com", ".sophos.com"],
        &["sophos"],
        FilterProduct {
            code: "sophos",
            name: "Sophos Email",
            accepted_means: "Sophos Email accepted it; it can quarantine it after scanning.",
            quarantine: "the user: Sophos quarantine digest / self-service portal; an admin: Sophos Central › Email Protection › Quarantine and Message History",
        },
    ),
    (
        &[
            ".hornetsecurity.com",
            ".hornetsecurity.de",
            ".antispameurope.com",
        ],
        &["hornetsecurity"],
        FilterProduct {
            code: "hornetsecurity",
            name: "Hornetsecurity",
            accepted_means: "Hornetsecurity accepted it; it may hold it as spam or threat after accepting.",
            quarantine: "the user: the Hornetsecurity spam report; an admin: Control Panel › Email Live Tracking by sender or Message-ID",
        },
    ),
    (
        &[
            "mx.zoho.com",
            "mx2.zoho.com",
            ".zoho.com",
            ".zoho.eu",
            ".zoho.in",
        ],
        &["zoho"],
        FilterProduct {
            code: "zoho",
            name: "Zoho Mail",
            accepted_means: "Zoho accepted it; it may file it in Spam or hold it in quarantine.",
            quarantine: "the user: the Spam folder; an admin: Zoho Mail Admin Console › Mail Administration › Quarantine",
        },
    ),
    (
        &[".yahoodns.net", ".yahoo.com", ".aol.com"],
        &["yahoo"],
        FilterProduct {
            code: "yahoo",
            name: "Yahoo / AOL Mail",
            accepted_means: "Yahoo accepted it; it may file it in Spam (Bulk).",
            quarantine: "the user: the Spam folder; no admin quarantine",
        },
    ),
    (
        &[".mail.icloud.com", ".mail.me.com"],
        &["icloud"],
        FilterProduct {
            code: "icloud",
            name: "iCloud Mail",
            accepted_means: "iCloud accepted it; it may move it to Junk.",
            quarantine: "the user: the Junk folder; no admin quarantine",
        },
    ),
    (
        &[".messagingengine.com"],
        &["fastmail"],
        FilterProduct {
            code: "fastmail",
            name: "Fastmail",
            accepted_means: "Fastmail accepted it; it may file it in Spam.",
            quarantine: "the user: the Spam folder",
        },
    ),
    (
        &[".gmx.net", ".web.de", ".gmx.com", ".mail.com"],
        &[],
        FilterProduct {
            code: "gmx_webde",
            name: "GMX / WEB.DE / mail.com",
            accepted_means: "The provider accepted it; it may file it in Spam (Spamverdacht).",
            quarantine: "the user: the Spam folder",
        },
    ),
    (
        &[".yandex.net", ".yandex.ru"],
        &["yandex"],
        FilterProduct {
            code: "yandex",
            name: "Yandex Mail",
            accepted_means: "Yandex accepted it; it may file it in Spam.",
            quarantine: "the user: the Spam folder",
        },
    ),
    (
        &[".mail.ru"],
        &["mail.ru"],
        FilterProduct {
            code: "mailru",
            name: "Mail.ru",
            accepted_means: "Mail.ru accepted it; it may file it in Spam.",
            quarantine: "the user: the Spam folder",
        },
    ),
    (
        &[
            ".awsapps.com",
            "inbound-smtp.us-east-1.amazonaws.com",
            ".amazonaws.com",
        ],
        &[],
        FilterProduct {
            code: "amazon_workmail",
            name: "Amazon WorkMail / SES inbound",
            accepted_means: "Amazon accepted it; rules configured by the organisation may drop or redirect it afterwards.",
            quarantine: "an admin: the WorkMail / SES receipt rules and their logs",
        },
    ),
];

/// The product behind `mx_hosts` (MX names the recipient's domain published or Herald
/// connected to) and `texts` (greeting or reply texts), if it is one we know.
pub fn detect<'a>(
    mx_hosts: impl IntoIterator<Item = &'a str>,
    texts: impl IntoIterator<Item = &'a str>,
) -> Option<FilterProduct> {
    let hosts: Vec<String> = mx_hosts
        .into_iter()
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    for (suffixes, _, p) in PRODUCTS {
        let hit = hosts.iter().any(|h| {
            suffixes.iter().any(|s| {
                let bare = s.trim_start_matches('.');
                h == bare || h.ends_with(&format!(".{bare}"))
            })
        });
        if hit {
            return Some(*p);
        }
    }
    let texts: Vec<String> = texts.into_iter().map(str::to_ascii_lowercase).collect();
    PRODUCTS
        .iter()
        .find(|(_, words, _)| words.iter().any(|w| texts.iter().any(|t| t.contains(w))))
        .map(|(_, _, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "contoso-com.mail.protection.outlook.com.",
                Some("microsoft365"),
            ),
            (
                "hotmail-com.olc.protection.outlook.com",
                Some("outlook_consumer"),
            ),
            ("aspmx.l.google.com", Some("google")),
            ("alt1.aspmx.l.google.com", Some("google")),
            ("gmail-smtp-in.l.google.com", Some("google")),
            ("mx0a-001b2d01.pphosted.com", Some("proofpoint")),
            ("eu-smtp-inbound-1.mimecast.com", Some("mimecast")),
            ("d123.ess.barracudanetworks.com", Some("barracuda")),
            ("mx1.hc1234-12.iphmx.com", Some("cisco")),
            ("example-com.mx1.tmes.trendmicro.eu", Some("trendmicro")),
            ("mx-01-eu-west-1.prod.hydra.sophos.com", Some("sophos")),
            ("mx-gate01.hornetsecurity.com", Some("hornetsecurity")),
            ("mx.zoho.eu", Some("zoho")),
            ("mta7.am0.yahoodns.net", Some("yahoo")),
            ("mx01.mail.icloud.com", Some("icloud")),
            ("in1-smtp.messagingengine.com", Some("fastmail")),
            ("mx00.emig.gmx.net", Some("gmx_webde")),
            ("mx.inbox.test", None),
            ("notgoogle.com", None),
            ("pphosted.com.evil.test", None),
        ];
        for (host, want) in cases {
            assert_eq!(detect([*host], []).map(|p| p.code), *want, "{host}");
        }
    }

    #[test]
    fn greeting_text_when_the_host_says_nothing() {
        let p = detect(
            ["mx.customer.example"],
            ["220 mx.customer.example ESMTP Proofpoint PPS ready"],
        );
        assert_eq!(p.map(|p| p.code), Some("proofpoint"));
        assert_eq!(
            detect(["mx.x.test"], ["250 2.0.0 OK 1711 - gsmtp"]).map(|p| p.code),
            Some("google")
        );
        assert_eq!(detect(["mx.x.test"], ["250 ok"]), None);
    }
}
