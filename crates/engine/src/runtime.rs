//! Settings that are safe to change while Herald runs (the Settings page, `herald settings
//! set`, `PUT /api/v1/settings/{name}`): they decide what happens next — a sign-up's limit,
//! what an unsubscribe leaves, a new sender's daily allowance, when a seed copy counts as
//! missing, which rspamd scores the pre-send check — and nothing already done or listened on.
//! herald.toml gives each its value; an override kept in the store replaces it on every node,
//! which reads the overrides again every few seconds ([`follow`]). Everything else in
//! herald.toml (listeners, the database, keys, relays) needs a restart.

use std::sync::Arc;
use std::time::Duration;

use herald_store::{RuntimeSetting, RuntimeSettingsStore, StoreError};
use schemars::JsonSchema;
use serde::Serialize;
use tokio::sync::watch;

/// One run-time setting: its name (as in herald.toml, `section.key`) and what it does.
pub struct Def {
    pub name: &'static str,
    pub help: &'static str,
}

/// Every setting that can change at run time.
pub const DEFS: &[Def] = &[
    Def {
        name: "lists.signups_per_ip_per_hour",
        help: "Sign-ups one client network (an IPv4 address, an IPv6 /64) may make per hour on the public forms; 0: no limit.",
    },
    Def {
        name: "lists.unsubscribe",
        help: "What an unsubscribe leaves: `everything` (every list; the address is suppressed) or `list` (only the list the message came from).",
    },
    Def {
        name: "delivery.warmup",
        help: "Messages a new From domain may send per UTC day, by its day of sending (e.g. 50, 100, 500, 1000, 5000); empty: no warm-up.",
    },
    Def {
        name: "placement.missing_after",
        help: "A seed copy not found in its seed mailbox by then is `missing` (e.g. 15m; 1m to 30d).",
    },
    Def {
        name: "check.rspamd_url",
        help: "rspamd's normal worker the pre-send check asks for a spam score (http://HOST:PORT); empty: not asked.",
    },
];

/// The values in force of the settings in [`DEFS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeValues {
    pub signups_per_ip_per_hour: u32,
    pub unsubscribe_leaves_list_only: bool,
    pub warmup: Vec<u64>,
    pub missing_after: Duration,
    pub rspamd_url: Option<String>,
}

impl Default for RuntimeValues {
    /// herald.toml's defaults.
    fn default() -> Self {
        Self {
            signups_per_ip_per_hour: 20,
            unsubscribe_leaves_list_only: false,
            warmup: Vec::new(),
            missing_after: Duration::from_secs(900),
            rspamd_url: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error("{0:?} cannot be changed at run time (these can: {names})", names = names())]
    Unknown(String),
    #[error("{name} = {value:?}: {why}")]
    Bad {
        name: String,
        value: String,
        why: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn names() -> String {
    DEFS.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
}

impl RuntimeValues {
    /// Give `name` the value `text` (as typed on the page or the command line).
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), SettingError> {
        let t = text.trim();
        let bad = |why: &str| SettingError::Bad {
            name: name.to_string(),
            value: text.to_string(),
            why: why.to_string(),
        };
        match name {
            "lists.signups_per_ip_per_hour" => {
                self.signups_per_ip_per_hour = t
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 1_000_000)
                    .ok_or_else(|| bad("a whole number from 0 (no limit) to 1000000"))?;
            }
            "lists.unsubscribe" => {
                self.unsubscribe_leaves_list_only = match t {
                    "everything" => false,
                    "list" => true,
                    _ => return Err(bad("`everything` or `list`")),
                };
            }
            "delivery.warmup" => {
                let days: Vec<u64> = if t.is_empty() {
                    Vec::new()
                } else {
                    t.trim_matches(['[', ']'])
                        .split(',')
                        .map(|d| d.trim().replace('_', "").parse::<u64>())
                        .collect::<Result<_, _>>()
                        .map_err(|_| bad("whole numbers separated by commas, e.g. 50, 100, 500"))?
                };
                if days.len() > 366 || days.contains(&0) {
                    return Err(bad("at most 366 days, each above 0"));
                }
                self.warmup = days;
            }
            "placement.missing_after" => {
                let d =
                    humantime::parse_duration(t).map_err(|_| bad("a duration like 15m or 2h"))?;
                if d < Duration::from_secs(60) || d > Duration::from_secs(30 * 86_400) {
                    return Err(bad("from 1m to 30d"));
                }
                self.missing_after = d;
            }
            "check.rspamd_url" => {
                self.rspamd_url = if t.is_empty() {
                    None
                } else if t.starts_with("http://")
                    && t.len() <= 200
                    && !t.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    Some(t.trim_end_matches('/').to_string())
                } else {
                    return Err(bad("http://HOST:PORT (rspamd's normal worker), or empty"));
                };
            }
            _ => return Err(SettingError::Unknown(name.to_string())),
        }
        Ok(())
    }

    /// `name`'s value as [`RuntimeValues::set`] takes it.
    pub fn show(&self, name: &str) -> Option<String> {
        Some(match name {
            "lists.signups_per_ip_per_hour" => self.signups_per_ip_per_hour.to_string(),
            "lists.unsubscribe" => if self.unsubscribe_leaves_list_only {
                "list"
            } else {
                "everything"
            }
            .to_string(),
            "delivery.warmup" => self
                .warmup
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            "placement.missing_after" => humantime::format_duration(self.missing_after).to_string(),
            "check.rspamd_url" => self.rspamd_url.clone().unwrap_or_default(),
            _ => return None,
        })
    }

    /// These values with the store's overrides applied. An override that no longer reads (a
    /// setting renamed by an upgrade, a rule tightened) is skipped and logged by its name (never
    /// its value: a URL may hold a password): the file's value stays in force.
    pub fn with_overrides(&self, rows: &[RuntimeSetting]) -> RuntimeValues {
        let (v, refused) = self.apply(rows);
        for name in refused {
            tracing::warn!(setting = %name, "a run-time setting no longer reads; herald.toml's value is in force");
        }
        v
    }

    /// [`with_overrides`](Self::with_overrides) without logging: the values and the names of
    /// the overrides skipped.
    fn apply(&self, rows: &[RuntimeSetting]) -> (RuntimeValues, Vec<String>) {
        let mut v = self.clone();
        let mut refused = Vec::new();
        for r in rows {
            if v.set(&r.name, &r.value).is_err() {
                refused.push(r.name.clone());
            }
        }
        (v, refused)
    }
}

/// A setting as the Settings page, `settings list --json` and `GET /api/v1/settings` show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SettingView {
    pub name: String,
    pub help: String,
    /// In force now.
    pub value: String,
    /// herald.toml's value (what a reset goes back to).
    pub file_value: String,
    /// Who changed it at run time (null: the file's value is in force).
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
}

/// `GET /api/v1/settings`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SettingsList {
    pub settings: Vec<SettingView>,
}

/// Every run-time setting: the file's value (`base`) and the override in force, if any.
pub async fn list<S: RuntimeSettingsStore>(
    store: &S,
    base: &RuntimeValues,
) -> Result<SettingsList, SettingError> {
    let rows = store.runtime_settings().await?;
    let now = base.with_overrides(&rows);
    Ok(SettingsList {
        settings: DEFS
            .iter()
            .map(|d| {
                let row = rows.iter().find(|r| r.name == d.name);
                SettingView {
                    name: d.name.to_string(),
                    help: d.help.to_string(),
                    value: now.show(d.name).unwrap_or_default(),
                    file_value: base.show(d.name).unwrap_or_default(),
                    changed_by: row.map(|r| r.changed_by.clone()),
                    changed_at: row.map(|r| crate::reports::ms_to_rfc3339(r.changed_at_ms)),
                }
            })
            .collect(),
    })
}

/// Change `name` to `value` on every node (checked first: a bad value changes nothing); the
/// setting as it is now.
pub async fn set<S: RuntimeSettingsStore>(
    store: &S,
    base: &RuntimeValues,
    name: &str,
    value: &str,
    by: &str,
    now_ms: i64,
) -> Result<SettingView, SettingError> {
    let mut check = base.clone();
    check.set(name, value)?;
    store
        .set_runtime_setting(&RuntimeSetting {
            name: name.to_string(),
            // Kept as it reads back, so the page shows what is in force.
            value: check.show(name).unwrap_or_default(),
            changed_by: by.to_string(),
            changed_at_ms: now_ms,
        })
        .await?;
    one(store, base, name).await
}

/// Back to herald.toml's value; the setting as it is now.
pub async fn reset<S: RuntimeSettingsStore>(
    store: &S,
    base: &RuntimeValues,
    name: &str,
) -> Result<SettingView, SettingError> {
    if !DEFS.iter().any(|d| d.name == name) {
        return Err(SettingError::Unknown(name.to_string()));
    }
    store.reset_runtime_setting(name).await?;
    one(store, base, name).await
}

async fn one<S: RuntimeSettingsStore>(
    store: &S,
    base: &RuntimeValues,
    name: &str,
) -> Result<SettingView, SettingError> {
    list(store, base)
        .await?
        .settings
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| SettingError::Unknown(name.to_string()))
}

/// The values in force, as the parts of a running node read them (cheap: a shared pointer).
#[derive(Clone)]
pub struct Live(watch::Receiver<Arc<RuntimeValues>>);

impl Live {
    /// Values that never change (a test, a one-off command).
    pub fn fixed(v: RuntimeValues) -> Live {
        Live(watch::channel(Arc::new(v)).1)
    }

    pub fn get(&self) -> Arc<RuntimeValues> {
        self.0.borrow().clone()
    }
}

impl From<watch::Receiver<Arc<RuntimeValues>>> for Live {
    fn from(rx: watch::Receiver<Arc<RuntimeValues>>) -> Self {
        Live(rx)
    }
}

/// Read the store's overrides over `base` now and then every `every`, publishing each change
/// to the returned [`Live`] (and its clones), until every clone is dropped. A store
/// that does not answer keeps the last values (logged).
pub fn follow<S: RuntimeSettingsStore + Clone + 'static>(
    store: S,
    base: RuntimeValues,
    first: Vec<RuntimeSetting>,
    every: Duration,
) -> (Live, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(Arc::new(base.with_overrides(&first)));
    let task = tokio::spawn(async move {
        // Logged when it changes, not at every look.
        let mut refused_before = base.apply(&first).1;
        loop {
            tokio::time::sleep(every).await;
            if tx.is_closed() {
                return;
            }
            match store.runtime_settings().await {
                Ok(rows) => {
                    let (now, refused) = base.apply(&rows);
                    if refused != refused_before {
                        for name in &refused {
                            tracing::warn!(setting = %name, "a run-time setting no longer reads; herald.toml's value is in force");
                        }
                        refused_before = refused;
                    }
                    tx.send_if_modified(|v| {
                        if **v == now {
                            false
                        } else {
                            tracing::info!("run-time settings changed");
                            *v = Arc::new(now);
                            true
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "reading the run-time settings failed"),
            }
        }
    });
    (Live(rx), task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_reads_back_what_it_shows() {
        let mut v = RuntimeValues::default();
        for (name, text) in [
            ("lists.signups_per_ip_per_hour", "5"),
            ("lists.unsubscribe", "list"),
            ("delivery.warmup", "[50, 1_000, 5000]"),
            ("placement.missing_after", "2h"),
            ("check.rspamd_url", "http://127.0.0.1:11333/"),
        ] {
            v.set(name, text).unwrap();
            let shown = v.show(name).unwrap();
            let mut again = RuntimeValues::default();
            again.set(name, &shown).unwrap();
            assert_eq!(again.show(name), Some(shown), "{name}");
        }
        assert_eq!(v.warmup, [50, 1000, 5000]);
        assert_eq!(v.show("delivery.warmup").unwrap(), "50, 1000, 5000");
        assert_eq!(v.rspamd_url.as_deref(), Some("http://127.0.0.1:11333"));
        assert!(v.unsubscribe_leaves_list_only);
    }

    #[test]
    fn bad_values_name_the_setting_and_change_nothing() {
        let mut v = RuntimeValues::default();
        for (name, text) in [
            ("lists.signups_per_ip_per_hour", "-1"),
            ("lists.unsubscribe", "some"),
            ("delivery.warmup", "50, 0"),
            ("delivery.warmup", "fifty"),
            ("placement.missing_after", "10s"),
            ("check.rspamd_url", "ftp://x"),
        ] {
            let e = v.set(name, text).unwrap_err().to_string();
            assert!(e.starts_with(name), "{e}");
        }
        assert_eq!(v, RuntimeValues::default());
        let e = v.set("http.listen", "0.0.0.0:80").unwrap_err().to_string();
        assert!(e.contains("cannot be changed at run time"), "{e}");
    }

    #[test]
    fn an_override_that_no_longer_reads_leaves_the_file_value() {
        let base = RuntimeValues::default();
        let row = |name: &str, value: &str| RuntimeSetting {
            name: name.into(),
            value: value.into(),
            changed_by: "t".into(),
            changed_at_ms: 0,
        };
        let v = base.with_overrides(&[
            row("lists.signups_per_ip_per_hour", "many"),
            row("gone.setting", "1"),
            row("delivery.warmup", "10, 20"),
        ]);
        assert_eq!(v.signups_per_ip_per_hour, 20);
        assert_eq!(v.warmup, [10, 20]);
    }
}
