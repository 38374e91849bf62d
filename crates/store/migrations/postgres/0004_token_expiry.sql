-- API tokens may expire (`herald token create --expires 90d`); NULL: never.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
