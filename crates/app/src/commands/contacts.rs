//! `herald contacts import FILE --list NAME`.

use std::time::Duration;

use anyhow::Context;
use herald_engine::contacts::{ImportError, import_csv};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::ContactsCmd;
use crate::startup::App;
use crate::{bad_input, output};

pub async fn run(app: App, cmd: ContactsCmd) -> anyhow::Result<()> {
    match cmd {
        ContactsCmd::Import { file, list, json } => {
            if list.trim().is_empty() {
                return Err(bad_input("--list must not be empty"));
            }
            let f = std::fs::File::open(&file)
                .map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
            let pb =
                ProgressBar::new_spinner().with_message(format!("importing {}", file.display()));
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg}: {pos} rows ({per_sec})")
                    .context("progress style")?,
            );
            pb.enable_steady_tick(Duration::from_millis(200));
            let report =
                import_csv(&app.store, Box::new(f), list.trim(), |n| pb.set_position(n)).await;
            pb.finish_and_clear();
            let report = report.map_err(|e| match e {
                ImportError::NoEmailColumn(_) | ImportError::BadHeader(_) => {
                    bad_input(format!("{}: {e}", file.display()))
                }
                other => anyhow::Error::new(other).context(format!("importing {}", file.display())),
            })?;
            if json {
                return output::json(&report);
            }
            println!(
                "list {:?}: imported {}, updated {}, rejected {}",
                report.list, report.imported, report.updated, report.rejected_count
            );
            for r in &report.rejected {
                println!(
                    "  {}:{}: {:?}: {}",
                    file.display(),
                    r.line,
                    r.value,
                    r.reason
                );
            }
            if report.rejected_count > report.rejected.len() as u64 {
                println!(
                    "  … and {} more",
                    report.rejected_count - report.rejected.len() as u64
                );
            }
            Ok(())
        }
    }
}
