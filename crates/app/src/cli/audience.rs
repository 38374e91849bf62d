//! `herald contacts | segments | lists …`: their subcommands and arguments.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ContactsCmd {
    /// Import a CSV file (header row; `email` required) into a list.
    Import {
        file: PathBuf,
        #[arg(long)]
        list: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a person to a list: subscribed at once, or with --confirm, after they click the
    /// link of a confirmation message.
    Add {
        email: String,
        #[arg(long)]
        list: String,
        /// A field, e.g. --field first_name=Eve (repeatable).
        #[arg(long = "field", value_name = "NAME=VALUE")]
        fields: Vec<String>,
        /// Send a confirmation message (double opt-in) instead of subscribing at once.
        #[arg(long)]
        confirm: bool,
        #[arg(long)]
        json: bool,
    },
    /// A contact: fields, lists and standing, consent records, and every message sent to it.
    Show {
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a contact's fields.
    Edit {
        email: String,
        /// Set a field (repeatable).
        #[arg(long = "field", value_name = "NAME=VALUE")]
        fields: Vec<String>,
        /// Remove a field (repeatable).
        #[arg(long = "unset", value_name = "NAME")]
        unset: Vec<String>,
    },
    /// Take a contact off a list (campaigns to it then say `not_sent: unsubscribed`).
    Remove {
        email: String,
        #[arg(long)]
        list: String,
    },
    /// Every contact (or a list's) with standing, suppression and consent: CSV, or one JSON
    /// array with --json. Streams: memory stays flat at any size.
    Export {
        #[arg(long)]
        list: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a contact: its fields, lists and consent records go; what was sent to it stays in
    /// the campaigns' records, under its address (not an erasure: see `erase`), and it can be
    /// imported again.
    Delete { email: String },
    /// Erase a person at their request (GDPR): their contact, fields, lists and consent go, and
    /// the address leaves every record; campaign counts stay; a keyed hash on the suppression
    /// list keeps the address from being mailed or imported again. Cannot be undone.
    Erase {
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Everything Herald holds on one person, as JSON (GDPR right of access).
    ExportPerson { email: String },
}

#[derive(Debug, Subcommand)]
pub enum SegmentsCmd {
    /// Save a rule under a name, e.g. --rule 'field city = "Berlin" and opened by a person
    /// within 90d and not list "Press"'; prints how many contacts it selects.
    Create {
        name: String,
        #[arg(long)]
        rule: String,
        #[arg(long)]
        json: bool,
    },
    /// Every segment with how many contacts it selects now.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Count what a rule selects now, with a few of the addresses (nothing is saved).
    Count {
        #[arg(long)]
        rule: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a segment's rule or name.
    Update {
        name: String,
        #[arg(long)]
        rule: Option<String>,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a segment (campaigns that used it keep the rule they were given).
    Delete { name: String },
}

/// A list's settings (`lists update`: what is not given stays).
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// The public form's address: /s/SLUG (default on create: made from the name).
    #[arg(long)]
    pub slug: Option<String>,
    /// No public sign-up form.
    #[arg(long, conflicts_with = "slug")]
    pub no_slug: bool,
    /// single: members join at once; double: they confirm by a link in a message first.
    #[arg(long, value_name = "single|double")]
    pub opt_in: Option<String>,
    /// The fields its sign-up form asks for, e.g. first_name,city ("" for none).
    #[arg(long, value_name = "FIELD,…")]
    pub fields: Option<String>,
    /// Sender of its confirmation and welcome messages: "Name <address>" (held to the From gate).
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Its own confirmation message's subject (a template, e.g. "Confirm {{ list.name }}").
    #[arg(long, value_name = "TEMPLATE")]
    pub confirm_subject: Option<String>,
    /// Its own confirmation message's HTML (a template file; it must carry {{ confirm_url }}).
    #[arg(long, value_name = "FILE")]
    pub confirm_html: Option<std::path::PathBuf>,
    /// Its own confirmation message's text part (a template file with {{ confirm_url }};
    /// default: derived from the HTML).
    #[arg(long, value_name = "FILE")]
    pub confirm_text: Option<std::path::PathBuf>,
    /// Back to the built-in confirmation message.
    #[arg(long, conflicts_with_all = ["confirm_subject", "confirm_html", "confirm_text"])]
    pub default_confirmation: bool,
    /// Its welcome message's subject (a template), sent once a person is subscribed by their
    /// own request; a list without a welcome needs --welcome-html too.
    #[arg(long, value_name = "TEMPLATE")]
    pub welcome_subject: Option<String>,
    /// Its welcome message's HTML (a template file).
    #[arg(long, value_name = "FILE")]
    pub welcome_html: Option<std::path::PathBuf>,
    /// Its welcome message's text part (a template file; default: derived from the HTML).
    #[arg(long, value_name = "FILE")]
    pub welcome_text: Option<std::path::PathBuf>,
    /// No welcome message any more.
    #[arg(long, conflicts_with_all = ["welcome_subject", "welcome_html", "welcome_text"])]
    pub no_welcome: bool,
}

#[derive(Debug, Subcommand)]
pub enum ListsCmd {
    /// Create a list.
    Create {
        name: String,
        #[command(flatten)]
        args: ListArgs,
        #[arg(long)]
        json: bool,
    },
    /// Every list with its members by standing (subscribed, pending, unsubscribed).
    List {
        #[arg(long)]
        json: bool,
    },
    /// One list: settings, counts, the sign-up form's URL and an HTML snippet to embed it.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a list's settings.
    Update {
        name: String,
        /// A new name.
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        args: ListArgs,
        #[arg(long)]
        json: bool,
    },
    /// Delete a list no campaign used (its contacts stay).
    Delete { name: String },
}
