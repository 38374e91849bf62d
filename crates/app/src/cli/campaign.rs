//! `herald campaign …`: its subcommands and arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum CampaignCmd {
    /// Create a draft campaign; prints its id.
    Create(CreateArgs),
    /// Campaigns, newest first, with their status and headline numbers.
    List {
        /// Only these: draft, scheduled, sending, paused, sent or cancelled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change a draft (until its send starts); what is not given stays as it is.
    Edit(EditArgs),
    /// A new draft with the same content (named "<name> (copy)" unless --name).
    Duplicate {
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// Print `{"id": "…"}`.
        #[arg(long)]
        json: bool,
    },
    /// Delete a draft. A campaign whose send started is kept: its evidence is the record.
    Delete { id: String },
    /// Start a draft at a set time (`herald serve` starts it; one node of several). It stays
    /// editable until then; `send` sends it at once instead.
    Schedule {
        id: String,
        /// When: 2026-12-10T09:00 (read in --tz, default UTC) or 2026-12-10T09:00:00+01:00.
        #[arg(long)]
        at: String,
        /// The time zone of --at, an IANA name (Europe/Warsaw, America/New_York, UTC); with
        /// --local-time, the zone of contacts without a `timezone` or `utc_offset` field.
        #[arg(long)]
        tz: Option<String>,
        /// Send in each recipient's local time: at this time of day (09:00) on the date of
        /// --at, in the zone of the contact's `timezone` (or `utc_offset`) field.
        #[arg(long)]
        local_time: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Call off a scheduled start: the campaign is a draft again.
    Unschedule {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The pre-send check now: the From domain's DKIM, SPF and DMARC, one-click and visible
    /// unsubscribe, List-Id, Gmail's clipping size, images' alt text, the recent complaint
    /// rate. Exit 1 when it finds a problem.
    Check {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// An A/B test of a draft's subject or content: a share of the audience gets each variant
    /// when the send starts; after --wait, the one a person opened (or clicked) most goes to
    /// the rest. Needs `herald serve` running to pick the winner. `--off` removes it.
    Ab(AbArgs),
    /// Publish a campaign on a public archive page (its signed address is printed): its HTML
    /// without any contact's data or links, shown once its send started. `--off` stops it.
    Archive {
        id: String,
        #[arg(long)]
        off: bool,
        #[arg(long)]
        json: bool,
    },
    /// Attach a file to a draft: every copy carries it (replacing one of the same name). Off
    /// unless `[attachments] enabled = true`; every attachment together at most
    /// `[attachments] max_bytes`. Bulk mail with attachments is filtered more often.
    Attach {
        id: String,
        file: PathBuf,
        /// The name the recipient sees (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Its MIME type (default: from the name's extension, else application/octet-stream).
        #[arg(long)]
        content_type: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a draft's attachment by name.
    Detach { id: String, name: String },
    /// Who a draft goes to: its list and other lists (each person once), narrowed by a
    /// segment, minus an exclusion segment and excluded lists (`not_sent: excluded`), counted
    /// now. Without flags, only counts.
    Audience {
        id: String,
        /// Also send to this list (repeat for more); replaces the other lists it had.
        #[arg(
            long = "also-list",
            value_name = "LIST",
            conflicts_with = "no_also_lists"
        )]
        also_lists: Vec<String>,
        /// Only its own list again.
        #[arg(long)]
        no_also_lists: bool,
        /// Keep out this list's subscribed members (repeat for more); replaces the excluded
        /// lists it had.
        #[arg(
            long = "exclude-list",
            value_name = "LIST",
            conflicts_with = "no_exclude_lists"
        )]
        exclude_lists: Vec<String>,
        /// Keep no list out.
        #[arg(long)]
        no_exclude_lists: bool,
        /// Only the list's members this saved segment selects.
        #[arg(long, conflicts_with = "no_segment")]
        segment: Option<String>,
        #[arg(long)]
        no_segment: bool,
        /// Keep out the members this saved segment selects (recorded `not_sent: excluded`).
        #[arg(long, conflicts_with = "no_exclude")]
        exclude: Option<String>,
        #[arg(long)]
        no_exclude: bool,
        #[arg(long)]
        json: bool,
    },
    /// Pause a sending campaign: no new attempts on any node within a second (those in
    /// flight finish and are recorded); `resume` continues with nobody mailed twice.
    Pause {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Continue a paused campaign where it stopped.
    Resume {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// End a sending or paused campaign: everyone not attempted yet becomes
    /// `not_sent: cancelled` (what was sent stays the record).
    Cancel {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a campaign. Without a running server, this command does the sending itself.
    Send {
        id: String,
        /// Send although the pre-send check finds a spam-complaint rate past 0.3 % (otherwise
        /// refused): the reason, recorded on the campaign.
        #[arg(long, value_name = "REASON")]
        despite_complaints: Option<String>,
        /// Return only when every recipient is final (or --wait-timeout passes); print the report.
        #[arg(long)]
        wait: bool,
        /// With --wait: give up waiting after this long (e.g. "10m").
        #[arg(long)]
        wait_timeout: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Counts, and per recipient state, reason and evidence.
    Report {
        id: String,
        #[arg(long)]
        recipients: bool,
        #[arg(long)]
        json: bool,
    },
    /// The "See details" data of a campaign.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send one test copy to an address (personalised as for the list's first contact);
    /// recorded nowhere, counted nowhere. Exit 1 when the server does not accept it.
    Test {
        id: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub list: String,
    /// Also send to this list's subscribed members (repeat for more; each person once).
    #[arg(long = "also-list", value_name = "LIST")]
    pub also_lists: Vec<String>,
    /// Keep out this list's subscribed members, recorded `not_sent: excluded` (repeat for more).
    #[arg(long = "exclude-list", value_name = "LIST")]
    pub exclude_lists: Vec<String>,
    /// "Name <address@domain>" or "address@domain".
    #[arg(long)]
    pub from: String,
    /// The subject template (a saved template's subject when absent).
    #[arg(long, required_unless_present = "template")]
    pub subject: Option<String>,
    /// Start from this saved template: a layout's `{{ content }}` takes --html/--mjml; a
    /// whole message is sent as it is (`herald templates list`).
    #[arg(long)]
    pub template: Option<String>,
    /// Where replies go (Reply-To), "Name <address>" or an address; default the From.
    #[arg(long)]
    pub reply_to: Option<String>,
    /// HTML body template file (minijinja).
    #[arg(long, required_unless_present_any = ["mjml", "template"], conflicts_with = "mjml")]
    pub html: Option<PathBuf>,
    /// The body as an MJML file instead, rendered to responsive HTML now (template tags pass
    /// through); a mistake names its line.
    #[arg(long, value_name = "FILE")]
    pub mjml: Option<PathBuf>,
    /// Text body template file; derived from the HTML when absent.
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// Create it even though the From domain is not connected and verified (tests,
    /// emergencies). Recorded on the campaign and shown in its details.
    #[arg(long)]
    pub allow_unverified: bool,
    /// No open pixel in this campaign's messages.
    #[arg(long)]
    pub no_track_opens: bool,
    /// Links go straight to their destination (no click tracking).
    #[arg(long)]
    pub no_track_clicks: bool,
    /// Do not send copies to the seed mailboxes.
    #[arg(long)]
    pub no_seeds: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub list: Option<String>,
    /// "Name <address@domain>" or "address@domain" (the From gate applies again).
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub subject: Option<String>,
    /// Reply-To ("Name <address>" or an address); an empty value removes it.
    #[arg(long)]
    pub reply_to: Option<String>,
    /// HTML body template file.
    #[arg(long, conflicts_with = "mjml")]
    pub html: Option<PathBuf>,
    /// The body as an MJML file instead (rendered to HTML now).
    #[arg(long, value_name = "FILE")]
    pub mjml: Option<PathBuf>,
    /// Text body template file.
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// Keep it even though the new From domain is not connected and verified (recorded).
    #[arg(long)]
    pub allow_unverified: bool,
}

#[derive(Debug, clap::Args)]
pub struct AbArgs {
    pub id: String,
    /// Variant B's subject (a template, as the campaign's).
    #[arg(long)]
    pub subject: Option<String>,
    /// Variant B's HTML (a file).
    #[arg(long)]
    pub html: Option<std::path::PathBuf>,
    /// Variant B's plain-text part (a file).
    #[arg(long)]
    pub text: Option<std::path::PathBuf>,
    /// Percent of the audience each variant gets in the test (A and B: 20 each, the winner
    /// the other 60).
    #[arg(long, default_value_t = 20)]
    pub share: u32,
    /// What picks the winner: `opens` or `clicks` (by a person; machine opens never count).
    #[arg(long, default_value = "opens")]
    pub metric: String,
    /// How long after the start the winner is picked.
    #[arg(long, default_value = "4h")]
    pub wait: String,
    /// Remove the test.
    #[arg(long, conflicts_with_all = ["subject", "html", "text"])]
    pub off: bool,
    #[arg(long)]
    pub json: bool,
}
