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
/// The largest subject template.
pub const MAX_SUBJECT_BYTES: usize = 2 * 1024;
/// The largest HTML or text template (real campaigns are tens of KB; Gmail clips at 102 KB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The deepest element nesting accepted. Converting HTML to text costs more than linear time
/// in the depth: 100 000 nested `<div>`s took 42 s per request. Real email HTML (tables in
/// tables) stays under ~30.
pub const MAX_NESTING: usize = 200;

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
        let too_big = |part: &'static str, len: usize, max: usize| TemplateError {
            part,
            line: None,
            message: format!("{len} bytes; at most {max} are accepted"),
        };
        if subject.len() > MAX_SUBJECT_BYTES {
            return Err(too_big("subject", subject.len(), MAX_SUBJECT_BYTES));
        }
        if html.len() > MAX_BODY_BYTES {
            return Err(too_big("html", html.len(), MAX_BODY_BYTES));
        }
        if let Some(t) = text.filter(|t| t.len() > MAX_BODY_BYTES) {
            return Err(too_big("text", t.len(), MAX_BODY_BYTES));
        }
        if nesting_depth(html) > MAX_NESTING {
            return Err(TemplateError {
                part: "html",
                line: None,
                message: format!("elements are nested more than {MAX_NESTING} deep"),
            });
        }
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
        self.render_in(&self.env, ctx)
    }

    /// Render a copy for a seed mailbox: it has no contact, so a field the template needs
    /// renders empty (`default(…)` still applies) instead of refusing the copy — a seed must
    /// see every campaign, personalised ones included.
    pub fn render_lenient(&self, ctx: &Value) -> Result<Rendered, TemplateError> {
        let mut env = self.env.clone();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        self.render_in(&env, ctx)
    }

    fn render_in(&self, env: &Environment<'_>, ctx: &Value) -> Result<Rendered, TemplateError> {
        let one = |name: &'static str| -> Result<String, TemplateError> {
            let t = env
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

/// Derive the text/plain alternative from the HTML part. HTML that is too large or too deep
/// for the converter (a rendered loop, a hostile bounce) is reduced to its text by stripping
/// the tags instead: linear, and never a stall.
pub fn html_to_text(html: &str) -> String {
    if html.len() > MAX_BODY_BYTES || nesting_depth(html) > MAX_NESTING {
        return strip_tags(html);
    }
    html2text::from_read(html.as_bytes(), 78).unwrap_or_else(|_| String::new())
}

/// Elements that never hold content (no closing tag).
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// How deep elements nest, read as an HTML parser reads them (a stack of open elements: `/`
/// closes only void elements, an end tag closes up to the element it names and is ignored
/// when none is open), in one pass; stops counting past [`MAX_NESTING`].
pub fn nesting_depth(html: &str) -> usize {
    let b = html.as_bytes();
    let (mut open, mut max, mut i): (Vec<String>, usize, usize) = (Vec::new(), 0, 0);
    while let Some(off) = b[i..].iter().position(|c| *c == b'<') {
        let start = i + off + 1;
        let end = b[start..]
            .iter()
            .position(|c| *c == b'>')
            .map_or(b.len(), |e| start + e);
        let tag = &b[start..end];
        i = end.min(b.len());
        let name = |t: &[u8]| -> String {
            t.iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase() as char)
                .collect()
        };
        match tag.first() {
            Some(b'/') => {
                let n = name(&tag[1..]);
                if let Some(at) = open.iter().rposition(|o| *o == n) {
                    open.truncate(at);
                }
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let n = name(tag);
                if !VOID.contains(&n.as_str()) {
                    open.push(n);
                    max = max.max(open.len());
                    if max > MAX_NESTING {
                        return max;
                    }
                }
            }
            _ => {} // comments, doctype, processing instructions, a stray `<`
        }
    }
    max
}

/// The text of `html` with every tag removed and whitespace collapsed.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    let mut space = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                space = true;
            }
            _ if in_tag => {}
            c if c.is_whitespace() => space = true,
            c => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
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
    fn size_and_nesting_are_capped() {
        let deep = "<div>".repeat(100_000);
        let e = CampaignTemplates::compile("s", &deep, None).err().unwrap();
        assert_eq!(e.part, "html");
        assert!(e.message.contains("nested"), "{e}");
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        assert_eq!(
            CampaignTemplates::compile("s", &big, None)
                .err()
                .unwrap()
                .part,
            "html"
        );
        assert_eq!(
            CampaignTemplates::compile(&"s".repeat(3000), "b", None)
                .err()
                .unwrap()
                .part,
            "subject"
        );
        // A parser ignores `/` on non-void elements and end tags that match nothing: so does
        // the count.
        assert!(nesting_depth(&"<div/>".repeat(1000)) > MAX_NESTING);
        assert!(nesting_depth(&"<div></x>".repeat(1000)) > MAX_NESTING);
        // Ordinary email HTML passes: void elements and comments do not nest, closing tags
        // unwind.
        let ok = "<!doctype html><html><body><table><tr><td><img src=x><br/><!-- c --><p>a</p><p>b</p></td></tr></table></body></html><p>x<p>y";
        assert_eq!(nesting_depth(ok), 6);
        assert!(CampaignTemplates::compile("s", ok, None).is_ok());
        // A deep rendered result (a loop) is converted cheaply, not by the slow converter.
        let started = std::time::Instant::now();
        let text = html_to_text(&format!("{}hello &amp; bye", "<div>".repeat(100_000)));
        assert_eq!(text, "hello & bye");
        println!("100 000 nested divs to text in {:?}", started.elapsed());
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

    #[test]
    fn a_seed_copy_renders_without_the_contact_fields() {
        let t = CampaignTemplates::compile(
            "Hello {{ contact.first_name }}",
            "<p>Hi {{ contact.first_name | default(\"friend\") }}</p>",
            None,
        )
        .unwrap();
        let ctx = context! { contact => context! { email => "seed@x.test" } };
        assert!(
            t.render(&ctx).is_err(),
            "a recipient without the field is refused"
        );
        let r = t.render_lenient(&ctx).unwrap();
        assert_eq!(r.subject, "Hello");
        assert!(r.html.contains("Hi friend"), "{}", r.html);
    }
}
