#!/usr/bin/env bash
# Collect real SMTP/LMTP replies for the classifier's single-reply check set: swaks talks to the
# recipient world's Postfix MX, its refusing next hops, its submission service and Dovecot's
# LMTP, each set up to refuse for one cause, and the second Postfix instance of
# scripts/world/refusers.sh for causes the world does not set up (a refused sender, a connection
# limit, a rate limit, a user who moved, a blocklisted client, no reverse name, a sender domain
# that does not resolve, a sender failing SPF, a message rspamd rejects, one failing DMARC, a
# recipient domain that does not resolve, postscreen's DNSBL; stopped on exit), and the
# receiving servers of the *-receiver.sh scripts; the refusal's text is saved as it was
# answered. The cause is known by construction: it is the label.
#   usage: scripts/world/replies.sh OUT_DIR    (the world must be up: scripts/world/start.sh)
# Writes OUT_DIR/world__<case>.txt and prints one manifest line per file (file, reason, hard/soft).
set -euo pipefail
out=${1:?usage: replies.sh OUT_DIR}
W=${HERALD_WORLD:-/tmp/herald-world}
. "$W/env"
TOOBIG_PORT=${WORLD_TOOBIG_PORT:-12530}
BLOCKED_PORT=${WORLD_BLOCKED_PORT:-12531}
NORELAY_PORT=${WORLD_NORELAY_PORT:-12532}
# The second Postfix instance's services (scripts/world/refusers.sh).
SENDER_PORT=12541 CONNLIMIT_PORT=12542 RATELIMIT_PORT=12543 RELOCATED_PORT=12544
RBL_PORT=12545 NOPTR_PORT=12546 SENDER_DOMAIN_PORT=12547 SPF_PORT=12548 MILTER_PORT=12549
DMARC_PORT=12540 RCPT_DOMAIN_PORT=12539
mkdir -p "$out"
# The first refusal swaks reports ("<** 550 …").
# (swaks marks a refusal "<**", and a refused AUTH "<*"; "~" when the session is in TLS.)
# A multi-line refusal ("550-…" lines, then "550 …") is kept whole, one line each.
refusal() {
  swaks "$@" 2>&1 | sed -nE 's/^<~?\*{1,2} //p' | awk '{ print } /^[0-9][0-9][0-9] / { exit }'
}
save() { # case reason hard/soft text
  if [ -z "$4" ]; then
    echo "no refusal for $1" >&2
    exit 1
  fi
  printf '%s\n' "$4" > "$out/world__$1.txt"
  printf 'world__%s.txt\t%s\t%s\n' "$1" "$2" "$3"
}
mx=(--server "127.0.0.1:$WORLD_MX_PORT" --from someone@sender.test --ehlo client.test)
save rcpt-unknown userunknown hard "$(refusal "${mx[@]}" --to ghost@inbox.test --quit-after RCPT)"
save lmtp-quota-full mailboxfull soft \
  "$(refusal --socket "$W/dovecot/lmtp.sock" --protocol LMTP --from someone@sender.test --to full@inbox.test)"
save client-rejected blocked soft \
  "$(refusal --server "127.0.0.1:$BLOCKED_PORT" --from someone@sender.test --to someone@blocked.test --quit-after RCPT)"
save relay-denied norelaying soft \
  "$(refusal --server "127.0.0.1:$NORELAY_PORT" --from someone@sender.test --to someone@norelay.test --quit-after RCPT)"
save starttls-required failedstarttls soft \
  "$(refusal --server "$WORLD_SUBMISSION" --from relay@world.test --to someone@inbox.test --quit-after MAIL)"
save auth-failed securityerror soft \
  "$(refusal --server "$WORLD_SUBMISSION" --tls --auth PLAIN --auth-user relay@world.test \
    --auth-password wrong --from relay@world.test --to someone@inbox.test)"

# --- Causes added in December 2026 (read once, after the decision by reporter and stage).
# 12 KB of text against the 8 KB message_size_limit: refused at the end of DATA.
big=$(head -c 12000 /dev/zero | tr '\0' 'x' | fold -w 70)
save size-limit mesgtoobig soft \
  "$(refusal --server "127.0.0.1:$TOOBIG_PORT" --from someone@sender.test --to alice@inbox.test --body "$big")"
# A command the server does not know, as a broken client would send it.
# One command at a time, each after the previous reply (no pipelining to be refused for).
unknown_command() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$WORLD_MX_PORT"
  read -r -t 5 line <&3 # greeting
  printf 'EHLO client.test\r\n' >&3
  while read -r -t 5 line <&3 && [[ $line == 250-* ]]; do :; done
  printf 'FROB x\r\n' >&3
  read -r -t 5 line <&3
  printf 'QUIT\r\n' >&3
  exec 3<&-
  line=${line%$'\r'}
  case $line in
    500\ * | 502\ *) printf '%s\n' "$line" ;;
    *) echo "unexpected answer to an unknown command: $line" >&2 ;;
  esac
}
save command-unknown syntaxerror soft "$(unknown_command)"

# The second instance (scripts/world/refusers.sh) for causes the world's services do not set up.
trap '"$(dirname "$0")/refusers.sh" stop || true' EXIT
"$(dirname "$0")/refusers.sh" start
save sender-rejected rejected soft \
  "$(refusal --server "127.0.0.1:$SENDER_PORT" --from someone@sender.test --to alice@inbox.test --quit-after RCPT)"
# Its SPF policy (dsn@inbox.test's domain publishes "-all" to it) and its rspamd milter.
save spf-fail authfailure soft \
  "$(refusal --server "127.0.0.1:$SPF_PORT" --from dsn@inbox.test --to someone@spf.test --quit-after RCPT)"
save spam-rejected spamdetected soft \
  "$(refusal --server "127.0.0.1:$MILTER_PORT" --from someone@sender.test --to someone@spam.test \
      --header "Subject: please reject me")"
# Its OpenDMARC milter: inbox.test publishes p=reject; the message has no DKIM signature.
save dmarc-rejected authfailure soft \
  "$(refusal --server "127.0.0.1:$DMARC_PORT" --from dsn@inbox.test --to someone@dmarc.test)"
# Its next hop that cannot resolve the recipient's domain.
save rcpt-domain-unknown hostunknown hard \
  "$(refusal --server "127.0.0.1:$RCPT_DOMAIN_PORT" --from someone@sender.test --to someone@nodomain.test --quit-after RCPT)"
# postscreen in front of its smtpd, enforcing a DNSBL listing of 127.0.0.1 (refusers.sh :12537).
save postscreen-dnsbl blocked soft \
  "$(refusal --server 127.0.0.1:12537 --from someone@sender.test --to someone@screened.test --quit-after RCPT)"
# A second connection while the first is open.
too_many_connections() {
  exec 4<>"/dev/tcp/127.0.0.1/$CONNLIMIT_PORT"
  head -n 1 <&4 >/dev/null
  refusal --server "127.0.0.1:$CONNLIMIT_PORT" --from someone@sender.test --to alice@inbox.test --quit-after MAIL
  exec 4<&-
}
save too-many-connections toomanyconn soft "$(too_many_connections)"
# The second message from the same client within the rate limit's minute.
refusal --server "127.0.0.1:$RATELIMIT_PORT" --from someone@sender.test --to alice@inbox.test --quit-after RCPT >/dev/null || true
save rate-limited speeding soft \
  "$(refusal --server "127.0.0.1:$RATELIMIT_PORT" --from someone@sender.test --to alice@inbox.test --quit-after RCPT)"
save user-moved hasmoved hard \
  "$(refusal --server "127.0.0.1:$RELOCATED_PORT" --from someone@sender.test --to someone@moved.test --quit-after RCPT)"

# --- Causes added later in December 2026: the second instance's blocklist, reverse-hostname and
# sender-domain checks (Postfix's own texts; its own name server lists 127.0.0.1 on bl.test).
save rbl-listed blocked soft \
  "$(refusal --server "127.0.0.1:$RBL_PORT" --from someone@sender.test --to someone@listed.test --quit-after RCPT)"
save no-ptr requireptr soft \
  "$(refusal --server "127.0.0.1:$NOPTR_PORT" --local-interface 127.0.0.9 --from someone@sender.test \
    --to someone@noptr.test --quit-after RCPT)"
save sender-domain rejected soft \
  "$(refusal --server "127.0.0.1:$SENDER_DOMAIN_PORT" --from someone@sender.test --to someone@unverified.test --quit-after RCPT)"

# --- Refusals worded by Exim (scripts/world/exim-receiver.sh; its refusals of a client and of a
# sender say only "Administrative prohibition", which alone names no cause: not taken).
trap '"$(dirname "$0")/refusers.sh" stop || true; "$(dirname "$0")/exim-receiver.sh" stop || true' EXIT
"$(dirname "$0")/exim-receiver.sh" start
save exim-unknown userunknown hard \
  "$(refusal --server 127.0.0.1:12550 --from someone@sender.test --to ghost@eximmx.test --quit-after RCPT)"
save exim-relay norelaying soft \
  "$(refusal --server 127.0.0.1:12550 --from someone@sender.test --to someone@eximrelay.test --quit-after RCPT)"
save exim-size mesgtoobig soft \
  "$(refusal --server 127.0.0.1:12550 --from someone@sender.test --to alice@eximmx.test --body "$big")"
save exim-listed blocked soft \
  "$(refusal --server 127.0.0.1:12553 --from someone@sender.test --to someone@eximlisted.test --quit-after RCPT)"
save exim-verify rejected soft \
  "$(refusal --server 127.0.0.1:12554 --from someone@sender.test --to someone@eximverify.test --quit-after RCPT)"

# --- Refusals worded by Sendmail (scripts/world/sendmail-receiver.sh).
trap '"$(dirname "$0")/refusers.sh" stop || true; "$(dirname "$0")/exim-receiver.sh" stop || true; "$(dirname "$0")/sendmail-receiver.sh" stop || true' EXIT
"$(dirname "$0")/sendmail-receiver.sh" start
save sendmail-unknown userunknown hard \
  "$(refusal --server 127.0.0.1:12560 --from someone@sender.test --to ghost@sendmx.test --quit-after RCPT)"
save sendmail-relay norelaying soft \
  "$(refusal --server 127.0.0.1:12560 --local-interface 127.0.0.9 --from someone@sender.test \
    --to someone@smrelay.test --quit-after RCPT)"
save sendmail-size mesgtoobig soft \
  "$(refusal --server 127.0.0.1:12560 --from someone@sender.test --to root@sendmx.test --body "$big")"
# FEATURE(dnsbl) with bl.test listing 127.0.0.1 (:12561), and Sendmail's check of a sender's
# domain that does not exist (:12562).
save sendmail-listed blocked soft \
  "$(refusal --server 127.0.0.1:12561 --from someone@sender.test --to someone@smlisted.test --quit-after RCPT)"
save sendmail-sender rejected soft \
  "$(refusal --server 127.0.0.1:12562 --from someone@sender.test --to someone@smsender.test --quit-after RCPT)"
# --- Refusals worded by Haraka (scripts/world/haraka-receiver.sh).
trap '"$(dirname "$0")/refusers.sh" stop || true; "$(dirname "$0")/exim-receiver.sh" stop || true; "$(dirname "$0")/sendmail-receiver.sh" stop || true; "$(dirname "$0")/haraka-receiver.sh" stop || true' EXIT
"$(dirname "$0")/haraka-receiver.sh" start
save haraka-relay norelaying soft \
  "$(refusal --server 127.0.0.1:12570 --from someone@sender.test --to someone@harakarelay.test --quit-after RCPT)"
save haraka-size mesgtoobig soft \
  "$(refusal --server 127.0.0.1:12570 --from someone@sender.test --to alice@harakamx.test --body "$big")"
save haraka-listed blocked soft \
  "$(refusal --server 127.0.0.1:12571 --from someone@sender.test --to someone@harakablock.test --quit-after RCPT)"
save haraka-noptr requireptr soft \
  "$(refusal --server 127.0.0.1:12572 --local-interface 127.0.0.9 --from someone@sender.test \
    --to someone@harakanoptr.test --quit-after RCPT)"
save haraka-from rejected soft \
  "$(refusal --server 127.0.0.1:12573 --from someone@sender.test --to someone@harakafrom.test --quit-after RCPT)"
save haraka-spf authfailure soft \
  "$(refusal --server 127.0.0.1:12574 --from dsn@inbox.test --to someone@harakaspf.test --quit-after RCPT)"
# --- Refusals worded by qpsmtpd (scripts/world/qpsmtpd-receiver.sh).
trap '"$(dirname "$0")/refusers.sh" stop || true; "$(dirname "$0")/exim-receiver.sh" stop || true; "$(dirname "$0")/sendmail-receiver.sh" stop || true; "$(dirname "$0")/haraka-receiver.sh" stop || true; "$(dirname "$0")/qpsmtpd-receiver.sh" stop || true' EXIT
"$(dirname "$0")/qpsmtpd-receiver.sh" start
save qpsmtpd-relay norelaying soft \
  "$(refusal --server 127.0.0.1:12580 --from someone@sender.test --to someone@qprelay.test --quit-after RCPT)"
save qpsmtpd-sender rejected soft \
  "$(refusal --server 127.0.0.1:12581 --from someone@sender.test --to someone@qpsender.test --quit-after RCPT)"
save qpsmtpd-spf authfailure soft \
  "$(refusal --server 127.0.0.1:12582 --from dsn@inbox.test --to someone@qpspf.test --quit-after RCPT)"
save qpsmtpd-fromhost rejected soft \
  "$(refusal --server 127.0.0.1:12583 --from someone@sender.test --to someone@qpfromhost.test --quit-after RCPT)"
# --- Refusals worded by chasquid (scripts/world/chasquid-receiver.sh).
trap '"$(dirname "$0")/refusers.sh" stop || true; "$(dirname "$0")/exim-receiver.sh" stop || true; "$(dirname "$0")/sendmail-receiver.sh" stop || true; "$(dirname "$0")/haraka-receiver.sh" stop || true; "$(dirname "$0")/qpsmtpd-receiver.sh" stop || true; "$(dirname "$0")/chasquid-receiver.sh" stop || true; "$(dirname "$0")/cyrus-receiver.sh" stop || true' EXIT
"$(dirname "$0")/chasquid-receiver.sh" start
save chasquid-unknown userunknown hard \
  "$(refusal --server 127.0.0.1:12590 --from someone@sender.test --to ghost@chqmx.test --quit-after RCPT)"
save chasquid-relay norelaying soft \
  "$(refusal --server 127.0.0.1:12590 --from someone@sender.test --to someone@chqrelay.test --quit-after RCPT)"
save chasquid-spf authfailure soft \
  "$(refusal --server 127.0.0.1:12592 --from dsn@inbox.test --to alice@chqspf.test --quit-after RCPT)"
# --- Refusals worded by Cyrus's lmtpd (scripts/world/cyrus-receiver.sh), over LMTP: a user with
# no mailbox; 2 KB against full@'s 1 KiB quota (no SIZE announced, so counted at the end of
# DATA), refused for good and for now.
"$(dirname "$0")/cyrus-receiver.sh" start
body2k=$(head -c 2000 /dev/zero | tr '\0' 'x' | fold -w 70)
save cyrus-unknown userunknown hard \
  "$(refusal --server 127.0.0.1:12600 --protocol LMTP --from someone@sender.test --to ghost@cyrus.test --quit-after RCPT)"
save cyrus-quota mailboxfull soft \
  "$(refusal --server 127.0.0.1:12600 --protocol LMTP --from someone@sender.test --to full@cyrus.test --body "$body2k")"
save cyrus-quota-temp mailboxfull soft \
  "$(refusal --server 127.0.0.1:12602 --protocol LMTP --from someone@sender.test --to full@cyrustemp.test --body "$body2k")"
# The second Postfix instance's address verification (refusers.sh): a recipient its probe found
# no mailbox for at Cyrus's lmtpd (:12536), and a sender whose domain does not resolve there
# (:12535).
save verify-recipient userunknown hard \
  "$(refusal --server 127.0.0.1:12536 --from someone@sender.test --to ghost@vrfy.test --quit-after RCPT)"
save verify-sender rejected soft \
  "$(refusal --server 127.0.0.1:12535 --from someone@sender.test --to ghost@vrfy.test --quit-after RCPT)"
