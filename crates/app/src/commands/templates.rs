//! `herald templates list|show|save|delete`: saved templates
//! ([`herald_engine::campaign::templates`]).

use herald_engine::campaign::templates::{self, TemplateError};

use crate::cli::TemplatesCmd;
use crate::output;
use crate::startup::App;

pub fn refused(e: TemplateError) -> anyhow::Error {
    match e {
        TemplateError::NotFound(_) => crate::not_found(e.to_string()),
        TemplateError::Store(s) => s.into(),
        e => crate::bad_input(e.to_string()),
    }
}

pub async fn run(app: App, cmd: TemplatesCmd) -> anyhow::Result<()> {
    match cmd {
        TemplatesCmd::List { json } => {
            let all = templates::list(&app.store).await.map_err(refused)?;
            if json {
                return output::json(&all);
            }
            if all.is_empty() {
                println!("no templates (herald templates save NAME --html FILE makes one)");
            }
            for t in &all {
                println!(
                    "{}  {}{}",
                    t.name,
                    if t.layout { "layout" } else { "message" },
                    t.subject
                        .as_deref()
                        .map(|s| format!(", subject {s:?}"))
                        .unwrap_or_default()
                );
            }
        }
        TemplatesCmd::Show { name, json } => {
            let t = templates::show(&app.store, &name).await.map_err(refused)?;
            if json {
                return output::json(&t);
            }
            println!(
                "{} ({})",
                t.name,
                if t.layout {
                    "a layout: {{ content }} takes a campaign's content"
                } else {
                    "a whole message"
                }
            );
            if let Some(s) = &t.subject {
                println!("Subject: {s}");
            }
            println!("\n{}", t.html);
        }
        TemplatesCmd::Save {
            name,
            html,
            mjml,
            subject,
            text,
            json,
        } => {
            let body = crate::commands::campaign::body_file(html.as_deref(), mjml.as_deref())?
                .ok_or_else(|| crate::bad_input("give the HTML: --html FILE or --mjml FILE"))?;
            let text = text
                .as_deref()
                .map(|p| {
                    std::fs::read_to_string(p)
                        .map_err(|e| crate::bad_input(format!("{}: {e}", p.display())))
                })
                .transpose()?;
            let (t, new) = templates::save(
                &app.store,
                &name,
                subject.as_deref(),
                &body,
                text.as_deref(),
                app.clock.now_ms(),
            )
            .await
            .map_err(refused)?;
            if json {
                return output::json(&t);
            }
            println!(
                "template {} {}{}",
                t.name,
                if new { "saved" } else { "replaced" },
                if t.layout {
                    " (a layout: {{ content }} takes each campaign's content)"
                } else {
                    ""
                }
            );
        }
        TemplatesCmd::Delete { name } => {
            templates::delete(&app.store, &name)
                .await
                .map_err(refused)?;
            println!(
                "template {} deleted (campaigns made from it keep their content)",
                name.trim()
            );
        }
    }
    Ok(())
}
