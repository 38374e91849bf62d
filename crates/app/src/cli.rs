//! The command line (names are a contract: see the README).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Email campaigns that tell you where every message went"
)]
pub struct Cli {
    /// Data directory: settings, database, keys.
    #[arg(
        long,
        global = true,
        env = "HERALD_DATA_DIR",
        default_value = "herald-data"
    )]
    pub data_dir: PathBuf,
    /// Settings file (default: <data dir>/herald.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, settings file and database, and (on a new installation) the
    /// admin login, whose password is printed once.
    Init {
        /// The admin's login (an email address).
        #[arg(long, default_value = "admin@herald.local")]
        admin: String,
        #[arg(long)]
        json: bool,
    },
    /// Run the delivery workers until stopped (Ctrl-C).
    Serve {
        /// Deliver every message to the built-in capture server instead of the Internet.
        #[arg(long)]
        sandbox: bool,
    },
    /// Try Herald: sandbox, sample contacts, a sample campaign sent, its report printed.
    Demo {
        #[arg(long)]
        json: bool,
        /// Then serve the web UI over the demo data (prints the URL and a login) until Ctrl-C.
        #[arg(long)]
        ui: bool,
    },
    /// Sending domains: DKIM keys and the DNS records to publish.
    #[command(subcommand)]
    Domain(DomainCmd),
    /// The sending IPs with reverse DNS, forward confirmation and blocklist status.
    Ips {
        #[arg(long)]
        json: bool,
    },
    /// Contacts and lists.
    #[command(subcommand)]
    Contacts(ContactsCmd),
    /// Lists: public sign-up forms, single or double opt-in.
    #[command(subcommand)]
    Lists(ListsCmd),
    /// Segments: saved rules over fields, lists, consent and history (human opens and
    /// clicks), counted now and used to narrow a campaign's audience.
    #[command(subcommand)]
    Segments(SegmentsCmd),
    /// Campaigns.
    #[command(subcommand)]
    Campaign(CampaignCmd),
    /// Why didn't they get it? Timeline, evidence, findings and the report for their IT.
    Why {
        /// Campaign id.
        id: String,
        email: String,
        /// Print only the report for the recipient's IT (plain text; with --html, HTML).
        #[arg(long)]
        it_report: bool,
        #[arg(long, requires = "it_report")]
        html: bool,
        #[arg(long)]
        json: bool,
    },
    /// Bounces, complaints and auto-replies.
    #[command(subcommand)]
    Bounce(BounceCmd),
    /// The suppression list: addresses Herald will not mail.
    #[command(subcommand)]
    Suppressions(SuppressionsCmd),
    /// Tracking and unsubscribe links.
    #[command(subcommand)]
    Tracking(TrackingCmd),
    /// People who use the web UI and the API.
    #[command(subcommand)]
    User(UserCmd),
    /// API tokens (Bearer) for /api/v1.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Seed mailboxes that receive a copy of every campaign.
    #[command(subcommand)]
    Seeds(SeedsCmd),
    /// What waits to be sent, per destination domain, and why.
    Queue {
        #[arg(long)]
        json: bool,
    },
    /// Where each seed copy of a campaign landed (searches the seeds now).
    Placement {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Move an SQLite installation into an empty PostgreSQL database, verified by counts.
    Migrate {
        /// The SQLite database, `sqlite://PATH` (e.g. sqlite://herald-data/herald.db).
        #[arg(long)]
        from: String,
        /// The PostgreSQL database, `postgres://USER@HOST/DB` (it must be empty).
        #[arg(long)]
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// Outbound webhooks: URLs that `herald serve` posts each event to (delivered, bounced,
    /// complained, opened…), signed, retried until they answer 2xx.
    #[command(subcommand)]
    Webhooks(WebhooksCmd),
    /// Benchmarks that print their figures.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCmd {
    /// Register an endpoint; prints its signing secret once.
    Add {
        /// https://… (or http://), without credentials.
        url: String,
        /// Comma-separated: delivered, relayed, deferred, bounced, expired, complained,
        /// unsubscribed, opened, clicked; or all.
        #[arg(long)]
        events: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every endpoint with its pending, delivered and failed events and its last post.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an endpoint (its events not yet posted are dropped).
    Remove { id: i64 },
    /// An endpoint's events, newest first: each post's state, attempts and last answer.
    Log {
        id: i64,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Events before this one (evt_N), for the next page.
        #[arg(long)]
        before: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Post events again: those given up on (--failed), those since a time (--since
    /// 2026-12-04T10:00:00Z), or one (--event evt_N).
    Replay {
        id: i64,
        #[arg(long)]
        failed: bool,
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        event: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user (or reset an existing user's password and role).
    Add {
        email: String,
        /// A file holding the password (first line).
        #[arg(long)]
        password_file: PathBuf,
        /// admin (everything) or viewer (read only).
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Remove a user with its sessions and API tokens (not the last admin).
    Remove { email: String },
    /// Users and their roles.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create an API token for a user; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// The token stops working after this long (e.g. 90d); default: never.
        #[arg(long)]
        expires: Option<String>,
        /// Print `{"token": "…", …}`.
        #[arg(long)]
        json: bool,
    },
    /// API tokens (never their secrets): user, name, created, expiry.
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a user's tokens of this name: they stop working at once.
    Revoke {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeedsCmd {
    /// Add a seed mailbox (or update one with the same address).
    Add {
        /// Who hosts it, e.g. gmail, outlook, yahoo, "acme (Proofpoint)".
        #[arg(long)]
        provider: String,
        /// IMAP server, HOST:PORT.
        #[arg(long)]
        imap: String,
        /// IMAP login.
        #[arg(long)]
        user: String,
        /// A file holding the password (first line); copied to the data directory (0600).
        #[arg(long)]
        password_file: PathBuf,
        /// The seed's email address (default: the login).
        #[arg(long)]
        address: Option<String>,
        /// Implicit TLS (port 993; the default).
        #[arg(long, group = "security")]
        tls: bool,
        #[arg(long, group = "security")]
        starttls: bool,
        /// No encryption (test servers only).
        #[arg(long, group = "security")]
        plain: bool,
    },
    /// The seed mailboxes, with their last poll and error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop sending to a seed (its past placements stay).
    Remove { address: String },
}

#[derive(Debug, Subcommand)]
pub enum TrackingCmd {
    /// Sign new links with a new key; links already sent keep working for [tracking] key_grace.
    RotateKey,
}

#[derive(Debug, Subcommand)]
pub enum BounceCmd {
    /// Classify messages (.eml: DSN, ARF, auto-reply, DMARC report) or SMTP reply texts (.txt)
    /// offline; prints the reason per recipient.
    Classify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Treat every file as one SMTP reply text, whatever its name.
        #[arg(long)]
        reply: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SuppressionsCmd {
    /// Every suppressed address with its reason, source and time.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Suppress an address by hand.
    Add {
        email: String,
        /// Why (default: suppressed).
        #[arg(long, default_value = "suppressed")]
        reason: String,
    },
    /// Remove an address from the list (recorded too).
    Remove { email: String },
}

#[derive(Debug, Subcommand)]
pub enum DomainCmd {
    /// Connect a domain: create its DKIM keys (RSA-2048 and Ed25519) and print the records
    /// to publish. Messages From this domain or its subdomains are signed from then on.
    Add {
        domain: String,
        /// DKIM selector (default: hd<YYYYMMDD>); the Ed25519 key uses <selector>-ed25519.
        #[arg(long)]
        selector: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Look every record up through DNS; exit 0 only if every required one passes. A pending
    /// key rotation whose new records are found takes over here.
    Verify {
        domain: String,
        #[arg(long)]
        json: bool,
    },
    /// Rotate the DKIM keys: new keys under a new selector; signing switches to them once
    /// their records are found in DNS (`domain verify`, or `serve`'s re-verification).
    Rotate {
        domain: String,
        /// The new selector (default: hd<YYYYMMDD>).
        #[arg(long)]
        selector: Option<String>,
        /// Switch signing at once (a leaked key): signatures fail until the records are published.
        #[arg(long)]
        now: bool,
        #[arg(long)]
        json: bool,
    },
    /// Connected domains with their selectors and the last re-verification by `serve`
    /// (drift), including the recorded changes.
    List {
        #[arg(long)]
        json: bool,
    },
}

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
    /// Sender of its confirmation messages: "Name <address>" (held to the From gate).
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
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
    /// Who a draft goes to: its list narrowed by a segment, minus an exclusion segment
    /// (`not_sent: excluded`), counted now. Without flags, only counts.
    Audience {
        id: String,
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
    /// "Name <address@domain>" or "address@domain".
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub subject: String,
    /// Where replies go (Reply-To), "Name <address>" or an address; default the From.
    #[arg(long)]
    pub reply_to: Option<String>,
    /// HTML body template file (minijinja).
    #[arg(long)]
    pub html: PathBuf,
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
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Text body template file.
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// Keep it even though the new From domain is not connected and verified (recorded).
    #[arg(long)]
    pub allow_unverified: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Send N personalised messages to an SMTP sink and print messages/s, latency, peak RSS.
    Send {
        #[arg(long, default_value_t = 20_000)]
        messages: u64,
        /// host:port of a sink (e.g. Postfix's smtp-sink); default: start one in-process.
        #[arg(long)]
        sink: Option<String>,
        /// Approximate size of each message in bytes.
        #[arg(long, default_value_t = 10_240)]
        size: usize,
        /// Parallel SMTP sessions.
        #[arg(long, default_value_t = 10)]
        sessions: usize,
        /// DKIM-sign every message (RSA-2048 + Ed25519), as real sends from a connected domain are.
        #[arg(long)]
        signed: bool,
        /// Also time Postfix's `smtp-source -d -s SESSIONS` on the same sink for comparison.
        #[arg(long)]
        compare_smtp_source: bool,
        /// The database: a temporary SQLite file by default, or `postgres://…` (an existing
        /// database; the bench adds its own list and campaign).
        #[arg(long)]
        database: Option<String>,
        /// Delivery nodes sharing the campaign, each with its own connection pool and leases
        /// (PostgreSQL only for more than one), SESSIONS sessions each.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        #[arg(long)]
        json: bool,
    },
    /// Import a generated CSV of N rows and print rows/s and peak RSS.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        #[arg(long)]
        json: bool,
    },
    /// Time the performance page's reads (counts, each tab's first page, a deep page) on a
    /// generated campaign of N recipients and M events; print p50/p95 per read.
    Report {
        #[arg(long, default_value_t = 1_000_000)]
        recipients: u64,
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Times each read is repeated.
        #[arg(long, default_value_t = 100)]
        rounds: u32,
        #[arg(long)]
        json: bool,
    },
    /// Post N sign-ups to a double opt-in list's hosted form with keep-alive clients; print
    /// sign-ups/s and p50/p99 latency (each queues a confirmation message).
    Signup {
        #[arg(long, default_value_t = 20_000)]
        signups: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        #[arg(long)]
        json: bool,
    },
    /// Count a segment (a field and human opens) over N contacts and snapshot a campaign
    /// narrowed by it (temporary SQLite); print both times and peak RSS.
    Segment {
        #[arg(long, default_value_t = 1_000_000)]
        contacts: u64,
        #[arg(long)]
        json: bool,
    },
    /// Verify and apply one signed provider webhook batch of N events; print events/s.
    Hooks {
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        #[arg(long)]
        json: bool,
    },
    /// Record N delivered outcomes (each enqueues its webhook event), then post them to a
    /// signature-checking receiver on loopback; print events/s.
    Webhooks {
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        /// Posts in flight at once.
        #[arg(long, default_value_t = 32)]
        max_in_flight: usize,
        #[arg(long)]
        json: bool,
    },
    /// Drive the open and click endpoints with keep-alive clients; print requests/s and p99.
    Track {
        #[arg(long, default_value_t = 200_000)]
        requests: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Recipients the tokens are spread over.
        #[arg(long, default_value_t = 10_000)]
        recipients: u64,
        #[arg(long)]
        json: bool,
    },
}
