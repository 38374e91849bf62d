//! `herald bounce classify`: the feedback classifier, offline.

use std::path::Path;

use herald_mail::feedback::{Classified, classify_message, classify_text, split_mbox};
use serde::Serialize;

use crate::bad_input;
use crate::cli::BounceCmd;
use crate::output;

/// Largest file read (the inbound listener's own limit is the same order).
const MAX_FILE: u64 = 64 * 1024 * 1024;

#[derive(Serialize)]
struct FileResult {
    file: String,
    /// The message's place (from 1) when the file is an mbox of several.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<usize>,
    #[serde(flatten)]
    classified: Classified,
}

pub fn run(cmd: BounceCmd) -> anyhow::Result<()> {
    let BounceCmd::Classify { files, reply, json } = cmd;
    let mut results = Vec::with_capacity(files.len());
    for file in &files {
        results.extend(classify_file(file, reply)?);
    }
    if json {
        return output::json(&results);
    }
    for r in &results {
        let c = &r.classified;
        let kind = serde_json::to_value(c.kind)?;
        let kind = kind.as_str().unwrap_or("?");
        let name = match r.message {
            Some(n) => format!("{} #{n}", r.file),
            None => r.file.clone(),
        };
        match &c.feedback_type {
            Some(t) => println!("{name}: {kind} ({t})"),
            None => println!("{name}: {kind}"),
        }
        for v in &c.recipients {
            println!(
                "  {}  {}{}  {} {}",
                v.email.as_deref().unwrap_or("(no address)"),
                v.reason,
                if v.hard { " (hard)" } else { "" },
                v.status.as_deref().unwrap_or("-"),
                v.diagnostic.as_deref().unwrap_or(""),
            );
        }
        if let Some(d) = &c.dmarc {
            println!(
                "  {} about {} (p={}): {} messages, {} pass, {} fail",
                d.org, d.domain, d.policy, d.messages, d.dmarc_pass, d.dmarc_fail
            );
        }
    }
    Ok(())
}

/// One result per message: a file holds one, or several when it is an mbox.
fn classify_file(path: &Path, reply: bool) -> anyhow::Result<Vec<FileResult>> {
    let meta =
        std::fs::metadata(path).map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_FILE {
        return Err(bad_input(format!(
            "{}: {} bytes is larger than the {MAX_FILE}-byte limit",
            path.display(),
            meta.len()
        )));
    }
    let raw = std::fs::read(path).map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    let is_text = reply
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    let file = path.display().to_string();
    if is_text {
        return Ok(vec![FileResult {
            file,
            message: None,
            classified: classify_text(&String::from_utf8_lossy(&raw)),
        }]);
    }
    let mut messages = split_mbox(&raw);
    if messages.is_empty() {
        // An mbox with nothing in it: say so for the file as a whole.
        messages.push(&raw);
    }
    let several = messages.len() > 1;
    Ok(messages
        .iter()
        .enumerate()
        .map(|(i, m)| FileResult {
            file: file.clone(),
            message: several.then_some(i + 1),
            classified: classify_message(m),
        })
        .collect())
}
