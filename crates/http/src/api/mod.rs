//! `/api/v1`: the same data as the CLI's `--json`, for integrations. Bearer tokens
//! (`herald token create`); every route and the role it needs are in [`ROUTES`], checked by one
//! middleware before any handler runs. One file per resource.

pub(crate) mod campaigns;
pub(crate) mod contacts;
mod dmarc;
mod domains;
mod health;
mod idempotency;
mod lists;
mod openapi;
mod queue;
mod segments;
mod suppressions;
mod tokens;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use herald_engine::api_types;
use herald_store::{Store, User};

use crate::Web;
use crate::auth::{Role, token_hash};

/// The addresses the API takes, as its OpenAPI document describes them: ASCII dot-atom local
/// part and a host name (Herald does not send to SMTPUTF8 addresses or address literals).
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$";

/// The domain names the API takes: LDH labels and a top-level label of letters (or an
/// internationalised one, `xn--…`).
pub const DOMAIN_PATTERN: &str =
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$";

/// A JSON Schema of one type, into the document's components ([`openapi`]).
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

/// The authenticated caller, put into request extensions by the middleware.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

pub fn router<S: Store>(web: Arc<Web<S>>) -> Router {
    Router::new()
        .route(
            "/api/v1/campaigns",
            get(campaigns::list::<S>).post(campaigns::create::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}",
            get(campaigns::show::<S>)
                .patch(campaigns::edit::<S>)
                .delete(campaigns::delete::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/duplicate",
            post(campaigns::duplicate::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/recipients",
            get(campaigns::recipients::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/why/{email}",
            get(campaigns::why::<S>),
        )
        .route("/api/v1/campaigns/{id}/send", post(campaigns::send::<S>))
        .route("/api/v1/campaigns/{id}/test", post(campaigns::test::<S>))
        .route("/api/v1/campaigns/{id}/check", post(campaigns::check::<S>))
        .route(
            "/api/v1/campaigns/{id}/schedule",
            post(campaigns::schedule::<S>).delete(campaigns::unschedule::<S>),
        )
        .route("/api/v1/campaigns/{id}/pause", post(campaigns::pause::<S>))
        .route(
            "/api/v1/campaigns/{id}/resume",
            post(campaigns::resume::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/cancel",
            post(campaigns::cancel::<S>),
        )
        .route(
            "/api/v1/suppressions",
            get(suppressions::list::<S>).post(suppressions::add::<S>),
        )
        .route(
            "/api/v1/suppressions/{email}",
            delete(suppressions::remove::<S>),
        )
        .route(
            "/api/v1/contacts",
            get(contacts::search::<S>).post(lists::add_contact::<S>),
        )
        .route(
            "/api/v1/lists",
            get(lists::list::<S>).post(lists::create_list::<S>),
        )
        .route(
            "/api/v1/lists/{name}",
            axum::routing::patch(lists::update_list::<S>).delete(lists::delete_list::<S>),
        )
        .route(
            "/api/v1/public/subscribe",
            post(lists::public_subscribe::<S>),
        )
        .route("/api/v1/contacts/{email}", get(contacts::show::<S>))
        .route("/api/v1/contacts/{email}/erase", post(contacts::erase::<S>))
        .route(
            "/api/v1/contacts/{email}/export",
            get(contacts::export_person::<S>),
        )
        .route(
            "/api/v1/segments",
            get(segments::list::<S>).post(segments::create::<S>),
        )
        .route("/api/v1/segments/count", post(segments::count::<S>))
        .route(
            "/api/v1/campaigns/{id}/audience",
            axum::routing::put(segments::audience::<S>),
        )
        .route("/api/v1/domains", get(domains::list::<S>))
        .route("/api/v1/health", get(health::get::<S>))
        .route("/api/v1/dmarc", get(dmarc::get::<S>))
        .route("/api/v1/queue", get(queue::get::<S>))
        .route(
            "/api/v1/domains/{domain}/verify",
            post(domains::verify::<S>),
        )
        .route("/api/v1/ips", get(domains::ips::<S>))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list::<S>).post(webhooks::create::<S>),
        )
        .route("/api/v1/webhooks/{id}", delete(webhooks::remove::<S>))
        .route(
            "/api/v1/tokens",
            get(tokens::list::<S>).post(tokens::create::<S>),
        )
        .route("/api/v1/tokens/{user}/{name}", delete(tokens::revoke::<S>))
        .route("/api/v1/webhooks/{id}/events", get(webhooks::events::<S>))
        .route("/api/v1/webhooks/{id}/replay", post(webhooks::replay::<S>))
        .route("/api/v1/openapi.json", get(openapi::document))
        // Inside authentication: keys are the caller's.
        .layer(from_fn_with_state(web.clone(), idempotency::layer::<S>))
        .layer(from_fn_with_state(web.clone(), authenticate::<S>))
        .with_state(web)
}

/// A `?days=N` parameter of a report: 1–366, `default` when absent; else the 422 to answer.
pub fn days(given: Option<u32>, default: u32) -> Result<u32, Box<Response>> {
    let days = given.unwrap_or(default);
    if (1..=366).contains(&days) {
        Ok(days)
    } else {
        Err(Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "days: from 1 to 366".to_string(),
        )))
    }
}

/// An action's [`Failure`](crate::Failure) as a JSON error with its one status.
pub fn failure(f: crate::Failure) -> Response {
    error(f.status(), f.to_string())
}

/// A store failure: logged, answered as its [`Failure`](crate::Failure) kind (a database that
/// did not answer is a 503, a corrupt record a 500), without internals.
pub fn internal(e: herald_store::StoreError) -> Response {
    let f = match e {
        herald_store::StoreError::Corrupt(_) => crate::Failure::Internal,
        _ => crate::Failure::Unavailable,
    };
    tracing::error!(error = %e, "API request failed");
    failure(f)
}

/// A JSON request body; a body that is not JSON, not `application/json` or not the expected
/// shape is answered as every API error is (`{"error": …}`), with axum's status for it
/// (415, 400, 422). Every body is a JSON object: serde would also read a struct from an array
/// of its fields in order (`[null, null]`), which the document does not allow (422).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let v = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(r) => return Err(error(r.status(), r.body_text())),
        };
        if !v.is_object() {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request body must be a JSON object",
            ));
        }
        serde_json::from_value(v).map(Body).map_err(|e| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })
    }
}

/// Query parameters, with the same JSON errors as [`Body`] (400 when they cannot be read).
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for Params<T>
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(r) => Err(error(r.status(), r.body_text())),
        }
    }
}

/// A JSON error body: `{"error": "…"}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(herald_engine::api_types::ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

async fn authenticate<S: Store>(
    State(web): State<Arc<Web<S>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let same_path = || ROUTES.iter().filter(|r| r.path == path);
    let needed = same_path()
        .find(|r| {
            Method::from_bytes(r.method.as_bytes()).ok() == Some(method.clone())
                || (method == Method::HEAD && r.method == "GET")
        })
        .map(|r| r.role);
    let Some(needed) = needed else {
        // A route without an entry in the table is never served; a path served with other
        // methods says which.
        let allowed: Vec<&str> = same_path().map(|r| r.method).collect();
        if allowed.is_empty() {
            return error(StatusCode::NOT_FOUND, "no such route");
        }
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} answers {}", allowed.join(", ")),
        );
        if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
            r.headers_mut().insert(header::ALLOW, v);
        }
        return r;
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128);
    let user = match token {
        Some(t) => match web
            .store
            .user_by_api_token(&token_hash(t), web.clock.now_ms())
            .await
        {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "token lookup failed");
                return error(StatusCode::SERVICE_UNAVAILABLE, "try again");
            }
        },
        None => None,
    };
    let Some(user) = user else {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer …)",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    };
    if user.role < needed {
        return error(StatusCode::FORBIDDEN, "this token's user may not do this");
    }
    req.extensions_mut().insert(Caller(user));
    next.run(req).await
}
