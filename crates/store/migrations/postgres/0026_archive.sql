-- A campaign's public archive page (issue 19): shown at its signed /a/ address once its send
-- started, without personal data, while this is 1.
ALTER TABLE campaigns ADD COLUMN archive BIGINT NOT NULL DEFAULT 0;
