//! `campaign ab ID …`: a draft's A/B test (`herald_engine::campaign::ab`), set from the CLI,
//! the API and the campaign's page.

use herald_engine::campaign::ab::{AbReport, AbTest, AbVariant};
use herald_engine::campaign::{self};
use herald_store::CampaignId;
use herald_store::prelude::*;

use super::*;
use crate::cli::AbArgs;
use crate::commands::campaign_id;
use crate::startup::App;
use crate::{bad_input, output};

/// An A/B test as the CLI gives it ([`AbTest::from_parts`]).
pub fn ab_test(
    variants: Vec<AbVariant>,
    share_pct: Option<u32>,
    metric: Option<&str>,
    wait: Option<&str>,
) -> anyhow::Result<AbTest> {
    AbTest::from_parts(variants, share_pct, metric, wait).map_err(|e| bad_input(e.to_string()))
}

/// Give draft `id` its A/B test (None: none); the test as its report shows it.
pub async fn set_ab(
    app: &App,
    id: CampaignId,
    test: Option<AbTest>,
) -> anyhow::Result<Option<AbReport>> {
    campaign::set_ab(&app.store, id, test.as_ref(), app.clock.now_ms())
        .await
        .map_err(|e| campaign_error(e, "setting the A/B test"))?;
    let Some(c) = app.store.campaign(id).await? else {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    };
    Ok(campaign::ab::report(&app.store, &c).await?)
}

/// `campaign ab`.
pub(super) async fn ab_cmd(app: &App, a: AbArgs) -> anyhow::Result<()> {
    let id = campaign_id(&a.id)?;
    let test = if a.off {
        None
    } else {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| bad_input(format!("{}: {e}", p.display())))
        };
        let variant = AbVariant {
            subject: a.subject,
            html: a.html.as_deref().map(read).transpose()?,
            text: a.text.as_deref().map(read).transpose()?,
        };
        Some(ab_test(
            vec![variant],
            Some(a.share),
            Some(&a.metric),
            Some(&a.wait),
        )?)
    };
    let report = set_ab(app, id, test).await?;
    if a.json {
        return output::json(&serde_json::json!({ "id": id.to_string(), "ab": report }));
    }
    match report {
        None => println!("campaign {id}: no A/B test"),
        Some(r) => println!(
            "campaign {id}: A/B test of {} variants, {} % of the audience each; after {} the one {} most by a person goes to the rest",
            r.variants.len(),
            r.share_pct,
            r.wait,
            if r.metric == "clicks" {
                "clicked"
            } else {
                "opened"
            }
        ),
    }
    Ok(())
}
