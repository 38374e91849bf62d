//! Users, sessions and API tokens: the queries of both backends, written once. `sqlite/users.rs` and `postgres/users.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! users {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{ApiToken, NewSession, NewUser, Result, User};

        /// A user row; a role that is not one is a corrupt record, never a lesser role.
        fn user(r: &$row) -> Result<User> {
            let role: String = r.try_get("role")?;
            Ok(User {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                password_hash: r.try_get("password_hash")?,
                role: herald_domain::Role::parse(&role).ok_or_else(|| {
                    crate::StoreError::Corrupt(format!("users: unknown role {role:?}"))
                })?,
            })
        }

        impl UserStore for $store {
            async fn add_user(&self, u: &NewUser) -> Result<i64> {
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role \
                     RETURNING id",
                )
                .bind(&u.email)
                .bind(&u.password_hash)
                .bind(u.role.as_str())
                .bind(u.created_at_ms)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                w.tx.commit().await?;
                Ok(id)
            }

            async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
                if !crate::shared::matchable(email) {
                    return Ok(None);
                }
                sqlx::query("SELECT id, email, password_hash, role FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| user(&r))
                    .transpose()
            }

            async fn create_session(&self, s: &NewSession) -> Result<()> {
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

            async fn session(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<Option<(User, String)>> {
                sqlx::query(
                    "SELECT u.id, u.email, u.password_hash, u.role, s.csrf FROM sessions s \
                     JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
                )
                .bind(token_hash)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| Ok::<_, crate::StoreError>((user(&r)?, r.try_get("csrf")?)))
                .transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut *w.tx)
                    .await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn create_api_token(
                &self,
                token_hash: &str,
                user: i64,
                name: &str,
                at_ms: i64,
                expires_at_ms: Option<i64>,
            ) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query(
                    "INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token_hash)
                .bind(user)
                .bind(name)
                .bind(at_ms)
                .bind(expires_at_ms)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn user_by_api_token(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<Option<User>> {
                sqlx::query(
                    "SELECT u.id, u.email, u.password_hash, u.role FROM api_tokens t \
                     JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)",
                )
                .bind(token_hash)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| user(&r))
                .transpose()
            }

            async fn api_tokens(
                &self,
                user_email: Option<&str>,
            ) -> Result<Vec<ApiToken>> {
                sqlx::query(
                    "SELECT u.email, t.name, t.created_at, t.expires_at \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE $1 IS NULL OR u.email = $1 ORDER BY u.email, t.created_at",
                )
                .bind(user_email)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(ApiToken {
                        user: r.try_get("email")?,
                        name: r.try_get("name")?,
                        created_at_ms: r.try_get("created_at")?,
                        expires_at_ms: r.try_get("expires_at")?,
                    })
                })
                .collect::<Result<_>>()
            }

            async fn revoke_api_tokens(&self, user: i64, name: &str) -> Result<u64> {
                let mut w = self.write().await?;
                let n = sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND name = $2")
                    .bind(user)
                    .bind(name)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn end_sessions(&self, user: i64) -> Result<u64> {
                let mut w = self.write().await?;
                let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn remove_user(&self, user: i64) -> Result<()> {
                let mut w = self.write().await?;
                for sql in [
                    "DELETE FROM sessions WHERE user_id = $1",
                    "DELETE FROM api_tokens WHERE user_id = $1",
                    "DELETE FROM users WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(user).execute(&mut *w.tx).await?;
                }
                w.tx.commit().await?;
                Ok(())
            }

            async fn users(&self) -> Result<Vec<User>> {
                sqlx::query("SELECT id, email, password_hash, role FROM users ORDER BY email")
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(user)
                    .collect()
            }
        }
    };
}
pub(crate) use users;
