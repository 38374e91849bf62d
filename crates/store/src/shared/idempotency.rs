//! Idempotency keys of the JSON API: the first answer to a POST, kept to be given again. The
//! queries of both backends, written once; `sqlite/idempotency.rs` and
//! `postgres/idempotency.rs` expand this macro.

macro_rules! idempotency {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{IdempotentClaim, Result};

        /// How long an answer is kept.
        const KEEP_MS: i64 = 24 * 3600 * 1000;
        /// A request unanswered this long was cut off (its node stopped): its key is free again.
        const STALE_MS: i64 = 10 * 60 * 1000;

        impl IdempotencyStore for $store {
            async fn claim_idempotency(
                &self,
                user: &str,
                key: &str,
                request_hash: &str,
                now_ms: i64,
            ) -> Result<IdempotentClaim> {
                let mut w = self.write().await?;
                sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(now_ms - KEEP_MS)
                    .execute(&mut *w.tx)
                    .await?;
                // Twice at most: a row that conflicted may be gone by the time it is read (its
                // request failed on our side and freed it); then the key is free again.
                let mut claim = IdempotentClaim::InProgress;
                for _ in 0..2 {
                    let taken = sqlx::query(
                        "INSERT INTO idempotency_keys (user_email, idem_key, request_hash, created_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (user_email, idem_key) DO NOTHING",
                    )
                    .bind(user)
                    .bind(key)
                    .bind(request_hash)
                    .bind(now_ms)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if taken {
                        claim = IdempotentClaim::New;
                        break;
                    }
                    let Some(r) = sqlx::query(
                        "SELECT request_hash, status, body, created_at FROM idempotency_keys \
                         WHERE user_email = $1 AND idem_key = $2",
                    )
                    .bind(user)
                    .bind(key)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    else {
                        continue;
                    };
                    let hash: String = r.try_get("request_hash")?;
                    let started: i64 = r.try_get("created_at")?;
                    claim = match (hash == request_hash, r.try_get::<Option<i64>, _>("status")?) {
                        (false, _) => IdempotentClaim::OtherRequest,
                        // Never answered and long past: its node stopped mid-request. Run it.
                        (true, None) if started < now_ms - STALE_MS => {
                            sqlx::query(
                                "UPDATE idempotency_keys SET created_at = $3 \
                                 WHERE user_email = $1 AND idem_key = $2 AND status IS NULL",
                            )
                            .bind(user)
                            .bind(key)
                            .bind(now_ms)
                            .execute(&mut *w.tx)
                            .await?;
                            IdempotentClaim::New
                        }
                        (true, None) => IdempotentClaim::InProgress,
                        (true, Some(status)) => IdempotentClaim::Answered {
                            status: status as u16,
                            body: r.try_get::<Option<String>, _>("body")?.unwrap_or_default(),
                        },
                    };
                    break;
                }
                w.tx.commit().await?;
                Ok(claim)
            }

            async fn answer_idempotency(
                &self,
                user: &str,
                key: &str,
                answer: Option<(u16, &str)>,
            ) -> Result<()> {
                let mut w = self.write().await?;
                match answer {
                    Some((status, body)) => sqlx::query(
                        "UPDATE idempotency_keys SET status = $3, body = $4 \
                         WHERE user_email = $1 AND idem_key = $2",
                    )
                    .bind(user)
                    .bind(key)
                    .bind(status as i64)
                    .bind(body),
                    None => sqlx::query(
                        "DELETE FROM idempotency_keys WHERE user_email = $1 AND idem_key = $2",
                    )
                    .bind(user)
                    .bind(key),
                }
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use idempotency;
