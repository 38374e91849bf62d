//! `GET /start`: the first run, step by step — connect a domain, publish and verify its records,
//! add seed mailboxes, bring contacts, write a campaign and send yourself a test, send — each
//! step ticked from the installation's state and linking to the page that does it. The
//! campaigns page points here until a campaign was sent.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use herald_engine::reports::campaign_list;
use herald_store::Store;

use super::{Session, failed, render};
use crate::Web;

/// One step of the first run.
struct Step {
    title: &'static str,
    done: bool,
    /// What was found, or what to do.
    state: String,
    href: &'static str,
    action: &'static str,
}

/// The first run's steps as the installation stands.
async fn steps<S: Store>(web: &Web<S>) -> Result<Vec<Step>, String> {
    let domains = web.actions.domains().await.map_err(|e| e.to_string())?;
    let verified = domains
        .iter()
        .filter(|d| d.last_check.as_ref().is_some_and(|c| c.ok))
        .count();
    let seeds = web.store.seeds().await.map_err(|e| e.to_string())?.len();
    // Whether anyone is a contact (the first in address order; counting them would read every
    // contact on each visit of the campaigns page).
    let people = !web
        .store
        .search_contacts("", "", 1)
        .await
        .map_err(|e| e.to_string())?
        .is_empty();
    let campaigns = campaign_list(&web.store, None, None, 200)
        .await
        .map_err(|e| e.to_string())?
        .campaigns;
    let sent = campaigns
        .iter()
        .filter(|c| !matches!(c.campaign.status, "draft" | "scheduled"))
        .count();
    let count = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    Ok(vec![
        Step {
            title: "Connect the domain you send from",
            done: !domains.is_empty(),
            state: if domains.is_empty() {
                "Herald makes its DKIM keys and tells you which DNS records to publish.".into()
            } else {
                format!(
                    "{} connected: {}.",
                    count(domains.len(), "domain", "domains"),
                    domains
                        .iter()
                        .map(|d| d.domain.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            href: "/domains",
            action: "Domains",
        },
        Step {
            title: "Publish its records and verify them",
            done: verified > 0,
            state: if verified > 0 {
                format!(
                    "{} verified through DNS.",
                    count(verified, "domain", "domains")
                )
            } else {
                "Copy each record into your DNS, then press Verify now: campaigns From the domain \
                 wait until SPF, DKIM and DMARC pass."
                    .into()
            },
            href: "/domains",
            action: "Domains",
        },
        Step {
            title: "Add seed mailboxes",
            done: seeds > 0,
            state: if seeds > 0 {
                format!(
                    "{}: every new campaign sends them a copy and finds where it landed.",
                    count(seeds, "seed", "seeds")
                )
            } else {
                "Optional, and what makes Herald tell Inbox from Junk: a Gmail, an Outlook.com \
                 and a Yahoo mailbox of your own."
                    .into()
            },
            href: "/seeds",
            action: "Seeds",
        },
        Step {
            title: "Bring your contacts",
            done: people,
            state: if people {
                "Your lists have people on them.".into()
            } else {
                "Import a CSV file (your old tool's suppressions come along), or make a list with a \
                 sign-up form."
                    .into()
            },
            href: "/lists",
            action: "Lists",
        },
        Step {
            title: "Write a campaign and send yourself a test",
            done: !campaigns.is_empty(),
            state: if campaigns.is_empty() {
                "Compose with a live preview, then Send test on its page: one copy to your own \
                 address, recorded nowhere."
                    .into()
            } else {
                format!(
                    "{} written.",
                    count(campaigns.len(), "campaign", "campaigns")
                )
            },
            href: "/campaigns/new",
            action: "New campaign",
        },
        Step {
            title: "Send it",
            done: sent > 0,
            state: if sent > 0 {
                format!(
                    "{} sent or sending: each recipient's page says where their copy went.",
                    count(sent, "campaign", "campaigns")
                )
            } else {
                "Send (or schedule) from the campaign's page; then watch its numbers and the \
                 Health page."
                    .into()
            },
            href: "/",
            action: "Campaigns",
        },
    ])
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    user: Option<String>,
    csrf: String,
    steps: Vec<Step>,
    done: usize,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
) -> Response {
    match steps(&web).await {
        Ok(steps) => render(&StartPage {
            user: Some(s.user.email),
            csrf: s.csrf,
            done: steps.iter().filter(|s| s.done).count(),
            steps,
        }),
        Err(e) => failed(
            e,
            "reading the first-run steps",
            "The steps could not be read.",
        ),
    }
}
