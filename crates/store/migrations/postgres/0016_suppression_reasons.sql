-- Suppression reasons are a closed vocabulary now. Operators could once give any not-sent reason
-- (`graymail`, `duplicate`, …), which every send already treated as `suppressed`: that is what
-- they are stored as from now on (the log keeps the reason given).
UPDATE suppressions SET reason = 'suppressed'
WHERE reason NOT IN ('unsubscribed', 'previously_bounced', 'complained', 'suppressed', 'erased');
