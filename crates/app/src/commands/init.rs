//! `herald init`: data directory, settings file, database.

use std::path::Path;

use anyhow::Context;

use crate::settings::TEMPLATE;
use crate::startup::App;

pub async fn run(data_dir: &Path, config: Option<&Path>) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let file = config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("herald.toml"));
    if !file.exists() {
        std::fs::write(&file, TEMPLATE).with_context(|| format!("writing {}", file.display()))?;
        crate::startup::set_private(&file, 0o600)?;
        eprintln!("wrote {}", file.display());
    }
    let app = App::open(data_dir, config).await?;
    eprintln!(
        "database ready: {}",
        herald_store::redact_url(&app.settings.database.url)
    );
    Ok(())
}
