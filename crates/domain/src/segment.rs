//! Segment rules (design §6b): a small readable language over a contact's fields, list
//! standing, consent and history, with `and`, `or`, `not` and parentheses.
//!
//! ```text
//! field city = "Berlin" and opened by a person within 90d and not list "Press"
//! (clicked by a person within 30d or delivered within 7d) and field plan exists
//! never engaged and not bounced
//! ```
//!
//! Conditions:
//! - `field NAME = "v"`, `field NAME != "v"`, `field NAME contains "v"`, `field NAME exists`
//! - `list "Name"`: subscribed to that list
//! - `consent confirmed`: a confirmed (double opt-in) consent record on some list
//! - `delivered within 30d`: a message accepted by their server in that time
//! - `bounced` or `bounced within 30d`
//! - `opened by a person within 90d`, `clicked by a person within 90d`: human engagement only
//!   (Apple's proxy, link scanners and other machines never count; "by a person" may be left out)
//! - `never engaged`: no open or click by a person, ever
//! - `placement junk` (or `inbox`, `missing`), optionally `within 30d`: a copy accepted by their
//!   server for a campaign whose seed mailbox at the same domain landed there — where `why` says
//!   their copy probably landed too (`missing`: probably held in a quarantine)
//!
//! Durations: a number with `m`, `h`, `d` or `w` (minutes to weeks). Keywords ignore case. One
//! parser, hand-written (the language is a few words; a grammar crate would add more than it
//! saves); bounded in length, depth and conditions, so a rule's SQL stays small. Errors name the
//! column.

use std::fmt;

/// The longest rule accepted, in bytes.
pub const MAX_RULE_BYTES: usize = 4096;
/// The most conditions in one rule.
pub const MAX_CONDITIONS: usize = 64;
/// The deepest nesting of `not` and parentheses.
pub const MAX_DEPTH: usize = 32;
/// The longest duration: ten years.
const MAX_WITHIN_MS: i64 = 10 * 366 * 24 * 3600 * 1000;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
    Not(Box<Rule>),
    Field {
        name: String,
        op: FieldOp,
        /// Empty for `exists`.
        value: String,
    },
    /// Subscribed to the list of this name.
    List(String),
    ConsentConfirmed,
    Delivered {
        within_ms: i64,
    },
    Bounced {
        within_ms: Option<i64>,
    },
    /// Opened by a person (human verdict).
    Opened {
        within_ms: i64,
    },
    /// Clicked by a person.
    Clicked {
        within_ms: i64,
    },
    /// No open or click by a person, ever.
    NeverEngaged,
    /// A copy accepted for a campaign whose seed at the recipient's domain was found in this
    /// folder (`Inbox`, `Junk` or `Missing` only).
    Placement {
        folder: crate::Placement,
        within_ms: Option<i64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Eq,
    Ne,
    Contains,
    Exists,
}

/// Why a rule does not parse: the column (1-based, in characters) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule, column {column}: {message}")]
pub struct RuleError {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Eq,
    Ne,
}

/// At most 40 characters of `s`, for an error message (a 4 KiB word is not echoed whole).
fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "{:?}", short(w)),
            Tok::Str(s) => write!(f, "the text {:?}", short(s)),
            Tok::Open => f.write_str("'('"),
            Tok::Close => f.write_str("')'"),
            Tok::Eq => f.write_str("'='"),
            Tok::Ne => f.write_str("'!='"),
        }
    }
}

/// Tokens with their 1-based character columns.
fn lex(src: &str) -> Result<Vec<(usize, Tok)>, RuleError> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let err = |column: usize, message: String| RuleError { column, message };
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((col, Tok::Open));
                i += 1;
            }
            ')' => {
                out.push((col, Tok::Close));
                i += 1;
            }
            '=' => {
                out.push((col, Tok::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push((col, Tok::Ne));
                i += 2;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(col, "this text has no closing '\"'".into())),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => match chars.get(i + 1) {
                            Some(&e @ ('"' | '\\')) => {
                                s.push(e);
                                i += 2;
                            }
                            _ => {
                                return Err(err(
                                    i + 1,
                                    "inside a text, '\\' may only come before '\"' or '\\'".into(),
                                ));
                            }
                        },
                        Some(c) if c.is_control() => {
                            return Err(err(
                                i + 1,
                                "a text must not hold control characters".into(),
                            ));
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push((col, Tok::Str(s)));
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((col, Tok::Word(chars[start..i].iter().collect())));
            }
            other => return Err(err(col, format!("unexpected {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end_col: usize,
    conditions: usize,
}

impl Parser {
    fn col(&self) -> usize {
        self.toks.get(self.at).map_or(self.end_col, |t| t.0)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, RuleError> {
        Err(RuleError {
            column: self.col(),
            message: message.into(),
        })
    }

    fn found(&self) -> String {
        self.toks
            .get(self.at)
            .map_or_else(|| "the end of the rule".to_string(), |t| t.1.to_string())
    }

    /// The next token is the keyword `w` (any case): take it.
    fn keyword(&mut self, w: &str) -> bool {
        match self.toks.get(self.at) {
            Some((_, Tok::Word(x))) if x.eq_ignore_ascii_case(w) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn expect(&mut self, w: &str, after: &str) -> Result<(), RuleError> {
        if self.keyword(w) {
            Ok(())
        } else {
            self.err(format!(
                "expected '{w}' after '{after}', found {}",
                self.found()
            ))
        }
    }

    fn text(&mut self, what: &str) -> Result<String, RuleError> {
        match self.toks.get(self.at) {
            Some((_, Tok::Str(s))) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => self.err(format!(
                "expected {what} in double quotes, found {}",
                self.found()
            )),
        }
    }

    fn duration(&mut self, after: &str) -> Result<i64, RuleError> {
        let bad = |p: &Self| {
            p.err(format!(
                "expected a duration like 30d after '{after}' (a number with m, h, d or w), found {}",
                p.found()
            ))
        };
        let Some((_, Tok::Word(w))) = self.toks.get(self.at) else {
            return bad(self);
        };
        let w = w.to_ascii_lowercase();
        let (n, unit) = w.split_at(w.len().saturating_sub(1));
        let unit_ms: i64 = match unit {
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => return bad(self),
        };
        let Ok(n) = n.parse::<i64>() else {
            return bad(self);
        };
        let ms = n.saturating_mul(unit_ms);
        if n <= 0 || ms > MAX_WITHIN_MS {
            return self.err("a duration must be more than zero and at most ten years");
        }
        self.at += 1;
        Ok(ms)
    }

    fn within(&mut self, after: &str) -> Result<i64, RuleError> {
        self.expect("within", after)?;
        self.duration("within")
    }

    fn or(&mut self, depth: usize) -> Result<Rule, RuleError> {
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            let right = self.and(depth)?;
            left = Rule::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Rule, RuleError> {
        let mut left = self.unary(depth)?;
        while self.keyword("and") {
            let right = self.unary(depth)?;
            left = Rule::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Rule, RuleError> {
        if depth >= MAX_DEPTH {
            return self.err(format!("nested more than {MAX_DEPTH} deep"));
        }
        if self.keyword("not") {
            return Ok(Rule::Not(Box::new(self.unary(depth + 1)?)));
        }
        if let Some((_, Tok::Open)) = self.toks.get(self.at) {
            self.at += 1;
            let inner = self.or(depth + 1)?;
            return match self.toks.get(self.at) {
                Some((_, Tok::Close)) => {
                    self.at += 1;
                    Ok(inner)
                }
                _ => self.err(format!("expected ')', found {}", self.found())),
            };
        }
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return self.err(format!("a rule holds at most {MAX_CONDITIONS} conditions"));
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Rule, RuleError> {
        if self.keyword("field") {
            let name = match self.toks.get(self.at) {
                Some((_, Tok::Word(w))) if valid_field(w) => w.to_ascii_lowercase(),
                _ => {
                    return self.err(format!(
                        "expected a field name after 'field' (letters, digits and _, starting with a letter), found {}",
                        self.found()
                    ));
                }
            };
            self.at += 1;
            let op = match self.toks.get(self.at) {
                Some((_, Tok::Eq)) => FieldOp::Eq,
                Some((_, Tok::Ne)) => FieldOp::Ne,
                Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("contains") => FieldOp::Contains,
                Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("exists") => {
                    self.at += 1;
                    return Ok(Rule::Field {
                        name,
                        op: FieldOp::Exists,
                        value: String::new(),
                    });
                }
                _ => {
                    return self.err(format!(
                        "expected =, !=, contains or exists after 'field {name}', found {}",
                        self.found()
                    ));
                }
            };
            self.at += 1;
            let value = self.text("a value")?;
            return Ok(Rule::Field { name, op, value });
        }
        if self.keyword("list") {
            return Ok(Rule::List(self.text("a list's name")?));
        }
        if self.keyword("consent") {
            self.expect("confirmed", "consent")?;
            return Ok(Rule::ConsentConfirmed);
        }
        if self.keyword("delivered") {
            return Ok(Rule::Delivered {
                within_ms: self.within("delivered")?,
            });
        }
        if self.keyword("bounced") {
            let within_ms = if self.keyword("within") {
                Some(self.duration("within")?)
            } else {
                None
            };
            return Ok(Rule::Bounced { within_ms });
        }
        for (word, make) in [
            (
                "opened",
                (|w| Rule::Opened { within_ms: w }) as fn(i64) -> Rule,
            ),
            ("clicked", |w| Rule::Clicked { within_ms: w }),
        ] {
            if self.keyword(word) {
                if self.keyword("by") {
                    self.expect("a", "by")?;
                    self.expect("person", "by a")?;
                }
                return Ok(make(self.within(word)?));
            }
        }
        if self.keyword("never") {
            self.expect("engaged", "never")?;
            return Ok(Rule::NeverEngaged);
        }
        if self.keyword("placement") {
            let folder = if self.keyword("inbox") {
                crate::Placement::Inbox
            } else if self.keyword("junk") {
                crate::Placement::Junk
            } else if self.keyword("missing") {
                crate::Placement::Missing
            } else {
                return self.err(format!(
                    "expected inbox, junk or missing after 'placement', found {}",
                    self.found()
                ));
            };
            let within_ms = if self.keyword("within") {
                Some(self.duration("within")?)
            } else {
                None
            };
            return Ok(Rule::Placement { folder, within_ms });
        }
        self.err(format!(
            "expected a condition (field, list, consent confirmed, delivered within, bounced, opened by a person within, clicked by a person within, never engaged, placement), not, or '(', found {}",
            self.found()
        ))
    }
}

/// A field name as lists and imports use them: a letter, then letters, digits and `_`.
fn valid_field(w: &str) -> bool {
    w.len() <= 40
        && w.starts_with(|c: char| c.is_ascii_alphabetic())
        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` as the language's double-quoted text (`"`, `\` escaped), for a rule written by a
/// program (the web UI's builder).
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Parse a rule.
pub fn parse(src: &str) -> Result<Rule, RuleError> {
    if src.len() > MAX_RULE_BYTES {
        return Err(RuleError {
            column: 1,
            message: format!("a rule is at most {MAX_RULE_BYTES} bytes"),
        });
    }
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(RuleError {
            column: 1,
            message: "the rule is empty".into(),
        });
    }
    let mut p = Parser {
        toks,
        at: 0,
        end_col: src.chars().count() + 1,
        conditions: 0,
    };
    let rule = p.or(0)?;
    if p.at < p.toks.len() {
        return p.err(format!("expected and, or or the end, found {}", p.found()));
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, op: FieldOp, value: &str) -> Rule {
        Rule::Field {
            name: name.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn the_documented_examples_parse_with_not_before_and_before_or() {
        let r = parse(
            r#"field city = "Berlin" and opened by a person within 90d and not list "Press""#,
        )
        .unwrap();
        assert_eq!(
            r,
            Rule::And(
                Box::new(Rule::And(
                    Box::new(field("city", FieldOp::Eq, "Berlin")),
                    Box::new(Rule::Opened {
                        within_ms: 90 * 86_400_000
                    })
                )),
                Box::new(Rule::Not(Box::new(Rule::List("Press".into()))))
            )
        );
        let r = parse("NEVER engaged or bounced and consent confirmed").unwrap();
        assert_eq!(
            r,
            Rule::Or(
                Box::new(Rule::NeverEngaged),
                Box::new(Rule::And(
                    Box::new(Rule::Bounced { within_ms: None }),
                    Box::new(Rule::ConsentConfirmed)
                ))
            )
        );
        let r = parse(r#"(clicked within 2w or delivered within 12h) and field Plan exists and field note contains "say \"hi\"""#)
            .unwrap();
        assert!(matches!(r, Rule::And(..)));
        assert!(format!("{r:?}").contains("plan"));
        assert!(format!("{r:?}").contains("say \\\"hi\\\""));
        assert_eq!(
            parse("placement JUNK within 30d").unwrap(),
            Rule::Placement {
                folder: crate::Placement::Junk,
                within_ms: Some(30 * 86_400_000)
            }
        );
        assert_eq!(
            parse("not placement inbox").unwrap(),
            Rule::Not(Box::new(Rule::Placement {
                folder: crate::Placement::Inbox,
                within_ms: None
            }))
        );
    }

    #[test]
    fn quoted_text_reads_back_as_written() {
        for text in ["Berlin", "say \"hi\"", "back\\slash\\", "Łódź"] {
            assert_eq!(
                parse(&format!("list {}", quote(text))).unwrap(),
                Rule::List(text.to_string()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        for (src, column, says) in [
            ("", 1, "empty"),
            ("opened within soon", 15, "duration"),
            ("opened by person within 3d", 11, "'a'"),
            ("field 1city = \"x\"", 7, "field name"),
            ("field city ~ \"x\"", 12, "unexpected"),
            ("field city = Berlin", 14, "double quotes"),
            ("list \"News", 6, "closing"),
            ("(bounced", 9, "')'"),
            ("bounced bounced", 9, "and, or"),
            ("delivered within 0d", 18, "more than zero"),
            ("delivered within 99999999999w", 18, "ten years"),
            ("sunny", 1, "expected a condition"),
            ("placement promotions", 11, "inbox, junk or missing"),
            ("placement junk within 1y", 23, "duration"),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.column, column, "{src:?}: {e}");
            assert!(e.message.contains(says), "{src:?}: {e}");
        }
    }

    #[test]
    fn size_depth_and_conditions_are_bounded() {
        assert!(parse(&"x".repeat(MAX_RULE_BYTES + 1)).is_err());
        // A long word is not echoed whole.
        let e = parse(&"0".repeat(4000)).unwrap_err();
        assert!(e.message.len() < 400, "{}", e.message);
        let deep = format!("{}bounced{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let nots = format!("{}bounced", "not ".repeat(40));
        assert!(parse(&nots).is_err());
        let many = vec!["bounced"; MAX_CONDITIONS + 1].join(" or ");
        assert!(parse(&many).unwrap_err().message.contains("at most"));
        let ok = vec!["bounced"; MAX_CONDITIONS].join(" or ");
        assert!(parse(&ok).is_ok());
    }

    /// What the fuzz target checks, over 20 000 generated rules (cargo-fuzz is not on every
    /// machine): pieces of the language and garbage never panic, and errors name a column
    /// inside the text.
    #[test]
    fn generated_rules_parse_or_fail_with_a_column() {
        let pieces = [
            "field",
            "city",
            "=",
            "!=",
            "contains",
            "exists",
            "\"Berlin\"",
            "list",
            "\"a\\\"b\"",
            "consent",
            "confirmed",
            "delivered",
            "within",
            "30d",
            "0w",
            "99999999999999999999d",
            "bounced",
            "opened",
            "by",
            "a",
            "person",
            "clicked",
            "never",
            "engaged",
            "placement",
            "junk",
            "inbox",
            "and",
            "or",
            "not",
            "(",
            ")",
            "\"",
            "\\",
            "é",
            "~",
            "!",
            "\u{0}",
            " ",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut src = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for _ in 0..(x % 12) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                src.push_str(pieces[(x % pieces.len() as u64) as usize]);
                if !x.is_multiple_of(3) {
                    src.push(' ');
                }
            }
            if let Err(e) = parse(&src) {
                assert!(
                    e.column >= 1 && e.column <= src.chars().count() + 1,
                    "{src:?}: {e}"
                );
            }
        }
    }
}
