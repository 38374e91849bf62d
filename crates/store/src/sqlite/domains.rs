//! Re-verification results of connected domains (drift), and the nodes registry (the queries: `crate::shared::domains`).

use super::SqliteStore;

crate::shared::domains::domains!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[tokio::test]
    async fn only_changes_become_events() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("h.db")).await.unwrap();
        let check = |at: i64, ok: bool, problems: &str| DomainCheck {
            domain: "sender.test".into(),
            checked_at_ms: at,
            ok,
            problems: problems.into(),
            changed_at_ms: 0,
        };
        assert!(s.record_domain_check(&check(1, true, "")).await.unwrap());
        assert!(!s.record_domain_check(&check(2, true, "")).await.unwrap());
        assert!(
            s.record_domain_check(&check(3, false, "dkim missing"))
                .await
                .unwrap()
        );
        assert!(
            !s.record_domain_check(&check(4, false, "dkim missing"))
                .await
                .unwrap()
        );
        let latest = s.domain_checks().await.unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!((latest[0].checked_at_ms, latest[0].changed_at_ms), (4, 3));
        assert!(!latest[0].ok);
        let events = s.domain_events("sender.test", 10).await.unwrap();
        assert_eq!(
            events.iter().map(|e| (e.at_ms, e.ok)).collect::<Vec<_>>(),
            vec![(3, false), (1, true)]
        );
    }
}
