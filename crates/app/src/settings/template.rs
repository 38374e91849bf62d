//! The commented settings file `herald init` writes.

/// The config file `init` writes: every setting with its default, commented.
pub const TEMPLATE: &str = r#"# Herald settings. Every key is optional; environment variables override them as
# HERALD__SECTION__KEY (e.g. HERALD__DELIVERY__MX_PORT=2525). Unknown keys are errors.

[database]
# url = "sqlite://herald-data/herald.db"   # default: herald.db in the data directory

[dns]
# nameservers = []            # e.g. ["127.0.0.1:5353"]; empty = system resolver
# timeout = "5s"
# blocklists = []            # DNSBL zones `herald ips` checks, e.g. ["zen.spamhaus.org"]
# uri_blocklists = []        # URI blocklists the pre-send check looks link hosts up in, e.g. ["dbl.spamhaus.org"]

[delivery]
# mx_port = 25
# helo_name = "mail.example.com"
# source_ips = []             # local addresses to send from (the "sending IPs")
# retry_schedule = ["1m", "5m", "15m", "1h", "4h"]   # then every last interval
# expiry = "72h"              # deferred longer than this -> expired
# transport = "mx"            # "relay": everything through the [relay] below
# sandbox = false             # deliver to the built-in capture server instead
# starttls = true
# connect_timeout = "30s"
# command_timeout = "5m"
# data_timeout = "10m"
# lease = "60s"
# max_connections = 200
# max_connections_per_domain = 5
# max_messages_per_connection = 100
# node_name = "mx1"           # this node's name on a shared database (default: helo_name)
# claim_batch = 1000          # deliveries leased per claim (smaller: nodes share more evenly)
# max_in_flight = 5000        # leased and not yet recorded, per node
# warmup = [50, 100, 500, 1000, 5000, 10000, 20000, 50000]   # campaign messages per From
#                             # domain on its 1st, 2nd, … day of sending; [] (default): none

# [[delivery.limit]]           # a receiver's limits per node (its MX group), over the defaults:
# mx = "google.com"           # google.com 10 connections / 100 messages each, outlook.com 5/50,
# connections = 10            # yahoodns.net 5/20, icloud.com 5/50
# messages_per_connection = 100
# rate = "600/min"            # none by default

[relay]                        # used when [delivery] transport = "relay" (or a route via it)
# host = "smtp.example.com"
# port = 587                  # default: 587 (starttls), 465 (tls), 25 (none)
# tls = "starttls"            # "starttls" (required, not opportunistic), "tls", "none" (loopback only)
# username = "herald@example.com"
# password_file = "/etc/herald/relay-password"   # chmod 600; never logged
# verify_certificate = true
# ca_file = "/etc/herald/relay-ca.pem"   # a private CA's certificate(s), PEM
# max_connections = 20
# rate = "14/s"               # messages per second/min/h through the relay (none: no cap)
# request_dsn = true          # ask for success DSNs: relayed -> delivered with the remote reply
# provider = "generic"

# [[relay.route]]              # some mail the other way than transport (first match decides):
# recipient_domains = ["outlook.com"]   # and/or from_domains = ["news.example.com"]
# via = "relay"                # or "mx"

# [hooks.mailgun]              # POST /hooks/mailgun: events of a relay with provider = "mailgun"
# signing_key_file = "/etc/herald/mailgun-signing-key"
# [hooks.postmark]
# username = "herald"
# password_file = "/etc/herald/postmark-hook-password"
# [hooks.sendgrid]
# public_key_file = "/etc/herald/sendgrid-verification-key"
# [hooks.brevo]
# token_file = "/etc/herald/brevo-hook-token"

[webhooks]                     # outbound webhooks (herald webhooks add URL --events …), posted by serve
# timeout = "10s"             # one post: connect, TLS, request, answer
# max_in_flight = 32          # posts at once, per node
# batch = 256                 # events claimed per round
# retry_schedule = ["10s", "1m", "5m", "30m", "1h", "2h", "4h", "8h"]   # then every last interval
# expiry = "72h"              # still failing this long after the event -> failed (replayable)
# retention = "30d"           # posted and failed events kept in each endpoint's log
# ca_file = "/etc/herald/webhook-ca.pem"   # a private CA for your endpoints, PEM

[check]                        # the pre-send check (campaign check, and at create/schedule/send)
# rspamd_url = "http://127.0.0.1:11333"   # rspamd's normal worker: score each campaign's message
# rspamd_timeout = "10s"

[attachments]                  # files sent with every copy (herald campaign attach); off by default:
# enabled = false              # bulk mail with attachments is filtered more often; link to files instead
# max_bytes = 2097152          # every attachment of one campaign together (at most 10485760)

[inbound]
# listen = "0.0.0.0:25"          # return-path / feedback SMTP listener (herald serve)
# enabled = true
# return_path_domain = "bounces.example.com"   # for From domains that are not connected
# soft_bounce_limit = 3          # suppress after N soft bounces in a row (0: never)
# max_message_bytes = 10485760
# max_connections = 100
# max_connections_per_ip = 10    # more from one address get 421 (0: no cap)
# timeout = "60s"                # per command, and the base allowance of a DATA
# min_data_rate = 500            # bytes/s a DATA must average (each byte earns 1/rate s)
# retention = "30d"              # raw inbound messages kept this long (their effects stay)
# tls_cert = "/etc/ssl/herald/fullchain.pem"   # offer STARTTLS (with tls_key)
# tls_key = "/etc/ssl/herald/key.pem"

[http]
# listen = "127.0.0.1:8080"
# public_url = "http://127.0.0.1:8080"   # base of tracking and unsubscribe links
# trust_forwarded_for = false            # behind a reverse proxy
# trusted_proxies = []                   # e.g. ["10.0.0.0/8"]; empty: the peer is the proxy
# max_connections = 1024                 # more get 503 and are closed
# max_connections_per_ip = 64            # 0: no cap (set 0 behind a reverse proxy)
# header_timeout = "10s"                 # request head, and idle keep-alive
# request_timeout = "60s"                # body and answer
# login_concurrency = 0                  # password checks at once; 0: one per CPU
# login_failures_per_ip = 10             # then each failure doubles the wait (429)
# login_failures_per_account = 5
# login_max_backoff = "15m"

[tracking]
# enabled = true                 # open pixel + click redirects (unsubscribe links are always on)
# ip = "anonymized"              # full | anonymized | none
# proxy_networks = ["17.0.0.0/8"]   # image proxies (Apple Mail Privacy Protection)
# min_click_delay = "10s"        # sooner: a scanner
# min_open_delay = "2s"          # sooner: a prefetch
# burst_clicks = 2               # other links clicked within 2 s before: a scanner
# key_grace = "180d"             # old links keep working this long after a key rotation

[placement]
# poll_interval = "30s"          # how often `serve` searches the seed mailboxes
# missing_after = "15m"          # a seed copy not found by then is "missing"
# poll_timeout = "60s"           # per seed mailbox and poll

[sandbox]
# listen = "127.0.0.1:0"      # the capture server of sandbox mode

[domains]
# reverify_every = "1h"       # `serve` re-checks connected domains; a failing one holds its sends

[lists]
# confirm_within = "7d"          # double opt-in links work this long; unconfirmed sign-ups then go
# preferences_within = "90d"     # a preference-centre link works this long after its message
# min_fill = "2s"                # a sign-up form posted sooner after it was served is not taken
# signups_per_ip_per_hour = 20   # per client network (IPv4 address, IPv6 /64); 0: no limit
# unsubscribe = "everything"     # an unsubscribe link leaves everything, or "list": only its list
"#;
