-- An erasure finds a person's rows by contact and by delivery without reading whole tables
-- (SQLite's single writer is held meanwhile).
CREATE INDEX deliveries_contact ON deliveries (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX consents_contact ON consents (contact_id);
CREATE INDEX list_members_contact ON list_members (contact_id);
CREATE INDEX inbound_messages_delivery ON inbound_messages (delivery_id) WHERE delivery_id IS NOT NULL;

-- A check value per installation key kept outside the database (`secrets/erasure.key`): a key
-- that does not match what this database was used with (lost, replaced, not copied to a node)
-- is refused instead of silently forgetting every erasure.
CREATE TABLE herald_keys (
    name        TEXT PRIMARY KEY,
    check_value TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
