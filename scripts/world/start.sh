#!/usr/bin/env bash
# Start the recipient world on loopback: dnsmasq (DNS for *.test), Postfix (the MX), Dovecot
# (LMTP + IMAP, Maildir). Everything lives under $HERALD_WORLD (default /tmp/herald-world);
# ports and paths are written to $HERALD_WORLD/env for tests to read.
#
# Domains (all MX → 127.0.0.1 on $MX_PORT unless said):
#   inbox.test    known users (alice, bob, carol, dave) delivered to Maildir; others 550 5.1.1
#   defer.test    every recipient 451 4.7.1 (deferral)
#   discard.test  accepts everything, then silently discards it (the quarantine case)
#   backup.test   primary MX on 127.0.0.2 (nothing listens), backup MX works
#   amx.test      no MX, only an A record (implicit MX)
#   nullmx.test   RFC 7505 null MX
#   nomx.test     does not exist (NXDOMAIN)
#   later.test    accepts every recipient at SMTP; the local delivery agent then exits EX_NOUSER
#                 (a pipe transport): Postfix sends a real DSN, a bounce after "delivered"
#   broken.test   likewise, but the delivery program fails (exit status 1): a mailer error
#   junk.test     a mailbox provider with a spam filter (Sieve): mail without a DKIM signature is
#                 filed into Junk (any user; IMAP login seed@junk.test)
#   slow.test     accepts everything, then cannot pass it on (next hop 127.0.0.2:9 refuses):
#                 Postfix retries until its queue lifetime (15 s here) and returns an expiry DSN
#   full@inbox.test  a mailbox over its Dovecot quota: LMTP answers 552 5.2.2 after DATA
# Next hops that refuse what the relay (submission) accepted, each with Postfix's own words, so
# the relay returns real DSNs (scripts/world/dsns.sh collects them for the classifier's check
# set): toobig.test (8 KB message_size_limit), blocked.test (client rejected), norelay.test
# (a server that relays nothing for it), each its own smtpd with its own host name (Postfix
# refuses a next hop that greets with its own name); gone.test, whose local(8) users do not
# exist (submission accepts unlisted recipients, so they bounce after acceptance); refuse.test,
# moved.test, listed.test, noptr.test, spf.test, spam.test and dmarc.test go to the second
# Postfix instance of scripts/world/refusers.sh (a refused sender, a user who moved, a
# blocklisted client, a client with no reverse name: the relay connects to it from 127.0.0.9, a
# sender that fails SPF, a message rspamd rejects, one that fails DMARC; nodomain.test: a
# next hop that cannot resolve the recipient's domain; screened.test: postscreen refusing a
# blocklisted client; vrfy.test: a gateway whose address verification finds no mailbox for the
# user at Cyrus's lmtpd), when a script has started it;
# eximmx.test, eximrelay.test, eximblock.test, eximsender.test, eximlisted.test and
# eximverify.test to the refusing Exim daemon of scripts/world/exim-receiver.sh (an unknown user,
# a relay refused, a size limit, a client and a sender refused, a blocklisted client, a sender
# that fails verification, in Exim's own words), likewise; sendmx.test and smrelay.test (the latter
# from 127.0.0.9), smlisted.test and smsender.test to the Sendmail daemons of
# scripts/world/sendmail-receiver.sh (an unknown user, a relay refused, a blocklisted client, a
# sender's domain that does not exist, in Sendmail's words); harakamx.test, harakarelay.test, harakablock.test and
# harakanoptr.test (from 127.0.0.9), harakafrom.test and harakaspf.test to the Haraka daemons of
# scripts/world/haraka-receiver.sh (a size limit, a relay refused, a blocklisted client, a client
# with no reverse name, a sender's domain with no MX, an SPF fail, in Haraka's words); qpmx.test, qprelay.test, qpsender.test, qpspf.test and qpfromhost.test to the qpsmtpd
# daemons of scripts/world/qpsmtpd-receiver.sh (a relay refused, a sender refused, an SPF fail,
# a sender's domain that does not resolve, in qpsmtpd's words); chqmx.test, chqrelay.test and
# chqspf.test to the chasquid daemons of scripts/world/chasquid-receiver.sh (an unknown user, a
# relay refused, an SPF fail, in chasquid's words); cyrus.test and cyrustemp.test, over LMTP, to
# the Cyrus lmtpd of scripts/world/cyrus-receiver.sh (a user with no mailbox, a mailbox over
# quota refused for good and for now, in Cyrus's words).
# Submission (the relay Herald sends through when it cannot send on port 25): Postfix with
# Dovecot SASL, user relay@world.test / relaypass. On 127.0.0.1:$SUBMISSION_PORT STARTTLS is
# required before AUTH (PLAIN, LOGIN); on 127.0.0.1:$SMTPS_PORT TLS from the first byte and
# only AUTH LOGIN. Their certificate (localhost, 127.0.0.1, mx.world.test) is issued by the
# world's own CA, $HERALD_WORLD/tls/ca.pem: untrusted unless a client is given that file.
# Authenticated mail for the world's domains is delivered as the MX would; the relay's own
# DSNs go back to the VERP return path like any other.
# DSNs and other mail to bounces.sender.test / bounces.world-sender.test go to Herald's inbound
# listener on 127.0.0.1:$BOUNCE_PORT (WORLD_BOUNCE_PORT in the env file).
set -euo pipefail
W=${HERALD_WORLD:-/tmp/herald-world}
DNS_PORT=${WORLD_DNS_PORT:-15353}
MX_PORT=${WORLD_MX_PORT:-12525}
IMAP_PORT=${WORLD_IMAP_PORT:-11143}
BOUNCE_PORT=${WORLD_BOUNCE_PORT:-12526}
SUBMISSION_PORT=${WORLD_SUBMISSION_PORT:-12587}
SMTPS_PORT=${WORLD_SMTPS_PORT:-12465}
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
RSPAMD_PORT=${WORLD_RSPAMD_PORT:-11333}
here=$(cd "$(dirname "$0")" && pwd)
"$here/install.sh"
"$here/stop.sh" >/dev/null 2>&1 || true
rm -rf "$W"
mkdir -p "$W"/{dns,postfix/etc,postfix/spool,postfix/data,dovecot/run,dovecot/state,mail,tls}
chmod 755 "$W"

# --- TLS: the world's own CA and a certificate it issued (for the MX, which senders do not
# check, and the relay, which they must).
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Herald world CA" \
  -keyout "$W/tls/ca-key.pem" -out "$W/tls/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=mx.world.test" \
  -keyout "$W/tls/key.pem" -out "$W/tls/req.pem" 2>/dev/null
printf 'subjectAltName=DNS:mx.world.test,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
  > "$W/tls/ext.cnf"
openssl x509 -req -in "$W/tls/req.pem" -CA "$W/tls/ca.pem" -CAkey "$W/tls/ca-key.pem" \
  -CAcreateserial -days 30 -extfile "$W/tls/ext.cnf" -out "$W/tls/cert.pem" 2>/dev/null

# --- DNS
cat > "$W/dns/dnsmasq.conf" <<CONF
port=$DNS_PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
local=/test/
local=/in-addr.arpa/
user=root
pid-file=$W/dns/dnsmasq.pid
log-facility=$W/dns/dnsmasq.log
log-queries
mx-host=inbox.test,mx.inbox.test,10
host-record=mx.inbox.test,127.0.0.1
mx-host=defer.test,mx.defer.test,10
host-record=mx.defer.test,127.0.0.1
mx-host=discard.test,mx.discard.test,10
host-record=mx.discard.test,127.0.0.1
mx-host=backup.test,dead.backup.test,10
mx-host=backup.test,mx.backup.test,20
host-record=dead.backup.test,127.0.0.2
host-record=mx.backup.test,127.0.0.1
host-record=amx.test,127.0.0.1
mx-host=nullmx.test,.,0
mx-host=later.test,mx.later.test,10
host-record=mx.later.test,127.0.0.1
mx-host=slow.test,mx.slow.test,10
host-record=mx.slow.test,127.0.0.1
mx-host=junk.test,mx.junk.test,10
host-record=mx.junk.test,127.0.0.1
# A URI blocklist (RFC 5782 names) for the pre-send check: spammy-shop.test is listed.
host-record=spammy-shop.test.uribl.test,127.0.1.2
conf-file=$W/dns/published.conf
CONF
: > "$W/dns/published.conf"   # records tests publish (scripts/world/publish.sh)
dnsmasq --conf-file="$W/dns/dnsmasq.conf" </dev/null >>"$W/dns/stdout.log" 2>&1

# --- Dovecot: LMTP from Postfix into Maildir; IMAP for checks.
chown mail:mail "$W/mail"
cat > "$W/dovecot/passwd" <<CONF
alice@inbox.test:{PLAIN}secret::::::
bob@inbox.test:{PLAIN}secret::::::
carol@inbox.test:{PLAIN}secret::::::
dave@inbox.test:{PLAIN}secret::::::
seed@inbox.test:{PLAIN}secret::::::
seed@junk.test:{PLAIN}secret::::::
seed@discard.test:{PLAIN}secret::::::
relay@world.test:{PLAIN}relaypass::::::
full@inbox.test:{PLAIN}secret::::::
dsn@inbox.test:{PLAIN}secret::::::
CONF
# One mailbox over its quota (the rest unlimited), already holding 4 KB: uid/gid 8 is Debian's
# mail user.
mkdir -p "$W/mail/inbox.test/full/Maildir/"{cur,new,tmp}
head -c 4096 /dev/zero | tr '\0' 'x' > "$W/mail/inbox.test/full/Maildir/cur/1.filler.mx:2,S"
chown -R mail:mail "$W/mail/inbox.test"
cat > "$W/dovecot/quota-users" <<CONF
full@inbox.test::8:8::$W/mail/inbox.test/full::userdb_quota_rule=*:storage=1
CONF
# The junk.test spam filter: unsigned mail goes to Junk (compiled here; Dovecot runs it before
# the user's own rules).
cat > "$W/dovecot/junk.sieve" <<'SIEVE'
require ["fileinto", "envelope"];
if allof (envelope :domain "to" "junk.test", not exists "DKIM-Signature") {
  fileinto "Junk";
  stop;
}
SIEVE
sievec "$W/dovecot/junk.sieve"
cat > "$W/dovecot/dovecot.conf" <<CONF
base_dir = $W/dovecot/run
state_dir = $W/dovecot/state
log_path = $W/dovecot/dovecot.log
protocols = lmtp imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 8
mail_location = maildir:$W/mail/%d/%n/Maildir
mail_uid = mail
mail_gid = mail
passdb {
  driver = passwd-file
  args = $W/dovecot/passwd
}
userdb {
  driver = passwd-file
  args = $W/dovecot/quota-users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$W/mail/%d/%n allow_all_users=yes
}
namespace inbox {
  inbox = yes
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
}
mail_plugins = \$mail_plugins quota
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve_before = $W/dovecot/junk.sieve
  quota = maildir:User quota
}
service lmtp {
  unix_listener $W/dovecot/lmtp.sock {
    mode = 0666
  }
}
service auth {
  unix_listener $W/dovecot/auth-postfix {
    mode = 0666
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
}
CONF
dovecot -c "$W/dovecot/dovecot.conf" </dev/null >>"$W/dovecot/stdout.log" 2>&1

# --- rspamd: a spam filter's score over HTTP (/checkv2), as Herald's pre-send check asks it.
# Offline: the modules that reach the Internet are off, DNS is the world's. Its hyperscan cache
# (compiled for ~13 s on the first start) is kept outside the world so later starts are quick.
# Two rules of the world's own: a subject saying "junk me" scores 8 (rspamd's "add header",
# i.e. Junk, starts at 6), so a test can produce a spammy verdict on purpose; one saying "reject
# me" scores 20 (over its reject threshold, 15), for the collection scripts' milter.
R=$W/rspamd
mkdir -p "$R/etc/local.d" "$R/db" "$R/run" "$R/log" /var/cache/herald/rspamd-hs
cat > "$R/etc/local.d/worker-normal.inc" <<CONF
bind_socket = "127.0.0.1:$RSPAMD_PORT";
count = 1;
CONF
echo "bind_socket = \"127.0.0.1:$((RSPAMD_PORT + 1))\";" > "$R/etc/local.d/worker-controller.inc"
echo "bind_socket = \"127.0.0.1:$((RSPAMD_PORT - 1))\";" > "$R/etc/local.d/worker-proxy.inc"
cat > "$R/etc/local.d/options.inc" <<CONF
dns { nameserver = ["127.0.0.1:$DNS_PORT"]; timeout = 1s; retransmits = 1; }
local_addrs = [];
hs_cache_dir = "/var/cache/herald/rspamd-hs";
CONF
printf 'type = "file";\nlevel = "error";\n' > "$R/etc/local.d/logging.inc"
for m in fuzzy_check rbl url_reputation asn emails reputation neural ratelimit greylist replies \
         history_redis dcc clickhouse elastic metadata_exporter phishing; do
  echo 'enabled = false;' > "$R/etc/local.d/$m.conf"
done
# subject_rule NAME REGEXP SCORE WHAT: a rule of the world's own scoring a subject that matches.
subject_rule() {
  echo "$2" > "$R/etc/$1.map"
  cat <<RULE
WORLD_$1 {
  type = "header";
  header = "Subject";
  regexp = true;
  map = "$R/etc/$1.map";
  score = $3;
  description = "The recipient world's test rule: a subject asking to be $4";
}
RULE
}
{
  subject_rule SPAMMY_SUBJECT '/junk me/i' 8.0 junked
  # Over rspamd's reject threshold (15): for the check-set collection's milter (refusers.sh).
  subject_rule REJECT_SUBJECT '/reject[ -]me\b/i' 20.0 rejected
} > "$R/etc/local.d/multimap.conf"
rspamd -u root -g root -i -c /etc/rspamd/rspamd.conf --var=LOCAL_CONFDIR="$R/etc" \
  --var=DBDIR="$R/db" --var=RUNDIR="$R/run" --var=LOGDIR="$R/log" </dev/null >>"$R/stdout.log" 2>&1

# --- Postfix: the recipient MX.
P=$W/postfix
cat > "$P/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $P/spool
data_directory = $P/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.world.test
mydomain = world.test
myorigin = world.test
# gone.test: local(8) delivery to Unix users, none of whom exist (an unknown user after the
# relay accepted the message).
mydestination = gone.test
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Nobody on loopback is a trusted client: Herald must be treated like any sender.
mynetworks = 127.0.0.254/32
maillog_file_prefixes = $W
maillog_file = $P/maillog
smtputf8_enable = no
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP world
virtual_mailbox_domains = inbox.test, defer.test, discard.test, backup.test, amx.test, later.test, slow.test, junk.test, broken.test
virtual_mailbox_maps = texthash:$P/etc/vmailbox
virtual_transport = lmtp:unix:$W/dovecot/lmtp.sock
transport_maps = texthash:$P/etc/transport
smtpd_recipient_restrictions = check_recipient_access texthash:$P/etc/recipient_access, reject_unauth_destination
unknown_virtual_mailbox_reject_code = 550
smtpd_tls_cert_file = $W/tls/cert.pem
smtpd_tls_key_file = $W/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
# DSNs leave through the smtp client: STARTTLS when offered, logged.
smtp_tls_security_level = may
smtp_tls_loglevel = 1
# SASL for the submission services (enabled per service in master.cf).
smtpd_sasl_type = dovecot
smtpd_sasl_path = $W/dovecot/auth-postfix
# Short queue lifetimes so an expiry DSN arrives within a test's patience.
maximal_queue_lifetime = 15s
bounce_queue_lifetime = 15s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
CONF
cat > "$P/etc/vmailbox" <<CONF
alice@inbox.test x
bob@inbox.test x
carol@inbox.test x
dave@inbox.test x
seed@inbox.test x
full@inbox.test x
dsn@inbox.test x
@junk.test x
alice@backup.test x
alice@amx.test x
@defer.test x
@discard.test x
@later.test x
@slow.test x
@broken.test x
CONF
cat > "$P/etc/transport" <<CONF
discard.test discard:silently discarded
later.test nouser:
broken.test broken:
slow.test smtp:[127.0.0.2]:9
toobig.test smtp:[127.0.0.1]:$TOOBIG_PORT
blocked.test smtp:[127.0.0.1]:$BLOCKED_PORT
norelay.test smtp:[127.0.0.1]:$NORELAY_PORT
refuse.test smtp:[127.0.0.1]:12541
moved.test smtp:[127.0.0.1]:12544
listed.test smtp:[127.0.0.1]:12545
spf.test smtp:[127.0.0.1]:12548
spam.test smtp:[127.0.0.1]:12549
dmarc.test smtp:[127.0.0.1]:12540
nodomain.test smtp:[127.0.0.1]:12539
screened.test smtp:[127.0.0.1]:12537
vrfy.test smtp:[127.0.0.1]:12536
noptr.test unnamed:[127.0.0.1]:12546
eximmx.test smtp:[127.0.0.1]:12550
eximrelay.test smtp:[127.0.0.1]:12550
eximblock.test smtp:[127.0.0.1]:12551
eximsender.test smtp:[127.0.0.1]:12552
eximlisted.test smtp:[127.0.0.1]:12553
eximverify.test smtp:[127.0.0.1]:12554
sendmx.test smtp:[127.0.0.1]:12560
smrelay.test unnamed:[127.0.0.1]:12560
smlisted.test smtp:[127.0.0.1]:12561
smsender.test smtp:[127.0.0.1]:12562
harakamx.test smtp:[127.0.0.1]:12570
harakarelay.test smtp:[127.0.0.1]:12570
harakablock.test smtp:[127.0.0.1]:12571
harakanoptr.test unnamed:[127.0.0.1]:12572
harakafrom.test smtp:[127.0.0.1]:12573
harakaspf.test smtp:[127.0.0.1]:12574
qpmx.test smtp:[127.0.0.1]:12580
qprelay.test smtp:[127.0.0.1]:12580
qpsender.test smtp:[127.0.0.1]:12581
qpspf.test smtp:[127.0.0.1]:12582
qpfromhost.test smtp:[127.0.0.1]:12583
chqmx.test smtp:[127.0.0.1]:12590
chqrelay.test smtp:[127.0.0.1]:12590
chqspf.test smtp:[127.0.0.1]:12592
cyrus.test lmtp:inet:[127.0.0.1]:12600
cyrustemp.test lmtp:inet:[127.0.0.1]:12602
bounces.sender.test smtp:[127.0.0.1]:$BOUNCE_PORT
bounces.world-sender.test smtp:[127.0.0.1]:$BOUNCE_PORT
CONF
cat > "$P/etc/recipient_access" <<CONF
defer.test 451 4.7.1 Service temporarily unavailable, try again later
CONF
sed -e 's/^smtp      inet.*/127.0.0.1:'"$MX_PORT"' inet n - n - - smtpd/' \
    -e 's/^\([a-z]*  *unix *[-n]  *[-n]  *\)y/\1n/' \
    -e 's/^\([a-z]*  *inet *[-n]  *[-n]  *\)y/\1n/' \
    -e '/^pickup/d' -e '/^maildrop/,$d' \
    /usr/share/postfix/master.cf.dist > "$P/etc/master.cf"
printf '#!/bin/sh\necho "no mailbox here by that name"\nexit 67\n' > "$P/nouser.sh"
# broken.test's delivery program fails (status 1, not a sysexits code): a mailer error.
printf '#!/bin/sh\necho "ticket gateway: cannot connect to the ticket database" >&2\nexit 1\n' \
  > "$P/broken.sh"
chmod 755 "$P" "$P/nouser.sh" "$P/broken.sh"
cat >> "$P/etc/master.cf" <<CONF
nouser    unix  -       n       n       -       -       pipe
  flags=q user=nobody argv=$P/nouser.sh
broken    unix  -       n       n       -       -       pipe
  flags=q user=nobody argv=$P/broken.sh
# Connects from 127.0.0.9, an address with no name (none in /etc/hosts; the refusers' own name
# server has no reverse names): for the next hop that requires one.
unnamed   unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/unnamed
  -o smtp_bind_address=127.0.0.9
127.0.0.1:$TOOBIG_PORT inet n - n - - smtpd
  -o syslog_name=postfix/toobig
  -o myhostname=mx.toobig.test
  -o message_size_limit=8192
127.0.0.1:$BLOCKED_PORT inet n - n - - smtpd
  -o syslog_name=postfix/blocked
  -o myhostname=mx.blocked.test
  -o smtpd_client_restrictions=reject
127.0.0.1:$NORELAY_PORT inet n - n - - smtpd
  -o syslog_name=postfix/norelay
  -o myhostname=mx.norelay.test
  -o smtpd_relay_restrictions=reject_unauth_destination
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_reject_unlisted_recipient=no
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_mechanism_filter=login
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
CONF
chown postfix "$P/data"
postfix -c "$P/etc" check </dev/null >>"$P/stdout.log" 2>&1 || true
postfix -c "$P/etc" start </dev/null >>"$P/stdout.log" 2>&1

# --- Wait until every part answers (rspamd first: its first start is the slow one).
rspamd_up() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$RSPAMD_PORT"
    printf 'GET /ping HTTP/1.0\r\n\r\n' >&3
    IFS= read -r -t 2 first <&3
    [[ $first == *" 200 "* ]]
  ) 2>/dev/null
}
for i in $(seq 1 600); do rspamd_up && break; sleep 0.1; done
for i in $(seq 1 100); do
  if rspamd_up \
     && dig +short +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 mx.inbox.test A 2>/dev/null | grep -q 127.0.0.1 \
     && (exec 3<>/dev/tcp/127.0.0.1/$MX_PORT) 2>/dev/null \
     && (exec 3<>/dev/tcp/127.0.0.1/$IMAP_PORT) 2>/dev/null \
     && (exec 3<>/dev/tcp/127.0.0.1/$SUBMISSION_PORT) 2>/dev/null \
     && (exec 3<>/dev/tcp/127.0.0.1/$SMTPS_PORT) 2>/dev/null; then
    cat > "$W/env" <<ENV
HERALD_WORLD=$W
WORLD_DNS=127.0.0.1:$DNS_PORT
WORLD_MX_PORT=$MX_PORT
WORLD_IMAP=127.0.0.1:$IMAP_PORT
WORLD_MAIL=$W/mail
WORLD_MAILLOG=$P/maillog
WORLD_BOUNCE_PORT=$BOUNCE_PORT
WORLD_SUBMISSION=127.0.0.1:$SUBMISSION_PORT
WORLD_SMTPS=127.0.0.1:$SMTPS_PORT
WORLD_CA=$W/tls/ca.pem
WORLD_RSPAMD=http://127.0.0.1:$RSPAMD_PORT
ENV
    echo "recipient world up in $W (DNS :$DNS_PORT, MX :$MX_PORT, IMAP :$IMAP_PORT)" >&2
    exit 0
  fi
  sleep 0.1
done
echo "recipient world did not come up; logs:" >&2
tail -n 20 "$W"/dns/*.log "$P"/stdout.log "$P"/maillog "$W"/dovecot/*.log "$R"/stdout.log "$R"/log/*.log >&2 2>/dev/null || true
exit 1
