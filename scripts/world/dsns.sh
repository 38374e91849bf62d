#!/usr/bin/env bash
# Collect real DSNs from the recipient world's Postfix for the classifier's check set: one
# message per cause through the world's submission service (AUTH, STARTTLS), each refused after
# the relay accepted it, so Postfix writes a real bounce to the sender, dsn@inbox.test, whose
# Maildir this script reads. The cause is known by construction: it is the label.
#   usage: scripts/world/dsns.sh OUT_DIR      (the world must be up: scripts/world/start.sh)
# Writes OUT_DIR/postfix__<case>.eml and prints one manifest line per file (file, expected
# reason(s), hard/soft) on stdout.
set -euo pipefail
out=${1:?usage: dsns.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
. "$(dirname "$0")/dsn-lib.sh"
box=$(dsn_box "$W")
cases=()
world_cases size-limit client-rejected relay-denied sender-rejected user-moved delay-warning \
  rbl-listed no-ptr spf-fail spam-reject-me dmarc-reject rcpt-domain-unknown
# Postfix's own: local(8) and pipe deliveries (a missing user, a failing program), Dovecot's
# quota, a queue that expires (Sisimai may call that networkerror, so no reason is expected),
# one DSN for two local causes. (Format: see WORLD_CASE in dsn-lib.sh.)
cases+=(
  "local-unknown|ghost@gone.test|userunknown|hard|"
  "local-nouser|nobody@later.test|userunknown|hard|"
  "quota-full|full@inbox.test|mailboxfull|soft|"
  "pipe-failed|someone@broken.test|mailererror|soft|"
  "queue-expired|someone@slow.test||soft|"
  "two-recipients|ghost2@gone.test,full@inbox.test|userunknown;mailboxfull|hard;soft|"
)
# Refusals worded by Exim (scripts/world/exim-receiver.sh): an unknown user, a relay refused,
# a size limit (Exim announces SIZE in EHLO: Postfix refuses to send and says so itself), a
# client refused at connection, a sender refused at MAIL FROM, a blocklisted client and a sender
# that fails Exim's verification (at RCPT TO).
cases+=(
  "exim-mx-unknown|ghost@eximmx.test|userunknown|hard|"
  "exim-mx-relay|someone@eximrelay.test|norelaying|soft|"
  "exim-mx-size|alice@eximmx.test|mesgtoobig|soft|big"
  "exim-mx-client|someone@eximblock.test|blocked|soft|"
  "exim-mx-sender|someone@eximsender.test|rejected|soft|"
  "exim-mx-listed|someone@eximlisted.test|blocked|soft|"
  "exim-mx-verify|someone@eximverify.test|rejected|soft|"
)
# Refusals worded by Sendmail (scripts/world/sendmail-receiver.sh): an unknown user, a relay
# refused to a client with no reverse name ("Relaying denied. IP name lookup failed"), a
# blocklisted client (FEATURE(dnsbl)) and a sender's domain that does not exist.
cases+=(
  "sendmail-mx-unknown|ghost@sendmx.test|userunknown|hard|"
  "sendmail-mx-relay|someone@smrelay.test|norelaying|soft|"
  "sendmail-mx-listed|someone@smlisted.test|blocked|soft|"
  "sendmail-mx-sender|someone@smsender.test|rejected|soft|"
)
# Refusals worded by Haraka (scripts/world/haraka-receiver.sh): a relay refused, a size limit
# (Haraka announces SIZE in EHLO, so Postfix refuses to send and says so itself), a blocklisted
# client, no reverse name, a sender's domain with no MX, an SPF fail.
cases+=(
  "haraka-mx-relay|someone@harakarelay.test|norelaying|soft|"
  "haraka-mx-size|alice@harakamx.test|mesgtoobig|soft|big"
  "haraka-mx-listed|someone@harakablock.test|blocked|soft|"
  "haraka-mx-noptr|someone@harakanoptr.test|requireptr|soft|"
  "haraka-mx-from|someone@harakafrom.test|rejected|soft|"
  "haraka-mx-spf|someone@harakaspf.test|authfailure|soft|"
)
# Refusals worded by qpsmtpd (scripts/world/qpsmtpd-receiver.sh): a relay refused, the sender
# refused (its badmailfrom list), an SPF fail, and a sender's domain that does not resolve
# (qpsmtpd answers that "Temporary address resolution failure (#5.4.3)", with a 550 as set up:
# a refusal of the sender at MAIL FROM).
cases+=(
  "qpsmtpd-mx-relay|someone@qprelay.test|norelaying|soft|"
  "qpsmtpd-mx-sender|someone@qpsender.test|rejected|soft|"
  "qpsmtpd-mx-spf|someone@qpspf.test|authfailure|soft|"
  "qpsmtpd-mx-fromhost|someone@qpfromhost.test|rejected|soft|"
)
# Refusals worded by chasquid (scripts/world/chasquid-receiver.sh): an unknown user, a relay
# refused, an SPF fail.
cases+=(
  "chasquid-mx-unknown|ghost@chqmx.test|userunknown|hard|"
  "chasquid-mx-relay|someone@chqrelay.test|norelaying|soft|"
  "chasquid-mx-spf|someone@chqspf.test|authfailure|soft|"
)
# postscreen's refusal of a blocklisted client (refusers.sh, :12537), in postscreen's words.
cases+=("postscreen-dnsbl|someone@screened.test|blocked|soft|")
# Refusals worded by Cyrus's lmtpd (scripts/world/cyrus-receiver.sh), delivered to over LMTP: a
# user with no mailbox, and a 30 KB message over full@'s 1 KiB quota refused for good, and
# refused for now until the queue gave up.
cases+=(
  "cyrus-lmtp-unknown|ghost@cyrus.test|userunknown|hard|"
  "cyrus-lmtp-quota|full@cyrus.test|mailboxfull|soft|big"
  "cyrus-lmtp-quota-temp|full@cyrustemp.test|mailboxfull|soft|big"
)
# The second Postfix instance as a gateway verifying recipients (reject_unverified_recipient)
# against Cyrus's lmtpd, where the user has no mailbox: Postfix's words around Cyrus's.
cases+=("verify-recipient|ghost@vrfy.test|userunknown|hard|")
no_warnings() {
  postconf -c "$W/postfix/etc" -X delay_warning_time || true
  postfix -c "$W/postfix/etc" reload </dev/null >/dev/null 2>&1 || true
}
# Set before anything starts, so a failure half-way stops what did start.
trap 'no_warnings; "$(dirname "$0")/refusers.sh" stop || true; "$(dirname "$0")/exim-receiver.sh" stop || true; "$(dirname "$0")/sendmail-receiver.sh" stop || true; "$(dirname "$0")/haraka-receiver.sh" stop || true; "$(dirname "$0")/qpsmtpd-receiver.sh" stop || true; "$(dirname "$0")/chasquid-receiver.sh" stop || true; "$(dirname "$0")/cyrus-receiver.sh" stop || true' EXIT
# refuse.test and moved.test: the second Postfix instance's refused sender and relocated user
# (scripts/world/refusers.sh).
"$(dirname "$0")/refusers.sh" start
"$(dirname "$0")/exim-receiver.sh" start
"$(dirname "$0")/sendmail-receiver.sh" start
"$(dirname "$0")/haraka-receiver.sh" start
"$(dirname "$0")/qpsmtpd-receiver.sh" start
"$(dirname "$0")/chasquid-receiver.sh" start
"$(dirname "$0")/cyrus-receiver.sh" start
# A delay warning after 4 s (the world's Postfix sends none otherwise), for this run only.
postconf -c "$W/postfix/etc" -e delay_warning_time=4s
postfix -c "$W/postfix/etc" reload </dev/null >/dev/null 2>&1
submit_smtp dsn@inbox.test "${cases[@]}" -- --server "$WORLD_SUBMISSION" --tls --auth PLAIN \
  --auth-user relay@world.test --auth-password relaypass
# Postfix's queue lifetime here is 15 s: every DSN is back within a minute.
wait_for_reports "$box" 60
collect postfix "$box" "$out" "${cases[@]}"
