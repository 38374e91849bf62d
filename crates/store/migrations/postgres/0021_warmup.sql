-- Warm-up (`[delivery] warmup`, issue 17): how many campaign messages each From domain was given
-- per UTC day under its warm-up schedule. Taken in the claim's transaction by every node, so the
-- day's cap holds across nodes; the number of earlier days with sends is the domain's place in
-- the schedule.
CREATE TABLE warmup_usage (
    domain TEXT NOT NULL,
    day    BIGINT NOT NULL,   -- ms / 86400000 (UTC)
    used   BIGINT NOT NULL,
    PRIMARY KEY (domain, day)
);
