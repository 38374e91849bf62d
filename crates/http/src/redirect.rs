//! Where a login may send the browser next (`/login?next=…`): a path on this site, nothing
//! else. Browsers strip tabs and newlines from URLs and read `\` as `/`, so `/%09/evil.example/`
//! decoded to `/\t/evil.example/` and became `//evil.example/` — off site. Only plain path
//! characters are accepted; anything else means the dashboard.

/// The characters a `next` path may hold besides ASCII letters and digits.
const PLAIN: &[u8] = b"/-._~%?=&+";

/// `next` when it is a plain local path (`/…`, not `//…`), else `/`.
pub fn local_path(next: &str) -> &str {
    let b = next.as_bytes();
    let plain = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || PLAIN.contains(c));
    let escapes_ok = b
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == b'%')
        .all(|(i, _)| {
            b.get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        });
    if plain && escapes_ok && b.first() == Some(&b'/') && b.get(1) != Some(&b'/') && b.len() <= 2048
    {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_plain_local_paths() {
        for ok in [
            "/",
            "/campaigns/019a-bc?tab=delivered&q=ann%40x.test",
            "/contacts/ann%40example.test",
        ] {
            assert_eq!(local_path(ok), ok);
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\x0b/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "evil.example",
            "/%",
            "/%zz",
            "/a b",
            "/é",
            "",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
