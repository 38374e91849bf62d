//! Users, sessions and API tokens: the queries of both backends, written once. `sqlite/users.rs` and `postgres/users.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! users {
    ($store:ident, $row:ty, $db:ty) => {
        use sqlx::Row;

        use crate::{Campaign, NewSession, NewUser, Result, User};

        fn user(r: &$row) -> User {
            User {
                id: r.get(0),
                email: r.get(1),
                password_hash: r.get(2),
                role: r.get(3),
            }
        }

        impl $store {
            pub(super) async fn add_user_impl(&self, u: &NewUser) -> Result<i64> {
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role \
                     RETURNING id",
                )
                .bind(&u.email)
                .bind(&u.password_hash)
                .bind(&u.role)
                .bind(u.created_at_ms)
                .fetch_one(&mut *w.tx)
                .await?
                .get(0);
                w.tx.commit().await?;
                Ok(id)
            }

            pub(super) async fn user_by_email_impl(&self, email: &str) -> Result<Option<User>> {
                Ok(
                    sqlx::query("SELECT id, email, password_hash, role FROM users WHERE email = $1")
                        .bind(email)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(|r| user(&r)),
                )
            }

            pub(super) async fn create_session_impl(&self, s: &NewSession) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(s.created_at_ms)
                    .execute(&mut *w.tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&s.token_hash)
                .bind(s.user)
                .bind(&s.csrf)
                .bind(s.created_at_ms)
                .bind(s.expires_at_ms)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(())
            }

            pub(super) async fn session_impl(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<Option<(User, String)>> {
                Ok(sqlx::query(
                    "SELECT u.id, u.email, u.password_hash, u.role, s.csrf FROM sessions s \
                     JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
                )
                .bind(token_hash)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| (user(&r), r.get(4))))
            }

            pub(super) async fn delete_session_impl(&self, token_hash: &str) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut *w.tx)
                    .await?;
                w.tx.commit().await?;
                Ok(())
            }

            pub(super) async fn create_api_token_impl(
                &self,
                token_hash: &str,
                user: i64,
                name: &str,
                at_ms: i64,
            ) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query(
                    "INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(user)
                .bind(name)
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(())
            }

            pub(super) async fn user_by_api_token_impl(
                &self,
                token_hash: &str,
                _now_ms: i64,
            ) -> Result<Option<User>> {
                Ok(sqlx::query(
                    "SELECT u.id, u.email, u.password_hash, u.role FROM api_tokens t \
                     JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| user(&r)))
            }

            pub(super) async fn campaigns_impl(&self, limit: u32) -> Result<Vec<Campaign>> {
                let ids: Vec<i64> = sqlx::query("SELECT id FROM campaigns ORDER BY id DESC LIMIT $1")
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| r.get(0))
                    .collect();
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(c) = self.campaign_impl(crate::CampaignId(id)).await? {
                        out.push(c);
                    }
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use users;
