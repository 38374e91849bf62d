//! People join lists by themselves (issue: the audience): the hosted sign-up form of a double
//! opt-in list, the confirmation message delivered by the recipient world's Postfix into
//! Dovecot's Maildir, its link confirming, and the next campaign reaching the confirmed person
//! and not the one who never confirmed. Bad input (a forged link, a bot, a malformed address)
//! changes nothing.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::{hidden, http};

mod confirm;
mod contacts;
mod lists_ui;
mod preferences;

/// Message files (Maildir new/ or cur/, not Dovecot's index files) under `dir` containing `needle`.
fn messages_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let in_maildir = p
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "new" || n == "cur");
            if p.is_dir() {
                stack.push(p);
            } else if in_maildir
                && std::fs::read(&p)
                    .map(|b| String::from_utf8_lossy(&b).contains(needle))
                    .unwrap_or(false)
            {
                out.push(p);
            }
        }
    }
    out
}

fn form_post(port: u16, path: &str, body: &str) -> common::HttpReply {
    http(
        port,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body),
    )
}

/// Fill the hosted form and post it (the installation's `[lists] min_fill` is 0 s: the fill
/// time is tested in timed.rs, by moving the clock).
fn sign_up(port: u16, slug: &str, fields: &str) -> common::HttpReply {
    let page = http(port, "GET", &format!("/s/{slug}"), &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    let t = hidden(&page.body, "t");
    form_post(
        port,
        &format!("/s/{slug}"),
        &format!("t={t}&website=&{fields}"),
    )
}
