//! `herald lists create|list|show|update|delete`, and the task of `serve` that removes
//! sign-ups never confirmed.

use std::time::Duration;

use herald_engine::audience::{self, AudienceError, ListInput, ListView};
use herald_store::prelude::*;

use crate::cli::{ListArgs, ListsCmd};
use crate::startup::App;
use crate::{NotFound, bad_input, output};

/// An audience error as the CLI reports it: the user's to fix (exit 2) or a failure (exit 1).
pub fn cli_error(e: AudienceError) -> anyhow::Error {
    match e {
        AudienceError::UnknownList(_)
        | AudienceError::UnknownSegment(_)
        | AudienceError::UnknownCampaign(_) => anyhow::Error::new(NotFound(e.to_string())),
        AudienceError::CampaignStarted(_) => anyhow::Error::new(crate::Conflict(e.to_string())),
        AudienceError::Store(s) => anyhow::Error::new(s),
        other => bad_input(other.to_string()),
    }
}

fn input(name: Option<String>, a: ListArgs) -> anyhow::Result<ListInput> {
    Ok(ListInput {
        name,
        slug: a.slug,
        no_slug: a.no_slug,
        description: a.description,
        opt_in: a
            .opt_in
            .map(|o| {
                o.parse()
                    .map_err(|_| bad_input(format!("--opt-in {o:?}: expected single or double")))
            })
            .transpose()?,
        fields: a.fields.map(|f| f.split(',').map(str::to_string).collect()),
        from: a.from,
        confirmation: audience::MessageParts {
            subject: a.confirm_subject,
            html: a.confirm_html.as_deref().map(read_template).transpose()?,
            text: a.confirm_text.as_deref().map(read_template).transpose()?,
        },
        default_confirmation: a.default_confirmation,
        welcome: audience::MessageParts {
            subject: a.welcome_subject,
            html: a.welcome_html.as_deref().map(read_template).transpose()?,
            text: a.welcome_text.as_deref().map(read_template).transpose()?,
        },
        no_welcome: a.no_welcome,
    })
}

/// A template file's text, or an error naming the file.
fn read_template(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| bad_input(format!("{}: {e}", path.display())))
}

/// The From gate (design §5) for a list's confirmation sender, as for a campaign's From.
async fn gate(app: &App, from: Option<&str>) -> anyhow::Result<()> {
    if let Some(f) = from.map(str::trim).filter(|f| !f.is_empty()) {
        let (_, addr) = herald_engine::campaign::parse_from(f)
            .map_err(|e| bad_input(format!("--from {f:?}: {e}")))?;
        app.check_from(addr.as_str()).await?;
    }
    Ok(())
}

fn print(v: &ListView) {
    println!("list {:?} (id {})", v.name, v.id);
    println!("  opt-in:      {}", v.opt_in);
    println!(
        "  members:     {} subscribed, {} pending confirmation, {} unsubscribed",
        v.subscribed, v.pending, v.unsubscribed
    );
    if !v.description.is_empty() {
        println!("  description: {}", v.description);
    }
    if !v.fields.is_empty() {
        println!("  form fields: {}", v.fields.join(", "));
    }
    if let Some(f) = &v.from {
        println!("  its messages from: {f}");
    }
    if let Some(s) = &v.confirm_subject {
        println!("  confirmation: its own, subject {s:?}");
    }
    match &v.welcome_subject {
        Some(s) => println!("  welcome:     subject {s:?}"),
        None => println!("  welcome:     none"),
    }
    match &v.form_url {
        Some(u) => println!("  sign-up form: {u}"),
        None => println!("  sign-up form: none (no slug)"),
    }
}

pub async fn run(app: App, cmd: ListsCmd) -> anyhow::Result<()> {
    let url = app.settings.http.public_url.clone();
    match cmd {
        ListsCmd::Create { name, args, json } => {
            gate(&app, args.from.as_deref()).await?;
            let l = audience::create_list(&app.store, input(Some(name), args)?, app.clock.now_ms())
                .await
                .map_err(cli_error)?;
            let v = ListView::of(&l, &url);
            if json {
                return output::json(&v);
            }
            print(&v);
        }
        ListsCmd::List { json } => {
            let lists: Vec<ListView> = app
                .store
                .list_records()
                .await?
                .iter()
                .map(|l| ListView::of(l, &url))
                .collect();
            if json {
                return output::json(&lists);
            }
            if lists.is_empty() {
                println!(
                    "no lists yet (`herald lists create NAME`, or `herald contacts import FILE --list NAME`)"
                );
            }
            for v in &lists {
                println!(
                    "{:<30} {:<6} {:>8} subscribed {:>6} pending {:>6} unsubscribed  {}",
                    v.name,
                    v.opt_in,
                    v.subscribed,
                    v.pending,
                    v.unsubscribed,
                    v.form_url.as_deref().unwrap_or("-")
                );
            }
        }
        ListsCmd::Show { name, json } => {
            let l = audience::find(&app.store, &name).await.map_err(cli_error)?;
            let v = ListView::of(&l, &url);
            if json {
                return output::json(&v);
            }
            print(&v);
            if let Some(html) = v.embed_html() {
                println!("\nTo embed on a website:\n{html}");
            }
        }
        ListsCmd::Update {
            name,
            rename,
            args,
            json,
        } => {
            gate(&app, args.from.as_deref()).await?;
            let l = audience::update_list(&app.store, &name, input(rename, args)?)
                .await
                .map_err(cli_error)?;
            let v = ListView::of(&l, &url);
            if json {
                return output::json(&v);
            }
            print(&v);
        }
        ListsCmd::Delete { name } => {
            audience::delete_list(&app.store, &name)
                .await
                .map_err(cli_error)?;
            println!("list {name:?} deleted");
        }
    }
    Ok(())
}

/// Remove sign-ups not confirmed within `[lists] confirm_within`, every ten minutes.
pub fn spawn_purger(app: &App) -> tokio::sync::oneshot::Sender<()> {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let store = app.store.clone();
    let window = app.settings.lists.confirm_within.0.as_millis() as i64;
    let clock = app.clock.clone();
    tokio::spawn(async move {
        loop {
            let before = clock.now_ms() - window;
            match store.purge_pending(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "unconfirmed sign-ups removed"),
                Err(e) => tracing::warn!(error = %e, "removing unconfirmed sign-ups failed"),
            }
            tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            }
        }
    });
    stop
}
