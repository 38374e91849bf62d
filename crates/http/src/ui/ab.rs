//! A draft's A/B test on its page (admins): `POST /campaigns/{id}/ab` sets variant B (its
//! subject, and HTML if given), the share per variant, the metric and the wait, as `campaign
//! ab`; `POST /campaigns/{id}/ab/remove` takes the test away.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use herald_engine::campaign::ab::{AbTest, AbVariant};
use herald_store::Store;
use serde::Deserialize;

use super::Session;
use super::campaign::{back, posted};
use crate::Web;

#[derive(Deserialize)]
pub struct AbForm {
    csrf: Option<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    html: String,
    share: Option<u32>,
    #[serde(default)]
    metric: String,
    #[serde(default)]
    wait: String,
}

pub async fn set<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<AbForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let given = |v: String| Some(v).filter(|v| !v.trim().is_empty());
    let variant = AbVariant {
        subject: given(f.subject),
        html: given(f.html),
        text: None,
    };
    let test = match AbTest::from_parts(vec![variant], f.share, Some(&f.metric), Some(&f.wait)) {
        Ok(t) => t,
        Err(e) => return back(&s, cid, Err(e)),
    };
    let done = web.actions.set_ab(cid, Some(test)).await.map(|r| match r {
        Some(r) => format!(
            "A/B test set: {} % of the audience gets A and {} % B when the send starts; {} later the one {} most by a person goes to the rest.",
            r.share_pct,
            r.share_pct,
            r.wait,
            if r.metric == "clicks" { "clicked" } else { "opened" }
        ),
        None => "No A/B test.".into(),
    });
    back(&s, cid, done)
}

pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<super::CsrfForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done =
        web.actions.set_ab(cid, None).await.map(|_| {
            "The A/B test was taken away: everyone gets the campaign as written.".to_string()
        });
    back(&s, cid, done)
}
