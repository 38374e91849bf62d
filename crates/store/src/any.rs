//! The store a database URL names: SQLite (the embedded default) or PostgreSQL (several nodes
//! on one database). Everything above this crate holds an `AnyStore` and sees only [`Store`].

use crate::*;

#[derive(Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

impl Store for AnyStore {
    async fn set_contact_fields(&self, email_key: &str, fields: &str, at_ms: i64) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.set_contact_fields(email_key, fields, at_ms).await,
            AnyStore::Postgres(db) => db.set_contact_fields(email_key, fields, at_ms).await,
        }
    }
    async fn set_member_status(
        &self,
        list: ListId,
        email_key: &str,
        status: herald_domain::MemberStatus,
        at_ms: i64,
    ) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.set_member_status(list, email_key, status, at_ms).await,
            AnyStore::Postgres(db) => db.set_member_status(list, email_key, status, at_ms).await,
        }
    }
    async fn export_page(
        &self,
        list: Option<ListId>,
        after_contact: i64,
        limit: u32,
    ) -> Result<Vec<ExportRow>> {
        match self {
            AnyStore::Sqlite(db) => db.export_page(list, after_contact, limit).await,
            AnyStore::Postgres(db) => db.export_page(list, after_contact, limit).await,
        }
    }
    async fn preferences(&self, delivery: DeliveryId) -> Result<Option<Preferences>> {
        match self {
            AnyStore::Sqlite(db) => db.preferences(delivery).await,
            AnyStore::Postgres(db) => db.preferences(delivery).await,
        }
    }
    async fn set_preferences(
        &self,
        delivery: DeliveryId,
        change: &PreferenceChange,
    ) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.set_preferences(delivery, change).await,
            AnyStore::Postgres(db) => db.set_preferences(delivery, change).await,
        }
    }
    async fn leave_list(&self, delivery: DeliveryId, at_ms: i64, detail: &str) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.leave_list(delivery, at_ms, detail).await,
            AnyStore::Postgres(db) => db.leave_list(delivery, at_ms, detail).await,
        }
    }
    async fn create_list(&self, l: &NewList, at_ms: i64) -> Result<ListId> {
        match self {
            AnyStore::Sqlite(db) => db.create_list(l, at_ms).await,
            AnyStore::Postgres(db) => db.create_list(l, at_ms).await,
        }
    }
    async fn update_list(&self, id: ListId, l: &NewList) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.update_list(id, l).await,
            AnyStore::Postgres(db) => db.update_list(id, l).await,
        }
    }
    async fn list_records(&self) -> Result<Vec<ListRecord>> {
        match self {
            AnyStore::Sqlite(db) => db.list_records().await,
            AnyStore::Postgres(db) => db.list_records().await,
        }
    }
    async fn list_record(&self, key: &str, by_slug: bool) -> Result<Option<ListRecord>> {
        match self {
            AnyStore::Sqlite(db) => db.list_record(key, by_slug).await,
            AnyStore::Postgres(db) => db.list_record(key, by_slug).await,
        }
    }
    async fn delete_list(&self, id: ListId) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.delete_list(id).await,
            AnyStore::Postgres(db) => db.delete_list(id).await,
        }
    }
    async fn sign_up(&self, s: &SignUp) -> Result<SignedUp> {
        match self {
            AnyStore::Sqlite(db) => db.sign_up(s).await,
            AnyStore::Postgres(db) => db.sign_up(s).await,
        }
    }
    async fn queue_confirmation(&self, c: &NewConfirmation) -> Result<Option<DeliveryId>> {
        match self {
            AnyStore::Sqlite(db) => db.queue_confirmation(c).await,
            AnyStore::Postgres(db) => db.queue_confirmation(c).await,
        }
    }
    async fn confirm_member(
        &self,
        delivery: DeliveryId,
        at_ms: i64,
        ip: Option<&str>,
    ) -> Result<Option<Confirmed>> {
        match self {
            AnyStore::Sqlite(db) => db.confirm_member(delivery, at_ms, ip).await,
            AnyStore::Postgres(db) => db.confirm_member(delivery, at_ms, ip).await,
        }
    }
    async fn purge_pending(&self, before_ms: i64) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.purge_pending(before_ms).await,
            AnyStore::Postgres(db) => db.purge_pending(before_ms).await,
        }
    }
    async fn erase_person(&self, e: &Erasure) -> Result<EraseOutcome> {
        match self {
            AnyStore::Sqlite(db) => db.erase_person(e).await,
            AnyStore::Postgres(db) => db.erase_person(e).await,
        }
    }
    async fn person_record(&self, email_key: &str, needles: &[String]) -> Result<PersonRecord> {
        match self {
            AnyStore::Sqlite(db) => db.person_record(email_key, needles).await,
            AnyStore::Postgres(db) => db.person_record(email_key, needles).await,
        }
    }
    async fn audience_page_for(
        &self,
        list: ListId,
        after: i64,
        limit: u32,
        filter: &AudienceFilter,
    ) -> Result<Vec<AudienceMember>> {
        match self {
            AnyStore::Sqlite(db) => db.audience_page_for(list, after, limit, filter).await,
            AnyStore::Postgres(db) => db.audience_page_for(list, after, limit, filter).await,
        }
    }
    async fn set_campaign_audience(
        &self,
        id: CampaignId,
        segment: Option<(&str, &str)>,
        exclude: Option<(&str, &str)>,
    ) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.set_campaign_audience(id, segment, exclude).await,
            AnyStore::Postgres(db) => db.set_campaign_audience(id, segment, exclude).await,
        }
    }
    async fn delete_contact(&self, email_key: &str) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.delete_contact(email_key).await,
            AnyStore::Postgres(db) => db.delete_contact(email_key).await,
        }
    }
    async fn claim_key_check(&self, name: &str, check: &str, at_ms: i64) -> Result<String> {
        match self {
            AnyStore::Sqlite(db) => db.claim_key_check(name, check, at_ms).await,
            AnyStore::Postgres(db) => db.claim_key_check(name, check, at_ms).await,
        }
    }
    async fn key_check(&self, name: &str) -> Result<Option<String>> {
        match self {
            AnyStore::Sqlite(db) => db.key_check(name).await,
            AnyStore::Postgres(db) => db.key_check(name).await,
        }
    }
    async fn create_segment(&self, name: &str, rule: &str, at_ms: i64) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.create_segment(name, rule, at_ms).await,
            AnyStore::Postgres(db) => db.create_segment(name, rule, at_ms).await,
        }
    }
    async fn segment_records(&self) -> Result<Vec<SegmentRecord>> {
        match self {
            AnyStore::Sqlite(db) => db.segment_records().await,
            AnyStore::Postgres(db) => db.segment_records().await,
        }
    }
    async fn update_segment(
        &self,
        name: &str,
        new_name: &str,
        rule: &str,
        at_ms: i64,
    ) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.update_segment(name, new_name, rule, at_ms).await,
            AnyStore::Postgres(db) => db.update_segment(name, new_name, rule, at_ms).await,
        }
    }
    async fn delete_segment(&self, name: &str) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.delete_segment(name).await,
            AnyStore::Postgres(db) => db.delete_segment(name).await,
        }
    }
    async fn segment_count(&self, filter: &AudienceFilter) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.segment_count(filter).await,
            AnyStore::Postgres(db) => db.segment_count(filter).await,
        }
    }
    async fn segment_page(
        &self,
        filter: &AudienceFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>> {
        match self {
            AnyStore::Sqlite(db) => db.segment_page(filter, after, limit).await,
            AnyStore::Postgres(db) => db.segment_page(filter, after, limit).await,
        }
    }
    async fn consents(&self, email_key: &str) -> Result<Vec<ConsentRecord>> {
        match self {
            AnyStore::Sqlite(db) => db.consents(email_key).await,
            AnyStore::Postgres(db) => db.consents(email_key).await,
        }
    }
    async fn ensure_list(&self, name: &str) -> Result<ListId> {
        match self {
            AnyStore::Sqlite(db) => db.ensure_list(name).await,
            AnyStore::Postgres(db) => db.ensure_list(name).await,
        }
    }
    async fn find_list(&self, name: &str) -> Result<Option<ListId>> {
        match self {
            AnyStore::Sqlite(db) => db.find_list(name).await,
            AnyStore::Postgres(db) => db.find_list(name).await,
        }
    }
    async fn lists(&self) -> Result<Vec<(String, u64)>> {
        match self {
            AnyStore::Sqlite(db) => db.lists().await,
            AnyStore::Postgres(db) => db.lists().await,
        }
    }
    async fn upsert_contacts(&self, list: ListId, batch: &[NewContact]) -> Result<UpsertCounts> {
        match self {
            AnyStore::Sqlite(db) => db.upsert_contacts(list, batch).await,
            AnyStore::Postgres(db) => db.upsert_contacts(list, batch).await,
        }
    }
    async fn audience_page(
        &self,
        list: ListId,
        after_contact: i64,
        limit: u32,
    ) -> Result<Vec<AudienceMember>> {
        match self {
            AnyStore::Sqlite(db) => db.audience_page(list, after_contact, limit).await,
            AnyStore::Postgres(db) => db.audience_page(list, after_contact, limit).await,
        }
    }
    async fn create_campaign(&self, c: &NewCampaign) -> Result<CampaignId> {
        match self {
            AnyStore::Sqlite(db) => db.create_campaign(c).await,
            AnyStore::Postgres(db) => db.create_campaign(c).await,
        }
    }
    async fn update_draft(&self, id: CampaignId, c: &NewCampaign) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.update_draft(id, c).await,
            AnyStore::Postgres(db) => db.update_draft(id, c).await,
        }
    }
    async fn delete_draft(&self, id: CampaignId) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.delete_draft(id).await,
            AnyStore::Postgres(db) => db.delete_draft(id).await,
        }
    }
    async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        match self {
            AnyStore::Sqlite(db) => db.campaign(id).await,
            AnyStore::Postgres(db) => db.campaign(id).await,
        }
    }
    async fn set_campaign_status(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        at_ms: i64,
    ) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.set_campaign_status(id, status, at_ms).await,
            AnyStore::Postgres(db) => db.set_campaign_status(id, status, at_ms).await,
        }
    }
    async fn schedule_campaign(
        &self,
        id: CampaignId,
        at_ms: i64,
        tz: Option<&str>,
        local_time: Option<&str>,
    ) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.schedule_campaign(id, at_ms, tz, local_time).await,
            AnyStore::Postgres(db) => db.schedule_campaign(id, at_ms, tz, local_time).await,
        }
    }
    async fn unschedule_campaign(&self, id: CampaignId) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.unschedule_campaign(id).await,
            AnyStore::Postgres(db) => db.unschedule_campaign(id).await,
        }
    }
    async fn take_due_schedules(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Vec<CampaignId>> {
        match self {
            AnyStore::Sqlite(db) => db.take_due_schedules(now_ms, lease_until_ms).await,
            AnyStore::Postgres(db) => db.take_due_schedules(now_ms, lease_until_ms).await,
        }
    }
    async fn schedule_failed(&self, id: CampaignId, error: &str) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.schedule_failed(id, error).await,
            AnyStore::Postgres(db) => db.schedule_failed(id, error).await,
        }
    }
    async fn save_check(&self, id: CampaignId, check: &str) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.save_check(id, check).await,
            AnyStore::Postgres(db) => db.save_check(id, check).await,
        }
    }
    async fn pause_campaign(&self, id: CampaignId) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.pause_campaign(id).await,
            AnyStore::Postgres(db) => db.pause_campaign(id).await,
        }
    }
    async fn resume_campaign(&self, id: CampaignId) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.resume_campaign(id).await,
            AnyStore::Postgres(db) => db.resume_campaign(id).await,
        }
    }
    async fn cancel_campaign(&self, id: CampaignId, at_ms: i64) -> Result<Option<u64>> {
        match self {
            AnyStore::Sqlite(db) => db.cancel_campaign(id, at_ms).await,
            AnyStore::Postgres(db) => db.cancel_campaign(id, at_ms).await,
        }
    }
    async fn settle_cancelled(&self, at_ms: i64) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.settle_cancelled(at_ms).await,
            AnyStore::Postgres(db) => db.settle_cancelled(at_ms).await,
        }
    }
    async fn halted_campaigns(&self) -> Result<Vec<(CampaignId, CampaignStatus)>> {
        match self {
            AnyStore::Sqlite(db) => db.halted_campaigns().await,
            AnyStore::Postgres(db) => db.halted_campaigns().await,
        }
    }
    async fn insert_deliveries(&self, batch: &[NewDelivery]) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.insert_deliveries(batch).await,
            AnyStore::Postgres(db) => db.insert_deliveries(batch).await,
        }
    }
    async fn claim(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
        match self {
            AnyStore::Sqlite(db) => db.claim(c).await,
            AnyStore::Postgres(db) => db.claim(c).await,
        }
    }
    async fn renew_leases(
        &self,
        owner: &str,
        ids: &[DeliveryId],
        lease_until_ms: i64,
    ) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.renew_leases(owner, ids, lease_until_ms).await,
            AnyStore::Postgres(db) => db.renew_leases(owner, ids, lease_until_ms).await,
        }
    }
    async fn record_outcomes(&self, batch: &[OutcomeRecord]) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.record_outcomes(batch).await,
            AnyStore::Postgres(db) => db.record_outcomes(batch).await,
        }
    }
    async fn finish_campaigns(&self, at_ms: i64) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.finish_campaigns(at_ms).await,
            AnyStore::Postgres(db) => db.finish_campaigns(at_ms).await,
        }
    }
    async fn next_due(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
        match self {
            AnyStore::Sqlite(db) => db.next_due(campaign).await,
            AnyStore::Postgres(db) => db.next_due(campaign).await,
        }
    }
    async fn counts(&self, campaign: CampaignId) -> Result<StateCounts> {
        match self {
            AnyStore::Sqlite(db) => db.counts(campaign).await,
            AnyStore::Postgres(db) => db.counts(campaign).await,
        }
    }
    async fn waiting(&self, now_ms: i64) -> Result<Vec<WaitingGroup>> {
        match self {
            AnyStore::Sqlite(db) => db.waiting(now_ms).await,
            AnyStore::Postgres(db) => db.waiting(now_ms).await,
        }
    }
    async fn recipients(
        &self,
        campaign: CampaignId,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<RecipientRow>> {
        match self {
            AnyStore::Sqlite(db) => db.recipients(campaign, after_id, limit).await,
            AnyStore::Postgres(db) => db.recipients(campaign, after_id, limit).await,
        }
    }
    async fn recipients_filtered(
        &self,
        campaign: CampaignId,
        filter: &RecipientFilter,
        search: Option<&str>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<RecipientRow>> {
        match self {
            AnyStore::Sqlite(db) => {
                db.recipients_filtered(campaign, filter, search, after_id, limit)
                    .await
            }
            AnyStore::Postgres(db) => {
                db.recipients_filtered(campaign, filter, search, after_id, limit)
                    .await
            }
        }
    }
    async fn delivery_ref(&self, id: DeliveryId) -> Result<Option<DeliveryRef>> {
        match self {
            AnyStore::Sqlite(db) => db.delivery_ref(id).await,
            AnyStore::Postgres(db) => db.delivery_ref(id).await,
        }
    }
    async fn delivery_refs(&self, ids: &[DeliveryId]) -> Result<Vec<DeliveryRef>> {
        match self {
            AnyStore::Sqlite(db) => db.delivery_refs(ids).await,
            AnyStore::Postgres(db) => db.delivery_refs(ids).await,
        }
    }
    async fn record_webhook(&self, post: &WebhookPost) -> Result<WebhookIngest> {
        match self {
            AnyStore::Sqlite(db) => db.record_webhook(post).await,
            AnyStore::Postgres(db) => db.record_webhook(post).await,
        }
    }
    async fn delivery_by_message_id(&self, message_id: &str) -> Result<Option<DeliveryRef>> {
        match self {
            AnyStore::Sqlite(db) => db.delivery_by_message_id(message_id).await,
            AnyStore::Postgres(db) => db.delivery_by_message_id(message_id).await,
        }
    }
    async fn record_inbound(&self, m: &InboundRecord) -> Result<i64> {
        match self {
            AnyStore::Sqlite(db) => db.record_inbound(m).await,
            AnyStore::Postgres(db) => db.record_inbound(m).await,
        }
    }
    async fn prune_inbound_raw(&self, before_ms: i64) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.prune_inbound_raw(before_ms).await,
            AnyStore::Postgres(db) => db.prune_inbound_raw(before_ms).await,
        }
    }
    async fn suppressions(&self, after_key: &str, limit: u32) -> Result<Vec<Suppression>> {
        match self {
            AnyStore::Sqlite(db) => db.suppressions(after_key, limit).await,
            AnyStore::Postgres(db) => db.suppressions(after_key, limit).await,
        }
    }
    async fn add_suppression(&self, s: &Suppression) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.add_suppression(s).await,
            AnyStore::Postgres(db) => db.add_suppression(s).await,
        }
    }
    async fn record_engagement(&self, batch: &[EngagementRecord]) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.record_engagement(batch).await,
            AnyStore::Postgres(db) => db.record_engagement(batch).await,
        }
    }
    async fn delivery_detail(
        &self,
        campaign: CampaignId,
        email_key: &str,
    ) -> Result<Option<DeliveryDetail>> {
        match self {
            AnyStore::Sqlite(db) => db.delivery_detail(campaign, email_key).await,
            AnyStore::Postgres(db) => db.delivery_detail(campaign, email_key).await,
        }
    }
    async fn add_user(&self, u: &NewUser) -> Result<i64> {
        match self {
            AnyStore::Sqlite(db) => db.add_user(u).await,
            AnyStore::Postgres(db) => db.add_user(u).await,
        }
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        match self {
            AnyStore::Sqlite(db) => db.user_by_email(email).await,
            AnyStore::Postgres(db) => db.user_by_email(email).await,
        }
    }
    async fn create_session(&self, s: &NewSession) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.create_session(s).await,
            AnyStore::Postgres(db) => db.create_session(s).await,
        }
    }
    async fn session(&self, token_hash: &str, now_ms: i64) -> Result<Option<(User, String)>> {
        match self {
            AnyStore::Sqlite(db) => db.session(token_hash, now_ms).await,
            AnyStore::Postgres(db) => db.session(token_hash, now_ms).await,
        }
    }
    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.delete_session(token_hash).await,
            AnyStore::Postgres(db) => db.delete_session(token_hash).await,
        }
    }
    async fn create_api_token(
        &self,
        token_hash: &str,
        user: i64,
        name: &str,
        at_ms: i64,
        expires_at_ms: Option<i64>,
    ) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => {
                db.create_api_token(token_hash, user, name, at_ms, expires_at_ms)
                    .await
            }
            AnyStore::Postgres(db) => {
                db.create_api_token(token_hash, user, name, at_ms, expires_at_ms)
                    .await
            }
        }
    }
    async fn api_tokens(&self, user_email: Option<&str>) -> Result<Vec<ApiToken>> {
        match self {
            AnyStore::Sqlite(db) => db.api_tokens(user_email).await,
            AnyStore::Postgres(db) => db.api_tokens(user_email).await,
        }
    }
    async fn revoke_api_tokens(&self, user: i64, name: &str) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.revoke_api_tokens(user, name).await,
            AnyStore::Postgres(db) => db.revoke_api_tokens(user, name).await,
        }
    }
    async fn end_sessions(&self, user: i64) -> Result<u64> {
        match self {
            AnyStore::Sqlite(db) => db.end_sessions(user).await,
            AnyStore::Postgres(db) => db.end_sessions(user).await,
        }
    }
    async fn remove_user(&self, user: i64) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.remove_user(user).await,
            AnyStore::Postgres(db) => db.remove_user(user).await,
        }
    }
    async fn users(&self) -> Result<Vec<User>> {
        match self {
            AnyStore::Sqlite(db) => db.users().await,
            AnyStore::Postgres(db) => db.users().await,
        }
    }
    async fn user_by_api_token(&self, token_hash: &str, now_ms: i64) -> Result<Option<User>> {
        match self {
            AnyStore::Sqlite(db) => db.user_by_api_token(token_hash, now_ms).await,
            AnyStore::Postgres(db) => db.user_by_api_token(token_hash, now_ms).await,
        }
    }
    async fn campaigns(&self, limit: u32) -> Result<Vec<Campaign>> {
        match self {
            AnyStore::Sqlite(db) => db.campaigns(limit).await,
            AnyStore::Postgres(db) => db.campaigns(limit).await,
        }
    }
    async fn add_seed(&self, s: &NewSeed) -> Result<i64> {
        match self {
            AnyStore::Sqlite(db) => db.add_seed(s).await,
            AnyStore::Postgres(db) => db.add_seed(s).await,
        }
    }
    async fn seeds(&self) -> Result<Vec<Seed>> {
        match self {
            AnyStore::Sqlite(db) => db.seeds().await,
            AnyStore::Postgres(db) => db.seeds().await,
        }
    }
    async fn remove_seed(&self, address: &str) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.remove_seed(address).await,
            AnyStore::Postgres(db) => db.remove_seed(address).await,
        }
    }
    async fn seed_polled(&self, id: i64, at_ms: i64, error: Option<&str>) -> Result<()> {
        match self {
            AnyStore::Sqlite(db) => db.seed_polled(id, at_ms, error).await,
            AnyStore::Postgres(db) => db.seed_polled(id, at_ms, error).await,
        }
    }
    async fn pending_placements(&self) -> Result<Vec<PendingPlacement>> {
        match self {
            AnyStore::Sqlite(db) => db.pending_placements().await,
            AnyStore::Postgres(db) => db.pending_placements().await,
        }
    }
    async fn placements(&self, campaign: CampaignId) -> Result<Vec<SeedPlacement>> {
        match self {
            AnyStore::Sqlite(db) => db.placements(campaign).await,
            AnyStore::Postgres(db) => db.placements(campaign).await,
        }
    }
    async fn events(&self, deliveries: &[DeliveryId]) -> Result<Vec<(DeliveryId, EventRow)>> {
        match self {
            AnyStore::Sqlite(db) => db.events(deliveries).await,
            AnyStore::Postgres(db) => db.events(deliveries).await,
        }
    }
    async fn search_contacts(
        &self,
        query: &str,
        after_key: &str,
        limit: u32,
    ) -> Result<Vec<ContactRow>> {
        match self {
            AnyStore::Sqlite(db) => db.search_contacts(query, after_key, limit).await,
            AnyStore::Postgres(db) => db.search_contacts(query, after_key, limit).await,
        }
    }
    async fn contact(&self, email_key: &str) -> Result<Option<ContactRow>> {
        match self {
            AnyStore::Sqlite(db) => db.contact(email_key).await,
            AnyStore::Postgres(db) => db.contact(email_key).await,
        }
    }
    async fn contact_deliveries(&self, email_key: &str) -> Result<Vec<ContactDelivery>> {
        match self {
            AnyStore::Sqlite(db) => db.contact_deliveries(email_key).await,
            AnyStore::Postgres(db) => db.contact_deliveries(email_key).await,
        }
    }
    async fn timeline(&self, campaign: CampaignId) -> Result<Vec<TimelinePoint>> {
        match self {
            AnyStore::Sqlite(db) => db.timeline(campaign).await,
            AnyStore::Postgres(db) => db.timeline(campaign).await,
        }
    }
    async fn record_domain_check(&self, c: &DomainCheck) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.record_domain_check(c).await,
            AnyStore::Postgres(db) => db.record_domain_check(c).await,
        }
    }
    async fn domain_checks(&self) -> Result<Vec<DomainCheck>> {
        match self {
            AnyStore::Sqlite(db) => db.domain_checks().await,
            AnyStore::Postgres(db) => db.domain_checks().await,
        }
    }
    async fn domain_events(&self, domain: &str, limit: u32) -> Result<Vec<DomainEvent>> {
        match self {
            AnyStore::Sqlite(db) => db.domain_events(domain, limit).await,
            AnyStore::Postgres(db) => db.domain_events(domain, limit).await,
        }
    }
    async fn remove_suppression(&self, email_key: &str, source: &str, at_ms: i64) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.remove_suppression(email_key, source, at_ms).await,
            AnyStore::Postgres(db) => db.remove_suppression(email_key, source, at_ms).await,
        }
    }
    async fn register_node(
        &self,
        n: &NodeRecord,
        stale_before_ms: i64,
    ) -> Result<Option<NodeRecord>> {
        match self {
            AnyStore::Sqlite(db) => db.register_node(n, stale_before_ms).await,
            AnyStore::Postgres(db) => db.register_node(n, stale_before_ms).await,
        }
    }
    async fn node_heartbeat(&self, name: &str, owner: &str, at_ms: i64) -> Result<bool> {
        match self {
            AnyStore::Sqlite(db) => db.node_heartbeat(name, owner, at_ms).await,
            AnyStore::Postgres(db) => db.node_heartbeat(name, owner, at_ms).await,
        }
    }
    async fn nodes(&self) -> Result<Vec<NodeRecord>> {
        match self {
            AnyStore::Sqlite(db) => db.nodes().await,
            AnyStore::Postgres(db) => db.nodes().await,
        }
    }
}

/// One backend call, whichever the backend.
macro_rules! either {
    ($self:ident, $db:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($db) => $call,
            AnyStore::Postgres($db) => $call,
        }
    };
}

impl WebhookStore for AnyStore {
    async fn add_endpoint(&self, e: &NewEndpoint) -> Result<i64> {
        either!(self, db => db.add_endpoint(e).await)
    }
    async fn endpoints(&self) -> Result<Vec<Endpoint>> {
        either!(self, db => db.endpoints().await)
    }
    async fn endpoint(&self, id: i64) -> Result<Option<Endpoint>> {
        either!(self, db => db.endpoint(id).await)
    }
    async fn remove_endpoint(&self, id: i64) -> Result<bool> {
        either!(self, db => db.remove_endpoint(id).await)
    }
    async fn claim_webhooks(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxClaim>> {
        either!(self, db => db.claim_webhooks(owner, now_ms, lease_until_ms, limit).await)
    }
    async fn finish_webhooks(&self, owner: &str, results: &[OutboxResult]) -> Result<u64> {
        either!(self, db => db.finish_webhooks(owner, results).await)
    }
    async fn webhook_log(
        &self,
        endpoint: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>> {
        either!(self, db => db.webhook_log(endpoint, before, limit).await)
    }
    async fn replay_webhooks(&self, endpoint: i64, which: Replay, now_ms: i64) -> Result<u64> {
        either!(self, db => db.replay_webhooks(endpoint, which, now_ms).await)
    }
    async fn next_webhook_due(&self) -> Result<Option<i64>> {
        either!(self, db => db.next_webhook_due().await)
    }
    async fn prune_webhooks(&self, before_ms: i64) -> Result<u64> {
        either!(self, db => db.prune_webhooks(before_ms).await)
    }
}
