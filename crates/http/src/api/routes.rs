//! The route table: every `/api/v1` route with its role, parameters, body and answer — what
//! the router serves, the authentication layer enforces and the OpenAPI document describes.

use super::*;

pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

fn schema<T: schemars::JsonSchema>(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

/// One API route: what it needs and what it answers. The middleware checks `role`; the
/// OpenAPI document is generated from these fields and the types they name.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub role: Role,
    pub summary: &'static str,
    /// The query parameters, as the fields of one struct.
    pub query: Option<SchemaFn>,
    /// The JSON request body.
    pub body: Option<SchemaFn>,
    /// The success status and its JSON body (None: no body).
    pub ok: (u16, Option<SchemaFn>),
    /// The request can be refused by the installation's state (409).
    pub conflicts: bool,
}

const fn get_route(
    path: &'static str,
    role: Role,
    summary: &'static str,
    answer: SchemaFn,
) -> Route {
    Route {
        method: "GET",
        path,
        role,
        summary,
        query: None,
        body: None,
        ok: (200, Some(answer)),
        conflicts: false,
    }
}

/// `POST /api/v1/campaigns/{id}/pause|resume|cancel`: no body, the campaign's new status.
const fn control_route(path: &'static str, summary: &'static str) -> Route {
    Route {
        method: "POST",
        path,
        role: Role::Admin,
        summary,
        query: None,
        body: None,
        ok: (200, Some(schema::<api_types::CampaignControlled>)),
        conflicts: true,
    }
}

/// Every API route. A route missing here is never served.
pub const ROUTES: &[Route] = &[
    Route {
        query: Some(schema::<campaigns::ListQuery>),
        ..get_route(
            "/api/v1/campaigns",
            Role::Viewer,
            "Campaigns, newest first, with their counts (?status=draft|scheduled|sending|paused|sent|cancelled)",
            schema::<api_types::CampaignList>,
        )
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns",
        role: Role::Admin,
        summary: "Create a draft, checked as `campaign create` checks it: 422 names what is wrong (a list that does not exist, a template that fails for a contact, a bad From, a From domain that is not connected), 409 a From domain whose records do not verify; allow_unverified bypasses the From gate (recorded on the campaign)",
        query: None,
        body: Some(schema::<campaigns::NewCampaignBody>),
        ok: (201, Some(schema::<api_types::Created>)),
        conflicts: true,
    },
    get_route(
        "/api/v1/campaigns/{id}",
        Role::Viewer,
        "A campaign's report: details, counts, not-sent reasons",
        schema::<api_types::CampaignReport>,
    ),
    Route {
        method: "DELETE",
        path: "/api/v1/campaigns/{id}",
        role: Role::Admin,
        summary: "Delete a draft (409 once its send started: a sent campaign is kept)",
        query: None,
        body: None,
        ok: (204, None),
        conflicts: true,
    },
    Route {
        method: "PATCH",
        path: "/api/v1/campaigns/{id}",
        role: Role::Admin,
        summary: "Change a draft: the fields given are replaced, checked as at creation (422 says what is wrong; 409 once its send started)",
        query: None,
        body: Some(schema::<api_types::CampaignPatch>),
        ok: (204, None),
        conflicts: true,
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/duplicate",
        role: Role::Admin,
        summary: "A new draft with the same content: {\"name\": …} (default \"<name> (copy)\")",
        query: None,
        body: Some(schema::<campaigns::DuplicateBody>),
        ok: (201, Some(schema::<api_types::Created>)),
        conflicts: true,
    },
    Route {
        query: Some(schema::<campaigns::RecipientsQuery>),
        ..get_route(
            "/api/v1/campaigns/{id}/recipients",
            Role::Viewer,
            "Recipients by tab (?tab=delivered&q=&after=&limit=)",
            schema::<api_types::RecipientsPage>,
        )
    },
    get_route(
        "/api/v1/campaigns/{id}/why/{email}",
        Role::Viewer,
        "Why didn't they get it: findings, timeline, IT report",
        schema::<api_types::Diagnosis>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/send",
        role: Role::Admin,
        summary: "Send a draft campaign (idempotent). Refused (409) when the pre-send check finds a spam-complaint rate past 0.3 %, unless ?despite_complaints= gives the reason (recorded on the campaign with the caller)",
        query: Some(schema::<campaigns::SendQuery>),
        body: None,
        ok: (202, Some(schema::<api_types::SendStarted>)),
        conflicts: true,
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/check",
        role: Role::Admin,
        summary: "Run the pre-send check now (DNS, content, complaint rate) and keep it",
        query: None,
        body: None,
        ok: (200, Some(schema::<api_types::CampaignCheck>)),
        conflicts: false,
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/schedule",
        role: Role::Admin,
        summary: "Start a draft at a set time: {\"at\": RFC 3339 date-time} (409 when it has passed)",
        query: None,
        body: Some(schema::<campaigns::ScheduleBody>),
        ok: (200, Some(schema::<api_types::CampaignScheduled>)),
        conflicts: true,
    },
    Route {
        method: "DELETE",
        path: "/api/v1/campaigns/{id}/schedule",
        role: Role::Admin,
        summary: "Call off a scheduled start: the campaign is a draft again",
        query: None,
        body: None,
        ok: (200, Some(schema::<api_types::CampaignScheduled>)),
        conflicts: true,
    },
    control_route(
        "/api/v1/campaigns/{id}/pause",
        "Pause a sending campaign: no new attempts on any node within a second",
    ),
    control_route(
        "/api/v1/campaigns/{id}/resume",
        "Resume a paused campaign where it stopped (nobody is mailed twice)",
    ),
    control_route(
        "/api/v1/campaigns/{id}/cancel",
        "Cancel a sending or paused campaign: the rest become not_sent (cancelled)",
    ),
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/test",
        role: Role::Admin,
        summary: "Send one test copy (recorded nowhere)",
        query: None,
        body: Some(schema::<campaigns::TestBody>),
        ok: (200, Some(schema::<api_types::TestSend>)),
        conflicts: true,
    },
    get_route(
        "/api/v1/suppressions",
        Role::Viewer,
        "The suppression list",
        schema::<api_types::SuppressionList>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/suppressions",
        role: Role::Admin,
        summary: "Suppress an address (201 when added, 200 when it was already)",
        query: None,
        body: Some(schema::<suppressions::Add>),
        ok: (201, Some(schema::<api_types::SuppressionAdded>)),
        conflicts: false,
    },
    Route {
        method: "DELETE",
        path: "/api/v1/suppressions/{email}",
        role: Role::Admin,
        summary: "Lift a suppression",
        query: None,
        body: None,
        ok: (204, None),
        conflicts: false,
    },
    Route {
        query: Some(schema::<contacts::SearchQuery>),
        ..get_route(
            "/api/v1/contacts",
            Role::Viewer,
            "Contacts whose address contains ?q= (keyset pages: ?after=&limit=)",
            schema::<api_types::ContactsPage>,
        )
    },
    Route {
        method: "POST",
        path: "/api/v1/contacts",
        role: Role::Admin,
        summary: "Add a person to a list: subscribed at once, or with \"confirm\": true after a confirmation message (201 when added, 200 when already subscribed; 409 when they left the list: only their own request brings them back)",
        query: None,
        body: Some(schema::<lists::AddContact>),
        ok: (201, Some(schema::<herald_engine::audience::Added>)),
        conflicts: true,
    },
    Route {
        method: "POST",
        path: "/api/v1/public/subscribe",
        role: Role::Viewer,
        summary: "Sign a visitor up from a site's server, as the list's hosted form does (double opt-in sends the confirmation; any token may, as anyone may post the form; no CORS headers, so browsers cannot call it from other sites). 202 whatever the address's standing was",
        query: None,
        body: Some(schema::<lists::Subscribe>),
        ok: (202, Some(schema::<lists::Subscribed>)),
        conflicts: false,
    },
    get_route(
        "/api/v1/lists",
        Role::Viewer,
        "Lists with their opt-in, form fields, sign-up form URL and members by standing",
        schema::<lists::ListsPage>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/lists",
        role: Role::Admin,
        summary: "Create a list, as `lists create` (409: the name or slug is taken; 422 names a bad field)",
        query: None,
        body: Some(schema::<lists::ListBody>),
        ok: (201, Some(schema::<herald_engine::audience::ListView>)),
        conflicts: true,
    },
    Route {
        method: "PATCH",
        path: "/api/v1/lists/{name}",
        role: Role::Admin,
        summary: "Change a list, as `lists update`: what is given is replaced, name renames",
        query: None,
        body: Some(schema::<lists::ListBody>),
        ok: (200, Some(schema::<herald_engine::audience::ListView>)),
        conflicts: true,
    },
    Route {
        method: "DELETE",
        path: "/api/v1/lists/{name}",
        role: Role::Admin,
        summary: "Delete a list with its memberships and consent records (409 when a campaign used it: it is part of that record)",
        query: None,
        body: None,
        ok: (204, None),
        conflicts: true,
    },
    get_route(
        "/api/v1/contacts/{email}",
        Role::Viewer,
        "A contact and its deliveries across campaigns, with their events",
        schema::<api_types::ContactTimeline>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/contacts/{email}/erase",
        role: Role::Admin,
        summary: "Erase a person at their request (GDPR): contact, fields, lists and consent go, the address leaves every record, campaign counts stay, a keyed hash keeps the address suppressed (404: nothing held; 409: a message to them is being handed over, try again in a minute)",
        query: None,
        body: None,
        ok: (200, Some(schema::<herald_store::Erased>)),
        conflicts: true,
    },
    get_route(
        "/api/v1/contacts/{email}/export",
        Role::Admin,
        "Everything Herald holds on one person (GDPR right of access): contact, consents, deliveries, attempts with evidence, events, inbound messages, suppression",
        schema::<herald_engine::audience::privacy::PersonExport>,
    ),
    Route {
        query: Some(schema::<health::HealthQuery>),
        ..get_route(
            "/api/v1/health",
            Role::Viewer,
            "Deliverability per sending domain and receiving provider (gmail, microsoft, yahoo, apple, other; relay, sandbox) over the last ?days=N UTC days (default 30), against Gmail's and Yahoo's thresholds, with seed placement and domain status, as `herald health --json`",
            schema::<herald_engine::reports::health::HealthReport>,
        )
    },
    get_route(
        "/api/v1/queue",
        Role::Viewer,
        "What waits to be sent, per destination domain: queued, deferred, being sent now, the next attempt, and why in words (a retry, a receiver's slow-down, a warm-up's daily allowance, a paused campaign), as `herald queue --json`",
        schema::<herald_engine::reports::waiting::QueueReport>,
    ),
    Route {
        query: Some(schema::<dmarc::DmarcQuery>),
        ..get_route(
            "/api/v1/dmarc",
            Role::Viewer,
            "DMARC aggregate reports per domain over the last ?days=N days (default 30; ?domain= for one): reporters, each sending server with whether it is Herald's and its DMARC/DKIM/SPF results, a verdict and a recommendation for the policy, as `herald dmarc report --json`",
            schema::<herald_engine::reports::dmarc::DmarcView>,
        )
    },
    get_route(
        "/api/v1/segments",
        Role::Viewer,
        "Saved segments with how many contacts each selects now",
        schema::<segments::SegmentsPage>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/segments",
        role: Role::Admin,
        summary: "Save a segment (422 names the column of a rule that does not parse, or a list that does not exist; 409 when the name is taken)",
        query: None,
        body: Some(schema::<segments::NewSegment>),
        ok: (
            201,
            Some(schema::<herald_engine::audience::segments::SegmentView>),
        ),
        conflicts: true,
    },
    Route {
        method: "POST",
        path: "/api/v1/segments/count",
        role: Role::Viewer,
        summary: "How many contacts a rule selects now, with up to 10 of their addresses (nothing saved)",
        query: None,
        body: Some(schema::<segments::RuleBody>),
        ok: (
            200,
            Some(schema::<herald_engine::audience::segments::RuleCount>),
        ),
        conflicts: false,
    },
    Route {
        method: "PUT",
        path: "/api/v1/campaigns/{id}/audience",
        role: Role::Admin,
        summary: "Narrow a draft to a saved segment and/or keep out another's members (not_sent: excluded); null clears, absent keeps; the count after (409 once its send started)",
        query: None,
        body: Some(schema::<segments::AudienceBody>),
        ok: (
            200,
            Some(schema::<herald_engine::audience::segments::CampaignAudience>),
        ),
        conflicts: true,
    },
    get_route(
        "/api/v1/domains",
        Role::Viewer,
        "Connected domains: records to publish, rotation, last re-verification and changes",
        schema::<api_types::DomainList>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/domains",
        role: Role::Admin,
        summary: "Connect a sending domain (as `domain add`): its DKIM keys made and the records to publish (201); 409 naming its selector when it is connected already",
        query: None,
        body: Some(schema::<domains::NewDomain>),
        ok: (201, Some(schema::<herald_engine::domains::ConnectedDomain>)),
        conflicts: true,
    },
    Route {
        method: "POST",
        path: "/api/v1/domains/{domain}/rotate",
        role: Role::Admin,
        summary: "New DKIM keys for a connected domain (as `domain rotate`): their records to publish beside the current ones; signing switches once they are found (404 when it is not connected)",
        query: None,
        body: None,
        ok: (200, Some(schema::<herald_engine::domains::Rotation>)),
        conflicts: false,
    },
    get_route(
        "/api/v1/seeds",
        Role::Viewer,
        "The seed mailboxes, their last poll and error (as `seeds list --json`; never a password)",
        schema::<api_types::SeedList>,
    ),
    Route {
        method: "DELETE",
        path: "/api/v1/seeds/{address}",
        role: Role::Admin,
        summary: "Stop sending copies to a seed mailbox (its placements stay)",
        query: None,
        body: None,
        ok: (204, None),
        conflicts: false,
    },
    Route {
        method: "POST",
        path: "/api/v1/domains/{domain}/verify",
        role: Role::Admin,
        summary: "Verify a domain's records through DNS now (completes a pending key rotation)",
        query: None,
        body: None,
        ok: (200, Some(schema::<api_types::Verification>)),
        conflicts: true,
    },
    get_route(
        "/api/v1/ips",
        Role::Viewer,
        "Sending IPs with PTR, forward-confirmed rDNS and blocklist listings",
        schema::<api_types::IpsReport>,
    ),
    get_route(
        "/api/v1/webhooks",
        Role::Admin,
        "Outbound webhook endpoints with their pending, delivered and failed events and last post (never their secrets)",
        schema::<webhooks::WebhooksPage>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/webhooks",
        role: Role::Admin,
        summary: "Register an endpoint for events (delivered, bounced, complained, opened…); the answer holds its signing secret, shown this once (422 names a bad URL or event)",
        query: None,
        body: Some(schema::<webhooks::NewWebhook>),
        ok: (201, Some(schema::<herald_engine::webhooks::EndpointView>)),
        conflicts: false,
    },
    get_route(
        "/api/v1/tokens",
        Role::Admin,
        "API tokens (never their secrets), as `herald token list --json`",
        schema::<crate::accounts::TokenList>,
    ),
    Route {
        method: "POST",
        path: "/api/v1/tokens",
        role: Role::Admin,
        summary: "A new API token for a user, shown once (as `herald token create --json`; 422 names an unknown user, a bad name or lifetime)",
        query: None,
        body: Some(schema::<tokens::NewTokenBody>),
        ok: (201, Some(schema::<crate::accounts::NewToken>)),
        conflicts: false,
    },
    Route {
        method: "DELETE",
        path: "/api/v1/tokens/{user}/{name}",
        role: Role::Admin,
        summary: "Revoke a user's tokens with this name: they stop working at once (404 when there are none)",
        query: None,
        body: None,
        ok: (204, None),
        conflicts: false,
    },
    Route {
        method: "DELETE",
        path: "/api/v1/webhooks/{id}",
        role: Role::Admin,
        summary: "Remove an endpoint (its events not yet posted are dropped)",
        query: None,
        body: None,
        ok: (204, None),
        conflicts: false,
    },
    Route {
        query: Some(schema::<webhooks::EventsQuery>),
        ..get_route(
            "/api/v1/webhooks/{id}/events",
            Role::Admin,
            "An endpoint's events, newest first: state, attempts, last answer (?before=evt_N&limit=)",
            schema::<webhooks::EventsPage>,
        )
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/replay",
        role: Role::Admin,
        summary: "Post events again: {\"failed\": true}, {\"since\": RFC 3339} or {\"event\": \"evt_N\"}",
        query: None,
        body: Some(schema::<webhooks::ReplayBody>),
        ok: (200, Some(schema::<webhooks::Replayed>)),
        conflicts: false,
    },
    get_route(
        "/api/v1/openapi.json",
        Role::Viewer,
        "This API as OpenAPI 3.1",
        schema::<serde_json::Map<String, serde_json::Value>>,
    ),
];
