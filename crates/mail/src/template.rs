//! Campaign templates: subject, HTML and text bodies written by users in minijinja.
//!
//! Sandboxed: no file system loader, fuel bounds the work of one render, undefined variables are
//! errors (strict) unless the template says what to do (`| default("there")`). The HTML body is
//! auto-escaped, so a contact field cannot inject markup.

use minijinja::{Environment, UndefinedBehavior, Value};

const SUBJECT: &str = "subject.txt";
const HTML: &str = "body.html";
const TEXT: &str = "body.txt";
/// Enough for any real campaign; stops a runaway loop in a template.
const FUEL: u64 = 200_000;

/// A template problem, naming the part and line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    /// "subject", "html" or "text".
    pub part: &'static str,
    pub line: Option<usize>,
    pub message: String,
}

/// The personalised parts of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Where the text/plain part comes from.
enum TextPart {
    /// A text template: written by the user, or derived once from the HTML template.
    Template,
    /// Derive from each rendered HTML (only when the derived template does not compile).
    FromRenderedHtml,
}

/// The compiled templates of one campaign.
pub struct CampaignTemplates {
    env: Environment<'static>,
    text: TextPart,
}

fn part_name(template: &str) -> &'static str {
    match template {
        SUBJECT => "subject",
        HTML => "html",
        _ => "text",
    }
}

fn to_error(part: &'static str, e: &minijinja::Error) -> TemplateError {
    let message = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    TemplateError {
        part,
        line: e.line(),
        message,
    }
}

impl CampaignTemplates {
    /// Compile the three parts; a syntax error names the part and line.
    pub fn compile(subject: &str, html: &str, text: Option<&str>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        let mut parts = vec![(SUBJECT, subject.to_string()), (HTML, html.to_string())];
        if let Some(t) = text {
            parts.push((TEXT, t.to_string()));
        }
        for (name, source) in parts {
            env.add_template_owned(name, source)
                .map_err(|e| to_error(part_name(name), &e))?;
        }
        let text = if text.is_some() {
            TextPart::Template
        } else {
            // Converting HTML to text is the costliest step of rendering; the template is the
            // same for every recipient, so convert it once. Template tags pass through the
            // conversion as text; if the result does not compile, convert per message instead.
            match env.add_template_owned(TEXT, html_to_text(html)) {
                Ok(()) => TextPart::Template,
                Err(_) => TextPart::FromRenderedHtml,
            }
        };
        Ok(Self { env, text })
    }

    /// Render for one recipient. `ctx` is the template context (`contact`, …).
    pub fn render(&self, ctx: &Value) -> Result<Rendered, TemplateError> {
        let one = |name: &'static str| -> Result<String, TemplateError> {
            let t = self
                .env
                .get_template(name)
                .map_err(|e| to_error(part_name(name), &e))?;
            t.render(ctx).map_err(|e| to_error(part_name(name), &e))
        };
        let subject = one(SUBJECT)?;
        if subject.contains(['\r', '\n']) {
            return Err(TemplateError {
                part: "subject",
                line: None,
                message: "the rendered subject contains a line break".into(),
            });
        }
        let html = one(HTML)?;
        let text = match self.text {
            TextPart::Template => one(TEXT)?,
            TextPart::FromRenderedHtml => html_to_text(&html),
        };
        Ok(Rendered {
            subject: subject.trim().to_string(),
            html,
            text,
        })
    }
}

/// Derive the text/plain alternative from the HTML part.
pub fn html_to_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 78).unwrap_or_else(|_| String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn personalises_and_escapes_html() {
        let t = CampaignTemplates::compile(
            "Hi {{ contact.first_name | default(\"there\") }}",
            "<p>Hello {{ contact.first_name }}</p>",
            None,
        )
        .unwrap();
        let r = t
            .render(&context! { contact => context! { first_name => "<Ann>" } })
            .unwrap();
        assert_eq!(r.subject, "Hi <Ann>");
        assert_eq!(r.html, "<p>Hello &lt;Ann&gt;</p>");
        assert!(r.text.contains("Hello <Ann>"), "{}", r.text);
        let r = t.render(&context! { contact => context! {} });
        let e = r.unwrap_err();
        assert_eq!(e.part, "html");
        assert!(e.message.contains("undefined"), "{e}");
    }

    #[test]
    fn the_derived_text_part_is_personalised_and_not_escaped() {
        let t = CampaignTemplates::compile(
            "s",
            "<h1>Hi {{ contact.first_name | default(\"there\") }}</h1><p>{% if contact.vip is defined %}VIP {% endif %}offer &amp; more</p><a href=\"https://x.test/{{ contact.id }}\">link</a>",
            None,
        )
        .unwrap();
        assert!(matches!(t.text, TextPart::Template));
        let r = t.render(&context! { contact => context! { first_name => "Ann & Bo", vip => true, id => 7 } }).unwrap();
        assert!(r.text.contains("Hi Ann & Bo"), "{}", r.text);
        assert!(r.text.contains("VIP offer & more"), "{}", r.text);
        assert!(r.text.contains("https://x.test/7"), "{}", r.text);
        let r = t
            .render(&context! { contact => context! { id => 8 } })
            .unwrap();
        assert!(
            r.text.contains("Hi there") && !r.text.contains("VIP"),
            "{}",
            r.text
        );
    }

    #[test]
    fn syntax_errors_name_part_and_line() {
        let e = CampaignTemplates::compile("ok", "<p>\n{% if %}\n", None)
            .err()
            .unwrap();
        assert_eq!((e.part, e.line), ("html", Some(2)));
    }

    #[test]
    fn a_subject_with_a_line_break_is_refused() {
        let t = CampaignTemplates::compile("{{ contact.x }}", "b", Some("t")).unwrap();
        let e = t
            .render(&context! { contact => context! { x => "a\r\nBcc: x@y" } })
            .unwrap_err();
        assert_eq!(e.part, "subject");
    }

    #[test]
    fn fuel_stops_runaway_templates() {
        let t = CampaignTemplates::compile(
            "s",
            "{% for i in range(100000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
            None,
        )
        .unwrap();
        assert!(t.render(&context! {}).is_err());
    }
}
