//! MJML as an input format: a campaign written in MJML is rendered to responsive HTML once, when
//! it is created or edited (with `mrml`, a Rust implementation of MJML), and that HTML is its
//! template from then on. Template tags (`{{ … }}`, `{% … %}`) pass through as text.

/// Why an MJML document was not rendered: the line (1-based) when the parser knows the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct MjmlError {
    pub line: Option<usize>,
    pub message: String,
}

/// The largest MJML document accepted (the HTML template limit applies to its result too).
pub const MAX_MJML_BYTES: usize = 512 * 1024;
/// The most MJML elements one document may have: each renders to a block of tables, so this
/// bounds the work and the HTML made (a real newsletter has a few hundred).
pub const MAX_MJML_ELEMENTS: usize = 5_000;

/// Render `source` (an `<mjml>` document) to HTML.
pub fn to_html(source: &str) -> Result<String, MjmlError> {
    if source.len() > MAX_MJML_BYTES {
        return Err(MjmlError {
            line: None,
            message: format!(
                "the document is {} bytes; at most {MAX_MJML_BYTES} are accepted",
                source.len()
            ),
        });
    }
    // mrml's parser descends once per level of nesting, without a limit: a deep document would
    // overflow the stack (the process aborts, nothing can catch it). Refused first.
    if crate::template::nesting_depth(source) > crate::template::MAX_NESTING {
        return Err(MjmlError {
            line: None,
            message: format!(
                "elements are nested more than {} deep",
                crate::template::MAX_NESTING
            ),
        });
    }
    let elements = source.matches("<mj-").count();
    if elements > MAX_MJML_ELEMENTS {
        return Err(MjmlError {
            line: None,
            message: format!(
                "the document has {elements} MJML elements; at most {MAX_MJML_ELEMENTS} are accepted"
            ),
        });
    }
    let parsed = mrml::parse(source).map_err(|e| MjmlError {
        line: error_line(source, &e),
        message: describe(&e),
    })?;
    parsed
        .element
        // No web fonts: mrml's defaults link Google Fonts, which every reader's mail client
        // (and the web copy) would then fetch. A font named in the MJML still comes through
        // `mj-font`.
        .render(&mrml::prelude::render::RenderOptions {
            fonts: Default::default(),
            ..Default::default()
        })
        .map_err(|e| MjmlError {
            line: None,
            message: e.to_string(),
        })
}

/// The line where the parser stopped, when it says.
fn error_line(source: &str, e: &mrml::prelude::parser::Error) -> Option<usize> {
    use mrml::prelude::parser::Error as E;
    match e {
        E::UnexpectedElement { position, .. }
        | E::UnexpectedToken { position, .. }
        | E::MissingAttribute { position, .. }
        | E::InvalidAttribute { position, .. }
        | E::InvalidFormat { position, .. } => Some(line_of(source, position.start)),
        E::ParserError { source: e, .. } => Some(e.pos().row as usize),
        _ => None,
    }
}

/// The parser's words, with the cause it wraps (the tokenizer's, which says what it found).
fn describe(e: &mrml::prelude::parser::Error) -> String {
    use mrml::prelude::parser::Error as E;
    match e {
        E::EndOfStream { .. } => "the document ends before every element is closed".into(),
        E::ParserError { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_responsive_layout_and_keeps_template_tags() {
        let html = to_html(
            "<mjml><mj-body><mj-section><mj-column>\
             <mj-text>Hello {{ contact.first_name }}</mj-text>\
             <mj-button href=\"{{ unsubscribe_url }}\">Unsubscribe</mj-button>\
             </mj-column></mj-section></mj-body></mjml>",
        )
        .unwrap();
        assert!(html.contains("Hello {{ contact.first_name }}"), "{html}");
        assert!(html.contains("href=\"{{ unsubscribe_url }}\""), "{html}");
        assert!(html.contains("@media"), "responsive: {html}");
    }

    #[test]
    fn a_deep_or_huge_document_is_refused_before_parsing() {
        let deep = format!(
            "<mjml><mj-body><mj-section><mj-column><mj-text>{}</mj-text></mj-column></mj-section></mj-body></mjml>",
            "<b>".repeat(100_000)
        );
        let e = to_html(&deep).unwrap_err();
        assert!(e.message.contains("nested"), "{e}");
        let wide = format!(
            "<mjml><mj-body>{}</mj-body></mjml>",
            "<mj-section/>".repeat(6_000)
        );
        assert!(to_html(&wide).unwrap_err().message.contains("elements"));
        let html = to_html("<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>")
            .unwrap();
        assert!(!html.contains("fonts.googleapis.com"), "{html}");
    }

    #[test]
    fn a_mistake_names_its_line() {
        let e = to_html(
            "<mjml>\n<mj-body>\n<mj-section>\n<mj-column =\"x\">\n</mj-column></mj-section></mj-body>\n</mjml>",
        )
        .unwrap_err();
        assert!(e.message.contains("attribute"), "{e}");
        let unclosed = to_html("<mjml>\n<mj-body>\n<mj-section>\n").unwrap_err();
        assert!(unclosed.message.contains("closed"), "{unclosed}");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().starts_with("line 4: "), "{e}");
    }
}
