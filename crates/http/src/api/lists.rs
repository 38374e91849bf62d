//! `/api/v1/lists` and `POST /api/v1/contacts` (the audience, design §6b).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use herald_engine::audience::{self, AudienceError, ListView};
use herald_store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paging::{PageQuery, page_of};
use super::{Body, Caller, Params, error, internal};
use crate::Web;

#[derive(Serialize, JsonSchema)]
pub struct ListsPage {
    pub lists: Vec<ListView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match web.store.list_records().await {
        Ok(all) => {
            let (page, next) = page_of(all, q.after.as_deref(), limit, |l| l.list.name.clone());
            Json(ListsPage {
                lists: page
                    .iter()
                    .map(|l| ListView::of(l, &web.public_url))
                    .collect(),
                next,
            })
            .into_response()
        }
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/contacts`.
#[derive(Deserialize, JsonSchema)]
pub struct AddContact {
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub email: String,
    /// The list's name.
    #[schemars(extend("minLength" = 1, "maxLength" = 200))]
    pub list: String,
    /// Fields to set (names: letters, digits and `_`, starting with a letter).
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_]{0,39}$"},
        "additionalProperties" = {"type": "string", "maxLength": 256}
    ))]
    pub fields: BTreeMap<String, String>,
    /// Send the list's confirmation message first (double opt-in) instead of subscribing at once.
    #[serde(default)]
    pub confirm: bool,
}

pub async fn add_contact<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Body(a): Body<AddContact>,
) -> Response {
    let list = match audience::find(&web.store, &a.list).await {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => return internal(e),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("list: {e}")),
    };
    let fields: Vec<(String, String)> = a.fields.into_iter().collect();
    let source = format!("api:{}", user.email);
    match audience::add_contact(
        &web.store,
        &web.erasure,
        &list,
        (&a.email, &fields),
        a.confirm,
        &source,
        web.clock.now_ms(),
    )
    .await
    {
        Ok(added) => (
            if added.before.as_deref() == Some("subscribed") {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            },
            Json(added),
        )
            .into_response(),
        Err(AudienceError::Store(e)) => internal(e),
        Err(e @ (AudienceError::LeftList(..) | AudienceError::Erased(_))) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// `POST /api/v1/public/subscribe`: a site's server signs a visitor up, as the hosted form does.
#[derive(Deserialize, JsonSchema)]
pub struct Subscribe {
    /// The list's slug (its form's address) or its name.
    #[schemars(extend("minLength" = 1, "maxLength" = 200))]
    pub list: String,
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub email: String,
    /// Values of the list's form fields (others are ignored).
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_]{0,39}$"},
        "additionalProperties" = {"type": "string", "maxLength": 256}
    ))]
    pub fields: BTreeMap<String, String>,
    /// The visitor's IP address, kept in the consent record as `[tracking] ip` says.
    #[serde(default)]
    #[schemars(extend("maxLength" = 64))]
    pub ip: Option<String>,
    /// The visitor's browser, kept in the consent record.
    #[serde(default)]
    #[schemars(extend("maxLength" = 512))]
    pub user_agent: Option<String>,
}

/// The same answer whatever the address's standing was (a sign-up never tells).
#[derive(Serialize, JsonSchema)]
pub struct Subscribed {
    /// `double`: a confirmation message goes to the address (if it is not subscribed already);
    /// `single`: it is subscribed (unless it left the list, or was erased).
    pub opt_in: String,
}

pub async fn public_subscribe<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Body(b): Body<Subscribe>,
) -> Response {
    let list = match web.store.list_record(b.list.trim(), true).await {
        Ok(Some(l)) => Ok(l),
        Ok(None) => audience::find(&web.store, &b.list).await,
        Err(e) => return internal(e),
    };
    let list = match list {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => return internal(e),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("list: {e}")),
    };
    // What the document allows, checked (a longer value is refused, not cut).
    if b.user_agent
        .as_ref()
        .is_some_and(|u| u.chars().count() > 512)
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user_agent: at most 512 characters",
        );
    }
    if b.ip.as_ref().is_some_and(|ip| ip.chars().count() > 64) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ip: at most 64 characters",
        );
    }
    for (name, value) in &b.fields {
        let well_formed = name.len() <= 40
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "fields: {name:?} is not a field name (letters, digits and '_', starting with a letter, at most 40)"
                ),
            );
        }
        if value.chars().count() > 256 {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("fields.{name}: at most 256 characters"),
            );
        }
    }
    let ip =
        b.ip.as_deref()
            .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
    let form = audience::SignUpForm {
        email: b.email,
        fields: b.fields.into_iter().collect(),
        source: format!("api:{}", user.email),
        ip: ip.and_then(|ip| web.ip_policy.apply(ip)),
        user_agent: b.user_agent.map(|u| u.chars().take(512).collect()),
        form_text: crate::public::signup::consent_text(&list),
    };
    match audience::sign_up(&web.store, &web.erasure, &list, &form, web.clock.now_ms()).await {
        Ok(_) | Err(AudienceError::Erased(_)) => (
            StatusCode::ACCEPTED,
            Json(Subscribed {
                opt_in: list.list.opt_in.as_str().to_string(),
            }),
        )
            .into_response(),
        Err(AudienceError::Store(e)) => internal(e),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// `POST /api/v1/lists` (create: `name` required) and `PATCH /api/v1/lists/{name}` (change:
/// what is given is replaced; `name` renames), as `lists create|update`.
#[derive(Deserialize, JsonSchema)]
pub struct ListBody {
    #[schemars(extend("minLength" = 1, "maxLength" = 200))]
    pub name: Option<String>,
    /// The public sign-up form's address (`/s/{slug}`); `no_slug: true` removes it.
    #[schemars(extend("pattern" = "^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$"))]
    pub slug: Option<String>,
    #[serde(default)]
    pub no_slug: bool,
    #[schemars(extend("maxLength" = 2000))]
    pub description: Option<String>,
    #[schemars(extend("enum" = ["single", "double"]))]
    pub opt_in: Option<String>,
    /// The fields its sign-up form asks for besides the address.
    pub fields: Option<Vec<String>>,
    /// `Name <address>`: the sender of its confirmation and welcome messages (the From gate applies);
    /// an empty string removes it.
    #[schemars(extend("maxLength" = 400))]
    pub from: Option<String>,
    /// The list's own confirmation message (templates; the HTML, and the text if given, must
    /// carry `{{ confirm_url }}`): each part given replaces the current one.
    #[schemars(extend("minLength" = 1, "maxLength" = 500, "pattern" = "^[^\\r\\n]*$"))]
    pub confirm_subject: Option<String>,
    #[schemars(extend("maxLength" = 262144))]
    pub confirm_html: Option<String>,
    /// An empty string: derive the text part from the HTML.
    #[schemars(extend("maxLength" = 262144))]
    pub confirm_text: Option<String>,
    /// `true`: back to the built-in confirmation message.
    #[serde(default)]
    pub default_confirmation: bool,
    /// The list's welcome message (templates), sent once a person is subscribed by their own
    /// request: a list without one needs `welcome_subject` and `welcome_html` together; after
    /// that each part given replaces the current one. The sender is `from`.
    #[schemars(extend("minLength" = 1, "maxLength" = 500, "pattern" = "^[^\\r\\n]*$"))]
    pub welcome_subject: Option<String>,
    #[schemars(extend("maxLength" = 262144))]
    pub welcome_html: Option<String>,
    /// An empty string: derive the text part from the HTML.
    #[schemars(extend("maxLength" = 262144))]
    pub welcome_text: Option<String>,
    /// `true`: no welcome message any more.
    #[serde(default)]
    pub no_welcome: bool,
}

/// The list's input, after the From gate for its confirmation sender.
async fn list_input<S: Store>(web: &Web<S>, b: ListBody) -> Result<audience::ListInput, Response> {
    let opt_in = match b.opt_in.as_deref().map(str::parse::<herald_domain::OptIn>) {
        None => None,
        Some(Ok(o)) => Some(o),
        Some(Err(e)) => {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("opt_in: {e}"),
            ));
        }
    };
    if let Some(f) = b.from.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        let (_, addr) = herald_engine::campaign::parse_from(f)
            .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, format!("from: {e}")))?;
        web.actions
            .check_from(addr.to_string())
            .await
            .map_err(super::failure)?;
    }
    Ok(audience::ListInput {
        name: b.name,
        slug: b.slug,
        no_slug: b.no_slug,
        description: b.description,
        opt_in,
        fields: b.fields,
        from: b.from,
        confirmation: audience::MessageParts {
            subject: b.confirm_subject,
            html: b.confirm_html,
            text: b.confirm_text,
        },
        default_confirmation: b.default_confirmation,
        welcome: audience::MessageParts {
            subject: b.welcome_subject,
            html: b.welcome_html,
            text: b.welcome_text,
        },
        no_welcome: b.no_welcome,
    })
}

pub async fn create_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Body(b): Body<ListBody>,
) -> Response {
    if b.name.is_none() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name: a new list needs a name",
        );
    }
    let input = match list_input(&web, b).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    match audience::create_list(&web.store, input, web.clock.now_ms()).await {
        Ok(l) => (StatusCode::CREATED, Json(ListView::of(&l, &web.public_url))).into_response(),
        Err(e) => super::members::refused(e),
    }
}

pub async fn update_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
    Body(b): Body<ListBody>,
) -> Response {
    let input = match list_input(&web, b).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    match audience::update_list(&web.store, &name, input).await {
        Ok(l) => Json(ListView::of(&l, &web.public_url)).into_response(),
        Err(e) => super::members::refused(e),
    }
}

pub async fn delete_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
) -> Response {
    match audience::delete_list(&web.store, &name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => super::members::refused(e),
    }
}
