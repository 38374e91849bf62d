//! The same scenario through the `Store` trait on both backends: SQLite in a temporary file
//! and PostgreSQL in a database created for this test and dropped after it (the server at
//! `HERALD_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432`; `scripts/test` starts
//! one). What one backend does, the other must do the same way.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use herald_domain::Evidence;
#[allow(unused_imports)]
pub use herald_domain::{AttemptOutcome, EventKind, SuppressionReason};
use time::OffsetDateTime;

mod audience;
mod campaigns;
mod delivery;
mod dmarc;
mod erasure;
mod health;
mod relay;
mod seeds;
mod vocabulary;
mod webhooks;

/// A fresh PostgreSQL database, dropped when this is dropped.
pub struct PgDb {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDb {
    pub async fn create() -> PgDb {
        use sqlx::Connection;
        let server = std::env::var("HERALD_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let admin = format!("{server}/postgres");
        let name = format!("herald_test_{}", uuid::Uuid::now_v7().simple());
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} ({e}); scripts/test starts one"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .unwrap();
        PgDb {
            url: format!("{server}/{name}"),
            admin,
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop from a thread of its own: this may run inside a runtime that is shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

fn evidence(message_id: &str, code: u16) -> Evidence {
    let now = OffsetDateTime::now_utc();
    Evidence {
        started_at: now,
        ended_at: now,
        mx: Some("mx.example.net".into()),
        mx_preference: Some(10),
        remote_ip: Some("192.0.2.1".into()),
        local_ip: None,
        tls: None,
        reply: Some(herald_domain::Reply {
            code,
            enhanced: None,
            lines: vec!["ok".into()],
        }),
        stage: Some("data".into()),
        error: None,
        remote_queue_id: Some("Q1".into()),
        message_id: message_id.into(),
        bytes: 100,
        route: "mx".into(),
        node: None,
        sent: None,
    }
}

fn now() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A plain campaign `name` to `list`, from ann@sender.example, tracking on.
fn campaign_of(list: herald_store::ListId, name: &str) -> herald_store::NewCampaign {
    herald_store::NewCampaign {
        name: name.into(),
        list,
        from_name: None,
        from_address: "ann@sender.example".into(),
        subject: "S".into(),
        html: "<p>x</p>".into(),
        text: None,
        created_at_ms: now(),
        gate_override: None,
        reply_to: None,
        track_opens: true,
        track_clicks: true,
        send_to_seeds: false,
    }
}
