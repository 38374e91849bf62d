//! `herald segments create|list|count|update|delete`.

use herald_engine::audience::segments::{self, SegmentView};

use crate::cli::SegmentsCmd;
use crate::commands::lists::cli_error;
use crate::output;
use crate::startup::App;

fn print(s: &SegmentView) {
    println!("{:?}: {} contacts", s.name, s.count);
    println!("  {}", s.rule);
}

pub async fn run(app: App, cmd: SegmentsCmd) -> anyhow::Result<()> {
    match cmd {
        SegmentsCmd::Create { name, rule, json } => {
            let s = segments::create(&app.store, &name, &rule, app.clock.now_ms())
                .await
                .map_err(cli_error)?;
            if json {
                return output::json(&s);
            }
            print(&s);
        }
        SegmentsCmd::List { json } => {
            let all = segments::list(&app.store, app.clock.now_ms())
                .await
                .map_err(cli_error)?;
            if json {
                return output::json(&serde_json::json!({ "segments": all }));
            }
            if all.is_empty() {
                println!("no segments yet: herald segments create NAME --rule '…'");
            }
            all.iter().for_each(print);
        }
        SegmentsCmd::Count { rule, json } => {
            let c = segments::count(&app.store, &rule, app.clock.now_ms())
                .await
                .map_err(cli_error)?;
            if json {
                return output::json(&c);
            }
            println!("{} contacts", c.count);
            for e in &c.sample {
                println!("  {e}");
            }
            if c.count > c.sample.len() as u64 {
                println!("  …");
            }
        }
        SegmentsCmd::Update {
            name,
            rule,
            rename,
            json,
        } => {
            let s = segments::update(
                &app.store,
                &name,
                rule.as_deref(),
                rename.as_deref(),
                app.clock.now_ms(),
            )
            .await
            .map_err(cli_error)?;
            if json {
                return output::json(&s);
            }
            print(&s);
        }
        SegmentsCmd::Delete { name } => {
            segments::delete(&app.store, &name)
                .await
                .map_err(cli_error)?;
            println!("segment {name:?} deleted");
        }
    }
    Ok(())
}
