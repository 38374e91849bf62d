//! The command line (names are a contract: see the README).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod audience;
mod campaign;

pub use audience::*;
pub use campaign::*;

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
    /// The settings that can change while Herald runs (every node within seconds).
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Saved templates: a subject, an HTML layout (its `{{ content }}` takes a campaign's own
    /// content) and a text part, for `campaign create --template NAME`.
    #[command(subcommand)]
    Templates(TemplatesCmd),
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
    /// Deliverability per sending domain and receiving provider (Gmail, Microsoft, Yahoo,
    /// Apple, others) against Gmail's and Yahoo's thresholds; seed placement; domain status.
    Health {
        /// The last N days (UTC, today included).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
        #[arg(long)]
        json: bool,
    },
    /// DMARC aggregate reports: which servers send as your domains, which are Herald's,
    /// which pass, and what to do about the policy.
    #[command(subcommand)]
    Dmarc(DmarcCmd),
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
pub enum DmarcCmd {
    /// Keep aggregate reports from files: XML, .xml.gz, .zip, or an email (.eml) carrying
    /// one. A report kept already (mailed or imported) is not counted twice.
    Import {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Per domain: the reporters, each sending server (Herald's or not) with its DMARC, DKIM
    /// and SPF results, and a recommendation for the policy.
    Report {
        /// Only this domain (default: every domain with reports, and every connected one).
        #[arg(long)]
        domain: Option<String>,
        /// Reports whose period ended in the last N days.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
        #[arg(long)]
        json: bool,
    },
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
pub enum TemplatesCmd {
    /// Every template by name.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One template with its HTML.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Save a template (replacing one of the same name): its templates must compile.
    Save {
        name: String,
        /// The HTML (a layout with `{{ content }}`, or a whole message).
        #[arg(long, required_unless_present = "mjml", conflicts_with = "mjml")]
        html: Option<PathBuf>,
        /// The HTML as an MJML file, rendered now.
        #[arg(long, value_name = "FILE")]
        mjml: Option<PathBuf>,
        /// A subject campaigns made from it start with.
        #[arg(long)]
        subject: Option<String>,
        /// A text part (derived from the HTML when absent).
        #[arg(long)]
        text: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    Delete {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Each run-time setting: the value in force, herald.toml's, who changed it and when.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change one on every node (`herald settings set lists.signups_per_ip_per_hour 5`).
    Set {
        name: String,
        value: String,
        #[arg(long)]
        json: bool,
    },
    /// Back to herald.toml's value.
    Reset {
        name: String,
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
    /// Add (or with --remove lift) every address of a file: a CSV with an `email` column, or
    /// one address per line; a bad line is named by its number and skipped.
    Import {
        file: std::path::PathBuf,
        /// Why they are suppressed (default: suppressed).
        #[arg(long, default_value = "suppressed", conflicts_with = "remove")]
        reason: String,
        /// Lift them from the list instead.
        #[arg(long)]
        remove: bool,
        #[arg(long)]
        json: bool,
    },
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
        /// Send through the installation's `[relay]` (its host, port, TLS, login and CA, as
        /// `herald serve` would) instead of a sink; SESSIONS connections. Mail really goes to
        /// the relay: give --recipient-domain a domain it accepts and discards.
        #[arg(long, conflicts_with_all = ["sink", "pause_at"])]
        relay: bool,
        /// The bench recipients' domain (user<N>@DOMAIN); default bench.example. Required with
        /// --relay: a domain the relay accepts and discards (real mail goes there).
        #[arg(long)]
        recipient_domain: Option<String>,
        /// Where --compare-smtp-source sends (default: the sink). smtp-source speaks neither
        /// AUTH nor TLS: with --relay, the same MTA's plain port.
        #[arg(long, requires = "compare_smtp_source")]
        smtp_source_to: Option<String>,
        /// The database: a temporary SQLite file by default, or `postgres://…` (an existing
        /// database; the bench adds its own list and campaign).
        #[arg(long)]
        database: Option<String>,
        /// Delivery nodes sharing the campaign, each with its own connection pool and leases
        /// (PostgreSQL only for more than one), SESSIONS sessions each.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Pause the campaign once this many messages were accepted, watch that no new one is
        /// accepted from a second after, resume, and count every recipient's copies at the
        /// sink at the end (lost and doubled). In-process sink only (no --sink).
        #[arg(long)]
        pause_at: Option<u64>,
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
