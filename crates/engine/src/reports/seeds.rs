//! Where a campaign's seed copies landed, per mailbox provider.

use herald_store::{CampaignId, Store, StoreError};

use crate::api_types::PlacementTally;

/// One row per provider, in the order the seeds were added.
pub async fn placement_tally<S: Store>(
    store: &S,
    id: CampaignId,
) -> Result<Vec<PlacementTally>, StoreError> {
    let mut out: Vec<PlacementTally> = Vec::new();
    for p in store.placements(id).await? {
        let i = match out.iter().position(|r| r.provider == p.seed.provider) {
            Some(i) => i,
            None => {
                out.push(PlacementTally {
                    provider: p.seed.provider.clone(),
                    ..PlacementTally::default()
                });
                out.len() - 1
            }
        };
        let row = &mut out[i];
        match &p.placement {
            Some(herald_domain::Placement::Inbox) => row.inbox += 1,
            Some(herald_domain::Placement::Junk) => row.junk += 1,
            Some(herald_domain::Placement::Missing) => row.missing += 1,
            Some(herald_domain::Placement::Other(_)) => row.other += 1,
            None => row.pending += 1,
        }
    }
    Ok(out)
}
