//! Reading what a server said in its reply to DATA.
//!
//! The remote queue id is what the receiving side's admins search their logs and quarantine by.
//! Each MTA words its 250 differently; the table below covers the common ones.

/// Extract the receiving server's queue id from the text of a 2xx reply to DATA.
pub fn remote_queue_id(text: &str) -> Option<String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    // Postfix "Ok: queued as 4Xk2…", Stalwart "queued with id …", qmail "qp 12345",
    // Exim "OK id=1abc-…", generic "queued as <…>".
    for marker in [
        "queued as ",
        "queued with id ",
        "message queued as ",
        " id=",
        "qp ",
    ] {
        if let Some(pos) = lower.find(marker)
            && let Some(id) = first_token(&t[pos + marker.len()..])
        {
            return Some(id);
        }
    }
    // Microsoft 365 / Exchange: "<msgid> [InternalId=123, Hostname=…] Queued mail for delivery".
    if let Some(pos) = lower.find("internalid=") {
        return first_token(&t[pos + "internalid=".len()..]);
    }
    // Gmail: "OK  1732612345 d2e1a72fcca58-7253a12b1b4si1234.288 - gsmtp".
    if lower.ends_with("gsmtp") {
        let words: Vec<&str> = t.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "-")
            && i > 0
        {
            return Some(words[i - 1].to_string());
        }
    }
    // Sendmail: "x1AB2cD3004567 Message accepted for delivery".
    if let Some(pos) = lower.find(" message accepted for delivery") {
        return t[..pos].split_whitespace().last().map(str::to_string);
    }
    None
}

fn first_token(s: &str) -> Option<String> {
    let tok: String = s
        .trim_start()
        .trim_start_matches(['<', '('])
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | ')' | '>' | ';'))
        .collect();
    (!tok.is_empty()).then_some(tok)
}

#[cfg(test)]
mod tests {
    use super::remote_queue_id;

    #[test]
    fn queue_ids_of_common_mtas() {
        let cases = [
            ("Ok: queued as 4Xk2Hq1T9Vz3", Some("4Xk2Hq1T9Vz3")),
            ("OK id=1tGz2X-0003Ab-Qx", Some("1tGz2X-0003Ab-Qx")),
            (
                "x1AB2cD3004567 Message accepted for delivery",
                Some("x1AB2cD3004567"),
            ),
            (
                "OK  1732612345 d2e1a72fcca58-7253a12b1b4si12345b3a.288 - gsmtp",
                Some("d2e1a72fcca58-7253a12b1b4si12345b3a.288"),
            ),
            (
                "<a@b> [InternalId=1181116006401, Hostname=AM0PR01MB1234.eurprd01.prod.exchangelabs.com] Queued mail for delivery",
                Some("1181116006401"),
            ),
            ("Message queued with id 1a2b3c4d", Some("1a2b3c4d")),
            ("ok 1732612345 qp 12345", Some("12345")),
            ("Ok", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(remote_queue_id(text).as_deref(), want, "{text}");
        }
    }
}
