//! Messages carried across a redirect (`?flash=…`), shown only when Herald wrote them.
//!
//! A page used to print whatever `?notice=` or `?message=` said as a success or error message,
//! so a link could make Herald "say" anything. Now the text travels with an HMAC keyed by the
//! session's own CSRF secret: only this session's redirects can produce a message it will show.
//! Stateless, so it also works when the next request reaches another node.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something went as asked.
    Notice,
    /// Something went wrong.
    Problem,
}

/// Longest message carried (longer ones are cut).
const MAX_TEXT: usize = 500;

fn mac(secret: &str, body: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::sign(&key, body).as_ref()[..16].to_vec()
}

/// The `flash` query value for `text`, for the session whose CSRF secret is `secret`.
pub fn encode(secret: &str, kind: Kind, text: &str) -> String {
    let mut body = vec![match kind {
        Kind::Notice => b'n',
        Kind::Problem => b'p',
    }];
    body.extend(text.chars().take(MAX_TEXT).collect::<String>().as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&body),
        URL_SAFE_NO_PAD.encode(mac(secret, &body))
    )
}

/// The message in a `flash` value, if this session's redirect wrote it.
pub fn decode(secret: &str, value: &str) -> Option<(Kind, String)> {
    let (body, tag) = value.split_once('.')?;
    let body = URL_SAFE_NO_PAD.decode(body).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let full = hmac::sign(&key, &body);
    if tag.len() != 16 || !crate::auth::same_bytes(&full.as_ref()[..16], &tag) {
        return None;
    }
    let (kind, text) = body.split_first()?;
    let kind = match kind {
        b'n' => Kind::Notice,
        b'p' => Kind::Problem,
        _ => return None,
    };
    Some((kind, String::from_utf8(text.to_vec()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_sessions_messages_show() {
        let v = encode("secret-a", Kind::Notice, "Test copy accepted");
        assert_eq!(
            decode("secret-a", &v),
            Some((Kind::Notice, "Test copy accepted".into()))
        );
        assert_eq!(decode("secret-b", &v), None, "another session's");
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(b"nYou won a prize"),
            v.split_once('.').map(|x| x.1).unwrap_or("")
        );
        assert_eq!(decode("secret-a", &forged), None);
        assert_eq!(decode("secret-a", "nonsense"), None);
        assert_eq!(decode("secret-a", ""), None);
    }
}
