//! `herald campaign …`: the dispatch; drafts in `compose`, sending in `send`, schedules in
//! `schedule`, the pre-send check in `check`, reports in `report`.

use herald_engine::campaign::{self};

use crate::cli::CampaignCmd;
use crate::commands::campaign_id;
use crate::startup::App;
use crate::{bad_input, output};

mod ab;
mod archive;
mod attach;
mod check;
mod compose;
mod report;
mod schedule;
mod send;

pub use ab::{ab_test, set_ab};
pub use archive::{archive_url, set_archive};
pub use attach::attachment_list;
pub use check::*;
pub use compose::*;
pub use report::*;
pub use schedule::*;
pub use send::*;

pub async fn run(mut app: App, cmd: CampaignCmd) -> anyhow::Result<()> {
    // Sending commands honour the installation's mode: a sandboxed installation (its settings,
    // or the newest `serve` ran with --sandbox) sends nothing off this machine, whoever sends.
    let mode = match cmd {
        CampaignCmd::Send { .. } | CampaignCmd::Test { .. } => Some(app.sending_mode().await?),
        _ => None,
    };
    if mode.as_ref().is_some_and(|m| m.sandbox) {
        app.settings.delivery.sandbox = true;
    }
    let app = &app;
    match cmd {
        CampaignCmd::Create(args) => create(app, args).await,
        CampaignCmd::List { status, json } => list(app, status.as_deref(), json).await,
        CampaignCmd::Edit(args) => edit(app, args).await,
        CampaignCmd::Duplicate { id, name, json } => {
            let new = duplicate(app, campaign_id(&id)?, name).await?;
            if json {
                output::json(&herald_engine::api_types::Created {
                    id: new.to_string(),
                })
            } else {
                println!("{new}");
                Ok(())
            }
        }
        CampaignCmd::Schedule {
            id,
            at,
            tz,
            local_time,
            json,
        } => schedule_cmd(app, &id, at, tz, local_time, json).await,
        CampaignCmd::Unschedule { id, json } => unschedule_cmd(app, &id, json).await,
        CampaignCmd::Check { id, json } => check_cmd(app, &id, json).await,
        CampaignCmd::Ab(args) => ab::ab_cmd(app, args).await,
        CampaignCmd::Archive { id, off, json } => archive::archive_cmd(app, &id, off, json).await,
        CampaignCmd::Attach {
            id,
            file,
            name,
            content_type,
            json,
        } => attach::attach_cmd(app, &id, &file, name, content_type, json).await,
        CampaignCmd::Detach { id, name } => attach::detach_cmd(app, &id, &name).await,
        CampaignCmd::Audience {
            id,
            also_lists,
            no_also_lists,
            exclude_lists,
            no_exclude_lists,
            segment,
            no_segment,
            exclude,
            no_exclude,
            json,
        } => {
            let pick = |set: Option<String>, clear: bool| {
                if clear { Some(None) } else { set.map(Some) }
            };
            let lists = |set: Vec<String>, clear: bool| (clear || !set.is_empty()).then_some(set);
            let change = herald_engine::audience::segments::AudienceChange {
                segment: pick(segment, no_segment),
                exclude: pick(exclude, no_exclude),
                also_lists: lists(also_lists, no_also_lists),
                exclude_lists: lists(exclude_lists, no_exclude_lists),
            };
            audience_cmd(app, &id, &change, json).await
        }
        CampaignCmd::Pause { id, json } => {
            control_cmd(app, &id, campaign::Control::Pause, json).await
        }
        CampaignCmd::Resume { id, json } => {
            control_cmd(app, &id, campaign::Control::Resume, json).await
        }
        CampaignCmd::Cancel { id, json } => {
            control_cmd(app, &id, campaign::Control::Cancel, json).await
        }
        CampaignCmd::Delete { id } => {
            let id = campaign_id(&id)?;
            delete_draft(app, id).await?;
            println!("deleted draft {id}");
            Ok(())
        }
        CampaignCmd::Send {
            id,
            despite_complaints,
            wait,
            wait_timeout,
            json,
        } => {
            let timeout = match wait_timeout {
                Some(s) => Some(
                    humantime::parse_duration(&s)
                        .map_err(|e| bad_input(format!("--wait-timeout {s:?}: {e}")))?,
                ),
                None => None,
            };
            let live = mode.map(|m| m.live).unwrap_or_default();
            send(
                app,
                campaign_id(&id)?,
                &live,
                despite_complaints,
                wait,
                timeout,
                json,
            )
            .await
        }
        CampaignCmd::Report {
            id,
            recipients,
            json,
        } => {
            let report = load_report(app, campaign_id(&id)?, recipients).await?;
            if json {
                output::json(&report)
            } else {
                print_report(&report);
                Ok(())
            }
        }
        CampaignCmd::Test { id, to, json } => test_cmd(app, &id, &to, json).await,
        CampaignCmd::Show { id, json } => show_cmd(app, &id, json).await,
    }
}
