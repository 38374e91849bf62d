//! `impl Store` for both backends: every method delegates to the backend's `*_impl` method of
//! the same name (in the files of the same names), so the trait is mapped once.

macro_rules! store {
    ($store:ident) => {
        impl Store for $store {
            async fn ensure_list(&self, name: &str) -> Result<ListId> {
                self.ensure_list_impl(name).await
            }
            async fn find_list(&self, name: &str) -> Result<Option<ListId>> {
                self.find_list_impl(name).await
            }
            async fn lists(&self) -> Result<Vec<(String, u64)>> {
                Ok(sqlx::query(
                    "SELECT l.name, (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id) FROM lists l ORDER BY l.name",
                )
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u64))
                .collect())
            }
            async fn upsert_contacts(&self, list: ListId, batch: &[NewContact]) -> Result<UpsertCounts> {
                self.upsert_contacts_impl(list, batch).await
            }
            async fn audience_page(
                &self,
                list: ListId,
                after: i64,
                limit: u32,
            ) -> Result<Vec<AudienceMember>> {
                self.audience_page_impl(list, after, limit, None).await
            }
            async fn create_list(&self, l: &NewList, at_ms: i64) -> Result<ListId> {
                self.create_list_impl(l, at_ms).await
            }
            async fn update_list(&self, id: ListId, l: &NewList) -> Result<bool> {
                self.update_list_impl(id, l).await
            }
            async fn list_records(&self) -> Result<Vec<ListRecord>> {
                self.list_records_impl().await
            }
            async fn list_record(&self, key: &str, by_slug: bool) -> Result<Option<ListRecord>> {
                self.list_record_impl(key, by_slug).await
            }
            async fn delete_list(&self, id: ListId) -> Result<bool> {
                self.delete_list_impl(id).await
            }
            async fn sign_up(&self, s: &SignUp) -> Result<SignedUp> {
                self.sign_up_impl(s).await
            }
            async fn queue_confirmation(&self, c: &NewConfirmation) -> Result<Option<DeliveryId>> {
                self.queue_confirmation_impl(c).await
            }
            async fn confirm_member(&self, delivery: DeliveryId, at_ms: i64, ip: Option<&str>) -> Result<Option<Confirmed>> {
                self.confirm_member_impl(delivery, at_ms, ip).await
            }
            async fn purge_pending(&self, before_ms: i64) -> Result<u64> {
                self.purge_pending_impl(before_ms).await
            }
            async fn erase_person(&self, e: &Erasure) -> Result<EraseOutcome> {
                self.erase_person_impl(e).await
            }
            async fn person_record(&self, email_key: &str, needles: &[String]) -> Result<PersonRecord> {
                self.person_record_impl(email_key, needles).await
            }
            async fn audience_page_for(&self, list: ListId, after: i64, limit: u32, filter: &AudienceFilter) -> Result<Vec<AudienceMember>> {
                self.audience_page_impl(list, after, limit, Some(filter)).await
            }
            async fn set_campaign_audience(&self, id: CampaignId, segment: Option<(&str, &str)>, exclude: Option<(&str, &str)>) -> Result<bool> {
                self.set_campaign_audience_impl(id, segment, exclude).await
            }
            async fn delete_contact(&self, email_key: &str) -> Result<bool> {
                self.delete_contact_impl(email_key).await
            }
            async fn claim_key_check(&self, name: &str, check: &str, at_ms: i64) -> Result<String> {
                self.claim_key_check_impl(name, check, at_ms).await
            }
            async fn key_check(&self, name: &str) -> Result<Option<String>> {
                self.key_check_impl(name).await
            }
            async fn create_segment(&self, name: &str, rule: &str, at_ms: i64) -> Result<bool> {
                self.create_segment_impl(name, rule, at_ms).await
            }
            async fn segment_records(&self) -> Result<Vec<SegmentRecord>> {
                self.segment_records_impl().await
            }
            async fn update_segment(&self, name: &str, new_name: &str, rule: &str, at_ms: i64) -> Result<bool> {
                self.update_segment_impl(name, new_name, rule, at_ms).await
            }
            async fn delete_segment(&self, name: &str) -> Result<bool> {
                self.delete_segment_impl(name).await
            }
            async fn segment_count(&self, filter: &AudienceFilter) -> Result<u64> {
                self.segment_count_impl(filter).await
            }
            async fn segment_page(&self, filter: &AudienceFilter, after: i64, limit: u32) -> Result<Vec<(i64, String)>> {
                self.segment_page_impl(filter, after, limit).await
            }
            async fn consents(&self, email_key: &str) -> Result<Vec<ConsentRecord>> {
                self.consents_impl(email_key).await
            }
            async fn preferences(&self, delivery: DeliveryId) -> Result<Option<Preferences>> {
                self.preferences_impl(delivery).await
            }
            async fn set_preferences(&self, delivery: DeliveryId, change: &PreferenceChange) -> Result<bool> {
                self.set_preferences_impl(delivery, change).await
            }
            async fn leave_list(&self, delivery: DeliveryId, at_ms: i64, detail: &str) -> Result<bool> {
                self.leave_list_impl(delivery, at_ms, detail).await
            }
            async fn set_contact_fields(&self, email_key: &str, fields: &str, at_ms: i64) -> Result<bool> {
                self.set_contact_fields_impl(email_key, fields, at_ms).await
            }
            async fn set_member_status(&self, list: ListId, email_key: &str, status: herald_domain::MemberStatus, at_ms: i64) -> Result<bool> {
                self.set_member_status_impl(list, email_key, status, at_ms).await
            }
            async fn export_page(&self, list: Option<ListId>, after_contact: i64, limit: u32) -> Result<Vec<ExportRow>> {
                self.export_page_impl(list, after_contact, limit).await
            }
            async fn create_campaign(&self, c: &NewCampaign) -> Result<CampaignId> {
                self.create_campaign_impl(c).await
            }
            async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
                self.campaign_impl(id).await
            }
            async fn update_draft(&self, id: CampaignId, c: &NewCampaign) -> Result<bool> {
                self.update_draft_impl(id, c).await
            }
            async fn delete_draft(&self, id: CampaignId) -> Result<bool> {
                self.delete_draft_impl(id).await
            }
            async fn set_campaign_status(
                &self,
                id: CampaignId,
                s: CampaignStatus,
                at_ms: i64,
            ) -> Result<()> {
                self.set_campaign_status_impl(id, s, at_ms).await
            }
            async fn schedule_campaign(
                &self,
                id: CampaignId,
                at_ms: i64,
                tz: Option<&str>,
                local_time: Option<&str>,
            ) -> Result<bool> {
                self.schedule_campaign_impl(id, at_ms, tz, local_time).await
            }
            async fn unschedule_campaign(&self, id: CampaignId) -> Result<bool> {
                self.unschedule_campaign_impl(id).await
            }
            async fn take_due_schedules(&self, now_ms: i64, lease_until_ms: i64) -> Result<Vec<CampaignId>> {
                self.take_due_schedules_impl(now_ms, lease_until_ms).await
            }
            async fn schedule_failed(&self, id: CampaignId, error: &str) -> Result<()> {
                self.schedule_failed_impl(id, error).await
            }
            async fn save_check(&self, id: CampaignId, check: &str) -> Result<()> {
                self.save_check_impl(id, check).await
            }
            async fn pause_campaign(&self, id: CampaignId) -> Result<bool> {
                self.pause_campaign_impl(id).await
            }
            async fn resume_campaign(&self, id: CampaignId) -> Result<bool> {
                self.resume_campaign_impl(id).await
            }
            async fn cancel_campaign(&self, id: CampaignId, at_ms: i64) -> Result<Option<u64>> {
                self.cancel_campaign_impl(id, at_ms).await
            }
            async fn settle_cancelled(&self, at_ms: i64) -> Result<u64> {
                self.settle_cancelled_impl(at_ms).await
            }
            async fn halted_campaigns(&self) -> Result<Vec<(CampaignId, CampaignStatus)>> {
                self.halted_campaigns_impl().await
            }
            async fn insert_deliveries(&self, batch: &[NewDelivery]) -> Result<u64> {
                self.insert_deliveries_impl(batch).await
            }
            async fn claim(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
                self.claim_impl(c).await
            }
            async fn renew_leases(
                &self,
                owner: &str,
                ids: &[DeliveryId],
                lease_until_ms: i64,
            ) -> Result<u64> {
                self.renew_leases_impl(owner, ids, lease_until_ms).await
            }
            async fn record_outcomes(&self, batch: &[OutcomeRecord]) -> Result<()> {
                self.record_outcomes_impl(batch).await
            }
            async fn finish_campaigns(&self, at_ms: i64) -> Result<u64> {
                self.finish_campaigns_impl(at_ms).await
            }
            async fn next_due(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
                self.next_due_impl(campaign).await
            }
            async fn counts(&self, campaign: CampaignId) -> Result<StateCounts> {
                self.counts_impl(campaign).await
            }
            async fn waiting(&self, now_ms: i64) -> Result<Vec<WaitingGroup>> {
                self.waiting_impl(now_ms).await
            }
            async fn recipients(
                &self,
                campaign: CampaignId,
                after: i64,
                limit: u32,
            ) -> Result<Vec<RecipientRow>> {
                self.recipients_impl(campaign, after, limit).await
            }
            async fn recipients_filtered(
                &self,
                campaign: CampaignId,
                filter: &RecipientFilter,
                search: Option<&str>,
                after: i64,
                limit: u32,
            ) -> Result<Vec<RecipientRow>> {
                self.recipients_filtered_impl(campaign, filter, search, after, limit)
                    .await
            }
            async fn delivery_ref(&self, id: DeliveryId) -> Result<Option<DeliveryRef>> {
                self.delivery_ref_impl(Some(id), None).await
            }
            async fn delivery_refs(&self, ids: &[DeliveryId]) -> Result<Vec<DeliveryRef>> {
                self.delivery_refs_impl(ids).await
            }
            async fn record_webhook(&self, post: &WebhookPost) -> Result<WebhookIngest> {
                self.record_webhook_impl(post).await
            }
            async fn delivery_by_message_id(&self, message_id: &str) -> Result<Option<DeliveryRef>> {
                self.delivery_ref_impl(None, Some(message_id)).await
            }
            async fn record_inbound(&self, m: &InboundRecord) -> Result<i64> {
                self.record_inbound_impl(m).await
            }
            async fn prune_inbound_raw(&self, before_ms: i64) -> Result<u64> {
                self.prune_inbound_raw_impl(before_ms).await
            }
            async fn suppressions(&self, after_key: &str, limit: u32) -> Result<Vec<Suppression>> {
                self.suppressions_impl(after_key, limit).await
            }
            async fn add_suppression(&self, s: &Suppression) -> Result<bool> {
                self.add_suppression_impl(s).await
            }
            async fn remove_suppression(&self, email_key: &str, source: &str, at_ms: i64) -> Result<bool> {
                self.remove_suppression_impl(email_key, source, at_ms).await
            }
            async fn record_engagement(&self, batch: &[EngagementRecord]) -> Result<u64> {
                self.record_engagement_impl(batch).await
            }
            async fn delivery_detail(
                &self,
                campaign: CampaignId,
                email_key: &str,
            ) -> Result<Option<DeliveryDetail>> {
                self.delivery_detail_impl(campaign, email_key).await
            }
            async fn add_seed(&self, s: &NewSeed) -> Result<i64> {
                self.add_seed_impl(s).await
            }
            async fn seeds(&self) -> Result<Vec<Seed>> {
                self.seeds_impl().await
            }
            async fn remove_seed(&self, address: &str) -> Result<bool> {
                self.remove_seed_impl(address).await
            }
            async fn seed_polled(&self, id: i64, at_ms: i64, error: Option<&str>) -> Result<()> {
                self.seed_polled_impl(id, at_ms, error).await
            }
            async fn pending_placements(&self) -> Result<Vec<PendingPlacement>> {
                self.pending_placements_impl().await
            }
            async fn placements(&self, campaign: CampaignId) -> Result<Vec<SeedPlacement>> {
                self.placements_impl(campaign).await
            }
            async fn add_user(&self, u: &NewUser) -> Result<i64> {
                self.add_user_impl(u).await
            }
            async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
                self.user_by_email_impl(email).await
            }
            async fn create_session(&self, s: &NewSession) -> Result<()> {
                self.create_session_impl(s).await
            }
            async fn session(&self, token_hash: &str, now_ms: i64) -> Result<Option<(User, String)>> {
                self.session_impl(token_hash, now_ms).await
            }
            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                self.delete_session_impl(token_hash).await
            }
            async fn create_api_token(&self, token_hash: &str, user: i64, name: &str, at_ms: i64, expires_at_ms: Option<i64>) -> Result<()> {
                self.create_api_token_impl(token_hash, user, name, at_ms, expires_at_ms).await
            }
            async fn api_tokens(&self, user_email: Option<&str>) -> Result<Vec<ApiToken>> {
                self.api_tokens_impl(user_email).await
            }
            async fn revoke_api_tokens(&self, user: i64, name: &str) -> Result<u64> {
                self.revoke_api_tokens_impl(user, name).await
            }
            async fn end_sessions(&self, user: i64) -> Result<u64> {
                self.end_sessions_impl(user).await
            }
            async fn remove_user(&self, user: i64) -> Result<()> {
                self.remove_user_impl(user).await
            }
            async fn users(&self) -> Result<Vec<User>> {
                self.users_impl().await
            }
            async fn user_by_api_token(&self, token_hash: &str, now_ms: i64) -> Result<Option<User>> {
                self.user_by_api_token_impl(token_hash, now_ms).await
            }
            async fn campaigns(&self, limit: u32) -> Result<Vec<Campaign>> {
                self.campaigns_impl(limit).await
            }
            async fn events(&self, deliveries: &[DeliveryId]) -> Result<Vec<(DeliveryId, EventRow)>> {
                self.events_impl(deliveries).await
            }
            async fn record_domain_check(&self, c: &DomainCheck) -> Result<bool> {
                self.record_domain_check_impl(c).await
            }
            async fn domain_checks(&self) -> Result<Vec<DomainCheck>> {
                self.domain_checks_impl().await
            }
            async fn domain_events(&self, domain: &str, limit: u32) -> Result<Vec<DomainEvent>> {
                self.domain_events_impl(domain, limit).await
            }
            async fn search_contacts(
                &self,
                query: &str,
                after_key: &str,
                limit: u32,
            ) -> Result<Vec<ContactRow>> {
                self.search_contacts_impl(query, after_key, limit).await
            }
            async fn contact(&self, email_key: &str) -> Result<Option<ContactRow>> {
                self.contact_impl(email_key).await
            }
            async fn contact_deliveries(&self, email_key: &str) -> Result<Vec<ContactDelivery>> {
                self.contact_deliveries_impl(email_key).await
            }
            async fn timeline(&self, campaign: CampaignId) -> Result<Vec<TimelinePoint>> {
                self.timeline_impl(campaign).await
            }
            async fn register_node(
                &self,
                n: &crate::NodeRecord,
                stale_before_ms: i64,
            ) -> Result<Option<crate::NodeRecord>> {
                self.register_node_impl(n, stale_before_ms).await
            }
            async fn node_heartbeat(&self, name: &str, owner: &str, at_ms: i64) -> Result<bool> {
                self.node_heartbeat_impl(name, owner, at_ms).await
            }
            async fn nodes(&self) -> Result<Vec<crate::NodeRecord>> {
                self.nodes_impl().await
            }
        }
    };
}
pub(crate) use store;
