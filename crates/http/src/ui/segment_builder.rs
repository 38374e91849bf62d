//! The Segments page's builder: conditions picked from menus, written out in the rule language
//! (`herald_domain::segment`), which the page then counts, shows in the rule box and saves. The
//! language stays the one source of meaning: the builder only writes it, and what it writes is
//! parsed like anything typed.

use herald_domain::segment::quote;

/// How many condition rows the builder offers.
pub const ROWS: usize = 6;

/// One condition row as the form sent it (`b0_kind`, `b0_field`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// `and` or `or`: how it joins the rows before it (ignored on the first filled row).
    pub join: String,
    pub not: bool,
    /// What it tests: see [`KINDS`]; empty: the row is unused.
    pub kind: String,
    pub field: String,
    pub value: String,
    pub list: String,
    /// `30d`, `12h`, `2w`, …
    pub within: String,
}

impl Row {
    /// The row tests `kind` (for the page's menus).
    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind == kind
    }
}

/// The conditions a row can test: (form value, label).
pub const KINDS: &[(&str, &str)] = &[
    ("field_eq", "field is"),
    ("field_ne", "field is not"),
    ("field_contains", "field contains"),
    ("field_exists", "field is set"),
    ("list", "subscribed to list"),
    ("consent", "confirmed their consent"),
    ("delivered", "delivered within"),
    ("bounced", "bounced (within)"),
    ("opened", "opened, by a person, within"),
    ("clicked", "clicked, by a person, within"),
    ("never", "never engaged"),
    ("placement_inbox", "probably in the Inbox (within)"),
    ("placement_junk", "probably in Junk (within)"),
    (
        "placement_missing",
        "probably held in a quarantine (within)",
    ),
];

/// The builder's rows from the query's pairs (`b{i}_{part}`), always [`ROWS`] of them.
pub fn rows_from(pairs: &[(String, String)]) -> Vec<Row> {
    let mut rows = vec![Row::default(); ROWS];
    for (k, v) in pairs {
        let Some((i, part)) = k
            .strip_prefix('b')
            .and_then(|r| r.split_once('_'))
            .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)))
        else {
            continue;
        };
        let Some(row) = rows.get_mut(i) else { continue };
        // Bounded like the rule box: nothing longer can make a valid rule.
        let v: String = v.chars().take(500).collect();
        match part {
            "join" => row.join = v,
            "not" => row.not = !v.is_empty(),
            "kind" => row.kind = v,
            "field" => row.field = v.trim().to_string(),
            "value" => row.value = v,
            "list" => row.list = v,
            "within" => row.within = v.trim().to_string(),
            _ => {}
        }
    }
    rows
}

/// The rule the filled rows make, in order, each joined to the rule so far by its `and`/`or`
/// (`and` binds tighter, as typed); `None` when no row is filled. An error names the row
/// (1-based) and what it lacks.
pub fn compose(rows: &[Row]) -> Result<Option<String>, String> {
    let mut rule = String::new();
    for (i, r) in rows.iter().enumerate() {
        if r.kind.is_empty() {
            continue;
        }
        let n = i + 1;
        let need = |what: &str, v: &str| {
            if v.is_empty() {
                Err(format!("condition {n}: {what} is missing"))
            } else {
                Ok(())
            }
        };
        // What the menus cannot hold is written in only when it is one word of its kind: a
        // "within" of `30d or never engaged` would change the rule's shape.
        let within = |required: bool| -> Result<String, String> {
            match (r.within.is_empty(), required) {
                (true, true) => Err(format!(
                    "condition {n}: how long back is missing (30d, 12h, 2w)"
                )),
                (true, false) => Ok(String::new()),
                (false, _) if is_span(&r.within) => Ok(format!(" within {}", r.within)),
                (false, _) => Err(format!(
                    "condition {n}: {:?} is not a time span: a number and m, h, d or w (30d)",
                    r.within
                )),
            }
        };
        let field = |name: &str| -> Result<(), String> {
            need("a field name", name)?;
            if is_field(name) {
                Ok(())
            } else {
                Err(format!(
                    "condition {n}: {name:?} is not a field name: letters, digits and _, starting with a letter"
                ))
            }
        };
        let condition = match r.kind.as_str() {
            "field_eq" | "field_ne" | "field_contains" => {
                field(&r.field)?;
                let op = match r.kind.as_str() {
                    "field_eq" => "=",
                    "field_ne" => "!=",
                    _ => "contains",
                };
                format!("field {} {op} {}", r.field, quote(&r.value))
            }
            "field_exists" => {
                field(&r.field)?;
                format!("field {} exists", r.field)
            }
            "list" => {
                need("a list", &r.list)?;
                format!("list {}", quote(&r.list))
            }
            "consent" => "consent confirmed".into(),
            "delivered" => format!("delivered{}", within(true)?),
            "bounced" => format!("bounced{}", within(false)?),
            "opened" => format!("opened by a person{}", within(true)?),
            "clicked" => format!("clicked by a person{}", within(true)?),
            "never" => "never engaged".into(),
            "placement_inbox" | "placement_junk" | "placement_missing" => format!(
                "placement {}{}",
                r.kind.trim_start_matches("placement_"),
                within(false)?
            ),
            other => return Err(format!("condition {n}: unknown condition {other:?}")),
        };
        if !rule.is_empty() {
            rule.push_str(if r.join == "or" { " or " } else { " and " });
        }
        if r.not {
            rule.push_str("not ");
        }
        rule.push_str(&condition);
    }
    Ok((!rule.is_empty()).then_some(rule))
}

/// `30d`, `12h`: digits then one unit letter.
fn is_span(s: &str) -> bool {
    s.len() > 1
        && s.ends_with(['m', 'h', 'd', 'w'])
        && s[..s.len() - 1].chars().all(|c| c.is_ascii_digit())
}

/// A field name as the language takes it.
fn is_field(s: &str) -> bool {
    s.len() <= 40
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rows_compose_into_a_rule_the_parser_reads() {
        let rows = rows_from(&pairs(&[
            ("b0_kind", "field_eq"),
            ("b0_field", "city"),
            ("b0_value", "Berlin \"Mitte\""),
            ("b1_join", "and"),
            ("b1_kind", "opened"),
            ("b1_within", "90d"),
            ("b3_join", "and"),
            ("b3_not", "1"),
            ("b3_kind", "list"),
            ("b3_list", "Press"),
            ("b4_join", "or"),
            ("b4_kind", "placement_junk"),
            ("b9_kind", "never"),
            ("rule", "ignored"),
        ]));
        assert_eq!(rows.len(), ROWS);
        let rule = compose(&rows).unwrap().unwrap();
        assert_eq!(
            rule,
            r#"field city = "Berlin \"Mitte\"" and opened by a person within 90d and not list "Press" or placement junk"#
        );
        assert!(herald_domain::segment::parse(&rule).is_ok(), "{rule}");
        assert_eq!(compose(&rows_from(&[])).unwrap(), None);
    }

    #[test]
    fn a_row_missing_a_part_is_named() {
        for (p, says) in [
            (vec![("b0_kind", "field_eq")], "condition 1: a field name"),
            (vec![("b2_kind", "list")], "condition 3: a list"),
            (vec![("b0_kind", "opened")], "how long back"),
            (vec![("b0_kind", "sunny")], "unknown condition"),
            (
                vec![("b0_kind", "opened"), ("b0_within", "30d or never engaged")],
                "not a time span",
            ),
            (
                vec![("b0_kind", "field_exists"), ("b0_field", "city or bounced")],
                "not a field name",
            ),
        ] {
            let e = compose(&rows_from(&pairs(&p))).unwrap_err();
            assert!(e.contains(says), "{p:?}: {e}");
        }
    }
}
