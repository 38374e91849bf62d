//! The audience's vocabularies (design §6b): how a list takes new members, and where each
//! member stands on it.

use std::fmt;
use std::str::FromStr;

use crate::reason::string_enum;

string_enum! {
    /// How a list takes a new member: at once (`single`), or once the person has clicked the
    /// link of a confirmation message (`double`, expected in the EU and by Gmail's and Yahoo's
    /// bulk-sender rules).
    OptIn {
        Single => "single",
        Double => "double",
    }
}

string_enum! {
    /// A contact's standing on one list. Only `subscribed` members are sent its campaigns.
    MemberStatus {
        /// Signed up to a double opt-in list; not confirmed yet.
        Pending => "pending",
        Subscribed => "subscribed",
        /// Left this list (other lists are not affected).
        Unsubscribed => "unsubscribed",
    }
}

string_enum! {
    /// What a campaign row carries: a campaign a user wrote, or one of a list's own messages
    /// (the system campaigns that hold its confirmation and welcome messages, one delivery per
    /// person, queued when someone signs up or confirms).
    CampaignKind {
        Campaign => "campaign",
        /// The double opt-in message with `{{ confirm_url }}`.
        Confirmation => "confirmation",
        /// The greeting a person gets once subscribed by their own request.
        Welcome => "welcome",
    }
}

/// A list's public slug: 1–64 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A slug made from a list's name: lower-case ASCII letters and digits, other runs become `-`
/// (`"Weekly News!"` → `weekly-news`); `None` when nothing of the name is usable.
pub fn slug_of(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 64 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    valid_slug(&out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug_of("Weekly News!").as_deref(), Some("weekly-news"));
        assert_eq!(
            slug_of("  Überblick 2026 ").as_deref(),
            Some("berblick-2026")
        );
        assert_eq!(slug_of("!!!"), None);
        assert!(valid_slug("news-2026"));
        for bad in [
            "",
            "-news",
            "news-",
            "News",
            "news letter",
            "nëws",
            &"a".repeat(65),
        ] {
            assert!(!valid_slug(bad), "{bad:?}");
        }
        assert_eq!("double".parse::<OptIn>(), Ok(OptIn::Double));
        assert!("triple".parse::<OptIn>().is_err());
        assert_eq!(MemberStatus::Pending.as_str(), "pending");
    }
}
