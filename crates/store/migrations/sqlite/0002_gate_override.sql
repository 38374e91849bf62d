-- Why a campaign was allowed to bypass the From-alignment gate (NULL: it passed the gate).
ALTER TABLE campaigns ADD COLUMN gate_override TEXT;
