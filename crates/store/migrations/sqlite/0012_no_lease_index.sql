-- Lease renewals name their deliveries by id: nothing reads deliveries by lease owner any more,
-- and the index only cost every claim and outcome an index write.
DROP INDEX IF EXISTS deliveries_lease;
