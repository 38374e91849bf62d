//! `herald settings list|set|reset`: the settings that can change while Herald runs
//! ([`herald_engine::runtime`]); a change is kept in the database, so every node (and every
//! later command) uses it.

use herald_engine::runtime::{self, SettingError, SettingView};

use crate::cli::SettingsCmd;
use crate::output;
use crate::startup::App;

fn refused(e: SettingError) -> anyhow::Error {
    match e {
        SettingError::Unknown(_) => crate::not_found(e.to_string()),
        SettingError::Bad { .. } => crate::bad_input(e.to_string()),
        SettingError::Store(e) => e.into(),
    }
}

fn print(s: &SettingView) {
    let shown = |v: &str| {
        if v.is_empty() {
            "(off)".to_string()
        } else {
            v.to_string()
        }
    };
    match &s.changed_by {
        Some(by) => println!(
            "{} = {}  (changed by {by} at {}; herald.toml: {})",
            s.name,
            shown(&s.value),
            s.changed_at.as_deref().unwrap_or_default(),
            shown(&s.file_value)
        ),
        None => println!("{} = {}  (herald.toml)", s.name, shown(&s.value)),
    }
}

pub async fn run(app: App, cmd: SettingsCmd) -> anyhow::Result<()> {
    let base = &app.runtime_base;
    // Who changed it, as the CLI knows its user.
    let by = || {
        format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "an unnamed user".into())
        )
    };
    match cmd {
        SettingsCmd::List { json } => {
            let l = runtime::list(&app.store, base).await.map_err(refused)?;
            if json {
                return output::json(&l);
            }
            for s in &l.settings {
                print(s);
                println!("    {}", s.help);
            }
        }
        SettingsCmd::Set { name, value, json } => {
            let now = app.clock.now_ms();
            let s = runtime::set(&app.store, base, &name, &value, &by(), now)
                .await
                .map_err(refused)?;
            if json {
                return output::json(&s);
            }
            print(&s);
            if app.sending_mode().await?.live.is_empty() {
                eprintln!("note: no `herald serve` runs now; it uses this when it starts");
            } else {
                eprintln!("every running node uses it within seconds");
            }
        }
        SettingsCmd::Reset { name, json } => {
            let s = runtime::reset(&app.store, base, &name)
                .await
                .map_err(refused)?;
            if json {
                return output::json(&s);
            }
            print(&s);
        }
    }
    Ok(())
}
